"""Residents, households, health records, measurements and key-population tags."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiayi.core.models import VersionedModel
from jiayi.core.scoping import ScopedQuerySet
from jiayi.org.models import Area, Institution, Staff


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MACAO = "hk_macao", _("港澳居民来往内地通行证")
    TAIWAN = "taiwan", _("台湾居民来往大陆通行证")
    BIRTH_CERT = "birth_cert", _("出生医学证明")


class ResidenceStatus(models.TextChoices):
    REGISTERED = "registered", _("常住（户籍）")
    NON_REGISTERED = "non_registered", _("常住（非户籍）")
    MOVED_OUT = "moved_out", _("已迁出")
    DECEASED = "deceased", _("已死亡")


RESIDENT_POPULATION_STATUSES = (ResidenceStatus.REGISTERED, ResidenceStatus.NON_REGISTERED)


class Relationship(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙子女")
    GRANDPARENT = "grandparent", _("祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    CHILD_IN_LAW = "child_in_law", _("媳婿")
    OTHER = "other", _("其他")


class ResidentQuerySet(ScopedQuerySet):
    def in_resident_population(self) -> ResidentQuerySet:
        return self.filter(residence_status__in=RESIDENT_POPULATION_STATUSES)


class Household(VersionedModel):
    """A household (户); members point here with their relationship to the head."""

    # Under team scope a household is seen through a member the user may see.
    scope_paths = {"institution": "institution", "resident": "members"}

    number = models.CharField(_("户编号"), max_length=30, unique=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="households", verbose_name=_("所在社区"))
    address = models.CharField(_("家庭住址"), max_length=300)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="households")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("家庭")
        verbose_name_plural = _("家庭")

    def __str__(self) -> str:
        return self.number

    @property
    def head(self):
        return self.members.filter(relation_to_head=Relationship.HEAD).first()


class Resident(VersionedModel):
    scope_paths = {"institution": "institution", "resident": "", "user": "user", "deleted": "is_deleted"}

    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    id_type = models.CharField(_("证件类型"), max_length=20, choices=IdType.choices, default=IdType.RESIDENT_ID)
    id_number = models.CharField(_("证件号码"), max_length=30)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True, db_index=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="residents", verbose_name=_("现住社区"))
    address = models.CharField(_("现住址"), max_length=300, blank=True)
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members", verbose_name=_("家庭")
    )
    relation_to_head = models.CharField(
        _("与户主关系"), max_length=20, choices=Relationship.choices, blank=True
    )
    residence_status = models.CharField(
        _("居住状态"), max_length=20, choices=ResidenceStatus.choices, default=ResidenceStatus.REGISTERED
    )
    death_date = models.DateField(_("死亡日期"), null=True, blank=True)
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="residents", verbose_name=_("管理机构")
    )
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True, default="汉族")
    # Recorded key-population facts the record cannot derive (RULES.md §6).
    disabled = models.BooleanField(_("残疾人"), default=False)
    poverty_lifted = models.BooleanField(_("脱贫人口"), default=False)
    special_fp_family = models.BooleanField(_("计划生育特殊家庭成员"), default=False)
    pregnant = models.BooleanField(_("孕产妇"), default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="resident"
    )
    is_deleted = models.BooleanField(default=False)

    objects = ResidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number"], name="resident_id_number_unique"),
        ]
        indexes = [
            models.Index(fields=["institution", "birth_date"]),
            models.Index(fields=["household"]),
        ]

    def __str__(self) -> str:
        return self.name

    def age_on(self, on: date) -> int:
        years = on.year - self.birth_date.year
        if (on.month, on.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    @property
    def age(self) -> int:
        return self.age_on(date.today())

    @property
    def masked_id_number(self) -> str:
        from jiayi.core.ids import mask_id_number

        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        from jiayi.core.ids import mask_phone

        return mask_phone(self.phone)


class RecordStatus(models.TextChoices):
    ACTIVE = "active", _("在管")
    INACTIVE = "inactive", _("暂停")
    CLOSED = "closed", _("注销")


class HealthRecord(VersionedModel):
    """居民健康档案 with its personal basic information (个人基本信息表)."""

    scope_paths = {"institution": "resident__institution", "resident": "resident", "deleted": "resident__is_deleted"}

    resident = models.OneToOneField(Resident, on_delete=models.PROTECT, related_name="health_record")
    record_number = models.CharField(_("档案编号"), max_length=17, unique=True)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+", verbose_name=_("建档机构"))
    created_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    established_on = models.DateField(_("建档日期"))
    electronic = models.BooleanField(_("电子档案"), default=True)
    status = models.CharField(_("档案状态"), max_length=10, choices=RecordStatus.choices, default=RecordStatus.ACTIVE)
    open_to_resident = models.BooleanField(_("向居民开放"), default=False)
    blood_type = models.CharField(_("血型"), max_length=10, blank=True)
    rh_negative = models.BooleanField(_("Rh阴性"), null=True, blank=True)
    allergies = models.JSONField(_("药物过敏史"), default=list, blank=True)
    exposures = models.JSONField(_("暴露史"), default=list, blank=True)
    family_history = models.JSONField(_("家族史"), default=dict, blank=True)
    disabilities = models.JSONField(_("残疾情况"), default=list, blank=True)
    living_conditions = models.JSONField(_("生活环境"), default=dict, blank=True)
    insurance = models.JSONField(_("医疗费用支付方式"), default=list, blank=True)
    occupation = models.CharField(_("职业"), max_length=50, blank=True)
    education = models.CharField(_("文化程度"), max_length=30, blank=True)
    marital_status = models.CharField(_("婚姻状况"), max_length=20, blank=True)
    last_activity_on = models.DateField(_("最近动态记录日期"), null=True, blank=True, db_index=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("健康档案")
        verbose_name_plural = _("健康档案")

    def __str__(self) -> str:
        return self.record_number


class RecordSerialCounter(models.Model):
    """Next 5-digit serial per community (12-digit prefix); incremented inside the creating transaction."""

    prefix = models.CharField(max_length=12, unique=True)
    last_serial = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}:{self.last_serial}"


class ProblemKind(models.TextChoices):
    DISEASE = "disease", _("疾病")
    SURGERY = "surgery", _("手术")
    TRAUMA = "trauma", _("外伤")
    TRANSFUSION = "transfusion", _("输血")


class ProblemQuerySet(models.QuerySet):
    """Read through the resident (``resident.problems`` after ``selectors.resident_get``: scoped)."""

    def active(self):
        """Not resolved: what the key-population tags and the programmes read."""
        return self.filter(resolved_on__isnull=True)


class ProblemManager(models.Manager.from_queryset(ProblemQuerySet)):  # type: ignore[misc]
    """Hides problems removed as entered in error from every reader (``resident.problems`` too);
    ``Problem.all_objects`` still sees them (history, audit)."""

    def get_queryset(self):
        return super().get_queryset().filter(removed_at__isnull=True)


class Problem(models.Model):
    """既往史: a diagnosis (ICD-10) or event with its date.

    Written by ``residents.services`` only (``problem_add`` / ``_update`` / ``_resolve`` / ``_remove``):
    ``version`` detects concurrent edits; removal is soft (``removed_at`` with its reason). New columns
    have database defaults so bulk loaders that name only the original columns keep working."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="problems")
    kind = models.CharField(_("类别"), max_length=12, choices=ProblemKind.choices, default=ProblemKind.DISEASE)
    icd10 = models.CharField(_("ICD-10编码"), max_length=10, blank=True, db_index=True)
    name = models.CharField(_("名称"), max_length=100)
    diagnosed_on = models.DateField(_("确诊日期"), null=True, blank=True)
    resolved_on = models.DateField(_("痊愈/终止日期"), null=True, blank=True)
    resolved_reason = models.CharField(_("终止原因"), max_length=200, blank=True, default="", db_default="")
    note = models.CharField(_("备注"), max_length=300, blank=True, default="", db_default="")
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(_("版本"), default=1, db_default=1)
    updated_at = models.DateTimeField(_("更新时间"), null=True, blank=True)
    removed_at = models.DateTimeField(_("删除时间"), null=True, blank=True)
    removed_reason = models.CharField(_("删除原因"), max_length=200, blank=True, default="", db_default="")
    removed_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ProblemManager()
    all_objects = ProblemQuerySet.as_manager()

    class Meta:
        verbose_name = _("既往史")
        verbose_name_plural = _("既往史")
        ordering = ["diagnosed_on"]
        base_manager_name = "all_objects"

    def __str__(self) -> str:
        return f"{self.name} ({self.icd10})" if self.icd10 else self.name

    @property
    def category(self) -> str:
        """The 3-character ICD-10 category ('F20' for 'F20.0'); '' when uncoded."""
        return self.icd10[:3].upper()


