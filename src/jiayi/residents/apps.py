from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "jiayi.residents"
    label = "residents"
    verbose_name = "居民与健康档案"
