"""Chinese by default, English through the language switch (set_language at /i18n/)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_are_chinese_by_default(login, district):
    html = login("doctor_a").get(reverse("home")).content.decode()
    assert "查找居民" in html and 'lang="zh-CN"' in html


def test_the_login_page_is_chinese(client):
    assert "登录" in client.get(reverse("login")).content.decode()


def test_the_switch_turns_the_pages_english(login, district):
    client = login("doctor_a")
    response = client.post("/i18n/setlang/", {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    html = client.get(reverse("home")).content.decode()
    assert 'lang="en"' in html
    assert "Find a resident" in html and "查找居民" not in html
    page = client.get(reverse("resident_detail", args=[district.resident_a.pk])).content.decode()
    assert "Blood pressure trend" in page and "Identity" in page


def test_english_field_messages(login, district):
    client = login("doctor_a")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    url = reverse("measurement_add", args=[district.resident_a.pk])
    response = client.post(url, {}, HTTP_HX_REQUEST="true")
    assert "Enter at least one measurement." in response.content.decode()
