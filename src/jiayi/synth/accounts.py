"""Demo login accounts for a generated district: one per role, with a known password.

The staff accounts are attached to generated staff of the district's first centre (the doctor leads
a team there, the nurse and public-health physician are in that team), so that the doctor sees the
centre's residents; the station account is a family doctor of that centre's first station (a station
reports monthly to the centre, which reviews before the district); the resident account belongs to a
hypertensive resident of that centre.
Running it again resets the passwords and moves the accounts to the current data.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils.translation import gettext as _

from jiayi.org.models import PRIMARY_CARE_POINT_TYPES, Institution, InstitutionType, Role, Staff, TeamRole
from jiayi.synth import reference

DEMO_PASSWORD = "Jiayi-demo-2025"


@dataclass(frozen=True)
class DemoAccount:
    role: str  # label
    username: str
    password: str
    person: str
    place: str


def _first_centre(county_code: str, using: str) -> Institution:
    centre = (
        Institution.objects.using(using)
        .filter(area__code__startswith=county_code, type__in=[InstitutionType.CENTRE, InstitutionType.TOWNSHIP_CENTRE])
        .order_by("code")
        .first()
    )
    if centre is None:
        raise LookupError(_("该区县还没有生成数据，请先运行 synth。"))
    return centre


def _default_district(using: str) -> str:
    from jiayi.synth.models import SynthRun

    run = SynthRun.objects.using(using).order_by("-started_at").first()
    if run is None:
        raise LookupError(_("还没有生成任何模拟区县，请先运行 synth。"))
    return run.district


@transaction.atomic
def create_demo_accounts(*, district: str | None = None, password: str = DEMO_PASSWORD,
                         using: str = DEFAULT_DB_ALIAS) -> list[DemoAccount]:
    from jiayi.org.selectors import clear_org_cache
    from jiayi.residents.models import Resident

    district = district or _default_district(using)
    d = reference.get_district(district)
    centre = _first_centre(d.county_code, using)
    team = centre.teams.order_by("id").first()
    staff_qs = Staff.objects.using(using).filter(active=True).select_related("institution")

    def member(role: str) -> Staff | None:
        if team is None:
            return None
        m = team.members.filter(role=role, staff__active=True).select_related("staff").order_by("id").first()
        return m.staff if m else None

    station = (
        Institution.objects.using(using)
        .filter(parent=centre, type__in=PRIMARY_CARE_POINT_TYPES)
        .order_by("code")
        .first()
    )
    commission = Institution.objects.using(using).get(code=f"{d.county_code}-WJW")
    hospital = Institution.objects.using(using).filter(code=f"{d.county_code}-H01").first()
    picks: list[tuple[str, str, Staff | None]] = [
        (_("家庭医生"), "demo_doctor", member(TeamRole.LEADER)),
        (_("护士"), "demo_nurse", member(TeamRole.NURSE)),
        (_("公共卫生医师"), "demo_ph", member(TeamRole.PUBLIC_HEALTH)),
        (_("服务站家庭医生"), "demo_station",
         staff_qs.filter(institution=station, role=Role.FAMILY_DOCTOR).order_by("id").first() if station else None),
        (_("中心管理员"), "demo_manager", staff_qs.filter(institution=centre, role=Role.CENTRE_MANAGER).first()),
        (_("区级管理员"), "demo_district", staff_qs.filter(institution=commission, role=Role.DISTRICT_ADMIN).first()),
        (_("医院转诊服务台"), "demo_referral",
         staff_qs.filter(institution=hospital, role=Role.REFERRAL_DESK).first() if hospital else None),
        (_("审计员"), "demo_auditor", staff_qs.filter(institution=commission, role=Role.AUDITOR).first()),
    ]
    User = get_user_model()
    out: list[DemoAccount] = []
    for label, username, staff in picks:
        if staff is None:
            continue
        user, _created = User.objects.using(using).get_or_create(username=username)
        user.set_password(password)
        user.is_active = True
        user.first_name = staff.name
        user.save(using=using)
        Staff.objects.using(using).filter(user=user).exclude(pk=staff.pk).update(user=None)
        Resident.objects.using(using).filter(user=user).update(user=None)
        staff.user = user
        staff.save(using=using, update_fields=["user"])
        out.append(DemoAccount(label, username, password, staff.name, staff.institution.name))

    resident = (
        Resident.objects.using(using)
        .filter(institution=centre, residence_status="registered", key_population_tags__code="hypertension",
                health_record__isnull=False)
        .order_by("id")
        .first()
        or Resident.objects.using(using).filter(institution__in=centre.subtree_ids()).order_by("id").first()
    )
    if resident is not None:
        user, _created = User.objects.using(using).get_or_create(username="demo_resident")
        user.set_password(password)
        user.is_active = True
        user.first_name = resident.name
        user.save(using=using)
        Staff.objects.using(using).filter(user=user).update(user=None)
        Resident.objects.using(using).filter(user=user).exclude(pk=resident.pk).update(user=None)
        Resident.objects.using(using).filter(pk=resident.pk).update(user=user)
        out.append(DemoAccount(_("居民"), "demo_resident", password, resident.name, centre.name))
    clear_org_cache()
    return out


def format_accounts(accounts: list[DemoAccount]) -> str:
    if not accounts:
        return _("没有可用的演示账号。")
    lines = [_("演示账号（登录 http://127.0.0.1:8000/login/）：")]
    width = max(len(a.username) for a in accounts)
    for a in accounts:
        lines.append(f"  {a.username.ljust(width)}  {_('密码')} {a.password}  {a.role} · {a.person} · {a.place}")
    return "\n".join(lines)
