"""Access matrix of the shell's pages: the home page (every signed-in user) and the audit log
(auditors only; anyone else 404)."""

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
    [("anonymous", 302), ("doctor_a", 200), ("auditor", 200), ("referral_desk", 200), ("resident", 200)],
)
def test_home(login, persona, status):
    _expect(login(persona).get(reverse("home")), status)


@pytest.mark.parametrize(
    ("persona", "status"),
    [("anonymous", 302), ("auditor", 200), ("doctor_a", 404), ("manager_a", 404), ("district_admin", 404),
     ("referral_desk", 404), ("resident", 404)],
)
def test_audit_log(login, persona, status):
    _expect(login(persona).get(reverse("audit_log")), status)
