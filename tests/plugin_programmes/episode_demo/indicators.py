"""The episode demo's dashboard section and indicator (indicator catalogue registry)."""

from jiayi.indicators import catalogue as C
from jiayi.indicators.texts import mark as _
from tests.plugin_programmes.demo_support import REQUIRES, closed_episodes
from tests.plugin_programmes.episode_demo.programme import CODE

C.register_group(CODE, _("阶段性演示项目"), order=902)
C.register(C.Indicator(
    f"{CODE}.closed_share", _("阶段性演示项目结案率"), "Episode demo: episodes opened this year and closed", CODE,
    _("年内开始且已结案的阶段数"), _("年内开始的阶段数"), "ytd", "resident",
    _("测试专用项目（tests/plugin_programmes）"), "H",
    closed_episodes(CODE), requires=REQUIRES,
))
