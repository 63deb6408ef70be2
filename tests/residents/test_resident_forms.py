"""Create / edit resident pages: field-level messages, duplicate ID numbers, concurrent edits."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from jiayi.core.models import AccessAction, AccessEvent
from jiayi.residents import services
from jiayi.residents.models import Resident
from tests.factories import make_id_number

pytestmark = pytest.mark.django_db


def _form(district, **over) -> dict:
    data = {
        "name": "赵六",
        "sex": "F",
        "birth_date": "1962-04-05",
        "id_type": "resident_id",
        "id_number": make_id_number("310104", date(1962, 4, 5), "F"),
        "phone": "13900001111",
        "area": str(district.community_a.pk),
        "address": "天平路1号",
        "institution": str(district.centre_a.pk),
        "residence_status": "registered",
        "ethnicity": "汉族",
    }
    data.update(over)
    return data


def _edit_data(resident: Resident, **over) -> dict:
    data = {
        "name": resident.name, "sex": resident.sex, "birth_date": resident.birth_date.isoformat(),
        "id_type": resident.id_type, "id_number": resident.id_number, "phone": resident.phone,
        "area": str(resident.area_id), "address": resident.address, "institution": str(resident.institution_id),
        "residence_status": resident.residence_status, "ethnicity": resident.ethnicity,
        "version": str(resident.version),
    }
    data.update(over)
    return data


def test_it_creates_a_resident_with_a_record_and_opens_the_page(login, district):
    response = login("doctor_a").post(reverse("resident_create"), _form(district))
    resident = Resident.objects.get(name="赵六")
    assert response.status_code == 302 and response["Location"] == reverse("resident_detail", args=[resident.pk])
    assert resident.health_record.record_number.startswith(district.community_a.code)
    assert AccessEvent.objects.filter(action=AccessAction.CREATE, resident_id=resident.pk).exists()


def test_the_area_select_offers_communities_of_the_users_county_grouped_by_street(login, district):
    html = login("doctor_a").get(reverse("resident_create")).content.decode()
    assert 'optgroup label="天平路街道"' in html and "湖南社区居委会" in html


def test_it_shows_field_errors_and_stores_nothing(login, district):
    before = Resident.objects.count()
    response = login("doctor_a").post(
        reverse("resident_create"), _form(district, name="", birth_date="not-a-date", area="")
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) >= {"name", "birth_date", "area"}
    assert Resident.objects.count() == before


def test_a_wrong_check_digit_is_a_message_on_the_id_number(login, district):
    good = make_id_number("310104", date(1962, 4, 5), "F")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = login("doctor_a").post(reverse("resident_create"), _form(district, id_number=bad))
    assert response.status_code == 200
    assert "id_number" in response.context["form"].errors
    assert not Resident.objects.filter(id_number=bad).exists()


def test_a_sex_that_contradicts_the_id_number_is_a_message_on_sex(login, district):
    response = login("doctor_a").post(reverse("resident_create"), _form(district, sex="M"))
    assert "sex" in response.context["form"].errors


def test_an_area_outside_the_users_county_is_refused(login, district):
    from jiayi.org.models import AreaLevel
    from tests import factories as f

    other_county = f.area("310105", "长宁区", AreaLevel.COUNTY, district.city)
    street = f.area("310105001", "华阳路街道", AreaLevel.STREET, other_county)
    community = f.area("310105001001", "华阳社区", AreaLevel.COMMUNITY, street)
    response = login("doctor_a").post(reverse("resident_create"), _form(district, area=str(community.pk)))
    assert "area" in response.context["form"].errors


def test_a_duplicate_id_number_names_the_existing_record_with_a_link(login, district):
    existing = district.resident_a
    response = login("doctor_a").post(
        reverse("resident_create"),
        _form(district, name="张三", sex="M", birth_date="1955-03-09", id_number=existing.id_number),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "张三" in " ".join(form.errors["id_number"])
    assert form.duplicate_of == existing
    assert reverse("resident_detail", args=[existing.pk]) in response.content.decode()


def test_a_duplicate_out_of_scope_is_neither_named_nor_linked(login, district):
    """Naming the out-of-scope holder turned the form into an ID-number-to-name oracle."""
    other = district.resident_b  # centre B (王五): not visible to doctor_a
    response = login("doctor_a").post(
        reverse("resident_create"),
        _form(district, name="赵七", sex="M", birth_date="1980-01-20", id_number=other.id_number),
    )
    form = response.context["form"]
    assert form.errors["id_number"]
    assert other.name not in " ".join(form.errors["id_number"])
    assert form.duplicate_of is None
    page = response.content.decode()
    assert other.name not in page
    assert reverse("resident_detail", args=[other.pk]) not in page


def test_edit_saves_changes_and_bumps_the_version(login, district):
    r = district.resident_a
    response = login("doctor_a").post(reverse("resident_edit", args=[r.pk]), _edit_data(r, phone="13700009999"))
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.phone == "13700009999" and r.version == 2


def test_edit_shows_field_errors(login, district):
    r = district.resident_a
    response = login("doctor_a").post(reverse("resident_edit", args=[r.pk]), _edit_data(r, phone="12345"))
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    r.refresh_from_db()
    assert r.phone == "13812345678"


def test_edit_refuses_a_death_date_before_the_birth_date_on_its_field(login, district):
    r = district.resident_a  # born 1955-03-09
    response = login("doctor_a").post(
        reverse("resident_edit", args=[r.pk]), _edit_data(r, residence_status="deceased", death_date="1950-01-01")
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["death_date"]
    r.refresh_from_db()
    assert r.death_date is None and r.residence_status == "registered"


def test_a_concurrent_edit_is_a_conflict_that_keeps_the_users_input(login, district):
    r = district.resident_a
    data = _edit_data(r, address="我填写的新地址")  # the form as read at version 1
    services.resident_update(actor=None, resident=r, version=r.version, phone="13600001234")  # someone else
    response = login("doctor_a").post(reverse("resident_edit", args=[r.pk]), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.non_field_errors()
    html = response.content.decode()
    assert "我填写的新地址" in html  # nothing the user typed is lost
    assert any(row.current == "13600001234" for row in form.conflict_rows)  # what the other person saved
    r.refresh_from_db()
    assert f'name="version" value="{r.version}"' in html  # re-submitting is a deliberate overwrite
    assert r.address != "我填写的新地址" and r.phone == "13600001234"


def test_resubmitting_after_a_conflict_saves(login, district):
    r = district.resident_a
    services.resident_update(actor=None, resident=r, version=r.version, phone="13600001234")
    r.refresh_from_db()
    client = login("doctor_a")
    response = client.post(reverse("resident_edit", args=[r.pk]), _edit_data(r, address="新地址", version="2"))
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.address == "新地址" and r.phone == "13600001234" and r.version == 3
