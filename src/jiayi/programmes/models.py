"""The programme engine's data: enrolments, visits, tasks, referrals, screening, medication plans.

The tables are the same for every programme (hypertension, diabetes, and the programmes that later
add a folder); the programme code is a column. Key values of each visit (BP, glucose, class, next
due date) are denormalised into columns so that the indicator engine and the work lists read them
with plain indexed queries instead of digging in the form JSON.

Scoping: every row carries its resident, and ``visible_to(user, action)`` filters on the resident's
managing institution (a join on the resident's primary key), the same rule as ``Resident.visible_to``
(``RESIDENT_SCOPE`` below).
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiayi.core.models import VersionedModel
from jiayi.core.scoping import ScopedQuerySet
from jiayi.org.models import Institution, Staff, Team
from jiayi.residents.models import Resident

#: Every programme row is scoped through its resident (``core.scoping``). Staff are filtered with a
#: join on the resident (``resident.institution_id IN (...)``), which keeps the driving index on the
#: programme table (work lists stay fast at a million residents); team scope narrows through the
#: resident's own scope (a subquery), a resident's account sees rows about themself.
RESIDENT_SCOPE = {"institution": "resident__institution", "resident": "resident", "deleted": "resident__is_deleted"}


class EnrolmentEndReason(models.TextChoices):
    DECEASED = "deceased", _("死亡")
    MOVED_OUT = "moved_out", _("迁出")
    TRANSFERRED = "transferred", _("转至其他机构管理")
    DIAGNOSIS_REVISED = "diagnosis_revised", _("诊断更正")
    REFUSED = "refused", _("拒绝管理")
    COMPLETED = "completed", _("管理周期结束")
    OTHER = "other", _("其他")


class EnrolmentSource(models.TextChoices):
    SCREENING = "screening", _("筛查确诊")
    CLINIC = "clinic", _("门诊确诊")
    HOSPITAL = "hospital", _("上级医院确诊")
    IMPORT = "import", _("历史数据导入")


class EnrolmentQuerySet(ScopedQuerySet):
    def open(self):
        return self.filter(end_date__isnull=True)

    def open_on(self, on: date):
        """Enrolments in management on ``on`` (started on or before, not ended before)."""
        return self.filter(start_date__lte=on).filter(Q(end_date__isnull=True) | Q(end_date__gte=on))


class Enrolment(VersionedModel):
    """A resident under management in one programme (纳入管理), under a named rule set."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="enrolments")
    programme = models.CharField(_("项目"), max_length=30)
    ruleset = models.CharField(_("规则集"), max_length=40)
    start_date = models.DateField(_("纳入管理日期"))
    end_date = models.DateField(_("结束管理日期"), null=True, blank=True)
    end_reason = models.CharField(_("结束原因"), max_length=20, choices=EnrolmentEndReason.choices, blank=True)
    end_note = models.CharField(_("结束说明"), max_length=200, blank=True)
    source = models.CharField(_("来源"), max_length=20, choices=EnrolmentSource.choices, default="clinic")
    diagnosed_on = models.DateField(_("确诊日期"), null=True, blank=True)
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("管理机构")
    )
    doctor = models.ForeignKey(
        Staff,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enrolments",
        verbose_name=_("责任医生"),
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enrolments",
        verbose_name=_("责任团队"),
    )
    enrolled_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    scope_paths = RESIDENT_SCOPE
    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目管理登记")
        verbose_name_plural = _("项目管理登记")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "programme"],
                condition=Q(end_date__isnull=True),
                name="enrolment_one_open",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="enrolment_end_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "institution", "start_date"], name="enrol_prog_inst"),
            models.Index(fields=["programme", "team"], name="enrol_prog_team"),
            models.Index(fields=["programme", "doctor"], name="enrol_prog_doctor"),
            models.Index(fields=["resident", "programme"], name="enrol_resident"),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id}:{self.programme}"

    @property
    def is_open(self) -> bool:
        return self.end_date is None


class VisitType(models.TextChoices):
    FOLLOW_UP = "follow_up", _("随访")
    ANNUAL_CHECK = "annual_check", _("年度健康检查")
    SCREENING = "screening", _("筛查")


