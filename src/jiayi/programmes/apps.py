import contextlib

from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "jiayi.programmes"
    label = "programmes"
    verbose_name = "公共卫生项目"

    def ready(self) -> None:
        from jiayi.programmes import (
            engine,
            rules,  # noqa: F401  (registers the engine's rule sets)
        )

        engine.autodiscover()
        from jiayi.programmes import panels

        with contextlib.suppress(ImportError):  # the page registries (jiayi.web.panels) are optional
            panels.register()
