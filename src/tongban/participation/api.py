"""/api/v1/participation: 政民互动 — surveys, comment solicitations on draft policies, online interviews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from tongban.core import audit, clock as wall, throttle
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.limits import uploads
from tongban.core.permissions import Permission
from tongban.org import service as org
from tongban.participation import service
from tongban.participation.models import Comment, Kind, QuestionKind, Topic
from tongban.participation.schemas import (
    DECISION_LABELS, KIND_LABELS, PHASE_LABELS, QUESTION_KIND_LABELS, AdoptionRead, AnswerQuestionIn, CommentIn, CommentRead,
    InterviewAnswerRead, KindName, OptionRead, QuestionRead, ResponseIn, ResponseRead, SummaryIn, TopicDetail, TopicIn, TopicRead,
)

router = APIRouter(prefix="/api/v1/participation", tags=["政民互动 participation"])
Manager = Annotated[Principal, require(Permission.PARTICIPATION_MANAGE)]
Anyone = Annotated[Principal | None, require(Permission.PUBLIC)]
MAX_ROWS = 200


def period_text(topic: Topic) -> str:
    return f"{wall.beijing_text(topic.opens_at)} 至 {wall.beijing_text(service.closes_at(topic))}"


def topic_read(topic: Topic, names: dict) -> TopicRead:
    department = names.get(topic.department_id, ("", ""))
    found = service.phase(topic)
    return TopicRead(id=topic.id, kind=topic.kind, kind_label=KIND_LABELS[Kind(topic.kind)], department=department[0],
                     department_name=department[1], title=topic.title, phase=found, phase_label=PHASE_LABELS[found],
                     opens_at=topic.opens_at, closes_at=service.closes_at(topic), period_text=period_text(topic),
                     event_at=topic.event_at, event_text=wall.beijing_text(topic.event_at), guests=topic.guests,
                     results_published=service.results_public(topic))


def topic_reads(db: Session, topics: list[Topic]) -> list[TopicRead]:
    names = dict(org.names_by_ids(db, {t.department_id for t in topics}))
    return [topic_read(t, names) for t in topics]


def topic_detail(db: Session, principal: Principal | None, topic: Topic) -> TopicDetail:
    """A topic with what the person may read of it: the outcome once public; staff of its
    department also the survey's running results with the free-text answers."""
    staff = bool(principal and principal.can_for_department(Permission.PARTICIPATION_MANAGE, topic.department_id))
    public = service.results_public(topic)
    base = topic_reads(db, [topic])[0]
    return TopicDetail(
        **base.model_dump(), body=topic.body,
        questions=[QuestionRead(id=q.id, kind=q.kind, kind_label=QUESTION_KIND_LABELS[QuestionKind(q.kind)], text=q.text,
                                required=q.required, options=[OptionRead(id=o.id, label=o.label) for o in options])
                   for q, options in service.questions(db, topic)],
        attachment_url=f"/api/v1/participation/topics/{topic.id}/attachment" if topic.attachment_path else None,
        attachment_name=topic.attachment_name,
        summary=topic.summary if (public or staff) else None,
        adoptions=[AdoptionRead(id=a.id, subject=a.subject, decision=a.decision, decision_label=DECISION_LABELS[a.decision],  # type: ignore[index]
                                reason=a.reason, comments=n) for a, n in service.adoptions(db, topic)] if (public or staff) else [],
        answers=[InterviewAnswerRead(question=a.question, answer=a.answer, answered_text=wall.beijing_text(a.answered_at))
                 for a in service.public_answers(db, topic)] if (public or staff) and topic.kind == Kind.INTERVIEW else [],
        results=service.results(db, topic, with_texts=staff) if topic.kind == Kind.SURVEY and (public or staff) else None,
        comments=service.count_comments(db, topic), my_response=service.has_responded(db, principal, topic))


def comment_read(comment: Comment) -> CommentRead:
    return CommentRead(id=comment.id, topic_id=comment.topic_id, name=comment.name, contact=comment.contact, body=comment.body,
                       created_text=wall.beijing_text(comment.created_at), group_id=comment.group_id, selected=comment.selected,
                       answer=comment.answer, answered_text=wall.beijing_text(comment.answered_at))


# ---- the public ------------------------------------------------------------------------------------


@router.get("/topics", response_model=list[TopicRead], summary="政民互动：已发布的网上调查、征求意见和在线访谈")
def list_topics(db: DbSession, principal: Anyone, kind: Annotated[KindName | None, Query()] = None):
    return topic_reads(db, list(db.scalars(service.published(kind).limit(MAX_ROWS))))


@router.get("/topics/{topic_id}", response_model=TopicDetail, summary="一个政民互动事项（结果、采纳情况、访谈实录公布后可见）")
def read_topic(topic_id: Id, db: DbSession, principal: Anyone):
    return topic_detail(db, principal, service.public_topic(db, principal, topic_id))


@router.get("/topics/{topic_id}/attachment", summary="征求意见稿（PDF）", response_class=FileResponse,
            responses={200: {"content": {"application/pdf": {}}}})
def attachment(request: Request, topic_id: Id, db: DbSession, principal: Anyone):
    topic = service.public_topic(db, principal, topic_id)
    path = service.attachment_path(request.app.state.settings, topic)
    if not path.is_file():
        raise Problem("not-found", "附件文件不存在")
    return FileResponse(path, media_type="application/pdf", filename=topic.attachment_name or "draft.pdf")


