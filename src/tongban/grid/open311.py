"""Open311 GeoReport v2 at /open311/v2/: the grid's categories as services, its cases as service
requests, so that any standard Open311 client (a 12345 app, a FixMyStreet-style site) lists,
files and follows city-management problems unchanged (docs/open311.md).

Every answer is ``.json`` or ``.xml`` as the specification shows them, errors included
(``[{"code": 404, "description": ...}]``, ``<errors><error>…``), never problem+json: a tongban
``Problem`` raised inside is answered in the specification's format with its Chinese detail.
Reads are public; a request is filed with an API key of an ``Open311Client`` (kept as its SHA-256),
which the staff manage under /api/v1/grid/open311-clients. Personal data a client sends (e-mail,
phone, names) goes to the case for staff only, never into an answer.

Times are ISO 8601 in Beijing time (+08:00). A ``service_request_id`` is the case number
(WG-YYYYMMDD-XXXXXX); a ``service_code`` is ``{kind}-{code}`` (``event-0102``).

The services are the union of the grid's categories and the classes of the engine's other
channels (the 12345 hotline's own, ``hotline-H-RS01``): the app hands those over as
``app.state.open311_other_categories`` (the grid does not import the hotline). Their cases are
listed and followed like any other; they are filed by calling the hotline, not through POST.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from tongban.core import audit, clock as wall
from tongban.core.auth import Principal, deny, require
from tongban.core.db.session import DbSession
from tongban.core.redaction import redact_personal
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.limits import uploads
from tongban.core.permissions import Permission
from tongban.core.workdays import WorkingCalendar
from tongban.grid import geo, privacy, service
from tongban.grid.models import (
    ACTION_LABELS, KIND_LABELS, OPEN_STATUSES, STATUS_LABELS, UNIT_LABELS, CaseEvent, CasePhoto, CaseStatus,
    CategoryKind, GridCase, GridCategory, LimitUnit, Open311Client, Source,
)
from tongban.org import service as org

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-07T00:00:00+08:00"  # when this endpoint's behaviour last changed (discovery)
PREFIX = "/open311/v2"
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
DEFAULT_DAYS = 90  # GET requests without dates: the last 90 days (the specification's default)
PAGE_SIZE, MAX_PAGE_SIZE, MAX_PAGE = 50, 200, 100_000
MAX_IDS = 200  # service_request_id=a,b,c…
MAX_DESCRIPTION = 2000  # the case's column (the specification allows clients 4000)
MAX_MEDIA = 1  # photos in a multipart POST ("media")
MEDIA_LINK = "附图链接："  # a client's media_url, kept in the case's description
CLOSED = (CaseStatus.CLOSED, CaseStatus.REJECTED, CaseStatus.MERGED)
GRID_KINDS = frozenset(kind.value for kind in CategoryKind)  # other kinds: another channel's classes
SERVICE_CODE = re.compile(r"^([a-z]{2,16})-([A-Za-z0-9-]{1,16})$")  # {kind}-{code}: event-0102, hotline-H-RS01
COMPONENT_CODE = re.compile(r"^\d{16}$")
MEDIA_URL = re.compile(r"^https?://\S+$")
# XML: the element of each member of a list, by the list's element (the specification's names).
ITEM_TAGS = {"services": "service", "service_requests": "request", "errors": "error", "endpoints": "endpoint",
             "formats": "format", "attributes": "attribute", "values": "value", "trail": "event"}

router = APIRouter()
georeport = APIRouter(prefix=PREFIX, tags=["Open311 GeoReport v2"])
clients = APIRouter(prefix="/api/v1/grid/open311-clients", tags=["城市网格化管理 grid"])


# ---- answers in the specification's two formats ------------------------------------------------------


class Open311Error(Exception):
    """An error as the specification answers it: an HTTP status, its code and a description."""

    def __init__(self, status: int, description: str) -> None:
        self.status, self.description = status, description
        super().__init__(f"{status}: {description}")


def _problem_status(problem: Problem) -> int:
    """The specification knows 400, 403 and 404; the platform's own failures keep theirs (5xx)."""
    if problem.status >= 500 or problem.status == 404:
        return problem.status
    if problem.status in (401, 403):
        return 403
    return 400


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, member in value.items():
            element.append(_element(key, member))
    elif isinstance(value, list):
        for member in value:
            element.append(_element(ITEM_TAGS.get(tag, "item"), member))
    elif value is not None:
        element.text = _text(value)
    return element


def render(fmt: str, root: str, body: Any, *, status: int = 200) -> Response:
    """``body`` (a list or a dict) as JSON, or as XML under ``root`` (a list's members named by ``ITEM_TAGS``)."""
    if fmt == "xml":
        content = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(_element(root, body), encoding="unicode").encode()
    else:
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, status_code=status, media_type=FORMATS.get(fmt, FORMATS["json"]))


