"""The hypertension programme's contract service item and default package (contracts registries)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy

from jiayi.contracts.catalogue import ServiceCategory, ServiceItem, register_item
from jiayi.contracts.defaults import DefaultPackage, register_package


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it (as in jiayi.contracts.catalogue)."""
    return s


FOLLOW_UP = register_item(ServiceItem(
    "ht_follow_up", _("高血压随访"), ServiceCategory.PUBLIC_HEALTH,
    description=_("高血压患者面对面随访（国家基本公共卫生服务规范）"), order=10,
))

PACKAGE = register_package(DefaultPackage(
    "hypertension",
    gettext_lazy("高血压健康管理包"),
    "personalised",
    gettext_lazy("高血压患者每年4次面对面随访、血压监测、用药指导与长处方。"),
    ("hypertension",),
    Decimal("150"),
    Decimal("90"),
    Decimal("40"),
    Decimal("20"),
    (
        ("ht_follow_up", 4, False),
        ("bp_measurement", 8, False),
        ("medication_plan", 2, False),
        ("health_education", 2, True),
    ),
    order=20,
))
