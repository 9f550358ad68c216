"""领导信箱: letters written from the portal, answered by the letters office (信访办) or assigned
to a department, reviewed and sent, and published (选登) when the writer consented.

A letter IS a case on the grid's engine (``grid.service``, ``Source.MAILBOX``, number ``XF-…``), as
a 12345 ticket is: every step is the engine's (it checks the step is allowed from the state and the
version the form was read at, writes the trail and the audit line, and starts and closes the
handling clocks), in the caller's transaction; the letter's own facts are the ``Letter`` row
beside it, and the letters office's own clocks are started and closed here:

    write → received (clock MAILBOX_OFFICE: the office answers or assigns)
    answer → answered | assign (dispatch) → assigned (clock MAILBOX_REPLY, the department's deadline;
    the department is notified) → reply (handle) → replied (clock MAILBOX_REVIEW: the office
    reviews) → send (verify) → answered | return (rework) → assigned again (a new round, a new clock)
    answered → publish → published (only with consent; the writer's personal data removed)

The letters office is the e-government office's department (``Office.EGOV``) until the district
marks one of its own; its staff hold ``MAILBOX_HANDLE``, a department's reviewers ``MAILBOX_REPLY``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tongban.accounts import service as accounts
from tongban.core import audit, clock as wall, throttle
from tongban.core.auth import Principal, deny
from tongban.core.errors import Problem
from tongban.core.permissions import Permission, Role
from tongban.core.redaction import redact_personal
from tongban.grid import service as grid
from tongban.grid.schemas import Action, CaseEvent, CaseStatus, GridCase, Source
from tongban.hotline.mailbox_models import ACTION_LABELS, STATUS_LABELS, Letter, LetterAction, LetterStatus
from tongban.notifications import service as notifications
from tongban.org import service as org
from tongban.supervision import service as supervision
from tongban.supervision.schemas import ClockKind

MAX_SUBJECT, MAX_BODY, MAX_REPLY = 100, 5000, 5000
OFFICE_DAYS, REVIEW_DAYS = 5, 2  # working days: the office answers or assigns; reviews a department's reply
DEFAULT_REPLY_DAYS, MAX_REPLY_DAYS = 10, 60  # the department's deadline, chosen by the office
DUPLICATE_WINDOW = timedelta(hours=24)  # the same writer with the same text this soon: a duplicate
NAME_MASK = "[姓名已隐去]"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
_PHONE = re.compile(r"^(?:(?:\+?86)?1[3-9]\d{9}|0\d{9,11})$")  # spaces and hyphens taken out first
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def invalid(detail: str, field: str) -> Problem:
    return Problem("validation-error", detail, errors=[{"field": field, "message": detail}])


def _text(value: str | None, what: str, field: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise invalid(f"请填写{what}", field)
    if len(text) > limit:
        raise invalid(f"{what}不能超过 {limit} 字（现有 {len(text)} 字）", field)
    return text


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalised(text: str) -> str:
    return re.sub(r"\s+", "", text)  # Chinese runs without spaces: spacing changes nothing


def _office(db: Session) -> int:
    """The letters office's department: the e-government office's."""
    return org.egov_office(db).id


PREFIX = "XF"
# How a letter stands on the engine: the category its case is filed under (the office chooses the
# department's deadline at each assignment: ``_limit``) and the note of its first step.
KIND, CODE, CATEGORY_NAME = "mailbox", "XF", "领导信箱来信"
# The engine's steps in the letter's words (the API's and the pages' vocabulary).
STEPS = {Action.REPORT: LetterAction.WRITE, Action.ANSWER: LetterAction.ANSWER, Action.DISPATCH: LetterAction.ASSIGN,
         Action.HANDLE: LetterAction.REPLY, Action.VERIFY: LetterAction.SEND, Action.REWORK: LetterAction.RETURN,
         Action.LEADER: LetterAction.LEADER, Action.PUBLISH: LetterAction.PUBLISH}
# The letter's states on the engine's (answered and published are both closed: published_at tells them apart).
ON_ENGINE = {LetterStatus.RECEIVED: CaseStatus.REGISTERED, LetterStatus.ASSIGNED: CaseStatus.DISPATCHED,
             LetterStatus.REPLIED: CaseStatus.HANDLED, LetterStatus.ANSWERED: CaseStatus.CLOSED,
             LetterStatus.PUBLISHED: CaseStatus.CLOSED}


@dataclass(frozen=True)
class LetterCase:
    """A letter and the case that carries it on the engine."""

    letter: Letter
    case: GridCase

    @property
    def number(self) -> str:
        return self.case.number

    @property
    def status(self) -> LetterStatus:
        return status_of(self.case.status, self.letter)

    @property
    def department_id(self) -> int | None:
        return self.case.department_id

    @property
    def version(self) -> int:
        return self.case.version


def status_of(case_status: str, letter: Letter | None) -> LetterStatus:
    """The letter's state from its case's (closed: published once ``letter`` was; None: answered)."""
    if case_status == CaseStatus.CLOSED:
        return LetterStatus.PUBLISHED if letter is not None and letter.published_at is not None else LetterStatus.ANSWERED
    return {CaseStatus.REGISTERED: LetterStatus.RECEIVED, CaseStatus.DISPATCHED: LetterStatus.ASSIGNED,
            CaseStatus.HANDLED: LetterStatus.REPLIED}[CaseStatus(case_status)]


def _limit(days: int) -> grid.Category:
    """The department's deadline the office chose, as the engine times the handling."""
    return grid.Category(kind=KIND, code=CODE, major="领导信箱", name=CATEGORY_NAME, register_condition="",
                         limit_value=days, limit_unit="working_days", urgent=False, handler="")


