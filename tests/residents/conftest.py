"""Fixtures for the resident pages: a household for resident_a and a logged-in client per persona
(tests/web uses `login` too)."""

from __future__ import annotations

import pytest

from jiayi.residents import services


@pytest.fixture
def household(district):
    hh = services.household_create(
        actor=None, area=district.community_a, address="天平路100弄3号201室", institution=district.centre_a
    )
    district.resident_a = services.household_add_member(
        actor=None, household=hh, resident=district.resident_a, relation_to_head="head"
    )
    return hh


@pytest.fixture
def login(client, district):
    """`login("doctor_a")` logs the test client in as that persona and returns the client."""

    def _login(persona: str):
        user = district.user(persona)
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return _login
