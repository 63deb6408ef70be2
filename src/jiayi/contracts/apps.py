from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "jiayi.contracts"
    label = "contracts"
    verbose_name = "家庭医生签约"

    def ready(self) -> None:
        from jiayi.contracts import rules  # noqa: F401  (registers the contract rule set)
        from jiayi.contracts.selectors import residents_cared_for_by
        from jiayi.contracts.subscribers import on_service_delivered
        from jiayi.core import events, scoping
        from jiayi.core.discovery import autodiscover
        from jiayi.residents.panels import register_household_panel, register_resident_panel
        from jiayi.web.panels import register_home_panel

        autodiscover("service_items")  # the programmes' service items and packages (catalogue, defaults)
        events.subscribe(events.SERVICE_DELIVERED, on_service_delivered)
        scoping.register_team_residents(residents_cared_for_by)  # team scope: contracts in force
        register_resident_panel("contracts/_resident_panel.html", order=10)
        register_household_panel("contracts/_household_panel.html", order=10)
        register_home_panel("contracts/_home_panel.html", order=30)
