"""The exchange's answers, as department systems receive them (the OpenAPI document's shapes).

The routes write their answers with orjson straight from the service's values (the exchange is
called many times a second); these models say what those answers hold, and the tests validate
real answers against them, so the document cannot drift from the wire."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Record(_Answer):
    key: str = Field(description="主键")
    version: int = Field(description="记录的版本号")
    updated_at: str = Field(description="最后变更时间（ISO 8601，含时区）")
    items: dict[str, Any] = Field(description="已授权信息项的值，按信息项编码")


class RecordAnswer(Record):
    resource: str = Field(description="信息资源代码")


class QueryAnswer(_Answer):
    resource: str = Field(description="信息资源代码")
    items: list[str] = Field(description="本次返回的信息项编码")
    records: list[Record] = Field(description="找到的记录，按请求的主键顺序")
    missing: list[str] = Field(description="没有找到的主键")


class Change(_Answer):
    position: int = Field(description="变更在变更流中的位置")
    event_id: str
    type: str = Field(description="事件类型")
    key: str = Field(description="主键")
    version: int = Field(description="变更后的版本号")
    changed_items: list[str] = Field(description="本次变更涉及的已授权信息项")
    occurred_at: str = Field(description="变更时间（ISO 8601，含时区）")
    items: dict[str, Any] = Field(description="变更后已授权信息项的值")


class ChangesAnswer(_Answer):
    resource: str = Field(description="信息资源代码")
    items: list[str] = Field(description="已授权的信息项编码")
    changes: list[Change]
    next_cursor: str = Field(description="下次调用时传入的游标")


class FeaturesAnswer(_Answer):
    type: str = Field(default="FeatureCollection", description="GeoJSON FeatureCollection")
    resource: str = Field(description="信息资源代码")
    items: list[str] = Field(description="已授权的信息项编码（各要素的 properties 仅含这些项）")
    features: list[dict[str, Any]] = Field(description="GeoJSON 要素（WGS 84）")
