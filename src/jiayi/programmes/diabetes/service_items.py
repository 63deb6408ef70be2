"""The type 2 diabetes programme's contract service item and default package (contracts registries)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy

from jiayi.contracts.catalogue import ServiceCategory, ServiceItem, register_item
from jiayi.contracts.defaults import DefaultPackage, register_package


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it (as in jiayi.contracts.catalogue)."""
    return s


FOLLOW_UP = register_item(ServiceItem(
    "dm_follow_up", _("糖尿病随访"), ServiceCategory.PUBLIC_HEALTH, description=_("2型糖尿病患者面对面随访"),
    order=20,
))

PACKAGE = register_package(DefaultPackage(
    "diabetes",
    gettext_lazy("糖尿病健康管理包"),
    "personalised",
    gettext_lazy("2型糖尿病患者每年4次面对面随访、血糖监测、用药指导与长处方。"),
    ("diabetes",),
    Decimal("180"),
    Decimal("110"),
    Decimal("40"),
    Decimal("30"),
    (
        ("dm_follow_up", 4, False),
        ("glucose_test", 4, False),
        ("medication_plan", 2, False),
        ("health_education", 2, True),
    ),
    order=30,
))