class VisitMode(models.TextChoices):
    """随访方式 on the national forms; clinic and home visits are face to face."""

    CLINIC = "clinic", _("门诊")
    HOME = "home", _("家庭")
    PHONE = "phone", _("电话")
    OTHER = "other", _("其他")


FACE_TO_FACE_MODES = (VisitMode.CLINIC, VisitMode.HOME)


class VisitClass(models.TextChoices):
    """此次随访分类 (RULES.md §2.4); the most severe applicable class is recorded."""

    CONTROLLED = "controlled", _("控制满意")
    UNCONTROLLED = "uncontrolled", _("控制不满意")
    ADVERSE_REACTION = "adverse_reaction", _("不良反应")
    COMPLICATION = "complication", _("并发症")


class VisitQuerySet(ScopedQuerySet):
    def live(self):
        return self.filter(is_deleted=False)


class Visit(VersionedModel):
    """One programme visit: the form as entered plus the outcome the rules computed.

    ``form`` holds the programme's form fields as validated by its schema. The columns below it
    repeat the values the analytics read (BP, glucose, class, at-target, next due, referral).
    """

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="visits")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="programme_visits")
    programme = models.CharField(_("项目"), max_length=30)
    ruleset = models.CharField(_("规则集"), max_length=40)
    visit_date = models.DateField(_("随访日期"))
    visit_type = models.CharField(_("类型"), max_length=20, choices=VisitType.choices, default="follow_up")
    mode = models.CharField(_("随访方式"), max_length=10, choices=VisitMode.choices, default="clinic")
    face_to_face = models.BooleanField(_("面对面"), default=True)
    form = models.JSONField(_("随访记录"), default=dict)
    sbp = models.PositiveSmallIntegerField(_("收缩压 mmHg"), null=True, blank=True)
    dbp = models.PositiveSmallIntegerField(_("舒张压 mmHg"), null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(_("心率 次/分"), null=True, blank=True)
    weight = models.DecimalField(_("体重 kg"), max_digits=4, decimal_places=1, null=True, blank=True)
    bmi = models.DecimalField(_("体质指数"), max_digits=4, decimal_places=1, null=True, blank=True)
    fasting_glucose = models.DecimalField(_("空腹血糖 mmol/L"), max_digits=4, decimal_places=1, null=True, blank=True)
    classification = models.CharField(_("此次随访分类"), max_length=20, choices=VisitClass.choices, blank=True)
    at_target = models.BooleanField(_("血压/血糖达标"), null=True, blank=True)
    next_due = models.DateField(_("下次随访日期"), null=True, blank=True)
    referral_reasons = models.JSONField(_("转诊原因"), default=list, blank=True)
    referred = models.BooleanField(_("转诊"), default=False)
    urgent = models.BooleanField(_("紧急转诊"), default=False)
    doctor = models.ForeignKey(
        Staff,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="programme_visits",
        verbose_name=_("随访医生"),
    )
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_deleted = models.BooleanField(default=False)

    scope_paths = RESIDENT_SCOPE
    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目随访")
        verbose_name_plural = _("项目随访")
        indexes = [
            models.Index(fields=["enrolment", "visit_date"], name="visit_enrolment_date"),
            models.Index(fields=["programme", "institution", "visit_date"], name="visit_prog_inst_date"),
            models.Index(fields=["programme", "team", "visit_date"], name="visit_prog_team_date"),
            models.Index(fields=["resident", "visit_date"], name="visit_resident_date"),
        ]
        ordering = ["-visit_date", "-pk"]

    def __str__(self) -> str:
        return f"{self.programme} {self.resident_id} {self.visit_date}"


class TaskKind(models.TextChoices):
    FOLLOW_UP = "follow_up", _("随访")
    REFERRAL_FOLLOW_UP = "referral_follow_up", _("转诊后随访")
    ANNUAL_CHECK = "annual_check", _("年度健康检查")
    SCREENING_RECHECK = "screening_recheck", _("筛查复测")
    #: the next contact of a schedule or episode programme (its window from the rule set's schedule)
    SCHEDULED = "scheduled", _("计划服务")


class TaskStatus(models.TextChoices):
    """Stored states. "Overdue" is not stored: a due task whose due date has passed is overdue,
    computed at read time (``Task.is_overdue``, ``TaskQuerySet.overdue``), so no nightly job can fall
    behind."""

    DUE = "due", _("待办")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


#: Work-list urgency (lower = more urgent); the list sorts on (priority, due_date).
class TaskPriority(models.IntegerChoices):
    URGENT = 0, _("紧急")
    SHORT_INTERVAL = 1, _("两周内复诊")
    ROUTINE = 2, _("常规")
    PLANNED = 3, _("计划")


class TaskQuerySet(ScopedQuerySet):
    def open(self):
        return self.filter(status=TaskStatus.DUE)

    def overdue(self, today: date):
        return self.filter(status=TaskStatus.DUE, due_date__lt=today)


class Task(models.Model):
    """A work item: the next follow-up, a referral to follow up, the annual check, a screening re-check."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="programme_tasks")
    enrolment = models.ForeignKey(Enrolment, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    programme = models.CharField(_("项目"), max_length=30)
    kind = models.CharField(_("任务类型"), max_length=20, choices=TaskKind.choices)
    due_date = models.DateField(_("应完成日期"))
    status = models.CharField(_("状态"), max_length=10, choices=TaskStatus.choices, default="due")
    priority = models.PositiveSmallIntegerField(_("紧急程度"), choices=TaskPriority.choices, default=2)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    doctor = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source_visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="scheduled_tasks"
    )
    done_by_visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="completed_tasks"
    )
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_paths = RESIDENT_SCOPE
    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("工作任务")
        verbose_name_plural = _("工作任务")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "programme", "kind"],
                condition=Q(status="due"),
                name="task_one_open_per_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date", "institution"], name="task_status_due_inst"),
            # Institution-wide lists read in work-list order and stop after one page.
            models.Index(fields=["status", "priority", "due_date", "id"], name="task_status_prio_due"),
            models.Index(fields=["status", "team", "due_date"], name="task_status_team_due"),
            models.Index(fields=["status", "doctor", "due_date"], name="task_status_doctor_due"),
            models.Index(fields=["resident", "status"], name="task_resident_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.resident_id} {self.due_date}"

    def is_overdue(self, today: date) -> bool:
        return self.status == TaskStatus.DUE and self.due_date < today

    def effective_status(self, today: date) -> str:
        """'overdue' for a due task past its date, otherwise the stored status."""
        return "overdue" if self.is_overdue(today) else self.status


class ReferralQuerySet(ScopedQuerySet):
    def awaiting(self):
        return self.filter(returned_on__isnull=True, cancelled=False)


class Referral(models.Model):
    """A referral made at a programme visit, awaiting the patient's return (转诊, RULES.md §2.3-2.4).

    Minimal on purpose: the care app owns the two-way referral form; this record is what the
    programme needs to follow the referral up within two weeks.
    """

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="programme_referrals")
    enrolment = models.ForeignKey(Enrolment, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals")
    visit = models.OneToOneField(Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="referral")
    programme = models.CharField(_("项目"), max_length=30)
    referred_on = models.DateField(_("转诊日期"))
    reasons = models.JSONField(_("转诊原因"), default=list)
    urgent = models.BooleanField(_("紧急转诊"), default=False)
    to_institution = models.ForeignKey(
        Institution,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("转入机构"),
    )
    to_institution_name = models.CharField(_("转入机构名称"), max_length=200, blank=True)
    to_department = models.CharField(_("科室"), max_length=50, blank=True)
    returned_on = models.DateField(_("回访日期"), null=True, blank=True)
    outcome = models.CharField(_("转诊结果"), max_length=300, blank=True)
    cancelled = models.BooleanField(_("已取消"), default=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    doctor = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    # A hospital referral desk sees the referrals sent to its hospital.
    scope_paths = {**RESIDENT_SCOPE, "referral": "to_institution"}
    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目转诊")
        verbose_name_plural = _("项目转诊")
        indexes = [
            models.Index(fields=["institution", "returned_on", "referred_on"], name="referral_inst_open"),
            models.Index(fields=["team", "returned_on", "referred_on"], name="referral_team_open"),
            models.Index(fields=["doctor", "returned_on", "referred_on"], name="referral_doctor_open"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} {self.resident_id} {self.referred_on}"


class ScreeningStatus(models.TextChoices):
    RECHECKING = "rechecking", _("复测中")
    CONFIRMABLE = "confirmable", _("待确诊")
    CONFIRMED = "confirmed", _("已确诊纳入管理")
    REFERRED = "referred", _("已转诊确诊")
    RULED_OUT = "ruled_out", _("已排除")


class ScreeningCase(VersionedModel):
    """A raised screening value being re-checked on different days (非同日3次, RULES.md §2.1).

    The readings themselves are residents' Measurements (source "screening"); the case counts the
    distinct days with a raised reading since it was opened.
    """

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="screening_cases")
    programme = models.CharField(_("项目"), max_length=30)
    opened_on = models.DateField(_("首次发现日期"))
    status = models.CharField(_("状态"), max_length=20, choices=ScreeningStatus.choices, default="rechecking")
    raised_days = models.JSONField(_("异常测量日期"), default=list)
    readings = models.JSONField(_("测量记录"), default=list)
    closed_on = models.DateField(_("结束日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    enrolment = models.ForeignKey(
        Enrolment, null=True, blank=True, on_delete=models.SET_NULL, related_name="screening_cases"
    )
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    doctor = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    scope_paths = RESIDENT_SCOPE
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("筛查复测")
        verbose_name_plural = _("筛查复测")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "programme"],
                condition=Q(status__in=["rechecking", "confirmable"]),
                name="screening_one_open_case",
            ),
        ]
        indexes = [models.Index(fields=["institution", "status"], name="screening_inst_status")]

    def __str__(self) -> str:
        return f"{self.programme} {self.resident_id} {self.opened_on}"

    @property
    def is_open(self) -> bool:
        return self.status in (ScreeningStatus.RECHECKING, ScreeningStatus.CONFIRMABLE)


class PlanStatus(models.TextChoices):
    ACTIVE = "active", _("执行中")
    SUPERSEDED = "superseded", _("已更新")
    STOPPED = "stopped", _("已停止")


class MedicationPlanQuerySet(ScopedQuerySet):
    def active(self):
        return self.filter(status=PlanStatus.ACTIVE)


class MedicationPlan(models.Model):
    """The doctor's medication plan for a managed patient (用药方案), optionally a long prescription.

    A new plan supersedes the previous active plan of the same enrolment. Long prescriptions
    (长期处方, RULES.md §10.3) over 4 weeks need a documented assessment and the patient's confirmation.
    """

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="medication_plans")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="medication_plans")
    programme = models.CharField(_("项目"), max_length=30)
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    start_date = models.DateField(_("开始日期"))
    status = models.CharField(_("状态"), max_length=12, choices=PlanStatus.choices, default="active")
    long_prescription = models.BooleanField(_("长期处方"), default=False)
    assessment_note = models.CharField(_("病情评估记录"), max_length=300, blank=True)
    patient_confirmed = models.BooleanField(_("患者知情确认"), default=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    doctor = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    scope_paths = RESIDENT_SCOPE
    objects = MedicationPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("用药方案")
        verbose_name_plural = _("用药方案")
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment"], condition=Q(status="active"), name="medication_plan_one_active"
            ),
        ]
        indexes = [models.Index(fields=["institution", "status"], name="medplan_inst_status")]

    def __str__(self) -> str:
        return f"{self.programme} {self.resident_id} {self.start_date}"


class MedicationPlanLine(models.Model):
    """One drug of a plan: dose per administration, times a day, days per prescription."""

    plan = models.ForeignKey(MedicationPlan, on_delete=models.CASCADE, related_name="lines")
    drug = models.CharField(_("药物名称"), max_length=100)
    drug_class = models.CharField(_("药物类别"), max_length=30, blank=True)
    dose = models.DecimalField(_("每次剂量"), max_digits=8, decimal_places=2)
    dose_unit = models.CharField(_("剂量单位"), max_length=10)
    times_per_day = models.PositiveSmallIntegerField(_("每日次数"))
    duration_days = models.PositiveSmallIntegerField(_("处方天数"))

    class Meta:
        verbose_name = _("用药明细")
        verbose_name_plural = _("用药明细")
        indexes = [models.Index(fields=["drug", "dose_unit"], name="medline_drug")]

    def __str__(self) -> str:
        return f"{self.drug} {self.dose}{self.dose_unit}×{self.times_per_day}"
