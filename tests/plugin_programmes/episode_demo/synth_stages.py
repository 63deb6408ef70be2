"""The episode demo's synth stage: women with an episode, half of them closed on the visit day."""

import numpy as np

from jiayi.synth.context import SynthContext
from jiayi.synth.pipeline import Stage, register_stage
from tests.plugin_programmes.demo_support import enrol_stage
from tests.plugin_programmes.episode_demo.programme import CODE


def _women(ctx: SynthContext) -> np.ndarray:
    res = ctx.frames["residents"]
    return ~res.male & (res.age >= 18) & (res.age < 50)


_OPEN = enrol_stage(CODE, _women, share=0.03, close=False, stream=f"{CODE}-open")
_CLOSED = enrol_stage(CODE, _women, share=0.03, close=True, stream=f"{CODE}-closed")


def _run(ctx: SynthContext) -> None:
    _OPEN.run(ctx)
    _CLOSED.run(ctx)


STAGE = register_stage(Stage(CODE, _run, _OPEN.tables, order=_OPEN.order))
