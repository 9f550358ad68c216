"""The pages of 政民互动: on the portal the list of the three kinds, a topic with its form (answer the
survey, comment on the draft, ask the interview's guests) and its published outcome; for a
department's staff their topics, the drafting form, and a topic's page with its steps (publish,
close, publish results or the adoption summary, answer questions, upload the draft's PDF).

The routes are thin: each step is ``participation.service``'s, each reading the API's
(``participation.api.topic_detail``); a refused step shows its reason on the page it came from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tongban.core import clock as wall, throttle
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem, validation_errors
from tongban.core.inputs import Id
from tongban.core.limits import uploads
from tongban.core.permissions import Permission
from tongban.core.security import Csrf, check_csrf
from tongban.core.templating import flash, render
from tongban.participation import api, service
from tongban.participation.models import Kind, Topic
from tongban.participation.schemas import (
    DECISION_LABELS, KIND_LABELS, MAX_OPTIONS, QUESTION_KIND_LABELS, RESULT_WORDS, AnswerIn, CommentIn, ResponseIn, SummaryIn, TopicIn,
)

router = APIRouter(include_in_schema=False)
Manager = Annotated[Principal, require(Permission.PARTICIPATION_MANAGE)]
Anyone = Annotated[Principal | None, require(Permission.PUBLIC)]
QUESTION_SLOTS, GROUP_SLOTS = 6, 5  # blank question and adoption-group slots on the forms (no script needed)
MAX_FIELDS = 200


async def form_data(request: Request) -> FormData:
    """A form whose field names are the survey's (``q<question id>``): read whole, a bounded number of fields."""
    return await request.form(max_fields=MAX_FIELDS, max_files=0)


Fields = Annotated[FormData, Depends(form_data)]


def _text(form: FormData, name: str, limit: int) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


FIELD_LABELS = {"title": "标题", "body": "内容", "opens_at": "开始时间", "closes_at": "截止时间", "event_at": "访谈时间",
                "guests": "访谈嘉宾", "questions": "调查问题", "text": "问题", "options": "选项", "name": "姓名",
                "contact": "联系方式", "summary": "说明", "adoptions": "采纳情况", "subject": "意见概要", "reason": "理由",
                "decision": "采纳结论", "answers": "答案"}


def _refused(error: ValidationError) -> Problem:
    """A form's mistakes as the API names them, each by its field's Chinese label."""
    _, errors = validation_errors(RequestValidationError(error.errors()))

    def label(field: str) -> str:
        parts = field.split(".")
        words = [FIELD_LABELS.get(p, f"第 {int(p) + 1} 项" if p.isdigit() else "") for p in parts]
        return "".join(w for w in words if w) or "表单"
    return Problem("validation-error", "请检查：" + "；".join(f"{label(e['field'])}{e['message']}" for e in errors[:5]), errors=errors)


def _beijing(raw: str, label: str) -> datetime | None:
    """A datetime-local field (YYYY-MM-DDTHH:MM) read as Beijing time."""
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=wall.BEIJING)
    except ValueError:
        raise Problem("validation-error", f"{label}格式不正确") from None


def _local(moment: datetime | None) -> str:
    return wall.beijing_text(moment, "%Y-%m-%dT%H:%M") if moment else ""


# ---- the portal ------------------------------------------------------------------------------------


@router.get("/participation", summary="政民互动")
def portal_list(request: Request, db: DbSession, principal: Anyone,
                kind: Annotated[str | None, Query(pattern="^(survey|solicitation|interview)$")] = None):
    topics = api.topic_reads(db, list(db.scalars(service.published(kind).limit(api.MAX_ROWS))))
    groups = [(k, KIND_LABELS[k], [t for t in topics if t.kind == k]) for k in Kind if kind in (None, k.value)]
    return render(request, "participation_list.html", principal=principal, groups=groups, kind=kind, kinds=KIND_LABELS)


def _topic_page(request: Request, db: Session, principal: Principal | None, topic: Topic, *, error: str | None = None,
                form: dict[str, Any] | None = None, status_code: int = 200):
    detail = api.topic_detail(db, principal, topic)
    return render(request, "participation_topic.html", status_code=status_code, principal=principal, t=detail,
                  error=error, form=form or {}, result_word=RESULT_WORDS[Kind(topic.kind)],
                  can_answer=bool(principal and principal.can(Permission.PARTICIPATION_TAKE)))


