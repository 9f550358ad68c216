"""The hotline's API shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from tongban.hotline.classify import MAX_TEXT


class ProposalIn(BaseModel):
    """What the caller says, as the agent has typed it so far."""

    model_config = {"extra": "forbid"}
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="来电内容（坐席已记录的文字，最多 2000 字）")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("blank_text", "来电内容不能只有空白")
        return value


class ProposalRead(BaseModel):
    category: str = Field(description="分类编码（G- 开头为城市网格化管理的部件、事件分类）")
    category_name: str = Field(description="分类名称")
    major: str = Field(description="大类")
    department: str = Field(description="承办部门编码")
    department_name: str = Field(description="承办部门名称")
    transfer_line: str | None = Field(description="应转接的专线号码（12319、12333、12315），无则为空")
    transfer_line_name: str | None = Field(description="专线名称")
    confidence: float = Field(ge=0, le=1, description="承办部门的置信度（0–1）")


class ProposalsRead(BaseModel):
    proposals: list[ProposalRead] = Field(description="最可能的承办部门（至多 3 个），每个带其最可能的分类")
    must_choose: bool = Field(description="首选的置信度低于阈值：须由坐席选择")
    threshold: float = Field(description="置信度阈值")


class CategoryRead(BaseModel):
    code: str
    major: str
    name: str
    department: str = Field(description="承办部门编码")
    transfer_line: str | None = Field(description="应转接的专线号码")
    source: str = Field(description="grid 城市网格化管理分类 | hotline 热线特有分类")
