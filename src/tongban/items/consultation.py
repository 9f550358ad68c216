"""Smart consultation: the item's FAQ answers first; below the confidence threshold a person does.

A question is compared with the FAQ questions by overlapping characters and character pairs
(cosine similarity), which tolerates word order and the particles of spoken questions. A
question the FAQ cannot answer with enough confidence goes to the department's queue with a
deadline in working days; a good answer from a person can be promoted into the FAQ.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tongban.core import audit, clock, numbers
from tongban.core.auth import Principal, ensure_department
from tongban.core.config import Settings
from tongban.core.errors import Problem
from tongban.core.inputs import normalise_code
from tongban.core.permissions import Permission, Role
from tongban.core.workdays import WorkingCalendar
from tongban.items import service
from tongban.items.models import Consultation, ConsultationStatus, FaqOrigin, FaqStatus, ItemFaq
from tongban.notifications.service import notify
from tongban.org import service as org
from tongban.supervision import service as supervision

DEMO_FAQS = Path(__file__).with_name("demo_faqs.json")
MAX_QUESTION = 300
# Characters that carry no meaning in a spoken question; dropping them lets the content words match.
_FILLER = set("的了吗呢吧啊呀么嘛我你他她它们是在有要想请问下个一能可以怎样如何什么哪里去办")


def _features(text: str) -> Counter:
    text = unicodedata.normalize("NFKC", text).lower()
    chars = [c for c in re.sub(r"[\W_]+", "", text) if c not in _FILLER]
    features = Counter(chars)
    features.update(a + b for a, b in zip(chars, chars[1:]))
    for pair in list(features):
        if len(pair) == 2:
            features[pair] *= 2  # a shared pair says more than a shared character
    return features


def similarity(a: str, b: str) -> float:
    fa, fb = _features(a), _features(b)
    dot = sum(count * fb[key] for key, count in fa.items() if key in fb)
    norm = math.sqrt(sum(v * v for v in fa.values())) * math.sqrt(sum(v * v for v in fb.values()))
    return dot / norm if norm else 0.0


@dataclass(frozen=True)
class Suggestion:
    faq_id: int
    item_code: str
    question: str
    answer: str
    confidence: float


def faqs(db: Session, item_code: str | None = None) -> list[ItemFaq]:
    """The FAQ the public reads: published entries only (a promoted answer waits for review)."""
    query = select(ItemFaq).where(ItemFaq.status == FaqStatus.PUBLISHED).order_by(ItemFaq.item_code, ItemFaq.id)
    if item_code is not None:
        query = query.where(ItemFaq.item_code == item_code)
    return list(db.scalars(query))


def best_answers(db: Session, question: str, item_code: str | None, limit: int = 3) -> list[Suggestion]:
    scored = [Suggestion(f.id, f.item_code, f.question, f.answer, round(similarity(question, f.question), 3))
              for f in faqs(db, item_code)]
    scored.sort(key=lambda s: (-s.confidence, s.faq_id))
    return [s for s in scored[:limit] if s.confidence > 0]


def _clean_question(question: str) -> str:
    text = " ".join(unicodedata.normalize("NFKC", question or "").split())
    if not re.sub(r"[\W_]+", "", text):
        raise Problem("validation-error", "请输入要咨询的问题",
                      errors=[{"field": "body.question", "code": "required", "message": "问题不能为空"}])
    if len(text) > MAX_QUESTION:
        raise Problem("validation-error", f"问题过长（最多 {MAX_QUESTION} 个字），请简要描述",
                      errors=[{"field": "body.question", "code": "too_long", "message": f"最多 {MAX_QUESTION} 个字"}])
    return text


def ask(db: Session, settings: Settings, *, question: str, item_code: str | None, contact: str | None,
        asker: Principal | None) -> tuple[Consultation, list[Suggestion]]:
    """Answer from the FAQ, or hand the question over to the department that runs the item."""
    text = _clean_question(question)
    item: dict | None
    if item_code:
        item, _version = service.published_item(db, item_code)
    else:
        _query, hits = service.search(db, text[:100], limit=1)
        item = service.published_item(db, hits[0].code)[0] if hits else None
    suggestions = best_answers(db, text, item["basic_code"] if item else None)
    confidence = suggestions[0].confidence if suggestions else 0.0
    # A question about no item in particular goes to the e-government office, which routes it.
    department = org.get_by_code_or_404(db, item["department"]) if item else org.egov_office(db)
    answered = confidence >= settings.consultation_confidence
    now = clock.now()
    row = Consultation(number=numbers.mint(db, Consultation.number, "ZX"), item_code=item["basic_code"] if item else None,
                       department_id=department.id, question=text, contact=(contact or "").strip()[:100] or None,
                       asked_by=asker.actor_name if asker else None,
                       status=ConsultationStatus.ANSWERED_BY_FAQ if answered else ConsultationStatus.OPEN,
                       confidence=confidence, created_at=now)
    if not answered:
        row.due_on = WorkingCalendar.load(db).add_working_days(clock.today(), settings.consultation_response_days).due
    db.add(row)
    db.flush()
    if not answered:
        supervision.start_clock(db, kind=supervision.ClockKind.CONSULTATION, subject=row.number, title=f"答复咨询 {row.number}：{text[:40]}",
                                 department_id=department.id, limit_days=settings.consultation_response_days,
                                 started_on=clock.today(), link=f"/staff/consultations/{row.number}")
    if not answered:
        notify(db, department_id=department.id, kind="consultation.open", link=f"/staff/consultations/{row.number}",
               title=f"新的咨询 {row.number} 待答复",
               body=f"{text[:60]}（自动答复置信度 {confidence:.2f}，请于 {row.due_on:%Y-%m-%d} 前答复）")
    return row, suggestions


def consultation_or_404(db: Session, number: str) -> Consultation:
    row = db.scalar(select(Consultation).where(Consultation.number == normalise_code(number)))
    if row is None:
        raise Problem("unknown-consultation", f"没有编号为「{number}」的咨询")
    return row


def queue(db: Session, principal: Principal, *, status: str | None = ConsultationStatus.OPEN) -> list[Consultation]:
    query = service.consultations_query(principal, status=status).order_by(Consultation.due_on, Consultation.id)
    return list(db.scalars(query.limit(200)))


def answer(db: Session, row: Consultation, text: str, *, actor: Principal) -> Consultation:
    ensure_department(db, actor, Permission.CONSULTATION_ANSWER, row.department, action="consultation.answer")
    text = " ".join((text or "").split())
    if not text:
        raise Problem("validation-error", "请填写答复内容",
                      errors=[{"field": "body.answer", "code": "required", "message": "答复不能为空"}])
    if row.status == ConsultationStatus.ANSWERED:
        raise Problem("already-decided", f"咨询 {row.number} 已由{row.answered_by}答复")
    row.answer, row.answered_by, row.answered_at = text[:2000], actor.actor_name, clock.now()
    row.status = ConsultationStatus.ANSWERED
    supervision.close_clock(db, supervision.ClockKind.CONSULTATION, row.number, on=clock.today(), outcome="answered")
    audit.record(db, actor=actor, action="consultation.answer", object_type="consultation", object_id=row.number)
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        raise Problem("already-decided", f"咨询 {row.number} 刚被他人答复，请刷新查看") from None
    return row


def promote(db: Session, row: Consultation, *, question: str | None, actor: Principal) -> ItemFaq:
    """A person's good answer becomes a draft FAQ entry of the item; public once a reviewer approves it."""
    ensure_department(db, actor, Permission.CONSULTATION_ANSWER, row.department, action="consultation.promote")
    if row.status != ConsultationStatus.ANSWERED or not row.answer:
        raise Problem("conflict", "只有人工答复过的咨询才能加入常见问题")
    if row.item_code is None:
        raise Problem("conflict", "该咨询未对应具体事项，不能加入事项的常见问题")
    if row.promoted_faq_id is not None:
        raise Problem("conflict", "该答复已加入常见问题")
    faq = ItemFaq(item_code=row.item_code, question=_clean_question(question or row.question), answer=row.answer,
                  origin=FaqOrigin.CONSULTATION, created_by=actor.actor_name, created_at=clock.now(),
                  status=FaqStatus.DRAFT)
    db.add(faq)
    db.flush()
    row.promoted_faq_id = faq.id
    audit.record(db, actor=actor, action="consultation.promote", object_type="consultation", object_id=row.number,
                 details={"faq": faq.id})
    # The e-government office reviews items and so the FAQ that is published with them.
    notify(db, department_id=org.egov_office(db).id, role=Role.EGOV_ADMIN.value, kind="faq.draft",
           link="/staff/faqs",
           title="新的常见问题待审核", body=f"{faq.question[:60]}（来自咨询 {row.number}）")
    db.flush()
    return faq


