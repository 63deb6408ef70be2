from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "jiayi.programmes"
    label = "programmes"
    verbose_name = "公共卫生项目"

    def ready(self) -> None:
        # The programmes themselves are apps (jiayi.programmes.hypertension, ...) that register in
        # their own ready().
        from jiayi.programmes import (
            panels,
            rules,  # noqa: F401  (registers the engine's rule sets)
        )

        panels.register()  # the home page's and the resident page's panels
