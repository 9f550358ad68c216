"""事项库: service items with their versions, the search synonyms staff manage, tailored notices,
the per-item FAQ and the consultation queue.

An item's content (situations, materials, relations ...) is one JSON document per version, in the
national item elements (see ``content.py``): it is reviewed, versioned and published as a whole,
and a tailored notice records the version it was made from.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.core.db.base import Base, UTCDateTime

if TYPE_CHECKING:  # for the annotations only: the relationship names org's class by its string name
    from tongban.org.models import Department


class VersionStatus(StrEnum):
    DRAFT = "draft"  # being edited by the department
    IN_REVIEW = "in_review"  # submitted; the e-government office reviews it
    RETURNED = "returned"  # sent back with a comment; editable again
    PUBLISHED = "published"  # the version citizens see
    SUPERSEDED = "superseded"  # was published, replaced by a later version


VERSION_STATUS_LABELS = {VersionStatus.DRAFT: "草稿", VersionStatus.IN_REVIEW: "待审核", VersionStatus.RETURNED: "已退回",
                         VersionStatus.PUBLISHED: "已发布", VersionStatus.SUPERSEDED: "已被替代"}
EDITABLE = (VersionStatus.DRAFT, VersionStatus.RETURNED)


class ServiceItem(Base):
    __tablename__ = "service_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    basic_code: Mapped[str] = mapped_column(String(12), unique=True)  # 基本编码
    name: Mapped[str] = mapped_column(String(200))  # of the latest version, for lists
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    published_version: Mapped[int | None] = mapped_column(Integer)
    latest_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    department: Mapped[Department] = relationship("Department", lazy="joined")

    __mapper_args__ = {"version_id_col": row_version}


class ServiceItemVersion(Base):
    __tablename__ = "service_item_versions"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    content: Mapped[str] = mapped_column(Text)  # the item document, canonical JSON
    author: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewer: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_comment: Mapped[str | None] = mapped_column(String(1000))

    item: Mapped[ServiceItem] = relationship(lazy="joined")


class SearchSynonym(Base):
    """A colloquial phrase and the government words it means ("开饭店" → 食品经营, 餐饮)."""

    __tablename__ = "item_search_synonyms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phrase: Mapped[str] = mapped_column(String(50), unique=True)
    expansions: Mapped[str] = mapped_column(Text)  # JSON list of words
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ItemNotice(Base):
    """A tailored notice (智能告知单): what one applicant in one situation must bring, kept as issued."""

    __tablename__ = "item_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # GZ-20261122-7K3M9Q
    item_code: Mapped[str] = mapped_column(String(12), index=True)
    item_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[str] = mapped_column(Text)  # JSON list of answer ids, in the order asked
    content: Mapped[str] = mapped_column(Text)  # the notice as issued, JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FaqOrigin(StrEnum):
    AUTHORED = "authored"
    CONSULTATION = "consultation"  # promoted from a person's answer in the queue


class FaqStatus(StrEnum):
    DRAFT = "draft"  # promoted from a person's answer; a reviewer has not approved it yet
    PUBLISHED = "published"  # answers the public
    REJECTED = "rejected"  # the reviewer kept it from the public


FAQ_STATUS_LABELS = {FaqStatus.DRAFT: "待审核", FaqStatus.PUBLISHED: "已公开", FaqStatus.REJECTED: "未采用"}


class ItemFaq(Base):
    __tablename__ = "item_faqs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_code: Mapped[str] = mapped_column(String(12), index=True)
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True, default=FaqStatus.PUBLISHED,
                                        server_default=FaqStatus.PUBLISHED.value)
    reviewed_by: Mapped[str | None] = mapped_column(String(128))


class ConsultationStatus(StrEnum):
    ANSWERED_BY_FAQ = "faq"  # the FAQ answered with enough confidence
    OPEN = "open"  # handed over to the department's consultation queue
    ANSWERED = "answered"  # a person answered


CONSULTATION_STATUS_LABELS = {ConsultationStatus.ANSWERED_BY_FAQ: "已自动答复", ConsultationStatus.OPEN: "待人工答复",
                              ConsultationStatus.ANSWERED: "已人工答复"}


class Consultation(Base):
    __tablename__ = "item_consultations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # ZX-20261122-4XK2PA
    item_code: Mapped[str | None] = mapped_column(String(12), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    question: Mapped[str] = mapped_column(String(500))
    contact: Mapped[str | None] = mapped_column(String(100))
    asked_by: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), index=True)
    confidence: Mapped[float] = mapped_column(Float)  # of the best FAQ answer
    due_on: Mapped[date | None] = mapped_column(Date)  # for a person's answer, in working days
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(128))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promoted_faq_id: Mapped[int | None] = mapped_column(ForeignKey("item_faqs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    department: Mapped[Department] = relationship("Department", lazy="joined")

    __mapper_args__ = {"version_id_col": row_version}
