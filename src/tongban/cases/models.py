"""办件: applications for one item or a bundle, their process, department tasks, clock and results.

The process state lives with the application (SpiffWorkflow's serialized workflow, spec included,
so a running case keeps the process version it started with); ``case_tasks`` mirrors the open
user tasks so each department's queue is one indexed query.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.core.db.base import Base, UTCDateTime

if TYPE_CHECKING:  # for the annotations only: the relationship names org's class by its string name
    from tongban.org.models import Department


class ProcessDefinitionRow(Base):
    """A BPMN process uploaded by the e-government office; each upload of a key is a new version."""

    __tablename__ = "case_process_definitions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    # Deferred, as is an application's process state: tens of kilobytes each, needed only to start
    # or advance a case, while every task and application listing joins these rows.
    bpmn: Mapped[str] = mapped_column(Text, deferred=True)
    item_codes: Mapped[str] = mapped_column(Text)  # JSON list, review tasks in order
    uploaded_by: Mapped[str] = mapped_column(String(128))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"  # waits for acceptance (受理)
    RETURNED = "returned"  # 一次性告知补正 at acceptance: the applicant completes it and resubmits
    NOT_ACCEPTED = "not_accepted"  # 不予受理, with the reason
    PROCESSING = "processing"  # accepted: departments work, the clock runs
    SUPPLEMENT = "supplement"  # a department asked for a supplement: the clock is paused
    APPROVED = "approved"  # 办结（准予）
    REFUSED = "refused"  # 办结（不予许可）


STATUS_LABELS = {ApplicationStatus.SUBMITTED: "待受理", ApplicationStatus.RETURNED: "待补正（受理前）",
                 ApplicationStatus.NOT_ACCEPTED: "不予受理", ApplicationStatus.PROCESSING: "办理中",
                 ApplicationStatus.SUPPLEMENT: "待补正（办理中，时限暂停）", ApplicationStatus.APPROVED: "已办结（准予）",
                 ApplicationStatus.REFUSED: "已办结（不予许可）"}
FINISHED = (ApplicationStatus.NOT_ACCEPTED, ApplicationStatus.APPROVED, ApplicationStatus.REFUSED)


class Application(Base):
    __tablename__ = "case_applications"
    __table_args__ = (UniqueConstraint("submitted_by", "idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # BJ-20261122-7K3M9Q
    subject_kind: Mapped[str] = mapped_column(String(8))  # item | bundle
    subject_code: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(8))  # online | window
    applicant_type: Mapped[str] = mapped_column(String(8))  # 自然人 | 法人
    applicant_id: Mapped[str] = mapped_column(String(18), index=True)  # resident ID or credit code
    applicant_name: Mapped[str] = mapped_column(String(128))
    applicant_account: Mapped[str | None] = mapped_column(String(64), index=True)  # the portal user, if any
    submitted_by: Mapped[str] = mapped_column(String(64))  # the account (citizen, enterprise or clerk)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    # SHA-256 of the request that used the key (core.idempotency): the same key with another body is refused.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    form: Mapped[str] = mapped_column(Text)  # JSON: the one form, field → value
    materials: Mapped[str] = mapped_column(Text)  # JSON list: what was provided and how
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_reason: Mapped[str | None] = mapped_column(String(2000))
    definition_id: Mapped[int] = mapped_column(ForeignKey("case_process_definitions.id"))
    workflow: Mapped[str | None] = mapped_column(Text, deferred=True)  # SpiffWorkflow state; set at acceptance
    accepted_on: Mapped[date | None] = mapped_column(Date)
    # committed working days of the whole case; its deadline (due date, pauses) is its supervision clock's
    limit_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    definition: Mapped[ProcessDefinitionRow] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": row_version}


class TaskStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"
    CANCELLED = "cancelled"  # the case ended elsewhere (a refusal in another branch)


TASK_STATUS_LABELS = {TaskStatus.OPEN: "待认领", TaskStatus.CLAIMED: "办理中", TaskStatus.DONE: "已办理",
                      TaskStatus.CANCELLED: "已终止"}
DECISION_LABELS = {"approve": "同意", "refuse": "不予许可", "supplement": "退回补正", "supplied": "已补正"}


class CaseTask(Base):
    __tablename__ = "case_tasks"
    __table_args__ = (Index("ix_case_tasks_queue", "department_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("case_applications.id"), index=True)
    engine_task_id: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))  # review | supplement
    item_code: Mapped[str] = mapped_column(String(12))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # None: the applicant's
    status: Mapped[str] = mapped_column(String(12))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decision: Mapped[str | None] = mapped_column(String(12))
    opinion: Mapped[str | None] = mapped_column(String(2000))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remind_on: Mapped[date | None] = mapped_column(Date, index=True)  # the process's reminder timer, in working days
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    application: Mapped[Application] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship("Department", lazy="joined")

    __mapper_args__ = {"version_id_col": row_version}


class CaseStep(Base):
    """The application's timeline, as the applicant and the staff see it."""

    __tablename__ = "case_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("case_applications.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    department_code: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(String(2000))


class Licence(Base):
    """电子证照: a result document with a number, issued when its item is approved."""

    __tablename__ = "case_licences"
    # A holder's licences newest first, read at every application form and submission (免提交):
    # the index gives them in order, so a holder with thousands reads only the newest it needs.
    __table_args__ = (Index("ix_case_licences_holder", "holder_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("case_applications.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(200))
    holder_id: Mapped[str] = mapped_column(String(18))
    holder_name: Mapped[str] = mapped_column(String(128))
    issued_by: Mapped[str] = mapped_column(String(128))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The last day it is valid (Beijing date); None: valid without a time limit (长期有效).
    valid_until: Mapped[date | None] = mapped_column(Date)
    # Revoked by the issuing department (撤销/吊销): the public check says so, with the reason.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