def error(fmt: str, status: int, description: str) -> Response:
    return render(fmt if fmt in FORMATS else "json", "errors", [{"code": status, "description": description}],
                  status=status)


def answer(db: Session, fmt: str, build: Callable[[str], Response]) -> Response:
    """``build(fmt)``'s answer; an unknown format is a 404, and any refusal is told in the
    specification's format (the request's work rolled back: nothing changed)."""
    if fmt not in FORMATS:
        return error("json", 404, f"不支持的格式 .{fmt[:20]}，请使用 .json 或 .xml（format not supported）")
    try:
        return build(fmt)
    except Open311Error as refused:
        db.rollback()
        return error(fmt, refused.status, refused.description)
    except Problem as problem:
        db.rollback()
        return error(fmt, _problem_status(problem), problem.detail)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 (the w3 profile) in Beijing time, with its offset: 2026-12-07T09:30:00+08:00."""
    return None if moment is None else wall.beijing(moment).isoformat(timespec="seconds")


# ---- the documented shapes (OpenAPI; the answers are built by ``render``) ----------------------------


class Open311ErrorRead(BaseModel):
    code: int
    description: str


class EndpointRead(BaseModel):
    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class DiscoveryRead(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[EndpointRead]


class ServiceRead(BaseModel):
    service_code: str = Field(description="{kind}-{code}，如 event-0102")
    service_name: str
    description: str = Field(description="立案条件")
    metadata: bool
    type: str
    keywords: str
    group: str = Field(description="大类")


class ValueRead(BaseModel):
    key: str
    name: str


class AttributeRead(BaseModel):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[ValueRead] | None = None


class ServiceDefinitionRead(BaseModel):
    service_code: str
    attributes: list[AttributeRead]


class CreatedRead(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None


class TokenRead(BaseModel):
    token: str
    service_request_id: str | None


class TrailEventRead(BaseModel):
    action: str
    action_label: str
    status: str = Field(description="本平台的案件状态（reported、registered、dispatched、handled、closed、rejected、merged）")
    status_label: str
    datetime: str


class ExtendedRead(BaseModel):
    tongban_status: str
    tongban_status_label: str
    trail: list[TrailEventRead]


class RequestRead(BaseModel):
    service_request_id: str
    status: str = Field(description="open | closed")
    status_notes: str | None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float
    long: float
    media_url: str | None
    extended_attributes: ExtendedRead | None = Field(default=None, description="仅当 extensions=true")


_XML_ERRORS = {"text/xml": {"schema": {"type": "string", "description": "<errors><error><code/><description/></error></errors>"}}}


def _open311_error(description: str, *, platform: bool = False) -> dict[str, Any]:
    """An error in GeoReport v2's own format (JSON or XML, as the request's format asks);
    ``platform``: the platform may refuse it first, in problem+json (a body it cannot parse)."""
    content = dict(_XML_ERRORS)
    if platform:
        content["application/problem+json"] = {"schema": {"$ref": "#/components/schemas/Problem"}}
    return {"model": list[Open311ErrorRead], "description": description, "content": content}


def _documented(model: Any, xml_root: str, *, keyed: bool = False) -> dict[int | str, dict[str, Any]]:
    """``keyed``: the method takes an api_key (only POST requests), so it may answer 403."""
    found: dict[int | str, dict[str, Any]] = {
        200: {"model": model, "content": {"text/xml": {"schema": {"type": "string", "description": f"<{xml_root}>…"}}}},
        400: _open311_error("请求有误（Open311 错误格式；无法解析的请求体为 problem+json）", platform=keyed),
        404: _open311_error("格式、服务代码或请求编号不存在（Open311 错误格式）")}
    if keyed:
        found[403] = _open311_error("api_key 缺失或无效（Open311 错误格式）")
    return found


Format = Annotated[str, Path(alias="format", description="json | xml")]
Public = Annotated[Principal | None, require(Permission.PUBLIC)]


# ---- services -------------------------------------------------------------------------------------------


class Limit(NamedTuple):
    """A category's 处置时限."""

    limit_value: int
    limit_unit: str


def service_code(found: GridCategory | service.Category) -> str:
    return f"{found.kind}-{found.code}"


def other_categories(request: Request) -> list[service.Category]:
    """The other channels' own classes whose cases the engine keeps (see the module's note)."""
    source: Callable[[], Sequence[service.Category]] | None = getattr(request.app.state, "open311_other_categories", None)
    return list(source()) if source is not None else []


