"""Departments as other domains and the API see them: levels, their labels, read and create forms."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Level(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    TOWN = "town"  # 街道 / 镇
    VILLAGE = "village"  # 居委会 / 村委会


LEVEL_LABELS = {Level.CITY: "市", Level.DISTRICT: "区", Level.TOWN: "街镇", Level.VILLAGE: "居村"}


class DepartmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    short_name: str
    level: Level
    level_label: str
    division_code: str
    duty: str | None
    parent_code: str | None
    phone: str | None
    address: str | None


class DepartmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9-]+$")
    name: str = Field(min_length=2, max_length=100)
    short_name: str = Field(min_length=2, max_length=50)
    level: Level
    division_code: str = Field(min_length=6, max_length=12, pattern=r"^\d+$")
    parent_code: str | None = None
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=200)
