"""Atom 1.0 feeds (RFC 4287) of newly published documents, per department and per 主题: what a
feed reader or another site follows instead of signing in. Published documents only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from xml.etree import ElementTree

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tongban.core import clock
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.permissions import Permission
from tongban.disclosure import service
from tongban.disclosure.documents import document_url
from tongban.disclosure.models import DisclosureDocument
from tongban.disclosure.schemas import GENRE_LABELS, THEME_LABELS, VALIDITY_LABELS, Theme
from tongban.org import service as org

router = APIRouter(include_in_schema=False)
ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
ATOM_MEDIA_TYPE = "application/atom+xml; charset=utf-8"


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def atom(*, base_url: str, feed_path: str, title: str, subtitle: str, updated: datetime,
         documents: list[DisclosureDocument]) -> bytes:
    """The feed document: an id and a self link of its own, one entry per document, newest first."""
    ElementTree.register_namespace("", ATOM)

    def sub(parent, tag: str, text: str | None = None, **attributes: str):
        element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        if text is not None:
            element.text = text
        return element

    feed = ElementTree.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "zh-CN"})
    sub(feed, "id", base_url + feed_path)
    sub(feed, "title", title)
    sub(feed, "subtitle", subtitle)
    sub(feed, "updated", _stamp(updated))
    sub(feed, "link", rel="self", href=base_url + feed_path, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=base_url + "/disclosure/catalog", type="text/html")
    author = sub(feed, "author")
    sub(author, "name", "政府信息公开")
    for document in documents:
        entry = sub(feed, "entry")
        url = base_url + document_url(document.index_number)
        sub(entry, "id", url)
        sub(entry, "title", document.title)
        moment = document.published_at or document.created_at
        sub(entry, "updated", _stamp(moment))
        sub(entry, "published", _stamp(moment))
        sub(entry, "link", rel="alternate", href=url, type="text/html")
        by = sub(entry, "author")
        sub(by, "name", document.department.name)
        sub(entry, "category", term=document.theme, label=THEME_LABELS[document.theme])
        facts = [f"索引号：{document.index_number}", f"发布机构：{document.department.name}",
                 f"成文日期：{document.issued_on.isoformat()}", f"体裁分类：{GENRE_LABELS[document.genre]}",
                 f"有效性：{VALIDITY_LABELS[document.validity]}"]
        if document.document_number:
            facts.insert(1, f"文号：{document.document_number}")
        sub(entry, "summary", "；".join(facts), type="text")
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)


def _feed(request: Request, db: Session, *, feed_path: str, title: str, subtitle: str,
          department_id: int | None = None, theme: str | None = None) -> Response:
    documents = service.latest(db, limit=FEED_SIZE, department_id=department_id, theme=theme)
    updated = max((d.published_at for d in documents if d.published_at), default=None) or clock.now()
    base_url = str(request.base_url).rstrip("/")
    body = atom(base_url=base_url, feed_path=feed_path, title=title, subtitle=subtitle, updated=updated, documents=documents)
    return Response(body, media_type=ATOM_MEDIA_TYPE)


@router.get("/disclosure/feeds/department/{code}.atom", summary="部门公开信息订阅源（Atom）")
def department_feed(request: Request, code: Annotated[str, Path(max_length=32)], db: DbSession,
                    _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    department = org.get_by_code_or_404(db, code)
    return _feed(request, db, feed_path=f"/disclosure/feeds/department/{department.code}.atom",
                 title=f"{department.name} · 政府信息公开", subtitle=f"{department.name}新公开的政府信息",
                 department_id=department.id)


@router.get("/disclosure/feeds/theme/{theme}.atom", summary="主题公开信息订阅源（Atom）")
def theme_feed(request: Request, theme: Annotated[str, Path(max_length=32)], db: DbSession,
               _: Annotated[Principal | None, require(Permission.PUBLIC)]):
    if theme not in THEME_LABELS:
        raise Problem("not-found", f"没有主题分类 {theme}")
    label = THEME_LABELS[Theme(theme)]
    return _feed(request, db, feed_path=f"/disclosure/feeds/theme/{theme}.atom", title=f"{label} · 政府信息公开",
                 subtitle=f"主题分类「{label}」下新公开的政府信息", theme=theme)
