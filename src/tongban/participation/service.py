"""政民互动: the rules of surveys, comment solicitations and online interviews.

A department's staff write a topic as a draft, publish it, and the public takes part during its
period: one response per account to a survey, comments on a draft policy, questions in advance to
an interview. After the period the department publishes what came of it: the survey's results
(published at once when it closes, or earlier by staff), the adoption summary (采纳情况) of a
draft, the answers and transcript of an interview. What the public reads never carries a
participant's name or contact, and free text it reads is redacted (``core.redaction``).

Every function works in the caller's transaction and never commits.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tongban.core import audit, clock as wall, throttle
from tongban.core.auth import Principal, ensure_department
from tongban.core.config import Settings
from tongban.core.errors import Problem
from tongban.core.permissions import Permission
from tongban.core.redaction import redact_personal
from tongban.core.uploads import check_size, keep
from tongban.org import service as org
from tongban.participation.models import (
    Adoption, Answer, Comment, Decision, Kind, Option, Question, QuestionKind, Response, Status, Topic,
)
from tongban.participation.schemas import (
    QUESTION_KIND_LABELS, AdoptionIn, CommentIn, OptionResult, QuestionResult, ResponseIn, Results, SummaryIn, TopicIn,
)

# Anonymous comments (name and contact instead of an account): this many an hour from one address.
ANONYMOUS_PER_HOUR = 20
_CONTACT = re.compile(r"^(?:\+?86[\s-]?)?1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$|^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


# ---- reading ---------------------------------------------------------------------------------------


def _pairs(db: Session, query: Select) -> dict:
    """A two-column query as a mapping of its first column to its second."""
    return {key: value for key, value in db.execute(query)}


def closes_at(topic: Topic) -> datetime:
    """When taking part ends: the period's end, or the moment staff closed it early."""
    return min(topic.closes_at, topic.closed_early_at) if topic.closed_early_at else topic.closes_at


def phase(topic: Topic, now: datetime | None = None) -> str:
    """draft | upcoming | open | closed | results — where the topic stands now."""
    now = now or wall.now()
    if topic.status == Status.DRAFT:
        return "draft"
    if topic.results_published_at is not None:
        return "results"
    if now < topic.opens_at:
        return "upcoming"
    if now < closes_at(topic):
        return "open"
    return "closed"


def results_public(topic: Topic, now: datetime | None = None) -> bool:
    """Whether the portal shows what came of it: a survey's results once it has closed (or staff
    published them); a draft's adoption summary and an interview's answers once published."""
    found = phase(topic, now)
    return found == "results" or (topic.kind == Kind.SURVEY and found == "closed")


def get(db: Session, topic_id: int) -> Topic:
    found = db.get(Topic, topic_id)
    if found is None:
        raise Problem("not-found", "没有该政民互动事项")
    return found


def public_topic(db: Session, principal: Principal | None, topic_id: int) -> Topic:
    """A topic as the portal shows it: published ones to everyone, drafts to their department's staff only."""
    found = get(db, topic_id)
    if found.status == Status.DRAFT and not (principal and principal.can_for_department(Permission.PARTICIPATION_MANAGE,
                                                                                         found.department_id)):
        raise Problem("not-found", "没有该政民互动事项")
    return found


def managed_topic(db: Session, principal: Principal, topic_id: int, *, action: str) -> Topic:
    """A topic its department's staff manage; another department's staff are refused (and it is audited)."""
    found = get(db, topic_id)
    department = org.get(db, found.department_id)
    ensure_department(db, principal, Permission.PARTICIPATION_MANAGE, department, action=action)
    return found


def published(kind: str | None = None) -> Select:
    query = select(Topic).where(Topic.status == Status.PUBLISHED)
    if kind:
        query = query.where(Topic.kind == kind)
    return query.order_by(Topic.opens_at.desc(), Topic.id.desc())


def managed(principal: Principal, kind: str | None = None) -> Select:
    """The topics the person manages: their department's (all of them for a platform-wide grant)."""
    query = select(Topic)
    if not principal.can_for_department(Permission.PARTICIPATION_MANAGE, None):
        query = query.where(Topic.department_id == principal.department_id)
    if kind:
        query = query.where(Topic.kind == kind)
    return query.order_by(Topic.id.desc())