def _link(number: str) -> str:
    return f"/staff/mailbox/{number}"


def _title(filed: LetterCase, step: str) -> str:
    return f"{step}：{filed.letter.subject[:40]}（{filed.number}）"


# ---- writing ---------------------------------------------------------------------------------------------


def write(db: Session, principal: Principal | None, *, subject: str, body: str, consent: bool,
          name: str | None = None, phone: str | None = None, email: str | None = None) -> tuple[LetterCase, str]:
    """A letter to the leader's mailbox; its number and the query code (given once, kept as a hash).
    A signed-in resident or enterprise writes as itself; anyone else gives a name and a phone
    number or an e-mail address. The same writer sending the same text again within a day is
    refused (``mailbox-duplicate``)."""
    if principal is not None and principal.kind not in ("citizen", "enterprise"):
        principal = None  # staff write as anybody else does
    subject = _text(subject, "信件标题", "body.subject", MAX_SUBJECT)
    body = _text(body, "信件内容", "body.body", MAX_BODY)
    phone, email = (phone or "").strip() or None, (email or "").strip() or None
    if phone is not None and (len(phone) > 32 or not _PHONE.match(re.sub(r"[\s-]", "", phone))):
        raise invalid("联系电话格式不正确（手机号码或带区号的固定电话）", "body.phone")
    if email is not None and (len(email) > 120 or not _EMAIL.match(email)):
        raise invalid("电子邮箱格式不正确", "body.email")
    if principal is None:
        name = _text(name, "姓名", "body.name", 64)
        if phone is None and email is None:
            raise invalid("未登录写信请留下联系电话或电子邮箱，以便答复", "body.phone")
        writer_key = f"phone:{re.sub(r'[^0-9]', '', phone)[-11:]}" if phone else f"email:{(email or '').lower()}"
        writer_kind = "anonymous"
    else:
        name = principal.actor_name[:64]
        writer_key, writer_kind = f"account:{principal.actor_id}", principal.kind
    text_hash = _hash(_normalised(subject) + "\n" + _normalised(body))
    now = wall.now()
    earlier = db.scalar(select(Letter.id).where(Letter.writer_key == writer_key[:64], Letter.text_hash == text_hash,
                                                Letter.created_at >= now - DUPLICATE_WINDOW).limit(1))
    if earlier is not None:
        raise Problem("mailbox-duplicate", "您在 24 小时内已提交过内容相同的信件，请勿重复提交；办理情况可在"
                      + ("「我的来信」" if principal is not None else "「来信查询」") + "查看")
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    case = grid.file_call(db, principal, grid.Call(category=_limit(DEFAULT_REPLY_DAYS), description=subject,
                                                   caller_name=name), prefix=PREFIX, source=Source.MAILBOX, note=None)
    letter = Letter(case_id=case.id, query_code_hash=_hash(code), subject=subject, body=body, consent=bool(consent),
                    writer_account=principal.actor_id if principal else None, writer_kind=writer_kind, writer_name=name,
                    writer_phone=phone, writer_email=email, writer_key=writer_key[:64], text_hash=text_hash,
                    for_leader=False, created_at=now)
    db.add(letter)
    db.flush()
    filed = LetterCase(letter, case)
    supervision.start_clock(db, kind=ClockKind.MAILBOX_OFFICE, subject=case.number, title=_title(filed, "来信办理"),
                            department_id=_office(db), limit_days=OFFICE_DAYS, started_on=wall.today(),
                            link=_link(case.number), new_subject=True)
    return filed, code


