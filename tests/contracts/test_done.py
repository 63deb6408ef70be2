"""Issue #3 "done means": a doctor signs a household with a basic package plus a hypertension package,
a follow-up is recorded elsewhere, the contract's fulfilment moves and the team's numbers (the indicator
engine's stored values) change; a doctor of another centre sees none of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jiayi.contracts.services import service_delivered
from jiayi.indicators.engine import compute

pytestmark = pytest.mark.django_db


def test_household_signing_to_fulfilment_and_numbers(api_client, client, district, packages, household, hypertensive):
    today = timezone.localdate()
    api_client.login(district.doctor_a.user)
    year = str(today.year)
    numbers_url = f"/api/v1/indicators/units/centre/{district.centre_a.pk}"

    def numbers(url=numbers_url) -> dict:
        compute(backend="db", periods=[year], today=today)  # the nightly run
        values = api_client.get(url, period=year, group="contracts").json()["values"]
        return {v["indicator"]: v for v in values}

    before = numbers()

    r = api_client.post(
        "/api/v1/contracts/households",
        {
            "household_id": household.pk,
            "package_ids": [packages["basic"].pk, packages["hypertension"].pk],
            "consent_method": "handwritten",
            "start_date": (today - timedelta(days=120)).isoformat(),
        },
    )
    assert r.status_code == 201, r.content
    head = next(c for c in r.json()["contracts"] if c["resident_id"] == hypertensive.pk)
    ht = next(i for i in head["items"] if i["service_code"] == "ht_follow_up")
    assert (ht["delivered"], ht["due_now"], ht["state"]) == (0, 1, "behind")

    after_signing = numbers()
    assert after_signing["contract.coverage"]["numerator"] == before["contract.coverage"]["numerator"] + 3
    assert after_signing["contract.coverage.hypertension"]["numerator"] == 1
    team_url = f"/api/v1/indicators/units/team/{district.team_a.pk}"
    fulfilment = numbers(team_url)["contract.fulfilment_rate"]
    assert (fulfilment["numerator"], fulfilment["denominator"]) == (0, 3)

    # The hypertension programme records a follow-up visit and calls the fulfilment hook.
    rows = service_delivered(
        resident=hypertensive,
        service_code="ht_follow_up",
        delivered_on=today,
        source="programmes.visit",
        source_id=501,
        actor=district.doctor_a.user,
    )
    assert len(rows) == 1
    body = api_client.get(f"/api/v1/contracts/{head['id']}").json()
    ht = next(i for i in body["items"] if i["service_code"] == "ht_follow_up")
    assert ht["delivered"] == 1 and ht["state"] in ("on_track", "due_soon")
    assert numbers(team_url)["contract.fulfilment_rate"]["numerator"] == 0 + all(
        i["state"] != "behind" for i in body["items"])

    # The contract page shows it; another centre's doctor cannot see the contract at all.
    client.force_login(district.doctor_a.user)
    page = client.get(reverse("contracts:detail", args=[head["id"]])).content.decode()
    assert "programmes.visit" in page
    api_client.login(district.doctor_b.user)
    assert api_client.get(f"/api/v1/contracts/{head['id']}").status_code == 404
    assert api_client.get("/api/v1/contracts").json()["items"] == []
    assert api_client.get(team_url, group="contracts").status_code == 404
    client.force_login(district.doctor_b.user)
    assert client.get(reverse("contracts:detail", args=[head["id"]])).status_code == 404
