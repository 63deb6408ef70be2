from django.apps import AppConfig


class ScheduleDemoConfig(AppConfig):
    """A test-only programme app: registers itself with the programme engine."""

    name = "tests.plugin_programmes.schedule_demo"
    label = "schedule_demo"

    def ready(self) -> None:
        from tests.plugin_programmes.schedule_demo import programme  # noqa: F401  (registers the programme)
