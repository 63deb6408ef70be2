"""Change capture (ADR 0008): triggers log every insert, update and delete of the tables the indicators read."""

from django.db import migrations

from jiayi.core import change_capture

MODELS = ("org.Staff",)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_change_log"),
        ("org", "0002_staff_employment_dates"),
    ]

    operations = [
        migrations.RunPython(change_capture.install(*MODELS), change_capture.uninstall(*MODELS)),
    ]
