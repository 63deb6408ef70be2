"""Daily contract status job: expire ended contracts, mark renewed ones, activate pending renewals."""

from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandParser

from jiayi.contracts.services import contracts_refresh_status


class Command(BaseCommand):
    help = "Store contract statuses from their dates (expired / renewed / active). Safe to run any time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=date.fromisoformat, default=None, help="as if today were YYYY-MM-DD")

    def handle(self, *args, **options) -> None:
        result = contracts_refresh_status(today=options["date"])
        self.stdout.write(json.dumps(result))
