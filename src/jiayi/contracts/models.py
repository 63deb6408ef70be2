"""Family-doctor contract services (家庭医生签约服务): packages, contracts, deliveries, satisfaction.

The aim is that no contract is "signed but not served" (只签不约): every contract carries the items it
promised (``ContractItem``, a snapshot of its packages at signing) and every service delivered toward
it (``ServiceDelivery``), so promised vs delivered is a query, not a claim.

Reading guide for other apps
- ``Contract``: one resident, one team and responsible doctor, one period ``[start_date, end_date]``
  (inclusive). A contract is *in force* on day ``d`` when ``start_date <= d <= end_date``, it is not
  terminated on or before ``d`` (``terminated_on`` is the first day without the contract).
  ``Contract.objects.active_on(d)`` computes exactly that from the dates, so it is right even when
  the nightly status job has not run; ``status`` is the stored lifecycle
  state (``active`` while in force, ``pending`` before a future start, ``expired``/``renewed`` after the
  end, ``terminated`` after early termination).
- ``ContractItem``: what was promised (service code from ``contracts.catalogue``, quantity per period),
  with two counters kept by the services: ``delivered`` and ``next_due_on`` (deadline of the next
  undelivered unit, None when complete; see ``contracts.rules``). "Behind schedule today" is
  ``next_due_on < today``.
- ``ServiceDelivery``: one delivered service counted toward one contract item; ``revoked_at`` set
  means it no longer counts.
- ``SatisfactionSurvey``: at most one per contract.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from jiayi.contracts.catalogue import service_choices
from jiayi.core.models import VersionedModel
from jiayi.core.scoping import ScopedQuerySet
from jiayi.org.models import Area, Institution, Staff, Team
from jiayi.org.selectors import institution_ancestor_ids
from jiayi.residents.models import Household, Relationship, Resident


class ServiceChoices(BaseChoiceIterator):
    """The service-item codes, read from the registry (jiayi.contracts.catalogue) whenever the choices
    are used: the programmes register their items once the apps are loaded, after this module."""

    def __iter__(self):
        return iter(service_choices())


# ---------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------


class PackageKind(models.TextChoices):
    BASIC = "basic", _("基础包")
    PERSONALISED = "personalised", _("个性化包")


class ServicePackageQuerySet(ScopedQuerySet):
    def offered_at(self, institution: Institution) -> ServicePackageQuerySet:
        """Active packages a team at ``institution`` may sign: district-wide ones and those of the
        institution or any institution above it."""
        return self.filter(active=True).filter(
            Q(institution__isnull=True) | Q(institution_id__in=institution_ancestor_ids(institution.pk))
        )


class ServicePackage(VersionedModel):
    """A service package (服务包) composed by a centre (or district-wide when ``institution`` is empty).

    ``target_groups`` lists the key-population codes (residents.rules.KEY_POPULATIONS) the package is
    for; empty means every resident. Money is in yuan per contract period: ``price`` =
    ``insurance_share`` (医保基金) + ``public_health_share`` (基本公共卫生经费) + ``resident_share`` (个人).
    """

    institution = models.ForeignKey(
        Institution,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_packages",
        verbose_name=_("制定机构"),
    )
    code = models.SlugField(_("编码"), max_length=40)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=PackageKind.choices)
    description = models.TextField(_("说明"), blank=True)
    target_groups = models.JSONField(_("适用人群"), default=list, blank=True)
    price = models.DecimalField(_("签约服务费（元）"), max_digits=8, decimal_places=2)
    insurance_share = models.DecimalField(_("医保基金支付（元）"), max_digits=8, decimal_places=2)
    public_health_share = models.DecimalField(_("公共卫生经费支付（元）"), max_digits=8, decimal_places=2)
    resident_share = models.DecimalField(_("个人支付（元）"), max_digits=8, decimal_places=2)
    period_months = models.PositiveSmallIntegerField(_("服务周期（月）"), default=12)
    active = models.BooleanField(_("启用"), default=True)
    demo_default = models.BooleanField(
        _("演示默认值"), default=False, help_text=_("由系统默认安装，价格与项目为演示值，需按本地政策核定。")
    )

    # District-wide packages (no institution) and those of institutions in the user's scope or above
    # it (a commission's package is offered by its centres); residents see the active ones.
    scope_paths = {"offered_by": "institution", "published": "active"}
    objects = ServicePackageQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务包")
        verbose_name_plural = _("服务包")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="package_code_unique_per_institution"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(institution__isnull=True), name="package_code_unique_district"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PackageItem(models.Model):
    """A service item of a package and how many times it is promised per contract period.

    ``optional`` items may be left out by the resident when signing (点单式); the others always apply.
    """

    package = models.ForeignKey(ServicePackage, on_delete=models.CASCADE, related_name="items")
    service_code = models.CharField(_("服务项目"), max_length=30, choices=ServiceChoices())
    quantity = models.PositiveSmallIntegerField(_("次数/周期"))
    optional = models.BooleanField(_("可选项目"), default=False)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("服务包项目")
        verbose_name_plural = _("服务包项目")
        ordering = ["package_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["package", "service_code"], name="package_item_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="package_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_code_display()} × {self.quantity}"


# ---------------------------------------------------------------------------------------------
# Places of signing
# ---------------------------------------------------------------------------------------------


class CommunityKind(models.TextChoices):
    EMPLOYER = "employer", _("机关企事业单位")
    PARK = "park", _("产业园区")
    SCHOOL = "school", _("学校")
    OTHER = "other", _("其他功能社区")


class FunctionalCommunity(models.Model):
    """A functional community (功能社区: employer, industrial park, school) served by a centre, where
    contracts can be signed on site."""

    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=20, choices=CommunityKind.choices)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("所在区划"))
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        related_name="functional_communities",
        verbose_name=_("服务机构"),
    )
    address = models.CharField(_("地址"), max_length=300, blank=True)
    active = models.BooleanField(_("有效"), default=True)

    scope_paths = {"institution": "institution"}
    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("功能社区")
        verbose_name_plural = _("功能社区")
        ordering = ["institution_id", "name"]

    def __str__(self) -> str:
        return self.name


class SigningPlace(models.TextChoices):
    INSTITUTION = "institution", _("医疗机构内")
    HOME = "home", _("入户签约")
    FUNCTIONAL_COMMUNITY = "functional_community", _("功能社区（单位、园区、学校）")
    ELDERLY_CARE = "elderly_care", _("养老机构")
    ONLINE = "online", _("线上签约")


# ---------------------------------------------------------------------------------------------
# Contracts
# ---------------------------------------------------------------------------------------------


class ContractStatus(models.TextChoices):
    PENDING = "pending", _("待生效")
    ACTIVE = "active", _("履约中")
    EXPIRED = "expired", _("已到期")
    RENEWED = "renewed", _("已续约")
    TERMINATED = "terminated", _("已解约")


class ConsentMethod(models.TextChoices):
    HANDWRITTEN = "handwritten", _("居民手写签名")
    ELECTRONIC = "electronic", _("电子签名")
    FINGERPRINT = "fingerprint", _("指纹确认")
    PROXY = "proxy", _("监护人/家属代签")


class WaiverReason(models.TextChoices):
    POVERTY_LIFTED = "poverty_lifted", _("脱贫人口")
    LOW_INCOME = "low_income", _("低保/特困供养人员")
    SPECIAL_FP_FAMILY = "special_fp_family", _("计划生育特殊家庭")
    DISABLED = "disabled", _("重度残疾人")
    OTHER = "other", _("其他（须说明）")


class TerminationReason(models.TextChoices):
    RESIDENT_REQUEST = "resident_request", _("居民申请解约")
    MOVED_OUT = "moved_out", _("迁出服务区域")
    DECEASED = "deceased", _("居民死亡")
    TEAM_CHANGE = "team_change", _("改签其他团队")
    DOCTOR_LEFT = "doctor_left", _("签约医生离岗")
    RECORDED_IN_ERROR = "recorded_in_error", _("签约信息录入有误")
    OTHER = "other", _("其他（须说明）")


class ContractQuerySet(ScopedQuerySet):
    def active_on(self, day: date) -> ContractQuerySet:
        """Contracts in force on ``day``, computed from the dates (correct without the status job)."""
        return self.filter(
            Q(terminated_on__isnull=True) | Q(terminated_on__gt=day), start_date__lte=day, end_date__gte=day
        )

    def current(self) -> ContractQuerySet:
        return self.active_on(timezone.localdate())

    def overlapping(self, start: date, end: date) -> ContractQuerySet:
        """Contracts in force on at least one day of [start, end]."""
        never_in_force = Q(terminated_on__lte=models.F("start_date"))
        return self.filter(
            Q(terminated_on__isnull=True) | Q(terminated_on__gt=start),
            start_date__lte=end,
            end_date__gte=start,
        ).exclude(never_in_force)

    def behind_schedule(self, day: date | None = None) -> ContractQuerySet:
        """Contracts with an item whose next deadline has passed (uses the stored ``next_due_on``)."""
        day = day or timezone.localdate()
        late = ContractItem.objects.filter(contract=OuterRef("pk"), next_due_on__lt=day)
        return self.filter(Exists(late))

    def with_effective_status(self, day: date | None = None) -> ContractQuerySet:
        """Annotate ``effective_status``: the status on ``day`` from the dates (what the status job
        would store)."""
        day = day or timezone.localdate()
        renewal = Contract.objects.filter(renewal_of=OuterRef("pk")).exclude(
            status=ContractStatus.TERMINATED, terminated_on__lte=models.F("start_date")
        )
        return self.annotate(
            effective_status=models.Case(
                models.When(
                    Q(status=ContractStatus.TERMINATED) | Q(terminated_on__lte=day),
                    then=models.Value(ContractStatus.TERMINATED),
                ),
                models.When(start_date__gt=day, then=models.Value(ContractStatus.PENDING)),
                models.When(Q(end_date__lt=day) & Exists(renewal), then=models.Value(ContractStatus.RENEWED)),
                models.When(end_date__lt=day, then=models.Value(ContractStatus.EXPIRED)),
                default=models.Value(ContractStatus.ACTIVE),
                output_field=models.CharField(),
            )
        )


class HouseholdSigning(models.Model):
    """One act of signing a whole household (以家庭为单位签约); its contracts point here."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="contract_signings")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    doctor = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(_("签约时间"))
    signed_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("家庭签约")
        verbose_name_plural = _("家庭签约")

    def __str__(self) -> str:
        return f"{self.household_id} {self.signed_at:%Y-%m-%d}"


