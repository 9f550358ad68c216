"""The item base in the database: drafts, review and publication, search, notices.

Every version of an item is its whole document. Nothing reaches citizens unreviewed: a draft is
submitted, reviewed by someone other than its author, and published; publication validates the
item again against everything already published, so two drafts that are each fine alone cannot
publish a prerequisite cycle between them.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tongban.core import audit, clock, numbers
from tongban.core.auth import Principal, ensure_department
from tongban.core.db.cache import forget, per_generation_lookup
from tongban.core.errors import Problem
from tongban.core.inputs import normalise_code
from tongban.core.pagination import paginate
from tongban.core.permissions import Permission
from tongban.items import content, navigation
from tongban.items.schemas import ServiceItemDocument
from tongban.items.models import (
    EDITABLE, Consultation, ConsultationStatus, ItemNotice, SearchSynonym, ServiceItem, ServiceItemVersion, VersionStatus,
)
from tongban.items.search import (
    BundleDocument, QueryError, SearchHit, SearchIndex, Synonym, default_synonyms, normalise_query,
)
# The CJK font the notice PDF registers (once per process), for other domains' PDFs.
from tongban.org import service as org

def canonical(item: dict) -> str:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def department_names(db: Session) -> dict[str, str]:
    return {department.code: department.name for department in org.list_all(db)}


def _published_rows(db: Session):
    return db.execute(select(ServiceItem.basic_code, ServiceItemVersion.version, ServiceItemVersion.content)
                      .join(ServiceItemVersion, (ServiceItemVersion.item_id == ServiceItem.id)
                            & (ServiceItemVersion.version == ServiceItem.published_version))
                      .order_by(ServiceItem.basic_code))


def published_items(db: Session) -> dict[str, dict]:
    """Every published item's document, by basic code."""
    return {code: content.readable(json.loads(text)) for code, _version, text in _published_rows(db)}


def published_item(db: Session, code: str) -> tuple[dict, int]:
    """The item's published document (a fresh copy: callers may change it) and its version."""
    row = published_rows(db, [code]).get(code)
    if row is None:
        raise Problem("unknown-service-item", f"没有编码为「{code}」的已发布办事事项")
    return content.readable(json.loads(row[0])), row[1]


def published_document(db: Session, code: str) -> ServiceItemDocument:
    """The item's published document, typed (``schemas.ServiceItemDocument``): what other
    domains read of an item (its name, department, time limits, situations, materials, results).
    Validated once per item and generation of the reference data, like the rows it is read from
    (``published_rows``), and shared: the document is frozen, and no caller changes what it keeps
    as stored (``model_extra``)."""
    found = per_generation_lookup(db, _DOCUMENTS, [code], lambda missing: [
        (known, ServiceItemDocument.model_validate(content.readable(json.loads(row[0]))))
        for known, row in published_rows(db, missing).items()])
    document = found.get(code)
    if document is None:
        raise Problem("unknown-service-item", f"没有编码为「{code}」的已发布办事事项")
    return document


def published_rows(db: Session, codes) -> dict[str, tuple[str, int]]:
    """(content, version) of the published items of these codes, read in one query and kept while
    the reference data is unchanged (``per_generation``): every step of a case reads its items'
    documents. An absent code is asked again: it may be published in this very transaction."""
    return per_generation_lookup(db, _PUBLISHED, codes, lambda missing: [
        (code, (content, version)) for code, content, version in db.execute(_PUBLISHED_ROWS, {"codes": missing})])


_PUBLISHED = "published-items"
_DOCUMENTS = "published-documents"  # the typed documents of the published rows (``published_document``)
# Built once: every step of a case reads its items' documents.
_PUBLISHED_ROWS = (select(ServiceItem.basic_code, ServiceItemVersion.content, ServiceItemVersion.version)
                   .join(ServiceItem, ServiceItem.id == ServiceItemVersion.item_id)
                   .where(ServiceItem.basic_code.in_(bindparam("codes", expanding=True)),
                          ServiceItemVersion.version == ServiceItem.published_version))