def _category(db: Session, request: Request, code: str | None) -> service.Category:
    if not code:
        raise Open311Error(400, "缺少 service_code（service_code was not provided）")
    matched = SERVICE_CODE.match(code)
    if matched is None:
        raise Open311Error(404, f"没有服务代码 {code[:40]}，服务代码形如 event-0102（service_code not found）")
    if matched.group(1) not in GRID_KINDS:
        found = next((c for c in other_categories(request) if (c.kind, c.code) == matched.groups()), None)
        if found is None:
            raise Open311Error(404, f"没有服务代码 {code}（service_code not found）")
        return found
    try:
        return service.category(db, matched.group(1), matched.group(2))
    except Problem:
        raise Open311Error(404, f"没有服务代码 {code}，或该分类已停用（service_code not found）") from None


def _limit_text(limit: Limit) -> str:
    return f"{limit.limit_value} 个{UNIT_LABELS.get(LimitUnit(limit.limit_unit), limit.limit_unit)}".replace("个小时", "小时")


def service_read(found: GridCategory | service.Category) -> dict[str, Any]:
    grid_kind = found.kind in GRID_KINDS
    kind = KIND_LABELS[CategoryKind(found.kind)] if grid_kind else found.major
    # another channel's class has nothing to describe beyond the standard fields: it is not filed here
    return {"service_code": service_code(found), "service_name": found.name, "description": found.register_condition,
            "metadata": grid_kind, "type": "realtime", "keywords": ",".join(dict.fromkeys([kind, found.major, found.name])),
            "group": found.major}


def attributes(found: GridCategory | service.Category) -> list[dict[str, Any]]:
    """What a report of the category may carry beyond the standard fields, and the case keeps:
    the coordinate system of lat/long (every category) and the census code of the component."""
    crs = {"variable": True, "code": "crs", "datatype": "singlevaluelist", "required": False,
           "datatype_description": "默认 wgs84；中国地图应用（高德、腾讯）给出的坐标为 gcj02",
           "order": 1, "description": "lat/long 的坐标系",
           "values": [{"key": crs.value, "name": label} for crs, label in geo.CRS_LABELS.items()]}
    if found.kind not in GRID_KINDS:
        return []  # another channel's class: filed there, so nothing to send here
    if found.kind != CategoryKind.COMPONENT:
        return [crs]
    return [crs, {"variable": True, "code": "component_code", "datatype": "string", "required": False,
                  "datatype_description": "16 位数字：区 6 + 大类 2 + 小类 2 + 序号 6（部件普查编码，见部件标识牌）",
                  "order": 2, "description": "部件编码"}]


# ---- service requests ------------------------------------------------------------------------------------


def public_status(status: str) -> str:
    return "closed" if status in CLOSED else "open"


def _estimate(calendar: WorkingCalendar, found: Limit, start: datetime) -> datetime:
    """When a case is expected to be handled before it is dispatched: the category's limit
    counted from the report (dispatch starts the real clock, which then gives ``expected_at``)."""
    if found.limit_unit == LimitUnit.CLOCK_HOURS:
        return start + timedelta(hours=found.limit_value)
    if found.limit_unit == LimitUnit.WORKING_HOURS:
        return calendar.add_working_minutes(start, found.limit_value * 60)
    due = calendar.add_working_days(wall.beijing(start).date(), found.limit_value).due
    return datetime.combine(due, time(17), wall.BEIJING)


def base_url(request: Request) -> str:
    configured = getattr(request.app.state.settings, "public_url", None)
    return (configured or str(request.base_url)).rstrip("/")


def _media_link(case: GridCase) -> tuple[str, str | None]:
    """The description without the media link line an Open311 client's POST added, and the link
    (never from another source's text: a person may write anything in a description)."""
    head, found, link = case.description.rpartition("\n" + MEDIA_LINK)
    if not found or case.source != Source.OPEN311 or not MEDIA_URL.match(link.strip()):
        return case.description, None
    return head, link.strip()


