"""`jiayi demo_accounts [--district NAME]`: create (or reset) the demo login accounts and print them."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from jiayi.synth import reference
from jiayi.synth.accounts import DEMO_PASSWORD, create_demo_accounts, format_accounts


class Command(BaseCommand):
    help = ("创建（或重置）演示账号：家庭医生、护士、公卫医师、服务站家庭医生、中心管理员、区级管理员、"
            "转诊服务台、审计员、居民。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--district", choices=sorted(reference.DISTRICTS), default=None,
                            help="区县（默认：最近一次生成的区县）")
        parser.add_argument("--password", default=DEMO_PASSWORD, help="演示账号的密码")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **opts) -> None:
        try:
            accounts = create_demo_accounts(district=opts["district"], password=opts["password"],
                                            using=opts["database"])
        except LookupError as exc:
            raise CommandError(str(exc.args[0] if exc.args else exc)) from exc
        self.stdout.write(format_accounts(accounts))
