"""Default service packages installed by ``services.packages_install_defaults``.

**Demo defaults, not a policy source.** The national 2025 basic-package list (《家庭医生签约基本服务包
清单（试行）》, RULES.md §0.2) has not been reviewed and the fee rules were NOT FOUND (RULES.md §6.2).
The packages below follow the shape local programmes publish — a basic package (基本医疗 + 基本公共卫生)
and personalised packages for the elderly, mothers, children, TCM and home sickbeds; a programme
registers its own personalised package (``register_package`` from its ``service_items.py``, e.g. the
chronic-disease packages), with quantities that match the national public-health service norms where
those are known (four face-to-face follow-ups a year for the chronic diseases, RULES.md §2; one
annual check for people aged 65 and over, §3) — but every price and share is a placeholder. Installed packages carry
``demo_default=True`` so the package page says so; a centre edits them or composes its own.

Data only. Names and descriptions are Chinese message ids (``gettext_lazy``): installation stores them
in the language active at that moment, after which they are the centre's own data and edited as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class DefaultPackage:
    code: str
    name: str | Promise  # Chinese message id
    kind: str  # "basic" | "personalised"
    description: str | Promise  # Chinese message id
    target_groups: tuple[str, ...]
    price: Decimal
    insurance_share: Decimal
    public_health_share: Decimal
    resident_share: Decimal
    #: (service code, quantity per period, optional)
    items: tuple[tuple[str, int, bool], ...] = field(default_factory=tuple)
    order: int = 1000  # installation order


#: The default packages in installation order (a registry: see register_package).
DEFAULT_PACKAGES: list[DefaultPackage] = []


def register_package(package: DefaultPackage) -> DefaultPackage:
    """Add (or replace, by code) a default package; a programme registers its personalised package."""
    kept = [p for p in DEFAULT_PACKAGES if p.code != package.code]
    DEFAULT_PACKAGES[:] = sorted([*kept, package], key=lambda p: (p.order, p.code))
    return package


D = Decimal

_SHARED: tuple[DefaultPackage, ...] = (
    DefaultPackage(
        "basic",
        _("基础服务包"),
        "basic",
        _("基本医疗与基本公共卫生服务：健康评估、健康咨询、健康教育、血压血糖检测、年度体检与优先转诊。"),
        (),
        D("120"),
        D("60"),
        D("40"),
        D("20"),
        (
            ("consultation", 4, False),
            ("health_education", 2, False),
            ("bp_measurement", 2, False),
            ("annual_check", 1, False),
            ("referral_booking", 1, True),
            ("tcm_guidance", 1, True),
        ),
    ),
    DefaultPackage(
        "elderly_home",
        _("老年人居家服务包"),
        "personalised",
        _("65岁及以上老年人：年度健康体检、上门随访、中医药健康指导。"),
        ("elderly",),
        D("100"),
        D("50"),
        D("30"),
        D("20"),
        (
            ("elderly_check", 1, False),
            ("home_visit", 2, False),
            ("tcm_guidance", 1, False),
            ("bp_measurement", 4, True),
        ),
    ),
    DefaultPackage(
        "maternal",
        _("孕产妇健康管理包"),
        "personalised",
        _("孕期随访、产后访视与母婴健康教育。"),
        ("maternal",),
        D("80"),
        D("40"),
        D("30"),
        D("10"),
        (
            ("maternal_visit", 5, False),
            ("home_visit", 1, False),
            ("health_education", 2, True),
        ),
    ),
    DefaultPackage(
        "child",
        _("儿童健康管理包"),
        "personalised",
        _("0～6岁儿童健康检查与中医药健康管理。"),
        ("child",),
        D("60"),
        D("30"),
        D("30"),
        D("0"),
        (
            ("child_check", 2, False),
            ("tcm_guidance", 2, False),
            ("health_education", 1, True),
        ),
    ),
    DefaultPackage(
        "tcm",
        _("中医药服务包"),
        "personalised",
        _("中医体质辨识、中医药保健指导。"),
        (),
        D("60"),
        D("20"),
        D("20"),
        D("20"),
        (
            ("tcm_guidance", 2, False),
            ("health_education", 1, True),
        ),
    ),
    DefaultPackage(
        "home_sickbed",
        _("家庭病床服务包"),
        "personalised",
        _("行动不便的老年人、残疾人等：家庭病床查床、上门护理与康复指导。"),
        ("elderly", "disabled"),
        D("300"),
        D("200"),
        D("0"),
        D("100"),
        (
            ("home_sickbed_round", 24, False),
            ("home_nursing", 6, True),
            ("rehab_guidance", 2, True),
        ),
    ),
)

for _order, _package in zip((10, 40, 50, 60, 70, 80), _SHARED, strict=True):
    register_package(replace(_package, order=_order))