def requests_read(db: Session, request: Request, cases: Sequence[GridCase], *, extensions: bool = False) -> list[dict[str, Any]]:
    """The cases as service requests: one query for their latest notes (their whole trails with
    ``extensions``), one for their first photos, the categories and departments once each."""
    ids = [case.id for case in cases]
    notes: dict[int, str | None] = {}
    trails: dict[int, list[CaseEvent]] = {}
    if ids and extensions:
        for event in db.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(ids)).order_by(CaseEvent.id)):
            if event.note:
                notes[event.case_id] = event.note
            trails.setdefault(event.case_id, []).append(event)
    elif ids:
        for case_id, note in db.execute(select(CaseEvent.case_id, CaseEvent.note).where(
                CaseEvent.case_id.in_(ids), CaseEvent.note.is_not(None)).order_by(CaseEvent.id)):
            notes[case_id] = note  # the last note wins
    photos: dict[int, int] = {}
    if ids:
        for case_id, photo_id in db.execute(select(CasePhoto.case_id, CasePhoto.id).where(
                CasePhoto.case_id.in_(ids), CasePhoto.stage == "report").order_by(CasePhoto.id.desc())):
            photos[case_id] = photo_id  # the first (lowest id) wins
    categories: dict[tuple[str, str], Limit] = {
        (kind, code): Limit(value, unit) for kind, code, value, unit in db.execute(  # tuples: cheaper than 155 rows' objects
            select(GridCategory.kind, GridCategory.code, GridCategory.limit_value, GridCategory.limit_unit))}
    calendar = WorkingCalendar.load(db) if any(c.expected_at is None and c.status in OPEN_STATUSES for c in cases) else None
    base = base_url(request)
    agencies: dict[int, str | None] = {}  # a department read once (the session keeps no unreferenced row)
    answers = []
    for case in cases:
        found = categories.get((case.category_kind, case.category_code))
        if case.department_id is not None and case.department_id not in agencies:
            department = org.get(db, case.department_id)
            agencies[case.department_id] = department.name if department else None
        expected = case.expected_at
        if expected is None and case.status in OPEN_STATUSES and found is not None and calendar is not None:
            expected = _estimate(calendar, found, case.created_at)
        description, link = _media_link(case)
        label = STATUS_LABELS[CaseStatus(case.status)]
        note = notes.get(case.id)
        item: dict[str, Any] = {
            "service_request_id": case.number, "status": public_status(case.status),
            "status_notes": f"{label}：{redact_personal(note)}" if note else label,
            "service_name": case.category_name, "service_code": f"{case.category_kind}-{case.category_code}",
            "description": redact_personal(description), "agency_responsible": agencies.get(case.department_id) if case.department_id else None,
            "service_notice": f"处置时限 {_limit_text(found)}" if found else None,
            "requested_datetime": iso(case.created_at), "updated_datetime": iso(case.updated_at),
            "expected_datetime": iso(expected), "address": case.address, "address_id": None, "zipcode": None,
            "lat": case.lat, "long": case.lon,
            "media_url": f"{base}{PREFIX}/media/{case.number}/{photos[case.id]}" if case.id in photos else link}
        if extensions:
            item["extended_attributes"] = {
                "tongban_status": case.status, "tongban_status_label": label,
                "trail": [{"action": e.action, "action_label": ACTION_LABELS.get(e.action, e.action),  # type: ignore[call-overload]
                           "status": e.status, "status_label": STATUS_LABELS[CaseStatus(e.status)], "datetime": iso(e.at)}
                          for e in trails.get(case.id, [])]}
        answers.append(item)
    return answers


def _moment(name: str, text: str) -> datetime:
    moment: datetime | None
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "+") if "T" in text else text.strip())
    except ValueError:
        moment = None
    if moment is None or not 1970 <= moment.year <= 2999:
        raise Open311Error(400, f"{name} 应为 ISO 8601 时间，如 2026-12-01T00:00:00+08:00（{name} is not a valid datetime）")
    return moment if moment.tzinfo else moment.replace(tzinfo=wall.BEIJING)


def _whole(name: str, text: str | None, default: int, *, least: int = 1, most: int = MAX_PAGE) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise Open311Error(400, f"{name} 应为整数（{name} must be an integer）") from None
    if not least <= value <= most:
        raise Open311Error(400, f"{name} 应在 {least} 至 {most} 之间（{name} must be from {least} to {most}）")
    return value


