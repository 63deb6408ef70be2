"""Declarative visit-form schemas: one per programme, validated the same way by the API and the pages.

Pure Python (no Django). A schema is a list of typed fields grouped in sections; ``validate`` turns
raw input (JSON from the API, strings from a page) into clean JSON-able values and field-level
messages (Chinese message ids, translated by the caller). Medication lines are a nested list with
their own field paths (``medications.0.dose``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

__all__ = [
    "DOSE_UNITS",
    "DRUG_CLASSES",
    "EXCLUDED_DRUG_CLASSES",
    "MEDICATION_LINE_FIELDS",
    "FieldSpec",
    "FormSchema",
    "clean_medication_lines",
]


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s


Translate = Callable[[str], str]


INT, DECIMAL, CHOICE, MULTI, BOOL, TEXT, MEDICATIONS = (
    "int",
    "decimal",
    "choice",
    "multi",
    "bool",
    "text",
    "medications",
)
KINDS: Final[frozenset[str]] = frozenset({INT, DECIMAL, CHOICE, MULTI, BOOL, TEXT, MEDICATIONS})


@dataclass(frozen=True)
class FieldSpec:
    """One form field.

    ``prefill``: copied from the patient's previous visit into a new form (lifestyle, targets,
    medication); measured values (BP, glucose) are never prefilled, only shown as hints.
    ``rules``: the field feeds the pure rules (so the page recomputes the outcome when it changes).
    """

    name: str
    label: str
    kind: str
    section: str
    required: bool = False
    min: float | None = None
    max: float | None = None
    decimals: int = 1
    choices: tuple[tuple[str, str], ...] = ()
    unit: str = ""
    help: str = ""
    prefill: bool = False
    max_length: int = 200
    rules: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}")
        if self.kind in (CHOICE, MULTI) and not self.choices:
            raise ValueError(f"field {self.name} needs choices")

    @property
    def choice_codes(self) -> tuple[str, ...]:
        return tuple(c for c, _label in self.choices)


@dataclass(frozen=True)
class FormSchema:
    programme: str
    title: str
    sections: tuple[tuple[str, str], ...]
    fields: tuple[FieldSpec, ...]
    #: field groups whose values must be consistent, e.g. "none" excludes other symptoms
    exclusive_none: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate field names in schema {self.programme}")
        codes = {c for c, _label in self.sections}
        for f in self.fields:
            if f.section not in codes:
                raise ValueError(f"field {f.name} is in unknown section {f.section!r}")

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def by_section(self) -> list[tuple[str, str, list[FieldSpec]]]:
        return [(code, label, [f for f in self.fields if f.section == code]) for code, label in self.sections]

    def validate(
        self, data: Mapping[str, Any], *, translate: Translate = _
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """(clean values, errors by field path). Unknown keys are errors; empty optional fields are
        left out of the clean values. Messages are Chinese; pass ``translate`` (e.g. Django's
        ``gettext``) to translate each message template and label before the values are filled in."""
        tr = translate
        errors: dict[str, list[str]] = {}
        clean: dict[str, Any] = {}
        known = set(self.names)
        for key in data:
            if key not in known:
                errors.setdefault(key, []).append(tr(_("未知字段。")))
        for spec in self.fields:
            raw = data.get(spec.name)
            try:
                value = _clean_value(spec, raw, tr)
            except ValueError as exc:
                errors.setdefault(spec.name, []).append(str(exc))
                continue
            except _LineErrors as exc:
                for path, msg in exc.errors.items():
                    errors.setdefault(f"{spec.name}.{path}", []).append(msg)
                continue
            if _is_empty(value):
                if spec.required:
                    errors.setdefault(spec.name, []).append(tr(_("请填写{label}。")).format(label=tr(spec.label)))
                continue
            clean[spec.name] = value
        for name in self.exclusive_none:
            chosen = clean.get(name)
            if chosen and "none" in chosen and len(chosen) > 1:
                errors.setdefault(name, []).append(tr(_("选择“无”时不能同时选择其他项。")))
        return clean, errors

    def prefill_from(self, previous: Mapping[str, Any] | None) -> dict[str, Any]:
        """The values a new visit form starts with: the prefillable fields of the previous visit."""
        if not previous:
            return {}
        return {f.name: previous[f.name] for f in self.fields if f.prefill and f.name in previous}


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


class _LineErrors(Exception):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def _number(spec: FieldSpec, raw: Any, tr: Translate = _) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise ValueError(tr(_("{label}应为数字。")).format(label=tr(spec.label)))
    try:
        value = float(Decimal(str(raw).strip()))
    except (InvalidOperation, ValueError):
        raise ValueError(tr(_("{label}应为数字。")).format(label=tr(spec.label))) from None
    if not math.isfinite(value):
        raise ValueError(tr(_("{label}应为数字。")).format(label=tr(spec.label)))
    if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
        raise ValueError(
            tr(_("{label}应在{low}–{high}{unit}之间。")).format(
                label=tr(spec.label), low=_fmt(spec.min), high=_fmt(spec.max), unit=spec.unit
            )
        )
    return value


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _clean_value(spec: FieldSpec, raw: Any, tr: Translate = _) -> Any:
    if spec.kind == INT:
        value = _number(spec, raw, tr)
        if value is None:
            return None
        if value != int(value):
            raise ValueError(tr(_("{label}应为整数。")).format(label=tr(spec.label)))
        return int(value)
    if spec.kind == DECIMAL:
        value = _number(spec, raw, tr)
        return None if value is None else round(value, spec.decimals)
    if spec.kind == CHOICE:
        if raw is None or raw == "":
            return None
        if raw not in spec.choice_codes:
            raise ValueError(tr(_("{label}的选项无效。")).format(label=tr(spec.label)))
        return raw
    if spec.kind == MULTI:
        if raw is None or raw == "":
            return []
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list | tuple):
            raise ValueError(tr(_("{label}的选项无效。")).format(label=tr(spec.label)))
        bad = [c for c in raw if c not in spec.choice_codes]
        if bad:
            raise ValueError(tr(_("{label}的选项无效。")).format(label=tr(spec.label)))
        return [c for c in spec.choice_codes if c in raw]  # schema order, no duplicates
    if spec.kind == BOOL:
        if raw is None or raw == "":
            return None
        if isinstance(raw, bool):
            return raw
        if raw in ("1", "true", "on", "yes", 1):
            return True
        if raw in ("0", "false", "off", "no", 0):
            return False
        raise ValueError(tr(_("{label}应为是或否。")).format(label=tr(spec.label)))
    if spec.kind == TEXT:
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise ValueError(tr(_("{label}应为文字。")).format(label=tr(spec.label)))
        text = raw.strip()
        if len(text) > spec.max_length:
            raise ValueError(tr(_("{label}不能超过{n}个字。")).format(label=tr(spec.label), n=spec.max_length))
        return text
    if spec.kind == MEDICATIONS:
        return clean_medication_lines(raw, translate=tr)
    raise ValueError(f"unknown kind {spec.kind}")


# ---------------------------------------------------------------------------------------------
# Medication lines (用药情况) — shared by every chronic programme
# ---------------------------------------------------------------------------------------------

#: Drug classes a plan line may name. The excluded classes (RULES.md §10.3, H) can be planned but
#: never prescribed long term; the long-prescription rules refuse them.
DRUG_CLASSES: Final[dict[str, str]] = {
    "acei": _("血管紧张素转换酶抑制剂（ACEI）"),
    "arb": _("血管紧张素Ⅱ受体拮抗剂（ARB）"),
    "arni": _("血管紧张素受体脑啡肽酶抑制剂（ARNI）"),
    "ccb": _("钙通道阻滞剂（CCB）"),
    "diuretic": _("利尿剂"),
    "beta_blocker": _("β受体阻滞剂"),
    "alpha_blocker": _("α受体阻滞剂"),
    "fixed_combination": _("单片复方制剂"),
    "biguanide": _("双胍类"),
    "sulfonylurea": _("磺脲类"),
    "glinide": _("格列奈类"),
    "alpha_glucosidase_inhibitor": _("α-糖苷酶抑制剂"),
    "tzd": _("噻唑烷二酮类"),
    "dpp4": _("DPP-4抑制剂"),
    "sglt2": _("SGLT2抑制剂"),
    "glp1": _("GLP-1受体激动剂"),
    "insulin": _("胰岛素"),
    "statin": _("他汀类调脂药"),
    "antiplatelet": _("抗血小板药"),
    "tcm": _("中成药"),
    "other": _("其他"),
    # Excluded from long prescriptions (长期处方管理规范（试行） 2021):
    "toxic": _("医疗用毒性药品"),
    "radioactive": _("放射性药品"),
    "precursor": _("易制毒药品"),
    "narcotic": _("麻醉药品"),
    "psychotropic": _("第一类、第二类精神药品"),
    "antimicrobial": _("抗微生物药物（治疗结核等慢性细菌真菌感染的除外）"),
    "special_storage": _("对储存条件有特殊要求的药品"),
}

EXCLUDED_DRUG_CLASSES: Final[frozenset[str]] = frozenset(
    {"toxic", "radioactive", "precursor", "narcotic", "psychotropic", "antimicrobial", "special_storage"}
)

DOSE_UNITS: Final[dict[str, str]] = {
    "mg": "mg", "g": "g", "ug": "μg", "IU": _("单位"), "ml": "ml", "tablet": _("片"), "capsule": _("粒"),
    "bag": _("袋"), "pill": _("丸"),
}  # fmt: skip

MEDICATION_LINE_FIELDS: Final[tuple[str, ...]] = (
    "drug", "drug_class", "dose", "dose_unit", "times_per_day", "duration_days",
)  # fmt: skip

MAX_MEDICATION_LINES: Final[int] = 12


def clean_medication_lines(raw: Any, *, translate: Translate = _) -> list[dict[str, Any]]:
    """Validate medication lines: drug name, class, dose per administration and unit, times a day,
    days per prescription. Rows with every field blank are dropped (empty rows of the page form).
    Raises _LineErrors with paths ``<index>.<field>``; the duration limit itself is a rule of the
    long-prescription rule set, checked by the service. ``translate`` as for FormSchema.validate."""
    tr = translate
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list | tuple):
        raise ValueError(tr(_("用药情况格式不正确。")))
    errors: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    rows = [r for r in raw if not (isinstance(r, Mapping) and all(_is_empty(v) for v in r.values()))]
    if len(rows) > MAX_MEDICATION_LINES:
        raise ValueError(tr(_("用药不能超过{n}种。")).format(n=MAX_MEDICATION_LINES))
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            errors[str(i)] = tr(_("用药情况格式不正确。"))
            continue
        unknown = set(row) - set(MEDICATION_LINE_FIELDS)
        for key in sorted(unknown):
            errors[f"{i}.{key}"] = tr(_("未知字段。"))
        drug = str(row.get("drug") or "").strip()
        if not drug:
            errors[f"{i}.drug"] = tr(_("请填写药物名称。"))
        elif len(drug) > 100:
            errors[f"{i}.drug"] = tr(_("药物名称不能超过100个字。"))
        drug_class = row.get("drug_class") or "other"
        if drug_class not in DRUG_CLASSES:
            errors[f"{i}.drug_class"] = tr(_("药物类别无效。"))
        dose = _line_number(row.get("dose"), 0.001, 10000)
        if dose is None:
            errors[f"{i}.dose"] = tr(_("每次剂量应为大于0的数字。"))
        unit = row.get("dose_unit") or ""
        if unit not in DOSE_UNITS:
            errors[f"{i}.dose_unit"] = tr(_("请选择剂量单位。"))
        times = _line_number(row.get("times_per_day"), 1, 6)
        if times is None or times != int(times):
            errors[f"{i}.times_per_day"] = tr(_("每日次数应为1–6的整数。"))
        days = _line_number(row.get("duration_days"), 1, 366)
        if days is None or days != int(days):
            errors[f"{i}.duration_days"] = tr(_("处方天数应为正整数。"))
        if not any(k.startswith(f"{i}.") for k in errors):
            out.append(
                {
                    "drug": drug,
                    "drug_class": drug_class,
                    "dose": round(float(dose or 0), 3),
                    "dose_unit": unit,
                    "times_per_day": int(times or 0),
                    "duration_days": int(days or 0),
                }
            )
    if errors:
        raise _LineErrors(errors)
    return out


def _line_number(raw: Any, low: float, high: float) -> float | None:
    if raw is None or raw == "" or isinstance(raw, bool):
        return None
    try:
        value = float(Decimal(str(raw).strip()))
    except (InvalidOperation, ValueError):
        return None
    if not math.isfinite(value) or value < low or value > high:
        return None
    return value
