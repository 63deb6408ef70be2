"""Reference data for the synthetic-district generator.

Plain data plus a few pure helpers; standard library only, no Django.

Provenance policy: every figure says where it comes from.  ``verified=True``
(or ``code_verified`` / ``name_verified``) means the value was checked
against a published source while this module was written; ``False`` means
it is a widely cited figure that was not re-checked, a reconstruction, or a
project assumption -- the comment next to it says which.

Contents
--------
1. ``DISTRICTS`` -- the five programme areas (see ``domain/TARGETS.md``)
   with their real streets/towns and committees.
2. ``AGE_SEX_2020`` -- 2020 census population by 5-year age group and sex.
3. ``PREVALENCE`` and the age gradients -- rates used to seed key
   populations and conditions.
4. Names, phone numbers, addresses.

Code conventions
----------------
Street/town codes are the 3-digit second segment of the 12-digit NBS
statistical division codes (统计用区划代码, GB/T 10114 rules): 001-099
street (街道), 100-199 town (镇), 200-399 township (乡), 400-599 units
combining government and enterprise.  All street/town codes below come
from the NBS statistical codes as redistributed in the GitHub repository
``modood/Administrative-divisions-of-China`` (``dist/streets.csv``, a
recent NBS release).  Codes are renumbered between releases: e.g. Gusu's
平江街道 is 320508008 in the 2020 release but 320508018 in the one used.

Committee codes (``Community.code3``) follow the PROJECT scheme asked for
by the synth brief: 001-099 for neighbourhood committees (居委会/社区) and
101-199 for village committees (村委会).  This differs from NBS, where the
third segment is 001-199 for neighbourhood committees and 200-399 for
village committees.  Where an NBS committee code was found and fits the
project scheme it is used as is (``code_verified=True``); every other
committee code is a sequential project code.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from typing import Literal

StreetKind = Literal["street", "town"]
CommunityKind = Literal["neighbourhood", "village"]
Sex = Literal["M", "F"]

SEX_MALE: Sex = "M"
SEX_FEMALE: Sex = "F"


# ---------------------------------------------------------------------------
# 1. Districts
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Community:
    """A neighbourhood committee (居委会/社区) or village committee (村委会)."""

    code3: str
    name: str
    kind: CommunityKind
    # True when the name was found in a published list (NBS code page, an
    # encyclopedia list or a programme document); False = plausible
    # generated name.
    name_verified: bool = False
    # True when code3 is the real NBS committee code; False = project code.
    code_verified: bool = False


@dataclass(frozen=True, slots=True)
class Street:
    """A street office (街道) or town (镇) -- the township level."""

    code3: str
    name: str
    kind: StreetKind
    communities: tuple[Community, ...]
    code_verified: bool


@dataclass(frozen=True, slots=True)
class District:
    """A programme area and the county-level division it belongs to."""

    key: str
    name_zh: str
    name_en: str
    province_code: str
    province_name: str
    city_code: str
    city_name: str
    county_code: str
    county_name: str
    # China-PAR region flag: north of the Yangtze (Tianjin, Liaoning).
    north: bool
    streets: tuple[Street, ...]
    population_note: str
    # Predominantly urban programme area (China-PAR urban/rural flag).
    # Village committees inside an urban district are still rural addresses.
    urban: bool
    # Approximate resident population of the programme area (see note).
    population_approx: int

    @property
    def is_municipality(self) -> bool:
        """Shanghai/Tianjin: the province is the municipality itself."""
        return self.province_name == self.city_name

    def street(self, code3: str) -> Street:
        for street in self.streets:
            if street.code3 == code3:
                return street
        raise KeyError(f"{self.key}: no street {code3}")

    def twelve_digit_code(self, street: Street, community: Community | None = None) -> str:
        """12-digit code in NBS layout (the committee part uses the project scheme)."""
        return self.county_code + street.code3 + (community.code3 if community else "000")


def _communities(
    neighbourhoods: str = "",
    villages: str = "",
    *,
    verified: bool,
    start_neighbourhood: int = 1,
    start_village: int = 101,
) -> tuple[Community, ...]:
    """Build committees from whitespace-separated names.

    A token ``name@NNN`` carries its real NBS code (implies verified).
    Other tokens get sequential project codes.
    """
    out: list[Community] = []
    used: set[str] = {t.split("@")[1] for t in neighbourhoods.split() if "@" in t}
    counter = itertools.count(start_neighbourhood)
    for token in neighbourhoods.split():
        if "@" in token:
            name, code = token.split("@")
            out.append(Community(code, name, "neighbourhood", name_verified=True, code_verified=True))
            continue
        code = f"{next(counter):03d}"
        while code in used:
            code = f"{next(counter):03d}"
        used.add(code)
        out.append(Community(code, token, "neighbourhood", name_verified=verified))
    for number, name in enumerate(villages.split(), start=start_village):
        out.append(Community(f"{number:03d}", name, "village", name_verified=verified))
    return tuple(out)


def _street(code3: str, name: str, kind: StreetKind, *groups: tuple[Community, ...]) -> Street:
    communities = tuple(itertools.chain.from_iterable(groups))
    return Street(code3=code3, name=name, kind=kind, communities=communities, code_verified=True)


# -- Xuhui district, Shanghai (310104) --------------------------------------
# Streets/town: NBS codes (modood streets.csv); all 12 streets + 1 town.
# 310104501 漕河泾新兴技术开发区 (a 5xx development-zone unit) is omitted.
# Committees: 长桥街道 names AND codes from the NBS code page mirrored at
# suixincha.cn/areacode/code/310104010000 (revoked ones left out).  关港村
# (华泾镇) is named in a zwbk2009 encyclopedia text.  The rest are generated.
_XUHUI = District(
    key="xuhui",
    name_zh="徐汇区",
    name_en="Xuhui District, Shanghai",
    province_code="310000",
    province_name="上海市",
    city_code="310100",
    city_name="上海市",
    county_code="310104",
    county_name="徐汇区",
    north=False,
    streets=(
        _street(
            "003",
            "天平路街道",
            "street",
            _communities("天平居委会 衡山居委会 高安居委会 建国西路居委会 宛平居委会", verified=False),
        ),
        _street(
            "004",
            "湖南路街道",
            "street",
            _communities("复兴西路居委会 永福居委会 武康居委会 湖南居委会 五原居委会", verified=False),
        ),
        _street(
            "007",
            "斜土路街道",
            "street",
            _communities("斜土居委会 瑞平居委会 江南新村居委会 大木桥居委会 丽园居委会", verified=False),
        ),
        _street(
            "008",
            "枫林路街道",
            "street",
            _communities("枫林居委会 东安一村居委会 医学院居委会 零陵居委会 龙山新村居委会", verified=False),
        ),
        _street(
            "010",
            "长桥街道",
            "street",
            _communities(
                "长桥新村第一居委会@001 长桥新二村居委会@002 港口居委会@003 长桥一村居委会@004 "
                "长桥三村第一居委会@007 长桥三村第二居委会@008 长桥五村居委会@011 "
                "长桥七村居委会@012 汇成一村居委会@013 汇成二村居委会@014 汇成三村居委会@015 "
                "光华居委会@022 百龙居委会@023 园南一村居委会@025 罗秀三村居委会@027",
                verified=True,
            ),
        ),
        _street(
            "011",
            "田林街道",
            "street",
            _communities(
                "田林一村居委会 田林三村居委会 田林十二村居委会 钦州居委会 宜山居委会", verified=False
            ),
        ),
        _street(
            "012",
            "虹梅路街道",
            "street",
            _communities("虹梅居委会 古美居委会 虹三居委会 桂林苑居委会", verified=False),
        ),
        _street(
            "013",
            "康健新村街道",
            "street",
            _communities("康健一村居委会 康健二村居委会 寿昌坊居委会 桂林居委会 茶花居委会", verified=False),
        ),
        _street(
            "014",
            "徐家汇街道",
            "street",
            _communities("汇站居委会 乐山居委会 虹桥路居委会 交大居委会 辛耕居委会", verified=False),
        ),
        _street(
            "015",
            "凌云路街道",
            "street",
            _communities("梅陇三村居委会 梅陇六村居委会 凌云居委会 华理居委会 沪闵居委会", verified=False),
        ),
        _street(
            "016",
            "龙华街道",
            "street",
            _communities("龙华居委会 龙山居委会 丰谷居委会 航天居委会 龙吴居委会", verified=False),
        ),
        _street(
            "017",
            "漕河泾街道",
            "street",
            _communities("东荡居委会 正南居委会 罗城居委会 金牛居委会 漕东居委会", verified=False),
        ),
        _street(
            "103",
            "华泾镇",
            "town",
            _communities("华泾居委会 华发居委会 港口新村居委会 馨宁居委会", verified=False),
            _communities(villages="关港村", verified=True),
            _communities(villages="华泾村 东湾村", verified=False, start_village=102),
        ),
    ),
    population_note=(
        "Resident population 1,113,078 (7th national census, 2020-11-01; verified). "
        "12 streets and 1 town, about 306 neighbourhood committees."
    ),
    urban=True,
    population_approx=1_113_078,
)

# -- Gusu district, Suzhou, Jiangsu (320508) --------------------------------
# Streets: NBS codes (modood streets.csv).  Committees: 平江街道 list from the
# zh.wikipedia article (citing NBS 2020; 23 communities + 2 villages, 13 + 2 used);
# 双塔街道 from tcmap.com.cn (NBS-based) and seed 002 (锦帆); 平江新城 (苏锦),
# 和泰 (白洋湾), 彩香一村/彩香二村 (金阊) are named in seed 002.
_GUSU = District(
    key="gusu",
    name_zh="姑苏区",
    name_en="Gusu District, Suzhou, Jiangsu",
    province_code="320000",
    province_name="江苏省",
    city_code="320500",
    city_name="苏州市",
    county_code="320508",
    county_name="姑苏区",
    north=False,
    streets=(
        _street(
            "017",
            "白洋湾街道",
            "street",
            _communities("和泰社区", verified=True),
            _communities("山塘社区 金筑社区 新益社区 白洋湾社区", verified=False, start_neighbourhood=2),
        ),
        _street(
            "018",
            "平江街道",
            "street",
            _communities(
                "察院场社区 小公园社区 玄妙观社区 旧学前社区 装驾桥社区 香花桥社区 西北街社区 "
                "北寺塔社区 历史街区社区 大儒巷社区 拙政园社区 北园社区 娄江社区",
                "梅巷村 梅花村",
                verified=True,
            ),
        ),
        _street(
            "019",
            "金阊街道",
            "street",
            _communities("彩香一村社区 彩香二村社区", verified=True),
            _communities("石路社区 留园社区 西园社区 三元社区", verified=False, start_neighbourhood=3),
        ),
        _street(
            "020",
            "沧浪街道",
            "street",
            _communities("南门社区 胥江社区 新沧浪社区 盘溪社区 府前社区", verified=False),
        ),
        _street(
            "021",
            "双塔街道",
            "street",
            _communities(
                "百步街社区 长岛社区 沧浪亭社区 城湾社区 翠园社区 大公园社区 定慧寺巷社区 "
                "二郎巷社区 葑溪社区 锦帆社区",
                verified=True,
            ),
        ),
        _street(
            "022",
            "虎丘街道",
            "street",
            _communities("虎丘社区 新庄社区 山塘桥社区 虎阜社区", verified=False),
            _communities(villages="虎丘村", verified=False),
        ),
        _street(
            "023",
            "苏锦街道",
            "street",
            _communities("平江新城社区", verified=True),
            _communities(
                "苏锦一村社区 苏锦二村社区 北环社区 齐门外社区", verified=False, start_neighbourhood=2
            ),
        ),
        _street(
            "024",
            "吴门桥街道",
            "street",
            _communities("南环社区 友新社区 杨枝社区 解放社区 新郭社区", verified=False),
        ),
    ),
    population_note=(
        "About 0.92 million residents (2020 census; recalled figure, not re-checked). "
        "8 streets after the 2017 merger of Gusu's streets."
    ),
    urban=True,
    population_approx=920_000,
)

# -- Binhai New Area, Tianjin (120116) --------------------------------------
# Streets/towns: NBS codes (modood streets.csv), all 16 streets and 5 towns;
# 4xx units (TEDA other areas, free-trade port, Sino-Singapore eco-city) left
# out.  NBS spells 014 "天津经济技术开发区东区泰达街道"; shortened here.
# 中塘镇 villages: diming.qi18.com / nmhdgaokao.com village pages (NBS-based;
# 张港子村 is 120116158205).  Everything else is generated.
_BINHAI = District(
    key="binhai",
    name_zh="滨海新区",
    name_en="Binhai New Area, Tianjin",
    province_code="120000",
    province_name="天津市",
    city_code="120100",
    city_name="天津市",
    county_code="120116",
    county_name="滨海新区",
    north=True,
    streets=(
        _street(
            "001",
            "塘沽街道",
            "street",
            _communities("新华社区 解放路社区 民主街社区 向阳社区", verified=False),
        ),
        _street(
            "005",
            "杭州道街道",
            "street",
            _communities("杭州道社区 福州道社区 郑州道社区 营口道社区", verified=False),
        ),
        _street(
            "006",
            "新河街道",
            "street",
            _communities("新河社区 北塘路社区 蓝鲸岛社区 河华里社区", verified=False),
        ),
        _street(
            "007",
            "大沽街道",
            "street",
            _communities("大沽社区 海河外滩社区 渤海石油社区 上海道社区", verified=False),
        ),
        _street(
            "008",
            "新北街道",
            "street",
            _communities("新北社区 森林公园社区 福建路社区 广州道社区", verified=False),
        ),
        _street(
            "009",
            "北塘街道",
            "street",
            _communities("北塘社区 宁车沽社区 欣嘉园社区", verified=False),
            _communities(villages="北塘村", verified=False),
        ),
        _street(
            "011",
            "胡家园街道",
            "street",
            _communities("胡家园社区 馨桥园社区 美林园社区", verified=False),
            _communities(villages="胡家园村 东沽村", verified=False),
        ),
        _street(
            "012",
            "新港街道",
            "street",
            _communities("新港社区 四号院社区 新港船厂社区 航运社区", verified=False),
        ),
        _street(
            "013",
            "新村街道",
            "street",
            _communities("新村社区 福州道新村社区 永泰社区 新城家园社区", verified=False),
        ),
        _street(
            "014",
            "泰达街道",
            "street",
            _communities("泰达社区 康翠社区 千鹿园社区 贻成社区 翠亨社区", verified=False),
        ),
        _street(
            "031", "汉沽街道", "street", _communities("河西社区 新开社区 天化社区 大田社区", verified=False)
        ),
        _street(
            "032",
            "寨上街道",
            "street",
            _communities("寨上社区 东风社区 兴业社区", verified=False),
            _communities(villages="寨上村 西尹村", verified=False),
        ),
        _street(
            "033",
            "茶淀街道",
            "street",
            _communities("茶淀社区 汉沽农场社区", verified=False),
            _communities(villages="茶淀村 崔兴沽村 东堤头村", verified=False),
        ),
        _street(
            "051",
            "大港街道",
            "street",
            _communities("迎宾社区 福华里社区 胜利街社区 振兴社区", verified=False),
        ),
        _street(
            "053", "古林街道", "street", _communities("古林社区 上古林社区 港西社区 远景社区", verified=False)
        ),
        _street(
            "054", "海滨街道", "street", _communities("海滨社区 港东社区 幸福社区 创业社区", verified=False)
        ),
        _street(
            "100",
            "新城镇",
            "town",
            _communities("新城镇社区", verified=False),
            _communities(villages="新城村 东江村 西江村 西沽村 南堡村", verified=False),
        ),
        _street(
            "135",
            "杨家泊镇",
            "town",
            _communities("杨家泊社区", verified=False),
            _communities(villages="杨家泊村 付庄村 魏庄村 高庄村 东辛庄村", verified=False),
        ),
        _street(
            "156",
            "太平镇",
            "town",
            _communities("太平镇社区", verified=False),
            _communities(villages="太平村 崔庄村 窦庄村 郭庄村 大苏庄村", verified=False),
        ),
        _street(
            "157",
            "小王庄镇",
            "town",
            _communities("小王庄社区", verified=False),
            _communities(villages="小王庄村 刘岗庄村 徐庄子村 南抛庄村", verified=False),
        ),
        _street(
            "158",
            "中塘镇",
            "town",
            _communities("中塘社区", verified=False),
            _communities(
                villages=(
                    "刘塘庄村 万家码头村 薛卫台村 中塘村 大安村 西正河村 十九顷村 "
                    "黄房子村 张港子村 杨柳庄村 小国庄村 常流庄村 新房子村 北台村"
                ),
                verified=True,
            ),
        ),
    ),
    population_note=(
        "About 2.07 million residents (2020 census; recalled figure, not re-checked). "
        "Mixed: Tanggu/Hangu/Dagang urban cores plus five agricultural towns; "
        "the 2019 plan pairs family doctors with 44 poor villages."
    ),
    urban=True,
    population_approx=2_067_000,
)

# -- Jinjiang city, Quanzhou, Fujian (350582) -- programme area: 新塘街道 ----
# Streets/towns: NBS codes (modood streets.csv).  All 6 streets; of the 13
# towns only 安海/陈埭/池店 are listed (enough for a comparison area).
# 新塘街道 committees: qicai.net town page (2010-era list, 13 communities);
# 杏坂社区 is the pilot community of seed 000.
_XINTANG = District(
    key="xintang",
    name_zh="晋江市新塘街道",
    name_en="Xintang Street, Jinjiang, Quanzhou, Fujian",
    province_code="350000",
    province_name="福建省",
    city_code="350500",
    city_name="泉州市",
    county_code="350582",
    county_name="晋江市",
    north=False,
    streets=(
        _street(
            "001",
            "青阳街道",
            "street",
            _communities("青阳社区 洋埭社区 霞浯社区 阳光社区 高霞社区", verified=False),
        ),
        _street(
            "002",
            "梅岭街道",
            "street",
            _communities("梅岭社区 桂山社区 竹树下社区 双沟社区 狮头社区", verified=False),
        ),
        _street(
            "003", "西园街道", "street", _communities("西园社区 王厝社区 下浔社区 新民社区", verified=False)
        ),
        _street(
            "004",
            "罗山街道",
            "street",
            _communities("罗山社区 缺塘社区 后林社区 福埔社区 华泰社区", verified=False),
        ),
        _street(
            "005",
            "新塘街道",
            "street",
            _communities(
                "沙塘社区 后库社区 后洋社区 杏田社区 杏坂社区 塘市社区 南塘社区 "
                "梧林社区 湖格社区 上郭社区 荆山社区 晋良社区 晋新社区",
                verified=True,
            ),
        ),
        _street(
            "006", "灵源街道", "street", _communities("灵源社区 林口社区 英墩社区 许坑社区", verified=False)
        ),
        _street(
            "101",
            "安海镇",
            "town",
            _communities("安海社区 西垵社区 星塔社区", verified=False),
            _communities(villages="前蔡村 曾埭村 东田村 溪边村", verified=False),
        ),
        _street(
            "103",
            "陈埭镇",
            "town",
            _communities("陈埭社区 花厅口社区", verified=False),
            _communities(villages="岸兜村 高坑村 四境村 涵口村", verified=False),
        ),
        _street(
            "107",
            "池店镇",
            "town",
            _communities("池店社区 唐厝社区", verified=False),
            _communities(villages="溜石村 仕春村 霞福村 清濛村", verified=False),
        ),
    ),
    population_note=(
        "Programme area 新塘街道: 67,040 residents (2010 census, qicai.net; ~18.5 km2). "
        "Jinjiang city: 2.069 million residents in 2021 (Quanzhou statistical yearbook "
        "2022; verified), crude birth rate 8.0 per 1000. Peri-urban: former villages "
        "now communities with village clinics."
    ),
    urban=True,
    population_approx=67_000,
)

# -- Songshan New Area, Jinzhou, Liaoning -- administered under 太和区 --------
# 松山新区 is a functional area (set up 2007 by merging 凌南新区 and 南站新区),
# not a county-level division.  Decision: use 210711 太和区, because in the
# NBS statistical codes both of its streets sit under Taihe district:
# 210711080 凌南街道 and 210711081 松山街道 (modood streets.csv; verified).
# The old 巧鸟 office no longer appears (merged into 松山街道).  The NBS
# list also has 210711480 锦州市果树农场, named in seed 004; it is a 4xx
# state-farm unit and is omitted here.  Committee names are generated.
_SONGSHAN = District(
    key="songshan",
    name_zh="锦州松山新区",
    name_en="Songshan New Area, Jinzhou, Liaoning",
    province_code="210000",
    province_name="辽宁省",
    city_code="210700",
    city_name="锦州市",
    county_code="210711",
    county_name="太和区",
    north=True,
    streets=(
        _street(
            "080",
            "凌南街道",
            "street",
            _communities("凌南社区 科技社区 松坡社区 学府社区 渤海社区 锦华社区", verified=False),
            _communities(villages="凌南村 西大营村", verified=False),
        ),
        _street(
            "081",
            "松山街道",
            "street",
            _communities("松山社区 巧鸟社区", verified=False),
            _communities(
                villages="松山村 巧鸟村 大屯村 八里庄村 邵屯村 郭家村 东大屯村 石家村 高家屯村 双羊店村",
                verified=False,
            ),
        ),
    ),
    population_note=(
        "Songshan New Area: about 100,000 residents on 215 km2 at its creation in "
        "2007 (secondary source). Mixed: 凌南 urban, 松山 mostly villages; the 2018 "
        "plan is about township health centres and village clinics."
    ),
    urban=False,
    population_approx=100_000,
)

DISTRICTS: dict[str, District] = {d.key: d for d in (_XUHUI, _GUSU, _BINHAI, _XINTANG, _SONGSHAN)}


def get_district(key: str) -> District:
    """The district for a preset key (``xuhui``, ``gusu``, ``binhai``, ``xintang``, ``songshan``)."""
    return DISTRICTS[key]


# ---------------------------------------------------------------------------
# 2. Age and sex, 2020 census
# ---------------------------------------------------------------------------
#
# Source: 国家统计局《第七次全国人口普查公报》 and 《中国人口普查年鉴-2020》
# table 全国分年龄、性别的人口 (census moment 2020-11-01, 31 provinces +
# active servicemen, 1,411,778,724 persons).
#
# VERIFIED (bulletins, checked): total 1,411,778,724; male 723,339,956;
# female 688,438,768; 0-14 253,383,938; 15-59 894,376,020;
# 60+ 264,018,766; 65+ 190,635,280.
#
# NOT VERIFIED: the 5-year split and the per-group sex ratios.  The
# yearbook table could not be retrieved, so group totals were reconstructed
# from recalled yearbook values, rescaled to match each verified aggregate
# exactly (0-14, 15-59, 60-64, 65-79, 80+ with 80+ = 35.80 million, a
# figure from the 七普 commentary), then split by recalled sex ratios and
# adjusted so the male total matches.  Expect errors of a few tenths of a
# percentage point per cell.  Replace with the yearbook table when available.
#
# (age group, males in thousands, females in thousands)
AGE_SEX_2020_COUNTS: tuple[tuple[str, int, int], ...] = (
    ("0-4", 40_966, 36_915),
    ("5-9", 48_012, 42_236),
    ("10-14", 45_836, 39_419),
    ("15-19", 39_204, 33_542),
    ("20-24", 39_904, 35_103),
    ("25-29", 47_937, 43_989),
    ("30-34", 63_809, 60_441),
    ("35-39", 50_845, 48_253),
    ("40-44", 47_730, 45_644),
    ("45-49", 57_997, 56_324),
    ("50-54", 61_769, 60_398),
    ("55-59", 51_064, 50_424),
    ("60-64", 36_832, 36_551),
    ("65-69", 36_605, 37_403),
    ("70-74", 24_286, 25_307),
    ("75-79", 14_998, 16_238),
    ("80-84", 9_503, 11_185),
    ("85-89", 4_507, 6_178),
    ("90-94", 1_310, 2_354),
    ("95-99", 216, 509),
    ("100+", 9, 27),
)

# Ages drawn for the open-ended top group.
OLDEST_AGE = 104


def _age_bounds(group: str) -> tuple[int, int]:
    if group.endswith("+"):
        return int(group[:-1]), OLDEST_AGE
    lo, hi = group.split("-")
    return int(lo), int(hi)


def _age_sex_proportions() -> dict[tuple[int, int, Sex], float]:
    total = sum(m + f for _, m, f in AGE_SEX_2020_COUNTS)
    out: dict[tuple[int, int, Sex], float] = {}
    for group, males, females in AGE_SEX_2020_COUNTS:
        lo, hi = _age_bounds(group)
        out[(lo, hi, SEX_MALE)] = males / total
        out[(lo, hi, SEX_FEMALE)] = females / total
    return out


# (age_lo, age_hi, sex) -> proportion of the whole population; sums to 1.
AGE_SEX_2020: dict[tuple[int, int, Sex], float] = _age_sex_proportions()

# Vectorised-friendly table: cell i covers [cumulative[i-1], cumulative[i]).
# With numpy: ``cells[np.searchsorted(cumulative, u, side="right")]``.
AGE_SEX_CELLS: tuple[tuple[int, int, Sex], ...] = tuple(AGE_SEX_2020)
AGE_SEX_CUMULATIVE: tuple[float, ...] = (*tuple(itertools.accumulate(AGE_SEX_2020.values()))[:-1], 1.0)


def sample_age_sex(rng: random.Random) -> tuple[int, Sex]:
    """Draw (age in completed years, sex) from the 2020 census structure.

    Age is uniform within the 5-year group (an approximation).
    """
    index = bisect.bisect_right(AGE_SEX_CUMULATIVE, rng.random())
    lo, hi, sex = AGE_SEX_CELLS[min(index, len(AGE_SEX_CELLS) - 1)]
    return rng.randint(lo, hi), sex


def population_share(age_lo: int, age_hi: int = OLDEST_AGE, sex: Sex | None = None) -> float:
    """Share of the 2020 population aged age_lo..age_hi (inclusive), optionally one sex.

    Groups cut by the bounds contribute pro rata (uniform within group).
    """
    share = 0.0
    for (lo, hi, cell_sex), p in AGE_SEX_2020.items():
        if sex is not None and cell_sex != sex:
            continue
        overlap = min(hi, age_hi) - max(lo, age_lo) + 1
        if overlap > 0:
            share += p * overlap / (hi - lo + 1)
    return share


# ---------------------------------------------------------------------------
# 3. Prevalence and programme rates
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rate:
    """A rate; ``value`` is always a proportion (0-1) of ``denominator``."""

    value: float
    denominator: str
    source: str
    year: int
    verified: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class AgeBand:
    age_lo: int
    age_hi: int
    value: float


@dataclass(frozen=True, slots=True)
class AgeGradient:
    """Age-specific proportions; bands are contiguous and cover age_lo..OLDEST_AGE."""

    bands: tuple[AgeBand, ...]
    source: str
    year: int
    verified: bool
    note: str = ""

    def rate_for_age(self, age: int) -> float:
        """Proportion for one age; 0.0 below the first band."""
        return age_band_rate(self.bands, age)

    def population_weighted(self) -> float:
        """Overall proportion implied for the 2020 census age structure."""
        lo = self.bands[0].age_lo
        total = population_share(lo)
        return sum(population_share(b.age_lo, b.age_hi) * b.value for b in self.bands) / total


def age_band_rate(bands: tuple[AgeBand, ...], age: int) -> float:
    for band in bands:
        if band.age_lo <= age <= band.age_hi:
            return band.value
    return 0.0


_NCD_REPORT_2020 = "国家卫生健康委《中国居民营养与慢性病状况报告（2020年）》"

PREVALENCE: dict[str, Rate] = {
    # -- hypertension --
    "hypertension_adult": Rate(
        0.275,
        "residents aged 18+",
        _NCD_REPORT_2020,
        2020,
        verified=False,
        note="Headline figure of the 2020 report; not re-checked this session. Survey data ~2015-2019.",
    ),
    "hypertension_adult_chs": Rate(
        0.232,
        "residents aged 18+ (weighted)",
        "China Hypertension Survey 2012-2015 (Wang Z et al., Circulation 2018)",
        2015,
        verified=True,
        note="Crude prevalence 27.9%; about 245 million adults with hypertension.",
    ),
    "hypertension_awareness": Rate(
        0.516,
        "adults with hypertension",
        "《中国高血压防治指南（2024年修订版）》",
        2024,
        verified=True,
        note="Secondary citation of the guideline; treatment 45.8%, control 16.8%.",
    ),
    "hypertension_treatment": Rate(
        0.458,
        "adults with hypertension",
        "《中国高血压防治指南（2024年修订版）》",
        2024,
        verified=True,
    ),
    "hypertension_control": Rate(
        0.168,
        "adults with hypertension",
        "《中国高血压防治指南（2024年修订版）》",
        2024,
        verified=True,
    ),
    "hypertension_known_to_primary_care": Rate(
        0.50,
        "adults with hypertension",
        "project assumption",
        2020,
        verified=False,
        note="Share of hypertensive residents registered in primary-care chronic-disease management. "
        "Bounded above by awareness (51.6%); the brief suggests 50-60%.",
    ),
    # -- diabetes --
    "diabetes_adult": Rate(
        0.119,
        "residents aged 18+",
        _NCD_REPORT_2020,
        2020,
        verified=False,
        note="Headline figure of the 2020 report; not re-checked this session.",
    ),
    "diabetes_adult_tide": Rate(
        0.128,
        "residents aged 18+ (weighted, ADA 2018 criteria)",
        "TIDE survey 2015-2017 (Li Y et al., BMJ 2020;369:m997)",
        2017,
        verified=True,
        note="Men 13.71%, women 11.76%; prevalence rises sharply after age 50.",
    ),
    "diabetes_awareness": Rate(
        0.367,
        "adults with diabetes",
        "Wang L et al., JAMA 2021;326:2498 (2018 CCDRFS)",
        2018,
        verified=True,
        note="Same survey: prevalence 12.4%, treatment 32.9%.",
    ),
    "diabetes_known_to_primary_care": Rate(
        0.35,
        "adults with diabetes",
        "project assumption",
        2020,
        verified=False,
        note="Set just below awareness (36.7%).",
    ),
    # -- tuberculosis --
    "tb_reported_incidence": Rate(
        0.0005555,
        "total population, per year",
        "王前等, 中国防痨杂志 2021;43(2):107 (传染病报告信息管理系统)",
        2019,
        verified=True,
        note="55.55 per 100,000 (775,764 pulmonary TB notifications); men were 68.83% of cases.",
    ),
    "tb_male_share": Rate(
        0.6883,
        "notified pulmonary TB cases",
        "王前等, 中国防痨杂志 2021;43(2):107",
        2019,
        verified=True,
    ),
    "tb_who_estimated_incidence": Rate(
        0.00058,
        "total population, per year",
        "WHO Global Tuberculosis Report 2020 (China, 2019)",
        2019,
        verified=False,
        note="About 58 per 100,000 (brief quotes ~59); not re-checked this session.",
    ),
    "tb_active_prevalence_15plus": Rate(
        0.00459,
        "residents aged 15+",
        "第五次全国结核病流行病学抽样调查 (2010)",
        2010,
        verified=True,
        note="459 per 100,000 active pulmonary TB (secondary citation); bacteriologically positive 119.",
    ),
    "tb_under_management": Rate(
        0.00028,
        "total population, point prevalence",
        "project assumption",
        2019,
        verified=False,
        note="Reported incidence x ~0.5 year of treatment (6-month standard regimen).",
    ),
    # -- severe mental disorders --
    "smd_registered": Rate(
        0.0045,
        "total population",
        "national SMD programme reporting-rate benchmark (as given in brief)",
        2020,
        verified=False,
        note="4.5 per 1000 registered (报告患病率). Source document not found this session; Hangzhou "
        "reported a 4.3 per 1000 detection rate in 2015 (verified, local).",
    ),
    "smd_management_target": Rate(
        0.80,
        "registered SMD patients",
        "《全国精神卫生工作规划（2015—2020年）》 国办发〔2015〕44号",
        2015,
        verified=True,
        note="Target: management rate of registered patients >= 80% by 2020.",
    ),
    # -- disability, family planning, births --
    "disability": Rate(
        0.0634,
        "total population",
        "第二次全国残疾人抽样调查 (2006)",
        2006,
        verified=False,
        note="About 82.96 million people with disabilities; widely cited, not re-checked this session.",
    ),
    "special_fp_family_households": Rate(
        0.002,
        "households",
        "project assumption",
        2020,
        verified=False,
        note="计划生育特殊家庭 (only child died or disabled); brief suggests 0.1-0.3%.",
    ),
    "crude_birth_rate": Rate(
        0.00852,
        "total population, per year",
        "国家统计局《2020年国民经济和社会发展统计公报》",
        2020,
        verified=False,
        note="8.52 per 1000; not re-checked this session. Jinjiang 2021: 8.0 per 1000.",
    ),
    # -- risk factors --
    "smoking_adult": Rate(
        0.266,
        "residents aged 15+",
        "中国疾控中心 2018年中国成人烟草调查",
        2018,
        verified=False,
        note="As supplied in the brief; not re-checked this session.",
    ),
    "smoking_men": Rate(
        0.505,
        "men aged 15+",
        "中国疾控中心 2018年中国成人烟草调查",
        2018,
        verified=False,
    ),
    "smoking_women": Rate(
        0.021,
        "women aged 15+",
        "中国疾控中心 2018年中国成人烟草调查",
        2018,
        verified=False,
    ),
    "overweight_adult": Rate(
        0.343,
        "residents aged 18+",
        _NCD_REPORT_2020,
        2020,
        verified=False,
        note="Overweight (BMI 24-27.9), not counting obesity; not re-checked this session.",
    ),
    "obesity_adult": Rate(
        0.164,
        "residents aged 18+",
        _NCD_REPORT_2020,
        2020,
        verified=False,
        note="Obesity (BMI >= 28); not re-checked this session.",
    ),
}


def pregnant_point_prevalence(
    crude_birth_rate: float = PREVALENCE["crude_birth_rate"].value,
    gestation_weeks: float = 39.0,
    loss_factor: float = 1.15,
) -> float:
    """Share of the whole population pregnant at a random moment.

    births per person-year x share of the year a pregnancy lasts x an
    allowance for pregnancies that end without a live birth.  Project
    assumption (loss_factor 1.15); ~0.74% of the population at 8.52 per 1000.
    """
    return crude_birth_rate * gestation_weeks / 52.0 * loss_factor


PREVALENCE["pregnant"] = Rate(
    round(pregnant_point_prevalence(), 5),
    "total population, point prevalence",
    "derived from crude_birth_rate (project assumption)",
    2020,
    verified=False,
    note="pregnant_point_prevalence(): CBR x 39/52 x 1.15.",
)

# Share of residents lifted out of poverty (脱贫人口 / 建档立卡), by district.
# All project assumptions: the national standard registered no poor
# households in these urban districts; Tianjin and Liaoning ran their own
# poverty-relief registers (Binhai's 2019 plan names 44 paired poor villages).
POVERTY_LIFTED: dict[str, Rate] = {
    "xuhui": Rate(
        0.0,
        "residents",
        "project assumption",
        2020,
        verified=False,
        note="Central Shanghai: no national-standard poor households.",
    ),
    "gusu": Rate(
        0.0,
        "residents",
        "project assumption",
        2020,
        verified=False,
        note="Central Suzhou: no national-standard poor households.",
    ),
    "binhai": Rate(
        0.003,
        "residents",
        "project assumption",
        2020,
        verified=False,
        note="Municipal relief register; concentrated in the agricultural towns.",
    ),
    "xintang": Rate(
        0.001,
        "residents",
        "project assumption",
        2020,
        verified=False,
        note="Fujian provincial register; Jinjiang is among China's richest counties.",
    ),
    "songshan": Rate(
        0.01,
        "residents",
        "project assumption",
        2020,
        verified=False,
        note="Rural Liaoning villages of 松山街道; low-income register.",
    ),
}

# Hypertension by age (both sexes).  VERIFIED: 2010-2012 China Nutrition and
# Health Surveillance, electronic-BP-converted values (赵丽云等, 卫生研究 2018):
# 18-44 10.6%, 45-59 35.7%, 60+ 58.9%; overall 25.2% (men 26.2%, women 24.1%).
# Applied to the 2020 age structure these bands give ~29.6% (vs. 27.5% in
# the 2020 report); scale them if a generator must hit 27.5% exactly.
HYPERTENSION_BY_AGE = AgeGradient(
    bands=(AgeBand(18, 44, 0.106), AgeBand(45, 59, 0.357), AgeBand(60, OLDEST_AGE, 0.589)),
    source="2010-2012 中国居民营养与健康状况监测; 赵丽云等, 卫生研究 2018;47(1)",
    year=2012,
    verified=True,
)

# Diabetes by age (both sexes).  NOT VERIFIED: the age-specific table of the
# TIDE survey could not be retrieved.  Shape follows its description (low
# before 40, sharp rise after 50); levels are calibrated so that the 2020
# census age structure gives 11.9% overall (the 2020 report figure).
DIABETES_BY_AGE = AgeGradient(
    bands=(
        AgeBand(18, 29, 0.031),
        AgeBand(30, 39, 0.052),
        AgeBand(40, 49, 0.093),
        AgeBand(50, 59, 0.155),
        AgeBand(60, 69, 0.217),
        AgeBand(70, OLDEST_AGE, 0.248),
    ),
    source="project assumption calibrated to 《中国居民营养与慢性病状况报告（2020年）》 11.9%",
    year=2020,
    verified=False,
)


@dataclass(frozen=True, slots=True)
class BloodPressureParams:
    age_lo: int
    age_hi: int
    sex: Sex
    sbp_mean: float
    sbp_sd: float
    dbp_mean: float
    dbp_sd: float


# Mean/SD of office blood pressure (mmHg) for generating measurements.
# PROJECT ASSUMPTION: rough values consistent with Chinese survey reports
# (SBP rising ~0.5 mmHg/year after 40, women lower than men before ~60 and
# converging after); not taken from a single table.  Not verified.
BLOOD_PRESSURE_BY_AGE_SEX: tuple[BloodPressureParams, ...] = (
    BloodPressureParams(18, 29, "M", 122, 12, 74, 9),
    BloodPressureParams(30, 39, "M", 124, 13, 78, 10),
    BloodPressureParams(40, 49, "M", 128, 15, 82, 10),
    BloodPressureParams(50, 59, "M", 133, 17, 83, 10),
    BloodPressureParams(60, 69, "M", 139, 19, 82, 11),
    BloodPressureParams(70, 79, "M", 143, 20, 79, 11),
    BloodPressureParams(80, OLDEST_AGE, "M", 145, 21, 76, 11),
    BloodPressureParams(18, 29, "F", 111, 11, 70, 8),
    BloodPressureParams(30, 39, "F", 114, 12, 73, 9),
    BloodPressureParams(40, 49, "F", 121, 15, 77, 10),
    BloodPressureParams(50, 59, "F", 129, 17, 79, 10),
    BloodPressureParams(60, 69, "F", 137, 19, 79, 11),
    BloodPressureParams(70, 79, "F", 143, 20, 77, 11),
    BloodPressureParams(80, OLDEST_AGE, "F", 146, 21, 75, 11),
)


def blood_pressure_params(age: int, sex: Sex) -> BloodPressureParams:
    """BP generation parameters for an adult; children get the 18-29 row."""
    age = max(age, 18)
    for row in BLOOD_PRESSURE_BY_AGE_SEX:
        if row.sex == sex and row.age_lo <= age <= row.age_hi:
            return row
    raise ValueError(f"no blood-pressure parameters for age={age} sex={sex}")


# ---------------------------------------------------------------------------
# 4. Names, phones, addresses
# ---------------------------------------------------------------------------
#
# Surname ORDER: the 2020 "百家姓" ranking of 公安部户政管理研究中心
# 《二〇二〇年全国姓名报告》 (published 2021-02), as reproduced by secondary
# sites (j1364.cn).  VERIFIED facts from the report coverage: the top five
# hold 30.8% of the registered population; 万 (rank 91) had 2.75 million
# people and the top 100 held 85.9% (2019 report).
# Per-surname SHARES are NOT published in the coverage found: they are
# interpolated (log-log between anchors: top five splitting 30.8%, rank 23
# ~ 10 million, rank 91 ~ 2.75 million) and sum to 85.9.  Approximate.
# (surname, percent of registered population)
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.190),
    ("李", 7.140),
    ("张", 6.720),
    ("刘", 5.210),
    ("陈", 4.540),
    ("杨", 3.417),
    ("黄", 2.846),
    ("赵", 2.429),
    ("吴", 2.112),
    ("周", 1.864),
    ("徐", 1.470),
    ("孙", 1.364),
    ("马", 1.273),
    ("朱", 1.194),
    ("胡", 1.125),
    ("郭", 1.064),
    ("何", 1.009),
    ("林", 0.961),
    ("罗", 0.917),
    ("高", 0.877),
    ("郑", 0.841),
    ("梁", 0.808),
    ("谢", 0.756),
    ("宋", 0.733),
    ("唐", 0.712),
    ("许", 0.693),
    ("韩", 0.674),
    ("邓", 0.657),
    ("冯", 0.641),
    ("曹", 0.626),
    ("彭", 0.611),
    ("曾", 0.598),
    ("肖", 0.585),
    ("田", 0.572),
    ("董", 0.561),
    ("潘", 0.549),
    ("袁", 0.539),
    ("蔡", 0.529),
    ("蒋", 0.519),
    ("余", 0.510),
    ("于", 0.501),
    ("杜", 0.492),
    ("叶", 0.484),
    ("程", 0.476),
    ("魏", 0.469),
    ("苏", 0.462),
    ("吕", 0.454),
    ("丁", 0.448),
    ("任", 0.441),
    ("卢", 0.435),
    ("姚", 0.424),
    ("沈", 0.414),
    ("钟", 0.405),
    ("姜", 0.395),
    ("崔", 0.386),
    ("谭", 0.378),
    ("陆", 0.370),
    ("范", 0.362),
    ("汪", 0.354),
    ("廖", 0.347),
    ("石", 0.340),
    ("金", 0.333),
    ("韦", 0.327),
    ("贾", 0.320),
    ("夏", 0.314),
    ("付", 0.308),
    ("方", 0.303),
    ("邹", 0.297),
    ("熊", 0.292),
    ("白", 0.287),
    ("孟", 0.282),
    ("秦", 0.277),
    ("邱", 0.272),
    ("侯", 0.268),
    ("江", 0.263),
    ("尹", 0.259),
    ("薛", 0.255),
    ("闫", 0.251),
    ("段", 0.247),
    ("雷", 0.243),
    ("龙", 0.239),
    ("黎", 0.236),
    ("史", 0.232),
    ("陶", 0.229),
    ("贺", 0.225),
    ("毛", 0.222),
    ("郝", 0.219),
    ("顾", 0.216),
    ("龚", 0.213),
    ("邵", 0.210),
    ("万", 0.207),
    ("覃", 0.205),
    ("武", 0.203),
    ("钱", 0.202),
    ("戴", 0.200),
    ("严", 0.198),
    ("莫", 0.196),
    ("孔", 0.195),
    ("向", 0.193),
    ("常", 0.192),
)

_SURNAME_CUMULATIVE: tuple[float, ...] = tuple(itertools.accumulate(w for _, w in SURNAMES))


def _unique_chars(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for c in text if not c.isspace()))


# Common given-name characters by sex.  Compiled for this project from
# common usage across generations (older: 建国/秀英 style; recent: 浩宇/
# 梓涵 style); not a frequency table.  Project data, unverified.
GIVEN_NAME_CHARS_MALE: tuple[str, ...] = _unique_chars(
    "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 俊 帆 帅 旭 龙 林 阳 建"
    " 国 峰 亮 成 志 文 博 晨 轩 然 泽 睿 宸 瑞 铭 昊 天 佑 家 嘉 思 诚 毅 晖 彬 锋 坤 海 江 东"
    " 锐 晓 伦 哲 翔 宏 振 新 兴 福 德 贵 生 荣 祥 富 昌 永 庆 胜 利 全 安 顺 春 光 金 山 云 立"
    " 业 正 清 泉 松 柏 良 忠 义 仁 智 勤 朝 晋 卫 兵 武 力 钢 铁 虎 豪 达 远 航 驰 骏 骁 奕 逸"
    " 宁 谦 恒 琦 璋 瑜 烨 煜 炜 磊 森 源 洋 涵 沐 辰 景 皓 宁 钧 彦 楷 霖 弘 岩 栋 梁 柱 涛"
    " 俊 凡 凯 锦 程 启 民 学 军 宝 来 喜 友 仲 尧 舜 禹 尚 书 墨 言 彤 麒 麟 鸿 羽 靖 钦 毅 航"
)

GIVEN_NAME_CHARS_FEMALE: tuple[str, ...] = _unique_chars(
    "芳 娜 敏 静 丽 艳 娟 霞 秀 玲 桂 英 慧 巧 美 兰 凤 洁 梅 琳 素 云 莲 真 环 雪 荣 爱 香 月"
    " 莺 媛 佳 琼 珍 贞 莉 萍 红 娥 玉 翠 雅 芝 倩 婷 姣 婉 娴 瑾 颖 露 瑶 怡 婵 雁 蓓 仪 荷 丹"
    " 蓉 眉 君 琴 蕊 薇 菁 梦 岚 苑 婕 馨 瑗 琰 韵 融 园 艺 咏 卿 聪 澜 纯 毓 悦 昭 冰 爽 琬 茗"
    " 羽 希 欣 飘 育 滢 馥 筠 柔 竹 霭 凝 晓 欢 霄 枫 芸 菲 寒 伊 亚 宜 可 舒 影 荔 枝 思 诗 涵"
    " 若 雨 萱 语 彤 诺 梓 依 晨 子 沐 一 妍 嫣 姗 娅 妮 琪 璐 璇 琦 瑜 珊 靖 晴 琴 岚 秋 冬 春"
    " 燕 鸽 虹 彩 霏 锦 绣 淑 惠 贤 静 文 华 颜 蕾 蔓 菊 桃 杏 樱 晶 莹 清 清 宁 安 乐 心 念 初"
)


def make_name(rng: random.Random, sex: Sex) -> str:
    """A Chinese full name: weighted surname + one or two given-name characters.

    Two-character given names 75% of the time (project assumption).
    """
    u = rng.random() * _SURNAME_CUMULATIVE[-1]
    surname = SURNAMES[min(bisect.bisect_right(_SURNAME_CUMULATIVE, u), len(SURNAMES) - 1)][0]
    chars = GIVEN_NAME_CHARS_MALE if sex == SEX_MALE else GIVEN_NAME_CHARS_FEMALE
    length = 2 if rng.random() < 0.75 else 1
    return surname + "".join(rng.choice(chars) for _ in range(length))


# Mainland mobile number-segment prefixes (三位号段) per the MIIT numbering
# plan: 13x, 15x (no 154), 17x (173/175-178; 170/171 are MVNO and omitted),
# 18x, 19x (191/193/195-199).  From general knowledge; not re-checked.
MOBILE_PREFIXES: tuple[str, ...] = (
    *(f"13{d}" for d in range(10)),
    *(f"15{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)),
    "173",
    "175",
    "176",
    "177",
    "178",
    *(f"18{d}" for d in range(10)),
    "191",
    "193",
    "195",
    "196",
    "197",
    "198",
    "199",
)


def make_phone(rng: random.Random) -> str:
    """An 11-digit mainland mobile number with a valid prefix."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


