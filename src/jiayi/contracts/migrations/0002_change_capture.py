"""Change capture (ADR 0008): triggers log every insert, update and delete of the tables the indicators read."""

from django.db import migrations

from jiayi.core import change_capture

MODELS = ("contracts.Contract", "contracts.ContractPackage", "contracts.ServicePackage",
          "contracts.ContractItem", "contracts.ServiceDelivery", "contracts.SatisfactionSurvey")


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_change_log"),
        ("contracts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(change_capture.install(*MODELS), change_capture.uninstall(*MODELS)),
    ]