# ---- reading ---------------------------------------------------------------------------------------------


def _of_case(db: Session, case: GridCase) -> LetterCase:
    letter = db.scalar(select(Letter).where(Letter.case_id == case.id))
    if letter is None:
        raise Problem("not-found", f"没有编号为 {case.number} 的来信")
    return LetterCase(letter, case)


def letter_by_number(db: Session, number: str, *, for_update: bool = False) -> LetterCase:
    try:
        case = grid.case_by_number(db, number[:24], for_update=for_update)
    except Problem:
        case = None
    if case is None or case.source != Source.MAILBOX:
        raise Problem("not-found", f"没有编号为 {number[:24]} 的来信")
    return _of_case(db, case)


def with_cases(db: Session, letters: list[Letter]) -> list[LetterCase]:
    """Letters read as a list, each with its case (one statement for the cases)."""
    cases = {case.id: case for case in grid.cases_by_ids(db, [letter.case_id for letter in letters])}
    return [LetterCase(letter, cases[letter.case_id]) for letter in letters]


def _handled_by(db: Session, filed: LetterCase, department_id: int | None) -> bool:
    """Whether the department was ever assigned the letter (a letter sent back and reassigned
    stays readable to the department that worked on it)."""
    if department_id is None:
        return False
    return filed.department_id == department_id or any(
        e.action == Action.DISPATCH and e.department_id == department_id for e in grid.trail(db, filed.case))


def readable(db: Session, principal: Principal, number: str) -> LetterCase:
    """A letter as staff may see it: the letters office every letter, a department those assigned
    to it (now or before); any other letter is refused and the refusal logged."""
    filed = letter_by_number(db, number)
    if principal.can(Permission.MAILBOX_HANDLE):
        return filed
    if principal.can(Permission.MAILBOX_REPLY) and _handled_by(db, filed, principal.department_id):
        return filed
    raise deny(db, principal, slug="department-scope", detail="该来信未交办给本部门", action="mailbox.letter.read",
               object_type="mailbox_letter", object_id=filed.number)


def queue(principal: Principal, *, status: str | None = None, leader: bool = False) -> Select:
    """The letters this person works: the office's every letter, a department's those assigned to it."""
    department = None if principal.can(Permission.MAILBOX_HANDLE) else (principal.department_id or -1)
    engine = [ON_ENGINE[LetterStatus(status)].value] if status else None
    query = select(Letter)
    if engine or department is not None:
        query = query.where(Letter.case_id.in_(grid.channel_ids(Source.MAILBOX, statuses=engine, department_id=department)))
    if status == LetterStatus.ANSWERED:
        query = query.where(Letter.published_at.is_(None))
    elif status == LetterStatus.PUBLISHED:
        query = query.where(Letter.published_at.is_not(None))
    if leader:
        query = query.where(Letter.for_leader.is_(True))
    return query


def writer_contact(db: Session, principal: Principal, filed: LetterCase) -> tuple[str | None, str | None]:
    """The writer's phone and e-mail, read by staff to answer: personal data, so the read is logged."""
    letter = filed.letter
    if letter.writer_phone or letter.writer_email:
        audit.record(db, actor=principal, action="mailbox.letter.read_writer", object_type="mailbox_letter",
                     object_id=filed.number, purpose="办理和答复来信")
    return letter.writer_phone, letter.writer_email


def own_letters(principal: Principal) -> Select:
    """我的来信: the letters this resident or enterprise wrote signed in."""
    return select(Letter).where(Letter.writer_account == principal.actor_id)