def questions(db: Session, topic: Topic) -> list[tuple[Question, list[Option]]]:
    found = list(db.scalars(select(Question).where(Question.topic_id == topic.id).order_by(Question.position)))
    options: dict[int, list[Option]] = {q.id: [] for q in found}
    if found:
        for option in db.scalars(select(Option).where(Option.question_id.in_(options)).order_by(Option.position)):
            options[option.question_id].append(option)
    return [(q, options[q.id]) for q in found]


def has_responded(db: Session, principal: Principal | None, topic: Topic) -> bool:
    if principal is None or topic.kind != Kind.SURVEY:
        return False
    return db.scalar(select(Response.id).where(Response.topic_id == topic.id, Response.account == principal.actor_id)) is not None


def results(db: Session, topic: Topic, *, with_texts: bool) -> Results:
    """Counts and percentages per option (of the people who answered the question); the free-text
    answers for staff only (``with_texts``)."""
    responses = db.scalar(select(func.count()).select_from(Response).where(Response.topic_id == topic.id)) or 0
    counts = _pairs(db, (select(Answer.option_id, func.count()).join(Response, Response.id == Answer.response_id)
                             .where(Response.topic_id == topic.id, Answer.option_id.is_not(None))
                             .group_by(Answer.option_id)))
    answered = _pairs(db, (select(Answer.question_id, func.count(func.distinct(Answer.response_id)))
                               .join(Response, Response.id == Answer.response_id).where(Response.topic_id == topic.id)
                               .group_by(Answer.question_id)))
    texts: dict[int, list[str]] = {}
    if with_texts:
        for question_id, text in db.execute(select(Answer.question_id, Answer.text).join(Response, Response.id == Answer.response_id)
                                            .where(Response.topic_id == topic.id, Answer.text.is_not(None))
                                            .order_by(Answer.id)):
            texts.setdefault(question_id, []).append(text or "")
    found = []
    for question, options in questions(db, topic):
        people = answered.get(question.id, 0)
        found.append(QuestionResult(
            id=question.id, kind=question.kind, kind_label=QUESTION_KIND_LABELS[QuestionKind(question.kind)], text=question.text,
            answered=people,
            options=[OptionResult(id=o.id, label=o.label, count=counts.get(o.id, 0),
                                  percent=round(100 * counts.get(o.id, 0) / people, 1) if people else 0.0) for o in options],
            texts=texts.get(question.id, []) if with_texts and question.kind == QuestionKind.TEXT else None))
    return Results(responses=responses, questions=found)


def comments(db: Session, topic: Topic) -> list[Comment]:
    return list(db.scalars(select(Comment).where(Comment.topic_id == topic.id).order_by(Comment.id)))


def count_comments(db: Session, topic: Topic) -> int:
    return db.scalar(select(func.count()).select_from(Comment).where(Comment.topic_id == topic.id)) or 0


def adoptions(db: Session, topic: Topic) -> list[tuple[Adoption, int]]:
    """The adoption groups with how many comments each holds."""
    found = list(db.scalars(select(Adoption).where(Adoption.topic_id == topic.id).order_by(Adoption.position)))
    counts = _pairs(db, (select(Comment.group_id, func.count()).where(Comment.topic_id == topic.id, Comment.group_id.is_not(None))
                             .group_by(Comment.group_id)))
    return [(a, counts.get(a.id, 0)) for a in found]


@dataclass(frozen=True)
class PublicAnswer:
    question: str  # redacted
    answer: str
    answered_at: datetime | None


def public_answers(db: Session, topic: Topic) -> list[PublicAnswer]:
    """An interview's answered questions, as the public reads them: no asker, personal data masked."""
    rows = db.scalars(select(Comment).where(Comment.topic_id == topic.id, Comment.answer.is_not(None)).order_by(Comment.answered_at, Comment.id))
    return [PublicAnswer(redact_personal(c.body) or "", redact_personal(c.answer) or "", c.answered_at) for c in rows]


# ---- writing: staff --------------------------------------------------------------------------------


