"""The hypertension programme's indicators, dashboard section, fact declaration (indicator catalogue
registry, jiayi.indicators.catalogue) and shape in the bench's synthetic district."""

from __future__ import annotations

import ibis

from jiayi.indicators import catalogue as C
from jiayi.indicators.facts import FollowUpFacts, ParamOf, register_programme
from jiayi.indicators.synthetic import SyntheticShape, register_shape
from jiayi.indicators.texts import mark as _
from jiayi.programmes.hypertension import rules  # noqa: F401  (registers the rule sets the facts read)
from jiayi.programmes.models import FACE_TO_FACE_MODES, VisitType

CODE = "hypertension"
PREFIX = "ht"
CONTROL_PARAMS = ("target_sbp", "target_dbp", "elderly_age", "elderly_target_sbp", "elderly_target_dbp")


def _measured(v: ibis.Table) -> ibis.Value:
    return v.sbp.notnull() & v.dbp.notnull()


def _at_target(v: ibis.Table, p: ParamOf) -> ibis.Value:
    """chronic_rules.is_controlled: SBP and DBP below target, the elderly target from ``elderly_age``."""
    elderly = v.age >= p("elderly_age")
    sbp_t = elderly.ifelse(p("elderly_target_sbp"), p("target_sbp"))
    dbp_t = elderly.ifelse(p("elderly_target_dbp"), p("target_dbp"))
    return (v.sbp < sbp_t) & (v.dbp < dbp_t)


register_programme(FollowUpFacts(
    code=CODE, prefix=PREFIX, diagnosis_group=CODE,
    visit_types=(str(VisitType.FOLLOW_UP), str(VisitType.ANNUAL_CHECK)),
    face_to_face_modes=tuple(str(m) for m in FACE_TO_FACE_MODES), measured=_measured, at_target=_at_target,
    control_params=CONTROL_PARAMS, order=10,
))
# The bench's synthetic district (jiayi.indicators.synthetic): patients and their measured values.
SYNTHETIC = register_shape(CODE, SyntheticShape(
    prevalence=0.25,
    observe=lambda rng, n: {"sbp": rng.normal(138, 14, n).round(), "dbp": rng.normal(84, 9, n).round()},
))
C.register_group(CODE, _("高血压患者健康管理"), order=30)
C.register(
    C.managed_coverage(
        PREFIX, _("在管高血压患者签约覆盖率"), "Contract coverage of managed hypertension patients",
        _("统计期末在管且签约的高血压患者数"), _("统计期末在管的高血压患者数"),
    ),
    *C.follow_up_indicators(
        CODE, PREFIX, _("高血压"), "hypertension", _("血压"), _("年内最近一次随访血压达标人数"), CONTROL_PARAMS,
    ),
    C.Indicator(
        "chronic.medication_plan_share", _("签约高血压糖尿病患者用药计划比例"),
        "Signed hypertension and diabetes patients with a medication plan", CODE,
        _("有执行中用药方案的签约在管高血压、糖尿病患者数（按病种计）"),
        _("统计期末在管且有生效签约的高血压、糖尿病患者数（按病种计）"), "point", "resident",
        "TARGETS.md binhai-2019", "M", C.medication_plan_share,
        requires=("residents", "enrolments", "visits", "contracts", "medication_plans"),
    ),
    order=10,
)
