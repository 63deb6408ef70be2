from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "jiayi.web"
    label = "web"
    verbose_name = "页面"