@router.post("/topics/{topic_id}/responses", response_model=ResponseRead, status_code=201,
             summary="参加网上调查（登录后，每个账户一次）")
def respond(topic_id: Id, body: ResponseIn, db: DbSession, principal: Annotated[Principal, require(Permission.PARTICIPATION_TAKE)]):
    topic = service.public_topic(db, principal, topic_id)
    response = service.respond(db, principal, topic, body)
    db.commit()
    return ResponseRead(topic_id=topic.id, created_at=response.created_at, created_text=wall.beijing_text(response.created_at))


@router.post("/topics/{topic_id}/comments", status_code=201, response_model=CommentRead,
             summary="对征求意见稿提出意见，或向在线访谈提问（登录，或留下姓名和联系方式）")
def comment(request: Request, topic_id: Id, body: CommentIn, db: DbSession, principal: Anyone):
    topic = service.public_topic(db, principal, topic_id)
    found = service.comment(db, principal, topic, body, address=throttle.client_address(request))
    db.commit()
    read = comment_read(found)
    return read.model_copy(update={"contact": None})


# ---- the department --------------------------------------------------------------------------------


@router.get("/manage/topics", response_model=list[TopicRead], summary="本部门的政民互动事项（含草稿）")
def managed_topics(db: DbSession, principal: Manager, kind: Annotated[KindName | None, Query()] = None):
    return topic_reads(db, list(db.scalars(service.managed(principal, kind).limit(MAX_ROWS))))


@router.post("/manage/topics", response_model=TopicDetail, status_code=201, summary="新建政民互动事项（草稿）")
def create_topic(body: TopicIn, db: DbSession, principal: Manager):
    topic = service.create(db, principal, body)
    db.commit()
    return topic_detail(db, principal, topic)


@router.put("/manage/topics/{topic_id}", response_model=TopicDetail, summary="修改草稿（整体替换）")
def update_topic(topic_id: Id, body: TopicIn, db: DbSession, principal: Manager):
    topic = service.managed_topic(db, principal, topic_id, action="participation.topic.update")
    service.update(db, principal, topic, body)
    db.commit()
    return topic_detail(db, principal, topic)


@router.post("/manage/topics/{topic_id}/attachment", response_model=TopicDetail,
             summary="上传征求意见稿 PDF（按文件内容核对）", openapi_extra=uploads("attachment_max_mb"))
def upload_attachment(request: Request, topic_id: Id, db: DbSession, principal: Manager,
                      file: Annotated[UploadFile, File(description="PDF 文件")]):
    topic = service.managed_topic(db, principal, topic_id, action="participation.attachment.upload")
    settings = request.app.state.settings
    data = file.file.read(settings.attachment_max_mb * 1024 * 1024 + 1)
    service.attach(db, principal, topic, settings, file.filename or "", data)
    db.commit()
    return topic_detail(db, principal, topic)


def _step(db: Session, principal: Principal, topic_id: int, action: str, step) -> TopicDetail:
    topic = service.managed_topic(db, principal, topic_id, action=action)
    step(db, principal, topic)
    db.commit()
    return topic_detail(db, principal, topic)


@router.post("/manage/topics/{topic_id}/publish", response_model=TopicDetail, summary="发布（公众在期间内可以参与）")
def publish(topic_id: Id, db: DbSession, principal: Manager):
    return _step(db, principal, topic_id, "participation.topic.publish", service.publish)


@router.post("/manage/topics/{topic_id}/close", response_model=TopicDetail, summary="提前结束（调查结果随即公布）")
def close(topic_id: Id, db: DbSession, principal: Manager):
    return _step(db, principal, topic_id, "participation.topic.close", service.close)


@router.post("/manage/topics/{topic_id}/results", response_model=TopicDetail, summary="公布调查结果（调查期间即可公布）")
def publish_results(topic_id: Id, db: DbSession, principal: Manager):
    return _step(db, principal, topic_id, "participation.results.publish", service.publish_results)


@router.post("/manage/topics/{topic_id}/summary", response_model=TopicDetail,
             summary="公布意见采纳情况（征求意见期结束后）或访谈实录（访谈结束后）")
def publish_summary(topic_id: Id, body: SummaryIn, db: DbSession, principal: Manager):
    return _step(db, principal, topic_id, "participation.summary.publish",
                 lambda db, principal, topic: service.publish_summary(db, principal, topic, body))


@router.get("/manage/topics/{topic_id}/comments", response_model=list[CommentRead], summary="收到的意见或访谈问题（含联系方式）")
def list_comments(topic_id: Id, db: DbSession, principal: Manager):
    topic = service.managed_topic(db, principal, topic_id, action="participation.comment.read")
    found = [comment_read(c) for c in service.comments(db, topic)]
    audit.record(db, actor=principal, action="participation.comment.read", object_type="participation_topic",
                 object_id=str(topic.id), details={"comments": len(found)})  # names and contacts read
    db.commit()
    return found


@router.post("/manage/topics/{topic_id}/comments/{comment_id}/answer", response_model=CommentRead,
             summary="选择并答复访谈问题（随访谈实录公布）")
def answer(topic_id: Id, comment_id: Id, body: AnswerQuestionIn, db: DbSession, principal: Manager):
    topic = service.managed_topic(db, principal, topic_id, action="participation.question.answer")
    found = service.answer_question(db, principal, topic, comment_id, body.answer)
    db.commit()
    return comment_read(found)
