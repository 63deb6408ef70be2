"""Test settings: the project settings plus the test-only programmes (tests/plugin_programmes/).

Installing a programme is one line of INSTALLED_APPS; these three lines are the test-only ones.
"""

from jiayi.settings import *  # noqa: F403
from jiayi.settings import INSTALLED_APPS

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "tests.plugin_programmes.followup_demo",
    "tests.plugin_programmes.schedule_demo",
    "tests.plugin_programmes.episode_demo",
]
