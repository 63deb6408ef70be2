"""The type 2 diabetes programme's indicators, dashboard section, fact declaration (indicator catalogue
registry, jiayi.indicators.catalogue) and shape in the bench's synthetic district."""

from __future__ import annotations

import ibis

from jiayi.indicators import catalogue as C
from jiayi.indicators.facts import FollowUpFacts, ParamOf, register_programme
from jiayi.indicators.synthetic import SyntheticShape, register_shape
from jiayi.indicators.texts import mark as _
from jiayi.programmes.diabetes import rules  # noqa: F401  (registers the rule sets the facts read)
from jiayi.programmes.models import FACE_TO_FACE_MODES, VisitType

CODE = "diabetes"
PREFIX = "dm"
CONTROL_PARAMS = ("target_fpg",)


def _measured(v: ibis.Table) -> ibis.Value:
    return v.fasting_glucose.notnull()


def _at_target(v: ibis.Table, p: ParamOf) -> ibis.Value:
    """chronic_rules.is_controlled: fasting glucose below ``target_fpg``."""
    return v.fasting_glucose < p("target_fpg")


register_programme(FollowUpFacts(
    code=CODE, prefix=PREFIX, diagnosis_group=CODE,
    visit_types=(str(VisitType.FOLLOW_UP), str(VisitType.ANNUAL_CHECK)),
    face_to_face_modes=tuple(str(m) for m in FACE_TO_FACE_MODES), measured=_measured, at_target=_at_target,
    control_params=CONTROL_PARAMS, order=20,
))
# The bench's synthetic district (jiayi.indicators.synthetic): patients and their measured values.
SYNTHETIC = register_shape(CODE, SyntheticShape(
    prevalence=0.10, observe=lambda rng, n: {"fasting_glucose": rng.normal(7.0, 1.2, n).round(1)},
))
C.register_group(CODE, _("2型糖尿病患者健康管理"), order=40)
C.register(
    C.managed_coverage(
        PREFIX, _("在管糖尿病患者签约覆盖率"), "Contract coverage of managed diabetes patients",
        _("统计期末在管且签约的2型糖尿病患者数"), _("统计期末在管的2型糖尿病患者数"),
    ),
    *C.follow_up_indicators(
        CODE, PREFIX, _("2型糖尿病"), "type 2 diabetes", _("血糖"), _("年内最近一次随访空腹血糖达标人数"),
        CONTROL_PARAMS,
    ),
    order=20,
)
