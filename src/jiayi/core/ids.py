"""Identifiers: the 18-digit resident ID, the 17-digit health-record number, other identity documents.

Pure Python (no Django). Error messages are Chinese source strings marked with the local no-op ``_``
so that ``makemessages`` can collect them; the caller translates (``gettext(str(exc))``).

Decisions:

- Resident ID (GB 11643-1999, RULES.md §9.2, ALGORITHMS.md §6): length, characters, the ISO 7064
  MOD 11-2 check character and a real birth date (1880-01-01 .. today) are validated. The 6-digit
  address code is **not** validated: that needs a GB/T 2260 table including abolished codes (people
  keep the number issued under a code that no longer exists, e.g. 440524), which this module does not
  carry.
- 15-digit legacy IDs are upgraded by inserting "19" before the 2-digit year (all 15-digit numbers
  were issued to people born in the 1900s) and appending the check character.
- Health-record number (RULES.md §9.1): county(6) + street(3) + community(3) + serial(5). The
  community-code ranges are rule-set data of the programme ``health-record-number``:

  - ``hrn-2011`` (default) — the ranges of RULES.md §9.1 (confidence M, npbww): 居委会 001-099,
    村委会 101-199, other organisations 901-999;
  - ``nbs-statistical`` (opt-in) — the national statistical division codes (统计用区划代码, NBS):
    居委会 001-199, 村委会 200-399 (and 类似居委会 400-499 / 类似村委会 500-599, unverified).

  The platform builds the record number from the 12-digit code of the resident's community
  (``org.Area.code``), so the rule set chosen must be the scheme those area codes follow; the same
  rule set tells a neighbourhood from a village (urban / rural). RULES.md marks the §9.1 ranges M,
  not L, so ``hrn-2011`` stays the default; a deployment loading real NBS area codes selects
  ``nbs-statistical`` (setting ``JIAYI["RECORD_NUMBER_RULESET"]``) — see :func:`record_number_ruleset`.
- Passports, Hong Kong / Macao and Taiwan permits and birth certificates: format checks only, as a
  **project convention** (no official check digit is public); see each function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from jiayi.core import rulesets
from jiayi.core.rulesets import Param, RuleSet

__all__ = [
    "HRN_2011",
    "NBS_STATISTICAL",
    "RECORD_NUMBER_PROGRAMME",
    "IdNumberError",
    "RecordNumber",
    "RecordNumberError",
    "ResidentIdInfo",
    "community_kind",
    "format_record_number",
    "mask_id_number",
    "mask_phone",
    "parse_record_number",
    "parse_resident_id",
    "record_number_ruleset",
    "resident_id_check_char",
    "upgrade_15_to_18",
    "validate_birth_certificate",
    "validate_hk_macao_permit",
    "validate_passport",
    "validate_resident_id",
    "validate_taiwan_permit",
]


def _(s: str) -> str:
    """Mark a message for translation; the caller translates it."""
    return s


class IdNumberError(ValueError):
    """An identity-document number failed validation.

    ``code`` is machine-readable: 'length', 'chars', 'checksum', 'birth_date', 'sex_mismatch',
    'birth_mismatch', 'format' (other documents); ``message`` (also ``str(exc)``) is Chinese.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RecordNumberError(IdNumberError):
    """A health-record number failed validation; codes 'length', 'chars', 'county', 'street',
    'community', 'serial'."""


def _ascii_digits(s: str) -> bool:
    return bool(s) and all("0" <= c <= "9" for c in s)


# ---------------------------------------------------------------------------------------------
# 18-digit resident ID (GB 11643-1999)
# ---------------------------------------------------------------------------------------------

#: ISO 7064 MOD 11-2 weights for positions 1-17 (2^(18-i) mod 11).
ID_WEIGHTS: Final[tuple[int, ...]] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
#: Check character indexed by S mod 11.
ID_CHECK_CHARS: Final[str] = "10X98765432"
#: Earliest birth date accepted in a resident ID.
MIN_BIRTH_DATE: Final[date] = date(1880, 1, 1)


@dataclass(frozen=True)
class ResidentIdInfo:
    """The parts of a valid 18-digit resident ID."""

    number: str  # normalised: stripped, check character uppercase
    area_code: str  # 6-digit GB/T 2260 address code (not validated)
    birth_date: date
    sequence: str  # 3 digits; odd = male, even = female
    sex: str  # 'M' or 'F'
    check: str  # '0'-'9' or 'X'


