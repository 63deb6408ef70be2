from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "jiayi.indicators"
    label = "indicators"
    verbose_name = "指标与考核"

    def ready(self) -> None:
        from jiayi.indicators import checks  # noqa: F401 - registers the system checks
