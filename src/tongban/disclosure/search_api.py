"""GET /api/v1/disclosure/search (public) and the portal's search page /disclosure/search."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.permissions import Permission
from tongban.core.templating import render
from tongban.disclosure import search as disclosure_search
from tongban.disclosure.search import DIMENSIONS, Facet, SearchQuery, SearchResult
from tongban.disclosure.search_text import mark

router = APIRouter(prefix="/api/v1/disclosure", tags=["政府信息公开 disclosure"])
pages = APIRouter(include_in_schema=False)

# Longer than any query is allowed to be (search answers "query-too-long" in Chinese), short
# enough that nothing is read beyond it.
_Q = Annotated[str, Query(max_length=4000, description="检索词：标题、正文或文号，如「养老服务补贴」「浦府〔2026〕12号」")]
_Department = Annotated[str | None, Query(max_length=32, description="发布机构（部门编码），如 PD-MZ")]
_Year = Annotated[int | None, Query(ge=1, le=9999, description="年份（成文日期），如 2026")]
_Theme = Annotated[str | None, Query(max_length=50, description="主题分类")]
_Genre = Annotated[str | None, Query(max_length=50, description="体裁分类")]
_Validity = Annotated[str | None, Query(max_length=10, description="有效性：有效、失效、废止")]
_Sort = Annotated[str, Query(max_length=20, description="排序：relevance（相关度，默认）或 date（发布日期）")]
_Cursor = Annotated[str | None, Query(max_length=200, description="上一页返回的 next_cursor")]
_Limit = Annotated[int, Query(ge=1, le=50, description="每页条数，1–50")]


class SearchItem(BaseModel):
    index_number: str = Field(description="索引号")
    title: str = Field(description="标题")
    document_number: str | None = Field(description="文号")
    department: str = Field(description="发布机构")
    issued_on: date = Field(description="成文日期")
    published_on: date = Field(description="发布日期")
    validity: str = Field(description="有效性")
    snippet: str = Field(description="正文摘要：已做 HTML 转义，检索词以 <mark> 标出")
    url: str = Field(description="文件页面地址（站内路径）")


class SearchAnswer(BaseModel):
    total: int = Field(description="符合条件的文件总数")
    items: list[SearchItem]
    facets: dict[str, Facet] = Field(description="各筛选项的取值与文件数（某一项的计数按其余筛选条件计算）")
    next_cursor: str | None = Field(description="下一页的游标；最后一页为空")
    sort: str = Field(description="实际使用的排序：relevance 或 date（无检索词时按发布日期）")
    notes: list[str] = Field(description="检索说明：同义词、错别字纠正、忽略的词")


def _query(q: str, department: str | None, year: int | None, theme: str | None, genre: str | None,
           validity: str | None, sort: str, cursor: str | None, limit: int) -> SearchQuery:
    # An empty choice in a form ("全部") means no filter.
    return SearchQuery(q=q, department=department or None, year=year, theme=theme or None, genre=genre or None,
                       validity=validity or None, sort=sort or "relevance", cursor=cursor or None, limit=limit)


@router.get("/search", response_model=SearchAnswer, summary="政府信息公开一站式检索（全文、文号；筛选与计数；免登录）")
def search(db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)], q: _Q = "",
           department: _Department = None, year: _Year = None, theme: _Theme = None, genre: _Genre = None,
           validity: _Validity = None, sort: _Sort = "relevance", cursor: _Cursor = None, limit: _Limit = 10):
    result = disclosure_search.search(db, _query(q, department, year, theme, genre, validity, sort, cursor, limit))
    return SearchAnswer(total=result.total, facets=result.facets, next_cursor=result.next_cursor, sort=result.sort,
                        notes=result.notes,
                        items=[SearchItem(index_number=h.index_number, title=h.title, document_number=h.document_number,
                                          department=h.department, issued_on=h.issued_on, published_on=h.published_on,
                                          validity=h.validity, snippet=h.snippet, url=h.url) for h in result.items])


def _link(filters: dict, **changes) -> str:
    """The search page's address with some filters changed (None: left out)."""
    merged = {**filters, **changes}
    return "/disclosure/search?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


@pages.get("/disclosure/search", summary="政府信息公开：一站式检索")
def search_page(request: Request, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
                q: _Q = "", department: Annotated[str, Query(max_length=32)] = "",
                year: Annotated[str, Query(max_length=4, pattern=r"^(\d{4})?$")] = "",
                theme: Annotated[str, Query(max_length=50)] = "", genre: Annotated[str, Query(max_length=50)] = "",
                validity: Annotated[str, Query(max_length=10)] = "", sort: Annotated[str, Query(max_length=20)] = "",
                cursor: _Cursor = None):
    filters = {"q": q[:100], "department": department, "year": year, "theme": theme, "genre": genre,
               "validity": validity, "sort": sort}
    result: SearchResult | None = None
    error = None
    try:
        result = disclosure_search.search(db, _query(q, department, int(year) if year else None, theme, genre,
                                                     validity, sort, cursor, 10))
    except Problem as problem:
        error = problem.detail
    titles = {}
    if result is not None:
        titles = {hit.index_number: mark(hit.title, result.terms) for hit in result.items}
    chosen = {d: filters[d] for d in DIMENSIONS if filters[d]}
    return render(request, "disclosure_search.html", principal=principal, result=result, error=error,
                  filters=filters, chosen=chosen, titles=titles, link=lambda **changes: _link(filters, **changes),
                  dimensions=DIMENSIONS, searched=bool(q.strip()))
