"""Departments as other domains and the API see them: levels, their labels, read and create forms."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, NamedTuple

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError


class Level(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    TOWN = "town"  # 街道 / 镇
    VILLAGE = "village"  # 居委会 / 村委会


LEVEL_LABELS = {Level.CITY: "市", Level.DISTRICT: "区", Level.TOWN: "街镇", Level.VILLAGE: "居村"}


class Office(StrEnum):
    """A role the platform gives one department of the district."""

    EGOV = "egov"  # 电子政务办: arbitrates sharing, reviews items and FAQ, routes general consultations
    CITY_OPERATIONS = "city_ops"  # 城运中心: registers and dispatches the city-management cases (网格化管理)


OFFICE_LABELS = {Office.EGOV: "电子政务办（统筹协调）", Office.CITY_OPERATIONS: "城运中心（网格化管理监督指挥）"}

ORGAN_CODE_PATTERN = r"^[0-9A-Z]{8}$"


def _organ_code(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(ORGAN_CODE_PATTERN, value):
        raise PydanticCustomError("invalid_organ_code", "机构标识应为 8 位数字或大写字母")
    return value


# The organ's 8-character identifier in its service items' 实施编码 (``service.implementation_prefixes``).
OrganCode = Annotated[str | None, AfterValidator(_organ_code),
                      Field(json_schema_extra={"pattern": ORGAN_CODE_PATTERN},
                            description="机构标识：8 位数字或大写字母，事项实施编码中的实施机构部分；不实施政务服务事项的机构不填")]


class DepartmentName(NamedTuple):
    code: str
    name: str


class DepartmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    short_name: str
    level: Level
    level_label: str
    division_code: str
    organ_code: str | None
    duty: str | None
    office: str | None = None
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
    organ_code: OrganCode = None
    parent_code: str | None = None
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=200)


class DepartmentUpdate(BaseModel):
    """What the e-government office changes of a department (a field left out stays as it is;
    ``organ_code`` null takes the organ code away)."""

    model_config = ConfigDict(extra="forbid")

    organ_code: OrganCode = None
    office: Office | None = Field(default=None, description="平台职能：egov 电子政务办；null 取消")
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=200)
