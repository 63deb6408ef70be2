"""The resident page: whole ID number (audited), record, tags, measurements and the chart data;
the search list masks ID numbers and phones; the add-measurement form (htmx partial)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jiayi.core.models import AccessAction, AccessEvent
from jiayi.residents import services
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_opening_the_resident_page_writes_an_access_event(login, district):
    r = district.resident_a
    login("doctor_a").get(reverse("resident_detail", args=[r.pk]))
    event = AccessEvent.objects.filter(action=AccessAction.VIEW, resident_id=r.pk).latest("at")
    assert event.username == "doctor_a" and event.path == reverse("resident_detail", args=[r.pk])


def test_an_out_of_scope_attempt_writes_no_view_event(login, district):
    login("doctor_b").get(reverse("resident_detail", args=[district.resident_a.pk]))
    assert not AccessEvent.objects.filter(action=AccessAction.VIEW, resident_id=district.resident_a.pk).exists()


def test_the_page_shows_the_whole_id_number_record_and_tags(login, district):
    r = district.resident_a  # born 1955: an elderly person
    services.problem_add(actor=None, resident=r, name="原发性高血压", icd10="I10")
    html = login("doctor_a").get(reverse("resident_detail", args=[r.pk])).content.decode()
    assert r.id_number in html and r.phone in html
    assert r.health_record.record_number in html
    assert "老年人" in html and "高血压患者" in html
    assert "I10" in html


def test_search_by_id_number_masks_id_and_phone(login, district):
    r = district.resident_a
    response = login("doctor_a").get(reverse("resident_search"), {"q": r.id_number})
    html = response.content.decode()
    assert [x.pk for x in response.context["page"].items] == [r.pk]
    table = html[html.index('data-testid="search-results"') : html.index("</table>")]
    assert r.id_number not in table and r.phone not in table
    assert r.masked_id_number in table and r.masked_phone in table
    assert AccessEvent.objects.filter(action=AccessAction.SEARCH, username="doctor_a").exists()


def test_search_finds_only_residents_in_scope(login, district):
    response = login("doctor_b").get(reverse("resident_search"), {"q": district.resident_a.id_number})
    assert response.context["page"].items == []


def test_search_by_name_prefix_and_record_number(login, district):
    client = login("doctor_a")
    assert [r.name for r in client.get(reverse("resident_search"), {"q": "张"}).context["page"].items] == ["张三"]
    number = district.resident_a1.health_record.record_number
    items = client.get(reverse("resident_search"), {"q": number}).context["page"].items
    assert [r.pk for r in items] == [district.resident_a1.pk]


def test_search_paginates(login, district):
    from datetime import date

    from tests import factories as f

    for i in range(25):
        f.resident(inst=district.centre_a, area_=district.community_a, name=f"张{i:02d}", birth=date(1970, 1, 1 + i))
    client = login("doctor_a")
    first = client.get(reverse("resident_search"), {"q": "张"}).context["page"]
    assert len(first.items) == 20 and first.has_next
    second = client.get(reverse("resident_search"), {"q": "张", "page": "2"}).context["page"]
    assert len(second.items) == 6 and not second.has_next
    assert client.get(reverse("resident_search"), {"q": "张", "page": "abc"}).status_code == 200


def test_the_chart_data_and_echarts_script_are_on_the_page(login, district):
    r = district.resident_a
    now = timezone.now()
    services.measurement_record(actor=None, resident=r, measured_at=now - timedelta(days=30), sbp=150, dbp=95)
    services.measurement_record(actor=None, resident=r, measured_at=now - timedelta(days=1), sbp=138, dbp=86)
    response = login("doctor_a").get(reverse("resident_detail", args=[r.pk]))
    html = response.content.decode()
    assert [p["sbp"] for p in response.context["bp_points"]] == [150, 138]
    assert 'id="bp-data"' in html and "data-bp-chart" in html
    assert "/static/vendor/echarts/echarts.min.js" in html and "/static/jiayi/bp-chart.js" in html
    assert "cdn" not in html.lower()


def test_static_assets_are_served_locally(client):
    from django.contrib.staticfiles import finders

    assert finders.find("vendor/echarts/echarts.min.js")
    assert finders.find("jiayi/bp-chart.js") and finders.find("jiayi/app.css")


def test_adding_a_measurement_through_htmx_returns_the_section(login, district):
    r = district.resident_a
    url = reverse("measurement_add", args=[r.pk])
    response = login("nurse_a").post(url, {"sbp": "142", "dbp": "88", "heart_rate": "72"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="measurements">')
    assert "142/88" in html
    m = r.measurements.get()
    assert m.sbp == 142 and m.recorded_by == district.nurse_a
    assert AccessEvent.objects.filter(action=AccessAction.CREATE, object_type="residents.measurement").exists()


def test_sbp_400_is_refused_with_a_field_message(login, district):
    r = district.resident_a
    url = reverse("measurement_add", args=[r.pk])
    response = login("doctor_a").post(url, {"sbp": "400", "dbp": "90"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    form = response.context["measurement_form"]
    assert "sbp" in form.errors and "400" in form.errors["sbp"][0]
    assert "400" in response.content.decode()  # the input is shown again
    assert r.measurements.count() == 0


def test_dbp_above_sbp_is_refused_on_dbp(login, district):
    r = district.resident_a
    url = reverse("measurement_add", args=[r.pk])
    response = login("doctor_a").post(url, {"sbp": "120", "dbp": "130"}, HTTP_HX_REQUEST="true")
    assert "dbp" in response.context["measurement_form"].errors
    assert r.measurements.count() == 0


def test_an_empty_measurement_is_a_form_message(login, district):
    url = reverse("measurement_add", args=[district.resident_a.pk])
    response = login("doctor_a").post(url, {}, HTTP_HX_REQUEST="true")
    assert response.context["measurement_form"].non_field_errors()


def test_a_refused_measurement_without_htmx_shows_the_whole_page(login, district):
    url = reverse("measurement_add", args=[district.resident_a.pk])
    response = login("doctor_a").post(url, {"sbp": "400"})
    assert response.status_code == 200 and "sbp" in response.context["measurement_form"].errors
    assert district.resident_a.id_number in response.content.decode()


def test_the_household_page_lists_members_with_relationship(login, district, household):
    response = login("doctor_a").get(reverse("household_detail", args=[household.pk]))
    html = response.content.decode()
    assert "户主" in html and reverse("resident_detail", args=[district.resident_a.pk]) in html
    assert district.resident_a.masked_id_number in html
    assert AccessEvent.objects.filter(object_type="residents.household", object_id=str(household.pk)).exists()


def test_the_household_page_audits_each_member_it_shows(login, district, household):
    """Each member shown is a read of that resident (the audit log filtered by resident must find it);
    a member outside the user's scope is neither shown nor logged."""
    spouse = f.resident(
        inst=district.centre_a, area_=district.community_a, name="张妻", sex="F", birth=date(1957, 1, 1)
    )
    services.household_add_member(actor=None, household=household, resident=spouse, relation_to_head="spouse")
    services.household_add_member(
        actor=None, household=household, resident=district.resident_b, relation_to_head="other"
    )
    url = reverse("household_detail", args=[household.pk])
    login("doctor_a").get(url)
    events = AccessEvent.objects.filter(action=AccessAction.VIEW, object_type="residents.resident", path=url)
    assert sorted(e.resident_id for e in events) == sorted([district.resident_a.pk, spouse.pk])
    assert {(e.username, e.object_id == str(e.resident_id)) for e in events} == {("doctor_a", True)}
    assert all(e.detail == {"household_id": household.pk} for e in events)
    audited = login("auditor").get(reverse("audit_log"), {"resident": spouse.pk}).context["page"].items
    assert url in [e.path for e in audited]


def test_the_resident_page_links_the_household(login, district, household):
    html = login("doctor_a").get(reverse("resident_detail", args=[district.resident_a.pk])).content.decode()
    assert reverse("household_detail", args=[household.pk]) in html


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"height": "30", "weight": "300"}, "weight"),  # BMI 3333: the column overflowed (a 500 on PostgreSQL)
        ({"sbp": "130", "dbp": "80", "measured_at": "0001-01-01T00:00"}, "measured_at"),  # before birth
    ],
)
def test_measurements_the_record_cannot_hold_are_field_messages(login, district, data, field):
    r = district.resident_a
    response = login("nurse_a").post(reverse("measurement_add", args=[r.pk]), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert field in response.context["measurement_form"].errors
    assert r.measurements.count() == 0
