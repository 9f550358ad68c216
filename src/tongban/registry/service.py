"""The rules of the base registries: one datum, one source; every change versioned and published.

``write`` is the only way anything changes a registry record (API, corrections and cases come
through it). ``importer`` writes thousands of records a batch by the same rules, the functions
``write`` is made of: ``foreign_fields`` and ``may_create`` (authority), ``missing_required``,
``snapshot`` and ``changed_fields`` (the version row), ``record_event`` (the outbox event); it
audits the import as a whole, and each version names the import job and the file's line.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from tongban.core import audit, clock, events
from tongban.core.auth import Principal
from tongban.core.errors import Problem
from tongban.core.idnumbers import InvalidNumber, check_credit_code, check_resident_id
from tongban.core.inputs import normalise_code
from tongban.core.permissions import Permission
from tongban.org import service as org
from tongban.registry import masking
from tongban.registry.masking import mask
from tongban.registry.models import TABLES, CorrectionRequest, RecordVersion
from tongban.registry.schemas import DUTY_LABELS, REGISTRIES, Duty, Field, FieldError, Registry


class Source(Protocol):
    """A department as the registries see it (org's ``Department`` is one): who writes, and the
    duty (``Duty``) it is the authoritative source for."""

    @property
    def code(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def duty(self) -> str | None: ...


def registry_or_404(registries: dict[str, Registry], name: str) -> Registry:
    if name not in registries:
        raise Problem("not-found", f"没有名为 {name} 的基础库（可用：{'、'.join(registries)}）")
    return registries[name]


def source_name(db: Session, duty: Duty) -> str:
    """The name of the department holding a duty, for messages ("the source is 公安分局")."""
    department = org.get_by_duty(db, duty.value)
    return department.name if department else f"{DUTY_LABELS[duty]}部门"


def foreign_fields(fields: list[Field], department: Source) -> list[Field]:
    """The fields a department may not write: those it is not the source of."""
    return [f for f in fields if f.duty.value != department.duty]


def may_create(registry: Registry, department: Source) -> bool:
    """Only the registry's owner (the source of its key) creates records."""
    return department.duty == registry.owner.value


def check_authority(db: Session, registry: Registry, fields: list[Field], department: Source, *, creating: bool) -> None:
    """Refuse (403) unless the department is the source of every field it writes."""
    foreign = foreign_fields(fields, department)
    if foreign:
        by_source: dict[Duty, list[str]] = {}
        for f in foreign:
            by_source.setdefault(f.duty, []).append(f.label)
        parts = "；".join(f"{'、'.join(labels)}的权威来源是{source_name(db, duty)}" for duty, labels in by_source.items())
        raise Problem("not-authoritative", f"{department.name}不是这些字段的数据来源：{parts}。请向来源部门提出纠错申请。",
                      status=403, title="不是该数据的权威来源",
                      sources={f.name: source_name(db, f.duty) for f in foreign})
    if creating and not may_create(registry, department):
        raise Problem("not-authoritative", f"只有{source_name(db, registry.owner)}可以在{registry.label}库中新建记录",
                      status=403, title="不是该数据的权威来源")


def parse_values(registry: Registry, raw: dict[str, Any], *, location: str = "body.values") -> dict[str, Any]:
    """Typed values, or one 422 listing every bad field."""
    errors, values = [], {}
    for name, value in raw.items():
        field = registry.by_name.get(name)
        if field is None:
            errors.append({"field": f"{location}.{name}", "code": "unknown_field", "message": f"{registry.label}库没有字段 {name}"})
            continue
        try:
            values[name] = field.parse(value)
        except FieldError as error:
            errors.append({"field": f"{location}.{name}", "code": "invalid_value", "message": str(error)})
    if errors:
        raise Problem("validation-error", "、".join(e["field"] for e in errors) + " 有误", errors=errors)
    return values


def current_row(db: Session, registry: Registry, key: str, *, lock: bool = False) -> dict[str, Any] | None:
    row = db.execute(_current_row(registry.name, lock), {"key": key}).mappings().first()
    return dict(row) if row else None


@functools.lru_cache(maxsize=64)
def _current_row(registry_name: str, lock: bool):
    """Built once per registry: a case's decisions and every registry page read records by key."""
    table = TABLES[registry_name]
    query = select(table).where(table.c[REGISTRIES[registry_name].key] == bindparam("key"))
    return query.with_for_update() if lock else query


def records_query(registry: Registry, names: Sequence[str], *, keys: Sequence[str] | None = None):
    """The current records' key (as ``record_key``), the named fields and ``updated_at``, for a
    reader of many records at once (policy matching); ``keys`` narrows it to those records."""
    table = TABLES[registry.name]
    key = table.c[registry.key]
    query = select(key.label("record_key"), *(table.c[name] for name in names), table.c.updated_at).order_by(key)
    return query.where(key.in_(list(keys))) if keys is not None else query


def snapshot(registry: Registry, values: dict[str, Any]) -> dict[str, str | None]:
    """A record's values as text, every field: what its version row keeps and changes compare."""
    return {f.name: f.to_text(values.get(f.name)) for f in registry.fields}


def changed_fields(registry: Registry, before: dict[str, str | None], after: dict[str, str | None]) -> list[str]:
    return [f.name for f in registry.fields if before[f.name] != after[f.name]]


def missing_required(registry: Registry, values: dict[str, Any]) -> list[str]:
    """The labels of the required fields a record lacks."""
    return [f.label for f in registry.fields if f.required and values.get(f.name) in (None, "")]


def record_event(registry: Registry, key: str, *, version: int, changed: list[str], source: str,
                 reason: str) -> dict[str, Any]:
    """The event of a record's new version (``PersonRegistered``, ``PersonChanged``...), as
    ``events.publish`` and ``events.outbox_rows`` take it: one shape for writes and imports."""
    return {"event_type": f"{registry.event_prefix}{'Registered' if version == 1 else 'Changed'}",
            "subject": f"registry.{registry.name}", "record_key": key,
            "data": {"registry": registry.name, "key": key, "version": version, "changed_fields": changed,
                     "source": source, "reason": reason}}


@dataclass(frozen=True)
class WriteResult:
    key: str
    version: int
    created: bool
    changed_fields: list[str]


def write(db: Session, *, registry: Registry, key: str, values: dict[str, Any], department: Source,
          actor: audit.Actor, reason: str, create: bool = True) -> WriteResult | None:
    """Create or change one record with typed ``values``; versioned, published, audited.
    ``create=False`` only changes a record that exists: None when there is none."""
    fields = [registry.by_name[name] for name in values if name != registry.key]
    existing = current_row(db, registry, key, lock=True)
    if existing is None and not create:
        return None
    check_authority(db, registry, fields, department, creating=existing is None)
    merged = {f.name: (existing or {}).get(f.name) for f in registry.fields}
    merged.update(values)
    merged[registry.key] = key
    if existing is None:
        registry.derive(merged)
    try:
        registry.check_record(merged)
    except FieldError as error:
        raise Problem("validation-error", str(error), errors=[{"field": "body.values", "code": "inconsistent", "message": str(error)}]) from None
    missing = missing_required(registry, merged)
    if missing:
        raise Problem("validation-error", f"新建记录缺少必填字段：{'、'.join(missing)}",
                      errors=[{"field": "body.values", "code": "missing", "message": f"缺少{m}"} for m in missing])
    before = snapshot(registry, existing or {})
    after = snapshot(registry, merged)
    changed = changed_fields(registry, before, after)
    if existing is not None and not changed:
        return WriteResult(key, existing["version"], False, [])

    table = TABLES[registry.name]
    now = clock.now()
    version = 1 if existing is None else existing["version"] + 1
    row = {**merged, "version": version, "updated_at": now, "updated_by": department.code,
           "import_job": None, "import_line": None}
    if existing is None:
        db.execute(insert(table).values(row))
    else:
        db.execute(update(table).where(and_(table.c[registry.key] == key, table.c.version == existing["version"]))
                   .values(row))
    db.add(RecordVersion(registry_name=registry.name, record_key=key, version=version,
                         data=json.dumps(after, ensure_ascii=False), changed_fields=json.dumps(changed),
                         department_code=department.code, actor_name=actor.actor_name, reason=reason, changed_at=now))
    events.publish(db, **record_event(registry, key, version=version, changed=changed, source=department.code, reason=reason))
    audit.record(db, actor=actor, action=f"registry.{'create' if existing is None else 'change'}",
                 object_type=registry.name, object_id=key, purpose=reason,
                 details={"version": version, "changed_fields": changed}, department_code=department.code)
    return WriteResult(key, version, existing is None, changed)


def as_of(db: Session, registry: Registry, key: str, moment: datetime) -> tuple[dict[str, str | None], RecordVersion] | None:
    """The record as it stood at ``moment`` (None if it did not exist yet)."""
    version = db.scalar(select(RecordVersion).where(RecordVersion.registry_name == registry.name, RecordVersion.record_key == key,
                                                    RecordVersion.changed_at <= moment)
                        .order_by(RecordVersion.version.desc()).limit(1))
    return (json.loads(version.data), version) if version else None


def features_in_box(db: Session, registry: Registry, box: tuple[float, float, float, float], items: list[str],
                    limit: int) -> list[dict[str, Any]]:
    """The current records of a point registry (``Registry.point``: the standard addresses) inside
    the box (min_lon, min_lat, max_lon, max_lat; WGS 84, edges included), as GeoJSON Point
    features by key, at most ``limit``; each feature's properties are exactly ``items``, as text
    (as the exchange answers a record by key). Records without a position are not on the map.

    The caller decides who may read which items (the exchange's grants, a permission) and
    masks or audits as the registry's rules say: nothing is masked here, so a registry with
    personal fields is not served as a layer."""
    if registry.point is None or has_personal(registry):
        raise ValueError(f"{registry.name} is not a layer")
    table = TABLES[registry.name]
    lon, lat = (table.c[name] for name in registry.point)
    fields = [f for f in registry.fields if f.name in items]
    min_lon, min_lat, max_lon, max_lat = box
    rows = db.execute(select(lon, lat, *[table.c[f.name] for f in fields])
                      .where(lon.between(min_lon, max_lon), lat.between(min_lat, max_lat))
                      .order_by(table.c[registry.key]).limit(limit))
    return [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [row[0], row[1]]},
             "properties": {f.name: f.to_text(value) for f, value in zip(fields, row[2:], strict=True)}}
            for row in rows]


