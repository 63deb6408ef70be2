"""2型糖尿病患者随访服务记录表 as a form schema (RULES.md §2.2; national form fields)."""

from __future__ import annotations

from jiayi.programmes import fields as f
from jiayi.programmes.chronic_rules import DM_U3_SYMPTOMS, DM_U6_SYMPTOMS
from jiayi.programmes.schema import CHOICE, INT, MULTI, TEXT, FieldSpec, FormSchema


def _(s: str) -> str:
    return s


SYMPTOM_CHOICES = (
    ("none", _("无症状")),
    ("polydipsia", _("多饮")),
    ("polyphagia", _("多食")),
    ("polyuria", _("多尿")),
    ("blurred_vision", _("视力模糊")),
    ("infection", _("感染")),
    ("numbness", _("手脚麻木")),
    ("oedema", _("下肢浮肿")),
    ("weight_loss", _("体重明显下降")),
)
FOOT_PULSE = (
    ("normal", _("触及正常")),
    ("weak_both", _("减弱（双侧）")),
    ("weak_left", _("减弱（左侧）")),
    ("weak_right", _("减弱（右侧）")),
    ("absent_both", _("消失（双侧）")),
    ("absent_left", _("消失（左侧）")),
    ("absent_right", _("消失（右侧）")),
)
HYPOGLYCAEMIA = (("none", _("无")), ("occasional", _("偶尔")), ("frequent", _("频繁")))

SCHEMA = FormSchema(
    programme="diabetes",
    title=_("2型糖尿病患者随访服务记录表"),
    sections=f.SECTIONS,
    fields=(
        *f.danger_fields(DM_U3_SYMPTOMS | DM_U6_SYMPTOMS, temperature=True),
        FieldSpec("symptoms", _("症状"), MULTI, "symptoms", choices=SYMPTOM_CHOICES),
        FieldSpec("symptoms_other", _("其他症状"), TEXT, "symptoms"),
        *f.sign_fields(bp_required=False, heart_rate_rules=True),
        FieldSpec("foot_pulse", _("足背动脉搏动"), CHOICE, "signs", choices=FOOT_PULSE),
        *f.lifestyle_fields(
            diet=FieldSpec(
                "staple_food_g", _("主食"), INT, "lifestyle", min=0, max=2000, unit=_("克/天"), prefill=True
            ),
            diet_target=FieldSpec(
                "staple_food_target_g",
                _("主食（目标）"),
                INT,
                "lifestyle",
                min=0,
                max=2000,
                unit=_("克/天"),
                prefill=True,
            ),
        ),
        f.measured("fasting_glucose", _("空腹血糖"), "tests", required=True, rules=True),
        f.measured("random_glucose", _("随机血糖"), "tests", rules=True),
        f.measured("hba1c", _("糖化血红蛋白"), "tests"),
        FieldSpec("aux_exam", _("其他检查"), TEXT, "tests", max_length=500),
        *f.medication_fields(
            extra=[
                FieldSpec("hypoglycaemia", _("低血糖反应"), CHOICE, "medication", choices=HYPOGLYCAEMIA),
            ]
        ),
        *f.referral_fields(),
    ),
    exclusive_none=("symptoms",),
)