def _check_content(data: TopicIn) -> None:
    errors = []
    kind = Kind(data.kind)
    if data.closes_at <= data.opens_at:
        errors.append({"field": "body.closes_at", "message": "截止时间须晚于开始时间"})
    if kind == Kind.SURVEY:
        if not data.questions:
            errors.append({"field": "body.questions", "message": "网上调查至少要有 1 个问题"})
        for index, question in enumerate(data.questions):
            labels = [o.strip() for o in question.options]
            choice = QuestionKind(question.kind) != QuestionKind.TEXT
            if not choice and labels:
                errors.append({"field": f"body.questions.{index}.options", "message": "填空题不设选项"})
            if choice:
                if len([o for o in labels if o]) < 2:
                    errors.append({"field": f"body.questions.{index}.options", "message": "选择题至少要有 2 个选项"})
                elif len(set(labels)) != len(labels) or any(not o or len(o) > 200 for o in labels):
                    errors.append({"field": f"body.questions.{index}.options", "message": "选项不能为空、重复或超过 200 字"})
    elif data.questions:
        errors.append({"field": "body.questions", "message": "只有网上调查设置问题"})
    if kind == Kind.INTERVIEW:
        if data.event_at is None:
            errors.append({"field": "body.event_at", "message": "请填写访谈时间"})
        elif data.event_at < data.closes_at:
            errors.append({"field": "body.event_at", "message": "访谈时间不能早于征集问题的截止时间"})
        if not (data.guests or "").strip():
            errors.append({"field": "body.guests", "message": "请填写访谈嘉宾"})
    if errors:
        raise Problem("validation-error", "；".join(e["message"] for e in errors), errors=errors)


def _write_content(db: Session, topic: Topic, data: TopicIn) -> None:
    topic.title, topic.body = data.title.strip(), data.body
    topic.opens_at, topic.closes_at = data.opens_at, data.closes_at
    interview = Kind(data.kind) == Kind.INTERVIEW
    topic.event_at = data.event_at if interview else None
    topic.guests = ((data.guests or "").strip() or None) if interview else None
    for old in db.scalars(select(Question).where(Question.topic_id == topic.id)):
        db.delete(old)
    db.flush()
    for position, question_in in enumerate(data.questions, 1):
        question = Question(topic_id=topic.id, position=position, kind=question_in.kind, text=question_in.text.strip(),
                            required=question_in.required)
        db.add(question)
        db.flush()
        for number, label in enumerate(question_in.options, 1):
            db.add(Option(question_id=question.id, position=number, label=label.strip()))
    db.flush()


def create(db: Session, principal: Principal, data: TopicIn) -> Topic:
    """A new draft of the person's department."""
    if principal.department_id is None:
        raise Problem("permission-denied", "只有部门工作人员可以发起政民互动事项")
    _check_content(data)
    now = wall.now()
    topic = Topic(kind=data.kind, department_id=principal.department_id, title=data.title, body=data.body,
                  opens_at=data.opens_at, closes_at=data.closes_at, status=Status.DRAFT, created_by=principal.actor_id,
                  created_at=now, updated_at=now)
    db.add(topic)
    db.flush()
    _write_content(db, topic, data)
    audit.record(db, actor=principal, action="participation.topic.create", object_type="participation_topic",
                 object_id=str(topic.id), details={"kind": data.kind})
    return topic


def update(db: Session, principal: Principal, topic: Topic, data: TopicIn) -> Topic:
    """A draft's new content (the whole of it); a published topic is not rewritten."""
    if topic.status != Status.DRAFT:
        raise Problem("participation-state", "已发布的事项不能修改")
    if data.kind != topic.kind:
        raise Problem("validation-error", "不能改变事项类型", errors=[{"field": "body.kind", "message": "不能改变事项类型"}])
    _check_content(data)
    _write_content(db, topic, data)
    topic.updated_at = wall.now()
    audit.record(db, actor=principal, action="participation.topic.update", object_type="participation_topic",
                 object_id=str(topic.id))
    return topic


