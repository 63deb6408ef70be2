"""Renew, switch team at expiry, terminate early, expire (job and computed), pending → active."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from jiayi.contracts.models import Contract, ContractStatus
from jiayi.contracts.services import contract_renew, contract_terminate, contracts_refresh_status
from jiayi.core.errors import ConcurrentEditError, DomainValidationError
from jiayi.org.models import Role, TeamRole
from tests import factories as f
from tests.contracts.conftest import sign

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


def _ending_soon(district, resident, packages, days_left=20):
    """A contract of 12 months that ends in ``days_left`` days."""
    from jiayi.contracts import rules

    start = _today()
    while rules.contract_end(start, 12) > _today() + timedelta(days=days_left):
        start -= timedelta(days=1)
    return sign(district, resident, packages, start_date=start)


def _renew(district, contract, **kw):
    return contract_renew(actor=district.doctor_a.user, contract=contract, consent_method="handwritten", **kw)


def test_it_renews_from_the_day_after_the_end(district, basic):
    old = _ending_soon(district, district.resident_a, [basic])
    new = _renew(district, old)
    assert new.renewal_of == old
    assert new.start_date == old.end_date + timedelta(days=1)
    assert new.status == ContractStatus.PENDING
    old.refresh_from_db()
    assert old.status == ContractStatus.ACTIVE  # still in force until its end
    assert not new.team_switched


def test_the_status_job_expires_and_activates(district, basic):
    old = _ending_soon(district, district.resident_a, [basic])
    new = _renew(district, old)
    result = contracts_refresh_status(today=new.start_date)
    assert result == {"renewed": 1, "expired": 0, "activated": 1}
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.status == ContractStatus.RENEWED and new.status == ContractStatus.ACTIVE


def test_the_management_command_runs_the_job(district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=400), months=12)
    Contract.objects.filter(pk=c.pk).update(status=ContractStatus.ACTIVE)
    call_command("contracts_expire")
    c.refresh_from_db()
    assert c.status == ContractStatus.EXPIRED


def test_status_is_computed_from_dates_when_the_job_has_not_run(district, basic):
    c = _ending_soon(district, district.resident_a, [basic])
    later = c.end_date + timedelta(days=1)
    assert c.status == ContractStatus.ACTIVE
    assert c.status_on(later) == ContractStatus.EXPIRED
    assert not Contract.objects.active_on(later).filter(pk=c.pk).exists()
    annotated = Contract.objects.with_effective_status(later).get(pk=c.pk)
    assert annotated.effective_status == ContractStatus.EXPIRED


def test_a_stale_active_contract_does_not_block_a_new_signing(district, basic):
    old = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=500))
    Contract.objects.filter(pk=old.pk).update(status=ContractStatus.ACTIVE)  # job never ran
    new = sign(district, district.resident_a, [basic])
    old.refresh_from_db()
    assert old.status == ContractStatus.EXPIRED and new.status == ContractStatus.ACTIVE


def test_switch_team_at_expiry(district, basic):
    old = _ending_soon(district, district.resident_a, [basic])
    team2 = f.team("天平2队", district.centre_a, [])
    doctor2 = f.staff("doctor_a2", "钱医生", Role.FAMILY_DOCTOR, district.centre_a)
    from jiayi.org.models import TeamMember

    TeamMember.objects.create(team=team2, staff=doctor2, role=TeamRole.LEADER)
    new = _renew(district, old, team=team2, doctor=doctor2)
    assert new.team == team2 and new.team_switched


def test_it_refuses_to_renew_too_early(district, basic):
    c = sign(district, district.resident_a, [basic])
    with pytest.raises(DomainValidationError) as e:
        _renew(district, c)
    assert "尚未到续约时间" in e.value.errors[""][0]


def test_it_refuses_to_renew_twice(district, basic):
    old = _ending_soon(district, district.resident_a, [basic])
    _renew(district, old)
    with pytest.raises(DomainValidationError) as e:
        _renew(district, old)
    assert "已续约" in e.value.errors[""][0]


def test_renewal_after_expiry_starts_today(district, basic):
    old = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=400))
    assert old.status == ContractStatus.EXPIRED
    new = _renew(district, old)
    assert new.start_date == _today() and new.status == ContractStatus.ACTIVE
    old.refresh_from_db()
    assert old.status == ContractStatus.RENEWED


def test_renewal_too_late_is_refused(district, basic):
    old = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=600))
    with pytest.raises(DomainValidationError) as e:
        _renew(district, old)
    assert "重新签约" in e.value.errors[""][0]


def test_renewal_drops_packages_that_no_longer_fit(district, packages, hypertensive):
    old = _ending_soon(district, hypertensive, [packages["basic"], packages["hypertension"]])
    hypertensive.problems.update(resolved_on=_today())
    from jiayi.residents.services import key_population_refresh

    key_population_refresh(resident=hypertensive)
    new = _renew(district, old)
    assert set(new.packages.values_list("code", flat=True)) == {"basic"}
    assert any("高血压健康管理包" in w for w in new.warnings)


def test_it_terminates_with_a_reason(district, basic):
    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=30))
    c = contract_terminate(actor=district.doctor_a.user, contract=c, version=c.version, reason="moved_out")
    assert c.status == ContractStatus.TERMINATED and c.terminated_on == _today()
    assert not Contract.objects.current().filter(pk=c.pk).exists()
    # The resident may sign again from today.
    sign(district, district.resident_a, [basic])


def test_termination_needs_a_valid_reason_and_version(district, basic):
    c = sign(district, district.resident_a, [basic])
    with pytest.raises(DomainValidationError) as e:
        contract_terminate(actor=None, contract=c, version=c.version, reason="bored")
    assert "reason" in e.value.errors
    with pytest.raises(DomainValidationError) as e:
        contract_terminate(actor=None, contract=c, version=c.version, reason="other")
    assert "note" in e.value.errors
    with pytest.raises(DomainValidationError) as e:
        contract_terminate(
            actor=None, contract=c, version=c.version, reason="moved_out", on=_today() + timedelta(days=1)
        )
    assert "on" in e.value.errors
    with pytest.raises(ConcurrentEditError):
        contract_terminate(actor=None, contract=c, version=c.version + 5, reason="moved_out")
    c.refresh_from_db()
    assert c.status == ContractStatus.ACTIVE


def test_it_refuses_to_terminate_twice_or_after_expiry(district, basic):
    c = sign(district, district.resident_a, [basic])
    c = contract_terminate(actor=None, contract=c, version=c.version, reason="resident_request")
    with pytest.raises(DomainValidationError):
        contract_terminate(actor=None, contract=c, version=c.version, reason="resident_request")
    old = sign(district, district.resident_a1, [basic], start_date=_today() - timedelta(days=400))
    with pytest.raises(DomainValidationError) as e:
        contract_terminate(actor=None, contract=old, version=old.version, reason="resident_request")
    assert "已到期" in e.value.errors[""][0]


def test_terminating_a_pending_renewal_restores_expired(district, basic):
    old = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=400))
    new = _renew(district, old)
    old.refresh_from_db()
    assert old.status == ContractStatus.RENEWED
    new = contract_terminate(actor=None, contract=new, version=new.version, reason="recorded_in_error")
    old.refresh_from_db()
    assert old.status == ContractStatus.EXPIRED
    assert old.status_on(_today()) == ContractStatus.EXPIRED


def test_terminated_contract_cannot_be_renewed(district, basic):
    c = _ending_soon(district, district.resident_a, [basic])
    c = contract_terminate(actor=None, contract=c, version=c.version, reason="resident_request")
    with pytest.raises(DomainValidationError):
        _renew(district, c)


def test_the_background_task_runs_the_job(district, basic):
    from jiayi.contracts.tasks import contracts_expire_task

    c = sign(district, district.resident_a, [basic], start_date=_today() - timedelta(days=400))
    Contract.objects.filter(pk=c.pk).update(status=ContractStatus.ACTIVE)
    assert contracts_expire_task.call() == {"renewed": 0, "expired": 1, "activated": 0}
