"""The follow-up demo's synth stage: adults enrolled, one visit each."""

from jiayi.synth.pipeline import register_stage
from tests.plugin_programmes.demo_support import enrol_stage
from tests.plugin_programmes.followup_demo.rules import CODE

STAGE = register_stage(enrol_stage(CODE, lambda ctx: ctx.frames["residents"].age >= 18, share=0.05, close=False))
