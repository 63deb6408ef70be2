"""`jiayi synth_digest`: print the content hash of the generated tables as JSON (same seed ⇒ same hash)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from jiayi.synth.digest import content_digest


class Command(BaseCommand):
    help = "打印模拟数据各表的内容哈希（JSON），用于核对相同种子生成相同数据。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **opts) -> None:
        self.stdout.write(json.dumps(content_digest(connection=connections[opts["database"]]), indent=2))
