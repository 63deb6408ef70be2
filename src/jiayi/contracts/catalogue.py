"""The vocabulary of contract service items (签约服务项目), shared with the programmes.

A service package lists items by these codes with a quantity per contract period; a programme that
records a service (a hypertension follow-up, an annual check, a home visit) reports it with the same
code through :func:`jiayi.contracts.services.service_delivered`, which counts it toward the
resident's contract. Codes are stable identifiers: never rename one, add a new code instead.

A registry: the items every package may use are listed here; the items that are a programme's visits
are declared by the programme (its ``service_items.py`` calls :func:`register_item`, found by the
contracts app config). ``order`` keeps the display order (and the model choices) stable.

Pure Python (no Django). Names are Chinese message ids marked with the local no-op ``_``; callers
translate them (``gettext(item.name)``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s


class ServiceCategory:
    PUBLIC_HEALTH = "public_health"  # 基本公共卫生服务
    MEDICAL = "medical"  # 基本医疗服务
    HEALTH_MANAGEMENT = "health_management"  # 健康管理（个性化）

    LABELS: Final[dict[str, str]] = {
        PUBLIC_HEALTH: _("基本公共卫生服务"),
        MEDICAL: _("基本医疗服务"),
        HEALTH_MANAGEMENT: _("健康管理服务"),
    }


@dataclass(frozen=True)
class ServiceItem:
    code: str
    name: str  # Chinese message id
    category: str
    unit: str = _("次")
    description: str = ""
    order: int = 1000  # display order; the shared items are numbered from 100 (programmes' visits come first)


_SHARED: tuple[ServiceItem, ...] = (
    ServiceItem(
        "annual_check",
        _("年度健康体检"),
        ServiceCategory.PUBLIC_HEALTH,
        description=_("每年一次健康体检（含一般体格检查）"),
    ),
    ServiceItem(
        "elderly_check",
        _("老年人健康体检"),
        ServiceCategory.PUBLIC_HEALTH,
        description=_("65岁及以上老年人年度健康管理（体检、自理能力评估、辅助检查）"),
    ),
    ServiceItem(
        "home_visit",
        _("上门随访/家庭访视"),
        ServiceCategory.HEALTH_MANAGEMENT,
        description=_("家庭医生团队上门随访或家庭访视"),
    ),
    ServiceItem("bp_measurement", _("血压测量"), ServiceCategory.MEDICAL),
    ServiceItem("glucose_test", _("血糖检测"), ServiceCategory.MEDICAL),
    ServiceItem(
        "health_education",
        _("健康教育"),
        ServiceCategory.PUBLIC_HEALTH,
        description=_("个体化健康教育与生活方式指导"),
    ),
    ServiceItem(
        "tcm_guidance",
        _("中医药健康指导"),
        ServiceCategory.PUBLIC_HEALTH,
        description=_("中医体质辨识与中医药保健指导"),
    ),
    ServiceItem(
        "medication_plan",
        _("用药指导/长处方"),
        ServiceCategory.MEDICAL,
        description=_("慢性病用药计划、用药指导与长处方"),
    ),
    ServiceItem(
        "consultation",
        _("健康咨询"),
        ServiceCategory.MEDICAL,
        description=_("签约医生门诊、电话或线上健康咨询"),
    ),
    ServiceItem("maternal_visit", _("孕产妇访视"), ServiceCategory.PUBLIC_HEALTH, description=_("孕期随访与产后访视")),
    ServiceItem("child_check", _("儿童健康检查"), ServiceCategory.PUBLIC_HEALTH, description=_("0～6岁儿童健康检查")),
    ServiceItem(
        "home_sickbed_round",
        _("家庭病床查床"),
        ServiceCategory.MEDICAL,
        description=_("家庭病床医生上门查床"),
    ),
    ServiceItem("home_nursing", _("上门护理"), ServiceCategory.MEDICAL, description=_("换药、导管护理等上门护理服务")),
    ServiceItem("rehab_guidance", _("康复指导"), ServiceCategory.HEALTH_MANAGEMENT),
    ServiceItem(
        "referral_booking",
        _("优先预约转诊"),
        ServiceCategory.MEDICAL,
        description=_("通过签约医生优先预约上级医院号源、检查"),
    ),
    ServiceItem("mental_follow_up", _("严重精神障碍患者随访"), ServiceCategory.PUBLIC_HEALTH),
    ServiceItem("tb_follow_up", _("肺结核患者随访"), ServiceCategory.PUBLIC_HEALTH),
)

#: code -> item, in display order (a registry: see register_item).
SERVICE_ITEMS: Final[dict[str, ServiceItem]] = {}


def register_item(item: ServiceItem) -> ServiceItem:
    """Add (or replace) a service item; SERVICE_ITEMS stays in display order."""
    items = {**SERVICE_ITEMS, item.code: item}
    SERVICE_ITEMS.clear()
    SERVICE_ITEMS.update(sorted(items.items(), key=lambda kv: (kv[1].order, kv[0])))
    return item


for _order, _item in enumerate(_SHARED, start=10):
    register_item(replace(_item, order=_order * 10))


def service_choices() -> list[tuple[str, str]]:
    """(code, Chinese name) pairs for model/form choices, of every registered item."""
    return [(item.code, item.name) for item in SERVICE_ITEMS.values()]


def is_known(code: str) -> bool:
    return code in SERVICE_ITEMS


def item(code: str) -> ServiceItem:
    """The item for ``code``; KeyError naming the known codes otherwise."""
    try:
        return SERVICE_ITEMS[code]
    except KeyError:
        raise KeyError(f"unknown service item {code!r}; known: {', '.join(SERVICE_ITEMS)}") from None


def name_of(code: str) -> str:
    """The Chinese name (message id) of ``code``, or the code itself when unknown."""
    found = SERVICE_ITEMS.get(code)
    return found.name if found else code


__all__ = [
    "SERVICE_ITEMS",
    "ServiceCategory",
    "ServiceItem",
    "is_known",
    "item",
    "name_of",
    "register_item",
    "service_choices",
]