def own_letter(db: Session, principal: Principal, number: str) -> LetterCase:
    """One of this person's own letters; anyone else's is as unknown as a number never given."""
    try:
        filed = letter_by_number(db, number)
    except Problem:
        filed = None
    if filed is None or filed.letter.writer_account != principal.actor_id:
        raise Problem("not-found", f"没有编号为 {number[:24]} 的本人来信")
    return filed


LOOKUP_FAILURES, LOOKUP_WINDOW_MINUTES, LOOKUP_LOCK_MINUTES = 10, 60, 15


def _lookup_key(address: str) -> str:
    return f"mailbox-lookup@{throttle.counted(address)}"


def look_up(db: Session, number: str, code: str, *, address: str) -> LetterCase:
    """来信查询: a letter by its number and the query code given when it was written; a wrong
    number and a wrong code are told apart by nobody, and are counted per client address (the
    caller commits the count before answering), so codes cannot be tried out by the thousand."""
    throttle.check(db, [_lookup_key(address)], detail="查询失败次数过多，请 {minutes} 分钟后再试")
    try:
        found: LetterCase | None = letter_by_number(db, number.strip().upper())
    except Problem:
        found = None
    expected = found.letter.query_code_hash if found is not None else _hash("")
    if not hmac.compare_digest(expected, _hash(code.strip().upper())) or found is None:
        throttle.fail(db, _lookup_key(address), limit=LOOKUP_FAILURES, window_minutes=LOOKUP_WINDOW_MINUTES,
                      lock_minutes=LOOKUP_LOCK_MINUTES)
        raise Problem("not-found", "信件编号或查询码不正确")
    return found


def published(*, q: str | None = None) -> Select:
    """信件选登: the published letters (their public texts only are ever read from them)."""
    query = select(Letter).where(Letter.published_at.is_not(None), Letter.consent.is_(True))
    if q:
        like = f"%{q.strip()[:50]}%"
        query = query.where(Letter.public_subject.like(like) | Letter.public_body.like(like)
                            | Letter.public_reply.like(like))
    return query


def published_letter(db: Session, number: str) -> LetterCase:
    """A published letter; a letter not published (private, or not yet) is as unknown as a number
    never given."""
    try:
        filed = letter_by_number(db, number)
    except Problem:
        filed = None
    if filed is None or filed.letter.published_at is None or not filed.letter.consent:
        raise Problem("not-found", f"没有编号为 {number[:24]} 的选登信件")
    return filed


def trail(db: Session, filed: LetterCase) -> list[CaseEvent]:
    """The letter's steps (the engine's trail; ``STEPS`` names them in the letter's words)."""
    return [e for e in grid.trail(db, filed.case) if Action(e.action) in STEPS]


def clocks(db: Session, filed: LetterCase):
    """The letter's clocks, every step and round."""
    return supervision.clocks_of_subjects(db, [ClockKind.MAILBOX_OFFICE.value, ClockKind.MAILBOX_REPLY.value,
                                               ClockKind.MAILBOX_REVIEW.value], filed.number)


# ---- the steps -------------------------------------------------------------------------------------------


def _refused(filed: LetterCase, action: LetterAction) -> Problem:
    return Problem("mailbox-state", f"来信 {filed.number} 当前为「{STATUS_LABELS[filed.status]}」，"
                   f"不能{ACTION_LABELS[action]}", status_value=filed.status.value)


def _on_engine(filed: LetterCase, action: LetterAction, step: Callable[[], GridCase]) -> GridCase:
    """One engine step on the letter; a step its state does not allow is refused in the letter's
    words (``mailbox-state``), as the office and the writer know it."""
    try:
        return step()
    except Problem as problem:
        if problem.slug != "grid-state":
            raise
        raise _refused(filed, action) from None


def _tell_writer(db: Session, filed: LetterCase) -> None:
    """The writer is told the letter was answered: in 「我的来信」 when signed in, else by text to the
    phone they left (the reply itself is read with the query code, never sent in the clear)."""
    letter = filed.letter
    if letter.writer_account:
        notifications.notify(db, department_id=None, account_id=letter.writer_account, kind="mailbox.reply",
                             title=f"您的来信已答复（{filed.number}）", body=f"您的来信「{letter.subject[:60]}」已答复，请在「我的来信」查看。",
                             link=f"/mailbox/mine/{filed.number}")
    else:
        notifications.text(db, phone=letter.writer_phone, kind="mailbox.reply", ref=filed.number,
                           message=f"【领导信箱】您的来信（编号 {filed.number}）已答复，请凭信件编号和查询码在「来信查询」查看。")


