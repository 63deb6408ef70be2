from django.apps import AppConfig


class HypertensionConfig(AppConfig):
    """The hypertension programme as a plug-in app: registers itself with the programme engine."""

    name = "jiayi.programmes.hypertension"
    label = "programme_hypertension"

    def ready(self) -> None:
        from jiayi.programmes.hypertension import programme  # noqa: F401  (registers the programme)
