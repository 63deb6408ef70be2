"""Field definitions shared by the chronic-disease visit forms (national 随访服务记录表 items).

Pure Python. Measurement ranges come from ``residents.rules.MEASUREMENT_RANGES`` so that the form
refuses exactly what the resident's measurement record would refuse (e.g. SBP 400).
"""

from __future__ import annotations

from jiayi.programmes.chronic_rules import SYMPTOMS
from jiayi.programmes.schema import BOOL, CHOICE, DECIMAL, INT, MEDICATIONS, MULTI, TEXT, FieldSpec
from jiayi.residents.rules import MEASUREMENT_RANGES


def _(s: str) -> str:
    return s


def measured(
    name: str,
    label: str,
    section: str,
    *,
    kind: str = DECIMAL,
    required: bool = False,
    rules: bool = False,
    decimals: int = 1,
) -> FieldSpec:
    low, high, unit = MEASUREMENT_RANGES[name]
    return FieldSpec(
        name,
        label,
        kind,
        section,
        required=required,
        min=low,
        max=high,
        unit=unit,
        rules=rules,
        decimals=decimals,
    )


LEVEL3 = (("good", _("良好")), ("fair", _("一般")), ("poor", _("差")))
ADHERENCE = (("regular", _("规律")), ("intermittent", _("间断")), ("none", _("不服药")))
SECTIONS = (
    ("danger", _("危急情况评估")),
    ("symptoms", _("症状")),
    ("signs", _("体征")),
    ("lifestyle", _("生活方式指导")),
    ("tests", _("辅助检查")),
    ("medication", _("用药情况")),
    ("referral", _("转诊")),
)


def danger_fields(codes: frozenset[str] | set[str], *, temperature: bool = False) -> list[FieldSpec]:
    choices = tuple((c, SYMPTOMS[c]) for c in SYMPTOMS if c in codes)
    out = [
        FieldSpec(
            "danger_signs",
            _("危急症状"),
            MULTI,
            "danger",
            choices=choices,
            rules=True,
            help=_("出现任一项即须紧急转诊"),
        ),
        FieldSpec("pregnant_or_breastfeeding", _("妊娠期或哺乳期"), BOOL, "danger", rules=True),
        FieldSpec("other_unmanageable", _("存在不能处理的其他疾病"), BOOL, "danger", rules=True),
    ]
    if temperature:
        out.insert(1, FieldSpec("temperature", _("体温"), DECIMAL, "danger", min=34, max=43, unit="℃", rules=True))
    return out


def sign_fields(*, bp_required: bool, heart_rate_rules: bool = False) -> list[FieldSpec]:
    return [
        measured("sbp", _("收缩压"), "signs", kind=INT, required=bp_required, rules=True),
        measured("dbp", _("舒张压"), "signs", kind=INT, required=bp_required, rules=True),
        FieldSpec(
            "height",
            _("身高"),
            DECIMAL,
            "signs",
            min=MEASUREMENT_RANGES["height"].low,
            max=MEASUREMENT_RANGES["height"].high,
            unit="cm",
            prefill=True,
        ),
        FieldSpec(
            "weight",
            _("体重"),
            DECIMAL,
            "signs",
            min=MEASUREMENT_RANGES["weight"].low,
            max=MEASUREMENT_RANGES["weight"].high,
            unit="kg",
            prefill=True,
        ),
        FieldSpec("weight_target", _("体重（下次目标）"), DECIMAL, "signs", min=20, max=300, unit="kg", prefill=True),
        FieldSpec(
            "bmi_target",
            _("体质指数（下次目标）"),
            DECIMAL,
            "signs",
            min=10,
            max=60,
            unit="kg/m²",
            prefill=True,
        ),
        measured("heart_rate", _("心率"), "signs", kind=INT, rules=heart_rate_rules),
        FieldSpec("signs_other", _("其他体征"), TEXT, "signs"),
    ]


def lifestyle_fields(*, diet: FieldSpec, diet_target: FieldSpec) -> list[FieldSpec]:
    return [
        FieldSpec("smoking_per_day", _("日吸烟量"), INT, "lifestyle", min=0, max=100, unit=_("支"), prefill=True),
        FieldSpec(
            "smoking_target",
            _("日吸烟量（目标）"),
            INT,
            "lifestyle",
            min=0,
            max=100,
            unit=_("支"),
            prefill=True,
        ),
        FieldSpec("drinking_per_day", _("日饮酒量"), DECIMAL, "lifestyle", min=0, max=50, unit=_("两"), prefill=True),
        FieldSpec(
            "drinking_target",
            _("日饮酒量（目标）"),
            DECIMAL,
            "lifestyle",
            min=0,
            max=50,
            unit=_("两"),
            prefill=True,
        ),
        FieldSpec("exercise_per_week", _("运动次数"), INT, "lifestyle", min=0, max=21, unit=_("次/周"), prefill=True),
        FieldSpec(
            "exercise_minutes",
            _("每次运动时间"),
            INT,
            "lifestyle",
            min=0,
            max=600,
            unit=_("分钟"),
            prefill=True,
        ),
        FieldSpec(
            "exercise_target_per_week",
            _("运动次数（目标）"),
            INT,
            "lifestyle",
            min=0,
            max=21,
            unit=_("次/周"),
            prefill=True,
        ),
        FieldSpec(
            "exercise_target_minutes",
            _("每次运动时间（目标）"),
            INT,
            "lifestyle",
            min=0,
            max=600,
            unit=_("分钟"),
            prefill=True,
        ),
        diet,
        diet_target,
        FieldSpec("psychology", _("心理调整"), CHOICE, "lifestyle", choices=LEVEL3, prefill=True),
        FieldSpec("compliance", _("遵医行为"), CHOICE, "lifestyle", choices=LEVEL3, prefill=True),
    ]


def medication_fields(*, extra: list[FieldSpec] | None = None) -> list[FieldSpec]:
    return [
        FieldSpec("adherence", _("服药依从性"), CHOICE, "medication", choices=ADHERENCE, required=True, prefill=True),
        FieldSpec("adverse_reaction", _("药物不良反应"), BOOL, "medication", rules=True),
        FieldSpec("adverse_reaction_detail", _("不良反应描述"), TEXT, "medication"),
        FieldSpec("adverse_uncontrollable", _("不良反应难以控制"), BOOL, "medication", rules=True),
        *(extra or []),
        FieldSpec("complication_new_or_worse", _("出现新的并发症或原有并发症加重"), BOOL, "medication", rules=True),
        FieldSpec("complication_detail", _("并发症情况"), TEXT, "medication"),
        FieldSpec("medications", _("用药"), MEDICATIONS, "medication", prefill=True),
    ]


def referral_fields() -> list[FieldSpec]:
    return [
        FieldSpec("referral_institution", _("转诊机构"), TEXT, "referral", max_length=200),
        FieldSpec("referral_department", _("转诊科室"), TEXT, "referral", max_length=50),
        FieldSpec("note", _("备注"), TEXT, "referral", max_length=500),
    ]