def present(registry: Registry, values: dict[str, Any], *, clear: bool) -> tuple[dict[str, str | None], list[str]]:
    """Text values for a reader; personal fields masked unless ``clear``. Returns (values, masked)."""
    shown, masked = {}, []
    for f in registry.fields:
        text = values.get(f.name) if isinstance(values.get(f.name), str | None) else f.to_text(values.get(f.name))
        if f.personal and not clear and text not in (None, ""):
            shown[f.name] = mask(f, text)
            masked.append(f.name)
        else:
            shown[f.name] = text
    return shown, masked


def validate_key(registry: Registry, raw: str) -> str:
    """Keys are validated at the edge: a malformed ID number is a 422, not a 404."""
    try:
        if registry.name == "persons":
            return check_resident_id(raw)
        if registry.name == "legal_entities":
            return check_credit_code(raw)
    except InvalidNumber as error:
        raise Problem("validation-error", error.message, errors=[{"field": "path.key", "code": error.code, "message": error.message}]) from None
    raw = normalise_code(raw)
    if not (raw.isascii() and raw.isdigit() and len(raw) == 18):
        raise Problem("validation-error", "地址编码应为 18 位数字",
                      errors=[{"field": "path.key", "code": "invalid_address_code", "message": "地址编码应为 18 位数字"}])
    return raw


