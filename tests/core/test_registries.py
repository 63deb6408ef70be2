"""The registries are filled by the apps that own their content (ADR 0010)."""

from __future__ import annotations

from datetime import date

import pytest


def test_programme_folders_declare_their_modules_and_discovery_finds_them():
    from jiayi.core.discovery import autodiscover

    for module in ("indicators", "diagnoses", "service_items"):
        found = autodiscover(module)
        assert {"jiayi.programmes.hypertension", "jiayi.programmes.diabetes"} <= {
            name.rsplit(".", 1)[0] for name in found
        }, (module, found)
    assert "jiayi.residents.diagnoses" in autodiscover("diagnoses")


def test_the_catalogue_keeps_the_shared_indicators_and_the_programmes_add_theirs():
    from jiayi.indicators import catalogue as C
    from tests.indicators.test_golden import ignored_indicators

    # The test-only programmes the test settings install (tests/plugin_programmes) add sections and
    # indicators of their own (their builders live under tests.); the real catalogue is the rest.
    test_only = ignored_indicators()
    codes = [c for c in C.CATALOGUE if c not in test_only]
    test_groups = {C.CATALOGUE[c].group for c in test_only} - {C.CATALOGUE[c].group for c in codes}
    assert codes[0] == "record.rate" and codes[-1] == "workforce.gp_per_10k"
    for code in ("ht.management_rate", "dm.control_rate", "contract.coverage.ht_managed",
                 "chronic.medication_plan_share"):
        assert code in C.CATALOGUE
    assert [g for g in C.GROUPS if g not in test_groups] == [
        "records", "contracts", "hypertension", "diabetes", "elderly", "workforce",
    ]
    # Sections in dashboard order; inside contracts the shared ones first, then ht before dm.
    groups = [C.CATALOGUE[c].group for c in C.CATALOGUE]
    assert groups == sorted(groups, key=list(C.GROUPS).index)
    assert codes.index("contract.coverage.ht_managed") < codes.index("contract.coverage.dm_managed")
    assert codes.index("contract.satisfaction") < codes.index("contract.coverage.ht_managed")


def test_an_indicator_needs_a_registered_group():
    from jiayi.indicators import catalogue as C

    ind = C.CATALOGUE["record.rate"]
    with pytest.raises(ValueError, match="no dashboard group"):
        C.register(C.Indicator(**{**ind.__dict__, "code": "test.orphan", "group": "no-such-group"}))
    assert "test.orphan" not in C.CATALOGUE


def test_the_rule_context_is_a_mapping_of_the_registered_programmes():
    from jiayi.indicators.facts import chronic_programmes, rule_context, rule_programmes

    ctx = rule_context(date(2026, 1, 15))
    assert set(chronic_programmes()) == {"hypertension", "diabetes"}
    assert list(ctx) == list(rule_programmes())
    assert ctx["programme-engine"] is ctx.engine and ctx["indicators"] is ctx.indicators
    for code in chronic_programmes():
        assert ctx.disease(code).programme == code
    with pytest.raises(KeyError):
        ctx.disease("tuberculosis")  # no longer the diabetes rule set
    with pytest.raises(KeyError):
        ctx.disease("family-doctor")
    assert ctx.labels() == {rs.programme: rs.code for rs in ctx.values()}


def test_person_flags_come_from_the_registered_programmes():
    from jiayi.indicators.facts import follow_up_programmes, person_flags, programme_flags

    flags = person_flags()
    assert len(flags) == len(set(flags))
    for spec in follow_up_programmes():
        assert set(programme_flags(spec.prefix)) <= set(flags)


def test_a_flag_prefix_is_one_programme_s():
    from jiayi.indicators.facts import FollowUpFacts, follow_up_programmes, register_programme

    taken = follow_up_programmes()[0]
    with pytest.raises(ValueError, match="already used"):
        register_programme(FollowUpFacts(
            code="test-other", prefix=taken.prefix, diagnosis_group=taken.diagnosis_group, visit_types=(),
            face_to_face_modes=(), measured=taken.measured, at_target=taken.at_target,
        ))
    assert "test-other" not in {p.code for p in follow_up_programmes()}


def test_diagnosis_groups_are_registered_by_their_owners():
    from jiayi.residents import diagnoses

    assert diagnoses.get("hypertension").canonical == ("I10", "原发性高血压")
    assert diagnoses.CANONICAL_CODES["diabetes"] == ("E11", "2型糖尿病")
    assert {"tuberculosis", "severe_mental"} <= set(diagnoses.DIAGNOSIS_PREFIXES)
    assert diagnoses.diagnosis_groups(["I10", "e11.9", "A15.0", "Z00"]) == {"hypertension", "diabetes", "tuberculosis"}
    with pytest.raises(KeyError, match="no diagnosis group"):
        diagnoses.get("no-such-group")
    with pytest.raises(ValueError):
        diagnoses.register_group("empty", (), ("X00", "x"))


def test_programme_service_items_are_model_choices_in_the_old_order():
    from jiayi.contracts import catalogue
    from jiayi.contracts.defaults import DEFAULT_PACKAGES
    from jiayi.contracts.models import ContractItem

    choices = [code for code, _name in ContractItem._meta.get_field("service_code").choices]
    assert choices == list(catalogue.SERVICE_ITEMS)
    assert choices[:3] == ["ht_follow_up", "dm_follow_up", "annual_check"]
    assert [p.code for p in DEFAULT_PACKAGES] == [
        "basic", "hypertension", "diabetes", "elderly_home", "maternal", "child", "tcm", "home_sickbed",
    ]


def test_synth_stages_run_in_the_old_order():
    from jiayi.synth.pipeline import stages

    # Stages of the test-only programmes the test settings install (their code lives under tests.)
    # run after every real stage but the finalising one.
    names = [s.name for s in stages()]
    test_only = [s.name for s in stages() if s.run.__module__.startswith("tests.")]
    assert [n for n in names if n not in test_only] == [
        "org", "residents", "records", "measurements", "contracts", "programmes", "finalise",
    ]
    assert names[-1] == "finalise" and all(names.index(n) > names.index("programmes") for n in test_only)
    assert "programmes_visit" in next(s for s in stages() if s.name == "programmes").tables