def answer(db: Session, principal: Principal, number: str, *, reply: str, version: int | None = None) -> LetterCase:
    """The letters office answers the letter itself."""
    text = _text(reply, "答复内容", "body.reply", MAX_REPLY)
    filed = letter_by_number(db, number, for_update=True)
    case = _on_engine(filed, LetterAction.ANSWER, lambda: grid.close_call(
        db, principal, filed.number, action=Action.ANSWER, note=text, version=version))
    supervision.close_clock(db, ClockKind.MAILBOX_OFFICE, case.number, on=wall.today(), outcome="answered")
    letter = filed.letter
    letter.reply, letter.answered_at = text, wall.now()
    letter.replied_by = (principal.department_name or "信访办")[:100]
    _tell_writer(db, filed)
    return filed


def _tell_department(db: Session, filed: LetterCase) -> None:
    notifications.notify(db, department_id=filed.department_id, role=Role.REVIEWER.value, kind="mailbox.assigned",
                         title=f"领导信箱交办：{filed.letter.subject[:60]}（{filed.number}）",
                         body=f"请在 {filed.letter.limit_days} 个工作日内答复，答复经信访办审核后发送来信人。",
                         link=_link(filed.number))


def assign(db: Session, principal: Principal, number: str, *, department_code: str, limit_days: int = DEFAULT_REPLY_DAYS,
           note: str | None = None, version: int | None = None) -> LetterCase:
    """交办: the letter goes to a department, which replies within ``limit_days`` working days."""
    if not 1 <= limit_days <= MAX_REPLY_DAYS:
        raise invalid(f"办理期限应为 1 至 {MAX_REPLY_DAYS} 个工作日", "body.limit_days")
    if not department_code.strip():
        raise invalid("请选择交办部门", "body.department_code")
    department = org.get_by_code_or_404(db, department_code.strip())
    filed = letter_by_number(db, number, for_update=True)
    said = f"{limit_days} 个工作日内答复" + (f"；{note.strip()[:900]}" if note and note.strip() else "")
    _on_engine(filed, LetterAction.ASSIGN, lambda: grid.dispatch(
        db, principal, filed.number, department_code=department.code, version=version, note=said, limit=_limit(limit_days)))
    supervision.close_clock(db, ClockKind.MAILBOX_OFFICE, filed.number, on=wall.today(), outcome="assigned")
    filed.letter.limit_days = limit_days
    _tell_department(db, filed)
    return filed


def reply(db: Session, principal: Principal, number: str, *, reply: str, version: int | None = None) -> LetterCase:
    """The department's reply, for the letters office to review."""
    text = _text(reply, "答复内容", "body.reply", MAX_REPLY)
    filed = letter_by_number(db, number, for_update=True)
    if not principal.can_for_department(Permission.MAILBOX_REPLY, filed.department_id):
        raise deny(db, principal, slug="department-scope", detail="该来信未交办给本部门", action="mailbox.letter.reply",
                   object_type="mailbox_letter", object_id=filed.number)
    case = _on_engine(filed, LetterAction.REPLY, lambda: grid.handle(db, principal, filed.number, result=text, version=version))
    supervision.start_clock(db, kind=ClockKind.MAILBOX_REVIEW, subject=grid.round_of(case), title=_title(filed, "答复审核"),
                            department_id=_office(db), limit_days=REVIEW_DAYS, started_on=wall.today(),
                            link=_link(case.number), new_subject=True)
    notifications.notify(db, department_id=_office(db), role=Role.LETTERS_OFFICER.value, kind="mailbox.replied",
                         title=f"部门已答复来信，待审核（{case.number}）", body=filed.letter.subject[:200],
                         link=_link(case.number))
    return filed