class MeasurementSource(models.TextChoices):
    MANUAL = "manual", _("门诊测量")
    FOLLOW_UP = "follow_up", _("随访")
    HEALTH_CHECK = "health_check", _("健康体检")
    SCREENING = "screening", _("筛查")
    DEVICE = "device", _("设备上传")


class Measurement(models.Model):
    """One measuring session; each value is optional, units are fixed per field (see residents.rules)."""

    scope_paths = {"institution": "resident__institution", "resident": "resident", "deleted": "resident__is_deleted"}

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="measurements")
    measured_at = models.DateTimeField(_("测量时间"))
    source = models.CharField(_("来源"), max_length=20, choices=MeasurementSource.choices, default="manual")
    institution = models.ForeignKey(Institution, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sbp = models.PositiveSmallIntegerField(_("收缩压 mmHg"), null=True, blank=True)
    dbp = models.PositiveSmallIntegerField(_("舒张压 mmHg"), null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(_("心率 次/分"), null=True, blank=True)
    height = models.DecimalField(_("身高 cm"), max_digits=4, decimal_places=1, null=True, blank=True)
    weight = models.DecimalField(_("体重 kg"), max_digits=4, decimal_places=1, null=True, blank=True)
    waist = models.DecimalField(_("腰围 cm"), max_digits=4, decimal_places=1, null=True, blank=True)
    bmi = models.DecimalField(_("体质指数 kg/m²"), max_digits=4, decimal_places=1, null=True, blank=True)
    fasting_glucose = models.DecimalField(_("空腹血糖 mmol/L"), max_digits=4, decimal_places=1, null=True, blank=True)
    random_glucose = models.DecimalField(_("随机血糖 mmol/L"), max_digits=4, decimal_places=1, null=True, blank=True)
    hba1c = models.DecimalField(_("糖化血红蛋白 %"), max_digits=4, decimal_places=1, null=True, blank=True)
    total_cholesterol = models.DecimalField(_("总胆固醇 mmol/L"), max_digits=4, decimal_places=2, null=True, blank=True)
    triglycerides = models.DecimalField(_("甘油三酯 mmol/L"), max_digits=4, decimal_places=2, null=True, blank=True)
    ldl_c = models.DecimalField(_("低密度脂蛋白 mmol/L"), max_digits=4, decimal_places=2, null=True, blank=True)
    hdl_c = models.DecimalField(_("高密度脂蛋白 mmol/L"), max_digits=4, decimal_places=2, null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    VALUE_FIELDS = (
        "sbp", "dbp", "heart_rate", "height", "weight", "waist", "fasting_glucose", "random_glucose",
        "hba1c", "total_cholesterol", "triglycerides", "ldl_c", "hdl_c",
    )

    class Meta:
        verbose_name = _("体征测量")
        verbose_name_plural = _("体征测量")
        indexes = [models.Index(fields=["resident", "measured_at"])]
        ordering = ["-measured_at"]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.measured_at:%Y-%m-%d}"


class KeyPopulationTag(models.Model):
    """重点人群 membership, derived from the record or recorded; recomputed when the data change."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="key_population_tags")
    code = models.CharField(_("重点人群"), max_length=20)
    derived = models.BooleanField(_("系统推导"), default=True)
    since = models.DateField(_("起始日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("重点人群标签")
        verbose_name_plural = _("重点人群标签")
        constraints = [models.UniqueConstraint(fields=["resident", "code"], name="key_population_unique")]
        indexes = [models.Index(fields=["code", "resident"])]

    def __str__(self) -> str:
        return f"{self.resident_id}:{self.code}"
