"""Stored indicator values, engine runs, district target presets, and monthly reports with their review.

``IndicatorValue`` is what every dashboard reads (pages never compute): one row per indicator, period,
org level and unit, written by the engine. A ``Report`` freezes the values of one institution and month
(``ReportValue``) and moves through the review chain station → centre → district; every step is a
``ReportEvent`` (who, when, why). Scoping: a value, preset or report belongs to an institution
(``institution``); a user sees those of the institutions in their subtree.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiayi.core.scoping import ScopedQuerySet
from jiayi.org.models import Institution


class Level(models.TextChoices):
    DISTRICT = "district", _("区")
    STREET = "street", _("街道")
    CENTRE = "centre", _("社区卫生服务中心")
    STATION = "station", _("社区卫生服务站")
    TEAM = "team", _("家庭医生团队")
    DOCTOR = "doctor", _("家庭医生")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("月")
    QUARTER = "quarter", _("季度")
    YTD = "ytd", _("年初至今")
    YEAR = "year", _("年度")


#: Indicator rows belong to the institution that decides who may see them.
INSTITUTION_SCOPE = {"institution": "institution"}


class ComputationRun(models.Model):
    """One run of the engine (command, background task or bench)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("计算中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    backend = models.CharField(_("计算后端"), max_length=10)
    incremental = models.BooleanField(_("增量计算"), default=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    periods_requested = models.JSONField(_("请求的统计期"), default=list)
    periods_computed = models.JSONField(_("重新计算的统计期"), default=list)
    values_written = models.PositiveIntegerField(_("写入值数"), default=0)
    seconds = models.FloatField(_("耗时（秒）"), null=True, blank=True)
    rulesets = models.JSONField(_("规则集"), default=dict)
    blocked = models.JSONField(_("缺少数据的指标"), default=dict)
    timings = models.JSONField(_("分步耗时"), default=dict)
    error = models.TextField(_("错误"), blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("指标计算")
        verbose_name_plural = _("指标计算")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.backend} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class PeriodFingerprint(models.Model):
    """What the source data looked like when a period was last computed (incremental runs)."""

    period = models.CharField(_("统计期"), max_length=12, unique=True)
    as_of = models.DateField(_("统计截止日"))
    fingerprint = models.CharField(max_length=64)
    computed_at = models.DateTimeField(auto_now=True)
    run = models.ForeignKey(ComputationRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("统计期数据指纹")
        verbose_name_plural = _("统计期数据指纹")

    def __str__(self) -> str:
        return f"{self.period} {self.fingerprint[:8]}"


class IndicatorValue(models.Model):
    """The value of one indicator for one org unit and period, as computed from the records."""

    indicator = models.CharField(_("指标"), max_length=60)
    period = models.CharField(_("统计期"), max_length=12)
    period_kind = models.CharField(_("统计期类型"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("统计期开始"))
    period_end = models.DateField(_("统计期结束"))
    as_of = models.DateField(_("统计截止日"))
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    unit_id = models.BigIntegerField(_("单位"))
    unit_name = models.CharField(_("单位名称"), max_length=200)
    institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text=_("决定谁可以查看该值的机构"),
    )
    numerator = models.FloatField(_("分子"))
    denominator = models.FloatField(_("分母"))
    value = models.FloatField(_("指标值"), null=True, blank=True)
    rulesets = models.JSONField(_("规则集"), default=dict)
    backend = models.CharField(_("计算后端"), max_length=10)
    computed_at = models.DateTimeField(_("计算时间"))
    run = models.ForeignKey(ComputationRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    scope_paths = INSTITUTION_SCOPE
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("指标值")
        verbose_name_plural = _("指标值")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "period", "level", "unit_id"], name="indicator_value_unique"),
        ]
        indexes = [
            models.Index(fields=["level", "unit_id", "period"], name="ind_value_unit_period"),
            models.Index(fields=["indicator", "period", "level"], name="ind_value_ind_period"),
            models.Index(fields=["period"], name="ind_value_period"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.period} {self.level}:{self.unit_id} = {self.value}"


class ScoringMode(models.TextChoices):
    EGT = "egt", _("达到或超过目标得满分")
    ELT = "elt", _("不超过目标得满分")
    Y01 = "Y01", _("是则得满分")
    N01 = "N01", _("否则得满分")


class TargetPreset(models.Model):
    """A district's own target preset (the five programme presets are built in, see presets.py)."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    title = models.CharField(_("名称"), max_length=200)
    district = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="target_presets", verbose_name=_("制定机构")
    )
    year = models.PositiveSmallIntegerField(_("考核年度"), null=True, blank=True)
    based_on = models.CharField(_("参照预设"), max_length=40, blank=True)
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    scope_paths = {"institution": "district"}
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("考核目标方案")
        verbose_name_plural = _("考核目标方案")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.title


class TargetItem(models.Model):
    preset = models.ForeignKey(TargetPreset, on_delete=models.CASCADE, related_name="items")
    label = models.CharField(_("考核内容"), max_length=200)
    indicator = models.CharField(_("指标"), max_length=60, blank=True, help_text=_("为空表示暂不可测量"))
    target = models.FloatField(_("目标值"), null=True, blank=True)
    mode = models.CharField(_("计分方式"), max_length=3, choices=ScoringMode.choices, default=ScoringMode.EGT)
    weight = models.FloatField(_("权重"), default=1.0)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("考核目标")
        verbose_name_plural = _("考核目标")
        ordering = ["preset_id", "position", "id"]

    def __str__(self) -> str:
        return self.label


class ReportState(models.TextChoices):
    SUBMITTED = "submitted", _("待中心审核")
    CENTRE_APPROVED = "centre_approved", _("待区级审核")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已审核通过")
    SUPERSEDED = "superseded", _("已被新版本替代")


class ReportQuerySet(ScopedQuerySet):
    def awaiting(self):
        return self.filter(state__in=[ReportState.SUBMITTED, ReportState.CENTRE_APPROVED])


class Report(models.Model):
    """A monthly report: the frozen indicator values of one institution for one month.

    A returned report is corrected by submitting a new version (``previous`` points back); an approved
    report is locked.
    """

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="indicator_reports")
    period = models.CharField(_("报告月份"), max_length=12)
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    state = models.CharField(_("状态"), max_length=20, choices=ReportState.choices, default=ReportState.SUBMITTED)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    note = models.TextField(_("填报说明"), blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(_("报送时间"))
    frozen_at = models.DateTimeField(_("数据冻结时间"))
    rulesets = models.JSONField(_("规则集"), default=dict)

    scope_paths = INSTITUTION_SCOPE
    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("月度报告")
        verbose_name_plural = _("月度报告")
        ordering = ["-period", "institution_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "period", "version"], name="report_version_unique"),
            models.UniqueConstraint(
                fields=["institution", "period"],
                condition=Q(state__in=["submitted", "centre_approved", "approved"]),
                name="report_one_live_per_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution} {self.period} v{self.version}"

    @property
    def locked(self) -> bool:
        return self.state in (ReportState.APPROVED, ReportState.SUPERSEDED)


class ReportValue(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="values")
    indicator = models.CharField(_("指标"), max_length=60)
    numerator = models.FloatField(_("分子"))
    denominator = models.FloatField(_("分母"))
    value = models.FloatField(_("指标值"), null=True, blank=True)

    class Meta:
        verbose_name = _("报告指标值")
        verbose_name_plural = _("报告指标值")
        constraints = [models.UniqueConstraint(fields=["report", "indicator"], name="report_value_unique")]

    def __str__(self) -> str:
        return f"{self.report_id} {self.indicator}"


class ReportAction(models.TextChoices):
    SUBMIT = "submit", _("报送")
    RESUBMIT = "resubmit", _("修改后重新报送")
    APPROVE = "approve", _("审核通过")
    RETURN = "return", _("退回")


class ReportEvent(models.Model):
    """One step of a report's review (append-only): who did what, when, at which level, and why."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=10, choices=ReportAction.choices)
    level = models.CharField(_("审核层级"), max_length=10, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(_("操作人"), max_length=150)
    actor_institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    reason = models.TextField(_("理由"), blank=True)

    class Meta:
        verbose_name = _("报告审核记录")
        verbose_name_plural = _("报告审核记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.report_id} {self.action} {self.actor_name}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("report events are append-only")
        super().save(*args, **kwargs)
