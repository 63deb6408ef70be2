"""Shared fixtures: a two-centre district and named personas used across the suite (healthchecks-style).

`district` builds: 上海市 › 徐汇区 (commission) › 两个街道 › 社区; centre A with station A1, centre B;
a team per centre; residents in each. Personas: doctor_a (centre A GP), nurse_a, ph_a (public health),
manager_a (centre A manager), doctor_b (centre B), station_doctor (station A1), district_admin,
auditor, referral_desk (hospital), resident_user (a resident's own account).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

import pytest

from jiayi.org.models import AreaLevel, InstitutionType, Role, StaffCategory, TeamRole
from tests import factories as f

PASSWORD = "pass-12345678"
TOKEN_URL = "/api/v1/auth/token"


def token_post(client, username: str, password: str = PASSWORD, **extra):
    """POST a login to the API token endpoint (``extra``: request META, e.g. REMOTE_ADDR)."""
    data = {"username": username, "password": password}
    return client.post(TOKEN_URL, data, content_type="application/json", **extra)


@pytest.fixture(autouse=True)
def _clear_org_cache():
    from jiayi.org.selectors import clear_org_cache

    clear_org_cache()
    yield
    clear_org_cache()


@pytest.fixture(autouse=True)
def _clear_django_cache():
    """The cache holds failed-login counters (jiayi.core.throttle): each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@dataclass
class District:
    province: object
    city: object
    county: object
    street_a: object
    street_b: object
    community_a: object
    community_a2: object
    community_b: object
    commission: object
    centre_a: object
    station_a1: object
    centre_b: object
    hospital: object
    doctor_a: object
    nurse_a: object
    ph_a: object
    manager_a: object
    doctor_b: object
    station_doctor: object
    district_admin: object
    auditor: object
    referral_desk: object
    team_a: object
    team_b: object
    resident_a: object  # managed by centre A
    resident_a1: object  # managed by station A1
    resident_b: object  # managed by centre B
    resident_user: object  # the user account of resident_a

    def user(self, persona: str):
        if persona == "anonymous":
            return None
        if persona == "resident":
            return self.resident_user
        return getattr(self, persona).user


@pytest.fixture
def district(db) -> District:
    prov = f.area("310000", "上海市", AreaLevel.PROVINCE)
    city = f.area("310100", "市辖区", AreaLevel.CITY, prov)
    county = f.area("310104", "徐汇区", AreaLevel.COUNTY, city)
    st_a = f.area("310104003", "天平路街道", AreaLevel.STREET, county)
    st_b = f.area("310104004", "湖南路街道", AreaLevel.STREET, county)
    com_a = f.area("310104003001", "天平社区居委会", AreaLevel.COMMUNITY, st_a)
    com_a2 = f.area("310104003002", "永嘉社区居委会", AreaLevel.COMMUNITY, st_a)
    com_b = f.area("310104004001", "湖南社区居委会", AreaLevel.COMMUNITY, st_b)
    commission = f.institution("310104-WJW", "徐汇区卫生健康委员会", InstitutionType.HEALTH_COMMISSION, county)
    centre_a = f.institution("310104-C01", "天平路社区卫生服务中心", InstitutionType.CENTRE, st_a, commission)
    station_a1 = f.institution("310104-C01-S1", "永嘉社区卫生服务站", InstitutionType.STATION, com_a2, centre_a)
    centre_b = f.institution("310104-C02", "湖南路社区卫生服务中心", InstitutionType.CENTRE, st_b, commission)
    hospital = f.institution("310104-H01", "徐汇区中心医院", InstitutionType.HOSPITAL, county, commission)
    doctor_a = f.staff("doctor_a", "王医生", Role.FAMILY_DOCTOR, centre_a)
    nurse_a = f.staff("nurse_a", "李护士", Role.NURSE, centre_a, StaffCategory.NURSE)
    ph_a = f.staff("ph_a", "赵公卫", Role.PUBLIC_HEALTH, centre_a, StaffCategory.PUBLIC_HEALTH)
    manager_a = f.staff("manager_a", "陈主任", Role.CENTRE_MANAGER, centre_a, StaffCategory.ADMIN)
    doctor_b = f.staff("doctor_b", "刘医生", Role.FAMILY_DOCTOR, centre_b)
    station_doctor = f.staff("station_doctor", "周医生", Role.FAMILY_DOCTOR, station_a1)
    district_admin = f.staff("district_admin", "孙科长", Role.DISTRICT_ADMIN, commission, StaffCategory.ADMIN)
    auditor = f.staff("auditor", "吴审计", Role.AUDITOR, commission, StaffCategory.ADMIN)
    referral_desk = f.staff("referral_desk", "郑转诊", Role.REFERRAL_DESK, hospital, StaffCategory.NURSE)
    team_a = f.team(
        "天平1队", centre_a,
        [(doctor_a, TeamRole.LEADER), (nurse_a, TeamRole.NURSE), (ph_a, TeamRole.PUBLIC_HEALTH)],
    )
    team_b = f.team("湖南1队", centre_b, [(doctor_b, TeamRole.LEADER)])
    resident_a = f.resident(
        inst=centre_a, area_=com_a, name="张三", sex="M", birth=date(1955, 3, 9), phone="13812345678"
    )
    resident_a1 = f.resident(inst=station_a1, area_=com_a2, name="李四", sex="F", birth=date(1970, 7, 1))
    resident_b = f.resident(inst=centre_b, area_=com_b, name="王五", sex="M", birth=date(1980, 1, 20))
    resident_user = f.user_for("resident_a")
    resident_a.user = resident_user
    resident_a.save(update_fields=["user"])
    return District(
        prov, city, county, st_a, st_b, com_a, com_a2, com_b, commission, centre_a, station_a1, centre_b, hospital,
        doctor_a, nurse_a, ph_a, manager_a, doctor_b, station_doctor, district_admin, auditor, referral_desk,
        team_a, team_b, resident_a, resident_a1, resident_b, resident_user,
    )


