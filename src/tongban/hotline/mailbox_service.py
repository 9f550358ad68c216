"""领导信箱: letters written from the portal, answered by the letters office (信访办) or assigned
to a department, reviewed and sent, and published (选登) when the writer consented.

Every step checks it is allowed from the letter's state, writes the trail, closes and starts the
step's supervision clock and records the audit line, in the caller's transaction:

    write → received (clock MAILBOX_OFFICE: the office answers or assigns)
    answer → answered | assign → assigned (clock MAILBOX_REPLY, the department's deadline; the
    department is notified) → reply → replied (clock MAILBOX_REVIEW: the office reviews) →
    send → answered | return → assigned again (a new round, a new clock)
    answered → publish → published (only with consent; the writer's personal data removed)

The letters office is the e-government office's department (``Office.EGOV``) until the district
marks one of its own; its staff hold ``MAILBOX_HANDLE``, a department's reviewers ``MAILBOX_REPLY``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from tongban.accounts import service as accounts
from tongban.core import audit, clock as wall, numbers, throttle
from tongban.core.auth import Principal, deny
from tongban.core.errors import Problem
from tongban.core.permissions import Permission, Role
from tongban.core.redaction import redact_personal
from tongban.hotline.mailbox_models import (
    ACTION_LABELS, STATUS_LABELS, Letter, LetterAction, LetterEvent, LetterStatus,
)
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


def _link(letter: Letter) -> str:
    return f"/staff/mailbox/{letter.number}"


def _title(letter: Letter, step: str) -> str:
    return f"{step}：{letter.subject[:40]}（{letter.number}）"


def _round(letter: Letter) -> str:
    """The subject of a round's clocks: each assignment has its own."""
    return f"{letter.number}/{letter.rounds}"


# ---- writing ---------------------------------------------------------------------------------------------


def write(db: Session, principal: Principal | None, *, subject: str, body: str, consent: bool,
          name: str | None = None, phone: str | None = None, email: str | None = None) -> tuple[Letter, str]:
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
    earlier = db.scalar(select(Letter.number).where(Letter.writer_key == writer_key[:64], Letter.text_hash == text_hash,
                                                    Letter.created_at >= now - DUPLICATE_WINDOW).limit(1))
    if earlier is not None:
        raise Problem("mailbox-duplicate", "您在 24 小时内已提交过内容相同的信件，请勿重复提交；办理情况可在"
                      + ("「我的来信」" if principal is not None else "「来信查询」") + "查看")
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    letter = Letter(number=numbers.mint(db, Letter.number, "XF"), query_code_hash=_hash(code), subject=subject, body=body,
                    consent=bool(consent), writer_account=principal.actor_id if principal else None,
                    writer_kind=writer_kind, writer_name=name, writer_phone=phone, writer_email=email,
                    writer_key=writer_key[:64], text_hash=text_hash, status=LetterStatus.RECEIVED, for_leader=False,
                    rounds=0, created_at=now, updated_at=now)
    db.add(letter)
    db.flush()
    _trail(db, letter, principal, LetterAction.WRITE, None, actor_name=name)
    supervision.start_clock(db, kind=ClockKind.MAILBOX_OFFICE, subject=letter.number, title=_title(letter, "来信办理"),
                            department_id=_office(db), limit_days=OFFICE_DAYS, started_on=wall.today(),
                            link=_link(letter), new_subject=True)
    audit.record(db, actor=principal or audit.ANONYMOUS, action="mailbox.letter.write", object_type="mailbox_letter",
                 object_id=letter.number, details={"consent": letter.consent, "signed_in": principal is not None})
    return letter, code


# ---- reading ---------------------------------------------------------------------------------------------


def letter_by_number(db: Session, number: str, *, for_update: bool = False) -> Letter:
    query = select(Letter).where(Letter.number == number[:24])
    if for_update and db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    found = db.scalar(query)
    if found is None:
        raise Problem("not-found", f"没有编号为 {number[:24]} 的来信")
    return found


def _handled_by(db: Session, letter: Letter, department_id: int | None) -> bool:
    """Whether the department was ever assigned the letter (a letter sent back and reassigned
    stays readable to the department that worked on it)."""
    if department_id is None:
        return False
    return letter.department_id == department_id or db.scalar(select(exists().where(
        LetterEvent.letter_id == letter.id, LetterEvent.action == LetterAction.ASSIGN.value,
        LetterEvent.department_id == department_id))) is True


