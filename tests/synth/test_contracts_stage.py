"""Generated contracts follow the contract services' semantics (statuses, renewals, fees, counters)."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import pytest

from jiayi.contracts import rules
from jiayi.contracts.models import Contract, ContractItem, ServiceDelivery
from jiayi.contracts.services import resident_groups
from jiayi.residents.models import KeyPopulationTag, Resident
from jiayi.synth import reference
from tests.synth.conftest import AS_OF, DISTRICT

pytestmark = pytest.mark.django_db

COUNTY = reference.get_district(DISTRICT).county_code


def district_contracts():
    return Contract.objects.filter(resident__area__code__startswith=COUNTY)


def test_coverage_is_realistic(small_district):
    population = Resident.objects.filter(area__code__startswith=COUNTY).in_resident_population()
    signed = set(district_contracts().active_on(AS_OF).values_list("resident_id", flat=True))
    assert 0.3 <= len(signed) / population.count() <= 0.5
    key = set(KeyPopulationTag.objects.filter(resident__in=population).values_list("resident_id", flat=True))
    assert 0.6 <= len(key & signed) / len(key) <= 0.9


def test_one_contract_in_force_per_resident_and_no_overlaps(small_district):
    periods = defaultdict(list)
    for c in district_contracts():
        periods[c.resident_id].append((c.start_date, c.last_day))
    for spans in periods.values():
        spans.sort()
        for (_s1, e1), (s2, _e2) in itertools.pairwise(spans):
            assert s2 > e1


def test_statuses_are_what_the_dates_say(small_district):
    counts = Counter()
    for c in district_contracts().prefetch_related("renewals"):
        assert c.status == c.status_on(AS_OF), c.number
        assert c.end_date == rules.contract_end(c.start_date, 12) or c.status == "renewed"
        counts[c.status] += 1
        if c.renewal_of_id:
            assert c.start_date == c.renewal_of.end_date + __import__("datetime").timedelta(days=1)
            assert c.renewal_of.status == "renewed"
    assert counts["active"] and counts["renewed"] and counts["expired"] and counts["terminated"]


def test_fees_balance_and_waivers_follow_the_rule_set(small_district):
    for c in district_contracts().select_related("resident")[:800]:
        assert c.fee_total == c.fee_insurance + c.fee_public_health + c.fee_resident + c.fee_waived
        if c.resident.poverty_lifted:
            assert c.fee_resident == 0 and c.waiver_reason == "poverty_lifted"


def test_packages_fit_the_resident(small_district):
    for c in district_contracts().filter(status="active").prefetch_related("packages")[:800]:
        kinds = [p.kind for p in c.packages.all()]
        assert kinds.count("basic") == 1
        groups = resident_groups(c.resident, c.start_date)
        for p in c.packages.all():
            assert rules.ineligible_reason(p.target_groups, groups) is None, (p.code, groups)


def test_item_counters_match_their_deliveries(small_district):
    delivered = Counter(
        ServiceDelivery.objects.filter(contract__in=district_contracts(), revoked_at__isnull=True)
        .values_list("item_id", flat=True)
    )
    items = ContractItem.objects.filter(contract__in=district_contracts()).select_related("contract")
    assert items.exists()
    for item in items:
        n = delivered.get(item.pk, 0)
        assert item.delivered == n
        assert item.next_due_on == rules.next_deadline(item.contract.start_date, item.contract.end_date,
                                                       item.quantity, n)


def test_deliveries_fall_inside_the_contract(small_district):
    qs = ServiceDelivery.objects.filter(contract__in=district_contracts()).select_related("contract", "item")
    sources = Counter()
    for d in qs:
        assert d.contract.start_date <= d.delivered_on <= min(d.contract.last_day, AS_OF)
        assert d.item.contract_id == d.contract_id and d.item.service_code == d.service_code
        sources[d.source] += 1
    assert sources["contracts.manual"] and sources["programmes.visit"]


def test_packages_are_what_the_service_installs(small_district):
    from jiayi.contracts.models import ServicePackage
    from jiayi.contracts.services import packages_install_defaults
    from jiayi.org.models import Institution

    commission = Institution.objects.get(code=f"{COUNTY}-WJW")
    mine = {p.code: p for p in ServicePackage.objects.filter(institution=commission)}
    centre = Institution.objects.filter(area__code__startswith=COUNTY, type="centre").first()
    theirs = {p.code: p for p in packages_install_defaults(centre)}
    assert set(mine) == set(theirs)
    fields = ("name", "kind", "description", "target_groups", "price", "insurance_share", "public_health_share",
              "resident_share", "period_months", "active", "demo_default")
    for code, p in mine.items():
        q = theirs[code]
        assert [getattr(p, f) for f in fields] == [getattr(q, f) for f in fields]
        items = lambda pkg: list(pkg.items.order_by("id").values_list("service_code", "quantity", "optional", "note"))  # noqa: E731
        assert items(p) == items(q)
