"""A log of generator runs: which district was generated with which seed, size and version.

`synth` refuses to generate into a district that already has data (unless `--replace`), and the
benchmarks reuse a cached database only when its run matches the requested seed, size and version.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SynthRun(models.Model):
    district = models.CharField(_("模拟区县"), max_length=20)
    county_code = models.CharField(_("区县代码"), max_length=6)
    seed = models.BigIntegerField(_("随机种子"))
    residents = models.PositiveIntegerField(_("居民数"))
    as_of = models.DateField(_("基准日期"))
    generator_version = models.CharField(_("生成器版本"), max_length=20)
    started_at = models.DateTimeField(_("开始时间"))
    seconds = models.FloatField(_("用时（秒）"))
    counts = models.JSONField(_("生成行数"), default=dict)
    stage_seconds = models.JSONField(_("各阶段用时"), default=dict)

    class Meta:
        verbose_name = _("模拟数据生成记录")
        verbose_name_plural = _("模拟数据生成记录")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.district} seed={self.seed} n={self.residents} ({self.as_of})"
