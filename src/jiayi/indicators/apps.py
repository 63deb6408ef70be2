from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "jiayi.indicators"
    label = "indicators"
    verbose_name = "指标与考核"
