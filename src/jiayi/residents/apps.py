from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "jiayi.residents"
    label = "residents"
    verbose_name = "居民与健康档案"

    def ready(self) -> None:
        from jiayi.core.discovery import autodiscover
        from jiayi.core.scoping import register_principal_resolver
        from jiayi.residents import panels
        from jiayi.residents.principals import resident_principal

        register_principal_resolver(resident_principal)
        panels.register()
        autodiscover("diagnoses")  # the diagnosis groups (residents.diagnoses) of every app
