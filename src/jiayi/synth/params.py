"""Generator parameters that are not in ``reference.py``: staffing, household formation, coverage.

Every figure says where it comes from. Most are project assumptions chosen to look like a Chinese
urban district around 2020-2024; they only shape synthetic data and never drive clinical logic.
Epidemiological rates (prevalence, births, disability, names, census structure) come from
:mod:`jiayi.synth.reference`, which carries their sources.
"""

from __future__ import annotations

from typing import Final

#: Bump when the generated content changes for the same seed (the bench cache keys on it).
GENERATOR_VERSION: Final[str] = "2"

# ---------------------------------------------------------------------------------------------
# Staffing (per 10,000 resident population unless noted)
# ---------------------------------------------------------------------------------------------

#: General practitioners per 10,000 residents. 2020 national figure 2.90 (国家卫生健康委
#: 《2020年我国卫生健康事业发展统计公报》: 全科医生 40.9 万人, 每万人口全科医生 2.90 人; recalled,
#: not re-checked); Binhai's 2019 target is >= 2.7 (TARGETS.md). Project value 2.8.
GP_PER_10K: Final[float] = 2.8
#: Community nurses per GP: primary-care centres staff roughly one nurse per doctor or a little more
#: (project assumption).
NURSES_PER_GP: Final[float] = 1.2
#: Public-health physicians per 10,000 residents (project assumption: one per 2-4 teams).
PUBLIC_HEALTH_PER_10K: Final[float] = 1.0
#: TCM doctors: every centre has a TCM clinic (xuhui-2025 target), plus this many per 10,000.
TCM_PER_CENTRE: Final[int] = 1
TCM_PER_10K: Final[float] = 0.3
#: Village doctors (乡村医生) per village clinic (project assumption).
VILLAGE_DOCTORS_PER_CLINIC: Final[int] = 2
#: Staff in post who joined in the last 18 months; the others have 2-25 years of service (project
#: assumption, so that the GPs per 10,000 of past periods differ a little from today's).
STAFF_RECENT_HIRE_SHARE: Final[float] = 0.08
#: GPs who left in the last two years, as a share of the GPs in post (project assumption: a few
#: percent turnover a year in community health centres).
GP_LEFT_SHARE: Final[float] = 0.05
#: Share of a street's neighbourhood committees served by the centre itself rather than a station.
CENTRE_SERVED_SHARE: Final[float] = 0.34
#: Neighbourhood committees per community health station (一中心带多站; project assumption).
COMMUNITIES_PER_STATION: Final[int] = 2

# ---------------------------------------------------------------------------------------------
# Households (project assumptions tuned so that the mean household size is ~2.6, the 2020 census
# figure of 2.62 persons per family household; 第七次全国人口普查公报 第二号, recalled)
# ---------------------------------------------------------------------------------------------

#: Probability of living with a spouse by age band (lower bound, inclusive) and sex. Shaped after the
#: census marital-status tables (most people married by 30, widowhood rising after 70, much faster
#: for women); approximate, not taken from a single table.
MARRIED_BY_AGE: Final[dict[str, tuple[tuple[int, float], ...]]] = {
    "M": ((0, 0.0), (22, 0.12), (25, 0.45), (30, 0.76), (35, 0.87), (40, 0.90), (60, 0.88), (65, 0.86),
          (70, 0.82), (75, 0.75), (80, 0.62), (85, 0.45), (90, 0.30)),
    "F": ((0, 0.0), (20, 0.10), (22, 0.25), (25, 0.60), (30, 0.83), (35, 0.90), (40, 0.91), (60, 0.86),
          (65, 0.80), (70, 0.70), (75, 0.58), (80, 0.40), (85, 0.22), (90, 0.10)),
}
#: Mother's age minus the child's: mean and SD (2020 mean age at birth ~28-29; project assumption).
MOTHER_GAP_MEAN: Final[float] = 28.0
MOTHER_GAP_SD: Final[float] = 4.5
#: Unmarried young adults living with their parents, by age band.
LIVE_WITH_PARENTS: Final[tuple[tuple[int, float], ...]] = ((18, 0.92), (23, 0.70), (28, 0.50), (32, 0.35),
                                                           (35, 0.20), (40, 0.10), (45, 0.0))
#: Widowed or single people aged 60+ living with a married child (three-generation households).
SINGLE_ELDER_JOINS_CHILD: Final[tuple[tuple[int, float], ...]] = ((60, 0.30), (70, 0.45), (80, 0.62))
#: Elderly couples (husband 65+) living with a married child.
ELDER_COUPLE_JOINS_CHILD: Final[float] = 0.18
#: When parents live with a married child, the share of households whose head is the parent.
PARENT_IS_HEAD: Final[float] = 0.4
#: Head of a couple household is the husband (project assumption).
HUSBAND_IS_HEAD: Final[float] = 0.72
MAX_CHILDREN_PER_COUPLE: Final[int] = 3

# ---------------------------------------------------------------------------------------------
# Residence status (project assumptions; non-registered share is per household)
# ---------------------------------------------------------------------------------------------

#: Non-registered (常住非户籍) households by the head's age: migrants are mostly of working age.
NON_REGISTERED_BY_HEAD_AGE: Final[tuple[tuple[int, float], ...]] = ((0, 0.30), (50, 0.10), (65, 0.04))
#: Adult children (18-40, not heads) who have moved out of the district.
MOVED_OUT_SHARE: Final[float] = 0.05
#: Residents aged 70+ (not heads) recorded as deceased within the last three years.
DECEASED_SHARE_70PLUS: Final[float] = 0.045

