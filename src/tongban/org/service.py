"""Departments: read and register."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tongban.core.db.cache import per_generation_lookup, per_transaction
from tongban.core.errors import Problem
from tongban.org.models import Department
from tongban.org.schemas import (
    LEVEL_LABELS, OFFICE_LABELS, DepartmentCreate, DepartmentName, DepartmentRead, DepartmentUpdate, Level, Office,
)

_LEVEL_ORDER = [Level.CITY, Level.DISTRICT, Level.TOWN, Level.VILLAGE]


def get_by_code(db: Session, code: str) -> Department | None:
    return by_codes(db, [code]).get(code)


def by_codes(db: Session, codes) -> dict[str, Department]:
    """The departments of these codes that exist, read in one query. Looked up many times in one
    unit of work (every task of a bundle names its department), so each is read once per
    transaction; an absent one is asked again, as it may be created in the same transaction."""
    known: dict[str, Department] = per_transaction(db, "departments", dict)
    missing = [code for code in dict.fromkeys(codes) if code not in known]
    if missing:
        known.update((row.code, row) for row in db.scalars(_BY_CODES, {"codes": missing}))
    return {code: known[code] for code in codes if code in known}


_BY_CODES = select(Department).where(Department.code.in_(bindparam("codes", expanding=True)))  # built once: asked often


def ids_by_codes(db: Session, codes) -> dict[str, int]:
    """The ids of the departments of these codes that exist: every step of a case names its
    tasks' departments, so they are kept while the reference data is unchanged
    (``per_generation``); an absent one is asked again."""
    return per_generation_lookup(db, "department-ids", codes,
                                 lambda missing: [(code, id_) for code, id_ in db.execute(_IDS_BY_CODES, {"codes": missing})])


_IDS_BY_CODES = select(Department.code, Department.id).where(Department.code.in_(bindparam("codes", expanding=True)))


def get(db: Session, department_id: int) -> Department | None:
    return db.get(Department, department_id)


def names_by_ids(db: Session, ids) -> dict[int, DepartmentName]:
    """The code and name of the departments of these ids that exist: a case's answer names the
    departments of its trail, so they are kept while the reference data is unchanged."""
    return per_generation_lookup(db, "department-names", [i for i in ids if i is not None],
                                 lambda missing: [(id_, DepartmentName(code, name))
                                                  for id_, code, name in db.execute(_NAMES_BY_IDS, {"ids": missing})])


_NAMES_BY_IDS = select(Department.id, Department.code, Department.name).where(Department.id.in_(bindparam("ids", expanding=True)))


def get_by_code_or_404(db: Session, code: str) -> Department:
    department = get_by_code(db, code)
    if department is None:
        raise Problem("not-found", f"部门代码 {code} 不存在")
    return department


def get_by_duty(db: Session, duty: str) -> Department | None:
    return db.scalar(select(Department).where(Department.duty == duty))


def list_all(db: Session) -> list[Department]:
    return list(db.scalars(select(Department).order_by(Department.id)))


def implementation_prefixes(db: Session) -> dict[str, str]:
    """Each department code → the start of its service items' 实施编码 (``implementation_prefix``).
    Only departments with an organ code implement service items; they come in the departments'
    own order (``list_all``)."""
    rows = db.execute(select(Department.code, Department.division_code, Department.organ_code).order_by(Department.id))
    return {code: implementation_prefix(division, organ) for code, division, organ in rows if organ is not None}


def implementation_prefix(division_code: str, organ_code: str) -> str:
    """What comes before an item's 12-digit basic code in its 实施编码: "11", the district's GB/T 2260
    code (the first six digits of the department's division code) and the organ code.

    "11" is the kind of body that implements the item, an administrative organ: 登记管理部门 1
    (机构编制) and 机构类别 1 (机关), as the first two characters of an organ's 统一社会信用代码
    (GB 32100) read. Every department that implements service items here is one.
    """
    return "11" + division_code[:6] + organ_code


def to_read(department: Department) -> DepartmentRead:
    return DepartmentRead(
        code=department.code,
        name=department.name,
        short_name=department.short_name,
        level=Level(department.level),
        level_label=LEVEL_LABELS[Level(department.level)],
        division_code=department.division_code,
        organ_code=department.organ_code,
        duty=department.duty,
        office=department.office,
        parent_code=department.parent.code if department.parent else None,
        phone=department.phone,
        address=department.address,
    )


def create(db: Session, *, department_in: DepartmentCreate) -> Department:
    if get_by_code(db, department_in.code) is not None:
        raise Problem("conflict", f"部门代码 {department_in.code} 已存在")
    parent = None
    if department_in.parent_code:
        parent = get_by_code(db, department_in.parent_code)
        if parent is None:
            raise Problem("validation-error", f"上级部门 {department_in.parent_code} 不存在",
                          errors=[{"field": "body.parent_code", "code": "unknown_department", "message": "上级部门不存在"}])
        if _LEVEL_ORDER.index(Level(parent.level)) > _LEVEL_ORDER.index(department_in.level):
            raise Problem("validation-error", "上级部门的层级不能低于本部门",
                          errors=[{"field": "body.level", "code": "level_above_parent", "message": "层级高于上级部门"}])
    department = Department(
        code=department_in.code,
        name=department_in.name,
        short_name=department_in.short_name,
        level=department_in.level.value,
        division_code=department_in.division_code,
        organ_code=department_in.organ_code,
        parent=parent,
        phone=department_in.phone,
        address=department_in.address,
    )
    db.add(department)
    db.flush()
    return department


def update(db: Session, code: str, changes: DepartmentUpdate) -> tuple[Department, dict[str, tuple]]:
    """Change what ``changes`` names (only the fields it was given); the changed fields with their
    values before and after, for the audit. An organ code belongs to one department only."""
    department = get_by_code_or_404(db, code)
    given = changes.model_dump(include=changes.model_fields_set)
    organ_code = given.get("organ_code")
    if organ_code is not None:
        holder = db.scalar(select(Department).where(Department.organ_code == organ_code, Department.id != department.id))
        if holder is not None:
            raise Problem("conflict", f"机构标识 {organ_code} 已是「{holder.name}」的，每个机构的标识各不相同",
                          errors=[{"field": "body.organ_code", "code": "organ_code_taken", "message": "机构标识已被使用"}])
    if given.get("office") is not None:
        holder = db.scalar(select(Department).where(Department.office == given["office"], Department.id != department.id))
        if holder is not None:
            raise Problem("conflict", f"「{holder.name}」已是{OFFICE_LABELS[Office(given['office'])]}，请先取消它的这一职能",
                          errors=[{"field": "body.office", "code": "office_taken", "message": "该职能已由其他机构承担"}])
    changed = {}
    for field, value in given.items():
        if isinstance(value, str):
            value = value.strip() or None
        if getattr(department, field) != value:
            changed[field] = (getattr(department, field), value)
            setattr(department, field, value)
    db.flush()
    return department, changed


def office(db: Session, which: Office) -> Department | None:
    """The department that is ``which`` office of the district, if one is marked."""
    return db.scalar(select(Department).where(Department.office == which.value))


def by_division(db: Session, division_code: str) -> Department | None:
    """The department of a division (a street's office by its 9-digit town code: 属地)."""
    return db.scalars(select(Department).where(Department.division_code == division_code).order_by(Department.id)).first()


def egov_office(db: Session) -> Department:
    """The e-government office (电子政务办): the department marked ``office = egov``."""
    found = office(db, Office.EGOV)
    if found is None:
        raise Problem("service-unavailable", "尚未指定电子政务办：请由平台管理员在机构信息中设置")
    return found