def publish(db: Session, principal: Principal, topic: Topic) -> Topic:
    if topic.status != Status.DRAFT:
        raise Problem("participation-state", "该事项已经发布")
    now = wall.now()
    if topic.closes_at <= now:
        raise Problem("participation-state", "截止时间已过，请先修改期间再发布")
    topic.status, topic.published_at, topic.updated_at = Status.PUBLISHED, now, now
    audit.record(db, actor=principal, action="participation.topic.publish", object_type="participation_topic",
                 object_id=str(topic.id))
    return topic


def close(db: Session, principal: Principal, topic: Topic) -> Topic:
    """End the period now (提前结束): a survey's results are then public."""
    if phase(topic) not in ("open", "upcoming"):
        raise Problem("participation-state", "只有已发布且尚未结束的事项可以结束")
    now = wall.now()
    topic.closed_early_at, topic.updated_at = now, now
    audit.record(db, actor=principal, action="participation.topic.close", object_type="participation_topic",
                 object_id=str(topic.id))
    return topic


def publish_results(db: Session, principal: Principal, topic: Topic) -> Topic:
    """A survey's results on the portal now, before its period ends (taking part goes on)."""
    if topic.kind != Kind.SURVEY:
        raise Problem("participation-state", "征求意见和在线访谈请发布采纳情况或访谈实录")
    if topic.status != Status.PUBLISHED or topic.results_published_at is not None:
        raise Problem("participation-state", "调查未发布，或结果已经公布")
    topic.results_published_at = topic.updated_at = wall.now()
    audit.record(db, actor=principal, action="participation.results.publish", object_type="participation_topic",
                 object_id=str(topic.id))
    return topic


def publish_summary(db: Session, principal: Principal, topic: Topic, data: SummaryIn) -> Topic:
    """After the period (a draft) or the event (an interview): the adoption summary with its groups
    of comments, or the transcript, published with the topic. Once."""
    if topic.kind == Kind.SURVEY:
        raise Problem("participation-state", "网上调查请公布调查结果")
    if phase(topic) != "closed":
        raise Problem("participation-state", "征求意见期或问题征集期结束后才能公布" if phase(topic) != "results" else "已经公布过")
    now = wall.now()
    if topic.kind == Kind.INTERVIEW:
        if data.adoptions:
            raise Problem("validation-error", "在线访谈不设采纳情况", errors=[{"field": "body.adoptions", "message": "在线访谈不设采纳情况"}])
        if topic.event_at and now < topic.event_at:
            raise Problem("participation-state", "访谈结束后才能公布访谈实录")
    else:
        if not data.adoptions:
            raise Problem("validation-error", "请至少填写一组意见的采纳情况", errors=[{"field": "body.adoptions", "message": "至少一组"}])
        _write_adoptions(db, topic, data.adoptions)
    topic.summary, topic.results_published_at, topic.updated_at = data.summary, now, now
    audit.record(db, actor=principal, action="participation.summary.publish", object_type="participation_topic",
                 object_id=str(topic.id), details={"groups": len(data.adoptions)})
    return topic


def _write_adoptions(db: Session, topic: Topic, groups: list[AdoptionIn]) -> None:
    known = {c.id: c for c in comments(db, topic)}
    used: set[int] = set()
    for position, group in enumerate(groups, 1):
        unknown = [i for i in group.comment_ids if i not in known]
        if unknown:
            raise Problem("validation-error", f"意见 {unknown[0]} 不是本事项收到的意见",
                          errors=[{"field": f"body.adoptions.{position - 1}.comment_ids", "message": "不是本事项的意见"}])
        twice = used & set(group.comment_ids)
        if twice:
            raise Problem("validation-error", f"意见 {min(twice)} 归入了多个组",
                          errors=[{"field": f"body.adoptions.{position - 1}.comment_ids", "message": "一条意见只能归入一组"}])
        used |= set(group.comment_ids)
        adoption = Adoption(topic_id=topic.id, position=position, subject=group.subject.strip(), decision=Decision(group.decision),
                            reason=group.reason.strip())
        db.add(adoption)
        db.flush()
        for comment_id in group.comment_ids:
            known[comment_id].group_id = adoption.id
    db.flush()


