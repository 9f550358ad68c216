from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field


class RegistrySlug(StrEnum):
    PERSONS = "persons"
    LEGAL_ENTITIES = "legal-entities"
    ADDRESSES = "addresses"

    @property
    def registry_name(self) -> str:
        return self.value.replace("-", "_")


class RecordRead(BaseModel):
    registry: str
    key: str = Field(description="主键；属个人信息（身份证号）时按脱敏规则显示")
    ref: str = Field(description="记录的不透明引用：可代替主键用于查阅、历史和纠错，不含明文主键，8 小时内有效")
    version: int
    updated_at: datetime
    updated_by: str
    values: dict[str, str | None]
    masked_fields: list[str] = Field(description="这些个人信息字段已脱敏；具备权限并说明用途（purpose）可查看明文")
    as_of: datetime | None = None


class ClearRead(BaseModel):
    """A clear read: the purpose comes in a POST body (CSRF-checked for browser sessions), never in a link."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=2, max_length=200, description="查阅用途，记入审计日志")
    as_of: AwareDatetime | None = Field(default=None, description="查看某一时刻的记录")


class SearchRequest(BaseModel):
    """Search with a purpose in the body: the POST form of ``GET /{registry}``."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=2, max_length=200, description="查阅用途，记入审计日志")
    name: str | None = Field(default=None, min_length=1, max_length=50, description="名称/姓名，前缀匹配")
    filters: dict[str, str] = Field(default_factory=dict, max_length=20, description="字段名 → 值（精确匹配）")
    cursor: str | None = Field(default=None, max_length=200, description="上一页返回的 next_cursor")
    limit: int = Field(default=20, ge=1, le=500, description="每页条数，1–500")


class RecordWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any] = Field(min_length=1, max_length=40, description="字段名 → 值（文本或 JSON 值）")
    reason: str = Field(min_length=2, max_length=500, description="变更原因")


class WriteRead(BaseModel):
    key: str
    version: int
    created: bool
    changed_fields: list[str]


class VersionRead(BaseModel):
    version: int
    changed_at: datetime
    department_code: str
    actor_name: str
    reason: str
    changed_fields: list[str]
    values: dict[str, str | None]
    masked_fields: list[str]


class CorrectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(min_length=1, max_length=40)
    proposed_value: str | None = Field(max_length=2000)
    reason: str = Field(min_length=2, max_length=500)
    evidence: str | None = Field(default=None, max_length=500, description="依据，如证明材料编号")


class CorrectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    registry: str = Field(validation_alias=AliasChoices("registry_name", "registry"))
    record_key: str = Field(description="主键；属个人信息时按脱敏规则显示")
    record_ref: str = Field(description="记录的不透明引用，可代替主键打开记录")
    field: str
    current_value: str | None = Field(description="申请时的现值；个人信息字段按脱敏规则显示")
    proposed_value: str | None = Field(description="建议值；个人信息字段按脱敏规则显示")
    reason: str
    evidence: str | None
    requester_name: str
    requester_department: str | None
    source_department: str
    status: str
    due_on: date
    due_provisional: bool
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    created_at: datetime
    masked: bool = Field(description="是否有个人信息已脱敏；具备权限并说明用途（POST）可查看明文")


class CorrectionDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept: bool
    reason: str = Field(min_length=2, max_length=500)


class ImportJobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    registry: str = Field(validation_alias=AliasChoices("registry_name", "registry"))
    source_department: str
    file_name: str
    file_size: int
    status: str
    progress: float = Field(description="已读取字节占文件大小的比例，0–1")
    committed_line: int
    rows_accepted: int
    rows_unchanged: int
    rows_rejected: int
    message: str | None
    started_at: datetime
    finished_at: datetime | None