def readable(db: Session, principal: Principal, number: str) -> Letter:
    """A letter as staff may see it: the letters office every letter, a department those assigned
    to it (now or before); any other letter is refused and the refusal logged."""
    letter = letter_by_number(db, number)
    if principal.can(Permission.MAILBOX_HANDLE):
        return letter
    if principal.can(Permission.MAILBOX_REPLY) and _handled_by(db, letter, principal.department_id):
        return letter
    raise deny(db, principal, slug="department-scope", detail="该来信未交办给本部门", action="mailbox.letter.read",
               object_type="mailbox_letter", object_id=letter.number)


def queue(principal: Principal, *, status: str | None = None, leader: bool = False) -> Select:
    """The letters this person works: the office's every letter, a department's those assigned to it."""
    query = select(Letter)
    if not principal.can(Permission.MAILBOX_HANDLE):
        query = query.where(Letter.department_id == principal.department_id)
    if status:
        query = query.where(Letter.status == status)
    if leader:
        query = query.where(Letter.for_leader.is_(True))
    return query


def writer_contact(db: Session, principal: Principal, letter: Letter) -> tuple[str | None, str | None]:
    """The writer's phone and e-mail, read by staff to answer: personal data, so the read is logged."""
    if letter.writer_phone or letter.writer_email:
        audit.record(db, actor=principal, action="mailbox.letter.read_writer", object_type="mailbox_letter",
                     object_id=letter.number, purpose="办理和答复来信")
    return letter.writer_phone, letter.writer_email


def own_letters(principal: Principal) -> Select:
    """我的来信: the letters this resident or enterprise wrote signed in."""
    return select(Letter).where(Letter.writer_account == principal.actor_id)


def own_letter(db: Session, principal: Principal, number: str) -> Letter:
    """One of this person's own letters; anyone else's is as unknown as a number never given."""
    found = db.scalar(own_letters(principal).where(Letter.number == number[:24]))
    if found is None:
        raise Problem("not-found", f"没有编号为 {number[:24]} 的本人来信")
    return found


LOOKUP_FAILURES, LOOKUP_WINDOW_MINUTES, LOOKUP_LOCK_MINUTES = 10, 60, 15


def _lookup_key(address: str) -> str:
    return f"mailbox-lookup@{throttle.counted(address)}"


def look_up(db: Session, number: str, code: str, *, address: str) -> Letter:
    """来信查询: a letter by its number and the query code given when it was written; a wrong
    number and a wrong code are told apart by nobody, and are counted per client address (the
    caller commits the count before answering), so codes cannot be tried out by the thousand."""
    throttle.check(db, [_lookup_key(address)], detail="查询失败次数过多，请 {minutes} 分钟后再试")
    found = db.scalar(select(Letter).where(Letter.number == number.strip().upper()[:24]))
    expected = found.query_code_hash if found is not None else _hash("")
    if not hmac.compare_digest(expected, _hash(code.strip().upper())) or found is None:
        throttle.fail(db, _lookup_key(address), limit=LOOKUP_FAILURES, window_minutes=LOOKUP_WINDOW_MINUTES,
                      lock_minutes=LOOKUP_LOCK_MINUTES)
        raise Problem("not-found", "信件编号或查询码不正确")
    return found


def published(*, q: str | None = None) -> Select:
    """信件选登: the published letters (their public texts only are ever read from them)."""
    query = select(Letter).where(Letter.status == LetterStatus.PUBLISHED.value, Letter.consent.is_(True))
    if q:
        like = f"%{q.strip()[:50]}%"
        query = query.where(or_(Letter.public_subject.like(like), Letter.public_body.like(like),
                                Letter.public_reply.like(like)))
    return query


def published_letter(db: Session, number: str) -> Letter:
    """A published letter; a letter not published (private, or not yet) is as unknown as a number
    never given."""
    found = db.scalar(published().where(Letter.number == number[:24]))
    if found is None:
        raise Problem("not-found", f"没有编号为 {number[:24]} 的选登信件")
    return found


def trail(db: Session, letter: Letter) -> list[LetterEvent]:
    return list(db.scalars(select(LetterEvent).where(LetterEvent.letter_id == letter.id).order_by(LetterEvent.id)))


def clocks(db: Session, letter: Letter):
    """The letter's clocks, every step and round."""
    found = list(supervision.clocks_of_subjects(db, [ClockKind.MAILBOX_OFFICE.value], letter.number))
    for round_number in range(1, letter.rounds + 1):
        found += supervision.clocks_of_subjects(db, [ClockKind.MAILBOX_REPLY.value, ClockKind.MAILBOX_REVIEW.value],
                                                f"{letter.number}/{round_number}")
    return found


# ---- the steps -------------------------------------------------------------------------------------------