def department_id_of(db: Session, code: str) -> int:
    """The id of the department running the item of this code."""
    department_id = db.scalar(_ITEM_DEPARTMENT, {"code": code})
    if department_id is None:
        raise Problem("unknown-service-item", f"没有编码为「{code}」的办事事项")
    return department_id


_ITEM_DEPARTMENT = select(ServiceItem.department_id).where(ServiceItem.basic_code == bindparam("code"))


def _invalid(problems: list[str]) -> Problem:
    return Problem("item-invalid", f"事项内容有 {len(problems)} 处问题，未保存：" + "；".join(problems[:3])
                   + ("……" if len(problems) > 3 else ""),
                   errors=[{"field": f"item.{field}" if (field := getattr(p, "field", "")) else "item", "code": "invalid",
                            "message": p} for p in problems[:200]])


def _check(db: Session, changed: list[dict]) -> None:
    """Validate items as they would stand among everything published: dangling references and cycles included."""
    relevant = problems_of(db, changed)
    if relevant:
        raise _invalid(relevant)


def problems_of(db: Session, changed: list[dict]) -> list[str]:
    """The problems (``content.Issue``) of these items as they would stand among everything published."""
    merged = published_items(db)
    for item in changed:
        if isinstance(item, dict) and isinstance(item.get("basic_code"), str):
            merged[item["basic_code"]] = item
    problems = content.validate({"format": content.FORMAT, "version": content.VERSION, "items": list(merged.values())},
                                org.implementation_prefixes(db))
    # Problems of untouched published items are not this change's; those touching it are.
    # The label is the validator's own (the code when the name is missing), or a nameless item's
    # problems would be filtered away and the item saved unchecked.
    labels = [content.item_label(item) for item in changed if isinstance(item, dict)]
    codes = [item.get("basic_code") for item in changed if isinstance(item, dict)]
    names = [item.get("name") for item in changed if isinstance(item, dict)]
    return [p for p in problems if any(label in p for label in labels) or p.startswith("前置事项形成循环")
            and any(name and name in p for name in names + codes)]


def _item_row(db: Session, code: str, *, lock: bool = False) -> ServiceItem | None:
    query = select(ServiceItem).where(ServiceItem.basic_code == code)
    return db.scalar(query.with_for_update() if lock else query)


def loads(text: str) -> Any:
    return json.loads(text)


def item_rows(db: Session, principal: Principal, *, status: str | None = None) -> list[tuple[ServiceItem, ServiceItemVersion]]:
    """Items with their newest version, as far as the principal manages them."""
    query = (select(ServiceItem, ServiceItemVersion)
             .join(ServiceItemVersion, (ServiceItemVersion.item_id == ServiceItem.id)
                   & (ServiceItemVersion.version == ServiceItem.latest_version))
             .order_by(ServiceItem.department_id, ServiceItem.basic_code))
    if not principal.can_for_department(Permission.ITEMS_MANAGE, None):
        query = query.where(ServiceItem.department_id == principal.department_id)
    if status:
        query = query.where(ServiceItemVersion.status == status)
    return [(item, version) for item, version in db.execute(query)]


def managed_item(db: Session, principal: Principal, code: str, *, action: str) -> ServiceItem:
    item = item_or_404(db, code)
    ensure_department(db, principal, Permission.ITEMS_MANAGE, item.department, action=action)
    return item


def item_or_404(db: Session, code: str) -> ServiceItem:
    item = _item_row(db, code)
    if item is None:
        raise Problem("unknown-service-item", f"没有编码为「{code}」的办事事项")
    return item


def version_of(db: Session, item: ServiceItem, version: int) -> ServiceItemVersion:
    row = db.scalar(select(ServiceItemVersion).where(ServiceItemVersion.item_id == item.id,
                                                     ServiceItemVersion.version == version))
    if row is None:
        raise Problem("not-found", f"事项「{item.name}」没有第 {version} 版")
    return row


