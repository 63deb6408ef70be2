"""Access matrix of the resident pages (NetBox-style): anonymous → login, out of scope → 404,
in scope → 200, visible but not writable → 403, resident accounts → 404 on staff pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = "/login/"


def _expect(response, status: int) -> None:
    if status == 302:
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)
    else:
        assert response.status_code == status, (response.status_code, response.content[:300])


@pytest.mark.parametrize(
    ("persona", "status"),
    [("anonymous", 302), ("doctor_a", 200), ("doctor_b", 200), ("district_admin", 200), ("resident", 404)],
)
def test_resident_search(login, persona, status):
    _expect(login(persona).get(reverse("resident_search"), {"q": "张"}), status)


RESIDENT_A_READERS = [
    ("anonymous", 302), ("doctor_a", 200), ("nurse_a", 200), ("ph_a", 200), ("manager_a", 200),
    ("district_admin", 200), ("doctor_b", 404), ("station_doctor", 404), ("referral_desk", 404), ("resident", 404),
]


@pytest.mark.parametrize(("persona", "status"), RESIDENT_A_READERS)
def test_resident_detail(login, district, persona, status):
    _expect(login(persona).get(reverse("resident_detail", args=[district.resident_a.pk])), status)


@pytest.mark.parametrize(("persona", "status"), [("doctor_a", 200), ("station_doctor", 200), ("doctor_b", 404)])
def test_station_resident_is_visible_to_its_centre_and_station(login, district, persona, status):
    _expect(login(persona).get(reverse("resident_detail", args=[district.resident_a1.pk])), status)


def test_unknown_resident_is_404(login):
    assert login("doctor_a").get(reverse("resident_detail", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    ("persona", "status"),
    [("anonymous", 302), ("doctor_a", 200), ("nurse_a", 200), ("district_admin", 403), ("auditor", 403),
     ("referral_desk", 403), ("resident", 404)],
)
def test_resident_create_page(login, persona, status):
    _expect(login(persona).get(reverse("resident_create")), status)


@pytest.mark.parametrize(
    ("persona", "status"),
    [("anonymous", 302), ("doctor_a", 200), ("manager_a", 200), ("doctor_b", 404), ("station_doctor", 404),
     ("district_admin", 403), ("resident", 404)],
)
def test_resident_edit_page(login, district, persona, status):
    _expect(login(persona).get(reverse("resident_edit", args=[district.resident_a.pk])), status)


@pytest.mark.parametrize(
    ("persona", "status"),
    [("anonymous", 302), ("doctor_a", 302), ("doctor_b", 404), ("district_admin", 403), ("resident", 404)],
)
def test_measurement_add(login, district, persona, status):
    url = reverse("measurement_add", args=[district.resident_a.pk])
    response = login(persona).post(url, {"sbp": "132", "dbp": "84"})
    if persona == "doctor_a":  # saved, back to the resident page
        assert response.status_code == 302 and response["Location"].endswith("#measurements")
    else:
        _expect(response, status)
    assert district.resident_a.measurements.count() == (1 if persona == "doctor_a" else 0)


def test_measurement_add_refuses_get(login, district):
    url = reverse("measurement_add", args=[district.resident_a.pk])
    assert login("doctor_a").get(url).status_code == 405


@pytest.mark.parametrize(
    ("persona", "status"),
    [("anonymous", 302), ("doctor_a", 200), ("district_admin", 200), ("doctor_b", 404), ("station_doctor", 404),
     ("referral_desk", 404), ("resident", 404)],
)
def test_household_detail(login, household, persona, status):
    _expect(login(persona).get(reverse("household_detail", args=[household.pk])), status)


def test_a_refused_write_records_no_read(login, district):
    from jiayi.core.models import AccessAction, AccessEvent

    client = login("district_admin")  # sees the resident, may not change clinical data
    client.get(reverse("resident_edit", args=[district.resident_a.pk]))
    client.post(reverse("measurement_add", args=[district.resident_a.pk]), {"sbp": "130"})
    assert not AccessEvent.objects.filter(username="district_admin", action=AccessAction.VIEW).exists()