def answer_question(db: Session, principal: Principal, topic: Topic, comment_id: int, answer: str) -> Comment:
    """The guests' answer to a question put in advance (selecting it); published with the transcript."""
    if topic.kind != Kind.INTERVIEW or topic.status != Status.PUBLISHED:
        raise Problem("participation-state", "只能答复已发布的在线访谈的问题")
    if topic.results_published_at is not None:
        raise Problem("participation-state", "访谈实录已公布，不能再修改答复")
    found = db.get(Comment, comment_id)
    if found is None or found.topic_id != topic.id:
        raise Problem("not-found", "本访谈没有该问题")
    now = wall.now()
    found.selected, found.answer, found.answered_by, found.answered_at = True, answer.strip(), principal.actor_id, now
    audit.record(db, actor=principal, action="participation.question.answer", object_type="participation_topic",
                 object_id=str(topic.id), details={"question": comment_id})
    return found


def is_pdf(data: bytes) -> bool:
    """A real PDF: the header, and pypdf reads at least one page of it."""
    if not data.startswith(b"%PDF-"):
        return False
    from pypdf import PdfReader

    try:
        return len(PdfReader(io.BytesIO(data)).pages) > 0
    except Exception:  # pypdf raises many kinds of errors on a damaged file
        return False


def attach(db: Session, principal: Principal, topic: Topic, settings: Settings, filename: str, data: bytes) -> Topic:
    """The draft policy's PDF (征求意见稿), checked as a PDF by its own bytes; replaces an earlier one."""
    if topic.kind != Kind.SOLICITATION:
        raise Problem("participation-state", "只有网上征求意见可以上传征求意见稿")
    if topic.status != Status.DRAFT:
        raise Problem("participation-state", "已发布的事项不能更换附件")
    if Path(filename or "").suffix.lower() != ".pdf":
        raise Problem("attachment-refused", "征求意见稿附件只接受 PDF 文件")
    check_size(settings, data)
    if not is_pdf(data):
        raise Problem("attachment-refused", "文件不是有效的 PDF")
    path = keep(settings, settings.data_dir / "participation", "pdf", data)
    old = topic.attachment_path
    topic.attachment_name, topic.attachment_path, topic.attachment_size = Path(filename).name[:200], str(path.relative_to(settings.data_dir)), len(data)
    topic.updated_at = wall.now()
    if old:
        (settings.data_dir / old).unlink(missing_ok=True)
    audit.record(db, actor=principal, action="participation.attachment.upload", object_type="participation_topic",
                 object_id=str(topic.id), details={"bytes": len(data)})
    return topic


def attachment_path(settings: Settings, topic: Topic) -> Path:
    if not topic.attachment_path:
        raise Problem("not-found", "该事项没有附件")
    return settings.data_dir / topic.attachment_path


# ---- writing: the public ---------------------------------------------------------------------------


def _must_be_open(topic: Topic, what: str) -> None:
    found = phase(topic)
    if found == "open":
        return
    detail = {"draft": f"该事项尚未发布，不能{what}", "upcoming": f"尚未开始，{wall.beijing_text(topic.opens_at)} 起可以{what}"}
    raise Problem("participation-closed", detail.get(found, f"已于 {wall.beijing_text(closes_at(topic))} 截止，不能再{what}"))