def _listed(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def search(db: Session, *, ids: str | None, codes: str | None, start: str | None, end: str | None, status: str | None,
           page: str | None, page_size: str | None) -> list[GridCase]:
    """The filters of GET requests: ``service_request_id`` overrides the others (as the
    specification says); else the period (the last 90 days by default), codes and statuses; newest
    first, a page at a time (offset on the created_at indexes)."""
    numbers = _listed(ids)
    if len(numbers) > MAX_IDS:
        raise Open311Error(400, f"service_request_id 一次最多 {MAX_IDS} 个（too many service_request_id）")
    # the ids asked for come in one answer unless the client pages them itself
    size = min(_whole("page_size", page_size, len(numbers) or PAGE_SIZE, most=2**31), MAX_PAGE_SIZE)
    offset = (_whole("page", page, 1) - 1) * size
    # a hotline ticket without a place is no service request; a letter to the leader never is
    query = select(GridCase).where(GridCase.lon.is_not(None), service.NOT_A_LETTER)
    if numbers:
        query = query.where(GridCase.number.in_(numbers))
    else:
        until = _moment("end_date", end) if end else wall.now()
        since = _moment("start_date", start) if start else until - timedelta(days=DEFAULT_DAYS)
        if since > until:
            raise Open311Error(400, "start_date 不能晚于 end_date（start_date is after end_date）")
        query = query.where(GridCase.created_at >= since, GridCase.created_at <= until)
        pairs = []
        for code in _listed(codes):
            matched = SERVICE_CODE.match(code)
            if matched is None:
                raise Open311Error(400, f"服务代码 {code[:40]} 格式有误，应形如 event-0102（invalid service_code）")
            pairs.append(and_(GridCase.category_kind == matched.group(1), GridCase.category_code == matched.group(2)))
        if pairs:
            query = query.where(or_(*pairs))
        wanted = set(_listed(status))
        if wanted - {"open", "closed"}:
            raise Open311Error(400, "status 应为 open 或 closed（可用逗号分隔）（status must be open or closed）")
        if wanted == {"open"}:
            query = query.where(GridCase.status.in_([s.value for s in OPEN_STATUSES]))
        elif wanted == {"closed"}:
            query = query.where(GridCase.status.in_([s.value for s in CLOSED]))
    query = query.order_by(GridCase.created_at.desc(), GridCase.id.desc()).offset(offset).limit(size)
    return list(db.scalars(query))


# ---- API keys ------------------------------------------------------------------------------------------


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def client_by_key(db: Session, key: str | None) -> Open311Client | None:
    if not key or len(key) > 200:
        return None
    found = db.scalar(select(Open311Client).where(Open311Client.key_hash == key_hash(key)))
    return found if found is not None and found.active else None


def create_client(db: Session, actor: audit.Actor, name: str, *, key: str | None = None) -> tuple[Open311Client, str]:
    """A client allowed to file requests, and its key (given once: only its hash is kept)."""
    name = name.strip()
    if db.scalar(select(Open311Client.id).where(Open311Client.name == name, Open311Client.active.is_(True))):
        raise Problem("conflict", f"已有名为「{name}」的有效 Open311 客户端")
    key = key or secrets.token_urlsafe(32)
    client = Open311Client(name=name, key_hash=key_hash(key), active=True, created_at=wall.now())
    db.add(client)
    db.flush()
    audit.record(db, actor=actor, action="grid.open311.client.create", object_type="open311_client",
                 object_id=str(client.id), details={"name": name})
    return client, key


def _actor(client: Open311Client) -> audit.SystemActor:
    return audit.SystemActor(actor_name=f"Open311 客户端：{client.name}"[:64], actor_type="open311_client",
                             actor_id=str(client.id))


def _refused(db: Session, reason: str, client: Open311Client | None) -> None:
    """A refused filing, in the audit log through a session of its own (nothing else is kept)."""
    actor = _actor(client) if client else audit.ANONYMOUS  # read before the rollback expires it
    db.rollback()
    with Session(bind=db.get_bind()) as own:
        audit.record(own, actor=actor, action="grid.open311.report",
                     outcome="failed", details={"reason": reason[:200]})
        own.commit()


# ---- the GeoReport routes --------------------------------------------------------------------------------


@georeport.get("/discovery.{format}", summary="服务发现（GeoReport v2 discovery）", responses=_documented(DiscoveryRead, "discovery"))
def discovery(fmt: Format, request: Request, db: DbSession, _: Public) -> Response:
    def build(fmt: str) -> Response:
        base = base_url(request)
        return render(fmt, "discovery", {
            "changeset": CHANGESET, "contact": f"城运中心（城市网格化管理）；接入申请与说明见 {base}/docs",
            "key_service": f"向城运中心申请 API 密钥：平台管理员在 {base}/api/v1/grid/open311-clients 登记客户端后一次性发放",
            "endpoints": [{"specification": SPECIFICATION, "url": f"{base}{PREFIX}", "changeset": CHANGESET,
                           "type": "production", "formats": ["application/json", "text/xml"]}]})
    return answer(db, fmt, build)


@georeport.get("/services.{format}", summary="服务列表：每个启用的部件、事件分类（GET Service List）",
               responses=_documented(list[ServiceRead], "services"))
def services(fmt: Format, request: Request, db: DbSession, _: Public) -> Response:
    def build(fmt: str) -> Response:
        listed: list[GridCategory | service.Category] = [*service.categories(db), *other_categories(request)]
        return render(fmt, "services", [service_read(c) for c in listed])
    return answer(db, fmt, build)


@georeport.get("/services/{code}.{format}", summary="服务定义：分类可附带的属性（GET Service Definition）",
               responses=_documented(ServiceDefinitionRead, "service_definition"))
def service_definition(code: str, fmt: Format, request: Request, db: DbSession, _: Public) -> Response:
    def build(fmt: str) -> Response:
        found = _category(db, request, code)
        return render(fmt, "service_definition", {"service_code": service_code(found), "attributes": attributes(found)})
    return answer(db, fmt, build)


def _field(form: Any, name: str, limit: int) -> str | None:
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    value = str(value).strip()
    if len(value) > limit:
        raise Open311Error(400, f"{name} 不能超过 {limit} 个字符（{name} is too long）")
    return value or None


def _coordinate(form: Any, name: str, bound: float) -> float:
    text = _field(form, name, 40)
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > bound:
        raise Open311Error(400, f"{name} 应为 -{bound:g} 至 {bound:g} 之间的十进制度数（{name} is not a valid coordinate）")
    return value


def _filing(db: Session, request: Request, form: Any) -> tuple[service.Category, service.Report]:
    """A POST's fields as a report, every one checked before anything is written."""
    found = _category(db, request, _field(form, "service_code", 40))
    if found.kind not in GRID_KINDS:
        raise Open311Error(400, f"「{found.name}」类诉求请拨打 12345 热线反映，本接口只受理城市管理部件、事件的上报"
                                "（service_code accepts no reports through this endpoint）")
    if _field(form, "lat", 40) is None or _field(form, "long", 40) is None:
        if _field(form, "address_string", 200) or _field(form, "address_id", 100):
            raise Open311Error(400, "本平台按坐标定位网格和责任部门，请同时提供 lat 和 long，仅有地址无法受理"
                                    "（lat and long are required; address_string alone is not accepted）")
        raise Open311Error(400, "缺少位置：请提供 lat 和 long（location was not provided: lat and long are required）")
    lat, lon = _coordinate(form, "lat", 90), _coordinate(form, "long", 180)
    crs_text = _field(form, "attribute[crs]", 16) or geo.Crs.WGS84.value
    if crs_text not in {c.value for c in geo.Crs}:
        raise Open311Error(400, f"attribute[crs] 应为 {'、'.join(c.value for c in geo.Crs)} 之一（invalid crs）")
    component = _field(form, "attribute[component_code]", 40) if found.kind == CategoryKind.COMPONENT else None
    if component is not None and not COMPONENT_CODE.match(component):
        raise Open311Error(400, "attribute[component_code] 应为 16 位数字的部件编码（invalid component_code）")
    description = _field(form, "description", 4000) or f"{found.name}（Open311 上报，未附描述）"
    media = _field(form, "media_url", 500)
    if media is not None and not MEDIA_URL.match(media):
        raise Open311Error(400, "media_url 应为 http 或 https 地址（media_url must be an http(s) URL）")
    if media is not None:
        description = f"{description}\n{MEDIA_LINK}{media}"
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description 不能超过 {MAX_DESCRIPTION} 个字符（含附图链接）（description is too long）")
    email, phone = _field(form, "email", 99), _field(form, "phone", 20)  # "phone；email" fits the contact's 120
    if email is not None and not re.match(r"^[^@\s]+@[^@\s]+$", email):
        raise Open311Error(400, "email 格式有误（email is not valid）")
    first, last = _field(form, "first_name", 32), _field(form, "last_name", 32)
    name: str | None = first or last
    if first and last:  # 张 伟 → 张伟; Wei Zhang as written
        name = (f"{first} {last}" if (first + last).isascii() else f"{last}{first}")[:64]
    contact = "；".join(part for part in (phone, email) if part) or None
    return found, service.Report(kind=found.kind, code=found.code, lon=lon, lat=lat, description=description,
                                 address=_field(form, "address_string", 200), crs=geo.Crs(crs_text),
                                 component_code=component, contact=contact, name=name)


@georeport.post("/requests.{format}", summary="提交服务请求：上报城管问题（POST Service Request，需 api_key）",
                responses=_documented(list[CreatedRead], "service_requests", keyed=True),
                openapi_extra={**uploads("attachment_max_mb", files=MAX_MEDIA), "requestBody": {"content": {
                    "application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["api_key", "service_code"],
                                                                     "properties": {
                        "api_key": {"type": "string"}, "service_code": {"type": "string"}, "lat": {"type": "number"},
                        "long": {"type": "number"}, "address_string": {"type": "string"}, "description": {"type": "string"},
                        "media_url": {"type": "string"}, "email": {"type": "string"}, "phone": {"type": "string"},
                        "first_name": {"type": "string"}, "last_name": {"type": "string"}, "device_id": {"type": "string"},
                        "account_id": {"type": "string"}, "attribute[crs]": {"type": "string"},
                        "attribute[component_code]": {"type": "string"}}}},
                    "multipart/form-data": {"schema": {"type": "object", "properties": {
                        "media": {"type": "string", "format": "binary", "description": "现场照片（扩展）"}}}}}}})
