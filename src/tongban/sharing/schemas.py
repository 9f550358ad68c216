"""API shapes of sharing requests and grants, and the words of sharing other domains use: a
request's status and an item's outcome, with their labels."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from tongban.sharing.models import Grant, SharingRequest




class RequestStatus(StrEnum):
    PROVIDER = "provider"  # conditional items wait for the provider
    ARBITRATION = "arbitration"  # refused or overdue: the e-government office decides
    CLOSED = "closed"  # every item decided


STATUS_LABELS = {RequestStatus.PROVIDER: "待提供方答复", RequestStatus.ARBITRATION: "电子政务办协调中",
                 RequestStatus.CLOSED: "已办结"}


class ItemOutcome(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    REFUSED = "refused"


OUTCOME_LABELS = {ItemOutcome.PENDING: "待定", ItemOutcome.GRANTED: "已授权", ItemOutcome.REFUSED: "不予共享"}
# Who granted: the catalog (unconditional items), the provider, or the e-government office.
GRANTED_BY_LABELS = {"catalog": "目录无条件共享", "provider": "提供方同意", "egov": "电子政务办协调"}



class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource: str = Field(min_length=1, max_length=40)
    items: list[str] = Field(min_length=1, max_length=500)
    duty: str = Field(min_length=2, max_length=500, description="履职依据：本部门的哪项职责需要这些数据")
    basis: str = Field(min_length=2, max_length=500, description="法律、法规或业务依据")
    purpose: str = Field(min_length=2, max_length=500)
    valid_from: date
    valid_to: date


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: list[str] = Field(default_factory=list, max_length=500)
    refuse: list[str] = Field(default_factory=list, max_length=500)
    reason: str | None = Field(default=None, max_length=500)


class Coordination(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=500)


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=500)


class RequestItemRead(BaseModel):
    item_code: str
    sharing_type: str
    outcome: str
    reason: str | None
    decided_by: str | None


class StepRead(BaseModel):
    action: str
    actor_name: str
    department_code: str | None
    note: str | None
    at: datetime


class RequestRead(BaseModel):
    id: int
    number: str
    resource: str
    resource_name: str
    requester: str
    requester_name: str
    provider: str
    provider_name: str
    requested_by: str
    duty: str
    basis: str
    purpose: str
    valid_from: date
    valid_to: date
    status: str
    due_on: date | None
    due_provisional: bool
    escalation_reason: str | None
    created_at: datetime
    closed_at: datetime | None
    items: list[RequestItemRead]
    steps: list[StepRead]


class GrantRead(BaseModel):
    id: int
    department: str
    department_name: str
    resource: str
    resource_name: str
    request_id: int | None
    items: list[str]
    purpose: str
    valid_from: date
    valid_to: date
    granted_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None


def request_read(r: SharingRequest) -> RequestRead:
    return RequestRead(
        id=r.id, number=r.number, resource=r.resource.code, resource_name=r.resource.name, requester=r.requester.code,
        requester_name=r.requester.name, provider=r.provider.code, provider_name=r.provider.name,
        requested_by=r.requested_by, duty=r.duty, basis=r.basis, purpose=r.purpose, valid_from=r.valid_from,
        valid_to=r.valid_to, status=r.status, due_on=r.due_on, due_provisional=r.due_provisional,
        escalation_reason=r.escalation_reason, created_at=r.created_at, closed_at=r.closed_at,
        items=[RequestItemRead(item_code=i.item_code, sharing_type=i.sharing_type, outcome=i.outcome, reason=i.reason,
                               decided_by=i.decided_by) for i in r.items],
        steps=[StepRead(action=s.action, actor_name=s.actor_name, department_code=s.department_code, note=s.note, at=s.at)
               for s in r.steps])


def grant_read(g: Grant) -> GrantRead:
    return GrantRead(id=g.id, department=g.department.code, department_name=g.department.name, resource=g.resource.code,
                     resource_name=g.resource.name, request_id=g.request_id, items=json.loads(g.items), purpose=g.purpose,
                     valid_from=g.valid_from, valid_to=g.valid_to, granted_by=g.granted_by, created_at=g.created_at,
                     revoked_at=g.revoked_at, revoke_reason=g.revoke_reason)
