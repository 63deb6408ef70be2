"""高血压患者随访服务记录表 as a form schema (RULES.md §2.2; national form fields)."""

from __future__ import annotations

from jiayi.programmes import fields as f
from jiayi.programmes.chronic_rules import HTN_U2_SYMPTOMS, HTN_U3_SYMPTOMS
from jiayi.programmes.schema import CHOICE, MULTI, TEXT, FieldSpec, FormSchema


def _(s: str) -> str:
    return s


SYMPTOM_CHOICES = (
    ("none", _("无症状")),
    ("headache_dizziness", _("头痛头晕")),
    ("nausea_vomiting", _("恶心呕吐")),
    ("tinnitus", _("眼花耳鸣")),
    ("dyspnoea", _("呼吸困难")),
    ("palpitations_chest", _("心悸胸闷")),
    ("epistaxis", _("鼻衄出血不止")),
    ("numbness", _("四肢发麻")),
    ("oedema", _("下肢水肿")),
)
SALT = (("light", _("轻")), ("medium", _("中")), ("heavy", _("重")))

SCHEMA = FormSchema(
    programme="hypertension",
    title=_("高血压患者随访服务记录表"),
    sections=f.SECTIONS,
    fields=(
        *f.danger_fields(HTN_U2_SYMPTOMS | HTN_U3_SYMPTOMS),
        FieldSpec("symptoms", _("症状"), MULTI, "symptoms", choices=SYMPTOM_CHOICES),
        FieldSpec("symptoms_other", _("其他症状"), TEXT, "symptoms"),
        *f.sign_fields(bp_required=True),
        *f.lifestyle_fields(
            diet=FieldSpec("salt", _("摄盐情况"), CHOICE, "lifestyle", choices=SALT, prefill=True),
            diet_target=FieldSpec(
                "salt_target", _("摄盐情况（目标）"), CHOICE, "lifestyle", choices=SALT, prefill=True
            ),
        ),
        FieldSpec("aux_exam", _("辅助检查"), TEXT, "tests", max_length=500),
        *f.medication_fields(),
        *f.referral_fields(),
    ),
    exclusive_none=("symptoms",),
)