def versions(db: Session, item: ServiceItem) -> list[ServiceItemVersion]:
    return list(db.scalars(select(ServiceItemVersion).where(ServiceItemVersion.item_id == item.id)
                           .order_by(ServiceItemVersion.version.desc())))


def _flush(db: Session, what: str) -> None:
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        raise Problem("conflict", f"{what}刚被他人修改，请刷新后重试") from None


def save_draft(db: Session, document: Any, *, actor: Principal | audit.SystemActor,
               principal: Principal | None = None, checked: bool = False) -> ServiceItemVersion:
    """Create or revise the editable version of one item; validated before anything is written."""
    if not isinstance(document, dict) or not isinstance(document.get("basic_code"), str):
        raise _invalid(["事项必须是 JSON 对象，并包含 basic_code"])
    if not checked:
        _check(db, [document])
    department = org.get_by_code_or_404(db, document["department"])
    item = _item_row(db, document["basic_code"])
    if principal is not None:
        ensure_department(db, principal, Permission.ITEMS_MANAGE, department, action="items.draft")
        if item is not None and item.department_id != department.id:
            ensure_department(db, principal, Permission.ITEMS_MANAGE, item.department, action="items.draft")
    now = clock.now()
    text = canonical(document)
    if item is None:
        item = ServiceItem(basic_code=document["basic_code"], name=document["name"], department_id=department.id,
                           published_version=None, latest_version=1, updated_at=now)
        db.add(item)
        db.flush()
        draft = ServiceItemVersion(item_id=item.id, version=1, status=VersionStatus.DRAFT, content=text,
                                   author=actor.actor_name, created_at=now, updated_at=now)
        db.add(draft)
    else:
        latest = version_of(db, item, item.latest_version)
        if latest.status == VersionStatus.IN_REVIEW:
            raise Problem("version-not-editable", f"事项「{item.name}」第 {latest.version} 版正在审核，审核完成前不能修改")
        if latest.status in EDITABLE:
            draft = latest
            draft.content, draft.updated_at, draft.author = text, now, actor.actor_name
            draft.status = VersionStatus.DRAFT
        else:
            item.latest_version += 1
            draft = ServiceItemVersion(item_id=item.id, version=item.latest_version, status=VersionStatus.DRAFT,
                                       content=text, author=actor.actor_name, created_at=now, updated_at=now)
            db.add(draft)
        item.name, item.department_id, item.updated_at = document["name"], department.id, now
    audit.record(db, actor=actor, action="items.draft", object_type="service_item", object_id=item.basic_code,
                 details={"version": draft.version, "name": document["name"]})
    _flush(db, f"事项「{document['name']}」")
    return draft


def submit(db: Session, item: ServiceItem, *, actor: Principal) -> ServiceItemVersion:
    latest = version_of(db, item, item.latest_version)
    if latest.status not in EDITABLE:
        raise Problem("version-not-editable", f"事项「{item.name}」没有待提交的草稿（第 {latest.version} 版："
                      f"{latest.status}）")
    _check(db, [json.loads(latest.content)])  # a draft saved before today's checks is checked again
    latest.status, latest.submitted_at = VersionStatus.IN_REVIEW, clock.now()
    item.updated_at = clock.now()
    audit.record(db, actor=actor, action="items.submit", object_type="service_item", object_id=item.basic_code,
                 details={"version": latest.version})
    _flush(db, f"事项「{item.name}」")
    return latest


