"""contract_sign: the happy path, fees, warnings, and every kind of bad input (nothing stored)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from jiayi.contracts import rules
from jiayi.contracts.models import Contract, ContractItem, ContractStatus, SigningPlace
from jiayi.contracts.services import contract_sign, functional_community_create
from jiayi.core.errors import DomainValidationError
from jiayi.core.models import AccessEvent
from jiayi.residents.models import ResidenceStatus
from jiayi.residents.services import resident_update
from tests.contracts.conftest import sign

pytestmark = pytest.mark.django_db


def test_it_signs_a_resident_with_basic_and_hypertension_packages(district, packages, hypertensive):
    c = sign(district, hypertensive, [packages["basic"], packages["hypertension"]])
    today = timezone.localdate()
    assert c.status == ContractStatus.ACTIVE
    assert c.start_date == today
    assert c.end_date == rules.contract_end(today, 12)
    assert c.institution == district.centre_a
    assert c.number.startswith(f"QY{today:%Y}")
    codes = set(c.items.values_list("service_code", flat=True))
    assert {"ht_follow_up", "annual_check", "consultation"} <= codes
    ht = c.items.get(service_code="ht_follow_up")
    assert ht.quantity == 4 and ht.delivered == 0 and ht.next_due_on is not None
    assert c.fee_total == Decimal("270.00")
    assert c.fee_total == c.fee_insurance + c.fee_public_health + c.fee_resident + c.fee_waived
    assert c.consent_signatory == hypertensive.name
    assert c.signed_by == district.doctor_a
    assert AccessEvent.objects.filter(object_type="contracts.contract", action="create", resident_id=hypertensive.pk)


def test_optional_items_can_be_left_out(district, packages, basic):
    c = sign(district, district.resident_a, [basic], optional_items={basic.pk: ["referral_booking"]})
    codes = set(c.items.values_list("service_code", flat=True))
    assert "referral_booking" in codes and "tcm_guidance" not in codes


def test_it_refuses_a_deceased_resident(district, basic):
    r = district.resident_a
    resident_update(
        actor=None,
        resident=r,
        version=r.version,
        residence_status=ResidenceStatus.DECEASED,
        death_date=date(2024, 1, 1),
    )
    with pytest.raises(DomainValidationError) as e:
        sign(district, r, [basic])
    assert "死亡" in e.value.errors["resident_id"][0]
    assert not Contract.objects.exists()


def test_it_refuses_second_active_contract(district, basic):
    first = sign(district, district.resident_a, [basic])
    with pytest.raises(DomainValidationError) as e:
        sign(district, district.resident_a, [basic])
    assert first.number in e.value.errors["resident_id"][0]
    assert Contract.objects.count() == 1


def test_it_refuses_a_package_not_allowed_for_the_residents_group(district, packages):
    with pytest.raises(DomainValidationError) as e:
        sign(district, district.resident_a1, [packages["basic"], packages["maternal"]], team=district.team_a)
    assert "孕产妇" in e.value.errors["package_ids"][0]
    assert not Contract.objects.exists() and not ContractItem.objects.exists()


def test_it_refuses_an_end_date_before_the_start(district, basic):
    with pytest.raises(DomainValidationError) as e:
        sign(district, district.resident_a, [basic], start_date=date(2025, 3, 1), end_date=date(2025, 2, 1))
    assert "end_date" in e.value.errors
    assert not Contract.objects.exists()


def test_it_needs_exactly_one_basic_package(district, packages):
    with pytest.raises(DomainValidationError) as e:
        sign(district, district.resident_a, [packages["tcm"]])
    assert "基础包" in e.value.errors["package_ids"][0]


def test_it_refuses_a_doctor_outside_the_team(district, basic):
    with pytest.raises(DomainValidationError) as e:
        sign(district, district.resident_a, [basic], doctor=district.station_doctor)
    assert "doctor_id" in e.value.errors


def test_it_refuses_another_centres_team(district, basic):
    with pytest.raises(DomainValidationError) as e:
        sign(district, district.resident_a, [basic], team=district.team_b, doctor=district.doctor_b)
    assert "team_id" in e.value.errors


def test_it_needs_a_consent_record(district, basic):
    with pytest.raises(DomainValidationError) as e:
        sign(district, district.resident_a, [basic], consent_method="")
    assert "consent_method" in e.value.errors
    with pytest.raises(DomainValidationError) as e:
        sign(district, district.resident_a, [basic], consent_method="proxy")
    assert {"consent_signatory", "consent_relation"} <= set(e.value.errors)


def test_it_refuses_a_start_too_far_ahead(district, basic):
    with pytest.raises(DomainValidationError) as e:
        sign(district, district.resident_a, [basic], start_date=timezone.localdate() + timedelta(days=400))
    assert "start_date" in e.value.errors


def test_a_future_start_is_pending(district, basic):
    c = sign(district, district.resident_a, [basic], start_date=timezone.localdate() + timedelta(days=10))
    assert c.status == ContractStatus.PENDING


def test_the_poor_pay_nothing(district, basic):
    r = district.resident_a
    resident_update(actor=None, resident=r, version=r.version, poverty_lifted=True)
    c = sign(district, r, [basic])
    assert c.fee_resident == 0 and c.fee_waived == basic.resident_share
    assert c.waiver_reason == "poverty_lifted"


def test_other_waiver_needs_a_note(district, basic):
    with pytest.raises(DomainValidationError) as e:
        sign(district, district.resident_a, [basic], waiver_reason="other")
    assert "waiver_note" in e.value.errors


@override_settings(JIAYI={"DOCTOR_LIST_SOFT_CAP": 1, "STAFF_SCOPE": "institution", "API_TOKEN_DAYS": 30})
def test_it_warns_above_the_doctors_list_size_cap(district, basic, hypertensive):
    first = sign(district, district.resident_a, [basic])
    assert first.warnings == []
    second = sign(district, hypertensive, [basic])
    assert any("上限" in w for w in second.warnings)


def test_a_short_period_warns(district, basic):
    c = sign(district, district.resident_a, [basic], months=6)
    assert any("不少于一年" in w for w in c.warnings)


def test_signing_in_a_functional_community(district, basic):
    fc = functional_community_create(
        actor=None, name="漕河泾开发区", kind="park", area=district.community_a, institution=district.centre_a
    )
    c = sign(
        district, district.resident_a, [basic], place_type=SigningPlace.FUNCTIONAL_COMMUNITY, functional_community=fc
    )
    assert c.functional_community == fc
    with pytest.raises(DomainValidationError) as e:
        sign(district, district.resident_a1, [basic], place_type=SigningPlace.FUNCTIONAL_COMMUNITY)
    assert "functional_community_id" in e.value.errors


def test_elderly_care_place_must_be_an_elderly_care_institution(district, basic):
    with pytest.raises(DomainValidationError) as e:
        sign(
            district,
            district.resident_a,
            [basic],
            place_type=SigningPlace.ELDERLY_CARE,
            place_institution=district.hospital,
        )
    assert "place_institution_id" in e.value.errors


def test_system_signing_without_actor_skips_the_scope_check(district, basic):
    c = contract_sign(
        actor=None,
        resident=district.resident_b,
        team=district.team_b,
        doctor=district.doctor_b,
        packages=[basic],
        consent_method="handwritten",
    )
    assert c.signed_by is None