@router.get("/participation/{topic_id}", summary="政民互动事项")
def portal_topic(request: Request, topic_id: Id, db: DbSession, principal: Anyone):
    return _topic_page(request, db, principal, service.public_topic(db, principal, topic_id))


@router.post("/participation/{topic_id}/responses", summary="参加网上调查：提交")
def portal_respond(request: Request, topic_id: Id, db: DbSession, fields: Fields,
                   principal: Annotated[Principal, require(Permission.PARTICIPATION_TAKE)]):
    check_csrf(request, _text(fields, "csrf_token", 100))
    topic = service.public_topic(db, principal, topic_id)
    answers = []
    for question, _ in service.questions(db, topic):
        values = [v for v in fields.getlist(f"q{question.id}") if isinstance(v, str) and v.strip()][:MAX_OPTIONS]
        if question.kind == "text":
            if values:
                answers.append(AnswerIn(question_id=question.id, text=values[0][:2000]))
        elif values:
            if not all(v.isdigit() and len(v) < 10 for v in values):
                return _topic_page(request, db, principal, topic, error="选项无效", status_code=422)
            answers.append(AnswerIn(question_id=question.id, option_ids=[int(v) for v in values]))
    try:
        if not answers:
            raise Problem("participation-incomplete", "请先回答问题再提交")
        service.respond(db, principal, topic, ResponseIn(answers=answers))
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return _topic_page(request, db, principal, topic, error=problem.detail, status_code=problem.status)
    flash(request, "已提交，感谢您参加本次调查")
    return RedirectResponse(f"/participation/{topic.id}", status_code=303)


