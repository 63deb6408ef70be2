"""Change capture (ADR 0008): triggers log every insert, update and delete of the tables the indicators read."""

from django.db import migrations

from jiayi.core import change_capture

MODELS = ("residents.Resident", "residents.HealthRecord", "residents.Measurement", "residents.Problem",
          "residents.KeyPopulationTag")


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_change_log"),
        ("residents", "0002_problem_entry"),
    ]

    operations = [
        migrations.RunPython(change_capture.install(*MODELS), change_capture.uninstall(*MODELS)),
    ]
