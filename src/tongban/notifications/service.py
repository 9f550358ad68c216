"""The one way to notify: a row the recipients' workbench lists (and, later, other channels).

One notice at a time (``notify``), several given at once (``notify_many``), or as many as a
SELECT chooses, in one INSERT … SELECT (``notify_selected``: a scan telling thousands of people).
No other module writes the notifications table.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, String, and_, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from tongban.core.auth import Principal
from tongban.core.db.base import UTCDateTime, affected
from tongban.core.errors import Problem
from tongban.core.pagination import paginate
from tongban.core.permissions import Permission, Scope
from tongban.core.sms import SmsSender
from tongban.notifications.models import Notification, ReadMark, TextMessage
from tongban.core import clock

log = logging.getLogger("tongban.notifications")

# What a SELECT given to ``notify_selected`` returns, in this order (``created_at`` is added).
SELECTED_COLUMNS = ("department_id", "role", "account_id", "title", "body", "link", "kind")


def notify(db: Session, *, department_id: int | None, title: str, body: str, kind: str, link: str | None = None,
           role: str | None = None, account_id: str | None = None) -> Notification:
    """Notify a department (or only one role in it), or one account, in the caller's transaction."""
    notification = Notification(department_id=department_id, role=role, account_id=account_id, title=title[:200],
                                body=body[:2000], link=link, kind=kind, created_at=clock.now())
    db.add(notification)
    return notification


# ---- text messages (短信) ---------------------------------------------------------------------------------

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
TEXT_ATTEMPTS = 5  # a text the gateway refused this often is given up (its last error kept)
TEXT_CLAIM = timedelta(minutes=5)  # a text claimed this long ago and not sent (the sender died) is claimed again
MAX_TEXT = 300


def text(db: Session, *, phone: str | None, message: str, kind: str, ref: str | None = None) -> TextMessage | None:
    """A text message to a mobile phone, in the caller's transaction; sent after commit by
    ``send_texts``. A landline or a malformed number receives none (None)."""
    digits = re.sub(r"[\s-]", "", phone or "")
    digits = digits[3:] if digits.startswith("+86") else digits
    if not _MOBILE.match(digits):
        return None
    message = " ".join(message.split())
    row = TextMessage(phone=digits, message=message if len(message) <= MAX_TEXT else message[:MAX_TEXT - 1] + "…",
                      kind=kind[:40], ref=ref[:64] if ref else None, created_at=clock.now(), attempts=0)
    db.add(row)
    return row


def send_texts(sessionmaker, sender: SmsSender, *, batch: int = 50) -> int:
    """Send the waiting texts, oldest first; how many were sent. Each is claimed in a transaction of
    its own before it is sent (two processes never send the same one) and marked sent once the
    sender accepted it; one the sender refused waits for the next round, up to ``TEXT_ATTEMPTS``.
    A process that dies between sending and marking sends it again later: at least once."""
    with sessionmaker() as db:
        waiting = list(db.scalars(select(TextMessage.id).where(TextMessage.sent_at.is_(None),
                                                                 TextMessage.attempts < TEXT_ATTEMPTS)
                                  .order_by(TextMessage.id).limit(batch)))
    sent = 0
    for text_id in waiting:
        with sessionmaker() as db:
            now = clock.now()
            claimed = affected(db, update(TextMessage).where(
                TextMessage.id == text_id, TextMessage.sent_at.is_(None), TextMessage.attempts < TEXT_ATTEMPTS,
                or_(TextMessage.claimed_at.is_(None), TextMessage.claimed_at < now - TEXT_CLAIM))
                .values(claimed_at=now, attempts=TextMessage.attempts + 1))
            db.commit()
            if not claimed:
                continue  # another process took it
            phone, message = db.execute(select(TextMessage.phone, TextMessage.message).where(TextMessage.id == text_id)).one()
            try:
                sender.send(phone, message)
            except Exception as error:  # the gateway refused or is away: the next round tries again
                log.warning("text not sent", extra={"text": text_id, "error": type(error).__name__})
                db.execute(update(TextMessage).where(TextMessage.id == text_id)
                           .values(claimed_at=None, last_error=str(getattr(error, "detail", error))[:200]))
                db.commit()
                continue
            db.execute(update(TextMessage).where(TextMessage.id == text_id).values(sent_at=clock.now(), last_error=None))
            db.commit()
            sent += 1
    return sent


@dataclass(frozen=True)
class Notice:
    """One notice of ``notify_many``: to a department (or one role in it), or to one account."""

    department_id: int | None
    title: str
    body: str
    kind: str
    link: str | None = None
    role: str | None = None
    account_id: str | None = None