_ALLOWED = {
    LetterAction.ANSWER: (LetterStatus.RECEIVED,), LetterAction.ASSIGN: (LetterStatus.RECEIVED,),
    LetterAction.REPLY: (LetterStatus.ASSIGNED,), LetterAction.SEND: (LetterStatus.REPLIED,),
    LetterAction.RETURN: (LetterStatus.REPLIED,), LetterAction.PUBLISH: (LetterStatus.ANSWERED,),
}


def _check(letter: Letter, action: LetterAction, version: int | None) -> None:
    if letter.status not in _ALLOWED[action]:
        raise Problem("mailbox-state", f"来信 {letter.number} 当前为「{STATUS_LABELS[LetterStatus(letter.status)]}」，"
                      f"不能{ACTION_LABELS[action]}", status_value=letter.status)
    if version is not None and version != letter.version:
        raise Problem("conflict", f"来信 {letter.number} 已被他人处理，请刷新后再操作", current_version=letter.version)


def _trail(db: Session, letter: Letter, principal: Principal | None, action: LetterAction, note: str | None, *,
           department_id: int | None = None, actor_name: str | None = None) -> LetterEvent:
    event = LetterEvent(letter_id=letter.id, action=action.value, status=letter.status,
                        actor_account=principal.actor_id if principal else None,
                        actor_name=(actor_name or (principal.actor_name if principal else "来信人"))[:64],
                        department_id=department_id if department_id is not None else (principal.department_id if principal else None),
                        note=note, at=wall.now())
    db.add(event)
    db.flush()
    return event


def _done(db: Session, letter: Letter, principal: Principal, action: LetterAction, note: str | None, *,
          department_id: int | None = None) -> None:
    letter.updated_at = wall.now()
    _trail(db, letter, principal, action, note, department_id=department_id)
    audit.record(db, actor=principal, action=f"mailbox.letter.{action.value}", object_type="mailbox_letter",
                 object_id=letter.number, details={"status": letter.status})


def _tell_writer(db: Session, letter: Letter) -> None:
    if letter.writer_account:
        notifications.notify(db, department_id=None, account_id=letter.writer_account, kind="mailbox.reply",
                             title=f"您的来信已答复（{letter.number}）", body=f"您的来信「{letter.subject[:60]}」已答复，请在「我的来信」查看。",
                             link=f"/mailbox/mine/{letter.number}")


def answer(db: Session, principal: Principal, number: str, *, reply: str, version: int | None = None) -> Letter:
    """The letters office answers the letter itself."""
    text = _text(reply, "答复内容", "body.reply", MAX_REPLY)
    letter = letter_by_number(db, number, for_update=True)
    _check(letter, LetterAction.ANSWER, version)
    supervision.close_clock(db, ClockKind.MAILBOX_OFFICE, letter.number, on=wall.today(), outcome="answered")
    letter.status, letter.reply, letter.answered_at = LetterStatus.ANSWERED, text, wall.now()
    letter.replied_by = (principal.department_name or "信访办")[:100]
    _done(db, letter, principal, LetterAction.ANSWER, text)
    _tell_writer(db, letter)
    return letter


def _start_reply_clock(db: Session, letter: Letter) -> None:
    assert letter.department_id is not None and letter.limit_days is not None  # assigned
    letter.rounds += 1
    supervision.start_clock(db, kind=ClockKind.MAILBOX_REPLY, subject=_round(letter), title=_title(letter, "来信答复"),
                            department_id=letter.department_id, limit_days=letter.limit_days, started_on=wall.today(),
                            link=_link(letter), new_subject=True)
    notifications.notify(db, department_id=letter.department_id, role=Role.REVIEWER.value, kind="mailbox.assigned",
                         title=f"领导信箱交办：{letter.subject[:60]}（{letter.number}）",
                         body=f"请在 {letter.limit_days} 个工作日内答复，答复经信访办审核后发送来信人。", link=_link(letter))


def assign(db: Session, principal: Principal, number: str, *, department_code: str, limit_days: int = DEFAULT_REPLY_DAYS,
           note: str | None = None, version: int | None = None) -> Letter:
    """交办: the letter goes to a department, which replies within ``limit_days`` working days."""
    if not 1 <= limit_days <= MAX_REPLY_DAYS:
        raise invalid(f"办理期限应为 1 至 {MAX_REPLY_DAYS} 个工作日", "body.limit_days")
    if not department_code.strip():
        raise invalid("请选择交办部门", "body.department_code")
    department = org.get_by_code_or_404(db, department_code.strip())
    letter = letter_by_number(db, number, for_update=True)
    _check(letter, LetterAction.ASSIGN, version)
    supervision.close_clock(db, ClockKind.MAILBOX_OFFICE, letter.number, on=wall.today(), outcome="assigned")
    letter.status, letter.department_id, letter.limit_days = LetterStatus.ASSIGNED, department.id, limit_days
    _start_reply_clock(db, letter)
    _done(db, letter, principal, LetterAction.ASSIGN,
          f"交办{department.name}，{limit_days} 个工作日内答复" + (f"；{note.strip()[:1000]}" if note and note.strip() else ""),
          department_id=department.id)
    return letter


