"""The ICD-10 code list over /api/v1/codes/icd10 (paginated with ninja's page-number pagination).

No ``from __future__ import annotations`` here: ninja's ``@paginate`` wrapper resolves the view's
annotations in its own module, so they must be real objects, not strings."""

from typing import Annotated

from ninja import Field, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from jiayi.residents import icd10

router = Router(tags=["codes"])

SearchText = Annotated[str, Field(max_length=50)]


class Icd10Out(Schema):
    code: str
    level: str
    title_zh: str
    title_en: str
    block: str
    chapter: str


@router.get("/codes/icd10", response=list[Icd10Out])
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def icd10_search(request, q: SearchText = ""):
    """ICD-10 categories and subcategories matching ``q``: a code or its start ('F20'), or words of the
    Chinese or English title ('精神', 'schizo'). ``title_zh`` is empty where the project's compilation of
    Chinese titles has none (show ``title_en`` then)."""
    return icd10.search(q)
