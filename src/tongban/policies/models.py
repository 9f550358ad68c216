"""智能匹配 tables: policies (a draft beside the published version, every published version kept),
the named profiles conditions may include, and the stored matches of each published policy.

A policy's content (title, conditions …) is a ``PolicyIn`` document stored as JSON: the draft staff
edit, and the published copy matching reads. Publishing copies the draft, adds a version and
matches every subject again; the draft can then be edited without touching what is published.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db.base import Base, UTCDateTime


class Policy(Base):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # ZC-2026-0001
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    target: Mapped[str] = mapped_column(String(16))  # Target
    status: Mapped[str] = mapped_column(String(16))  # draft | published | withdrawn
    version: Mapped[int] = mapped_column(Integer, default=0)  # of the published content; 0: never published
    draft: Mapped[str | None] = mapped_column(Text)  # PolicyIn JSON being edited; None: nothing pending
    published: Mapped[str | None] = mapped_column(Text)  # PolicyIn JSON that matching reads
    claim_item: Mapped[str | None] = mapped_column(String(12), index=True)  # the published version's 申报事项
    drafted_by: Mapped[str] = mapped_column(String(64))  # the account that last wrote the draft
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[str | None] = mapped_column(String(64))
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last full match
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}


class PolicyVersion(Base):
    """Each published version, as it was published."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("policy_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(64))


class Profile(Base):
    """A named group of conditions (小微企业, 困难家庭 …) that policies include by code."""

    __tablename__ = "policy_profiles"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(16))
    conditions: Mapped[str] = mapped_column(Text)  # Group JSON
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}


class Match(Base):
    """A subject that a published policy applies to (eligible), may apply to (unknown facts) or
    nearly does (one condition short), with the checks that say why; subjects that simply do not
    qualify are not stored."""

    __tablename__ = "policy_matches"
    __table_args__ = (UniqueConstraint("policy_id", "subject_key"),
                      Index("ix_policy_matches_subject", "subject_key", "verdict"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    subject_key: Mapped[str] = mapped_column(String(18))  # 统一社会信用代码 | 公民身份号码
    subject_name: Mapped[str | None] = mapped_column(String(150))
    verdict: Mapped[str] = mapped_column(String(16))  # Verdict (never ineligible)
    checks: Mapped[str] = mapped_column(Text)  # JSON list of Check
    policy_version: Mapped[int] = mapped_column(Integer)
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    contact: Mapped[str] = mapped_column(String(16), default="untold")  # ContactStatus
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
