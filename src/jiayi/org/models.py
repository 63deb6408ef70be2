"""Places and people of a district: administrative areas, institutions, staff and family-doctor teams."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiayi.core.scoping import ScopedQuerySet


class AreaLevel(models.IntegerChoices):
    PROVINCE = 1, _("省")
    CITY = 2, _("市")
    COUNTY = 3, _("区/县")
    STREET = 4, _("街道/乡镇")
    COMMUNITY = 5, _("社区/村")


class Area(models.Model):
    """An administrative division (GB/T 2260 down to county, GB/T 10114 below).

    `code` is the full statistical code: 6 digits for province/city/county (e.g. 310104),
    9 for a street/town (county + 3), 12 for a community or village (street + 3).
    """

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("级别"), choices=AreaLevel.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def county_code(self) -> str:
        return self.code[:6]

    @property
    def local_code(self) -> str:
        """The last 3 digits of a street or community code."""
        return self.code[-3:]


class InstitutionType(models.TextChoices):
    HEALTH_COMMISSION = "commission", _("卫生健康委员会")
    CENTRE = "centre", _("社区卫生服务中心")
    TOWNSHIP_CENTRE = "township_centre", _("乡镇卫生院")
    STATION = "station", _("社区卫生服务站")
    VILLAGE_CLINIC = "village_clinic", _("村卫生室")
    HOSPITAL = "hospital", _("医院")
    ELDERLY_CARE = "elderly_care", _("养老机构")
    DAY_CARE = "day_care", _("日间照料中心")


PRIMARY_CARE_CENTRE_TYPES = (InstitutionType.CENTRE, InstitutionType.TOWNSHIP_CENTRE)
PRIMARY_CARE_POINT_TYPES = (InstitutionType.STATION, InstitutionType.VILLAGE_CLINIC)


@lru_cache(maxsize=1)
def institution_children() -> dict[int | None, list[int]]:
    """parent id -> child ids of the whole institution tree (hundreds of rows), cached per process;
    ``org.selectors.clear_org_cache`` clears it after org writes."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Institution.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    return children


def institution_subtree_ids(root_id: int) -> list[int]:
    children = institution_children()
    out, stack = [], [root_id]
    while stack:
        pk = stack.pop()
        out.append(pk)
        stack.extend(children.get(pk, ()))
    return out


class Institution(models.Model):
    """An institution; the tree is commission → centre (一中心带多站) → stations / village clinics."""

    scope_paths = {"institution": "pk"}

    code = models.CharField(_("机构代码"), max_length=32, unique=True)
    name = models.CharField(_("机构名称"), max_length=200)
    type = models.CharField(_("机构类型"), max_length=20, choices=InstitutionType.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="institutions", verbose_name=_("所在区划"))
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    address = models.CharField(_("地址"), max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("机构")
        verbose_name_plural = _("机构")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def subtree_ids(self) -> list[int]:
        return institution_subtree_ids(self.pk)

    @property
    def is_primary_care(self) -> bool:
        return self.type in (*PRIMARY_CARE_CENTRE_TYPES, *PRIMARY_CARE_POINT_TYPES)


class StaffCategory(models.TextChoices):
    GP = "gp", _("全科医生")
    CLINICIAN = "clinician", _("其他临床医生")
    TCM = "tcm", _("中医医生")
    NURSE = "nurse", _("护士")
    PUBLIC_HEALTH = "public_health", _("公共卫生医师")
    PHARMACIST = "pharmacist", _("药师")
    VILLAGE_DOCTOR = "village_doctor", _("乡村医生")
    ADMIN = "admin", _("管理人员")


class Role(models.TextChoices):
    """What a user may do and see (ARCHITECTURE.md principle 2)."""

    FAMILY_DOCTOR = "family_doctor", _("家庭医生")
    NURSE = "nurse", _("护士")
    PUBLIC_HEALTH = "public_health", _("公共卫生医师")
    CENTRE_MANAGER = "centre_manager", _("中心管理员")
    DISTRICT_ADMIN = "district_admin", _("区级管理员")
    REFERRAL_DESK = "referral_desk", _("医院转诊服务台")
    AUDITOR = "auditor", _("审计员")


CLINICAL_ROLES = (Role.FAMILY_DOCTOR, Role.NURSE, Role.PUBLIC_HEALTH, Role.CENTRE_MANAGER)


class Staff(models.Model):
    scope_paths = {"institution": "institution"}

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff"
    )
    name = models.CharField(_("姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=1, choices=[("M", _("男")), ("F", _("女"))])
    category = models.CharField(_("专业类别"), max_length=20, choices=StaffCategory.choices)
    role = models.CharField(_("系统角色"), max_length=20, choices=Role.choices)
    qualifications = models.CharField(_("资格/职称"), max_length=200, blank=True)
    practising_certificate = models.CharField(_("执业证书编号"), max_length=40, blank=True)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="staff")
    phone = models.CharField(_("电话"), max_length=20, blank=True)
    active = models.BooleanField(_("在岗"), default=True)
    # In post from employed_from to the day before employed_until (None: long before / still in post).
    # ``active`` says whether the person is in post now; the dates say when (indicators count GPs in
    # post on a past day from them: jiayi.indicators.facts.Facts.staff).
    employed_from = models.DateField(_("入职日期"), null=True, blank=True)
    employed_until = models.DateField(_("离职日期"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        indexes = [models.Index(fields=["institution", "category"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(employed_from__isnull=True) | Q(employed_until__isnull=True)
                | Q(employed_until__gte=models.F("employed_from")),
                name="staff_employed_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.employed_from and self.employed_until and self.employed_until < self.employed_from:
            raise ValidationError({"employed_until": _("离职日期不能早于入职日期。")})


class Team(models.Model):
    """A family-doctor team (家庭医生团队) based at a centre or station."""

    scope_paths = {"institution": "institution"}

    name = models.CharField(_("团队名称"), max_length=100)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="teams")
    active = models.BooleanField(_("有效"), default=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("家庭医生团队")
        verbose_name_plural = _("家庭医生团队")
        ordering = ["institution_id", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def leader(self) -> Staff | None:
        m = self.members.filter(role=TeamRole.LEADER).select_related("staff").first()
        return m.staff if m else None


class TeamRole(models.TextChoices):
    LEADER = "leader", _("团队长")
    DOCTOR = "doctor", _("家庭医生")
    NURSE = "nurse", _("护士")
    PUBLIC_HEALTH = "public_health", _("公卫医师")
    ASSISTANT = "assistant", _("助理")


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="team_memberships")
    role = models.CharField(_("团队角色"), max_length=20, choices=TeamRole.choices)

    class Meta:
        verbose_name = _("团队成员")
        verbose_name_plural = _("团队成员")
        constraints = [models.UniqueConstraint(fields=["team", "staff"], name="team_member_unique")]

    def __str__(self) -> str:
        return f"{self.team} · {self.staff} ({self.get_role_display()})"