def reply(db: Session, principal: Principal, number: str, *, reply: str, version: int | None = None) -> Letter:
    """The department's reply, for the letters office to review."""
    text = _text(reply, "答复内容", "body.reply", MAX_REPLY)
    letter = letter_by_number(db, number, for_update=True)
    if not principal.can_for_department(Permission.MAILBOX_REPLY, letter.department_id):
        raise deny(db, principal, slug="department-scope", detail="该来信未交办给本部门", action="mailbox.letter.reply",
                   object_type="mailbox_letter", object_id=letter.number)
    _check(letter, LetterAction.REPLY, version)
    supervision.close_clock(db, ClockKind.MAILBOX_REPLY, _round(letter), on=wall.today(), outcome="replied")
    letter.status, letter.department_reply = LetterStatus.REPLIED, text
    supervision.start_clock(db, kind=ClockKind.MAILBOX_REVIEW, subject=_round(letter), title=_title(letter, "答复审核"),
                            department_id=_office(db), limit_days=REVIEW_DAYS, started_on=wall.today(), link=_link(letter),
                            new_subject=True)
    _done(db, letter, principal, LetterAction.REPLY, text, department_id=letter.department_id)
    notifications.notify(db, department_id=_office(db), role=Role.LETTERS_OFFICER.value, kind="mailbox.replied",
                         title=f"部门已答复来信，待审核（{letter.number}）", body=letter.subject[:200], link=_link(letter))
    return letter


def send(db: Session, principal: Principal, number: str, *, reply: str | None = None, version: int | None = None) -> Letter:
    """The office reviews the department's reply (edited or as it is) and sends it to the writer."""
    letter = letter_by_number(db, number, for_update=True)
    _check(letter, LetterAction.SEND, version)
    text = _text(reply, "答复内容", "body.reply", MAX_REPLY) if reply and reply.strip() else letter.department_reply or ""
    supervision.close_clock(db, ClockKind.MAILBOX_REVIEW, _round(letter), on=wall.today(), outcome="sent")
    department = org.get(db, letter.department_id) if letter.department_id else None
    letter.status, letter.reply, letter.answered_at = LetterStatus.ANSWERED, text, wall.now()
    letter.replied_by = (department.name if department else principal.department_name or "信访办")[:100]
    _done(db, letter, principal, LetterAction.SEND, None if text == letter.department_reply else "审核时修改了答复内容")
    _tell_writer(db, letter)
    return letter


def return_reply(db: Session, principal: Principal, number: str, *, reason: str, version: int | None = None) -> Letter:
    """The office sends the department's reply back, with the reason: a new round, on a new clock."""
    why = _text(reason, "退回理由", "body.reason", 1000)
    letter = letter_by_number(db, number, for_update=True)
    _check(letter, LetterAction.RETURN, version)
    supervision.close_clock(db, ClockKind.MAILBOX_REVIEW, _round(letter), on=wall.today(), outcome="returned")
    letter.status = LetterStatus.ASSIGNED
    _start_reply_clock(db, letter)
    _done(db, letter, principal, LetterAction.RETURN, why, department_id=letter.department_id)
    return letter


def mark_for_leader(db: Session, principal: Principal, number: str, *, note: str | None = None) -> Letter:
    """呈报领导: the letter is put before the leader (the office's filtered list), whatever its state."""
    letter = letter_by_number(db, number, for_update=True)
    if letter.for_leader:
        raise Problem("mailbox-state", f"来信 {letter.number} 已呈报领导")
    letter.for_leader = True
    _done(db, letter, principal, LetterAction.LEADER, note.strip()[:1000] if note and note.strip() else None)
    return letter


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


def publish(db: Session, principal: Principal, number: str, *, version: int | None = None) -> Letter:
    """选登: an answered letter whose writer consented, published with personal data removed."""
    letter = letter_by_number(db, number, for_update=True)
    if not letter.consent:
        raise Problem("mailbox-no-consent", f"来信 {letter.number} 的来信人未同意公开，不能选登")
    _check(letter, LetterAction.PUBLISH, version)
    letter.public_subject, letter.public_body, letter.public_reply = public_texts(db, letter)
    letter.status, letter.published_at = LetterStatus.PUBLISHED, wall.now()
    _done(db, letter, principal, LetterAction.PUBLISH, None)
    return letter