def review(db: Session, item: ServiceItem, version: int, *, approve: bool, comment: str | None,
           actor: Principal | audit.SystemActor, checked: bool = False) -> ServiceItemVersion:
    """Publish a submitted version, or return it to its author with a comment."""
    row = version_of(db, item, version)
    if row.status != VersionStatus.IN_REVIEW:
        raise Problem("already-decided", f"事项「{item.name}」第 {version} 版不在待审核状态")
    if isinstance(actor, Principal) and row.author == actor.actor_name:
        raise Problem("own-draft", "事项须由编写人以外的人员审核")
    if not approve and not (comment or "").strip():
        raise Problem("validation-error", "退回时请写明退回意见",
                      errors=[{"field": "body.comment", "code": "required", "message": "请填写退回意见"}])
    now = clock.now()
    if approve:
        if not checked:  # again: what was published meanwhile may conflict with it
            _check(db, [json.loads(row.content)])
        if item.published_version is not None:
            version_of(db, item, item.published_version).status = VersionStatus.SUPERSEDED
        row.status, item.published_version = VersionStatus.PUBLISHED, version
        forget(db, _PUBLISHED)
    else:
        row.status = VersionStatus.RETURNED
    row.reviewer, row.reviewed_at, row.review_comment = actor.actor_name, now, (comment or "").strip() or None
    item.updated_at = now
    audit.record(db, actor=actor, action="items.publish" if approve else "items.return", object_type="service_item",
                 object_id=item.basic_code, details={"version": version, "comment": row.review_comment})
    _flush(db, f"事项「{item.name}」")
    if approve:
        index_cache.recheck_after_commit(db)
    return row


def import_document(db: Session, document: Any, *, actor: Principal | audit.SystemActor,
                    principal: Principal | None = None, publish: bool = False) -> dict[str, int]:
    """Load a whole items document (JSON or a converted workbook) as drafts, or published (demo, seeding).

    All or nothing: the document is validated as a whole first, and any problem refuses it all.
    It may hold some items only (a workbook's changed rows): each is checked as it would stand
    among everything published, so a relation to a published item outside the document is fine.
    """
    prefixes = org.implementation_prefixes(db)
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise _invalid(content.validate(document, prefixes))
    if shape := content.validate({**document, "items": []}, prefixes):
        raise _invalid(shape)
    if any(not isinstance(item, dict) for item in document["items"]):
        raise _invalid(["事项列表中的每一项必须是 JSON 对象"])
    codes = [item.get("basic_code") for item in document["items"]]
    if twice := sorted({str(code) for code in codes if codes.count(code) > 1}):
        raise _invalid([f"基本编码「{code}」在导入内容中出现了不止一次" for code in twice])
    _check(db, document["items"])
    counts = {"created": 0, "revised": 0, "unchanged": 0}
    for item_document in document["items"]:
        existing = _item_row(db, item_document["basic_code"])
        if existing is not None and existing.published_version is not None and existing.latest_version == \
                existing.published_version and canonical(item_document) == \
                version_of(db, existing, existing.published_version).content:
            counts["unchanged"] += 1
            continue
        counts["created" if existing is None else "revised"] += 1
        draft = save_draft(db, item_document, actor=actor, principal=principal, checked=True)
        if publish:
            draft.status = VersionStatus.IN_REVIEW
            review(db, item_or_404(db, item_document["basic_code"]), draft.version, approve=True, comment="批量导入发布",
                   actor=audit.SYSTEM, checked=True)
    audit.record(db, actor=actor, action="items.import", object_type="service_items", details=counts)
    return counts


@dataclass(frozen=True)
class ImportRow:
    """One item of an uploaded workbook as it would be imported: created, updated, unchanged or
    rejected (with the reasons, in Chinese), and the row of the 事项 sheet it came from."""

    row: int | None
    code: str
    name: str
    outcome: str
    reasons: list[str]
    item: dict


