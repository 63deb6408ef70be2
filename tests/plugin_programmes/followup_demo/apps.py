from django.apps import AppConfig


class FollowupDemoConfig(AppConfig):
    """A test-only programme app: registers itself with the programme engine."""

    name = "tests.plugin_programmes.followup_demo"
    label = "followup_demo"

    def ready(self) -> None:
        from tests.plugin_programmes.followup_demo import programme  # noqa: F401  (registers the programme)
