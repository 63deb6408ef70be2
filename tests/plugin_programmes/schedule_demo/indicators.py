"""The schedule demo's dashboard section and indicator (indicator catalogue registry)."""

from jiayi.indicators import catalogue as C
from tests.plugin_programmes.demo_support import REQUIRES, visited_enrolments
from tests.plugin_programmes.schedule_demo.programme import CODE

C.register_group(CODE, "定期演示项目", order=901)
C.register(C.Indicator(
    f"{CODE}.contact_share", "定期演示项目年内检查率", "Schedule demo: enrolled children checked this year", CODE,
    "年内有检查的在册儿童数", "年内在册儿童数", "ytd", "resident", "tests/plugin_programmes", "H",
    visited_enrolments(CODE), requires=REQUIRES,
))
