"""Deny by default, for every endpoint that exists — including ones added later.

Walks the OpenAPI spec and the URL resolver: an anonymous caller gets 401 from every API operation
(except the token endpoint) and a redirect to the login page from every staff page. Per-object
scoping (in scope 200, out of scope 404) is tested next to each app's endpoints with the personas.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from jiayi.api import api

pytestmark = pytest.mark.django_db

PUBLIC_API = {("POST", "/api/v1/auth/token")}
PUBLIC_PAGE_PREFIXES = ("login/", "logout/", "i18n/", "admin/", "api/", "static/", "portal/login")


def _api_operations():
    spec = api.get_openapi_schema()
    for path, ops in spec["paths"].items():
        for method in ops:
            if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                yield method.upper(), path


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.parametrize(("method", "path"), sorted(set(_api_operations())))
def test_every_api_operation_refuses_anonymous(client, method, path):
    if (method, path) in PUBLIC_API:
        assert client.generic(method, path, "{}", content_type="application/json").status_code == 422
        return
    r = client.generic(method, _fill(path), "{}", content_type="application/json")
    assert r.status_code == 401, f"{method} {path} answered {r.status_code} to an anonymous caller"


def _page_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _page_patterns(p, route)
        elif isinstance(p, URLPattern):
            yield route, p.name


def _concrete(route: str) -> str:
    route = route.lstrip("^").rstrip("$")
    route = re.sub(r"<int:[^>]+>", "1", route)
    route = re.sub(r"<(?:str|slug):[^>]+>", "x", route)
    route = re.sub(r"<[^>]+>", "1", route)
    return "/" + route


PAGES = sorted(
    {(r, n) for r, n in _page_patterns() if not r.lstrip("^").startswith(PUBLIC_PAGE_PREFIXES)},
    key=lambda t: t[0],
)


@pytest.mark.parametrize(("route", "name"), PAGES)
def test_every_page_sends_anonymous_to_login(client, route, name):
    r = client.get(_concrete(route))
    assert r.status_code == 302, f"{route} ({name}) answered {r.status_code} to an anonymous visitor"
    assert "/login/" in r["Location"]


# Endpoints and pages this matrix must cover by name (so that a rename or a lost router fails here,
# not silently): the problems (diagnoses) API and pages and the ICD-10 code search.
COVERED_API = {
    ("GET", "/api/v1/residents/{resident_id}/problems"), ("POST", "/api/v1/residents/{resident_id}/problems"),
    ("PATCH", "/api/v1/residents/{resident_id}/problems/{problem_id}"),
    ("DELETE", "/api/v1/residents/{resident_id}/problems/{problem_id}"),
    ("GET", "/api/v1/codes/icd10"),
}
COVERED_PAGES = {"problems_section", "problem_add", "problem_edit", "problem_resolve", "problem_remove", "icd10_search"}


def test_the_matrix_walks_the_named_endpoints_and_pages():
    assert COVERED_API - set(_api_operations()) == set()
    assert COVERED_PAGES - {name for _route, name in PAGES} == set()