def notify_many(db: Session, notices: Iterable[Notice], *, at: datetime | None = None) -> int:
    """Several notices in one statement, in the caller's transaction; how many were sent."""
    created_at = at or clock.now()
    rows = [{**asdict(n), "title": n.title[:200], "body": n.body[:2000], "created_at": created_at} for n in notices]
    if rows:
        db.execute(insert(Notification), rows)
    return len(rows)


def notify_selected(db: Session, chosen: Select, *, at: datetime | None = None) -> int:
    """As many notices as ``chosen`` selects (its columns: ``SELECTED_COLUMNS``, in that order,
    the title within 200 characters and the body within 2000), in one INSERT … SELECT in the
    caller's transaction; how many were sent. ``at``: their moment (by default, now)."""
    rows = chosen.add_columns(literal(at or clock.now(), UTCDateTime))
    return affected(db, insert(Notification).from_select([*SELECTED_COLUMNS, "created_at"], rows))


def addressed_to(principal: Principal) -> ColumnElement[bool]:
    """The notices that are this person's: addressed to their account, or to their department
    (and role, if one is named) without naming anybody. One rule for the list, the count and the
    read marks, so a person never sees, counts or marks another's."""
    mine = Notification.account_id == principal.actor_id
    scope = principal.scope_for(Permission.NOTIFICATIONS_READ)
    if scope is None or scope == Scope.SELF:  # citizens and enterprises: what is addressed to their account
        return mine
    if scope == Scope.ALL:  # the e-government office: also what is addressed to no department
        department = or_(Notification.department_id == principal.department_id, Notification.department_id.is_(None))
    else:
        department = Notification.department_id == principal.department_id
    to_everyone_there = and_(Notification.account_id.is_(None), department,
                             or_(Notification.role.is_(None), Notification.role.in_(principal.roles)))
    return or_(mine, to_everyone_there)


def _read_by(principal: Principal):
    return exists().where(ReadMark.notification_id == Notification.id,
                          ReadMark.account_id == principal.actor_id)


def for_principal(db: Session, principal: Principal, *, limit: int = 50) -> list[Notification]:
    """The latest notices of this person, newest first."""
    query = select(Notification).where(addressed_to(principal)).order_by(Notification.id.desc()).limit(limit)
    return list(db.scalars(query))


@dataclass(frozen=True)
class Inbox:
    """One page of a person's notices, newest first, with what they have read of it."""

    notifications: list[Notification]
    read: set[int]
    total: int  # of the notices asked for (all, or the unread), on every page
    unread: int  # of all the person's notices
    next_cursor: str | None


def inbox(db: Session, principal: Principal, *, unread_only: bool = False, cursor: str | None = None,
          limit: int = 20) -> Inbox:
    query = select(Notification).where(addressed_to(principal))
    if unread_only:
        query = query.where(~_read_by(principal))
    rows, next_cursor = paginate(db, query, Notification.id, cursor=cursor, limit=limit)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    read = set(db.scalars(select(ReadMark.notification_id).where(
        ReadMark.account_id == principal.actor_id,
        ReadMark.notification_id.in_([n.id for n in rows])))) if rows else set()
    return Inbox(rows, read, total, total if unread_only else unread_count(db, principal), next_cursor)


def unread_count(db: Session, principal: Principal) -> int:
    """How many of this person's notices they have not read (the bell's number)."""
    if not principal.can(Permission.NOTIFICATIONS_READ):
        return 0
    return db.scalar(select(func.count()).select_from(Notification)
                     .where(addressed_to(principal), ~_read_by(principal))) or 0


def mark_read(db: Session, principal: Principal, notification_id: int) -> Notification:
    """Mark one of this person's notices read (again: no change). Someone else's notice is
    answered as if it did not exist, and nothing is written."""
    found = db.scalar(select(Notification).where(Notification.id == notification_id, addressed_to(principal)))
    if found is None:
        raise Problem("not-found", f"没有编号为 {notification_id} 的通知")
    if db.get(ReadMark, (found.id, principal.actor_id)) is None:
        db.add(ReadMark(notification_id=found.id, account_id=principal.actor_id, read_at=clock.now()))
        db.flush()
    return found


def mark_all_read(db: Session, principal: Principal) -> int:
    """Mark every unread notice of this person read, in one INSERT … SELECT; how many."""
    unread = select(Notification.id, literal(principal.actor_id, String), literal(clock.now(), UTCDateTime)).where(
        addressed_to(principal), ~_read_by(principal))
    return affected(db, insert(ReadMark).from_select(["notification_id", "account_id", "read_at"], unread))