# Generic road names common across Chinese cities.
COMMON_ROAD_NAMES: tuple[str, ...] = (
    "人民路",
    "解放路",
    "建设路",
    "中山路",
    "和平路",
    "新华路",
    "胜利路",
    "文化路",
    "青年路",
    "光明路",
    "幸福路",
    "友谊路",
    "朝阳路",
    "团结路",
    "东风路",
    "工农路",
    "健康路",
    "育才路",
    "学府路",
    "花园路",
)

# Real road names in each district.  Names marked (v) appear in a source read
# this session (seed documents, NBS/encyclopedia pages); the rest are from
# general knowledge.  No claim that a road lies inside a given street.
DISTRICT_ROAD_NAMES: dict[str, tuple[str, ...]] = {
    "xuhui": (
        "漕溪北路",
        "衡山路",
        "淮海中路",
        "肇嘉浜路",
        "龙吴路",  # 龙吴路 (v)
        "罗秀路",
        "嘉陵路",
        "罗城路",
        "老沪闵路",  # (v) 长桥 boundaries
        "田林路",
        "虹梅路",
        "宜山路",
        "桂林路",
        "钦州路",
        "天钥桥路",
        "龙华中路",
        "斜土路",
        "零陵路",
        "康健路",
        "柳州路",
        "石龙路",
        "华泾路",
    ),
    "gusu": (
        "人民路",
        "干将路",
        "十梓街",
        "凤凰街",
        "五卅路",
        "东环路",
        "三香路",  # (v)
        "平江路",
        "山塘街",
        "留园路",
        "广济路",
        "石路",
        "十全街",
        "竹辉路",
        "道前街",
        "养育巷",
        "白塔东路",
    ),
    "binhai": (
        "葛万公路",
        "津港公路",
        "津歧公路",
        "中港路",
        "万安路",  # (v) 中塘镇 pages
        "解放路",
        "杭州道",
        "福州道",
        "河北路",
        "新港二号路",
        "第三大街",
        "泰达大街",
        "港城大道",
        "世纪大道",
    ),
    "xintang": (
        "世纪大道",
        "泉安中路",
        "青华路",
        "梅岭路",
        "迎宾路",
        "晋江大道",
        "和平路",
        "学府路",
        "池峰路",
    ),
    "songshan": (
        "科技路",
        "中央大街",
        "解放路",
        "士英街",
        "云飞街",
        "凌西大街",
        "渤海大道",
        "松山大街",
        "锦凌路",
    ),
}


def make_address(rng: random.Random, district: District, street: Street, community: Community) -> str:
    """A Chinese-convention address, largest unit first.

    Neighbourhood: 省市区街道 + 路 N 号 N 幢 N 室 (Shanghai: 路 N 弄 N 号 N 室).
    Village: 省市区镇 + 村 N 组 N 号.  For Shanghai/Tianjin the province is
    the municipality and is written once.
    """
    province = "" if district.is_municipality else district.province_name
    head = province + district.city_name + district.county_name + street.name
    if community.kind == "village":
        return f"{head}{community.name}{rng.randint(1, 12)}组{rng.randint(1, 199)}号"
    road = rng.choice(DISTRICT_ROAD_NAMES.get(district.key) or COMMON_ROAD_NAMES)
    room = f"{rng.randint(1, 18)}{rng.randint(1, 4):02d}室"
    if district.province_name == "上海市":
        return f"{head}{road}{rng.randint(1, 1200)}弄{rng.randint(1, 60)}号{room}"
    return f"{head}{road}{rng.randint(1, 999)}号{rng.randint(1, 30)}幢{room}"
