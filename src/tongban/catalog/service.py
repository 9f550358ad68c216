"""The rules of the catalog: what a resource must say, the base registries listed automatically,
department datasets and their records, export and import of the whole catalog."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Select, String, bindparam, false, or_, select, type_coerce
from sqlalchemy.orm import Session

from tongban.catalog.models import DatasetRecord, DatasetVersion, Resource, ResourceItem
from tongban.catalog.read_models import REGISTRY_TABLES, registry_versions
from tongban.catalog.schemas import (
    DATA_TYPES, FORMATS, UPDATE_CYCLES, Classification, ItemIn, Openness, ResourceIn, ResourceStatus, SharingType,
)
from tongban.core import audit, clock, events
from tongban.core.auth import Principal
from tongban.core.db.bulk import in_list, list_parameter
from tongban.core.db.driver import DriverStatement
from tongban.core.errors import Problem
from tongban.org import service as org
from tongban.registry.schemas import REGISTRIES, Field, Registry

if TYPE_CHECKING:
    from tongban.org.models import Department

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,39}$")

# The base registries' resource codes are the registry slugs of the registry API.
REGISTRY_CODES = {"persons": "persons", "legal_entities": "legal-entities", "addresses": "addresses"}
_REGISTRY_TEXT = {
    "persons": ("人口基础信息", "全区户籍人口、居住证持有人和来沪人员的身份、户籍、婚姻、教育、就业和社保等基础信息；"
                "各字段由其权威来源部门维护（一数一源）。", Openness.NOT_OPEN),
    "legal_entities": ("法人基础信息", "全区市场主体的登记、税务、社保和公积金登记等基础信息；各字段由其权威来源部门维护。",
                       Openness.CONDITIONAL),
    "addresses": ("标准地址", "全区标准地址：行政区划、街镇、居村委会、门牌和坐标。", Openness.OPEN),
}


def get(db: Session, code: str) -> Resource | None:
    return db.scalar(select(Resource).where(Resource.code == code))


def get_by_id(db: Session, resource_id: int) -> Resource | None:
    return db.get(Resource, resource_id)


def get_or_404(db: Session, code: str) -> Resource:
    resource = get(db, code)
    if resource is None:
        raise Problem("unknown-resource", f"目录中没有编码为 {code} 的信息资源")
    return resource


@dataclass(frozen=True)
class ResourceView:
    """What the exchange needs of a resource, read in one round trip on every call."""

    id: int
    code: str
    name: str
    status: str
    provider_id: int
    key_item: str
    registry_name: str | None
    item_codes: tuple[str, ...]


def registry_of(resource: Resource | ResourceView) -> Registry | None:
    return REGISTRIES.get(resource.registry_name) if resource.registry_name else None


def _item_from_field(registry: Registry, position: int, field: Field) -> dict[str, Any]:
    data_type = {"date": "D", "decimal": "N", "int": "N", "float": "N"}.get(field.kind, "C")
    length = {"resident_id": 18, "credit_code": 18, "date": 10}.get(field.kind, field.max_length if field.kind == "text" else 32)
    conditional = field.personal
    return {"position": position, "code": field.name, "name": field.label, "data_type": data_type, "length": length,
            "description": f"权威来源：{field.duty.value}" + ("；个人信息" if field.personal else ""),
            "sharing_type": SharingType.CONDITIONAL if conditional else SharingType.UNCONDITIONAL,
            "sharing_conditions": "仅限履行法定职责所必需，并说明用途" if conditional else None,
            "legal_basis": None, "personal": field.personal}


def registry_format(registry: Registry) -> str:
    """A registry of points (the standard addresses) is spatial data: read by key like the others,
    and by bounding box as a GeoJSON layer (the exchange's ``…/features``)."""
    return "空间数据" if registry.point is not None else "接口"


def sync_registries(db: Session) -> list[Resource]:
    """List each base registry in the catalog (idempotent): a new field becomes a new item."""
    listed = []
    for name, registry in REGISTRIES.items():
        provider = org.get_by_duty(db, registry.owner.value)
        if provider is None:  # the government is not set up yet
            continue
        code = REGISTRY_CODES[name]
        resource = get(db, code)
        title, summary, openness = _REGISTRY_TEXT[name]
        format_ = registry_format(registry)
        if resource is None:
            resource = Resource(code=code, name=title, provider_id=provider.id, classification=Classification.BASE,
                                summary=summary, format=format_, update_cycle="实时", published_on=clock.today(),
                                status=ResourceStatus.PUBLISHED, version=1, sharing_type=SharingType.CONDITIONAL,
                                sharing_conditions="个人信息项需说明履职依据和用途，经提供方同意",
                                openness=openness, key_item=registry.key, registry_name=name, updated_at=clock.now())
            db.add(resource)
        known = {item.code for item in resource.items}
        added = [f for f in registry.fields if f.name not in known]
        for position, field in enumerate(registry.fields):
            if field.name in known:
                continue
            resource.items.append(ResourceItem(**_item_from_field(registry, position, field)))
        if known and (added or resource.format != format_):
            resource.format = format_
            resource.version += 1
            resource.updated_at = clock.now()
        listed.append(resource)
    db.flush()
    return listed


def _check(db: Session, data: ResourceIn, *, code: str | None) -> None:
    """Everything a resource must say, as one 422 listing each problem."""
    errors = []

    def bad(field: str, code_: str, message: str) -> None:
        errors.append({"field": field, "code": code_, "message": message})

    if code is not None and not CODE_PATTERN.match(code):
        bad("body.code", "invalid_code", "资源编码应为 3–40 位字母、数字、点、横线或下划线，以字母或数字开头")
    if data.format not in FORMATS:
        bad("body.format", "invalid_choice", f"资源格式应为：{'、'.join(FORMATS)}")
    if data.update_cycle not in UPDATE_CYCLES:
        bad("body.update_cycle", "invalid_choice", f"更新周期应为：{'、'.join(UPDATE_CYCLES)}")
    if data.sharing_type == SharingType.NOT_SHARED and not (data.legal_basis or "").strip():
        bad("body.legal_basis", "legal_basis_required", "不予共享的资源必须注明法律、行政法规或政策依据")
    if data.sharing_type == SharingType.CONDITIONAL and not (data.sharing_conditions or "").strip():
        bad("body.sharing_conditions", "conditions_required", "有条件共享的资源必须写明共享条件")
    codes = [item.code for item in data.items]
    for index, item in enumerate(data.items):
        where = f"body.items[{index}]"
        if not CODE_PATTERN.match(item.code) and not re.match(r"^[a-z][a-z0-9_]{0,39}$", item.code):
            bad(f"{where}.code", "invalid_code", f"信息项编码 {item.code} 不合规")
        if codes.count(item.code) > 1:
            bad(f"{where}.code", "duplicate", f"信息项编码 {item.code} 重复")
        if item.data_type not in DATA_TYPES:
            bad(f"{where}.data_type", "invalid_choice", f"数据类型应为：{'、'.join(f'{k}（{v}）' for k, v in DATA_TYPES.items())}")
        if item.sharing_type == SharingType.NOT_SHARED and not (item.legal_basis or "").strip():
            bad(f"{where}.legal_basis", "legal_basis_required", f"信息项“{item.name}”不予共享，必须注明依据")
        if item.sharing_type == SharingType.CONDITIONAL and not (item.sharing_conditions or "").strip():
            bad(f"{where}.sharing_conditions", "conditions_required", f"信息项“{item.name}”有条件共享，必须写明条件")
    if data.key_item not in codes:
        bad("body.key_item", "unknown_item", f"主键信息项 {data.key_item} 不在信息项中")
    if errors:
        raise Problem("validation-error", "；".join(e["message"] for e in errors[:5]), errors=errors)


def _apply_items(resource: Resource, items: list[ItemIn]) -> None:
    current = {item.code: item for item in resource.items}
    wanted = []
    for position, item in enumerate(items):
        row = current.get(item.code) or ResourceItem(code=item.code)
        row.position, row.name, row.data_type, row.length = position, item.name, item.data_type, item.length
        row.description, row.sharing_type = item.description, item.sharing_type
        row.sharing_conditions, row.legal_basis, row.personal = item.sharing_conditions, item.legal_basis, item.personal
        wanted.append(row)
    resource.items[:] = wanted


def create(db: Session, data: ResourceIn, *, provider: Department, actor: audit.Actor) -> Resource:
    _check(db, data, code=data.code)
    if get(db, data.code) is not None:
        raise Problem("conflict", f"资源编码 {data.code} 已被使用")
    resource = Resource(code=data.code, provider_id=provider.id, status=ResourceStatus.DRAFT, version=1,
                        registry_name=None, updated_at=clock.now(), **_resource_fields(data))
    _apply_items(resource, data.items)
    db.add(resource)
    db.flush()
    audit.record(db, actor=actor, action="catalog.create", object_type="resource", object_id=resource.code,
                 department_code=provider.code)
    return resource


def _resource_fields(data: ResourceIn) -> dict[str, Any]:
    return {"name": data.name, "classification": data.classification, "summary": data.summary, "format": data.format,
            "update_cycle": data.update_cycle, "sharing_type": data.sharing_type,
            "sharing_conditions": data.sharing_conditions, "legal_basis": data.legal_basis, "openness": data.openness,
            "key_item": data.key_item}


def update(db: Session, resource: Resource, data: ResourceIn, *, actor: Principal) -> Resource:
    if resource.registry_name:
        raise Problem("conflict", "基础库资源由平台根据基础库结构自动维护，不能手工修改")
    _check(db, data, code=None)
    for name, value in _resource_fields(data).items():
        setattr(resource, name, value)
    _apply_items(resource, data.items)
    resource.version += 1
    resource.updated_at = clock.now()
    db.flush()
    audit.record(db, actor=actor, action="catalog.update", object_type="resource", object_id=resource.code,
                 details={"version": resource.version})
    return resource


_TRANSITIONS = {ResourceStatus.DRAFT: {ResourceStatus.PUBLISHED}, ResourceStatus.PUBLISHED: {ResourceStatus.WITHDRAWN},
                ResourceStatus.WITHDRAWN: {ResourceStatus.PUBLISHED}}


def set_status(db: Session, resource: Resource, status: ResourceStatus, *, actor: audit.Actor) -> Resource:
    if status not in _TRANSITIONS[ResourceStatus(resource.status)]:
        raise Problem("conflict", f"资源当前状态为“{resource.status}”，不能改为“{status.value}”")
    resource.status = status
    if status == ResourceStatus.PUBLISHED:
        resource.published_on = clock.today()
    resource.updated_at = clock.now()
    db.flush()
    audit.record(db, actor=actor, action=f"catalog.{status.value}", object_type="resource", object_id=resource.code)
    return resource


def provided_by(department_id: int | None) -> Select[int]:
    """The ids of the resources a department provides: a subquery for others' filters (the grants
    a provider sees, the usage of its resources)."""
    if department_id is None:
        return select(Resource.id).where(false())
    return select(Resource.id).where(Resource.provider_id == department_id)


def search_query(*, q: str | None, provider: str | None, classification: str | None, sharing_type: str | None,
                 status: str | None):
    query = select(Resource)
    if q:
        like = f"%{q.strip()}%"
        matching_items = select(ResourceItem.resource_id).where(ResourceItem.name.like(like))
        query = query.where(or_(Resource.name.like(like), Resource.code.like(like), Resource.summary.like(like),
                                Resource.id.in_(matching_items)))
    if provider:
        query = query.where(Resource.provider.has(code=provider))
    if classification:
        query = query.where(Resource.classification == classification)
    if sharing_type:
        query = query.where(Resource.sharing_type == sharing_type)
    if status:
        query = query.where(Resource.status == status)
    return query


# ---- export / import of the whole catalog -------------------------------------------------


def export(db: Session) -> dict[str, Any]:
    resources = db.scalars(select(Resource).order_by(Resource.code))
    return {"format": "tongban-catalog", "version": 1, "exported_at": clock.now().isoformat(),
            "resources": [to_document(r) for r in resources]}


def to_document(resource: Resource) -> dict[str, Any]:
    return {"code": resource.code, "provider": resource.provider.code, "status": resource.status,
            "version": resource.version, "registry": resource.registry_name,
            "published_on": resource.published_on.isoformat() if resource.published_on else None,
            **_resource_fields_of(resource),
            "items": [{"code": i.code, "name": i.name, "data_type": i.data_type, "length": i.length,
                       "description": i.description, "sharing_type": i.sharing_type,
                       "sharing_conditions": i.sharing_conditions, "legal_basis": i.legal_basis,
                       "personal": i.personal} for i in resource.items]}


def _resource_fields_of(resource: Resource) -> dict[str, Any]:
    return {"name": resource.name, "classification": resource.classification, "summary": resource.summary,
            "format": resource.format, "update_cycle": resource.update_cycle, "sharing_type": resource.sharing_type,
            "sharing_conditions": resource.sharing_conditions, "legal_basis": resource.legal_basis,
            "openness": resource.openness, "key_item": resource.key_item}


def _same(resource: Resource, data: ResourceIn) -> bool:
    current = to_document(resource)
    wanted = {**_resource_fields(data), "items": [item.model_dump() for item in data.items]}
    return all(current[name] == value for name, value in wanted.items())


def import_document(db: Session, document: dict[str, Any], *, actor: Principal) -> dict[str, int]:
    """Upsert every resource of an exported catalog; all or nothing (the caller commits)."""
    from pydantic import ValidationError

    if not isinstance(document, dict) or document.get("format") != "tongban-catalog" or not isinstance(document.get("resources"), list):
        raise Problem("validation-error", "不是 tongban 目录导出文件（缺少 format=tongban-catalog 或 resources 列表）")
    created = updated = unchanged = 0
    errors = []
    seen = set()
    for index, entry in enumerate(document["resources"]):
        try:
            data = ResourceIn.model_validate(entry)
        except ValidationError as error:
            errors.append({"field": f"resources[{index}]", "code": "invalid", "message": str(error.errors()[0]["msg"])})
            continue
        if data.code in seen:
            errors.append({"field": f"resources[{index}].code", "code": "duplicate", "message": f"资源编码 {data.code} 重复"})
            continue
        seen.add(data.code)
        provider = org.get_by_code(db, str(entry.get("provider") or ""))
        if provider is None:
            errors.append({"field": f"resources[{index}].provider", "code": "unknown_department",
                           "message": f"提供部门 {entry.get('provider')} 不存在"})
            continue
        existing = get(db, data.code)
        try:
            if existing is None:
                resource = create(db, data, provider=provider, actor=actor)
                status = entry.get("status", ResourceStatus.DRAFT)
                if status in (ResourceStatus.PUBLISHED, ResourceStatus.WITHDRAWN):
                    set_status(db, resource, ResourceStatus.PUBLISHED, actor=actor)
                    if status == ResourceStatus.WITHDRAWN:
                        set_status(db, resource, ResourceStatus.WITHDRAWN, actor=actor)
                created += 1
            elif existing.registry_name:
                unchanged += 1  # the base registries are kept by the platform
            elif _same(existing, data):
                unchanged += 1
            else:
                update(db, existing, data, actor=actor)
                updated += 1
        except Problem as problem:
            errors.append({"field": f"resources[{index}]", "code": problem.slug, "message": problem.detail})
    if errors:
        db.rollback()
        raise Problem("validation-error", f"目录文件有 {len(errors)} 处错误，未导入任何资源", errors=errors[:100])
    return {"created": created, "updated": updated, "unchanged": unchanged}


# ---- records: what the exchange reads ------------------------------------------------------


def dataset_subject(resource: Resource | ResourceView) -> str:
    return f"dataset.{resource.code}"


def feed_subject(resource: Resource | ResourceView) -> str:
    """The outbox subject carrying this resource's changes."""
    return f"{events.SUBJECT_PREFIX}.registry.{resource.registry_name}" if resource.registry_name \
        else f"{events.SUBJECT_PREFIX}.{dataset_subject(resource)}"


def _date_read_as_stored(field: Field, dialect: str) -> bool:
    """SQLite keeps a date as its ISO 8601 text, which is the answer's text: read as stored, it is
    not parsed into a date and written out again, a thousand times a batch."""
    return dialect == "sqlite" and field.kind == "date"


@functools.lru_cache(maxsize=512)
def _registry_rows(registry_name: str, field_names: tuple[str, ...], dialect: str):
    """The read of some columns of registry rows by key; built once (the exchange asks it on
    every call, and building a statement and its cache key cost more than the read)."""
    registry, table = REGISTRIES[registry_name], REGISTRY_TABLES[registry_name]
    by_name = {f.name: f for f in registry.fields}
    columns = [type_coerce(table.c[name], String).label(name) if _date_read_as_stored(by_name[name], dialect)
               else table.c[name] for name in field_names]
    # On SQLite the time is read as the text it stores too (``_iso_from_stored``).
    updated_at = type_coerce(table.c.updated_at, String) if dialect == "sqlite" else table.c.updated_at
    return DriverStatement(select(table.c[registry.key], table.c.version, updated_at, *columns)
                           .where(in_list(dialect, table.c[registry.key], "keys")))


def _iso_from_stored(stored: str) -> str:
    """SQLite's text of a UTC time ("2026-11-23 04:19:33.123456", the zone not kept) as ISO 8601 in
    UTC, spelt as ``datetime.isoformat`` spells it: no fraction when there is none."""
    text = stored.replace(" ", "T", 1)
    if text.endswith(".000000"):
        text = text[:-7]
    return text + "+00:00"


@functools.lru_cache(maxsize=4)
def _dataset_rows(dialect: str):
    return select(DatasetRecord).where(DatasetRecord.resource_id == bindparam("resource"),
                                       in_list(dialect, DatasetRecord.record_key, "keys"))


def read_records(db: Session, resource: Resource | ResourceView, keys: list[str],
                 items: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Current values (text) of the keys that exist: {key: {"values": {...}, "version", "updated_at"}},
    ``updated_at`` as ISO 8601 text in UTC. Given ``items``, the values hold exactly those items and
    nothing else (the exchange answers them as they are); a registry row is then read for those
    columns alone."""
    found: dict[str, dict[str, Any]] = {}
    registry = registry_of(resource)
    dialect = db.get_bind().dialect.name
    iso = _iso_from_stored if dialect == "sqlite" else datetime.isoformat
    if registry is not None:
        fields = [f for f in registry.fields if items is None or f.name in items]
        names = tuple(f.name for f in fields)
        statement = _registry_rows(registry.name, names, dialect)
        # A batch reads thousands of values, most of them stored as text already: only the others
        # (dates, numbers) are made text, by position, and each record's values are zipped at once.
        converted = [(index, f.to_text) for index, f in enumerate(fields)
                     if not (f.stored_as_text or _date_read_as_stored(f, dialect))]
    for start in range(0, len(keys), 500):
        part = list_parameter(db, keys[start:start + 500])
        if registry is not None:
            for row in statement.rows(db, {"keys": part}):
                values = row[3:]
                if converted:
                    values = list(values)
                    for index, to_text in converted:
                        if values[index] is not None:
                            values[index] = to_text(values[index])
                found[row[0]] = {"values": dict(zip(names, values)), "version": row[1], "updated_at": iso(row[2])}
        else:
            for record in db.scalars(_dataset_rows(dialect), {"resource": resource.id, "keys": part}):
                values = json.loads(record.data)
                if items is not None:
                    values = {code: values.get(code) for code in items}
                found[record.record_key] = {"values": values, "version": record.version,
                                            "updated_at": record.updated_at.isoformat()}
    return found


def values_at(db: Session, resource: Resource | ResourceView, versions: list[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    """The values of records as of given versions (the change feed).

    Asked by key, not by (key, version) pairs: SQLite uses no index for a list of row values,
    and a record has few versions, so the others are dropped here."""
    wanted = set(versions)
    keys = list({key for key, _ in versions})
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for start in range(0, len(keys), 500):
        part = keys[start:start + 500]
        if resource.registry_name:
            versions_table = registry_versions.c
            query = select(versions_table.record_key, versions_table.version, versions_table.data).where(
                versions_table.registry_name == resource.registry_name, versions_table.record_key.in_(part))
        else:
            query = select(DatasetVersion.record_key, DatasetVersion.version, DatasetVersion.data).where(
                DatasetVersion.resource_id == resource.id, DatasetVersion.record_key.in_(part))
        for key, version, data in db.execute(query):
            if (key, version) in wanted:
                found[(key, version)] = orjson.loads(data)
    return found


def push_records(db: Session, resource: Resource, records: list[dict[str, Any]], *, actor) -> dict[str, int]:
    """Upsert records of a department dataset; each change versioned and published (the caller commits)."""
    if resource.registry_name:
        raise Problem("conflict", "基础库的数据通过基础库接口由权威来源部门维护，不能经目录推送")
    if resource.status == ResourceStatus.WITHDRAWN:
        raise Problem("conflict", f"资源 {resource.code} 已撤回，不能推送数据")
    items = {item.code: item for item in resource.items}
    errors = []
    cleaned: dict[str, dict[str, str | None]] = {}
    for index, record in enumerate(records):
        unknown = [name for name in record if name not in items]
        key = record.get(resource.key_item)
        if unknown:
            errors.append({"field": f"body.records[{index}]", "code": "unknown_item",
                           "message": f"资源 {resource.code} 没有信息项：{'、'.join(map(str, unknown[:10]))}"})
            continue
        if key in (None, ""):
            errors.append({"field": f"body.records[{index}].{resource.key_item}", "code": "missing_key", "message": "缺少主键信息项"})
            continue
        if str(key) in cleaned:
            errors.append({"field": f"body.records[{index}].{resource.key_item}", "code": "duplicate",
                           "message": f"主键 {key} 在本次推送中重复"})
            continue
        values = {}
        for name, value in record.items():
            text = None if value is None else str(value)
            if text is not None and len(text) > max(items[name].length, 1):
                errors.append({"field": f"body.records[{index}].{name}", "code": "too_long",
                               "message": f"{items[name].name}超过 {items[name].length} 个字符"})
            values[name] = text
        cleaned[str(key)] = values
    if errors:
        raise Problem("validation-error", f"{len(errors)} 条记录有误，未写入任何记录", errors=errors[:100])
    existing = {r.record_key: r for r in db.scalars(select(DatasetRecord).where(
        DatasetRecord.resource_id == resource.id, DatasetRecord.record_key.in_(list(cleaned))).with_for_update())}
    now = clock.now()
    created = changed = unchanged = 0
    for key, values in cleaned.items():
        stored = existing.get(key)
        before = json.loads(stored.data) if stored else {}
        after = {code: values.get(code, before.get(code)) for code in items}
        changed_items = [code for code in items if before.get(code) != after[code]]
        if stored is not None and not changed_items:
            unchanged += 1
            continue
        version = 1 if stored is None else stored.version + 1
        data = json.dumps(after, ensure_ascii=False)
        if stored is None:
            db.add(DatasetRecord(resource_id=resource.id, record_key=key, data=data, version=1, updated_at=now))
            created += 1
        else:
            stored.data, stored.version, stored.updated_at = data, version, now
            changed += 1
        db.add(DatasetVersion(resource_id=resource.id, record_key=key, version=version, data=data,
                              changed_items=json.dumps(changed_items), changed_at=now))
        events.publish(db, event_type="DatasetRecordChanged" if version > 1 else "DatasetRecordAdded",
                       subject=dataset_subject(resource), record_key=key,
                       data={"resource": resource.code, "key": key, "version": version, "changed_fields": changed_items})
    audit.record(db, actor=actor, action="catalog.push", object_type="resource", object_id=resource.code,
                 details={"created": created, "changed": changed, "unchanged": unchanged})
    return {"created": created, "changed": changed, "unchanged": unchanged}
