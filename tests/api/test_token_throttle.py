"""The token endpoint throttles failed logins per username and per client address (429 + Retry-After)."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.conftest import PASSWORD, token_post

PER_USERNAME = settings.JIAYI["LOGIN_FAILURES_PER_USERNAME"]
PER_ADDRESS = settings.JIAYI["LOGIN_FAILURES_PER_ADDRESS"]
WINDOW = settings.JIAYI["LOGIN_LOCKOUT_SECONDS"]


def _token(client, username: str, password: str, addr: str = "10.0.0.1"):
    return token_post(client, username, password, REMOTE_ADDR=addr)


@pytest.mark.django_db
def test_failures_for_a_username_end_in_429_even_with_the_right_password(client, district):
    for _ in range(PER_USERNAME):
        assert _token(client, "doctor_a", "wrong-password").status_code == 401
    r = _token(client, "doctor_a", PASSWORD)
    assert r.status_code == 429
    assert 0 < int(r["Retry-After"]) <= WINDOW
    assert "登录失败次数过多" in r.json()["detail"]
    # From another address too: the username is locked, not only the address.
    assert _token(client, "doctor_a", PASSWORD, addr="10.0.0.2").status_code == 429


@pytest.mark.django_db
def test_other_users_are_unaffected(client, district):
    for _ in range(PER_USERNAME):
        _token(client, "doctor_a", "wrong-password")
    assert _token(client, "doctor_a", PASSWORD).status_code == 429
    r = _token(client, "doctor_b", PASSWORD)
    assert r.status_code == 200 and r.json()["access_token"]


@pytest.mark.django_db
def test_a_success_resets_the_usernames_count(client, district):
    for _ in range(PER_USERNAME - 1):
        assert _token(client, "doctor_a", "wrong-password").status_code == 401
    assert _token(client, "doctor_a", PASSWORD).status_code == 200
    for _ in range(PER_USERNAME - 1):
        assert _token(client, "doctor_a", "wrong-password").status_code == 401
    assert _token(client, "doctor_a", PASSWORD).status_code == 200


@pytest.mark.django_db
def test_guessing_many_usernames_from_one_address_locks_the_address(client, district):
    for i in range(PER_ADDRESS):
        assert _token(client, f"nobody{i}", "wrong-password", addr="10.0.0.9").status_code == 401
    r = _token(client, "doctor_a", PASSWORD, addr="10.0.0.9")
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    # The same valid user from another address is not held up by that address.
    assert _token(client, "doctor_a", PASSWORD, addr="10.0.0.10").status_code == 200


@pytest.mark.django_db
def test_the_429_is_translated(client, district):
    for _ in range(PER_USERNAME):
        _token(client, "doctor_a", "wrong-password")
    r = token_post(client, "doctor_a", PASSWORD, REMOTE_ADDR="10.0.0.1", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 429 and "Too many failed logins" in r.json()["detail"]