def respond(db: Session, principal: Principal, topic: Topic, data: ResponseIn) -> Response:
    """One account's answers to an open survey, checked whole: every required question answered,
    one option of a single choice, options of the question's own; nothing written otherwise."""
    if topic.kind != Kind.SURVEY:
        raise Problem("not-found", "该事项不是网上调查")
    _must_be_open(topic, "作答")
    if has_responded(db, principal, topic):
        raise Problem("participation-duplicate", "您已参加过本次调查，每个账户只能作答一次")
    asked = {q.id: (q, {o.id for o in options}) for q, options in questions(db, topic)}
    given: dict[int, tuple[list[int], str]] = {}
    errors = []
    for index, answer in enumerate(data.answers):
        if answer.question_id not in asked or answer.question_id in given:
            errors.append({"field": f"body.answers.{index}.question_id", "message": "不是本调查的问题，或重复作答"})
            continue
        question, option_ids = asked[answer.question_id]
        text = (answer.text or "").strip()
        chosen = list(dict.fromkeys(answer.option_ids))
        if question.kind == QuestionKind.TEXT:
            if chosen:
                errors.append({"field": f"body.answers.{index}.option_ids", "message": "填空题不选选项"})
        elif text or not set(chosen) <= option_ids:
            errors.append({"field": f"body.answers.{index}", "message": f"「{question.text}」的选项无效"})
        elif question.kind == QuestionKind.SINGLE and len(chosen) > 1:
            errors.append({"field": f"body.answers.{index}.option_ids", "message": f"「{question.text}」只能选一项"})
        if chosen or text:
            given[answer.question_id] = (chosen, text)
    missing = [q.text for q, _ in asked.values() if q.required and q.id not in given]
    if errors:
        raise Problem("validation-error", errors[0]["message"], errors=errors)
    if missing:
        raise Problem("participation-incomplete", f"还有必答题未回答：{'、'.join(missing)}",
                      errors=[{"field": "body.answers", "message": f"未回答：{m}"} for m in missing])
    response = Response(topic_id=topic.id, account=principal.actor_id, created_at=wall.now())
    try:
        with db.begin_nested():
            db.add(response)
            db.flush()
    except IntegrityError:  # the same account answering twice at once
        raise Problem("participation-duplicate", "您已参加过本次调查，每个账户只能作答一次") from None
    for question_id, (chosen, text) in given.items():
        if chosen:
            db.add_all(Answer(response_id=response.id, question_id=question_id, option_id=o) for o in chosen)
        else:
            db.add(Answer(response_id=response.id, question_id=question_id, text=text))
    db.flush()
    audit.record(db, actor=principal, action="participation.survey.respond", object_type="participation_topic",
                 object_id=str(topic.id))
    return response


def comment(db: Session, principal: Principal | None, topic: Topic, data: CommentIn, *, address: str) -> Comment:
    """A comment on a draft, or a question to an interview, while the period is open: signed in,
    or with a name and a contact (and then no more than ANONYMOUS_PER_HOUR an hour from one
    address). The same text twice from the same person is refused."""
    if topic.kind == Kind.SURVEY:
        raise Problem("not-found", "网上调查请直接作答")
    what = "提问" if topic.kind == Kind.INTERVIEW else "提出意见"
    _must_be_open(topic, what)
    body = data.body.strip()
    if len(body) < 2:
        raise Problem("validation-error", f"请填写{'问题' if topic.kind == Kind.INTERVIEW else '意见'}内容",
                      errors=[{"field": "body.body", "message": "内容不能为空"}])
    name, contact = (data.name or "").strip(), (data.contact or "").strip()
    key = f"participation@{throttle.counted(address)}"
    if principal is None:
        errors = []
        if not name:
            errors.append({"field": "body.name", "message": "未登录时请填写姓名"})
        if not _CONTACT.match(contact):
            errors.append({"field": "body.contact", "message": "未登录时请填写有效的手机号码、固定电话或电子邮箱"})
        if errors:
            raise Problem("validation-error", "；".join(e["message"] for e in errors), errors=errors)
        throttle.check(db, [key], detail="提交过于频繁，请 {minutes} 分钟后再试")
    else:
        name = principal.actor_name
    same = select(Comment.id).where(Comment.topic_id == topic.id, Comment.body == body)
    same = same.where(Comment.account == principal.actor_id) if principal else same.where(Comment.contact == contact)
    if db.scalar(same.limit(1)) is not None:
        raise Problem("participation-duplicate", f"您已提交过相同的{'问题' if topic.kind == Kind.INTERVIEW else '意见'}")
    found = Comment(topic_id=topic.id, account=principal.actor_id if principal else None, name=name[:64],
                    contact=contact or None, body=body, created_at=wall.now())
    db.add(found)
    db.flush()
    if principal is None:
        throttle.fail(db, key, limit=ANONYMOUS_PER_HOUR, window_minutes=60, lock_minutes=60)
    audit.record(db, actor=principal or audit.ANONYMOUS, action="participation.comment.create", object_type="participation_topic",
                 object_id=str(topic.id), details={"comment": found.id})
    return found