async def create_request(fmt: Format, request: Request, db: DbSession, _: Public) -> Response:
    if fmt not in FORMATS:
        return error("json", 404, f"不支持的格式 .{fmt[:20]}，请使用 .json 或 .xml（format not supported）")
    settings = request.app.state.settings
    try:
        form = await request.form(max_files=MAX_MEDIA, max_fields=100)
    except Exception:  # not a form, or too many parts
        return error(fmt, 400, "请求体应为表单（application/x-www-form-urlencoded 或 multipart/form-data）（body must be a form）")
    key = form.get("api_key")
    client = client_by_key(db, key if isinstance(key, str) else None)
    if client is None:
        deny(db, None, slug="open311-invalid-key", detail="api_key 缺失或无效", action="grid.open311.report")
        return error(fmt, 403, "api_key 缺失或无效，请向城运中心申请（api_key was not provided or is invalid）")
    try:
        found, filed = _filing(db, request, form)
        device = _field(form, "device_id", 100)
        files = [f for f in form.getlist("media") if isinstance(f, UploadFile) and (f.filename or f.size)]
        limit = settings.attachment_max_mb * 1024 * 1024
        photos = [await f.read(limit + 1) for f in files]
        case = service.report(db, None, filed, source=Source.OPEN311, extent=geo.Extent.parse(settings.grid_extent),
                              client_id=client.name[:64], photos=photos, settings=settings)
    except Open311Error as refused:
        _refused(db, refused.description, client)
        return error(fmt, refused.status, refused.description)
    except Problem as problem:
        _refused(db, problem.detail, client)
        return error(fmt, _problem_status(problem), problem.detail)
    audit.record(db, actor=_actor(client), action="grid.open311.report", object_type="grid_case", object_id=case.number,
                 details={"service_code": service_code(found), "device_id": device})
    number = case.number
    notice = (f"已受理，编号 {number}：城运中心将在 {service.REGISTER_HOURS} 小时内审核立案，"
              f"立案派遣后按处置时限 {_limit_text(Limit(found.limit_value, found.limit_unit))} 处理")
    db.commit()
    return render(fmt, "service_requests", [{"service_request_id": number, "service_notice": notice, "account_id": None}])


