"""A small hand-built district for the indicator tests, on top of the shared `district` fixture.

Every number the indicator tests assert is counted by hand from the list below. The engine runs
with ``TODAY`` = 2026-01-15, so the 2025 periods are complete (evaluated on their last day).

Residents (population, health record, programme and contract facts):

- R1 resident_a 张三, centre A, born 1955-03-09 (70). Record 2020-01-01, electronic, open. HT enrolled
  2019-06-01 (team A, doctor A); face-to-face follow-ups Feb/May/Aug/Nov 10 -> standardised; last
  145/85 at 70 -> controlled (elderly target 150/90); active plan; health check 2025-04-01. Contract
  team A for 2025 (ht_follow_up x4, all delivered); survey 2025-12-01 score 4.
- R2 钱二, centre A, born 1960-07-15 (65 on 12-31, 64 on 06-30). Record 2021-03-01, electronic. DM
  enrolled 2020-02-01 (team A, doctor A); follow-ups 03-01 (7.5), 06-01 (6.8), 09-01 by phone (6.5),
  12-01 (7.2) -> 3 face to face: not standardised; last 7.2: not controlled; no plan. Contract team A
  2024-07-01..2025-06-30 renewed by 2025-07-01..2026-06-30 (signed 2025-06-20).
- R3 孙三, centre A, born 1990-01-01. Record 2022-05-01, electronic. Problem I10 diagnosed 2025-03-01,
  not enrolled (registered, not managed); no contract.
- R4 周四, centre A, born 2021-05-01 (child). Paper record 2021-06-01. Contract team A
  2025-03-01..2026-02-28 (annual_check x1, none due by 12-31).
- R5 吴五, centre A, born 1950-01-01, died 2025-07-15. Record 2015-01-01, electronic.
- R6 resident_a1 李四, station A1, born 1970-07-01. No record. Contract team S for 2025, terminated
  2025-09-01.
- R7 郑七, station A1, born 1945-02-01 (80), disabled. Record 2018-01-01, electronic, open. Problem I10
  2025-06-20; HT enrolled 2025-07-01 (team S, station doctor); follow-ups 07-01, 09-15, 11-30 ->
  Jul-Dec needs ceil(4 x 184/365) = 3: standardised; last 160/95: not controlled; plans superseded
  07-01 and active 10-01. Contract team S 2025-07-01..2026-06-30 with a personalised package
  (elderly_check x1 delivered 09-15, ht_follow_up x4 with 3 delivered).
- R8 resident_b 王五, centre B, born 1980-01-20, poverty lifted. Record 2023-01-01, electronic, open.
  Contract team B for 2025 (consultation x12, 5 delivered -> behind); survey 2025-11-01 score 3.
- R9 王九, centre B, born 1985-05-05, moved out. Record 2020-01-01. Contract team B for 2025.
- R10 冯十, centre B, born 1995-01-01, pregnant. Record 2024-03-01, electronic. Contract team B
  2024-10-01..2025-09-30, not renewed; survey 2025-06-01 score 5.

Key-population tags (residents.services.key_population_refresh) are dated 2020-01-01, except R3
hypertension (2025-03-01), R7 hypertension (2025-06-20) and R10 maternal (2025-01-10).
Measurements: R1 2025-04-01 (health check) and 2025-10-01; R8 2024-11-20; R10 2025-02-01 (record use).
GPs: doctor_a (centre A), station_doctor (station A1), doctor_b (centre B), no employment dates; 林医生
(centre B) joined 2025-07-01; 何医生 (station A1, since 2016-03-01) left 2025-11-01; 马医生 (centre A) is no
longer in post and has no leaving date recorded (counted in no period).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from jiayi.org.models import Role, TeamRole
from tests import factories as f

TODAY = date(2026, 1, 15)
TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class Small:
    d: object  # the shared District
    r: dict  # "R1".."R10" -> Resident
    team_s: object
    contracts: dict
    enrolments: dict


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def _record(resident, established: date | None, *, electronic: bool = True, open_: bool = False) -> None:
    from jiayi.residents.models import HealthRecord

    if established is None:
        HealthRecord.objects.filter(resident=resident).delete()
        return
    HealthRecord.objects.filter(resident=resident).update(
        established_on=established, electronic=electronic, open_to_resident=open_
    )


def _package():
    from jiayi.contracts.models import ServicePackage

    return ServicePackage.objects.create(
        code="basic-test", name="基础包", kind="basic", price=Decimal("120"), insurance_share=Decimal("70"),
        public_health_share=Decimal("50"), resident_share=Decimal("0"),
    )


def _contract(number, resident, team, doctor, start, end, *, signed: date, renewal_of=None, terminated=None,
              status="active", items=(), package=None):
    from jiayi.contracts.models import Contract, ContractItem, ContractPackage

    c = Contract.objects.create(
        number=number, resident=resident, team=team, doctor=doctor, institution=team.institution, status=status,
        start_date=start, end_date=end, renewal_of=renewal_of, signed_at=_at(signed), consent_method="handwritten",
        consent_signatory=resident.name, terminated_on=terminated,
        termination_reason="resident_request" if terminated else "",
    )
    out = {}
    if package is not None:
        ContractPackage.objects.create(contract=c, package=package, price=package.price,
                                       insurance_share=package.insurance_share,
                                       public_health_share=package.public_health_share,
                                       resident_share=package.resident_share)
        for code, qty in items:
            out[code] = ContractItem.objects.create(contract=c, package=package, service_code=code, quantity=qty)
    return c, out


def _deliver(contract, item, day: date):
    from jiayi.contracts.models import ServiceDelivery

    ServiceDelivery.objects.create(contract=contract, item=item, resident=contract.resident,
                                   service_code=item.service_code, delivered_on=day, source="contracts.manual")


def _enrol(resident, programme, start, team, doctor, inst):
    from jiayi.programmes.models import Enrolment

    return Enrolment.objects.create(resident=resident, programme=programme, ruleset="nbphs-2017", start_date=start,
                                    institution=inst, team=team, doctor=doctor)


def _visit(enrolment, day, *, sbp=None, dbp=None, fpg=None, face_to_face=True):
    """A follow-up as the programme stores it, with ``at_target`` from the programme's own rule
    (chronic_rules.is_controlled under the enrolment's rule set)."""
    from jiayi.core import rulesets
    from jiayi.programmes import chronic_rules
    from jiayi.programmes.models import Visit

    resident = enrolment.resident
    at_target = chronic_rules.is_controlled(
        chronic_rules.VisitFacts(visit_date=day, sbp=sbp, dbp=dbp, fasting_glucose=fpg),
        chronic_rules.PatientFacts(birth_date=resident.birth_date, sex=resident.sex),
        rulesets.get(enrolment.programme, enrolment.ruleset),
    )
    return Visit.objects.create(at_target=at_target,
        enrolment=enrolment, resident=enrolment.resident, programme=enrolment.programme, ruleset="nbphs-2017",
        visit_date=day, visit_type="follow_up", mode="clinic" if face_to_face else "phone",
        face_to_face=face_to_face, sbp=sbp, dbp=dbp, fasting_glucose=None if fpg is None else Decimal(str(fpg)),
        institution=enrolment.institution, team=enrolment.team, doctor=enrolment.doctor,
    )


def _plan(enrolment, start, status):
    from jiayi.programmes.models import MedicationPlan

    return MedicationPlan.objects.create(resident=enrolment.resident, enrolment=enrolment,
                                         programme=enrolment.programme, start_date=start, status=status,
                                         institution=enrolment.institution)


def _measure(resident, day, source="manual", **values):
    from jiayi.residents.models import Measurement

    Measurement.objects.create(resident=resident, measured_at=_at(day), source=source, **values)


def _problem(resident, icd10, day):
    from jiayi.residents.models import Problem

    Problem.objects.create(resident=resident, icd10=icd10, name=icd10, diagnosed_on=day)


def _gp(name, inst, *, since: date | None = None, until: date | None = None, active: bool | None = None):
    """A GP without an account; in post unless a leaving date is given (or ``active`` says otherwise)."""
    from jiayi.org.models import Staff, StaffCategory

    gp = Staff(name=name, sex="M", category=StaffCategory.GP, role=Role.FAMILY_DOCTOR, institution=inst,
               employed_from=since, employed_until=until, active=until is None if active is None else active)
    gp.full_clean()
    gp.save()
    return gp


@pytest.fixture
def small(district) -> Small:
    from jiayi.contracts.models import ContractPackage, SatisfactionSurvey, ServicePackage

    d = district
    team_s = f.team("永嘉1队", d.station_a1, [(d.station_doctor, TeamRole.LEADER)])
    r = {"R1": d.resident_a, "R6": d.resident_a1, "R8": d.resident_b}
    r["R2"] = f.resident(inst=d.centre_a, area_=d.community_a, name="钱二", sex="F", birth=date(1960, 7, 15))
    r["R3"] = f.resident(inst=d.centre_a, area_=d.community_a, name="孙三", sex="M", birth=date(1990, 1, 1))
    r["R4"] = f.resident(inst=d.centre_a, area_=d.community_a, name="周四", sex="F", birth=date(2021, 5, 1))
    r["R5"] = f.resident(inst=d.centre_a, area_=d.community_a, name="吴五", sex="M", birth=date(1950, 1, 1),
                         residence_status="deceased", death_date=date(2025, 7, 15))
    r["R7"] = f.resident(inst=d.station_a1, area_=d.community_a2, name="郑七", sex="M", birth=date(1945, 2, 1),
                         disabled=True)
    r["R9"] = f.resident(inst=d.centre_b, area_=d.community_b, name="王九", sex="F", birth=date(1985, 5, 5),
                         residence_status="moved_out")
    r["R10"] = f.resident(inst=d.centre_b, area_=d.community_b, name="冯十", sex="F", birth=date(1995, 1, 1),
                          pregnant=True)
    from jiayi.residents.models import Resident

    Resident.objects.filter(pk=r["R8"].pk).update(poverty_lifted=True)
    _gp("林医生", d.centre_b, since=date(2025, 7, 1))
    _gp("何医生", d.station_a1, since=date(2016, 3, 1), until=date(2025, 11, 1))
    _gp("马医生", d.centre_a, active=False)
    r["R8"].refresh_from_db()

    _record(r["R1"], date(2020, 1, 1), open_=True)
    _record(r["R2"], date(2021, 3, 1))
    _record(r["R3"], date(2022, 5, 1))
    _record(r["R4"], date(2021, 6, 1), electronic=False)
    _record(r["R5"], date(2015, 1, 1))
    _record(r["R6"], None)
    _record(r["R7"], date(2018, 1, 1), open_=True)
    _record(r["R8"], date(2023, 1, 1), open_=True)
    _record(r["R9"], date(2020, 1, 1))
    _record(r["R10"], date(2024, 3, 1))

    _problem(r["R1"], "I10", date(2019, 5, 1))
    _problem(r["R2"], "E11.9", date(2020, 1, 10))
    _problem(r["R3"], "I10", date(2025, 3, 1))
    _problem(r["R7"], "I10", date(2025, 6, 20))

    _measure(r["R1"], date(2025, 4, 1), "health_check", sbp=138, dbp=84)
    _measure(r["R1"], date(2025, 10, 1), sbp=142, dbp=86)
    _measure(r["R8"], date(2024, 11, 20), sbp=120, dbp=80)
    _measure(r["R10"], date(2025, 2, 1), sbp=110, dbp=70)

    pkg = _package()
    ta, tb = d.team_a, d.team_b
    c = {}
    c["R1"], items1 = _contract("C1", r["R1"], ta, d.doctor_a, date(2025, 1, 1), date(2025, 12, 31),
                                signed=date(2024, 12, 20), items=[("ht_follow_up", 4)], package=pkg)
    c["R2a"], _i = _contract("C2A", r["R2"], ta, d.doctor_a, date(2024, 7, 1), date(2025, 6, 30),
                             signed=date(2024, 6, 25), status="renewed")
    c["R2b"], _i = _contract("C2B", r["R2"], ta, d.doctor_a, date(2025, 7, 1), date(2026, 6, 30),
                             signed=date(2025, 6, 20), renewal_of=c["R2a"])
    c["R4"], _i = _contract("C4", r["R4"], ta, d.doctor_a, date(2025, 3, 1), date(2026, 2, 28),
                            signed=date(2025, 2, 25), items=[("annual_check", 1)], package=pkg)
    c["R6"], _i = _contract("C6", r["R6"], team_s, d.station_doctor, date(2025, 1, 1), date(2025, 12, 31),
                            signed=date(2024, 12, 28), terminated=date(2025, 9, 1), status="terminated")
    c["R7"], items7 = _contract("C7", r["R7"], team_s, d.station_doctor, date(2025, 7, 1), date(2026, 6, 30),
                                signed=date(2025, 6, 28), items=[("elderly_check", 1), ("ht_follow_up", 4)],
                                package=pkg)
    personal = ServicePackage.objects.create(
        code="elderly-plus", name="老年人健康管理包", kind="personalised", price=Decimal("200"),
        insurance_share=Decimal("100"), public_health_share=Decimal("50"), resident_share=Decimal("50"),
    )
    ContractPackage.objects.create(contract=c["R7"], package=personal, price=personal.price,
                                   insurance_share=personal.insurance_share,
                                   public_health_share=personal.public_health_share,
                                   resident_share=personal.resident_share)
    c["R8"], items8 = _contract("C8", r["R8"], tb, d.doctor_b, date(2025, 1, 1), date(2025, 12, 31),
                                signed=date(2024, 12, 30), items=[("consultation", 12)], package=pkg)
    c["R9"], _i = _contract("C9", r["R9"], tb, d.doctor_b, date(2025, 1, 1), date(2025, 12, 31),
                            signed=date(2024, 12, 30))
    c["R10"], _i = _contract("C10", r["R10"], tb, d.doctor_b, date(2024, 10, 1), date(2025, 9, 30),
                             signed=date(2024, 9, 20), status="expired")
    for day in (date(2025, 2, 10), date(2025, 5, 10), date(2025, 8, 10), date(2025, 11, 10)):
        _deliver(c["R1"], items1["ht_follow_up"], day)
    _deliver(c["R7"], items7["elderly_check"], date(2025, 9, 15))
    for day in (date(2025, 7, 1), date(2025, 9, 15), date(2025, 11, 30)):
        _deliver(c["R7"], items7["ht_follow_up"], day)
    for month in range(1, 6):
        _deliver(c["R8"], items8["consultation"], date(2025, month, 5))
    for contract, day, score in ((c["R1"], date(2025, 12, 1), 4), (c["R8"], date(2025, 11, 1), 3),
                                 (c["R10"], date(2025, 6, 1), 5)):
        SatisfactionSurvey.objects.create(contract=contract, surveyed_on=day, method="phone", overall_score=score,
                                          attitude_score=score, access_score=score, skill_score=score,
                                          fulfilment_score=score)

    e = {}
    e["R1"] = _enrol(r["R1"], "hypertension", date(2019, 6, 1), ta, d.doctor_a, d.centre_a)
    for day, sbp, dbp in ((date(2025, 2, 10), 150, 92), (date(2025, 5, 10), 142, 88), (date(2025, 8, 10), 138, 86),
                          (date(2025, 11, 10), 145, 85)):
        _visit(e["R1"], day, sbp=sbp, dbp=dbp)
    _plan(e["R1"], date(2019, 6, 1), "active")
    e["R2"] = _enrol(r["R2"], "diabetes", date(2020, 2, 1), ta, d.doctor_a, d.centre_a)
    _visit(e["R2"], date(2025, 3, 1), fpg=7.5)
    _visit(e["R2"], date(2025, 6, 1), fpg=6.8)
    _visit(e["R2"], date(2025, 9, 1), fpg=6.5, face_to_face=False)
    _visit(e["R2"], date(2025, 12, 1), fpg=7.2)
    e["R7"] = _enrol(r["R7"], "hypertension", date(2025, 7, 1), team_s, d.station_doctor, d.station_a1)
    for day, sbp, dbp in ((date(2025, 7, 1), 158, 96), (date(2025, 9, 15), 150, 88), (date(2025, 11, 30), 160, 95)):
        _visit(e["R7"], day, sbp=sbp, dbp=dbp)
    _plan(e["R7"], date(2025, 7, 1), "superseded")
    _plan(e["R7"], date(2025, 10, 1), "active")
    # Key-population tags as the residents app keeps them, recorded from the day membership began.
    from jiayi.residents.models import KeyPopulationTag
    from jiayi.residents.services import key_population_refresh

    for resident in r.values():
        resident.refresh_from_db()
        key_population_refresh(resident=resident, on=TODAY)
    KeyPopulationTag.objects.update(since=date(2020, 1, 1))
    for key, code, day in (("R3", "hypertension", date(2025, 3, 1)), ("R7", "hypertension", date(2025, 6, 20)),
                           ("R10", "maternal", date(2025, 1, 10))):
        KeyPopulationTag.objects.filter(resident=r[key], code=code).update(since=day)
    return Small(d, r, team_s, c, e)


__all__ = ["TODAY", "Role", "Small"]


COMPUTED_PERIODS = ["2025", "2025-06", "2025-11", "2025-12"]


@pytest.fixture
def computed(small) -> Small:
    """The hand-built district with its values stored (as a nightly run would leave them)."""
    from jiayi.indicators.engine import compute

    compute(backend="db", periods=COMPUTED_PERIODS, today=TODAY)
    return small