# ---------------------------------------------------------------------------------------------
# Health records and measurements
# ---------------------------------------------------------------------------------------------

#: Share of living residents with a health record: gusu-2021 targets >= 90 %.
RECORD_RATE_REGISTERED: Final[float] = 0.95
RECORD_RATE_NON_REGISTERED: Final[float] = 0.82
RECORD_RATE_GONE: Final[float] = 0.9  # moved out / deceased residents had a record before
#: Electronic records open to the resident: gusu-2021 targets >= 65 %.
RECORD_OPEN_TO_RESIDENT: Final[float] = 0.68
#: First year of electronic records in the districts (national e-record push from 2009-2011).
RECORDS_SINCE_YEAR: Final[int] = 2011
#: Annual health check for residents 65+ (elderly health-management rate; targets 70-75 %).
ELDERLY_CHECK_RATE: Final[float] = 0.74
#: Yearly opportunistic BP measurement for residents 35-64 (first clinic visit of the year).
ADULT_BP_RATE: Final[float] = 0.38
#: Years of measurement history generated.
HISTORY_YEARS: Final[int] = 2
#: Visits, tasks and contract deliveries are on record for the last ~13 months (the platform's
#: history starts there; older contracts show only what was delivered since).
HISTORY_WINDOW_DAYS: Final[int] = 395

#: ABO blood groups among Han Chinese (approximate shares; A 28 %, B 29 %, O 34 %, AB 9 %) and
#: Rh-negative ~0.3 % (widely cited figures, not re-checked). Many records leave it blank/unknown.
BLOOD_TYPES: Final[tuple[tuple[str, float], ...]] = (("A", 0.28), ("B", 0.29), ("O", 0.34), ("AB", 0.09))
BLOOD_TYPE_RECORDED: Final[float] = 0.55
RH_NEGATIVE: Final[float] = 0.003

#: Insurance (医疗费用支付方式) labels of the basic-information form, by status.
INSURANCE_LABELS: Final[dict[str, str]] = {
    "employee": "城镇职工基本医疗保险",
    "resident": "城乡居民基本医疗保险",
    "commercial": "商业医疗保险",
    "self": "全自费",
    "poverty": "贫困救助",
}
EDUCATION_LABELS: Final[tuple[str, ...]] = (
    "文盲及半文盲", "小学", "初中", "高中/技校/中专", "大学专科及以上", "不详",
)
OCCUPATIONS: Final[tuple[str, ...]] = (
    "国家机关、党群组织、企业、事业单位负责人", "专业技术人员", "办事人员和有关人员",
    "商业、服务业人员", "农、林、牧、渔、水利业生产人员", "生产、运输设备操作人员及有关人员",
    "军人", "不便分类的其他从业人员", "无职业",
)
ALLERGENS: Final[tuple[tuple[str, float], ...]] = (("青霉素", 0.045), ("磺胺", 0.012), ("链霉素", 0.006))

# Other past-history diseases for realism on the record (not key populations): share of residents
# aged 60+ (project assumptions in line with the order of magnitude of the 2018 national health
# service survey; not re-checked).
OTHER_CONDITIONS_60PLUS: Final[tuple[tuple[str, str, float], ...]] = (
    ("I25.1", "冠状动脉粥样硬化性心脏病", 0.06),
    ("I63.9", "脑梗死", 0.035),
    ("J44.9", "慢性阻塞性肺疾病", 0.03),
)

# ---------------------------------------------------------------------------------------------
# Contracts and programmes (used by the contract and programme stages)
# ---------------------------------------------------------------------------------------------

#: Contract coverage of the resident population (xuhui-2025: 40 % 2023; gusu-2021 >= 35 %).
CONTRACT_RATE_GENERAL: Final[float] = 0.16
#: Coverage of key-population members (gusu >= 65 %, binhai >= 85 % for elderly/HT/DM). With the
#: family members who sign along, these give ~40 % overall and ~75 % of key populations.
CONTRACT_RATE_KEY: Final[float] = 0.68
#: Household members of a signer who sign too (contracts are signed by family unit).
CONTRACT_FAMILY_FOLLOWS: Final[float] = 0.22
#: Share of contracts that were renewals of an expired one / were terminated early.
CONTRACT_RENEWED: Final[float] = 0.62
CONTRACT_TERMINATED: Final[float] = 0.03
#: Hypertension/diabetes follow-up: share of patients lost to follow-up (no visit in 6+ months).
LOST_TO_FOLLOW_UP: Final[float] = 0.09
#: Probability that a due follow-up happens, and the delay when it does (days; project assumption).
VISIT_ATTENDANCE: Final[float] = 0.88
#: The same for the two-week re-check after an uncontrolled visit or a referral (often missed).
RECHECK_ATTENDANCE: Final[float] = 0.5
#: Treated hypertensive patients controlled at a visit (community managed patients reach much
#: better control than the national 16.8 %; project assumption ~60-65 % at a visit).
HT_CONTROLLED: Final[float] = 0.65
DM_CONTROLLED: Final[float] = 0.6
#: Signed HT/DM patients with a medication plan (binhai-2019 target >= 80 %).
MEDICATION_PLAN_RATE: Final[float] = 0.84


def band_value(bands: tuple[tuple[int, float], ...], age: int) -> float:
    """Value of the last band whose lower bound is <= age."""
    value = 0.0
    for lo, v in bands:
        if age >= lo:
            value = v
    return value