@georeport.get("/requests.{format}", summary="查询服务请求（GET Service Requests；分页扩展 page、page_size）",
               responses=_documented(list[RequestRead], "service_requests"))
def list_requests(fmt: Format, request: Request, db: DbSession, _: Public,
                  service_request_id: Annotated[str | None, Query(description="案件编号，逗号分隔；给出时忽略其他条件")] = None,
                  service_code: Annotated[str | None, Query(description="服务代码，逗号分隔")] = None,
                  start_date: Annotated[str | None, Query(description="最早上报时间（ISO 8601），默认 end_date 前 90 天")] = None,
                  end_date: Annotated[str | None, Query(description="最晚上报时间（ISO 8601），默认现在")] = None,
                  status: Annotated[str | None, Query(description="open、closed，逗号分隔")] = None,
                  page: Annotated[str | None, Query(description="页码（扩展），从 1 起")] = None,
                  page_size: Annotated[str | None, Query(description=f"每页条数（扩展），默认 {PAGE_SIZE}，最多 {MAX_PAGE_SIZE}")] = None,
                  extensions: Annotated[str | None, Query(description="true：附 extended_attributes（本平台状态与流转记录）")] = None,
                  jurisdiction_id: Annotated[str | None, Query(description="本平台只有一个辖区，忽略")] = None) -> Response:
    def build(fmt: str) -> Response:
        cases = search(db, ids=service_request_id, codes=service_code, start=start_date, end=end_date, status=status,
                       page=page, page_size=page_size)
        return render(fmt, "service_requests", requests_read(db, request, cases, extensions=extensions == "true"))
    return answer(db, fmt, build)


@georeport.get("/requests/{number}.{format}", summary="一件服务请求（GET Service Request）",
               responses=_documented(list[RequestRead], "service_requests"))
def read_request(number: str, fmt: Format, request: Request, db: DbSession, _: Public,
                 extensions: Annotated[str | None, Query(description="true：附 extended_attributes")] = None) -> Response:
    def build(fmt: str) -> Response:
        case = service.case_by_number(db, number[:40])
        if case.lon is None:  # a hotline ticket that names no place is not on the map
            raise Open311Error(404, f"没有编号为 {number[:40]} 的服务请求（service request not found）")
        return render(fmt, "service_requests", requests_read(db, request, [case], extensions=extensions == "true"))
    return answer(db, fmt, build)


