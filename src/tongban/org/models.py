"""Government structure: levels (市, 区, 街镇, 居村) and departments."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.core.db.base import Base


class Department(Base):
    """A department or an administration at one level; streets and committees are departments too."""

    __tablename__ = "departments"
    # One department per office; an index (migration 0021: a constraint would copy the table on SQLite).
    __table_args__ = (Index("uq_departments_office", "office", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(50))
    level: Mapped[str] = mapped_column(String(16))  # tongban.org.schemas.Level
    division_code: Mapped[str] = mapped_column(String(12))  # GB/T 2260 (and town/village extension)
    # The organ's 8-character identifier (digits and capital letters) as service items' 实施编码
    # carry it (tongban.org.service.implementation_prefixes); none for a department that
    # implements no service items.
    organ_code: Mapped[str | None] = mapped_column(String(8))
    # The duty this department is the authoritative source for (tongban.registry.schemas.Duty).
    duty: Mapped[str | None] = mapped_column(String(32), unique=True)
    # The platform office this department is (tongban.org.schemas.Office): "egov" marks the
    # e-government office (电子政务办), one department only.
    office: Mapped[str | None] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))

    parent: Mapped[Department | None] = relationship(remote_side=[id])
