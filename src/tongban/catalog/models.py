"""政务信息资源目录: resources, their information items, and the records of department datasets."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.core.db.base import Base, UTCDateTime

if TYPE_CHECKING:  # org's class, by its name in the shared registry (no import at run time)
    from tongban.org.models import Department


class Resource(Base):
    """One shared information resource of the catalog."""

    __tablename__ = "catalog_resources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # stable: what the exchange's URLs name
    name: Mapped[str] = mapped_column(String(100))
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    classification: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(1000))
    format: Mapped[str] = mapped_column(String(16))
    update_cycle: Mapped[str] = mapped_column(String(16))
    published_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    sharing_type: Mapped[str] = mapped_column(String(16))
    sharing_conditions: Mapped[str | None] = mapped_column(String(500))
    legal_basis: Mapped[str | None] = mapped_column(String(500))  # why not shared, when not shared
    openness: Mapped[str] = mapped_column(String(16))
    key_item: Mapped[str] = mapped_column(String(40))  # the item records are looked up by
    registry_name: Mapped[str | None] = mapped_column(String(20))  # set for the base registries
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    provider: Mapped[Department] = relationship("Department", lazy="joined")
    items: Mapped[list[ResourceItem]] = relationship(order_by="ResourceItem.position", cascade="all, delete-orphan",
                                                     lazy="selectin")

    __mapper_args__ = {"version_id_col": row_version}

    def item(self, code: str) -> ResourceItem | None:
        return next((i for i in self.items if i.code == code), None)


class ResourceItem(Base):
    """信息项: one field of a resource with its own sharing type."""

    __tablename__ = "catalog_items"
    __table_args__ = (UniqueConstraint("resource_id", "code", name="uq_catalog_items_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    data_type: Mapped[str] = mapped_column(String(1))
    length: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(String(500))
    sharing_type: Mapped[str] = mapped_column(String(16))
    sharing_conditions: Mapped[str | None] = mapped_column(String(500))
    legal_basis: Mapped[str | None] = mapped_column(String(500))
    personal: Mapped[bool] = mapped_column(Boolean, default=False)


class DatasetRecord(Base):
    """The current value of one record a department pushed into its own dataset resource."""

    __tablename__ = "dataset_records"
    __table_args__ = (UniqueConstraint("resource_id", "record_key", name="uq_dataset_records_key"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"))
    record_key: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)  # JSON: item code -> text value
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DatasetVersion(Base):
    """Every version of a dataset record (the change feed reads values as of each change)."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("resource_id", "record_key", "version", name="uq_dataset_versions_record"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"))
    record_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)
    changed_items: Mapped[str] = mapped_column(Text)  # JSON list
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
