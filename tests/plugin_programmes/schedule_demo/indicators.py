"""The schedule demo's dashboard section and indicator (indicator catalogue registry)."""

from jiayi.indicators import catalogue as C
from jiayi.indicators.texts import mark as _
from tests.plugin_programmes.demo_support import REQUIRES, visited_enrolments
from tests.plugin_programmes.schedule_demo.programme import CODE

C.register_group(CODE, _("定期演示项目"), order=901)
C.register(C.Indicator(
    f"{CODE}.contact_share", _("定期演示项目年内检查率"), "Schedule demo: enrolled children checked this year", CODE,
    _("年内有检查的在册儿童数"), _("年内在册儿童数"), "ytd", "resident",
    _("测试专用项目（tests/plugin_programmes）"), "H",
    visited_enrolments(CODE), requires=REQUIRES,
))
