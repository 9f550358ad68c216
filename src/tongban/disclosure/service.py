"""What the disclosure catalog does for others and for its own pages: the annual report's
主动公开 figures, the public catalog's lists and counts, and the subscriptions (市民信箱)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from tongban.core import audit, clock
from tongban.core.auth import Principal
from tongban.core.db.base import affected
from tongban.core.errors import Problem
from tongban.disclosure.documents import public_query
from tongban.disclosure.models import DisclosureDocument, DisclosureSubscription
from tongban.disclosure.schemas import (
    GENRE_LABELS, THEME_LABELS, DocumentStatus, Openness, ProactiveFigures, SubscriptionKind, Theme, Validity,
)
from tongban.org import service as org

_PUBLISHED = (DocumentStatus.PUBLISHED, DocumentStatus.WITHDRAWN)  # withdrawn ones were published in their year


def proactive_figures(db: Session, *, year: int, department_id: int | None) -> ProactiveFigures:
    """主动公开情况 of ``year`` (one department, or every one): 主动公开 documents first published in
    the year (a later withdrawal does not unpublish the past), by 体裁; and those in force at the
    year's end (published by then, still published, still 有效)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    proactive = [DisclosureDocument.openness == Openness.PROACTIVE]
    if department_id is not None:
        proactive.append(DisclosureDocument.department_id == department_id)
    by_genre_rows = db.execute(
        select(DisclosureDocument.genre, func.count()).where(
            *proactive, DisclosureDocument.status.in_(_PUBLISHED),
            DisclosureDocument.published_on >= start, DisclosureDocument.published_on <= end)
        .group_by(DisclosureDocument.genre)).all()
    by_genre = {GENRE_LABELS[genre]: count for genre, count in by_genre_rows}
    in_force = db.scalar(select(func.count()).select_from(DisclosureDocument).where(
        *proactive, DisclosureDocument.status == DocumentStatus.PUBLISHED,
        DisclosureDocument.validity == Validity.IN_FORCE, DisclosureDocument.published_on <= end)) or 0
    return ProactiveFigures(published_total=sum(by_genre.values()), by_genre=by_genre, in_force_total=in_force)


# ---- the public catalog ----------------------------------------------------------------------


def catalog_query(*, department_id: int | None = None, theme: str | None = None) -> Select:
    query = public_query()
    if department_id is not None:
        query = query.where(DisclosureDocument.department_id == department_id)
    if theme is not None:
        query = query.where(DisclosureDocument.theme == theme)
    return query


def counts_by_department(db: Session) -> list[tuple[str, str, int]]:
    """(code, name, published documents) of every department that has published any, by name."""
    rows = db.execute(select(DisclosureDocument.department_id, func.count()).where(
        DisclosureDocument.status == DocumentStatus.PUBLISHED).group_by(DisclosureDocument.department_id)).all()
    counts = dict(rows)
    departments = [d for d in org.list_all(db) if d.id in counts]
    return sorted(((d.code, d.name, counts[d.id]) for d in departments), key=lambda row: row[0])


def counts_by_theme(db: Session) -> list[tuple[str, str, int]]:
    """(code, label, published documents) of every theme, in the catalog's order."""
    counts = dict(db.execute(select(DisclosureDocument.theme, func.count()).where(
        DisclosureDocument.status == DocumentStatus.PUBLISHED).group_by(DisclosureDocument.theme)).all())
    return [(theme.value, THEME_LABELS[theme], counts.get(theme.value, 0)) for theme in Theme]


def latest(db: Session, *, limit: int = 10, department_id: int | None = None, theme: str | None = None
           ) -> list[DisclosureDocument]:
    query = catalog_query(department_id=department_id, theme=theme)
    return list(db.scalars(query.order_by(DisclosureDocument.published_at.desc(), DisclosureDocument.id.desc())
                           .limit(limit)))


# ---- subscriptions (市民信箱) -----------------------------------------------------------------


def target_name(db: Session, kind: str, target: str) -> str | None:
    """The department's name or the theme's label; None when there is no such one."""
    if kind == SubscriptionKind.THEME:
        return THEME_LABELS.get(target)
    department = org.get_by_code(db, target)
    return department.name if department is not None else None


def subscriptions_of(db: Session, principal: Principal) -> list[DisclosureSubscription]:
    return list(db.scalars(select(DisclosureSubscription).where(DisclosureSubscription.account_id == principal.actor_id)
                           .order_by(DisclosureSubscription.id)))


def subscribe(db: Session, principal: Principal, *, kind: SubscriptionKind, target: str) -> DisclosureSubscription:
    """Follow a department or a theme; following it again changes nothing."""
    if target_name(db, kind, target) is None:
        raise Problem("validation-error", f"没有可订阅的{'主题' if kind == SubscriptionKind.THEME else '部门'}：{target}",
                      errors=[{"field": "body.target", "code": "unknown_target", "message": target}])
    existing = db.scalar(select(DisclosureSubscription).where(
        DisclosureSubscription.account_id == principal.actor_id, DisclosureSubscription.kind == kind,
        DisclosureSubscription.target == target))
    if existing is not None:
        return existing
    subscription = DisclosureSubscription(account_id=principal.actor_id, kind=kind, target=target, created_at=clock.now())
    db.add(subscription)
    db.flush()
    audit.record(db, actor=principal, action="disclosure.subscribe", object_type="disclosure_subscription",
                 object_id=str(subscription.id), details={"kind": kind.value, "target": target})
    return subscription


def unsubscribe(db: Session, principal: Principal, subscription_id: int) -> None:
    """Stop following; someone else's subscription is answered as if it did not exist."""
    removed = affected(db, delete(DisclosureSubscription).where(DisclosureSubscription.id == subscription_id,
                                                                DisclosureSubscription.account_id == principal.actor_id))
    if not removed:
        raise Problem("not-found", f"没有编号为 {subscription_id} 的订阅")
    audit.record(db, actor=principal, action="disclosure.unsubscribe", object_type="disclosure_subscription",
                 object_id=str(subscription_id))
