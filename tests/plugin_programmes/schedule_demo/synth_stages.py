"""The schedule demo's synth stage: young children enrolled, one check each."""

from jiayi.synth.pipeline import register_stage
from tests.plugin_programmes.demo_support import enrol_stage
from tests.plugin_programmes.schedule_demo.programme import CODE

STAGE = register_stage(enrol_stage(CODE, lambda ctx: ctx.frames["residents"].age <= 6, share=0.5, close=False))
