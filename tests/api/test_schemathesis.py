"""Property-based API fuzzing over our own OpenAPI spec: no input may produce a server error.

Every operation is called with generated (mostly malformed) input by a logged-in family doctor; the
only check is `not_a_server_error` — 4xx answers are the expected outcome for bad input.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from jiayi.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def _keep_test_connection(bearer):
    """Like Django's test client: the test's transaction lives on one connection, so the WSGI app must
    not close it at the end of each request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    # Django's test client reconnects these after each of its requests, so this runs after login.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(district, api_client):
    api_client.login(district.doctor_a.user)
    return api_client.token


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)
@pytest.mark.django_db
def test_no_server_errors(case, bearer, _keep_test_connection):
    case.call_and_validate(headers={"Authorization": f"Bearer {bearer}"}, checks=[not_a_server_error])
