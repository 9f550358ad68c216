"""城市网格化管理: the unit grid, the classes of problems, the components census, and the cases.

A cell (万米单元网格) is a polygon kept as GeoJSON text with its bounding box in columns, so a
bounding-box query is an index range on both engines and no spatial extension is needed; the
point-in-polygon test is shapely's, over the cells of the current version held in memory
(``grid.geo``). A grid is versioned: an import makes a new version; the cells it replaces are kept,
no longer current, so an old case still names the cell it was found in.

A case (案件) is one problem found in the city, whoever found it (a grid supervisor, a citizen, the
hotline, an Open311 client): its facts, its state in the seven steps, and its trail. Its deadlines
are supervision's clocks, never copied here, except the expected moment Open311 clients are told.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.core.db.base import Base, UTCDateTime


class GridVersion(Base):
    """One import of cells: who, when, from what, and how many."""

    __tablename__ = "grid_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(200))  # the file's name
    crs: Mapped[str] = mapped_column(String(16))  # the coordinates as received: wgs84, gcj02, cgcs2000
    cells: Mapped[int] = mapped_column(Integer)
    communities: Mapped[str] = mapped_column(Text)  # JSON list of the community codes it replaced
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GridCell(Base):
    __tablename__ = "grid_cells"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        Index("ix_grid_cells_current_bbox", "current", "min_lon", "min_lat"),
        Index("ix_grid_cells_community", "community_code", "current"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(15))  # district 6 + street 3 + community 3 + sequence 3
    version: Mapped[int] = mapped_column(ForeignKey("grid_versions.version"))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    street_code: Mapped[str] = mapped_column(String(9))
    street: Mapped[str] = mapped_column(String(64))
    community_code: Mapped[str] = mapped_column(String(12))
    community: Mapped[str] = mapped_column(String(64))
    land_use: Mapped[str] = mapped_column(String(16))
    # The body responsible for the cell; None: the street's own office (属地兜底).
    responsible_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    geometry: Mapped[str] = mapped_column(Text)  # GeoJSON Polygon, WGS 84
    area_m2: Mapped[float] = mapped_column(Float)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)


class CategoryKind(StrEnum):
    COMPONENT = "component"  # 部件: a thing (a manhole cover, a street lamp)
    EVENT = "event"  # 事件: a happening (exposed garbage, illegal construction)


KIND_LABELS = {CategoryKind.COMPONENT: "部件", CategoryKind.EVENT: "事件"}


class LimitUnit(StrEnum):
    CLOCK_HOURS = "clock_hours"  # 小时 (emergencies: round the clock)
    WORKING_HOURS = "working_hours"  # 工作小时
    WORKING_DAYS = "working_days"  # 工作日


UNIT_LABELS = {LimitUnit.CLOCK_HOURS: "小时", LimitUnit.WORKING_HOURS: "工作小时", LimitUnit.WORKING_DAYS: "工作日"}


class GridCategory(Base):
    """A class of problem with its 立案条件, 处置时限 and 结案条件: the city's data, edited by it."""

    __tablename__ = "grid_categories"
    __table_args__ = (UniqueConstraint("kind", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # CategoryKind
    code: Mapped[str] = mapped_column(String(4))  # major 2 + subclass 2 (CJ/T 214)
    major_code: Mapped[str] = mapped_column(String(2))
    major: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    register_condition: Mapped[str] = mapped_column(String(300))
    close_condition: Mapped[str] = mapped_column(String(300))
    limit_value: Mapped[int] = mapped_column(Integer)
    limit_unit: Mapped[str] = mapped_column(String(16))  # LimitUnit
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    handler: Mapped[str] = mapped_column(String(24))  # who handles it by default (grid_routes)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class GridRoute(Base):
    """Who handles a category's problems (FixMyStreet's body × category): a handler of a category
    is a department district-wide, or in one street; the street's own office when none is set."""

    __tablename__ = "grid_routes"
    __table_args__ = (UniqueConstraint("handler", "street_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handler: Mapped[str] = mapped_column(String(24))
    street_code: Mapped[str] = mapped_column(String(9), default="")  # "": district-wide
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))


class Component(Base):
    """A component of the census (部件普查): what it is, where, whose."""

    __tablename__ = "grid_components"
    __table_args__ = (Index("ix_grid_components_lon_lat", "lon", "lat"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # district 6 + class 2 + subclass 2 + serial 6
    category_code: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(64))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    cell_code: Mapped[str | None] = mapped_column(String(15), index=True)
    owner_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    owner: Mapped[str] = mapped_column(String(100))  # 主管部门
    maintainer: Mapped[str] = mapped_column(String(100))  # 养护单位
    state: Mapped[str] = mapped_column(String(8))  # ComponentState
    surveyed_on: Mapped[str | None] = mapped_column(String(10))


class ComponentState(StrEnum):
    INTACT = "intact"
    DAMAGED = "damaged"
    MISSING = "missing"
    OCCUPIED = "occupied"
    RETIRED = "retired"


COMPONENT_STATE_LABELS = {ComponentState.INTACT: "完好", ComponentState.DAMAGED: "破损", ComponentState.MISSING: "丢失",
                          ComponentState.OCCUPIED: "占用", ComponentState.RETIRED: "废弃"}


class CaseStatus(StrEnum):
    """Where a case is in the seven steps (信息收集 → … → 综合评价)."""

    REPORTED = "reported"  # 信息收集 done: waiting for the supervision centre to register it
    REGISTERED = "registered"  # 案卷建立: waiting for the command centre to dispatch it
    DISPATCHED = "dispatched"  # 任务派遣: the department is handling it
    HANDLED = "handled"  # 处理反馈: the department reported its result; waiting for the supervisor's check
    CLOSED = "closed"  # 核查结案
    REJECTED = "rejected"  # 不予立案 (does not meet the category's 立案条件)
    MERGED = "merged"  # a duplicate of an open case, merged into it


STATUS_LABELS = {CaseStatus.REPORTED: "待立案", CaseStatus.REGISTERED: "待派遣", CaseStatus.DISPATCHED: "处置中",
                 CaseStatus.HANDLED: "待核查", CaseStatus.CLOSED: "已结案", CaseStatus.REJECTED: "不予立案",
                 CaseStatus.MERGED: "已合并"}
OPEN_STATUSES = (CaseStatus.REPORTED, CaseStatus.REGISTERED, CaseStatus.DISPATCHED, CaseStatus.HANDLED)


class Source(StrEnum):
    SUPERVISOR = "supervisor"  # 监督员上报
    PUBLIC = "public"  # 公众举报 (the portal)
    HOTLINE = "hotline"  # 热线转办
    OPEN311 = "open311"  # another system, through Open311
    MAILBOX = "mailbox"  # 领导信箱: a letter the letters office answers or assigns (never a city case to the grid)


SOURCE_LABELS = {Source.SUPERVISOR: "监督员上报", Source.PUBLIC: "公众举报", Source.HOTLINE: "热线转办",
                 Source.OPEN311: "Open311 接入", Source.MAILBOX: "领导信箱"}


class GridCase(Base):
    __tablename__ = "grid_cases"
    __table_args__ = (
        Index("ix_grid_cases_status_created", "status", "created_at"),
        Index("ix_grid_cases_created", "created_at"),
        Index("ix_grid_cases_category_lon", "category_kind", "category_code", "lon"),  # duplicates nearby
        Index("ix_grid_cases_category_created", "category_kind", "category_code", "created_at"),  # Open311 by service
        Index("ix_grid_cases_department_status", "department_id", "status"),
        Index("ix_grid_cases_reporter", "reporter_account", "id"),  # 我的上报, a supervisor's own reports
        Index("ix_grid_cases_source_status", "source", "status", "department_id"),  # a channel's queues (12345 工单)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # WG-YYYYMMDD-XXXXXX
    source: Mapped[str] = mapped_column(String(10))  # Source
    category_kind: Mapped[str] = mapped_column(String(10))
    category_code: Mapped[str] = mapped_column(String(16))  # a grid class's 4 digits, or a hotline class (H-RS01)
    category_name: Mapped[str] = mapped_column(String(64))  # as it was named when reported
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    lon: Mapped[float | None] = mapped_column(Float)  # WGS 84; None: a call that names no place
    lat: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000))
    cell_code: Mapped[str | None] = mapped_column(String(15))  # None: outside the grid
    street_code: Mapped[str | None] = mapped_column(String(9))
    component_code: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10), default=CaseStatus.REPORTED)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # dispatched to
    proposed_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # routing's proposal
    reporter_account: Mapped[str | None] = mapped_column(String(64))
    reporter_name: Mapped[str | None] = mapped_column(String(64))
    reporter_contact: Mapped[str | None] = mapped_column(String(120))  # personal data: read only by staff, logged
    client_id: Mapped[str | None] = mapped_column(String(64))  # the Open311 client that filed it
    token: Mapped[str | None] = mapped_column(String(40), unique=True)  # Open311 token, given before the id
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cases.id"))
    duplicates: Mapped[int] = mapped_column(Integer, default=0)  # reports merged into this one
    returns: Mapped[int] = mapped_column(Integer, default=0)  # 退回: sent back by a department as mis-dispatched
    reworks: Mapped[int] = mapped_column(Integer, default=0)  # 返工: not fixed at the check
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the handling is due
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(String(2000))  # the department's account of what it did
    version: Mapped[int] = mapped_column(Integer, default=1)  # every step checks and moves it

    __mapper_args__ = {"version_id_col": version}