def resolve_key(registry: Registry, raw: str, *, secret_key: str) -> str:
    """A key typed in full, or the opaque reference a masked search result carries instead."""
    if raw.startswith(masking.REF_PREFIX):
        key = masking.dereference(secret_key, registry.name, raw)
        if key is None:
            raise Problem("validation-error", "记录引用无效或已过期，请重新查询",
                          errors=[{"field": "path.key", "code": "invalid_reference", "message": "记录引用无效或已过期"}])
        return key
    return validate_key(registry, raw)


def has_personal(registry: Registry) -> bool:
    return any(f.personal for f in registry.fields)


def key_is_personal(registry: Registry) -> bool:
    return registry.by_name[registry.key].personal


def shown_key(registry: Registry, key: str, *, clear: bool) -> str:
    """The record key as a reader may see it (an ID number is personal data too)."""
    field = registry.by_name[registry.key]
    return key if clear or not field.personal else masking.mask(field, key) or key


MIN_PURPOSE = 2


def stated_purpose(purpose: str | None) -> str | None:
    """A purpose worth the name (two characters or more once trimmed), or None."""
    purpose = (purpose or "").strip()
    return purpose if len(purpose) >= MIN_PURPOSE else None


def by_link(principal: Principal, method: str) -> bool:
    """Whether a purpose arriving with this request could have been put there by another site: a
    browser session's GET carries the cookie on a cross-site link (SameSite=lax), and its POSTs are
    CSRF-checked. Bearer callers are not exposed: no other site can attach their token."""
    return principal.via_session and method.upper() in ("GET", "HEAD")


