"""The auditors' page: access events filterable by user, resident and date; auditlog changes; read-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jiayi.core.models import AccessEvent

pytestmark = pytest.mark.django_db


def _events(response):
    return list(response.context["page"].items)


def test_it_lists_who_opened_which_resident(login, district):
    login("doctor_a").get(reverse("resident_detail", args=[district.resident_a.pk]))
    response = login("auditor").get(reverse("audit_log"))
    html = response.content.decode()
    assert response.status_code == 200
    assert any(e.username == "doctor_a" and e.resident_id == district.resident_a.pk for e in _events(response))
    assert "doctor_a" in html


def test_it_filters_by_user_resident_and_date(login, district):
    login("doctor_a").get(reverse("resident_detail", args=[district.resident_a.pk]))
    login("doctor_b").get(reverse("resident_detail", args=[district.resident_b.pk]))
    client = login("auditor")
    by_user = _events(client.get(reverse("audit_log"), {"user": "doctor_b"}))
    assert by_user and {e.username for e in by_user} == {"doctor_b"}
    by_resident = _events(client.get(reverse("audit_log"), {"resident": district.resident_a.pk}))
    assert by_resident and {e.resident_id for e in by_resident} == {district.resident_a.pk}
    today = timezone.localdate()
    assert _events(client.get(reverse("audit_log"), {"date_from": today.isoformat(), "date_to": today.isoformat()}))
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert _events(client.get(reverse("audit_log"), {"date_from": tomorrow})) == []


def test_bad_filters_are_field_messages_not_errors(login):
    response = login("auditor").get(reverse("audit_log"), {"resident": "abc", "date_from": "2024-13-40"})
    assert response.status_code == 200
    assert {"resident", "date_from"} <= set(response.context["form"].errors)


def test_reading_the_log_is_itself_logged(login):
    login("auditor").get(reverse("audit_log"), {"user": "doctor_a"})
    assert AccessEvent.objects.filter(username="auditor", object_type="core.accessevent").exists()


def test_the_changes_tab_lists_auditlog_entries(login, district):
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from jiayi.residents.models import Resident

    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Resident), object_pk=str(district.resident_a.pk),
        object_id=district.resident_a.pk, object_repr="张三", action=LogEntry.Action.UPDATE,
        changes={"phone": ["13812345678", "13700009999"]}, actor=district.doctor_a.user,
    )
    response = login("auditor").get(reverse("audit_log"), {"tab": "changes", "resident": district.resident_a.pk})
    assert response.status_code == 200
    assert len(_events(response)) == 1
    assert "13700009999" in response.content.decode()


def test_the_page_offers_no_way_to_change_the_log(login):
    response = login("auditor").post(reverse("audit_log"))
    assert response.status_code in (200, 405)  # a POST is treated like a GET: nothing changes
    html = login("auditor").get(reverse("audit_log")).content.decode()
    assert 'method="post"' not in html.split("<main", 1)[1]


@pytest.mark.parametrize(
    ("tab", "params", "field"),
    [
        ("access", {"date_to": "9999-12-31"}, "date_to"),  # the day after overflowed the calendar
        ("changes", {"date_to": "9999-12-31"}, "date_to"),
        ("access", {"date_from": "0001-01-01"}, "date_from"),  # local midnight of year 1 is before UTC year 1
        ("changes", {"date_from": "0001-01-01"}, "date_from"),
    ],
)
def test_dates_beyond_the_calendar_are_field_errors(login, district, tab, params, field):
    response = login("auditor").get(reverse("audit_log"), {"tab": tab, **params})
    assert response.status_code == 200
    assert field in response.context["form"].errors
