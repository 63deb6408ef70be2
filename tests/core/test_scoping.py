"""core.scoping: one mechanism (``visible_to(user, action)`` from each model's ``scope_paths``)."""

from __future__ import annotations

from datetime import date

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import override_settings

from jiayi.core import scoping
from jiayi.core.scoping import CHANGE, VIEW, ScopedQuerySet
from jiayi.programmes import services as programme_services
from jiayi.programmes.models import Enrolment, Referral, Task
from jiayi.residents.models import HealthRecord, Household, Measurement, Resident

pytestmark = pytest.mark.django_db

TEAM_SCOPE = {"DOCTOR_LIST_SOFT_CAP": 2000, "STAFF_SCOPE": "team", "API_TOKEN_DAYS": 30}


def _scoped_models():
    return [m for m in apps.get_models() if isinstance(m._default_manager.all(), ScopedQuerySet)]


def test_every_scoped_model_declares_paths_that_resolve(district):
    models = _scoped_models()
    assert {Resident, Household, HealthRecord, Measurement, Enrolment, Task, Referral} <= set(models)
    for model in models:
        paths = scoping.scope_paths_of(model)
        assert set(paths) <= {"institution", "resident", "user", "deleted", "offered_by", "published", "referral"}
        # every declared path is a real relation path: the filter compiles for each kind of user
        for persona in ("doctor_a", "district_admin", "referral_desk", "resident"):
            list(model.objects.visible_to(district.user(persona))[:1])


def _enrol(district, resident):
    return programme_services.enrolment_create(
        actor=district.doctor_a.user, resident=resident, programme="hypertension", start_date=date(2026, 1, 5)
    )


def test_staff_see_their_subtree_and_writers_may_change(district):
    _enrol(district, district.resident_a)
    _enrol(district, district.resident_b)
    seen = set(Enrolment.objects.visible_to(district.doctor_a.user).values_list("resident_id", flat=True))
    assert seen == {district.resident_a.pk}
    assert Enrolment.objects.visible_to(district.doctor_a.user, CHANGE).count() == 1
    # the district sees both, but an administrator is not a clinical writer
    assert Enrolment.objects.visible_to(district.district_admin.user).count() == 2
    assert not Enrolment.objects.visible_to(district.district_admin.user, CHANGE).exists()
    assert not Resident.objects.visible_to(district.auditor.user, CHANGE).exists()


def test_the_work_list_shape_filters_the_programme_table_through_a_join(district):
    """Staff filter ``resident.institution_id IN (...)`` on a join, not a subquery of residents."""
    sql = str(Task.objects.visible_to(district.doctor_a.user).query).upper()
    where = sql.split(" WHERE ", 1)[1]
    assert "INNER JOIN" in sql and "SELECT" not in where
    ids = ", ".join(map(str, district.centre_a.subtree_ids()))
    assert f'"RESIDENTS_RESIDENT"."INSTITUTION_ID" IN ({ids})' in where


def test_a_resident_sees_only_themself(district):
    _enrol(district, district.resident_a)
    _enrol(district, district.resident_b)
    user = district.resident_user
    assert list(Resident.objects.visible_to(user)) == [district.resident_a]
    assert set(Enrolment.objects.visible_to(user).values_list("resident_id", flat=True)) == {district.resident_a.pk}
    assert not Enrolment.objects.visible_to(user, CHANGE).exists()
    assert scoping.user_role(user) == "resident"


def test_the_referral_desk_sees_nothing_but_referrals_to_its_hospital(district):
    enrolment = _enrol(district, district.resident_a)
    to_desk = Referral.objects.create(
        resident=district.resident_a, enrolment=enrolment, programme="hypertension", referred_on=date(2026, 2, 1),
        to_institution=district.hospital, institution=district.centre_a,
    )
    Referral.objects.create(
        resident=district.resident_a, enrolment=enrolment, programme="hypertension", referred_on=date(2026, 2, 2),
        to_institution=None, to_institution_name="外区医院", institution=district.centre_a,
    )
    desk = district.referral_desk.user
    assert list(Referral.objects.visible_to(desk)) == [to_desk]
    assert not Resident.objects.visible_to(desk).exists()
    assert not Enrolment.objects.visible_to(desk).exists()
    assert scoping.institution_ids_visible_to(desk) is None


def test_a_superuser_sees_everything_but_deleted_residents(district):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-12345678")
    assert Resident.objects.visible_to(admin).count() == 3
    Resident.objects.filter(pk=district.resident_b.pk).update(is_deleted=True)
    assert Resident.objects.visible_to(admin).count() == 2
    assert scoping.can(admin, CHANGE) and scoping.can(admin, scoping.AUDIT)


def test_nobody_and_inactive_staff_see_nothing(district):
    assert not Resident.objects.visible_to(None).exists()
    district.doctor_a.active = False
    district.doctor_a.save()
    user = get_user_model().objects.get(pk=district.doctor_a.user.pk)
    assert not Resident.objects.visible_to(user).exists()
    assert not scoping.can(user, VIEW)


def test_team_scope_narrows_rows_about_residents_through_the_contracts(district):
    from jiayi.contracts import services as contract_services

    _enrol(district, district.resident_a)
    _enrol(district, district.resident_a1)
    basic = {p.code: p for p in contract_services.packages_install_defaults()}["basic"]
    contract_services.contract_sign(
        actor=district.doctor_a.user, resident=district.resident_a, team=district.team_a, doctor=district.doctor_a,
        packages=[basic], consent_method="handwritten",
    )
    with override_settings(JIAYI=TEAM_SCOPE):
        doctor = get_user_model().objects.get(pk=district.doctor_a.user.pk)
        assert set(Enrolment.objects.visible_to(doctor).values_list("resident_id", flat=True)) == {
            district.resident_a.pk
        }
        assert set(Task.objects.visible_to(doctor).values_list("resident_id", flat=True)) == {district.resident_a.pk}
        # the public-health physician keeps the institution subtree
        assert Enrolment.objects.visible_to(district.ph_a.user).count() == 2


def test_an_unknown_action_is_refused(district):
    with pytest.raises(ValueError):
        Resident.objects.visible_to(district.doctor_a.user, "delete")
