from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "jiayi.org"
    label = "org"
    verbose_name = "机构与人员"

    def ready(self) -> None:
        from jiayi.core.scoping import register_principal_resolver
        from jiayi.org.principals import staff_principal

        register_principal_resolver(staff_principal)
