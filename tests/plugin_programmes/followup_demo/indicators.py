"""The follow-up demo's dashboard section and indicator (indicator catalogue registry)."""

from jiayi.indicators import catalogue as C
from jiayi.indicators.texts import mark as _
from tests.plugin_programmes.demo_support import REQUIRES, visited_enrolments
from tests.plugin_programmes.followup_demo.rules import CODE

C.register_group(CODE, _("随访演示项目"), order=900)
C.register(C.Indicator(
    f"{CODE}.visited_share", _("随访演示项目年内随访率"), "Follow-up demo: enrolled patients visited this year", CODE,
    _("年内有随访的在册患者数"), _("年内在册患者数"), "ytd", "resident",
    _("测试专用项目（tests/plugin_programmes）"), "H",
    visited_enrolments(CODE), requires=REQUIRES,
))
