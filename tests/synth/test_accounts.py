"""Demo accounts: one per role, known password, and the doctor sees (only) the centre's residents."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from jiayi.core.scoping import user_role
from jiayi.residents.models import Resident
from jiayi.synth.accounts import DEMO_PASSWORD, create_demo_accounts
from tests.synth.conftest import DISTRICT

pytestmark = pytest.mark.django_db

ROLES = {
    "demo_doctor": "family_doctor", "demo_nurse": "nurse", "demo_ph": "public_health", "demo_station": "family_doctor",
    "demo_manager": "centre_manager", "demo_district": "district_admin", "demo_referral": "referral_desk",
    "demo_auditor": "auditor", "demo_resident": "resident",
}


def test_one_account_per_role_that_can_log_in(small_district, client):
    accounts = create_demo_accounts(district=DISTRICT)
    assert {a.username for a in accounts} == set(ROLES)
    from django.contrib.auth import get_user_model

    for username, role in ROLES.items():
        assert client.login(username=username, password=DEMO_PASSWORD)
        assert user_role(get_user_model().objects.get(username=username)) == role
        client.logout()


def test_the_doctor_sees_the_centres_residents_and_not_others(small_district, client):
    create_demo_accounts(district=DISTRICT)
    client.login(username="demo_doctor", password=DEMO_PASSWORD)
    from django.contrib.auth import get_user_model

    doctor = get_user_model().objects.get(username="demo_doctor")
    centre = doctor.staff.institution
    mine = Resident.objects.filter(institution_id__in=centre.subtree_ids()).order_by("id").first()
    other = Resident.objects.filter(area__code__startswith="320508").exclude(
        institution_id__in=centre.subtree_ids()).first()
    assert Resident.objects.visible_to(doctor).count() == Resident.objects.filter(
        institution_id__in=centre.subtree_ids()).count() > 0
    page = client.get(reverse("resident_search"), {"q": mine.id_number})
    assert page.status_code == 200 and mine.name in page.content.decode()
    assert client.get(reverse("resident_detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("resident_detail", args=[other.pk])).status_code == 404


def test_the_resident_account_is_a_resident_of_the_doctors_centre(small_district):
    create_demo_accounts(district=DISTRICT)
    resident = Resident.objects.get(user__username="demo_resident")
    assert resident.key_population_tags.filter(code="hypertension").exists()
    assert resident.residence_status == "registered"


def test_the_station_account_reports_to_the_managers_centre(small_district, client):
    """Issue #5: a station submits its monthly report, the centre (demo_manager) reviews it."""
    from django.contrib.auth import get_user_model

    from jiayi.indicators import services
    from jiayi.indicators.views import _submit_choices

    create_demo_accounts(district=DISTRICT)
    users = get_user_model().objects.select_related("staff__institution")
    station = users.get(username="demo_station").staff
    manager = users.get(username="demo_manager").staff
    assert services.report_level(station.institution) == "station"
    assert station.institution.parent_id == manager.institution_id == users.get(
        username="demo_doctor").staff.institution_id
    assert station.role in services.SUBMITTER_ROLES
    assert _submit_choices(users.get(username="demo_station")) == [station.institution]
    assert client.login(username="demo_station", password=DEMO_PASSWORD)
    page = client.get(reverse("indicators:reports"))
    assert page.status_code == 200 and 'data-testid="submit-form"' in page.content.decode()
    assert station.institution.name in page.content.decode()


def test_running_it_again_resets_the_accounts(small_district, client):
    create_demo_accounts(district=DISTRICT, password="first-pass-123")
    create_demo_accounts(district=DISTRICT)
    assert client.login(username="demo_doctor", password=DEMO_PASSWORD)
    assert Resident.objects.filter(user__username="demo_resident").count() == 1


def test_the_command_prints_the_accounts(small_district):
    out = StringIO()
    call_command("demo_accounts", district=DISTRICT, stdout=out)
    text = out.getvalue()
    for username in ROLES:
        assert username in text
    assert DEMO_PASSWORD in text