@georeport.get("/tokens/{token}.{format}", summary="由 token 查询服务请求编号（GET service_request_id from a token）",
               responses=_documented(list[TokenRead], "service_requests"))
def read_token(token: str, fmt: Format, db: DbSession, _: Public) -> Response:
    def build(fmt: str) -> Response:
        number = db.scalar(select(GridCase.number).where(GridCase.token == token[:40]))
        if number is None:
            raise Open311Error(404, f"没有 token 为 {token[:40]} 的服务请求（token not found）")
        return render(fmt, "service_requests", [{"token": token, "service_request_id": number}])
    return answer(db, fmt, build)


@georeport.get("/media/{number}/{photo_id}", summary="服务请求的上报照片（media_url 所指）", response_class=FileResponse,
               responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
                          404: {"model": list[Open311ErrorRead], "description": "没有这张照片（Open311 错误格式）"}})
def read_media(number: str, photo_id: Id, db: DbSession, _: Public) -> Response:
    found = db.scalar(select(CasePhoto).join(GridCase, GridCase.id == CasePhoto.case_id).where(
        GridCase.number == number[:40], CasePhoto.id == photo_id, CasePhoto.stage == "report"))
    if found is None:
        return error("json", 404, "没有这张照片（media not found）")
    # Outside the staff: the public copy (faces and plates blurred, no metadata), never the original.
    return FileResponse(privacy.public_copy(found), media_type=found.media_type, headers={"Cache-Control": "public, max-age=3600"})


# ---- the staff's API keys ------------------------------------------------------------------------------


class ClientIn(BaseModel):
    model_config = {"extra": "forbid"}
    name: str = Field(min_length=2, max_length=100, description="接入系统的名称，如「12345 市民热线 App」")


class ClientPatch(BaseModel):
    model_config = {"extra": "forbid"}
    active: bool = Field(description="false：停用（其密钥随即失效）")


class ClientRead(BaseModel):
    id: int
    name: str
    active: bool
    created_at: datetime


class ClientCreated(ClientRead):
    key: str = Field(description="API 密钥：只在此时给出一次，平台只保存其 SHA-256 摘要")


def _client_read(found: Open311Client) -> ClientRead:
    return ClientRead(id=found.id, name=found.name, active=found.active, created_at=found.created_at)


def _client(db: Session, client_id: int) -> Open311Client:
    found = db.get(Open311Client, client_id)
    if found is None:
        raise Problem("not-found", f"没有编号为 {client_id} 的 Open311 客户端")
    return found


@clients.post("", response_model=ClientCreated, status_code=201, summary="登记 Open311 客户端并发放 API 密钥（仅显示一次）")
def create_open311_client(body: ClientIn, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_MANAGE)]):
    found, key = create_client(db, principal, body.name)
    db.commit()
    return ClientCreated(**_client_read(found).model_dump(), key=key)


@clients.get("", response_model=list[ClientRead], summary="Open311 客户端列表（不含密钥）")
def list_open311_clients(db: DbSession, principal: Annotated[Principal, require(Permission.GRID_MANAGE)]):
    return [_client_read(c) for c in db.scalars(select(Open311Client).order_by(Open311Client.id))]


def _set_active(db: Session, principal: Principal, client_id: int, active: bool) -> ClientRead:
    found = _client(db, client_id)
    if active and not found.active and db.scalar(select(Open311Client.id).where(
            Open311Client.name == found.name, Open311Client.active.is_(True))):
        raise Problem("conflict", f"已有名为「{found.name}」的有效 Open311 客户端")
    found.active = active
    audit.record(db, actor=principal, action="grid.open311.client." + ("activate" if active else "deactivate"),
                 object_type="open311_client", object_id=str(found.id), details={"name": found.name})
    db.commit()
    return _client_read(found)


@clients.patch("/{client_id}", response_model=ClientRead, summary="停用或重新启用 Open311 客户端")
def update_open311_client(client_id: Id, body: ClientPatch, db: DbSession,
                          principal: Annotated[Principal, require(Permission.GRID_MANAGE)]):
    return _set_active(db, principal, client_id, body.active)


@clients.delete("/{client_id}", response_model=ClientRead, summary="停用 Open311 客户端（其密钥随即失效；记录保留）")
def deactivate_open311_client(client_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.GRID_MANAGE)]):
    return _set_active(db, principal, client_id, False)


router.include_router(georeport)
router.include_router(clients)