def import_preview(db: Session, document: dict, rows: dict[str, int], principal: Principal) -> list[ImportRow]:
    """What importing the document would do, item by item, writing nothing. Each item is validated as
    it would stand among everything published and the rest of the workbook."""
    items = [item for item in document.get("items") or [] if isinstance(item, dict)]
    merged = published_items(db)
    for item in items:
        if isinstance(item.get("basic_code"), str):
            merged[item["basic_code"]] = item
    problems = content.validate({"format": content.FORMAT, "version": content.VERSION, "items": list(merged.values())},
                                org.implementation_prefixes(db))
    latest = latest_documents(db, [str(item.get("basic_code")) for item in items])
    out = []
    for item in items:
        code, label = str(item.get("basic_code") or ""), content.item_label(item)
        reasons = [p[len(label):].lstrip("：").strip() if p.startswith(label) else str(p) for p in problems
                   if p.startswith(label) or p.startswith("前置事项形成循环") and item.get("name") and item["name"] in p]
        existing = _item_row(db, code)
        if existing is not None and canonical(item) == canonical(latest.get(code, {})) and not reasons:
            out.append(ImportRow(rows.get(code), code, str(item.get("name") or ""), "unchanged", [], item))
            continue
        department = org.get_by_code(db, item["department"]) if isinstance(item.get("department"), str) else None
        for unit in (department, existing.department if existing is not None else None):
            if unit is not None and not principal.can_for_department(Permission.ITEMS_MANAGE, unit.id):
                reasons.append(f"无权维护{unit.name}的事项")
        if existing is not None and version_of(db, existing, existing.latest_version).status == VersionStatus.IN_REVIEW:
            reasons.append(f"第 {existing.latest_version} 版正在审核，审核完成前不能修改")
        outcome = "rejected" if reasons else "created" if existing is None else "updated"
        out.append(ImportRow(rows.get(code), code, str(item.get("name") or ""), outcome, list(dict.fromkeys(reasons)), item))
    return out


def find_item(db: Session, code: str) -> ServiceItem | None:
    return _item_row(db, code)


def export_document(db: Session) -> dict[str, Any]:
    return {"format": content.FORMAT, "version": content.VERSION, "items": list(published_items(db).values())}


def latest_documents(db: Session, codes: list[str] | None = None) -> dict[str, dict]:
    """The newest version of items (drafts included): what staff edit in bulk."""
    query = (select(ServiceItem.basic_code, ServiceItemVersion.content)
             .join(ServiceItemVersion, (ServiceItemVersion.item_id == ServiceItem.id)
                   & (ServiceItemVersion.version == ServiceItem.latest_version)).order_by(ServiceItem.basic_code))
    if codes is not None:
        query = query.where(ServiceItem.basic_code.in_(codes))
    return {code: json.loads(text) for code, text in db.execute(query)}


# ---------------------------------------------------------------- search

def synonyms(db: Session) -> list[SearchSynonym]:
    return list(db.scalars(select(SearchSynonym).order_by(SearchSynonym.phrase)))


def save_synonym(db: Session, phrase: str, expansions: list[str], *, actor) -> SearchSynonym:
    try:  # a phrase of only punctuation or spaces would never match a query
        phrase = normalise_query(phrase)
    except QueryError as error:
        raise Problem("validation-error", f"同义词的说法无效：{error.message}",
                      errors=[{"field": "body.phrase", "code": error.kind, "message": error.message}]) from None
    cleaned = [w.strip() for w in expansions if w and w.strip()]
    if not cleaned:
        raise Problem("validation-error", "请至少填写一个对应的规范说法",
                      errors=[{"field": "body.expansions", "code": "required", "message": "不能为空"}])
    row = db.scalar(select(SearchSynonym).where(SearchSynonym.phrase == phrase))
    if row is None:
        row = SearchSynonym(phrase=phrase, expansions="[]", updated_by=actor.actor_name, updated_at=clock.now())
        db.add(row)
    row.expansions, row.updated_by, row.updated_at = json.dumps(cleaned, ensure_ascii=False), actor.actor_name, clock.now()
    audit.record(db, actor=actor, action="items.synonym", object_type="search_synonym", object_id=phrase,
                 details={"expansions": cleaned})
    db.flush()
    index_cache.recheck_after_commit(db)
    return row


def delete_synonym(db: Session, phrase: str, *, actor) -> None:
    row = db.scalar(select(SearchSynonym).where(SearchSynonym.phrase == phrase))
    if row is None:
        raise Problem("not-found", f"没有同义词「{phrase}」")
    db.delete(row)
    audit.record(db, actor=actor, action="items.synonym_delete", object_type="search_synonym", object_id=phrase)
    db.flush()
    index_cache.recheck_after_commit(db)


