from django.apps import AppConfig


class EpisodeDemoConfig(AppConfig):
    """A test-only programme app: registers itself with the programme engine."""

    name = "tests.plugin_programmes.episode_demo"
    label = "episode_demo"

    def ready(self) -> None:
        from tests.plugin_programmes.episode_demo import programme  # noqa: F401  (registers the programme)
