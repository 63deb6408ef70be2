"""`jiayi synth --district NAME --residents N --seed S`: build a synthetic district.

Examples::

    jiayi synth --district xuhui --residents 20000 --seed 42 --demo-accounts
    jiayi synth --district gusu --residents 1000000 --seed 1 --replace
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from jiayi.synth import reference
from jiayi.synth.pipeline import SynthError, generate


class Command(BaseCommand):
    help = "生成模拟区县数据（机构、人员、团队、居民、家庭、档案、测量、签约、慢病随访）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--district", required=True, choices=sorted(reference.DISTRICTS),
                            help="区县：xuhui、gusu、binhai、xintang、songshan")
        parser.add_argument("--residents", type=int, required=True, help="居民数")
        parser.add_argument("--seed", type=int, default=1, help="随机种子（相同种子生成相同数据）")
        parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                            help="基准日期 YYYY-MM-DD（默认今天；年龄、随访和任务都以此日期计算）")
        parser.add_argument("--replace", action="store_true", help="先删除该区县已有的全部数据再生成")
        parser.add_argument("--demo-accounts", action="store_true", help="生成后创建并打印演示账号")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args, **opts) -> None:
        progress = not opts["no_progress"] and opts["verbosity"] > 0
        try:
            result = generate(
                district=opts["district"], residents=opts["residents"], seed=opts["seed"], as_of=opts["as_of"],
                replace=opts["replace"], progress=progress, using=opts["database"],
            )
        except SynthError as exc:
            raise CommandError(str(exc)) from exc
        if opts["verbosity"] > 0:
            counts = "，".join(f"{k} {v:,}" for k, v in result.counts.items())
            self.stdout.write(self.style.SUCCESS(
                f"{result.district}：{result.residents:,} 名居民，种子 {result.seed}，基准日期 {result.as_of}，"
                f"用时 {result.seconds:.1f} 秒。"
            ))
            self.stdout.write(counts)
            self.stdout.write("各阶段用时（秒）：" + "，".join(f"{k} {v}" for k, v in result.stage_seconds.items()))
            if result.skipped:
                self.stdout.write(self.style.WARNING("未安装、已跳过的阶段：" + "、".join(result.skipped)))
        if opts["demo_accounts"]:
            from jiayi.synth.accounts import create_demo_accounts, format_accounts

            accounts = create_demo_accounts(district=opts["district"], using=opts["database"])
            self.stdout.write(format_accounts(accounts))
