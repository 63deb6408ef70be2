"""Install the default service packages (demo values, see contracts.defaults) district-wide or for one
institution. Idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiayi.contracts.services import packages_install_defaults
from jiayi.org.models import Institution


class Command(BaseCommand):
    help = "Install the default family-doctor service packages (idempotent; prices are demo values)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--institution", help="institution code; district-wide when omitted")

    def handle(self, *args, **options) -> None:
        institution = None
        if options["institution"]:
            institution = Institution.objects.filter(code=options["institution"]).first()
            if institution is None:
                raise CommandError(f"no institution with code {options['institution']!r}")
        packages = packages_install_defaults(institution)
        self.stdout.write(", ".join(p.code for p in packages))
