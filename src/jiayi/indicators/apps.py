from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "jiayi.indicators"
    label = "indicators"
    verbose_name = "指标与考核"

    def ready(self) -> None:
        from jiayi.indicators import catalogue, checks  # noqa: F401 - checks registers the system checks

        catalogue.discover()  # every app's indicators module fills the catalogue
