"""The login page throttles failed logins like the API token endpoint (429 + Retry-After)."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.conftest import PASSWORD, token_post

LOGIN = "/login/"
PER_USERNAME = settings.JIAYI["LOGIN_FAILURES_PER_USERNAME"]
WINDOW = settings.JIAYI["LOGIN_LOCKOUT_SECONDS"]


def _login(client, username: str, password: str, addr: str = "10.0.1.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=addr)


@pytest.mark.django_db
def test_failures_end_in_429_and_the_right_password_is_not_checked(client, district):
    for _ in range(PER_USERNAME):
        r = _login(client, "doctor_a", "wrong-password")
        assert r.status_code == 200 and "_auth_user_id" not in client.session
    r = _login(client, "doctor_a", PASSWORD)
    assert r.status_code == 429
    assert 0 < int(r["Retry-After"]) <= WINDOW
    assert "登录失败次数过多" in r.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_other_users_are_unaffected_and_a_success_resets(client, district):
    for _ in range(PER_USERNAME):
        _login(client, "doctor_a", "wrong-password")
    assert _login(client, "doctor_a", PASSWORD).status_code == 429
    r = _login(client, "doctor_b", PASSWORD)
    assert r.status_code == 302 and client.session["_auth_user_id"] == str(district.doctor_b.user.pk)
    client.logout()
    for _ in range(PER_USERNAME - 1):
        _login(client, "doctor_b", "wrong-password")
    assert _login(client, "doctor_b", PASSWORD).status_code == 302
    client.logout()
    for _ in range(PER_USERNAME - 1):
        assert _login(client, "doctor_b", "wrong-password").status_code == 200
    assert _login(client, "doctor_b", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_failures_on_the_page_and_the_api_count_together(client, district):
    for _ in range(PER_USERNAME):
        _login(client, "doctor_a", "wrong-password")
    r = token_post(client, "doctor_a", PASSWORD, REMOTE_ADDR="10.0.1.2")
    assert r.status_code == 429


@pytest.mark.django_db
def test_an_empty_form_is_not_counted(client, district):
    for _ in range(PER_USERNAME + 1):
        assert _login(client, "doctor_a", "").status_code == 200
    assert _login(client, "doctor_a", PASSWORD).status_code == 302