def faq_drafts(db: Session) -> list[ItemFaq]:
    return list(db.scalars(select(ItemFaq).where(ItemFaq.status == FaqStatus.DRAFT).order_by(ItemFaq.id).limit(200)))


def review_faq(db: Session, faq_id: int, *, approve: bool, actor: Principal) -> ItemFaq:
    """Publish a promoted answer to the item's FAQ, or keep it from the public."""
    faq = db.get(ItemFaq, faq_id)
    if faq is None:
        raise Problem("not-found", f"没有第 {faq_id} 号常见问题")
    if faq.status != FaqStatus.DRAFT:
        raise Problem("already-decided", "这条常见问题已审核过")
    if faq.created_by == actor.actor_name:
        raise Problem("own-draft", "常见问题须由答复人以外的人员审核")
    faq.status, faq.reviewed_by = (FaqStatus.PUBLISHED if approve else FaqStatus.REJECTED), actor.actor_name
    audit.record(db, actor=actor, action="items.faq_publish" if approve else "items.faq_reject", object_type="item_faq",
                 object_id=str(faq.id), details={"item": faq.item_code})
    db.flush()
    return faq


def load_demo_faqs(db: Session) -> int:
    if not DEMO_FAQS.exists() or db.scalar(select(ItemFaq.id).limit(1)) is not None:
        return 0
    document = json.loads(DEMO_FAQS.read_text(encoding="utf-8"))
    for entry in document["faqs"]:
        db.add(ItemFaq(item_code=entry["item"], question=entry["question"], answer=entry["answer"],
                       origin=FaqOrigin.AUTHORED, created_by="演示数据", created_at=clock.now()))
    db.flush()
    return len(document["faqs"])