def seed_synonyms(db: Session, *, actor) -> int:
    """The shipped synonym dictionary, for a new district; phrases staff already manage are left alone."""
    known = set(db.scalars(select(SearchSynonym.phrase)))
    added = 0
    for synonym in default_synonyms():
        if synonym.phrase not in known:
            db.add(SearchSynonym(phrase=synonym.phrase, expansions=json.dumps(list(synonym.expansions), ensure_ascii=False),
                                 updated_by=actor.actor_name, updated_at=clock.now()))
            known.add(synonym.phrase)
            added += 1
    db.flush()
    return added


class _IndexCache:
    """One search index per database per process, rebuilt when publications or synonyms change.

    Whether anything changed is asked of the database at most once a second, so a search costs
    no more than the index itself; a change made in this process is seen at once.
    """

    RECHECK_SECONDS = 1.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[tuple, float, SearchIndex]] = {}
        self._bundles: tuple[BundleDocument, ...] = ()

    def register_bundles(self, bundles: list[BundleDocument]) -> None:
        """The bundles (一件事) search offers besides items; indexes are rebuilt with them."""
        with self._lock:
            self._bundles = tuple(bundles)
            self._entries.clear()

    @staticmethod
    def _stamp(db: Session) -> tuple:
        items = db.execute(select(func.count(), func.sum(ServiceItem.published_version))
                           .where(ServiceItem.published_version.is_not(None))).one()
        words = db.execute(select(func.count(), func.max(SearchSynonym.updated_at))).one()
        return tuple(items) + (words[0], str(words[1]))

    def _stamp_with_bundles(self, db: Session) -> tuple:
        return self._stamp(db) + (self._bundles,)

    def get(self, db: Session) -> SearchIndex:
        key = str(db.get_bind().engine.url)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and now - entry[1] < self.RECHECK_SECONDS:
            return entry[2]
        stamp = self._stamp_with_bundles(db)
        if entry is not None and entry[0] == stamp:
            self._entries[key] = (stamp, now, entry[2])
            return entry[2]
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != stamp:
                words = [Synonym(row.phrase, tuple(json.loads(row.expansions))) for row in synonyms(db)]
                index = SearchIndex(list(published_items(db).values()), words, department_names(db), self._bundles)
                entry = (stamp, time.monotonic(), index)
                self._entries[key] = entry
            return entry[2]

    def recheck(self) -> None:
        """Ask the database again on the next search (a publication or synonym committed here)."""
        for key, (stamp, _checked, index) in list(self._entries.items()):
            self._entries[key] = (stamp, float("-inf"), index)

    def recheck_after_commit(self, db: Session) -> None:
        event.listen(db, "after_commit", lambda _session: self.recheck(), once=True)


index_cache = _IndexCache()


def register_bundles(bundles: list[BundleDocument]) -> None:
    """Make bundles (一件事, run by another domain) findable: the composer registers them at start."""
    index_cache.register_bundles(bundles)


def warm_search(sessions) -> None:
    """Build the search index of the database behind ``sessions`` now (at start-up), so that the
    first citizen's search does not wait for the tokenizer, the pinyin tables and the index."""
    with sessions() as db:
        index = index_cache.get(db)
        for query in ("营业执照", "孩子出生上户口", "营业执找", "juzhuzheng"):  # words, synonyms, typos, pinyin
            index.search(query, bundles=1)


def check_theme(theme: str | None) -> str | None:
    if theme and theme not in content.THEMES:
        raise Problem("validation-error", f"没有「{theme}」这个主题；可选：" + "、".join(content.THEMES),
                      errors=[{"field": "query.theme", "code": "unknown_theme", "message": "主题不存在"}])
    return theme or None