class CaseEvent(Base):
    """The trail of a case: every step, by whom, with what note and photos."""

    __tablename__ = "grid_case_events"
    __table_args__ = (Index("ix_grid_case_events_at_action", "at", "action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("grid_cases.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # Action
    status: Mapped[str] = mapped_column(String(10))  # the case's status after it
    actor_account: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(64))
    # The department the step concerns: the one dispatched to, handling, returning or redoing it
    # (the evaluation counts by it); the actor's own for the centre's and supervisors' steps.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    note: Mapped[str | None] = mapped_column(String(1000))
    on_time: Mapped[bool | None] = mapped_column(Boolean)  # a handling: within the category's limit
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set with the step (never read through): a new case, its first step and photos go in one flush.
    case: Mapped[GridCase] = relationship(lazy="raise")


class CasePhoto(Base):
    __tablename__ = "grid_case_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("grid_cases.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("grid_case_events.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(10))  # report, handle, verify
    path: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The case and the step the photo was taken at: set with it, so they are written in one flush.
    case: Mapped[GridCase] = relationship(lazy="raise")
    event: Mapped[CaseEvent | None] = relationship(lazy="raise")


class Action(StrEnum):
    REPORT = "report"
    REGISTER = "register"
    REJECT = "reject"
    MERGE = "merge"
    DISPATCH = "dispatch"
    RETURN = "return"  # 退回: mis-dispatched
    HANDLE = "handle"
    VERIFY = "verify"  # fixed: closed
    REWORK = "rework"  # not fixed: back to the department
    DUPLICATE = "duplicate"  # another report merged into this case
    # 12345 热线工单 (the hotline's steps on the same engine)
    ANSWER = "answer"  # 直接办结: the agent answered the caller at once
    TRANSFER = "transfer"  # 转专线: a specialised line (12319, 12333, 12315) takes the call
    SIGN = "sign"  # 签收: the department takes the ticket
    EXTEND_REQUEST = "extend_request"  # 申请延期
    EXTEND_APPROVE = "extend_approve"  # 延期获批: the handling clock is extended
    EXTEND_REFUSE = "extend_refuse"  # 延期未获批
    URGE = "urge"  # 督办
    FOLLOW_UP = "follow_up"  # 回访: satisfied and solved → closed
    REOPEN = "reopen"  # 回访未解决：重新交办 to the same department
    # 领导信箱 (the letters' steps beyond the ones above: answer, dispatch = 交办, handle = 部门答复,
    # verify = 审核发送, rework = 退回重办)
    LEADER = "leader"  # 呈报领导
    PUBLISH = "publish"  # 选登公开


ACTION_LABELS = {Action.REPORT: "信息收集（上报）", Action.REGISTER: "案卷建立（立案）", Action.REJECT: "不予立案",
                 Action.MERGE: "合并至已有案件", Action.DISPATCH: "任务派遣", Action.RETURN: "退回指挥中心",
                 Action.HANDLE: "任务处理并反馈", Action.VERIFY: "核查通过，结案", Action.REWORK: "核查未通过，返工",
                 Action.DUPLICATE: "重复上报已合并", Action.ANSWER: "直接办结", Action.TRANSFER: "转专线",
                 Action.SIGN: "工单签收", Action.EXTEND_REQUEST: "申请延期", Action.EXTEND_APPROVE: "同意延期",
                 Action.EXTEND_REFUSE: "不同意延期", Action.URGE: "督办", Action.FOLLOW_UP: "回访办结",
                 Action.REOPEN: "回访未解决，重新交办", Action.LEADER: "呈报领导", Action.PUBLISH: "选登公开"}


class Open311Client(Base):
    """A system allowed to file cases through Open311 (its API key, kept as a hash)."""

    __tablename__ = "grid_open311_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the key
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
