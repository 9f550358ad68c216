"""Registry tables: the current state of each registry (typed columns built from the schema),
the version history of every record, correction requests and import jobs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger, Boolean, Column, Date, Float, Index, Integer, Numeric, String, Table, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db.base import Base, UTCDateTime
from tongban.registry.schemas import REGISTRIES, Field, Registry

_SEARCHABLE = {"persons": ("name",), "legal_entities": ("name", "legal_representative_id"),
               "addresses": ("community_code", "road")}


def _column_type(field: Field):
    if field.kind == "text":
        return Text() if field.max_length > 500 else String(field.max_length)
    if field.kind == "date":
        return Date()
    if field.kind == "decimal":
        return Numeric(20, 4)
    if field.kind == "int":
        return Integer()
    if field.kind == "float":
        return Float()
    if field.kind in ("resident_id", "credit_code"):
        return String(18)
    return String(max(32, max((len(c) for c in field.choices), default=0)))


def _table(registry: Registry) -> Table:
    columns = [Column(f.name, _column_type(f), primary_key=f.name == registry.key, nullable=f.name != registry.key)
               for f in registry.fields]
    return Table(
        registry.name, Base.metadata, *columns,
        Column("version", Integer, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        Column("updated_by", String(32), nullable=False),  # the department code of the last change
        # Where the current values last came from an import: finds duplicates inside one file
        # without holding the file's keys in memory, and lets a killed import resume.
        Column("import_job", String(36)),
        Column("import_line", BigInteger),
        *[Index(f"ix_{registry.name}_{name}", name) for name in _SEARCHABLE[registry.name]],
        # A point registry (the addresses) is read by bounding box: a range of longitudes, each
        # entry's latitude checked in the index.
        *([Index(f"ix_{registry.name}_point", *registry.point)] if registry.point else []),
    )


TABLES: dict[str, Table] = {name: _table(registry) for name, registry in REGISTRIES.items()}


class RecordVersion(Base):
    """Every version of every record: the full values after the change, who, why and when."""

    __tablename__ = "registry_versions"
    # One index serves history (by version) and as-of reads (a record has few versions to scan).
    __table_args__ = (UniqueConstraint("registry_name", "record_key", "version", name="uq_registry_versions_record"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    registry_name: Mapped[str] = mapped_column(String(20))
    record_key: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)  # JSON of every field's text value
    changed_fields: Mapped[str] = mapped_column(Text)  # JSON list
    department_code: Mapped[str] = mapped_column(String(32))
    actor_name: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(500))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CorrectionRequest(Base):
    """纠错: a proposal to the authoritative source to change one field of one record."""

    __tablename__ = "correction_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registry_name: Mapped[str] = mapped_column(String(20))
    record_key: Mapped[str] = mapped_column(String(32), index=True)
    field: Mapped[str] = mapped_column(String(40))
    current_value: Mapped[str | None] = mapped_column(String(2000))
    proposed_value: Mapped[str | None] = mapped_column(String(2000))
    reason: Mapped[str] = mapped_column(String(500))
    evidence: Mapped[str | None] = mapped_column(String(500))
    requester_name: Mapped[str] = mapped_column(String(128))
    requester_department: Mapped[str | None] = mapped_column(String(32))
    source_department: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | accepted | rejected
    due_on: Mapped[date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}


class ImportJob(Base):
    """One bulk import of a CSV/XLSX file; its checkpoint makes a killed import resumable."""

    __tablename__ = "import_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    registry_name: Mapped[str] = mapped_column(String(20))
    source_department: Mapped[str] = mapped_column(String(32))
    actor_name: Mapped[str] = mapped_column(String(128))
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # running | completed | failed | refused | interrupted
    committed_line: Mapped[int] = mapped_column(BigInteger, default=0)  # last data line committed
    rows_accepted: Mapped[int] = mapped_column(BigInteger, default=0)  # inserted or changed
    rows_unchanged: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)
    message: Mapped[str | None] = mapped_column(String(1000))
    rejected_path: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImportRejection(Base):
    """One rejected line of an import, with its reason; committed with the batch it belongs to."""

    __tablename__ = "import_rejections"
    __table_args__ = (UniqueConstraint("job_id", "line", name="uq_import_rejections_line"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(36), index=True)
    line: Mapped[int] = mapped_column(BigInteger)
    record_key: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(1000))
    raw: Mapped[str | None] = mapped_column(Text)