def send(db: Session, principal: Principal, number: str, *, reply: str | None = None,
         version: int | None = None) -> LetterCase:
    """The office reviews the department's reply (edited or as it is) and sends it to the writer."""
    filed = letter_by_number(db, number, for_update=True)
    drafted = filed.case.result or ""
    text = _text(reply, "答复内容", "body.reply", MAX_REPLY) if reply and reply.strip() else drafted
    department = org.get(db, filed.department_id) if filed.department_id else None
    _on_engine(filed, LetterAction.SEND, lambda: grid.verify(
        db, principal, filed.number, fixed=True, note=None if text == drafted else "审核时修改了答复内容", version=version))
    letter = filed.letter
    letter.reply, letter.answered_at = text, wall.now()
    letter.replied_by = (department.name if department else principal.department_name or "信访办")[:100]
    _tell_writer(db, filed)
    return filed


def return_reply(db: Session, principal: Principal, number: str, *, reason: str,
                 version: int | None = None) -> LetterCase:
    """The office sends the department's reply back, with the reason: a new round, on a new clock."""
    why = _text(reason, "退回理由", "body.reason", 1000)
    filed = letter_by_number(db, number, for_update=True)
    _on_engine(filed, LetterAction.RETURN, lambda: grid.verify(
        db, principal, filed.number, fixed=False, note=why, version=version,
        limit=_limit(filed.letter.limit_days or DEFAULT_REPLY_DAYS)))
    _tell_department(db, filed)
    return filed


def mark_for_leader(db: Session, principal: Principal, number: str, *, note: str | None = None) -> LetterCase:
    """呈报领导: the letter is put before the leader (the office's filtered list), whatever its state."""
    filed = letter_by_number(db, number, for_update=True)
    if filed.letter.for_leader:
        raise Problem("mailbox-state", f"来信 {filed.number} 已呈报领导")
    grid.note_step(db, principal, filed.number, action=Action.LEADER,
                   note=note.strip()[:1000] if note and note.strip() else None)
    filed.letter.for_leader = True
    return filed


def _public_text(letter: Letter, text: str | None, account_key: str | None) -> str | None:
    if not text:
        return text
    for own, mask in ((letter.writer_name, NAME_MASK), (letter.writer_phone, "[电话号码已隐去]"),
                      (letter.writer_email, "[电子邮箱已隐去]"), (account_key, "[证件号码已隐去]")):
        if own and len(own.strip()) >= 2:
            text = re.sub(re.escape(own.strip()), mask, text, flags=re.IGNORECASE)
    if letter.writer_phone:  # the phone as typed anywhere else, spaced or hyphenated
        digits = re.sub(r"[^0-9]", "", letter.writer_phone)[-11:]
        if len(digits) >= 7:
            text = re.sub(r"[\s-]?".join(digits), "[电话号码已隐去]", text)
    return redact_personal(text)


def public_texts(db: Session, letter: Letter) -> tuple[str, str, str | None]:
    """The subject, letter and reply as the public may read them: the writer's own name, phone,
    e-mail and account key (the resident ID or credit code a signed-in writer signs in with) taken
    out explicitly, then every other resident ID, phone number and e-mail address
    (``core.redaction``)."""
    account_key = None
    if letter.writer_account and letter.writer_account.isdigit():
        account_key = accounts.get_user(db, int(letter.writer_account)).username
    return ((_public_text(letter, letter.subject, account_key) or "")[:100],
            _public_text(letter, letter.body, account_key) or "", _public_text(letter, letter.reply, account_key))


def publish(db: Session, principal: Principal, number: str, *, version: int | None = None) -> LetterCase:
    """选登: an answered letter whose writer consented, published with personal data removed."""
    filed = letter_by_number(db, number, for_update=True)
    if not filed.letter.consent:
        raise Problem("mailbox-no-consent", f"来信 {filed.number} 的来信人未同意公开，不能选登")
    letter = filed.letter
    if letter.published_at is not None:  # closed is answered or published: the letter tells them apart
        raise _refused(filed, LetterAction.PUBLISH)
    _on_engine(filed, LetterAction.PUBLISH, lambda: grid.note_step(
        db, principal, filed.number, action=Action.PUBLISH, note=None, version=version))
    letter.public_subject, letter.public_body, letter.public_reply = public_texts(db, letter)
    letter.published_at = wall.now()
    return filed
