"""Fulfilment (履约): service_delivered (automatic), service_delivery_record (manual), revocation, progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jiayi.contracts import rules, selectors
from jiayi.contracts.models import ContractItem, ServiceDelivery
from jiayi.contracts.services import (
    contract_terminate,
    service_delivered,
    service_deliveries_revoke_source,
    service_delivery_record,
    service_delivery_revoke,
)
from jiayi.core.errors import DomainValidationError
from tests.contracts.conftest import sign

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


def test_a_follow_up_recorded_elsewhere_counts_toward_the_contract(district, packages, hypertensive):
    c = sign(
        district, hypertensive, [packages["basic"], packages["hypertension"]], start_date=_today() - timedelta(days=100)
    )
    item = c.items.get(service_code="ht_follow_up")
    assert item.next_due_on < _today()  # the first quarterly follow-up is overdue
    assert selectors.worklist_behind(district.doctor_a.user, district.team_a).items == [c]
    rows = service_delivered(
        resident=hypertensive,
        service_code="ht_follow_up",
        delivered_on=_today(),
        source="hypertension.visit",
        source_id=41,
    )
    assert len(rows) == 1 and rows[0].contract == c
    item.refresh_from_db()
    assert item.delivered == 1
    assert item.next_due_on == rules.unit_deadline(c.start_date, c.end_date, 4, 2)
    assert item.next_due_on >= _today()
    # Other items (BP measurements, consultations) are still behind until they too are delivered.
    for it in c.items.filter(next_due_on__lt=_today()):
        for n in range(rules.units_due(c.start_date, c.end_date, it.quantity, _today()) - it.delivered):
            service_delivered(
                resident=hypertensive,
                service_code=it.service_code,
                delivered_on=_today(),
                source="clinic",
                source_id=1000 * it.pk + n,
            )
    assert selectors.worklist_behind(district.doctor_a.user, district.team_a).items == []


def test_it_is_idempotent_on_source(district, packages, hypertensive):
    sign(district, hypertensive, [packages["basic"], packages["hypertension"]])
    kw = {
        "resident": hypertensive,
        "service_code": "ht_follow_up",
        "delivered_on": _today(),
        "source": "hypertension.visit",
        "source_id": 7,
    }
    first = service_delivered(**kw)
    again = service_delivered(**kw)
    assert [d.pk for d in first] == [d.pk for d in again]
    assert ContractItem.objects.get(service_code="ht_follow_up").delivered == 1


def test_it_is_cheap_and_empty_without_a_contract(district):
    with CaptureQueriesContext(connection) as ctx:
        rows = service_delivered(
            resident=district.resident_b.pk,
            service_code="ht_follow_up",
            delivered_on=_today(),
            source="hypertension.visit",
            source_id=1,
        )
    assert rows == []
    assert len([q for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]) <= 2


def test_an_item_not_in_the_packages_does_not_count(district, basic):
    sign(district, district.resident_a, [basic])
    assert (
        service_delivered(
            resident=district.resident_a,
            service_code="ht_follow_up",
            delivered_on=_today(),
            source="hypertension.visit",
            source_id=2,
        )
        == []
    )


def test_a_service_outside_the_period_does_not_count(district, basic):
    sign(district, district.resident_a, [basic])
    assert (
        service_delivered(
            resident=district.resident_a,
            service_code="consultation",
            delivered_on=_today() - timedelta(days=3),
            source="clinic",
            source_id=3,
        )
        == []
    )


def test_a_future_date_or_unknown_code_is_refused(district, basic):
    sign(district, district.resident_a, [basic])
    with pytest.raises(DomainValidationError):
        service_delivered(
            resident=district.resident_a,
            service_code="consultation",
            delivered_on=_today() + timedelta(days=1),
            source="clinic",
        )
    with pytest.raises(DomainValidationError):
        service_delivered(resident=district.resident_a, service_code="haircut", delivered_on=_today(), source="clinic")


def test_a_delivery_goes_to_the_most_urgent_of_duplicate_items(district, packages, hypertensive):
    c = sign(
        district, hypertensive, [packages["basic"], packages["hypertension"]], start_date=_today() - timedelta(days=200)
    )
    # bp_measurement is in both packages: 2 in basic (deadline ~day 182), 8 in hypertension (~day 45).
    service_delivered(
        resident=hypertensive, service_code="bp_measurement", delivered_on=_today(), source="clinic", source_id=10
    )
    ht_bp = c.items.get(service_code="bp_measurement", package=packages["hypertension"])
    assert ht_bp.delivered == 1


def test_a_revoked_delivery_stops_counting_and_can_be_reinstated(district, packages, hypertensive):
    c = sign(
        district, hypertensive, [packages["basic"], packages["hypertension"]], start_date=_today() - timedelta(days=30)
    )
    service_delivered(
        resident=hypertensive,
        service_code="ht_follow_up",
        delivered_on=_today(),
        source="hypertension.visit",
        source_id=5,
    )
    assert service_deliveries_revoke_source(source="hypertension.visit", source_id=5) == 1
    item = c.items.get(service_code="ht_follow_up")
    assert item.delivered == 0
    rows = service_delivered(
        resident=hypertensive,
        service_code="ht_follow_up",
        delivered_on=_today() - timedelta(days=1),
        source="hypertension.visit",
        source_id=5,
    )
    assert rows[0].delivered_on == _today() - timedelta(days=1) and rows[0].revoked_at is None
    item.refresh_from_db()
    assert item.delivered == 1
    assert ServiceDelivery.objects.count() == 1


def test_manual_recording_on_the_contract_page(district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=10))
    d = service_delivery_record(
        actor=district.nurse_a.user,
        contract=c,
        service_code="consultation",
        delivered_on=_today() - timedelta(days=2),
        note="电话咨询",
    )
    assert d.source == "contracts.manual" and d.recorded_by == district.nurse_a
    assert c.items.get(service_code="consultation").delivered == 1
    with pytest.raises(DomainValidationError) as e:
        service_delivery_record(actor=None, contract=c, service_code="ht_follow_up", delivered_on=_today())
    assert "service_code" in e.value.errors
    with pytest.raises(DomainValidationError) as e:
        service_delivery_record(
            actor=None, contract=c, service_code="consultation", delivered_on=_today() - timedelta(days=30)
        )
    assert "delivered_on" in e.value.errors
    service_delivery_revoke(actor=None, delivery=d, reason="录入错误")
    assert c.items.get(service_code="consultation").delivered == 0
    with pytest.raises(DomainValidationError):
        service_delivery_revoke(actor=None, delivery=d, reason="again")


def test_termination_stops_later_deliveries_counting(district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=20))
    service_delivery_record(actor=None, contract=c, service_code="consultation", delivered_on=_today())
    contract_terminate(actor=None, contract=c, version=c.version, reason="moved_out", on=_today())
    assert c.items.get(service_code="consultation").delivered == 0


def test_progress_shows_promised_delivered_and_due(district, packages, hypertensive):
    c = sign(
        district, hypertensive, [packages["basic"], packages["hypertension"]], start_date=_today() - timedelta(days=100)
    )
    service_delivered(
        resident=hypertensive,
        service_code="ht_follow_up",
        delivered_on=_today(),
        source="hypertension.visit",
        source_id=99,
    )
    rows = {(p.package_name, p.service_code): p for p in selectors.contract_progress(c)}
    ht = rows[("高血压健康管理包", "ht_follow_up")]
    assert (ht.quantity, ht.delivered, ht.due_now) == (4, 1, 1)
    assert ht.state in (rules.ItemState.ON_TRACK, rules.ItemState.DUE_SOON)
    check = rows[("基础服务包", "annual_check")]
    assert check.due_now == 0 and check.state != rules.ItemState.BEHIND


def test_a_datetime_is_taken_as_its_local_date(district, basic):
    sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=3))
    rows = service_delivered(
        resident=district.resident_a,
        service_code="consultation",
        delivered_on=timezone.now(),
        source="clinic",
        source_id=77,
    )
    assert rows[0].delivered_on == _today()


def test_a_delivery_revoked_twice_at_once_keeps_the_first_reason(district, basic):
    """Both requests read the delivery unrevoked; the second overwrote the first's reason and time."""
    from jiayi.core.models import AccessEvent

    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=10))
    d = service_delivery_record(
        actor=district.nurse_a.user, contract=c, service_code="consultation", delivered_on=_today()
    )
    stale = ServiceDelivery.objects.get(pk=d.pk)
    service_delivery_revoke(actor=district.nurse_a.user, delivery=d, reason="录入错误")
    with pytest.raises(DomainValidationError):
        service_delivery_revoke(actor=district.doctor_a.user, delivery=stale, reason="重复录入")
    d.refresh_from_db()
    assert d.revoked_reason == "录入错误"
    revokes = AccessEvent.objects.filter(object_type="contracts.servicedelivery", object_id=str(d.pk), action="update")
    assert revokes.count() == 1
