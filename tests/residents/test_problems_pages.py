"""The problems section of the resident page: listed with the code's title, added/edited/resolved/
removed through htmx partials (and without htmx), field errors shown per field, a concurrent edit
reported on the form, and the ICD-10 code search box (paginated)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jiayi.core.models import AccessAction, AccessEvent
from jiayi.residents import services
from jiayi.residents.models import Problem

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def login(client, district):
    def _login(persona: str):
        client.logout()
        user = district.user(persona)
        if user is not None:
            client.force_login(user)
        return client

    return _login


def _section(html: str) -> str:
    start = html.index('id="problems"')
    return html[start : html.index("</section>", start)]


def test_the_resident_page_shows_the_problems_section_with_code_titles(login, district):
    r = district.resident_a1
    services.problem_add(actor=None, resident=r, icd10="F20.4", name="精神分裂症后抑郁")
    services.problem_add(actor=None, resident=r, icd10="A15", diagnosed_on=date(2023, 2, 1))
    html = login("doctor_a").get(reverse("resident_detail", args=[r.pk])).content.decode()
    section = _section(html)
    assert "F20.4" in section and "精神分裂症后抑郁" in section
    assert "Post-schizophrenic depression" in section  # no Chinese title in the list: the English one
    assert "A15" in section and "2023-02-01" in section
    assert "严重精神障碍患者" in section or "severe_mental" not in section
    assert 'data-testid="problem-form-add"' in section  # a writer gets the add form


def test_a_reader_sees_the_list_without_forms(login, district):
    services.problem_add(actor=None, resident=district.resident_a, icd10="I10")
    html = login("district_admin").get(reverse("resident_detail", args=[district.resident_a.pk])).content.decode()
    section = _section(html)
    assert "I10" in section and "problem-form" not in section and "/edit/" not in section


def test_adding_through_htmx_answers_the_section_with_the_new_problem(login, district):
    r = district.resident_a1
    client = login("doctor_a")
    answer = client.post(reverse("problem_add", args=[r.pk]), {"icd10": "f31", "kind": "disease"}, **HTMX)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert html.lstrip().startswith('<section class="card" id="problems"')
    assert "F31" in html and "双相情感障碍" in html and "诊断已保存" in html
    assert Problem.objects.get(resident=r).icd10 == "F31"
    assert "severe_mental" in set(r.key_population_tags.values_list("code", flat=True))


def test_adding_without_htmx_redirects_to_the_resident_page(login, district):
    r = district.resident_a1
    answer = login("doctor_a").post(reverse("problem_add", args=[r.pk]), {"icd10": "J45", "kind": "disease"})
    assert answer.status_code == 302
    assert answer["Location"] == reverse("resident_detail", args=[r.pk]) + "#problems"


def test_bad_input_shows_each_message_at_its_field(login, district):
    r = district.resident_a1
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    answer = login("doctor_a").post(
        reverse("problem_add", args=[r.pk]), {"icd10": "F20.77", "kind": "disease", "diagnosed_on": tomorrow}, **HTMX
    )
    assert answer.status_code == 200
    form = answer.context["problem_form"]
    assert set(form.errors) == {"icd10", "diagnosed_on", "name"}
    html = answer.content.decode()
    code_field = html[html.index("icd10-field") : html.index('class="icd10-results"')]
    assert "F20.77 不在编码表中" in code_field
    assert "确诊日期不能晚于今天" in html
    assert 'value="F20.77"' in html  # the input is kept
    assert not Problem.objects.exists()


def test_a_malformed_date_is_a_field_error_not_a_500(login, district):
    answer = login("doctor_a").post(
        reverse("problem_add", args=[district.resident_a.pk]), {"icd10": "I10", "diagnosed_on": "2020-13-45"}, **HTMX
    )
    assert answer.status_code == 200 and "diagnosed_on" in answer.context["problem_form"].errors


def test_a_duplicate_category_is_shown_on_the_code_field(login, district):
    r = district.resident_a
    services.problem_add(actor=None, resident=r, icd10="E11")
    answer = login("doctor_a").post(reverse("problem_add", args=[r.pk]), {"icd10": "E11.9", "kind": "disease"}, **HTMX)
    assert "同类诊断" in answer.context["problem_form"].errors["icd10"][0]


def test_editing_opens_the_form_filled_and_saves(login, district):
    r = district.resident_a
    p = services.problem_add(actor=None, resident=r, icd10="I10", diagnosed_on=date(2015, 1, 1))
    client = login("doctor_a")
    opened = client.get(reverse("problem_edit", args=[r.pk, p.pk]), **HTMX)
    html = opened.content.decode()
    assert 'data-testid="problem-form-edit"' in html and 'value="I10"' in html and 'value="2015-01-01"' in html
    saved = client.post(
        reverse("problem_edit", args=[r.pk, p.pk]),
        {"icd10": "I11.9", "name": "", "kind": "disease", "diagnosed_on": "2015-01-01", "note": "", "version": "1"},
        **HTMX,
    )
    assert "诊断已修改" in saved.content.decode()
    p.refresh_from_db()
    assert (p.icd10, p.name, p.version) == ("I11.9", "高血压性心脏病不伴有（充血性）心力衰竭", 2)


def test_a_concurrent_edit_is_reported_and_the_next_submit_is_deliberate(login, district):
    r = district.resident_a
    p = services.problem_add(actor=None, resident=r, icd10="I10")
    services.problem_update(actor=None, problem=p, version=1, note="别人先改了")
    client = login("doctor_a")
    data = {"icd10": "I10", "name": p.name, "kind": "disease", "diagnosed_on": "", "note": "我的修改", "version": "1"}
    answer = client.post(reverse("problem_edit", args=[r.pk, p.pk]), data, **HTMX)
    form = answer.context["problem_form"]
    assert "该诊断已被他人修改" in " ".join(form.non_field_errors())
    html = answer.content.decode()
    assert 'name="version" value="2"' in html  # the form now carries the saved version
    p.refresh_from_db()
    assert p.note == "别人先改了"
    again = client.post(reverse("problem_edit", args=[r.pk, p.pk]), {**data, "version": "2"}, **HTMX)
    assert "诊断已修改" in again.content.decode()
    p.refresh_from_db()
    assert (p.note, p.version) == ("我的修改", 3)


def test_resolving_and_removing_through_the_section(login, district):
    r = district.resident_a1
    p = services.problem_add(actor=None, resident=r, icd10="A16.1", diagnosed_on=date(2024, 1, 10))
    client = login("doctor_a")
    bad = client.post(reverse("problem_resolve", args=[r.pk, p.pk]), {"resolved_on": "2024-01-01", "version": "1"},
                      **HTMX)
    assert "resolved_on" in bad.context["problem_form"].errors
    done = client.post(reverse("problem_resolve", args=[r.pk, p.pk]),
                       {"resolved_on": "2024-07-10", "reason": "完成疗程", "version": "1"}, **HTMX)
    html = done.content.decode()
    assert "已终止" in html and "2024-07-10" in html and "完成疗程" in html
    assert "tuberculosis" not in set(r.key_population_tags.values_list("code", flat=True))
    no_reason = client.post(reverse("problem_remove", args=[r.pk, p.pk]), {"reason": "", "version": "2"}, **HTMX)
    assert "reason" in no_reason.context["problem_form"].errors
    removed = client.post(reverse("problem_remove", args=[r.pk, p.pk]), {"reason": "录入错误", "version": "2"}, **HTMX)
    assert "诊断已删除" in removed.content.decode() and "A16.1" not in removed.content.decode()
    assert Problem.all_objects.get(pk=p.pk).removed_reason == "录入错误"


@pytest.mark.parametrize(
    ("persona", "status"),
    [("anonymous", 302), ("doctor_b", 404), ("resident", 404), ("referral_desk", 404), ("district_admin", 403),
     ("doctor_a", 200)],
)
def test_who_may_open_the_edit_form(login, district, persona, status):
    p = services.problem_add(actor=None, resident=district.resident_a, icd10="I10")
    answer = login(persona).get(reverse("problem_edit", args=[district.resident_a.pk, p.pk]))
    assert answer.status_code == status


def test_an_out_of_scope_add_changes_nothing_and_writes_no_view(login, district):
    r = district.resident_a
    answer = login("doctor_b").post(reverse("problem_add", args=[r.pk]), {"icd10": "I10"}, **HTMX)
    assert answer.status_code == 404
    assert not Problem.objects.exists()
    assert not AccessEvent.objects.filter(action=AccessAction.VIEW, resident_id=r.pk).exists()


def test_another_residents_problem_is_404_here(login, district):
    other = services.problem_add(actor=None, resident=district.resident_a1, icd10="I10")
    answer = login("doctor_a").get(reverse("problem_edit", args=[district.resident_a.pk, other.pk]))
    assert answer.status_code == 404


def test_the_code_search_box_finds_by_code_chinese_and_english(login, district):
    client = login("doctor_a")
    for typed, expected in (("F20", "F20"), ("精神", "F20"), ("schizo", "F20"), ("i10", "I10")):
        answer = client.get(reverse("icd10_search"), {"icd10": typed}, **HTMX)
        assert answer.status_code == 200
        assert f'data-code="{expected}"' in answer.content.decode(), typed
    html = client.get(reverse("icd10_search"), {"q": "F20"}, **HTMX).content.decode()
    assert 'data-title="精神分裂症"' in html
    assert client.get(reverse("icd10_search"), {"q": "zzzz"}, **HTMX).content.decode().count("data-code") == 0


def test_the_code_search_is_paginated(login, district):
    client = login("doctor_a")
    first = client.get(reverse("icd10_search"), {"q": "精神"}, **HTMX)
    page = first.context["page"]
    assert page.paginator.count > 10 and len(first.context["codes"]) == 10 and page.has_next()
    assert "page=2" in first.content.decode()
    second = client.get(reverse("icd10_search"), {"q": "精神", "page": "2"}, **HTMX)
    assert second.context["page"].number == 2
    assert {c["code"] for c in second.context["codes"]}.isdisjoint({c["code"] for c in first.context["codes"]})
    assert client.get(reverse("icd10_search"), {"q": "精神", "page": "abc"}).status_code == 200


def test_the_code_search_in_english_shows_english_titles(login, district):
    client = login("doctor_a")
    client.cookies["django_language"] = "en"
    html = client.get(reverse("icd10_search"), {"q": "F20"}, **HTMX).content.decode()
    assert 'data-title="Schizophrenia"' in html


def test_the_section_and_its_messages_in_english(login, district):
    r = district.resident_a1
    services.problem_add(actor=None, resident=r, icd10="F20")
    client = login("doctor_a")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    section = _section(client.get(reverse("resident_detail", args=[r.pk])).content.decode())
    assert "Medical history and diagnoses" in section and "Schizophrenia" in section
    answer = client.post(reverse("problem_add", args=[r.pk]), {"icd10": "F20.1", "kind": "disease"}, **HTMX)
    assert "already has an unresolved diagnosis of the same category" in answer.content.decode()
    answer = client.post(reverse("problem_add", args=[r.pk]), {"icd10": "Q99.99", "kind": "disease"}, **HTMX)
    assert "is not in the code list" in answer.content.decode()


def test_a_saved_diagnosis_also_refreshes_the_page_heads_tags(login, district):
    r = district.resident_a1  # 56: no tag yet
    page = login("doctor_a").get(reverse("resident_detail", args=[r.pk])).content.decode()
    assert '<div id="resident-tags">' in page and "严重精神障碍患者" not in page
    answer = login("doctor_a").post(reverse("problem_add", args=[r.pk]), {"icd10": "F20", "kind": "disease"}, **HTMX)
    html = answer.content.decode()
    oob = html[html.index('<div id="resident-tags" hx-swap-oob="true">'):]
    assert "tag-severe_mental" in oob and "严重精神障碍患者" in oob
    bad = login("doctor_a").post(reverse("problem_add", args=[r.pk]), {"icd10": "F20.1", "kind": "disease"}, **HTMX)
    assert "hx-swap-oob" not in bad.content.decode()  # nothing saved: the head stays as it is
