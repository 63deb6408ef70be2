"""Target presets of the five programme documents (TARGETS.md): every target, measured or not.

Pure Python (no Django). A target is measured by an indicator of the catalogue, or listed with
``indicator=None`` ("not measurable yet") so that the gap stays visible. Targets are policy, not
rules: they belong to the document and its year, and a district can define its own preset (the
``TargetPreset`` model) starting from one of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from jiayi.indicators.texts import mark as _

__all__ = ["PRESETS", "Preset", "Target", "get"]


@dataclass(frozen=True)
class Target:
    label: str  # Chinese, as the document words it (a Text in the built-in presets)
    target: float | None  # None for yes/no targets
    indicator: str | None = None  # catalogue code; None = not measurable yet
    mode: str = "egt"  # rules.SCORING_MODES
    unit: str = "%"  # "%", "per10k", "count", "yuan", "yes/no"
    year: int | None = None  # assessment year when the document gives one
    note: str = ""  # a Text in the built-in presets
    weight: float = 1.0

    @property
    def measurable(self) -> bool:
        return self.indicator is not None


@dataclass(frozen=True)
class Preset:
    code: str
    title: str
    document: str  # file in ../shared/seeds (Chinese original)
    issued: str
    area: str
    year: int
    targets: tuple[Target, ...]


_NM = _("平台尚无相应数据（暂不可测量）")

PRESETS: Final[dict[str, Preset]] = {
    p.code: p
    for p in (
        Preset(
            "xintang-2019", _("晋江市新塘街道 社区卫生服务一体化试点（2019）"), "000_5f98a3845a7890f1.txt", "2019-10",
            _("福建省晋江市新塘街道（杏坂社区）"), 2019,
            (
                Target(_("重点人群家庭医生签约率"), 85, "contract.coverage.key_populations", year=2019,
                       note=_("力争达到100%")),
                Target(_("老年人家庭医生签约覆盖面"), 100, "contract.coverage.elderly", year=2019),
                Target(_("老年人健康管理建档率"), 100, "record.elderly_rate", year=2019),
                Target(_("试点社区医保定点全覆盖"), None, None, mode="Y01", unit="yes/no", note=_NM),
            ),
        ),
        Preset(
            "binhai-2019", _("天津市滨海新区 2019年基层卫生工作方案"), "001_532e0e36f89a2a3d.txt", "2019-05",
            _("天津市滨海新区"), 2019,
            (
                Target(_("已管理老年人家庭医生签约覆盖率"), 85, "contract.coverage.elderly_managed", year=2019),
                Target(_("已管理高血压患者家庭医生签约覆盖率"), 85, "contract.coverage.ht_managed", year=2019),
                Target(_("已管理糖尿病患者家庭医生签约覆盖率"), 85, "contract.coverage.dm_managed", year=2019),
                Target(_("贫困人口家庭医生签约覆盖率"), 100, "contract.coverage.poverty_lifted", year=2019,
                       note=_("力争100%；以脱贫人口计")),
                Target(_("结核病患者家庭医生签约覆盖率"), 100, "contract.coverage.tuberculosis", year=2019,
                       note=_("力争100%")),
                Target(_("残疾人家庭医生签约覆盖率"), 100, "contract.coverage.disabled", year=2019, note=_("力争100%")),
                Target(_("严重精神障碍患者家庭医生签约覆盖率"), 100, "contract.coverage.severe_mental", year=2019,
                       note=_("力争100%")),
                Target(_("计划生育特殊家庭家庭医生签约覆盖率"), 100, "contract.coverage.special_fp_family", year=2019,
                       note=_("力争100%")),
                Target(_("签约高血压、糖尿病患者用药计划制定率"), 80, "chronic.medication_plan_share", year=2019),
                Target(_("居民健康档案规范化电子建档率"), 79, "record.electronic_rate", year=2019,
                       note=_("按电子建档率计；档案内容规范性暂不可测量")),
                Target(_("老年人健康管理率"), 75, "elderly.management_rate", year=2019),
                Target(_("高血压患者规范管理率"), 80, "ht.standardised_rate", year=2019),
                Target(_("糖尿病患者规范管理率"), 80, "dm.standardised_rate", year=2019),
                Target(_("每万名常住人口全科医生数"), 2.7, "workforce.gp_per_10k", unit="per10k", year=2019),
                Target(_("家庭医生团队人员区级培训比例"), 50, None, year=2019, note=_NM),
                Target(_("44个结对帮扶困难村低收入人口家庭医生签约率"), 80, None, year=2019,
                       note=_("平台未记录结对帮扶村，暂不可测量")),
                Target(_("新建或改造社区卫生服务站"), 10, None, unit="count", year=2019, note=_NM),
                Target(_("示范社区卫生服务站"), 10, None, unit="count", year=2019, note=_NM),
                Target(_("设置慢病康复病房的中心"), 6, None, unit="count", year=2019, note=_NM),
                Target(_("开展远程会诊的中心"), 6, None, unit="count", year=2019, note=_NM),
                Target(_("实行镇村一体化管理的镇"), 3, None, unit="count", year=2019,
                       note=_("2020年底前全部实行；{reason}", reason=_NM)),
            ),
        ),
        Preset(
            "gusu-2021", _("苏州市姑苏区 2021年社区卫生工作计划"), "002_304c4e3ee86fd0a7.txt", "2021",
            _("江苏省苏州市姑苏区"), 2021,
            (
                Target(_("居民健康档案建档率"), 90, "record.rate", year=2021),
                Target(_("儿童建档率"), 90, "record.child_rate", year=2021),
                Target(_("电子健康档案开放率"), 65, "record.open_rate", year=2021),
                Target(_("适龄儿童免疫规划疫苗接种率（含流动儿童）"), 90, None, year=2021, note=_NM),
                Target(_("新生儿访视率"), 90, None, year=2021, note=_NM),
                Target(_("儿童健康管理率"), 90, None, year=2021, note=_NM),
                Target(_("产后访视率"), 90, None, year=2021, note=_NM),
                Target(_("早孕建册率"), 85, None, year=2021, note=_NM),
                Target(_("65岁及以上老年人健康管理率"), 70, "elderly.management_rate", year=2021),
                Target(_("高血压患者规范管理率（35岁及以上）"), 60, "ht.standardised_rate", year=2021,
                       note=_("按全部在管患者计")),
                Target(_("2型糖尿病患者规范管理率（35岁及以上）"), 60, "dm.standardised_rate", year=2021,
                       note=_("按全部在管患者计")),
                Target(_("严重精神障碍患者规范管理率"), 90, None, year=2021, note=_NM),
                Target(_("肺结核患者管理率"), 90, None, year=2021, note=_NM),
                Target(_("老年人、儿童中医药健康管理率"), 65, None, year=2021, note=_NM),
                Target(_("传染病和突发公共卫生事件报告率"), 100, None, year=2021, note=_NM),
                Target(_("避孕药具发放覆盖率"), 20, None, year=2021, note=_NM),
                Target(_("常住人口签约率"), 35, "contract.coverage", year=2021),
                Target(_("重点人群签约率"), 65, "contract.coverage.key_populations", year=2021),
                Target(_("健康管理服务包签约占重点人群比例"), 3, "contract.personalised_share", year=2021),
                Target(_("年底家庭病床建床数"), 1100, None, unit="count", year=2021, note=_NM),
                Target(_("人均基本公共卫生服务经费"), 90, None, unit="yuan", year=2021, note=_NM),
                Target(_("社区卫生服务中心达到“优质服务基层行”基本标准"), 100, None, year=2021, note=_NM),
            ),
        ),
        Preset(
            "xuhui-2025", _("上海市徐汇区 社区卫生服务能力提升行动计划（2023—2025）"), "003_e70aa364eb09bd4d.txt",
            "2023-06", _("上海市徐汇区"), 2025,
            (
                Target(_("常住人口签约覆盖率（2023年）"), 40, "contract.coverage", year=2023),
                Target(_("常住人口签约覆盖率（2025年）"), 45, "contract.coverage", year=2025),
                Target(_("社区卫生服务15分钟慢行可达覆盖率"), 90, None, year=2025, note=_NM),
                Target(_("社区卫生服务中心标准化建设达标率（2023年）"), 61.5, None, year=2023, note=_NM),
                Target(_("社区卫生服务中心标准化建设达标率（2025年）"), 75, None, year=2025, note=_NM),
                Target(_("社区卫生服务站标准化建设达标率"), 80, None, year=2025, note=_NM),
                Target(_("区属医疗机构社区门诊量占比"), 40, None, year=2025, note=_NM),
                Target(_("社区健康管理中心覆盖全部社区卫生服务中心"), 100, None, year=2025, note=_NM),
                Target(_("中心设中医特色专科、站点提供中医药服务"), 100, None, year=2025, note=_NM),
            ),
        ),
        Preset(
            "songshan-2018", _("锦州市松山新区 基层医疗卫生服务体系建设年（2018）"), "004_c0de154216251e22.txt",
            "2018-05", _("辽宁省锦州市松山新区"), 2018,
            (
                Target(_("每个行政村至少设置一所村卫生室"), 100, None, year=2018, note=_NM),
                Target(_("乡镇卫生院标准化建设达标"), 100, None, year=2018, note=_NM),
                Target(_("村卫生室标准化建设达标"), 90, None, year=2018, note=_NM),
                Target(_("基层医疗机构配齐六类设备（彩超、生化仪、血球仪、尿液分析仪、心电图机、X光机）"), 100, None,
                       year=2018, note=_NM),
                Target(_("基本药物网上采购、零差率销售"), 100, None, year=2018, note=_NM),
                Target(_("乡镇卫生院设产前门诊和儿童保健门诊且配备合格医生"), 100, None, year=2018, note=_NM),
            ),
        ),
    )
}


def get(code: str) -> Preset:
    try:
        return PRESETS[code]
    except KeyError:
        raise KeyError(f"unknown target preset {code!r}; known: {', '.join(PRESETS)}") from None
