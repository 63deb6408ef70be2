"""A generated district satisfies the invariants the application relies on."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from jiayi.core.ids import parse_record_number, validate_resident_id
from jiayi.org.models import Institution, InstitutionType, Staff, StaffCategory, Team, TeamRole
from jiayi.residents import rules
from jiayi.residents.models import (
    HealthRecord,
    Household,
    KeyPopulationTag,
    Measurement,
    Problem,
    RecordSerialCounter,
    Relationship,
    ResidenceStatus,
    Resident,
)
from jiayi.residents.services import _plausible_phone, health_record_create, key_population_refresh
from jiayi.synth import reference
from tests.synth.conftest import AS_OF, DISTRICT, RESIDENTS

pytestmark = pytest.mark.django_db

COUNTY = reference.get_district(DISTRICT).county_code


def district_residents():
    return Resident.objects.filter(area__code__startswith=COUNTY)


def test_it_generates_the_requested_number_of_residents(small_district):
    assert district_residents().count() == RESIDENTS
    assert small_district.counts["residents"] == RESIDENTS


def test_id_numbers_are_valid_unique_and_consistent(small_district):
    rows = list(district_residents().values_list("id_number", "sex", "birth_date", "id_type"))
    assert len({r[0] for r in rows}) == len(rows)
    for number, sex, birth, id_type in rows:
        assert id_type == "resident_id"
        info = validate_resident_id(number, sex=sex, birth_date=birth, today=AS_OF)
        assert info.area_code == COUNTY


def test_record_numbers_are_valid_unique_and_continue_the_counter(small_district):
    records = list(
        HealthRecord.objects.filter(resident__area__code__startswith=COUNTY)
        .values_list("record_number", "resident__area__code", "established_on", "resident__birth_date")
    )
    assert len({r[0] for r in records}) == len(records) > 0.8 * RESIDENTS
    last: dict[str, int] = {}
    for number, area_code, established, born in records:
        parsed = parse_record_number(number)
        assert number[:12] == area_code
        assert born <= established <= AS_OF
        last[area_code] = max(last.get(area_code, 0), parsed.serial)
    counters = dict(RecordSerialCounter.objects.filter(prefix__startswith=COUNTY).values_list("prefix", "last_serial"))
    assert counters == last


def test_a_record_created_later_does_not_collide(small_district):
    resident = district_residents().filter(health_record__isnull=True).select_related("area").first()
    before = RecordSerialCounter.objects.get(prefix=resident.area.code).last_serial
    record = health_record_create(actor=None, resident=resident, institution=resident.institution)
    assert parse_record_number(record.record_number).serial == before + 1


def test_households_have_one_head_and_consistent_relationships(small_district):
    members: dict[int, list[Resident]] = {}
    for r in district_residents().only("household_id", "relation_to_head", "birth_date", "sex", "area_id"):
        members.setdefault(r.household_id, []).append(r)
    assert Household.objects.filter(area__code__startswith=COUNTY).count() == len(members)
    sizes = [len(m) for m in members.values()]
    assert 2.2 <= sum(sizes) / len(sizes) <= 3.0
    for people in members.values():
        heads = [p for p in people if p.relation_to_head == Relationship.HEAD]
        assert len(heads) == 1
        head = heads[0]
        assert head.age_on(AS_OF) >= 18
        assert len({p.area_id for p in people}) == 1
        for p in people:
            gap = head.age_on(AS_OF) - p.age_on(AS_OF)
            if p.relation_to_head == Relationship.SPOUSE:
                assert p.sex != head.sex
            elif p.relation_to_head == Relationship.CHILD:
                assert gap >= 18
            elif p.relation_to_head == Relationship.PARENT:
                assert gap <= -18
            elif p.relation_to_head == Relationship.GRANDCHILD:
                assert gap >= 36


def test_age_structure_roughly_matches_the_census(small_district):
    ages = [r.age_on(AS_OF) for r in district_residents().only("birth_date")]
    share_65 = sum(a >= 65 for a in ages) / len(ages)
    share_0_14 = sum(a <= 14 for a in ages) / len(ages)
    assert share_65 == pytest.approx(reference.population_share(65), abs=0.025)
    assert share_0_14 == pytest.approx(reference.population_share(0, 14), abs=0.025)


def test_residence_status_is_mostly_registered_with_dates_for_the_deceased(small_district):
    status = Counter(district_residents().values_list("residence_status", flat=True))
    assert status[ResidenceStatus.REGISTERED] > 0.55 * RESIDENTS
    assert status[ResidenceStatus.NON_REGISTERED] > 0.05 * RESIDENTS
    assert status[ResidenceStatus.MOVED_OUT] + status[ResidenceStatus.DECEASED] < 0.1 * RESIDENTS
    for born, died in district_residents().filter(residence_status="deceased").values_list("birth_date", "death_date"):
        assert born < died <= AS_OF
    assert not district_residents().exclude(residence_status="deceased").filter(death_date__isnull=False).exists()


def test_phones_and_addresses_follow_chinese_conventions(small_district):
    for phone, address in district_residents().values_list("phone", "address")[:500]:
        assert _plausible_phone(phone)
        assert address.startswith("江苏省苏州市姑苏区")


def test_key_population_tags_match_the_service_rules(small_district):
    sample = district_residents().order_by("id")[::17]
    for resident in sample:
        stored = set(resident.key_population_tags.values_list("code", flat=True))
        assert key_population_refresh(resident=resident, on=AS_OF) == stored


def test_prevalence_is_in_a_realistic_range(small_district):
    adults = sum(r.age_on(AS_OF) >= 18 for r in district_residents().only("birth_date"))
    ht = Problem.objects.filter(resident__area__code__startswith=COUNTY, icd10="I10").count()
    dm = Problem.objects.filter(resident__area__code__startswith=COUNTY, icd10="E11").count()
    assert 0.07 < ht / adults < 0.22  # diagnosed and registered: about half of the 27.5 % prevalence
    assert 0.02 < dm / adults < 0.08
    tags = Counter(KeyPopulationTag.objects.filter(resident__area__code__startswith=COUNTY)
                   .values_list("code", flat=True))
    assert tags["elderly"] > 0.1 * RESIDENTS
    assert tags["disabled"] > 0.02 * RESIDENTS


def test_measurements_are_plausible_and_after_the_record(small_district):
    qs = Measurement.objects.filter(resident__area__code__startswith=COUNTY).select_related("resident__health_record")
    assert qs.count() > 0.3 * RESIDENTS
    for m in qs[:3000]:
        values = {f: float(getattr(m, f)) for f in Measurement.VALUE_FIELDS if getattr(m, f) is not None}
        assert rules.check_measurements(values) == {}
        assert m.measured_at.date() <= AS_OF
        assert m.measured_at.date() >= m.resident.health_record.established_on
        if m.height is not None and m.weight is not None:
            assert m.bmi == Decimal(str(rules.bmi(float(m.height), float(m.weight))))


def test_organisation_has_centres_stations_staff_and_teams(small_district):
    insts = Institution.objects.filter(area__code__startswith=COUNTY)
    d = reference.get_district(DISTRICT)
    centres = insts.filter(type__in=[InstitutionType.CENTRE, InstitutionType.TOWNSHIP_CENTRE])
    assert centres.count() == len(d.streets)
    assert insts.filter(type=InstitutionType.STATION, parent__in=centres).exists()
    assert insts.filter(type=InstitutionType.HOSPITAL).exists()
    assert insts.filter(type=InstitutionType.ELDERLY_CARE).exists()
    villages = sum(c.kind == "village" for s in d.streets for c in s.communities)
    assert insts.filter(type=InstitutionType.VILLAGE_CLINIC).count() == villages
    staff = Staff.objects.filter(institution__in=insts)
    assert staff.filter(category=StaffCategory.GP).count() >= centres.count()
    for team in Team.objects.filter(institution__in=insts):
        roles = set(team.members.values_list("role", flat=True))
        assert {TeamRole.LEADER, TeamRole.NURSE, TeamRole.PUBLIC_HEALTH} <= roles
        assert team.leader.category == StaffCategory.GP
        assert team.leader.active
    # Everyone has a hiring date; staff in post have no leaving date; a few GPs left in the last two years.
    assert not staff.filter(employed_from__isnull=True).exists()
    assert not staff.filter(employed_from__gt=AS_OF).exists()
    assert not staff.filter(active=True, employed_until__isnull=False).exists()
    assert staff.filter(active=True, employed_from__gt=AS_OF.replace(year=AS_OF.year - 2)).exists()
    left = staff.filter(active=False)
    assert left.exists() and set(left.values_list("category", flat=True)) == {StaffCategory.GP}
    for gp in left:
        assert gp.employed_from < gp.employed_until < AS_OF
        assert (AS_OF - gp.employed_until).days <= 2 * 365 and not gp.team_memberships.exists()
    # Every resident's managing institution is a primary-care point of the district.
    managing = set(district_residents().values_list("institution__type", flat=True))
    assert managing <= {"centre", "township_centre", "station", "village_clinic"}