def may_read_clear(principal: Principal, purpose: str | None, *, from_link: bool = False) -> bool:
    """The one rule for clear personal values: the right to them, a stated purpose, and that
    purpose given by the reader (a form or API POST, or a bearer token), never by a link."""
    return (not from_link and stated_purpose(purpose) is not None
            and principal.can(Permission.REGISTRY_READ_PERSONAL))


def refuse_purpose_by_link(purpose: str | None, *, from_link: bool) -> None:
    if from_link and purpose:
        raise Problem("purpose-by-post", "浏览器会话须通过 POST（页面表单，或带 X-CSRF-Token 头的 API 请求）说明查阅用途，"
                      "不能写在链接里", errors=[{"field": "query.purpose", "code": "purpose_by_post",
                                                   "message": "查阅用途须以 POST 提交"}])


def reveal(db, principal: Principal, registry: Registry, key: str | None, purpose: str | None, *,
           from_link: bool = False, **details) -> bool:
    """Decide whether this read is in clear, and audit it with its purpose: call before answering,
    commit, then answer; no personal data leaves unlogged."""
    clear = may_read_clear(principal, purpose, from_link=from_link)
    audit_read(db, principal, registry, key, stated_purpose(purpose) if clear else purpose, clear, **details)
    return clear


def audit_read(db, principal: Principal, registry: Registry, key: str | None, purpose: str | None, clear: bool, **details) -> None:
    if has_personal(registry):
        audit.record(db, actor=principal, action="registry.read", object_type=registry.name, object_id=key,
                     purpose=purpose, details={"clear": clear, **details})


def count_corrections_to_decide(db: Session, principal: Principal) -> int:
    """How many correction requests wait for the reader's department to decide, as the source of
    the field (``/staff/corrections`` offers each a decision form)."""
    if not principal.can(Permission.CORRECTION_DECIDE) or principal.department_code is None:
        return 0
    return db.scalar(select(func.count()).select_from(CorrectionRequest).where(
        CorrectionRequest.status == "pending", CorrectionRequest.source_department == principal.department_code)) or 0
