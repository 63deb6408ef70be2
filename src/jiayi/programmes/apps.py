from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "jiayi.programmes"
    label = "programmes"
    verbose_name = "公共卫生项目"
