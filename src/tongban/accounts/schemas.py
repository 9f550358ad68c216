from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from tongban.core.idnumbers import CreditCode, ResidentId
from tongban.core.permissions import Role

Password = Field(min_length=10, max_length=128, description="至少 10 个字符")

# A department system's id in a path, as long as the column (an account's is core.inputs.Id).
ClientId = Annotated[str, Path(min_length=1, max_length=64)]
# Disabling or enabling an account or a department system: one route each, the switch in the path.
Switch = Annotated[Literal["disable", "enable"], Path(description="disable 停用（会话和令牌随即失效）/ enable 启用")]


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    expires_at: datetime


class Me(BaseModel):
    actor_type: str
    id: str
    name: str
    kind: str
    department_code: str | None
    department_name: str | None
    roles: list[str]
    role_labels: list[str]
    permissions: dict[str, str]
    verified: bool | None = Field(default=None, description="个人、企业账户：是否已完成实名核验；其他账户为空")


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=32, pattern=r"^[a-z][a-z0-9_.-]+$")
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Password
    department_code: str = Field(min_length=2, max_length=32)
    roles: list[Role] = Field(min_length=1, max_length=8)
    phone: str | None = Field(default=None, max_length=20)


class StaffRead(BaseModel):
    id: int
    username: str
    display_name: str
    department_code: str | None
    department_name: str | None
    roles: list[str]
    is_active: bool
    created_at: datetime


class CitizenRegister(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resident_id: ResidentId = Field(description="公民身份号码（GB 11643，18 位）")
    name: str = Field(min_length=1, max_length=100)
    password: str = Password
    phone: str | None = Field(default=None, max_length=20, pattern=r"^1\d{10}$")


class EnterpriseRegister(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credit_code: CreditCode = Field(description="统一社会信用代码（GB 32100，18 位）")
    name: str = Field(min_length=1, max_length=100)
    password: str = Password
    phone: str | None = Field(default=None, max_length=20)


class AccountRead(BaseModel):
    id: int
    kind: str
    username: str
    display_name: str
    created_at: datetime
    verified: bool = Field(description="是否已完成实名核验（个人：人口库姓名与短信验证码；企业：法定代表人绑定）")
    message: str | None = None


class CodeRequest(BaseModel):
    """找回账户 / 重置密码: the code goes to the phone the population registry holds."""

    model_config = ConfigDict(extra="forbid")

    resident_id: ResidentId = Field(description="公民身份号码")
    name: str = Field(min_length=1, max_length=100, description="姓名（与人口库一致）")
    password: str = Password


class CodeConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resident_id: ResidentId = Field(description="公民身份号码")
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$", description="短信验证码（6 位数字）")


class CodeSent(BaseModel):
    message: str


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Password


class EnterpriseBinding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credit_code: CreditCode = Field(description="统一社会信用代码")
    password: str = Password


class SessionsEnded(BaseModel):
    user_id: int
    message: str


class TemporaryPassword(BaseModel):
    user_id: int
    temporary_password: str = Field(description="只显示这一次；本人下次登录后须先修改密码")
    message: str


class AccountStatus(BaseModel):
    user_id: int
    is_active: bool = Field(description="false：已停用，不能登录，原有会话和令牌已全部结束")
    message: str


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=100)
    department_code: str = Field(min_length=2, max_length=32)


class ClientCreated(BaseModel):
    client_id: str
    client_secret: str = Field(description="只显示这一次，请妥善保存")
    name: str
    department_code: str


class ClientRead(BaseModel):
    client_id: str
    name: str
    department_code: str
    department_name: str
    is_active: bool
    created_at: datetime
    last_used_at: datetime | None


class ClientSecret(BaseModel):
    client_id: str
    client_secret: str = Field(description="新密钥只显示这一次；旧密钥和用它取得的令牌已全部失效")
    message: str