@router.post("/participation/{topic_id}/comments", summary="提出意见或访谈问题：提交")
def portal_comment(request: Request, topic_id: Id, db: DbSession, principal: Anyone,
                   body: Annotated[str, Form(max_length=2000)] = "", name: Annotated[str, Form(max_length=64)] = "",
                   contact: Annotated[str, Form(max_length=100)] = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    topic = service.public_topic(db, principal, topic_id)
    form = {"body": body, "name": name, "contact": contact}
    try:
        service.comment(db, principal, topic, CommentIn(body=body or "  ", name=name or None, contact=contact or None),
                        address=throttle.client_address(request))
        db.commit()
    except ValidationError as error:
        db.rollback()
        problem = _refused(error)
        return _topic_page(request, db, principal, topic, error=problem.detail, form=form, status_code=422)
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return _topic_page(request, db, principal, topic, error=problem.detail, form=form, status_code=problem.status)
    flash(request, "已提交，感谢您的参与" if topic.kind == Kind.SOLICITATION else "问题已提交，访谈时嘉宾将选择答复")
    return RedirectResponse(f"/participation/{topic.id}", status_code=303)


# ---- the department --------------------------------------------------------------------------------


@router.get("/staff/participation", summary="政民互动管理")
def manage_list(request: Request, db: DbSession, principal: Manager):
    topics = api.topic_reads(db, list(db.scalars(service.managed(principal).limit(api.MAX_ROWS))))
    return render(request, "participation_manage.html", principal=principal, topics=topics, kinds=KIND_LABELS)


def _blank(kind: str) -> dict[str, Any]:
    now = wall.beijing_now().replace(second=0, microsecond=0)
    return {"kind": kind, "title": "", "body": "", "opens_at": now.strftime("%Y-%m-%dT%H:%M"), "closes_at": "",
            "event_at": "", "guests": "", "questions": []}


def _form_of(db: Session, topic: Topic) -> dict[str, Any]:
    return {"kind": topic.kind, "title": topic.title, "body": topic.body, "opens_at": _local(topic.opens_at),
            "closes_at": _local(topic.closes_at), "event_at": _local(topic.event_at), "guests": topic.guests or "",
            "questions": [{"kind": q.kind, "text": q.text, "required": q.required, "options": "\n".join(o.label for o in options)}
                          for q, options in service.questions(db, topic)]}


def _editor(request: Request, principal: Principal, form: dict[str, Any], *, topic: Topic | None = None,
            error: str | None = None, status_code: int = 200):
    slots = list(form.get("questions") or [])
    slots += [{"kind": "single", "text": "", "required": True, "options": ""}] * max(0, QUESTION_SLOTS - len(slots))
    return render(request, "participation_form.html", status_code=status_code, principal=principal, form=form, topic=topic,
                  slots=slots, error=error, kinds=KIND_LABELS, question_kinds=QUESTION_KIND_LABELS)


@router.get("/staff/participation/new", summary="新建政民互动事项")
def new_form(request: Request, principal: Manager,
             kind: Annotated[str, Query(pattern="^(survey|solicitation|interview)$")] = "survey"):
    return _editor(request, principal, _blank(kind))


def _read_topic(fields: FormData) -> tuple[dict[str, Any], TopicIn]:
    """The drafting form as it was sent, and as the API's body (refused in Chinese when wrong)."""
    form: dict[str, Any] = {name: _text(fields, name, limit) for name, limit in
                            (("kind", 20), ("title", 200), ("body", 50_000), ("opens_at", 20), ("closes_at", 20),
                             ("event_at", 20), ("guests", 500))}
    form["questions"] = []
    for index in range(QUESTION_SLOTS):
        text = _text(fields, f"question_{index}_text", 300).strip()
        options = _text(fields, f"question_{index}_options", 3000)
        slot = {"kind": _text(fields, f"question_{index}_kind", 10) or "single", "text": text,
                "required": bool(_text(fields, f"question_{index}_required", 5)), "options": options}
        if text:
            form["questions"].append(slot)
    if form["kind"] not in KIND_LABELS:
        raise Problem("validation-error", "请选择事项类型")
    opens, closes = _beijing(form["opens_at"], "开始时间"), _beijing(form["closes_at"], "截止时间")
    if opens is None or closes is None:
        raise Problem("validation-error", "请填写开始时间和截止时间（北京时间）")
    questions = [{"kind": q["kind"], "text": q["text"], "required": q["required"],
                  "options": [o.strip() for o in q["options"].splitlines() if o.strip()] if q["kind"] != "text" else []}
                 for q in form["questions"]] if form["kind"] == Kind.SURVEY else []
    try:
        data = TopicIn(kind=form["kind"], title=form["title"].strip(), body=form["body"], opens_at=opens, closes_at=closes,
                       event_at=_beijing(form["event_at"], "访谈时间") if form["kind"] == Kind.INTERVIEW else None,
                       guests=form["guests"] or None, questions=questions)
    except ValidationError as error:
        raise _refused(error) from None
    return form, data


@router.post("/staff/participation/new", summary="新建政民互动事项：保存草稿")
def create(request: Request, db: DbSession, principal: Manager, fields: Fields):
    check_csrf(request, _text(fields, "csrf_token", 100))
    form: dict[str, Any] = {}
    try:
        form, data = _read_topic(fields)
        topic = service.create(db, principal, data)
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return _editor(request, principal, form or _blank(_text(fields, "kind", 20) or "survey"), error=problem.detail,
                       status_code=problem.status)
    flash(request, "草稿已保存，检查无误后请发布")
    return RedirectResponse(f"/staff/participation/{topic.id}", status_code=303)


@router.get("/staff/participation/{topic_id}/edit", summary="修改政民互动事项草稿")
def edit_form(request: Request, topic_id: Id, db: DbSession, principal: Manager):
    topic = service.managed_topic(db, principal, topic_id, action="participation.topic.update")
    return _editor(request, principal, _form_of(db, topic), topic=topic)


@router.post("/staff/participation/{topic_id}/edit", summary="修改政民互动事项草稿：保存")
def edit(request: Request, topic_id: Id, db: DbSession, principal: Manager, fields: Fields):
    check_csrf(request, _text(fields, "csrf_token", 100))
    topic = service.managed_topic(db, principal, topic_id, action="participation.topic.update")
    form: dict[str, Any] = {}
    try:
        form, data = _read_topic(fields)
        service.update(db, principal, topic, data)
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return _editor(request, principal, form or _form_of(db, topic), topic=topic, error=problem.detail, status_code=problem.status)
    flash(request, "草稿已保存")
    return RedirectResponse(f"/staff/participation/{topic.id}", status_code=303)


def _manage_page(request: Request, db: Session, principal: Principal, topic: Topic, *, error: str | None = None,
                 status_code: int = 200):
    return render(request, "participation_manage_topic.html", status_code=status_code, principal=principal,
                  t=api.topic_detail(db, principal, topic), comments=[api.comment_read(c) for c in service.comments(db, topic)],
                  error=error, group_slots=range(GROUP_SLOTS), decisions=DECISION_LABELS,
                  result_word=RESULT_WORDS[Kind(topic.kind)])


@router.get("/staff/participation/{topic_id}", summary="政民互动事项：管理")
def manage_topic(request: Request, topic_id: Id, db: DbSession, principal: Manager):
    topic = service.managed_topic(db, principal, topic_id, action="participation.comment.read")
    return _manage_page(request, db, principal, topic)


def _step(request: Request, db: Session, principal: Principal, topic_id: int, action: str, work, done: str):
    topic = service.managed_topic(db, principal, topic_id, action=action)
    try:
        work(topic)
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return _manage_page(request, db, principal, topic, error=problem.detail, status_code=problem.status)
    flash(request, done)
    return RedirectResponse(f"/staff/participation/{topic.id}", status_code=303)


@router.post("/staff/participation/{topic_id}/publish", summary="发布政民互动事项")
def publish(request: Request, topic_id: Id, db: DbSession, principal: Manager, csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    return _step(request, db, principal, topic_id, "participation.topic.publish",
                 lambda topic: service.publish(db, principal, topic), "已发布，公众可在门户「政民互动」参与")


@router.post("/staff/participation/{topic_id}/close", summary="提前结束政民互动事项")
def close(request: Request, topic_id: Id, db: DbSession, principal: Manager, csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    return _step(request, db, principal, topic_id, "participation.topic.close",
                 lambda topic: service.close(db, principal, topic), "已结束；网上调查的结果随即在门户公布")


@router.post("/staff/participation/{topic_id}/results", summary="公布调查结果")
def publish_results(request: Request, topic_id: Id, db: DbSession, principal: Manager, csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    return _step(request, db, principal, topic_id, "participation.results.publish",
                 lambda topic: service.publish_results(db, principal, topic), "调查结果已公布")


@router.post("/staff/participation/{topic_id}/summary", summary="公布意见采纳情况或访谈实录")
def publish_summary(request: Request, topic_id: Id, db: DbSession, principal: Manager, fields: Fields):
    check_csrf(request, _text(fields, "csrf_token", 100))

    def work(topic: Topic) -> None:
        groups = []
        for index in range(GROUP_SLOTS):
            subject = _text(fields, f"group_{index}_subject", 200).strip()
            if not subject:
                continue
            raw = _text(fields, f"group_{index}_comments", 2000).replace("，", ",").replace("、", ",")
            ids = [part.strip() for part in raw.split(",") if part.strip()]
            if not all(i.isdigit() and len(i) < 10 for i in ids):
                raise Problem("validation-error", f"第 {index + 1} 组的意见编号应为数字，用逗号分隔")
            groups.append({"subject": subject, "decision": _text(fields, f"group_{index}_decision", 20),
                           "reason": _text(fields, f"group_{index}_reason", 2000), "comment_ids": [int(i) for i in ids]})
        try:
            data = SummaryIn(summary=_text(fields, "summary", 50_000), adoptions=groups)
        except ValidationError as error:
            raise _refused(error) from None
        service.publish_summary(db, principal, topic, data)

    return _step(request, db, principal, topic_id, "participation.summary.publish", work, "已公布")


@router.post("/staff/participation/{topic_id}/comments/{comment_id}/answer", summary="答复访谈问题")
def answer(request: Request, topic_id: Id, comment_id: Id, db: DbSession, principal: Manager,
           answer: Annotated[str, Form(max_length=50_000)] = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)

    def work(topic: Topic) -> None:
        if len(answer.strip()) < 2:
            raise Problem("validation-error", "请填写答复内容")
        service.answer_question(db, principal, topic, comment_id, answer)

    return _step(request, db, principal, topic_id, "participation.question.answer", work, "已答复")


@router.post("/staff/participation/{topic_id}/attachment", summary="上传征求意见稿 PDF",
             openapi_extra=uploads("attachment_max_mb"))
def attach(request: Request, topic_id: Id, db: DbSession, principal: Manager,
           file: Annotated[UploadFile | None, File()] = None, csrf_token: Annotated[str, Form(max_length=100)] = ""):
    check_csrf(request, csrf_token)
    settings = request.app.state.settings

    def work(topic: Topic) -> None:
        if file is None or not file.filename:
            raise Problem("attachment-refused", "请选择 PDF 文件")
        data = file.file.read(settings.attachment_max_mb * 1024 * 1024 + 1)
        service.attach(db, principal, topic, settings, file.filename, data)

    return _step(request, db, principal, topic_id, "participation.attachment.upload", work, "征求意见稿已上传")