class Contract(VersionedModel):
    """A family-doctor contract (签约协议) of one resident with a team and its responsible doctor."""

    number = models.CharField(_("签约编号"), max_length=30, unique=True)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("居民"))
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("签约团队"))
    doctor = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("签约医生"))
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("签约机构")
    )
    packages = models.ManyToManyField(
        ServicePackage, through="ContractPackage", related_name="contracts", verbose_name=_("服务包")
    )
    status = models.CharField(_("状态"), max_length=12, choices=ContractStatus.choices, default=ContractStatus.ACTIVE)
    start_date = models.DateField(_("生效日期"))
    end_date = models.DateField(_("到期日期"))
    renewal_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewals",
        verbose_name=_("续约自"),
    )
    household_signing = models.ForeignKey(
        HouseholdSigning,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
        verbose_name=_("家庭签约"),
    )
    # Signature: staff-side confirmation and the resident's consent.
    signed_at = models.DateTimeField(_("签约时间"))
    signed_by = models.ForeignKey(
        Staff,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("经办人（医方确认）"),
    )
    consent_method = models.CharField(_("居民确认方式"), max_length=20, choices=ConsentMethod.choices)
    consent_signatory = models.CharField(_("签字人"), max_length=50)
    consent_relation = models.CharField(
        _("签字人与居民关系"), max_length=20, blank=True, help_text=_("本人签字时为空；代签时填写关系。")
    )
    consent_document = models.CharField(_("协议书编号/扫描件"), max_length=100, blank=True)
    # Place of signing.
    place_type = models.CharField(
        _("签约地点"), max_length=30, choices=SigningPlace.choices, default=SigningPlace.INSTITUTION
    )
    functional_community = models.ForeignKey(
        FunctionalCommunity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
        verbose_name=_("功能社区"),
    )
    place_institution = models.ForeignKey(
        Institution,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("养老机构"),
    )
    place_note = models.CharField(_("地点说明"), max_length=200, blank=True)
    # Fee per period, yuan: total = insurance + public_health + resident + waived.
    fee_total = models.DecimalField(_("签约服务费"), max_digits=9, decimal_places=2, default=0)
    fee_insurance = models.DecimalField(_("医保基金支付"), max_digits=9, decimal_places=2, default=0)
    fee_public_health = models.DecimalField(_("公共卫生经费支付"), max_digits=9, decimal_places=2, default=0)
    fee_resident = models.DecimalField(_("个人支付"), max_digits=9, decimal_places=2, default=0)
    fee_waived = models.DecimalField(_("减免金额"), max_digits=9, decimal_places=2, default=0)
    waiver_reason = models.CharField(_("减免原因"), max_length=20, choices=WaiverReason.choices, blank=True)
    waiver_note = models.CharField(_("减免说明"), max_length=200, blank=True)
    # Early termination.
    terminated_on = models.DateField(_("解约日期"), null=True, blank=True)
    termination_reason = models.CharField(_("解约原因"), max_length=20, choices=TerminationReason.choices, blank=True)
    termination_note = models.CharField(_("解约说明"), max_length=300, blank=True)
    terminated_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    # Through the resident (the rule of ``Resident.visible_to``): staff with a join on the resident's
    # managing institution, which keeps the contract indexes usable at a million residents.
    scope_paths = {"institution": "resident__institution", "resident": "resident", "deleted": "resident__is_deleted"}
    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("签约协议")
        verbose_name_plural = _("签约协议")
        ordering = ["-start_date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="contract_end_after_start"),
            models.UniqueConstraint(
                fields=["resident"], condition=Q(status="active"), name="contract_one_active_per_resident"
            ),
            models.UniqueConstraint(
                fields=["resident"], condition=Q(status="pending"), name="contract_one_pending_per_resident"
            ),
            models.UniqueConstraint(
                fields=["renewal_of"], condition=Q(renewal_of__isnull=False), name="contract_renewed_once"
            ),
        ]
        indexes = [
            models.Index(fields=["resident", "start_date"]),
            models.Index(fields=["team", "status", "end_date"]),
            models.Index(fields=["doctor", "status"]),
            models.Index(fields=["institution", "status"]),
            models.Index(fields=["status", "end_date"]),
            models.Index(fields=["start_date", "end_date"]),
        ]

    def __str__(self) -> str:
        return self.number

    def in_force_on(self, day: date) -> bool:
        return self.start_date <= day <= self.end_date and (self.terminated_on is None or day < self.terminated_on)

    def status_on(self, day: date) -> str:
        """What the status job would store on ``day`` (see ``ContractQuerySet.with_effective_status``)."""
        if self.status == ContractStatus.TERMINATED or (self.terminated_on is not None and self.terminated_on <= day):
            return ContractStatus.TERMINATED
        if day < self.start_date:
            return ContractStatus.PENDING
        if day > self.end_date:
            renewed = self.valid_renewals().exists()
            return ContractStatus.RENEWED if renewed else ContractStatus.EXPIRED
        return ContractStatus.ACTIVE

    def valid_renewals(self):
        """Renewals of this contract, except one terminated before it began (void)."""
        return self.renewals.exclude(status=ContractStatus.TERMINATED, terminated_on__lte=models.F("start_date"))

    @property
    def effective_status_label(self) -> str:
        status = getattr(self, "effective_status", None) or self.status_on(timezone.localdate())
        return ContractStatus(status).label

    @property
    def last_day(self) -> date:
        """The last day the contract is (or was) in force."""
        if self.terminated_on is not None and self.terminated_on <= self.end_date:
            return self.terminated_on - timedelta(days=1)
        return self.end_date

    @property
    def team_switched(self) -> bool:
        """A renewal with another team (期满改签)."""
        return self.renewal_of_id is not None and self.renewal_of.team_id != self.team_id


