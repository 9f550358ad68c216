"""API shapes of the catalog, and the words of the catalog other domains use: a resource's
sharing type, status, classification and openness, with their labels."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from tongban.catalog.models import Resource


class SharingType(StrEnum):
    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NOT_SHARED = "not_shared"  # 不予共享 (needs a legal basis)


SHARING_LABELS = {SharingType.UNCONDITIONAL: "无条件共享", SharingType.CONDITIONAL: "有条件共享",
                  SharingType.NOT_SHARED: "不予共享"}


class Openness(StrEnum):
    NOT_OPEN = "not_open"  # 不予开放
    CONDITIONAL = "conditional"  # 有条件开放
    OPEN = "open"  # 无条件开放


OPENNESS_LABELS = {Openness.NOT_OPEN: "不予开放", Openness.CONDITIONAL: "有条件开放", Openness.OPEN: "无条件开放"}


class Classification(StrEnum):
    BASE = "base"  # 基础信息资源
    THEME = "theme"  # 主题信息资源
    DEPARTMENT = "department"  # 部门信息资源


CLASSIFICATION_LABELS = {Classification.BASE: "基础信息资源", Classification.THEME: "主题信息资源",
                         Classification.DEPARTMENT: "部门信息资源"}


class ResourceStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


STATUS_LABELS = {ResourceStatus.DRAFT: "草稿", ResourceStatus.PUBLISHED: "已发布", ResourceStatus.WITHDRAWN: "已撤回"}

UPDATE_CYCLES = ("实时", "每日", "每周", "每月", "每季度", "每年", "不定期")
FORMATS = ("库表", "接口", "文件", "空间数据")  # 空间数据: GeoJSON layers, read by bounding box (exchange …/features)
DATA_TYPES = {"C": "字符型", "N": "数值型", "D": "日期型", "T": "日期时间型", "B": "布尔型"}


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


class ResourceDocument(BaseModel):
    """A resource as the catalog's export writes it: its provider by code, its items in full."""
    code: str
    provider: str = Field(description="提供部门代码")
    status: str
    version: int
    registry: str | None = Field(description="所属基础数据库（部门数据集为空）")
    published_on: str | None = Field(description="发布日期（ISO 8601）")
    name: str
    classification: str
    summary: str
    format: str
    update_cycle: str
    sharing_type: str
    sharing_conditions: str | None
    legal_basis: str | None
    openness: str
    key_item: str
    items: list[ItemRead]  # an item reads the same in the export as in the API


class CatalogExport(BaseModel):
    """The whole catalog, as one JSON document another platform (or this one) can import."""
    format: str = Field(description="文档格式：tongban-catalog")
    version: int = Field(description="文档格式版本")
    exported_at: str = Field(description="导出时间（ISO 8601，含时区）")
    resources: list[ResourceDocument]


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(pattern="^(published|withdrawn)$")


class RecordsPush(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


def resource_read(resource: Resource) -> ResourceRead:
    return ResourceRead(code=resource.code, name=resource.name, provider=resource.provider.code,
                        provider_name=resource.provider.name, classification=resource.classification,
                        summary=resource.summary, format=resource.format, update_cycle=resource.update_cycle,
                        published_on=resource.published_on, status=resource.status, version=resource.version,
                        sharing_type=resource.sharing_type, sharing_conditions=resource.sharing_conditions,
                        legal_basis=resource.legal_basis, openness=resource.openness, key_item=resource.key_item,
                        registry=resource.registry_name, updated_at=resource.updated_at,
                        items=[ItemRead.model_validate(i) for i in resource.items])
