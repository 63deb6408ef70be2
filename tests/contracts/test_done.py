"""Issue #3 "done means": a doctor signs a household with a basic package plus a hypertension package,
a follow-up is recorded elsewhere, the contract's fulfilment moves and the team's numbers change; a
doctor of another centre sees none of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jiayi.contracts.services import service_delivered

pytestmark = pytest.mark.django_db


def test_household_signing_to_fulfilment_and_numbers(api_client, client, district, packages, household, hypertensive):
    today = timezone.localdate()
    api_client.login(district.doctor_a.user)
    numbers_url = "/api/v1/contracts/numbers"
    before = api_client.get(numbers_url, team_id=district.team_a.pk).json()

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

    after_signing = api_client.get(numbers_url, team_id=district.team_a.pk).json()
    assert after_signing["coverage"]["numerator"] == before["coverage"]["numerator"] + 3
    assert after_signing["by_key_population"]["hypertension"]["numerator"] == 1
    assert after_signing["fulfilment"]["numerator"] == 0

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

    # The contract page shows it; another centre's doctor cannot see the contract at all.
    client.force_login(district.doctor_a.user)
    page = client.get(reverse("contracts:detail", args=[head["id"]])).content.decode()
    assert "programmes.visit" in page
    api_client.login(district.doctor_b.user)
    assert api_client.get(f"/api/v1/contracts/{head['id']}").status_code == 404
    assert api_client.get("/api/v1/contracts").json()["items"] == []
    client.force_login(district.doctor_b.user)
    assert client.get(reverse("contracts:detail", args=[head["id"]])).status_code == 404