class ContractPackage(models.Model):
    """A package of a contract with its fee as it was at signing."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="contract_packages")
    package = models.ForeignKey(ServicePackage, on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(_("签约服务费"), max_digits=8, decimal_places=2)
    insurance_share = models.DecimalField(_("医保基金支付"), max_digits=8, decimal_places=2)
    public_health_share = models.DecimalField(_("公共卫生经费支付"), max_digits=8, decimal_places=2)
    resident_share = models.DecimalField(_("个人支付"), max_digits=8, decimal_places=2)

    class Meta:
        verbose_name = _("签约服务包")
        verbose_name_plural = _("签约服务包")
        constraints = [models.UniqueConstraint(fields=["contract", "package"], name="contract_package_unique")]

    def __str__(self) -> str:
        return f"{self.contract_id}:{self.package_id}"


class ContractItem(models.Model):
    """A promised service item of a contract (snapshot of the package item chosen at signing)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="items")
    package = models.ForeignKey(ServicePackage, on_delete=models.PROTECT, related_name="+")
    service_code = models.CharField(_("服务项目"), max_length=30, choices=ServiceChoices())
    quantity = models.PositiveSmallIntegerField(_("约定次数"))
    delivered = models.PositiveSmallIntegerField(_("已完成次数"), default=0)
    next_due_on = models.DateField(_("下次应完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("签约服务项目")
        verbose_name_plural = _("签约服务项目")
        ordering = ["contract_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "package", "service_code"], name="contract_item_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="contract_item_quantity_positive"),
        ]
        indexes = [models.Index(fields=["next_due_on", "contract"])]

    def __str__(self) -> str:
        return f"{self.get_service_code_display()} {self.delivered}/{self.quantity}"


class ServiceDelivery(models.Model):
    """A delivered service counted toward a contract item (履约记录).

    ``source`` names where it was recorded (``"contracts.manual"`` for the contract page, e.g.
    ``"hypertension.visit"`` for a programme) and ``source_id`` the row there; (source, source_id,
    service_code) is unique when source_id is given, which makes automatic recording idempotent.
    """

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="deliveries")
    item = models.ForeignKey(ContractItem, on_delete=models.CASCADE, related_name="deliveries")
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="service_deliveries")
    service_code = models.CharField(_("服务项目"), max_length=30, choices=ServiceChoices())
    delivered_on = models.DateField(_("服务日期"))
    source = models.CharField(_("来源"), max_length=40)
    source_id = models.BigIntegerField(_("来源记录"), null=True, blank=True)
    recorded_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("履约记录")
        verbose_name_plural = _("履约记录")
        ordering = ["-delivered_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id", "service_code"],
                condition=Q(source_id__isnull=False),
                name="delivery_source_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["item", "delivered_on"]),
            models.Index(fields=["resident", "delivered_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.service_code} {self.delivered_on}"


class SurveyMethod(models.TextChoices):
    IN_PERSON = "in_person", _("当面调查")
    PHONE = "phone", _("电话回访")
    PORTAL = "portal", _("居民自评（线上）")


SCORE_CHOICES = [
    (1, _("非常不满意")),
    (2, _("不满意")),
    (3, _("一般")),
    (4, _("满意")),
    (5, _("非常满意")),
]

#: The survey's questions: field -> Chinese question (message id).
SURVEY_QUESTIONS = {
    "overall_score": _("总体上，您对家庭医生签约服务是否满意？"),
    "attitude_score": _("家庭医生团队的服务态度"),
    "access_score": _("联系签约医生是否方便"),
    "skill_score": _("医生的诊疗水平"),
    "fulfilment_score": _("约定的服务是否落实"),
}


class SatisfactionSurvey(VersionedModel):
    """满意度调查: a short survey per contract, entered by staff now (resident portal later)."""

    contract = models.OneToOneField(Contract, on_delete=models.CASCADE, related_name="satisfaction")
    surveyed_on = models.DateField(_("调查日期"))
    method = models.CharField(_("调查方式"), max_length=20, choices=SurveyMethod.choices)
    respondent_relation = models.CharField(
        _("受访者"), max_length=20, choices=Relationship.choices, blank=True, help_text=_("本人作答时为空。")
    )
    overall_score = models.PositiveSmallIntegerField(SURVEY_QUESTIONS["overall_score"], choices=SCORE_CHOICES)
    attitude_score = models.PositiveSmallIntegerField(SURVEY_QUESTIONS["attitude_score"], choices=SCORE_CHOICES)
    access_score = models.PositiveSmallIntegerField(SURVEY_QUESTIONS["access_score"], choices=SCORE_CHOICES)
    skill_score = models.PositiveSmallIntegerField(SURVEY_QUESTIONS["skill_score"], choices=SCORE_CHOICES)
    fulfilment_score = models.PositiveSmallIntegerField(SURVEY_QUESTIONS["fulfilment_score"], choices=SCORE_CHOICES)
    would_renew = models.BooleanField(_("愿意续约"), null=True, blank=True)
    comments = models.TextField(_("意见建议"), blank=True)
    entered_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("满意度调查")
        verbose_name_plural = _("满意度调查")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    overall_score__gte=1,
                    overall_score__lte=5,
                    attitude_score__gte=1,
                    attitude_score__lte=5,
                    access_score__gte=1,
                    access_score__lte=5,
                    skill_score__gte=1,
                    skill_score__lte=5,
                    fulfilment_score__gte=1,
                    fulfilment_score__lte=5,
                ),
                name="survey_scores_1_to_5",
            ),
        ]
        indexes = [models.Index(fields=["surveyed_on"])]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.surveyed_on}"
