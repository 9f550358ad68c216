"""API shapes of the catalog."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tongban.catalog.models import Classification, Openness, SharingType


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=100)
    data_type: str = Field(default="C", max_length=1, description="C 字符型 / N 数值型 / D 日期型 / T 日期时间型 / B 布尔型")
    length: int = Field(default=100, ge=1, le=100_000)
    description: str | None = Field(default=None, max_length=500)
    sharing_type: SharingType = SharingType.UNCONDITIONAL
    sharing_conditions: str | None = Field(default=None, max_length=500)
    legal_basis: str | None = Field(default=None, max_length=500)
    personal: bool = False


class ResourceIn(BaseModel):
    model_config = ConfigDict(extra="ignore")  # exported documents carry read-only fields too

    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=100)
    classification: Classification = Classification.DEPARTMENT
    summary: str = Field(min_length=1, max_length=1000)
    format: str = "库表"
    update_cycle: str = "每日"
    sharing_type: SharingType = SharingType.UNCONDITIONAL
    sharing_conditions: str | None = Field(default=None, max_length=500)
    legal_basis: str | None = Field(default=None, max_length=500)
    openness: Openness = Openness.NOT_OPEN
    key_item: str = Field(min_length=1, max_length=40)
    items: list[ItemIn] = Field(min_length=1, max_length=500)


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    data_type: str
    length: int
    description: str | None
    sharing_type: str
    sharing_conditions: str | None
    legal_basis: str | None
    personal: bool


class ResourceRead(BaseModel):
    code: str
    name: str
    provider: str
    provider_name: str
    classification: str
    summary: str
    format: str
    update_cycle: str
    published_on: date | None
    status: str
    version: int
    sharing_type: str
    sharing_conditions: str | None
    legal_basis: str | None
    openness: str
    key_item: str
    registry: str | None
    updated_at: datetime
    items: list[ItemRead]


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(pattern="^(published|withdrawn)$")


class RecordsPush(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


def resource_read(resource) -> ResourceRead:
    return ResourceRead(code=resource.code, name=resource.name, provider=resource.provider.code,
                        provider_name=resource.provider.name, classification=resource.classification,
                        summary=resource.summary, format=resource.format, update_cycle=resource.update_cycle,
                        published_on=resource.published_on, status=resource.status, version=resource.version,
                        sharing_type=resource.sharing_type, sharing_conditions=resource.sharing_conditions,
                        legal_basis=resource.legal_basis, openness=resource.openness, key_item=resource.key_item,
                        registry=resource.registry_name, updated_at=resource.updated_at,
                        items=[ItemRead.model_validate(i) for i in resource.items])
