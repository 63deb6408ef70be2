"""The synth app's own contributed stage: the chronic-disease follow-up programmes (jiayi.synth.programmes),
registered in the stage registry of :mod:`jiayi.synth.pipeline` like any app's ``synth_stages.py``."""

from __future__ import annotations

from jiayi.synth.context import SynthContext
from jiayi.synth.pipeline import Stage, register_stage


def _available() -> bool:
    from jiayi.synth.programmes import available

    return available()


def _run(ctx: SynthContext) -> None:
    from jiayi.synth.programmes import build_programmes

    build_programmes(ctx)


PROGRAMMES = register_stage(Stage(
    "programmes", _run,
    ("programmes_enrolment", "programmes_visit", "programmes_task", "programmes_referral",
     "programmes_medicationplan", "programmes_medicationplanline"),
    available=_available, order=60,
))
