from django.apps import AppConfig


class DiabetesConfig(AppConfig):
    """The diabetes programme as a plug-in app: registers itself with the programme engine."""

    name = "jiayi.programmes.diabetes"
    label = "programme_diabetes"

    def ready(self) -> None:
        from jiayi.programmes.diabetes import programme  # noqa: F401  (registers the programme)
