"""Resident services: record numbers allocated without collisions, key-population tags, conflicts."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from jiayi.core import ids
from jiayi.core.errors import ConcurrentEditError, DomainValidationError
from jiayi.core.ids import parse_record_number
from jiayi.residents import services
from jiayi.residents.models import HealthRecord, KeyPopulationTag, Resident
from tests import factories as f


@pytest.mark.django_db
def test_record_numbers_follow_the_community_and_count_up(district):
    a = f.resident(inst=district.centre_a, area_=district.community_a, name="甲", birth=date(1990, 1, 1))
    b = f.resident(inst=district.centre_a, area_=district.community_a, name="乙", birth=date(1991, 1, 1))
    na, nb = a.health_record.record_number, b.health_record.record_number
    assert na[:12] == nb[:12] == district.community_a.code
    assert parse_record_number(nb).serial == parse_record_number(na).serial + 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_never_collides(district):
    errors: list[Exception] = []
    n_threads, per_thread = 4, 5

    def work(k: int) -> None:
        try:
            for i in range(per_thread):
                f.resident(
                    inst=district.centre_a, area_=district.community_a2, name=f"并发{k}-{i}",
                    birth=date(1980 + k, 1 + i, 1),
                )
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = list(
        HealthRecord.objects.filter(resident__area=district.community_a2).values_list("record_number", flat=True)
    )
    assert len(numbers) == len(set(numbers)) == n_threads * per_thread + 1  # + resident_a1


@pytest.mark.django_db
def test_key_population_tags_follow_the_record(district):
    r = district.resident_a  # born 1955: elderly
    assert set(r.key_population_tags.values_list("code", flat=True)) == {"elderly"}
    services.problem_add(actor=None, resident=r, name="原发性高血压", icd10="I10", diagnosed_on=date(2020, 1, 1))
    tags = set(KeyPopulationTag.objects.filter(resident=r).values_list("code", flat=True))
    assert tags == {"elderly", "hypertension"}
    r = services.resident_update(actor=None, resident=r, version=r.version, disabled=True)
    codes = dict(KeyPopulationTag.objects.filter(resident=r).values_list("code", "derived"))
    assert codes == {"elderly": True, "hypertension": True, "disabled": False}


@pytest.mark.django_db
def test_child_and_pregnant_tags(district):
    three_years_ago = date.today().replace(year=date.today().year - 3, day=1)
    child = f.resident(inst=district.centre_a, area_=district.community_a, name="小明", birth=three_years_ago)
    assert "child" in set(child.key_population_tags.values_list("code", flat=True))
    mum = f.resident(inst=district.centre_a, area_=district.community_a, name="孕妇", sex="F", birth=date(1995, 2, 2),
                     pregnant=True)
    assert "maternal" in set(mum.key_population_tags.values_list("code", flat=True))


@pytest.mark.django_db
def test_update_with_stale_version_changes_nothing(district):
    r = district.resident_a
    services.resident_update(actor=None, resident=r, version=r.version, address="一号")
    with pytest.raises(ConcurrentEditError):
        services.resident_update(actor=None, resident=r, version=1, address="二号")
    assert Resident.objects.get(pk=r.pk).address == "一号"


@pytest.mark.django_db
def test_deceased_needs_a_death_date(district):
    with pytest.raises(DomainValidationError) as e:
        services.resident_update(actor=None, resident=district.resident_b, version=1, residence_status="deceased")
    assert "death_date" in e.value.errors


@pytest.mark.django_db
def test_an_edit_cannot_put_the_death_before_the_birth(district):
    r = district.resident_b  # born 1980-01-20
    before = r.version
    with pytest.raises(DomainValidationError) as e:
        services.resident_update(
            actor=None, resident=r, version=r.version, residence_status="deceased", death_date=date(1979, 12, 31)
        )
    assert set(e.value.errors) == {"death_date"}
    # Moving the birth date past a recorded death date is refused on the death date too.
    r = services.resident_update(
        actor=None, resident=r, version=r.version, residence_status="deceased", death_date=date(2020, 5, 1)
    )
    with pytest.raises(DomainValidationError) as e:
        services.resident_update(actor=None, resident=r, version=r.version, birth_date=date(2021, 1, 1))
    assert "death_date" in e.value.errors
    stored = Resident.objects.get(pk=r.pk)
    assert (stored.birth_date, stored.death_date, stored.version) == (date(1980, 1, 20), date(2020, 5, 1), before + 1)


@pytest.mark.django_db
def test_area_must_be_a_community(district):
    with pytest.raises(DomainValidationError) as e:
        f.resident(inst=district.centre_a, area_=district.street_a, name="错")
    assert "area" in e.value.errors


@pytest.mark.django_db
def test_record_number_follows_the_committee_scheme_in_use(district, settings):
    """RULES.md §9.1 ranges (hrn-2011, default) vs real NBS statistical codes (nbs-statistical)."""
    from jiayi.org.models import AreaLevel
    from jiayi.residents.models import RecordSerialCounter

    village = f.area("310104003201", "NBS编码村委会", AreaLevel.COMMUNITY, district.street_a)
    # Default scheme: 201 is neither a 居委会 (001-099) nor a 村委会 (101-199) code -> a field error on
    # the area, nothing written, no serial consumed.
    settings.JIAYI = {**settings.JIAYI, "RECORD_NUMBER_RULESET": "hrn-2011"}  # the shipped default
    with pytest.raises(DomainValidationError) as e:
        f.resident(inst=district.centre_a, area_=village, name="村甲", birth=date(1985, 2, 2))
    assert "area" in e.value.errors
    assert not Resident.objects.filter(name="村甲").exists()
    assert not RecordSerialCounter.objects.filter(prefix=village.code).exists()
    # A deployment with real NBS area codes selects the NBS rule set.
    settings.JIAYI = {**settings.JIAYI, "RECORD_NUMBER_RULESET": "nbs-statistical"}
    r = f.resident(inst=district.centre_a, area_=village, name="村甲", birth=date(1985, 2, 2))
    rn = parse_record_number(r.health_record.record_number, ruleset=ids.NBS_STATISTICAL)
    assert (rn.county + rn.street + rn.community, rn.serial, rn.kind) == (village.code, 1, "village")