def search(db: Session, query: str, *, service_object: str | None = None, department: str | None = None,
           theme: str | None = None, limit: int = 10, bundles: int = 0) -> tuple[str, list[SearchHit]]:
    """Published items best first for what someone typed; the normalised query with them. With
    ``bundles``, at most that many bundles (一件事) that fit the query come first (``kind="bundle"``)."""
    try:
        normalised = normalise_query(query)
        return normalised, index_cache.get(db).search(normalised, service_object=service_object,
                                                       department=department, theme=check_theme(theme),
                                                       limit=limit, bundles=bundles)
    except QueryError as error:
        raise Problem(error.kind, error.message, errors=[{"field": "query.q", "code": error.kind,
                                                          "message": error.message}]) from None


def browse(db: Session, *, service_object: str | None = None, department: str | None = None,
           theme: str | None = None) -> list[SearchHit]:
    """Every published item of a department, a theme (主题) and an applicant type, without a query."""
    return index_cache.get(db).browse(service_object=service_object, department=department, theme=check_theme(theme))


def published_page(db: Session, *, service_object: str | None, department: str | None, theme: str | None,
                   cursor: str | None, limit: int) -> tuple[list[dict], int, str | None]:
    """One page of the published catalogue (by basic code) with these filters: the documents, how
    many items match in all, and the cursor of the next page."""
    codes = index_cache.get(db).codes(service_object=service_object, department=department, theme=check_theme(theme))
    if not codes:
        return [], 0, None
    query = select(ServiceItem).where(ServiceItem.published_version.is_not(None))
    if service_object or department or theme:
        query = query.where(ServiceItem.basic_code.in_(codes))
    rows, next_cursor = paginate(db, query, ServiceItem.basic_code, cursor=cursor, limit=limit, descending=False)
    found = published_rows(db, [row.basic_code for row in rows])
    documents = []
    for row in rows:
        text, version = found[row.basic_code]
        documents.append({**content.readable(json.loads(text)), "version": version})
    return documents, len(codes), next_cursor


# ---------------------------------------------------------------- navigation and notices

def shared_data_label(resource: str | None) -> str | None:
    """The base registry a 免提交 material is read from, as the applicant is told."""
    return navigation.SHARED_DATA_LABELS.get(resource or "")


def navigate(db: Session, code: str, answers: dict[str, str]) -> tuple[dict, int, navigation.Navigation]:
    item, version = published_item(db, code)
    return item, version, navigation.navigate(item, answers)


def create_notice(db: Session, code: str, answers: dict[str, str]) -> ItemNotice:
    item, version, state = navigate(db, code, answers)
    notice = navigation.tailored_notice(item, version, state, published_items(db), department_names(db))
    row = ItemNotice(number=numbers.mint(db, ItemNotice.number, "GZ"), item_code=code, item_version=version,
                     answers=json.dumps(state.path), created_at=clock.now(), content="{}")
    notice["number"] = row.number
    notice["issued_at"] = row.created_at.isoformat()
    row.content = json.dumps(notice, ensure_ascii=False)
    db.add(row)
    db.flush()
    return row


def notice_or_404(db: Session, number: str) -> dict[str, Any]:
    row = db.scalar(select(ItemNotice).where(ItemNotice.number == normalise_code(number)))
    if row is None:
        raise Problem("unknown-notice", f"没有编号为「{number}」的告知单，请核对编号")
    return json.loads(row.content)


# ---- the consultation queue (answered in ``consultation``) ----------------------------------------


def consultations_query(principal: Principal, *, status: str | None = ConsultationStatus.OPEN):
    """The handed-over consultations the reader answers: their department's, or every one for
    those who answer for all (the 12345 hotline, the e-government office)."""
    query = select(Consultation)
    if status:
        query = query.where(Consultation.status == status)
    if not principal.can_for_department(Permission.CONSULTATION_ANSWER, None):
        query = query.where(Consultation.department_id == principal.department_id)
    return query


def count_open_consultations(db: Session, principal: Principal) -> int:
    """How many consultations wait for an answer (``/staff/consultations``' rows)."""
    return db.scalar(select(func.count()).select_from(consultations_query(principal).subquery())) or 0
