from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "jiayi.contracts"
    label = "contracts"
    verbose_name = "家庭医生签约"
