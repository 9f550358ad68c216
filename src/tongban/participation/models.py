"""政民互动: online participation — surveys (网上调查), comment solicitations on a draft policy
(网上征求意见) and online interviews (在线访谈), one table of topics with their kind.

A topic belongs to a department, which writes it, publishes it and answers it. Its period (opens,
closes) is when the public may take part: answer the survey, comment on the draft, put questions to
the interview's guests in advance. Whether a topic is open is computed from the period and the
platform's clock, never stored; what staff decide is stored: published, closed early, results or
summary published.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db.base import Base, UTCDateTime


class Kind(StrEnum):
    SURVEY = "survey"  # 网上调查
    SOLICITATION = "solicitation"  # 网上征求意见
    INTERVIEW = "interview"  # 在线访谈


class Status(StrEnum):
    DRAFT = "draft"  # 草稿: staff only
    PUBLISHED = "published"  # 已发布: on the portal; open during its period


class QuestionKind(StrEnum):
    SINGLE = "single"  # 单选
    MULTIPLE = "multiple"  # 多选
    TEXT = "text"  # 填空（自由文本）


class Decision(StrEnum):
    ADOPTED = "adopted"  # 采纳
    PARTLY = "partly"  # 部分采纳
    NOT_ADOPTED = "not_adopted"  # 未采纳


class Topic(Base):
    """One survey, draft policy under comment or interview of a department."""

    __tablename__ = "participation_topics"
    __table_args__ = (Index("ix_participation_topics_listing", "status", "kind", "opens_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # Kind
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # the survey's introduction, the draft's text, the interview's topic
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the interview's time
    guests: Mapped[str | None] = mapped_column(String(500))  # the interview's guests (name, post)
    status: Mapped[str] = mapped_column(String(16), default=Status.DRAFT)
    closed_early_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # staff closed it before its period ended
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # results, 采纳情况, transcript
    summary: Mapped[str | None] = mapped_column(Text)  # the adoption summary's preface; the interview's transcript
    attachment_name: Mapped[str | None] = mapped_column(String(200))  # the draft's PDF, as uploaded
    attachment_path: Mapped[str | None] = mapped_column(String(300))  # under data_dir
    attachment_size: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Question(Base):
    """A survey's question, in its order."""

    __tablename__ = "participation_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("participation_topics.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # QuestionKind
    text: Mapped[str] = mapped_column(String(300))
    required: Mapped[bool] = mapped_column(Boolean, default=True)


class Option(Base):
    """One option of a choice question, in its order."""

    __tablename__ = "participation_options"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("participation_questions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))


class Response(Base):
    """One account's answers to one survey: one per account (the unique key says so on both engines)."""

    __tablename__ = "participation_responses"
    __table_args__ = (UniqueConstraint("topic_id", "account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("participation_topics.id", ondelete="CASCADE"))
    account: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Answer(Base):
    """One chosen option, or one free-text answer, of a response."""

    __tablename__ = "participation_answers"
    __table_args__ = (Index("ix_participation_answers_question", "question_id", "option_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("participation_responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("participation_questions.id", ondelete="CASCADE"))
    option_id: Mapped[int | None] = mapped_column(ForeignKey("participation_options.id", ondelete="CASCADE"))
    text: Mapped[str | None] = mapped_column(Text)


class Comment(Base):
    """A comment on a draft (征求意见), or a question put in advance to an interview (在线访谈):
    from a signed-in account, or from a person who left a name and a contact. Never published with
    either; an interview's question is published, redacted, only when staff answered it."""

    __tablename__ = "participation_comments"
    __table_args__ = (Index("ix_participation_comments_topic", "topic_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("participation_topics.id", ondelete="CASCADE"))
    account: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    contact: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("participation_adoptions.id", ondelete="SET NULL"))
    selected: Mapped[bool] = mapped_column(Boolean, default=False)  # an interview's question chosen to answer
    answer: Mapped[str | None] = mapped_column(Text)  # the guests' answer
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Adoption(Base):
    """One group of comments and what the department made of it (采纳情况): adopted, partly, or not, and why."""

    __tablename__ = "participation_adoptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("participation_topics.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(200))  # what the comments of the group asked for
    decision: Mapped[str] = mapped_column(String(16))  # Decision
    reason: Mapped[str] = mapped_column(Text)