def resident_id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of a resident ID."""
    if len(first17) != 17:
        raise IdNumberError("length", _("身份证号码本体码应为17位数字。"))
    if not _ascii_digits(first17):
        raise IdNumberError("chars", _("身份证号码本体码只能包含数字。"))
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def _birth_date(yyyymmdd: str, *, today: date | None) -> date:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise IdNumberError("birth_date", _("身份证号码中的出生日期不存在。")) from None
    if born < MIN_BIRTH_DATE:
        raise IdNumberError("birth_date", _("身份证号码中的出生日期早于1880年，不合理。"))
    if born > (today or date.today()):
        raise IdNumberError("birth_date", _("身份证号码中的出生日期晚于今天。"))
    return born


def parse_resident_id(number: str, *, today: date | None = None) -> ResidentIdInfo:
    """Validate an 18-digit resident ID and return its parts; raise :class:`IdNumberError`.

    Checks, in order: length 18; 17 digits + digit or X (lowercase x accepted and normalised);
    the MOD 11-2 check character; a real birth date not before 1880-01-01 and not after ``today``
    (default: the system date).
    """
    n = (number or "").strip().upper()
    if len(n) != 18:
        raise IdNumberError("length", _("身份证号码应为18位。"))
    if not _ascii_digits(n[:17]) or not (_ascii_digits(n[17]) or n[17] == "X"):
        raise IdNumberError("chars", _("身份证号码前17位应为数字，最后一位应为数字或X。"))
    if resident_id_check_char(n[:17]) != n[17]:
        raise IdNumberError("checksum", _("身份证号码校验位不正确，请核对号码。"))
    born = _birth_date(n[6:14], today=today)
    sequence = n[14:17]
    return ResidentIdInfo(
        number=n,
        area_code=n[:6],
        birth_date=born,
        sequence=sequence,
        sex="M" if int(sequence) % 2 == 1 else "F",
        check=n[17],
    )


def validate_resident_id(
    number: str,
    *,
    sex: str | None = None,
    birth_date: date | None = None,
    today: date | None = None,
) -> ResidentIdInfo:
    """:func:`parse_resident_id`, plus consistency with the recorded sex ('M'/'F') and birth date.

    Raises IdNumberError with code 'sex_mismatch' or 'birth_mismatch' on a disagreement. A ``sex``
    other than 'M'/'F' (e.g. unknown) is not compared.
    """
    info = parse_resident_id(number, today=today)
    if sex is not None and sex.upper() in ("M", "F") and sex.upper() != info.sex:
        raise IdNumberError("sex_mismatch", _("性别与身份证号码不一致（第17位奇数为男性，偶数为女性）。"))
    if birth_date is not None and birth_date != info.birth_date:
        raise IdNumberError("birth_mismatch", _("出生日期与身份证号码中的出生日期不一致。"))
    return info


def upgrade_15_to_18(number15: str, *, today: date | None = None) -> str:
    """Convert a 15-digit legacy ID: insert '19' before the 2-digit year and add the check character."""
    n = (number15 or "").strip()
    if len(n) != 15:
        raise IdNumberError("length", _("旧身份证号码应为15位。"))
    if not _ascii_digits(n):
        raise IdNumberError("chars", _("15位身份证号码只能包含数字。"))
    first17 = n[:6] + "19" + n[6:]
    _birth_date(first17[6:14], today=today)
    return first17 + resident_id_check_char(first17)


# ---------------------------------------------------------------------------------------------
# Masking for display
# ---------------------------------------------------------------------------------------------


def mask_id_number(number: str | None) -> str:
    """Keep the first 4 and last 4 characters, stars between: '310101199001011234' -> '3101**********1234'.

    Shorter inputs keep at most a third of their characters visible in total (e.g. 8 characters ->
    '12****78', 4 -> '1**4', 2 -> '**'); empty input gives ''.
    """
    n = (number or "").strip()
    if not n:
        return ""
    keep = min(4, (len(n) - 1) // 3)
    if keep == 0:
        return "*" * len(n)
    return n[:keep] + "*" * (len(n) - 2 * keep) + n[-keep:]


def mask_phone(phone: str | None) -> str:
    """'13812345678' -> '138****5678'.

    Spaces and hyphens are removed. A '+86' / '0086' prefix is kept in front of the masked national
    number. Numbers of 9 characters or more keep the first 3 and last 4; shorter ones keep only the
    last quarter (landline extensions etc.); empty input gives ''.
    """
    p = re.sub(r"[\s\-]", "", phone or "")
    if not p:
        return ""
    prefix = ""
    for cc in ("+86", "0086"):
        if p.startswith(cc) and len(p) > len(cc) + 8:
            prefix, p = cc, p[len(cc) :]
            break
    if len(p) >= 9:
        return prefix + p[:3] + "*" * (len(p) - 7) + p[-4:]
    keep = len(p) // 4
    return prefix + "*" * (len(p) - keep) + (p[-keep:] if keep else "")


# ---------------------------------------------------------------------------------------------
# Health-record number (居民健康档案编码, RULES.md §9.1)
# ---------------------------------------------------------------------------------------------

RECORD_NUMBER_PROGRAMME: Final[str] = "health-record-number"
RECORD_SERIAL_MAX: Final[int] = 99_999

HRN_2011: Final[RuleSet] = rulesets.register(
    RuleSet(
        code="hrn-2011",
        programme=RECORD_NUMBER_PROGRAMME,
        title="居民健康档案编码（17位）",
        effective_from=date(2011, 9, 16),
        params={
            "community_ranges": Param(
                value=(("neighbourhood", 1, 99), ("village", 101, 199), ("other", 901, 999)),
                confidence="M",
                source="RULES.md §9.1 — npbww.com; segment layout gov.cn/Xinhua 2011-09-16",
                note="居委会 001-099, 村委会 101-199, 其他组织 901-999 (one secondary source). These are the "
                "record-number ranges; the NBS statistical division codes use other ranges (nbs-statistical).",
            ),
        },
    )
)

#: The village-level segment of the NBS statistical division codes (统计用区划代码), for deployments
#: whose area codes (and hence record numbers) are the real NBS codes. Opt-in: never chosen by date.
NBS_STATISTICAL: Final[RuleSet] = rulesets.register(
    RuleSet(
        code="nbs-statistical",
        programme=RECORD_NUMBER_PROGRAMME,
        title="统计用区划代码 村级代码段（国家统计局）",
        effective_from=date(2009, 1, 1),
        opt_in=True,
        note="effective_from approximates the NBS coding rule for statistical division codes; the record "
        "number then carries the NBS committee code in its third segment (not the §9.1 ranges).",
        params={
            "community_ranges": Param(
                value=(
                    ("neighbourhood", 1, 199),
                    ("village", 200, 399),
                    ("neighbourhood", 400, 499),
                    ("village", 500, 599),
                ),
                confidence="M",
                source="国家统计局 统计用区划代码编制规则 (third segment: 居民委员会 / 村民委员会); "
                "consistent with published NBS codes, e.g. 440983102001 水口居委会, 440983102201 垌心村委会, "
                "220581102200 春明村, 522632210500 摆拉村委会",
                verified=False,
                note="the NBS rule text was not read: 001-199 居委会 and 200-399 村委会 agree with the published "
                "code lists; 400-499 类似居委会 and 500-599 类似村委会 are an unverified recollection",
            ),
        },
    )
)


def record_number_ruleset(code: str | None = None) -> RuleSet:
    """The health-record-number rule set ``code`` (e.g. the setting ``JIAYI["RECORD_NUMBER_RULESET"]``);
    ``hrn-2011`` when ``code`` is empty. KeyError naming the registered codes for an unknown code."""
    return rulesets.get(RECORD_NUMBER_PROGRAMME, code) if code else HRN_2011


COMMUNITY_KINDS: Final[dict[str, str]] = {
    "neighbourhood": "居民委员会",
    "village": "村民委员会",
    "other": "其他组织",
}


@dataclass(frozen=True)
class RecordNumber:
    """The segments of a 17-digit health-record number."""

    county: str  # 6 digits, GB/T 2260 county-level-or-above division
    street: str  # 3 digits, township / street (GB/T 10114)
    community: str  # 3 digits, village / neighbourhood committee
    serial: int  # 1..99999
    kind: str  # 'neighbourhood' | 'village' | 'other'

    @property
    def number(self) -> str:
        return f"{self.county}{self.street}{self.community}{self.serial:05d}"

    @property
    def form_number(self) -> str:
        """The last 8 digits as printed on forms, '□□□-□□□□□'."""
        return f"{self.community}-{self.serial:05d}"

    def __str__(self) -> str:
        return self.number


def community_kind(community3: str, *, ruleset: RuleSet | None = None) -> str:
    """The kind of a 3-digit village-level code under the rule set's ``community_ranges`` (default
    ``hrn-2011``: 'neighbourhood' 001-099, 'village' 101-199, 'other' 901-999); RecordNumberError when
    the code is in none of the ranges."""
    if len(community3) != 3 or not _ascii_digits(community3):
        raise RecordNumberError("community", _("村（居）委会代码应为3位数字。"))
    code = int(community3)
    for kind, low, high in (ruleset or HRN_2011).value("community_ranges"):
        if low <= code <= high:
            return str(kind)
    raise RecordNumberError("community", _("村（居）委会代码不在所用编码规则的有效范围内。"))


def format_record_number(
    county6: str, street3: str, community3: str, serial: int, *, ruleset: RuleSet | None = None
) -> str:
    """Assemble the 17-digit health-record number, validating each segment."""
    if len(county6) != 6 or not _ascii_digits(county6):
        raise RecordNumberError("county", _("县级行政区划代码应为6位数字。"))
    if len(street3) != 3 or not _ascii_digits(street3):
        raise RecordNumberError("street", _("乡镇（街道）代码应为3位数字。"))
    community_kind(community3, ruleset=ruleset)
    if isinstance(serial, bool) or not isinstance(serial, int) or not 1 <= serial <= RECORD_SERIAL_MAX:
        raise RecordNumberError("serial", _("档案流水号应在1到99999之间。"))
    return f"{county6}{street3}{community3}{serial:05d}"


def parse_record_number(s: str, *, ruleset: RuleSet | None = None) -> RecordNumber:
    """Split and validate a 17-digit health-record number (spaces and hyphens are ignored)."""
    n = re.sub(r"[\s\-]", "", s or "")
    if len(n) != 17:
        raise RecordNumberError("length", _("健康档案编号应为17位数字。"))
    if not _ascii_digits(n):
        raise RecordNumberError("chars", _("健康档案编号只能包含数字。"))
    format_record_number(n[:6], n[6:9], n[9:12], int(n[12:]), ruleset=ruleset)
    return RecordNumber(
        county=n[:6],
        street=n[6:9],
        community=n[9:12],
        serial=int(n[12:]),
        kind=community_kind(n[9:12], ruleset=ruleset),
    )


# ---------------------------------------------------------------------------------------------
# Other identity documents — format checks only (project convention)
# ---------------------------------------------------------------------------------------------

_PASSPORT_ANY = re.compile(r"^(?=.*[0-9])[A-Z0-9]{5,17}$")
_PASSPORT_PRC = re.compile(r"^(E[0-9]{8}|E[A-Z][0-9]{7}|G[0-9]{8})$")
_HK_MACAO = re.compile(r"^[HM][0-9]{8}([0-9]{2})?$")
_TAIWAN = re.compile(r"^[0-9]{8}$")
_BIRTH_CERT = re.compile(r"^[A-Z][0-9]{9}$")


def _norm(number: str | None) -> str:
    return (number or "").strip().upper()


def validate_passport(number: str, *, chinese: bool = False) -> str:
    """Return the normalised passport number or raise IdNumberError('format').

    Project convention: any passport is 5-17 letters/digits with at least one digit (ICAO 9303
    document numbers vary by country). With ``chinese=True`` the PRC ordinary-passport formats are
    required: 'E' + 8 digits, 'E' + letter + 7 digits, or the older 'G' + 8 digits.
    """
    n = _norm(number)
    pattern = _PASSPORT_PRC if chinese else _PASSPORT_ANY
    if not pattern.match(n):
        raise IdNumberError("format", _("护照号码格式不正确。"))
    return n


def validate_hk_macao_permit(number: str) -> str:
    """港澳居民来往内地通行证: 'H' (Hong Kong) or 'M' (Macao) + 8 digits (the 9-character card form),
    or + 10 digits (older booklet form: 8 digits + 2-digit issue count). Project convention."""
    n = _norm(number)
    if not _HK_MACAO.match(n):
        raise IdNumberError("format", _("港澳居民来往内地通行证号码应为H或M加8位数字。"))
    return n


def validate_taiwan_permit(number: str) -> str:
    """台湾居民来往大陆通行证: 8 digits (card form since 2015). Project convention."""
    n = _norm(number)
    if not _TAIWAN.match(n):
        raise IdNumberError("format", _("台湾居民来往大陆通行证号码应为8位数字。"))
    return n


def validate_birth_certificate(number: str) -> str:
    """出生医学证明: one letter + 9 digits, e.g. 'A123456789'. Project convention."""
    n = _norm(number)
    if not _BIRTH_CERT.match(n):
        raise IdNumberError("format", _("出生医学证明编号应为1位字母加9位数字。"))
    return n