@pytest.fixture
def api_client(client):
    """A Django test client that logs in through the token endpoint and sends the bearer token."""

    class ApiClient:
        def __init__(self):
            self.token = None

        def login(self, user):
            if user is None:
                self.token = None
                return
            r = token_post(client, user.username)
            assert r.status_code == 200, r.content
            self.token = r.json()["access_token"]

        def _h(self):
            return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}

        def get(self, url, **params):
            return client.get(url, params, **self._h())

        def post(self, url, data=None):
            return client.post(url, data or {}, content_type="application/json", **self._h())

        def patch(self, url, data=None):
            return client.patch(url, data or {}, content_type="application/json", **self._h())

        def delete(self, url):
            return client.delete(url, **self._h())

    return ApiClient()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true nothing may be skipped for a missing part: a skip becomes a failure."""
    outcome = yield
    rep = outcome.get_result()
    if os.environ.get("CI") == "true" and rep.skipped and not hasattr(rep, "wasxfail"):
        rep.outcome = "failed"
        rep.longrepr = f"skipped under CI=true (a required part is missing): {rep.longrepr}"


# ---------------------------------------------------------------------------------------------
# Which tests run: JIAYI_TESTS=all (default) | db | nodb
# ---------------------------------------------------------------------------------------------

#: pytest-django's fixtures that open the test database (a test has them when it, or any fixture it uses,
#: asks for one of them: the closure is in ``item.fixturenames``).
DB_FIXTURES = frozenset({
    "db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server",
    "django_db_setup", "_django_db_helper",
})
TEST_SELECTIONS = ("all", "db", "nodb")


def uses_database(item: pytest.Item) -> bool:
    """Whether a test can reach the Django database: a ``django_db`` marker, a database fixture (also
    through another fixture, e.g. ``district`` or ``admin_client``), or a Django TestCase with databases.
    Every other test runs with database access blocked by pytest-django, so it gives the same result on
    any ``DATABASE_URL``."""
    if item.get_closest_marker("django_db") is not None:
        return True
    if not DB_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
        return True
    cls = getattr(item, "cls", None)
    return bool(cls is not None and getattr(cls, "databases", None))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``JIAYI_TESTS=db`` keeps only the tests that use the database (``.ci/run``'s PostgreSQL pass: the
    pure tests already ran in the SQLite pass), ``nodb`` only the others; ``all`` (default) keeps every
    test."""
    which = os.environ.get("JIAYI_TESTS", "all").strip() or "all"
    if which not in TEST_SELECTIONS:
        raise pytest.UsageError(f"JIAYI_TESTS={which!r}: use one of {', '.join(TEST_SELECTIONS)}")
    if which == "all":
        return
    keep, drop = [], []
    for item in items:
        (keep if uses_database(item) == (which == "db") else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
