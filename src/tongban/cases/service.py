"""前台一口受理、后台协同办理: applications from submission to result.

An application is filed once (online by the applicant, or at the window by a clerk), checked
against the items' materials, accepted once, and then runs its BPMN process: each open user
task is a row in a department's queue. The statutory clock starts at acceptance, stops while the
applicant supplements, and resumes. Approved items issue their electronic licences and write
their results to the base registries through the authoritative department.
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload, undefer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from tongban.accounts import service as accounts
from tongban.cases.bpmn import parse as bpmn_parse
from tongban.cases.bpmn import run as bpmn_run
from tongban.cases.bpmn.model import ProcessDefinition, ProcessError, Step
from tongban.cases.bundles import BUNDLES, SINGLE_ITEM_FIELDS, Bundle, FormField
from tongban.cases.models import (
    DECISION_LABELS, FINISHED, Application, ApplicationStatus, CaseStep, CaseTask, Licence, ProcessDefinitionRow,
    TaskStatus,
)
from tongban.core import audit, idempotency, numbers
from tongban.core.auth import Principal
from tongban.core.db.cache import per_generation
from tongban.core.errors import Problem
from tongban.core.idnumbers import InvalidNumber, check_credit_code, check_resident_id, new_credit_code
from tongban.core.inputs import InvalidNumberText, normalise_code, parse_number
from tongban.core.pagination import paginate
from tongban.core.permissions import Permission
from tongban.core.workdays import WorkingCalendar
from tongban.items import service as items
from tongban.notifications.service import notify
from tongban.org import service as org
from tongban.registry import service as registry
from tongban.registry.schemas import LEGAL_ENTITIES, REGISTRIES
from tongban.sharing.schemas import EGOV_CODE
from tongban.supervision import service as supervision
from tongban.supervision.service import ClockKind, Deadline
from tongban.core import clock as wall

SINGLE_ITEM_PROCESS = "single_item"
# 行政许可法第三十二条、第八十二条: incomplete materials are told within five working days; the
# acceptance decision is timed against the same limit.
ACCEPTANCE_DAYS = 5
_RANDOM = random.SystemRandom()
# Milliseconds the engine took for this request's step; the API reports it as Server-Timing.
engine_ms: ContextVar[float | None] = ContextVar("engine_ms", default=None)


def _timed(run, *args, **kwargs) -> Step:
    started = time.perf_counter()
    try:
        return run(*args, **kwargs)
    finally:
        engine_ms.set((time.perf_counter() - started) * 1000)


def _flushed_once(work):
    """Run a step of a case without autoflush: its changes (the application's status, due date
    and state; the task, clocks, steps) reach the database in one flush where they are needed,
    not piecemeal before each of the step's queries. Queries in such a step must not depend on
    its unflushed changes (``_sync`` judges the rows it reads by their state in the session)."""

    @functools.wraps(work)
    def run(db: Session, *args, **kwargs):
        with db.no_autoflush:
            return work(db, *args, **kwargs)
    return run


# ------------------------------------------------------------------ process definitions

def load_demo_definitions(db: Session, *, actor) -> int:
    """The demo processes, as version 1 of their keys, unless the key exists already."""
    added = 0
    for definition in bpmn_parse.load_demo_definitions():
        if db.scalar(select(ProcessDefinitionRow.id).where(ProcessDefinitionRow.key == definition.key)) is None:
            _store_definition(db, definition, actor=actor)
            added += 1
    return added


def _store_definition(db: Session, definition: ProcessDefinition, *, actor) -> ProcessDefinitionRow:
    version = (db.scalar(select(func.max(ProcessDefinitionRow.version))
                         .where(ProcessDefinitionRow.key == definition.key)) or 0) + 1
    row = ProcessDefinitionRow(key=definition.key, version=version, name=definition.name, bpmn=definition.bpmn,
                               item_codes=json.dumps(list(definition.item_codes)), uploaded_by=actor.actor_name,
                               uploaded_at=wall.now())
    db.add(row)
    db.flush()
    audit.record(db, actor=actor, action="process.upload", object_type="process_definition",
                 object_id=f"{definition.key}:{version}", details={"name": definition.name})
    return row


def upload_definition(db: Session, bpmn: bytes | str, *, actor) -> ProcessDefinitionRow:
    try:
        definition = bpmn_parse.parse_definition(bpmn)
    except ProcessError as error:
        raise Problem("process-invalid", f"流程定义有 {len(error.problems)} 处问题，未上传：" + "；".join(error.problems[:3]),
                      errors=[{"field": "file", "code": "bpmn", "message": p} for p in error.problems[:100]]) from None
    return _store_definition(db, definition, actor=actor)


def definitions(db: Session) -> list[ProcessDefinitionRow]:
    return list(db.scalars(select(ProcessDefinitionRow).order_by(ProcessDefinitionRow.key,
                                                                 ProcessDefinitionRow.version.desc())))


def _current_definition(db: Session, key: str) -> ProcessDefinitionRow:
    row = db.scalar(select(ProcessDefinitionRow).where(ProcessDefinitionRow.key == key)
                    .order_by(ProcessDefinitionRow.version.desc()).limit(1))
    if row is None:
        raise Problem("service-unavailable", f"流程「{key}」尚未配置，请联系电子政务办")
    return row


def _parsed(row: ProcessDefinitionRow) -> ProcessDefinition:
    """The stored definition, parsed. A stored version never changes, so its parsed form is kept
    by (key, version, upload time), which also tells apart the same version in two databases:
    its text (tens of kilobytes, deferred) is read only the first time."""
    identity = (row.key, row.version, row.uploaded_at)
    parsed = _PARSED.get(identity)
    if parsed is None:
        if len(_PARSED) >= 256:  # versions are few; a process that saw this many starts over
            _PARSED.clear()
        parsed = _PARSED[identity] = bpmn_parse.parse_definition(row.bpmn)  # the engine caches by the text's hash
    return parsed


_PARSED: dict[tuple, ProcessDefinition] = {}


def _process_of(application: Application):
    """The BPMN text of the version a case started with, read only if the engine asks for it."""
    return lambda: _parsed(application.definition).bpmn


# ------------------------------------------------------------------ what can be applied for

@dataclass(frozen=True)
class Subject:
    kind: str  # bundle | item
    code: str
    name: str
    applicant_type: str | None  # None: whoever the item serves
    items: tuple[str, ...]
    fields: tuple[FormField, ...]
    process_key: str
    limit_days: int | None


def subject(db: Session, *, bundle: str | None = None, item: str | None = None,
            applicant_type: str | None = None) -> Subject:
    if bool(bundle) == bool(item):
        raise Problem("validation-error", "请指定一个「一件事」(bundle) 或一个事项 (item)",
                      errors=[{"field": "body.bundle", "code": "one_of", "message": "bundle 与 item 二选一"}])
    if bundle:
        found: Bundle | None = BUNDLES.get(bundle)
        if found is None:
            raise Problem("not-found", f"没有「{bundle}」这件事；可办：" + "、".join(b.name for b in BUNDLES.values()))
        return Subject("bundle", found.code, found.name, found.applicant_type, found.items, found.fields,
                       found.process_key, found.limit_days)
    assert item is not None  # one of the two, as checked above
    document, _version = items.published_item(db, item)
    kind = applicant_type or document["service_objects"][0]
    if kind not in document["service_objects"]:
        raise Problem("validation-error", f"事项「{document['name']}」的服务对象是{'、'.join(document['service_objects'])}")
    return Subject("item", item, document["name"], kind, (item,), SINGLE_ITEM_FIELDS[kind], SINGLE_ITEM_PROCESS,
                   document["committed_days"] or document["statutory_days"])


def _account(db: Session, principal: Principal):
    """The signed-in applicant's identity: id, resident_id, credit_code, display_name, verified."""
    return accounts.applicant_identity(db, principal)


def _registry_record(db: Session, registry_name: str, key: str) -> dict[str, Any] | None:
    return registry.current_row(db, REGISTRIES[registry_name], key)


def prefill(db: Session, principal: Principal, found: Subject) -> list[dict[str, Any]]:
    """The form's fields with what the base registries know of the signed-in applicant, and from where."""
    user = _account(db, principal)
    if user is not None and (user.resident_id or user.credit_code):
        accounts.ensure_verified(user)  # an unproven claim to an ID number reads nobody's record
    own = {"persons": user.resident_id if user else None, "legal_entities": user.credit_code if user else None}
    records: dict[str, dict | None] = {}
    fields = []
    for form_field in found.fields:
        value = source = None
        if form_field.prefill:
            registry_name, column = form_field.prefill.split(".")
            key = own.get(registry_name)
            if key:
                if registry_name not in records:
                    records[registry_name] = _registry_record(db, registry_name, key)
                    if records[registry_name] is not None:
                        audit.record(db, actor=principal, action="cases.prefill", object_type=registry_name,
                                     object_id=key, purpose=f"申请「{found.name}」时预填本人信息")
                record = records[registry_name]
                if record is not None and record.get(column) not in (None, ""):
                    value = str(record[column])
                    field_def = REGISTRIES[registry_name].by_name[column]
                    source = f"{REGISTRIES[registry_name].label}库 · {registry.source_name(db, field_def.duty)}"
        fields.append({"key": form_field.key, "label": form_field.label, "kind": form_field.kind,
                       "required": form_field.required, "choices": list(form_field.choices), "value": value,
                       "source": source, "max_length": form_field.max_length})
    return fields


def prefill_blank(found: Subject) -> list[dict[str, Any]]:
    """The form for someone not signed in: nothing prefilled."""
    return [{"key": f.key, "label": f.label, "kind": f.kind, "required": f.required, "choices": list(f.choices),
             "value": None, "source": None, "max_length": f.max_length} for f in found.fields]


# ------------------------------------------------------------------ submission and acceptance

def _check_form(found: Subject, form: dict[str, Any]) -> dict[str, Any]:
    errors = []
    known = {f.key: f for f in found.fields}
    for key in form:
        if key not in known:
            errors.append({"field": f"body.form.{key}", "code": "unknown", "message": f"表单没有「{key}」这一项"})
    cleaned: dict[str, Any] = {}
    for key, form_field in known.items():
        value = form.get(key)
        text = "" if value is None else str(value).strip()
        if not text:
            if form_field.required:
                errors.append({"field": f"body.form.{key}", "code": "required", "message": f"请填写{form_field.label}"})
            continue
        if len(text) > form_field.max_length:
            errors.append({"field": f"body.form.{key}", "code": "too_long",
                           "message": f"{form_field.label}最多 {form_field.max_length} 个字"})
        elif form_field.kind == "number":
            try:  # read as the registry reads numbers: NFKC, finite, in range; kept in its one spelling
                number = parse_number(text, integer=form_field.integer, minimum=form_field.minimum,
                                      maximum=form_field.maximum)
            except InvalidNumberText as error:
                errors.append({"field": f"body.form.{key}", "code": "number", "message": f"{form_field.label}{error}"})
                continue
            text = format(number.normalize(), "f")
        elif form_field.kind == "choice" and text not in form_field.choices:
            errors.append({"field": f"body.form.{key}", "code": "choice",
                           "message": f"{form_field.label}只能是：{'、'.join(form_field.choices)}"})
        cleaned[key] = text
    if errors:
        raise Problem("validation-error", "；".join(e["message"] for e in errors[:5]), errors=errors)
    return cleaned


def required_materials(db: Session, found: Subject) -> list[dict[str, Any]]:
    """What every item of the subject needs whatever the situation: its required materials. In a
    bundle, what an earlier item produces (the business licence, a permit) is not asked for again."""
    items.published_rows(db, found.items)  # a bundle's items in one query
    documents = [items.published_item(db, code)[0] for code in found.items]
    needed = []
    for position, document in enumerate(documents):
        earlier = documents[:position]
        for material in document["materials"]:
            if material["required"] != "required":
                continue
            producer = next((other["name"] for other in earlier if _produces(other, material)), None)
            needed.append({"item": document["basic_code"], "item_name": document["name"], "name": material["name"],
                           "exempt": material["source"] == "shared_data" or producer is not None,
                           "shared_resource": material["shared_resource"], "from_item": producer})
    return needed


def _produces(item: dict, material: dict) -> bool:
    if material["shared_resource"] == "legal-entities" and REGISTRY_EFFECTS.get(item["basic_code"]) is _new_enterprise:
        return True  # the enterprise this bundle registers
    name = material["name"]
    return any(result["name"] in name or name in result["name"] for result in item["results"])


def _materials(db: Session, found: Subject, provided: list[str], applicant_id: str, principal) -> tuple[list, list]:
    """(the materials record, the names still missing). Shared-data materials are fetched, not asked for."""
    given = {name.strip() for name in provided if name and name.strip()}
    needs = required_materials(db, found)
    # One read of the applicant's record per resource, naming every material it stands for.
    shared: dict[str, list[str]] = {}
    for need in needs:
        if need["exempt"] and not need["from_item"]:
            shared.setdefault(need["shared_resource"], []).append(need["name"])
    fetches = {resource: _fetch_shared(db, resource, applicant_id,
                                       purpose=f"一网通办受理：免提交材料「{'」「'.join(names)}」（{found.name}）"[:500])
               for resource, names in shared.items()}
    record, missing = [], []
    for need in needs:
        if need["from_item"]:
            record.append({**need, "how": "bundle", "note": f"由本件「{need['from_item']}」的办理结果获取，免提交"})
        elif need["exempt"]:
            fetched = fetches[need["shared_resource"]]
            record.append({**need, "how": "shared" if fetched else "on_site",
                           "source": fetched, "note": "已通过数据共享交换获取，免提交" if fetched
                           else "共享数据未取得，受理时核验原件"})
        elif need["name"] in given:
            record.append({**need, "how": "provided", "note": "已提交"})
        else:
            record.append({**need, "how": "missing", "note": "未提交"})
            missing.append(f"{need['item_name']}：{need['name']}")
    return record, missing


# What the one-window platform reads through the exchange, under the grants of the e-government
# office that runs it, so an applicant need not bring what the registries already hold.
PLATFORM_ITEMS = {
    "persons": ["id_number", "name", "gender", "birth_date", "household_address", "residence_status"],
    "legal-entities": ["credit_code", "name", "entity_type", "legal_representative_name", "registered_address",
                       "status", "established_on"],
}


def platform_principal(db: Session) -> Principal:
    from tongban.core.auth import principal_for
    from tongban.core.permissions import Role

    # Every online submission reads through the exchange as the platform: kept while the reference data is unchanged.
    return per_generation(db, "platform-principal", lambda: principal_for(
        actor_type="system", actor_id="one-window", actor_name="一网通办统一受理平台", kind="system",
        department=org.get_by_code_or_404(db, EGOV_CODE), roles=[Role.DEPARTMENT_SYSTEM.value]))


def _fetch_shared(db: Session, resource_code: str | None, key: str, *, purpose: str) -> dict[str, Any] | None:
    """Read the applicant's record through the exchange under the platform's grants; every read
    is a usage row like any department's. None when there is no grant or no record."""
    from tongban.catalog import service as catalog
    from tongban.exchange import service as exchange

    if resource_code not in PLATFORM_ITEMS:
        return None
    platform = platform_principal(db)
    call = exchange.Call(platform, resource_code, "record", purpose, keys_count=1)
    try:
        access = exchange.authorize(db, platform, resource_code, PLATFORM_ITEMS[resource_code])
        call.grant_ids, call.items = [g.id for g in access.grants], access.items
        found = catalog.read_records(db, access.resource, [key], access.items).get(key)
        if found is None:
            call.outcome = "not_found"
    except Problem as problem:
        call.outcome, found = exchange.outcome_of(problem), None
    exchange.record_call(db, call)
    if found is None:
        return None
    return {"resource": resource_code, "version": found["version"], "grants": call.grant_ids}


def _step(db: Session, application: Application, actor, kind: str, text: str, department_code: str | None = None):
    db.add(CaseStep(application_id=application.id, at=wall.now(), actor=actor.actor_name, kind=kind, text=text[:2000],
                    department_code=department_code))


def _tell_applicant(db: Session, application: Application, title: str, body: str) -> None:
    if application.applicant_account:
        notify(db, department_id=None, account_id=application.applicant_account, kind="cases.progress",
               title=title, body=body, link=f"/applications/{application.number}")


@_flushed_once
def submit(db: Session, principal: Principal, *, found: Subject, form: dict[str, Any], provided: list[str],
           idempotency_key: str | None, applicant_id: str | None = None, applicant_name: str | None = None,
           request_hash: str | None = None) -> tuple[Application, bool]:
    """File an application; (the application, whether it was created now). A retry with the same
    idempotency key by the same account returns the first one; the key with a different request
    (``request_hash``, from ``core.idempotency``) is refused."""
    if idempotency_key:
        existing = db.scalar(select(Application).where(Application.submitted_by == principal.actor_id,
                                                       Application.idempotency_key == idempotency_key))
        if existing is not None:
            idempotency.check_replay(existing.request_hash, request_hash, idempotency_key)
            return existing, False
    window = principal.can(Permission.CASES_ACCEPT)
    user = _account(db, principal)
    if window:
        if not applicant_id:
            raise Problem("validation-error", "窗口代办须填写申请人证件号码",
                          errors=[{"field": "body.applicant_id", "code": "required", "message": "请填写身份证号或统一社会信用代码"}])
        try:
            applicant_id = check_resident_id(applicant_id) if found.applicant_type == "自然人" else check_credit_code(applicant_id)
        except InvalidNumber as error:
            raise Problem("validation-error", error.message,
                          errors=[{"field": "body.applicant_id", "code": error.code, "message": error.message}]) from None
        applicant_type, account = found.applicant_type, None
        applicant_name = (applicant_name or "").strip() or None
        if applicant_name is None:
            raise Problem("validation-error", "窗口代办须填写申请人姓名或名称",
                          errors=[{"field": "body.applicant_name", "code": "required", "message": "请填写申请人"}])
    else:
        if user is None or (user.resident_id is None and user.credit_code is None):
            raise Problem("permission-denied", "网上申请须以个人或企业账户登录")
        accounts.ensure_verified(user)  # nothing is applied for in an identity not proven
        applicant_type = "自然人" if user.resident_id else "法人"
        if found.applicant_type and applicant_type != found.applicant_type:
            raise Problem("validation-error", f"「{found.name}」由{found.applicant_type}申请，请使用相应账户登录")
        applicant_id, applicant_name, account = user.resident_id or user.credit_code, user.display_name, str(user.id)
    cleaned = _check_form(found, form)
    definition = _current_definition(db, found.process_key)
    record, missing = _materials(db, found, provided, applicant_id, principal)
    application = Application(
        number=numbers.mint(db, Application.number, "BJ"), subject_kind=found.kind, subject_code=found.code, name=found.name,
        channel="window" if window else "online", applicant_type=applicant_type, applicant_id=applicant_id,
        applicant_name=applicant_name, applicant_account=account, submitted_by=principal.actor_id,
        idempotency_key=idempotency_key, request_hash=request_hash if idempotency_key else None,
        form=json.dumps(cleaned, ensure_ascii=False),
        materials=json.dumps(record, ensure_ascii=False), status=ApplicationStatus.SUBMITTED,
        definition_id=definition.id, limit_days=found.limit_days, created_at=wall.now())
    set_committed_value(application, "definition", definition)  # already read: the view names it
    db.add(application)
    try:
        db.flush()
    except IntegrityError:  # the same key submitted concurrently: the first one wins
        db.rollback()
        existing = db.scalar(select(Application).where(Application.submitted_by == principal.actor_id,
                                                       Application.idempotency_key == idempotency_key))
        if existing is None or idempotency_key is None:
            raise
        idempotency.check_replay(existing.request_hash, request_hash, idempotency_key)
        return existing, False
    channel = "窗口代办" if window else "网上申请"
    _step(db, application, principal, "submitted", f"{channel}：{found.name}")
    if missing and not window:
        # The rules check online applications: everything missing is told at once (一次性告知).
        application.status, application.status_reason = ApplicationStatus.RETURNED, "请补齐以下材料后再次提交：" + "；".join(missing)
        _step(db, application, audit.SYSTEM, "returned", application.status_reason)
    else:
        _time_acceptance(db, application, new_subject=True)
    audit.record(db, actor=principal, action="cases.submit", object_type="application", object_id=application.number,
                 details={"subject": found.code, "channel": application.channel, "missing": len(missing)})
    _tell_applicant(db, application, f"办件 {application.number} 已提交",
                    application.status_reason or "等待窗口受理。")
    return application, True


def resubmit(db: Session, application: Application, principal: Principal, *, form: dict[str, Any] | None,
             provided: list[str]) -> Application:
    """The applicant completes what acceptance asked for, once, and the application goes back to the window."""
    if application.status != ApplicationStatus.RETURNED:
        raise Problem("conflict", f"办件 {application.number} 当前{_label(application)}，不需要补正")
    found = _subject_of(db, application)
    if form is not None:
        application.form = json.dumps(_check_form(found, form), ensure_ascii=False)
    earlier = [m["name"] for m in json.loads(application.materials) if m["how"] == "provided"]
    record, missing = _materials(db, found, earlier + provided, application.applicant_id, principal)
    application.materials = json.dumps(record, ensure_ascii=False)
    if missing:
        application.status_reason = "仍缺以下材料：" + "；".join(missing)
    else:
        application.status, application.status_reason = ApplicationStatus.SUBMITTED, None
        _time_acceptance(db, application)
    _step(db, application, principal, "resubmitted", "申请人补正后重新提交" + (f"（{application.status_reason}）" if missing else ""))
    _flush(db, application)
    return application


def _label(application: Application) -> str:
    from tongban.cases.models import STATUS_LABELS

    return f"为「{STATUS_LABELS[ApplicationStatus(application.status)]}」"


def _subject_of(db: Session, application: Application) -> Subject:
    if application.subject_kind == "bundle":
        return subject(db, bundle=application.subject_code)
    return subject(db, item=application.subject_code, applicant_type=application.applicant_type)


@_flushed_once
def accept(db: Session, application: Application, actor: Principal, *, decision: str, reason: str | None,
           missing: list[str]) -> Application:
    """受理: accept (the clock starts), refuse with a reason, or ask once for a complete supplement list."""
    if application.status != ApplicationStatus.SUBMITTED:
        raise Problem("already-decided", f"办件 {application.number} 当前{_label(application)}，不能再作受理决定")
    reason = (reason or "").strip()
    if decision == "refuse":
        if not reason:
            raise Problem("validation-error", "不予受理须说明理由",
                          errors=[{"field": "body.reason", "code": "required", "message": "请填写不予受理的理由"}])
        application.status, application.status_reason, application.finished_at = ApplicationStatus.NOT_ACCEPTED, reason, wall.now()
        supervision.close_clock(db, ClockKind.ACCEPTANCE, application.number, on=wall.today(), outcome="not_accepted")
        _step(db, application, actor, "not_accepted", f"不予受理：{reason}")
        _tell_applicant(db, application, f"办件 {application.number} 不予受理", reason)
    elif decision == "supplement":
        wanted = [m.strip() for m in missing if m and m.strip()]
        if not wanted:
            raise Problem("validation-error", "一次性告知补正须列出全部需补正的材料",
                          errors=[{"field": "body.missing", "code": "required", "message": "请列出需补正的材料"}])
        application.status = ApplicationStatus.RETURNED
        application.status_reason = "请一次性补正：" + "；".join(wanted) + (f"（{reason}）" if reason else "")
        # The applicant completes the materials: the window's clock waits for them.
        supervision.pause_clock(db, ClockKind.ACCEPTANCE, application.number, on=wall.today(), note="一次性告知补正")
        _step(db, application, actor, "returned", application.status_reason)
        _tell_applicant(db, application, f"办件 {application.number} 需补正材料", application.status_reason)
    else:
        definition = _parsed(application.definition)
        department = None
        if application.subject_kind == "item":
            department = items.published_item(db, application.subject_code)[0]["department"]
        step = _timed(bpmn_run.start, definition, item_department=department,
                            item_code=application.subject_code if application.subject_kind == "item" else None,
                            data={"application": application.number})
        today = wall.today()
        application.accepted_on, application.status = today, ApplicationStatus.PROCESSING
        window = supervision.close_clock(db, ClockKind.ACCEPTANCE, application.number, on=today, outcome="accepted")
        due_on = None
        if application.limit_days is not None:  # accepted once (it was submitted): its clock starts now
            due_on = supervision.start_clock(
                db, kind=ClockKind.APPLICATION, subject=application.number,
                title=f"办结「{application.name}」（办件 {application.number}）",
                department_id=window.department_id if window else _lead_department_id(db, application),
                limit_days=application.limit_days, started_on=today, link=f"/applications/{application.number}",
                new_subject=True).due_on
        _step(db, application, actor, "accepted", f"已受理，承诺 {application.limit_days} 个工作日内办结（至 {due_on}）"
              if application.limit_days is not None else "已受理")
        _sync(db, application, step, actor)
        _tell_applicant(db, application, f"办件 {application.number} 已受理", f"预计 {due_on} 前办结。")
    audit.record(db, actor=actor, action="cases.accept", object_type="application", object_id=application.number,
                 details={"decision": decision})
    _flush(db, application)
    return application


def _lead_department_id(db: Session, application: Application) -> int:
    """The department of the bundle's first item (or of the item): whose service the case is."""
    code = BUNDLES[application.subject_code].items[0] if application.subject_kind == "bundle" else application.subject_code
    known: dict[str, int] = per_generation(db, "item-departments", dict)  # every submission asks
    if code not in known:
        known[code] = items.department_id_of(db, code)
    return known[code]


def _time_acceptance(db: Session, application: Application, *, new_subject: bool = False) -> None:
    """受理 is timed from the (re)submission to the window's decision; a resubmission resumes it.
    ``new_subject``: the application was filed in this transaction."""
    supervision.start_clock(db, kind=ClockKind.ACCEPTANCE, subject=application.number,
                            title=f"受理「{application.name}」（办件 {application.number}）",
                            department_id=_lead_department_id(db, application), limit_days=ACCEPTANCE_DAYS,
                            started_on=wall.today(), link="/staff/window", new_subject=new_subject)


def _time_task(db: Session, application: Application, task: CaseTask, calendar: WorkingCalendar) -> None:
    """A department's review is timed by its item's committed working days (else the case's)."""
    document = items.published_item(db, task.item_code)[0]
    limit = next((days for days in (document.get("committed_days"), document.get("statutory_days"),
                                    application.limit_days) if days is not None), None)
    if limit is not None and task.department_id is not None:  # (an applicant's task is not timed: it has no department)
        supervision.start_clock(db, kind=ClockKind.TASK, subject=task.id, title=f"「{task.name}」（办件 {application.number}）",
                                department_id=task.department_id, limit_days=limit, started_on=wall.today(),
                                link=f"/staff/tasks/{task.id}", calendar=calendar, new_subject=True)


def deadline(db: Session, application: Application) -> Deadline | None:
    """The application's deadline: its clock's (supervision keeps it); None before acceptance or
    when the case has no committed limit."""
    return supervision.deadline_of(db, ClockKind.APPLICATION, application.number)


def deadlines(db: Session, applications: Iterable[Application]) -> dict[str, Deadline]:
    """``deadline`` for a list of applications, by number, in one statement."""
    return supervision.deadlines_of(db, ClockKind.APPLICATION, [a.number for a in applications])


def remaining_days(application: Application, deadline: Deadline | None) -> int | None:
    """Working days left on the clock (negative when overdue); None before acceptance or after the end."""
    if deadline is None or application.status in FINISHED:
        return None
    return deadline.remaining_days


# ------------------------------------------------------------------ tasks

def _sync(db: Session, application: Application, step: Step, actor) -> None:
    """Make the task rows, the status and the clock agree with the engine's state."""
    application.workflow = step.state
    now = wall.now()
    # Every task open in the engine has its row: the rows to touch are those of the tasks the
    # step ended without their being done (a refusal ends the other branches), and new ones.
    open_ids = {task.id for task in step.open_tasks}
    ended = [task_id for task_id in step.open_before if task_id not in open_ids]
    if ended:
        for row in db.scalars(select(CaseTask).where(CaseTask.application_id == application.id,
                                                     CaseTask.engine_task_id.in_(ended))):
            if row.status in (TaskStatus.OPEN, TaskStatus.CLAIMED):
                row.status = TaskStatus.CANCELLED
                supervision.cancel_clock(db, ClockKind.TASK, row.id, on=wall.today())
                _step(db, application, audit.SYSTEM, "cancelled", f"「{row.name}」因办件终止而结束", _code(row))
    new_tasks = [task for task in step.open_tasks if task.id not in step.open_before]
    # What the new tasks name, each read once for all of them: their departments and items.
    departments = org.ids_by_codes(db, [task.department for task in new_tasks if task.department != "APPLICANT"])
    items.published_rows(db, [task.item_code for task in new_tasks if task.item_code])
    calendar = None
    opened: list[CaseTask] = []
    for task in new_tasks:
        department_id = None
        if task.department != "APPLICANT":
            department_id = departments.get(task.department) or org.get_by_code_or_404(db, task.department).id
        remind_on = None
        reminder_days = getattr(task, "reminder_days", None)
        if reminder_days:  # the process's reminder timer, counted in working days
            calendar = calendar or WorkingCalendar.load(db)
            remind_on = calendar.add_working_days(wall.today(), reminder_days).due
        row = CaseTask(application_id=application.id, engine_task_id=task.id, key=task.key, name=task.name,
                       kind=task.kind, item_code=task.item_code, department_id=department_id,
                       status=TaskStatus.OPEN, opened_at=now, remind_on=remind_on)
        db.add(row)
        if department_id is not None:
            opened.append(row)
    if opened:
        db.flush()  # the tasks' ids name their clocks: one flush for all the departments a step opens
        calendar = calendar or WorkingCalendar.load(db)
        for row in opened:
            _time_task(db, application, row, calendar)
            notify(db, department_id=row.department_id, role="reviewer", kind="cases.task",
                   link="/staff/tasks", title=f"新的待办：{row.name}",
                   body=f"办件 {application.number}（{application.name}，{application.applicant_name}）")
    supplementing = any(t.kind == "supplement" for t in step.open_tasks)
    paused = application.status == ApplicationStatus.SUPPLEMENT  # the application's clock stands still
    if supplementing and not paused:
        application.status = ApplicationStatus.SUPPLEMENT
        supervision.pause_clock(db, ClockKind.APPLICATION, application.number, on=wall.today(), note="申请人补正")
    elif not supplementing and paused:
        application.status = ApplicationStatus.PROCESSING
        supervision.resume_clock(db, ClockKind.APPLICATION, application.number, on=wall.today(), calendar=calendar)
    if step.finished:
        application.status = ApplicationStatus.APPROVED if step.outcome == "approved" else ApplicationStatus.REFUSED
        application.finished_at = now
        supervision.close_clock(db, ClockKind.APPLICATION, application.number, on=wall.today(), outcome=application.status)
        verdict = "准予" if step.outcome == "approved" else "不予许可"
        _step(db, application, actor, "finished", f"办结：{verdict}")
        _tell_applicant(db, application, f"办件 {application.number} 已办结（{verdict}）", "请在「我的办件」查看结果。")


def _code(task: CaseTask) -> str | None:
    return task.department.code if task.department else None


def send_reminders(db: Session, *, today: date | None = None) -> int:
    """催办: every task still open on or after its reminder day is reminded to its department, once."""
    today = today or wall.today()
    due = list(db.scalars(select(CaseTask).where(CaseTask.status.in_((TaskStatus.OPEN, TaskStatus.CLAIMED)),
                                                 CaseTask.remind_on <= today, CaseTask.reminded_at.is_(None))
                          .order_by(CaseTask.remind_on, CaseTask.id).limit(1000)))
    clocks = deadlines(db, [task.application for task in due])
    for task in due:
        application = task.application
        clock = clocks.get(application.number)
        notify(db, department_id=task.department_id, role="reviewer", kind="cases.reminder", link=f"/staff/tasks/{task.id}",
               title=f"催办：{task.name}",
               body=f"办件 {application.number}（{application.name}）的「{task.name}」自 {task.opened_at:%Y-%m-%d} 起未办理，"
                    f"办件办结期限 {clock.due_on if clock else None}。")
        _step(db, application, audit.SYSTEM, "reminder", f"「{task.name}」催办提醒已发送", _code(task))
        task.reminded_at = wall.now()
    db.flush()
    return len(due)


def send_reminders_job(sessions) -> int:
    """The periodic scan of the server: reminders go out without anyone opening a page."""
    with sessions() as db:
        # Begin first (on SQLite: wait for the write lock), then ask the date: a scan that waited
        # behind a long write must not use the day it started waiting on.
        db.connection()
        sent = send_reminders(db)
        db.commit()
        return sent


def task_or_404(db: Session, task_id: int, *, lock: bool = False) -> CaseTask:
    query = select(CaseTask).where(CaseTask.id == task_id)
    task = db.scalar(query.with_for_update() if lock else query)
    if task is None:
        raise _no_task(task_id)
    return task


def _no_task(task_id: int) -> Problem:
    return Problem("not-found", f"没有编号为 {task_id} 的待办")


# A task alone: the caller sets its application, read under the lock already.
_TASK = select(CaseTask).where(CaseTask.id == bindparam("id")).options(lazyload(CaseTask.application))


def check_task_department(db: Session, principal: Principal, task: CaseTask, action: str) -> None:
    if task.department is None or not principal.can_for_department(Permission.CASES_REVIEW, task.department_id):
        from tongban.core.auth import deny

        raise deny(db, principal, slug="department-scope", action=action,
                   detail=f"该待办属于{task.department.name if task.department else '申请人'}，不是本部门的待办")


def queue(db: Session, principal: Principal, *, status: str | None = None, cursor: str | None = None,
          limit: int = 200) -> tuple[list[CaseTask], str | None]:
    """The department's tasks, oldest first (ids follow the order tasks open in); the next cursor."""
    query = select(CaseTask)
    if not principal.can_for_department(Permission.CASES_REVIEW, None):
        query = query.where(CaseTask.department_id == principal.department_id)
    if status:
        query = query.where(CaseTask.status == status)
    else:
        query = query.where(CaseTask.status.in_((TaskStatus.OPEN, TaskStatus.CLAIMED)))
    return paginate(db, query, CaseTask.id, cursor=cursor, limit=limit, descending=False)


def claim(db: Session, task: CaseTask, principal: Principal) -> CaseTask:
    check_task_department(db, principal, task, "cases.claim")
    if task.status not in (TaskStatus.OPEN, TaskStatus.CLAIMED):
        raise _decided(task)
    if task.status == TaskStatus.CLAIMED and task.claimed_by != principal.actor_name:
        raise Problem("conflict", f"该待办已由{task.claimed_by}认领")
    task.status, task.claimed_by = TaskStatus.CLAIMED, principal.actor_name
    supervision.assign_clock(db, ClockKind.TASK, task.id, principal.actor_id if principal.actor_type == "user" else None,
                             on=wall.today(), name=principal.actor_name)
    _flush(db, task)
    return task


def _decided(task: CaseTask) -> Problem:
    if task.status == TaskStatus.CANCELLED:
        return Problem("task-finished", f"「{task.name}」已因办件终止而结束")
    return Problem("task-finished", f"「{task.name}」已由{task.decided_by}办理：{DECISION_LABELS.get(task.decision or '') or task.decision}"
                   + (f"（{task.opinion}）" if task.opinion else ""))


@_flushed_once
def decide(db: Session, task_id: int, principal: Principal, *, decision: str, opinion: str,
           version: int | None) -> CaseTask:
    """A reviewer's decision on a task; of two reviewers deciding the same task, one wins."""
    # The task's application (and its process state, the biggest row of a case) is read once,
    # under its lock; then the task as the last writer left it (a loser is told the winner's
    # decision), and only then whose it is: a refusal rolls back, which releases the lock.
    application = db.scalar(_LOCKED_BY_TASK, {"id": task_id})
    task = db.scalar(_TASK, {"id": task_id}) if application is not None else None
    if application is None or task is None:
        raise _no_task(task_id)
    if task.department_id is None or not principal.can_for_department(Permission.CASES_REVIEW, task.department_id):
        check_task_department(db, principal, task, "cases.decide")  # refused (and audited) here
    set_committed_value(task, "application", application)
    if task.status not in (TaskStatus.OPEN, TaskStatus.CLAIMED):
        raise _decided(task)
    if version is not None and version != task.row_version:
        raise Problem("stale-version", f"「{task.name}」已被他人更新（当前版本 {task.row_version}，您提交的是 {version}），请刷新后再办理")
    if task.status == TaskStatus.CLAIMED and task.claimed_by != principal.actor_name:
        raise Problem("conflict", f"该待办已由{task.claimed_by}认领")
    opinion = (opinion or "").strip()
    if decision in ("refuse", "supplement") and not opinion:
        raise Problem("validation-error", "不予许可或退回补正须填写意见",
                      errors=[{"field": "body.opinion", "code": "required", "message": "请填写意见"}])
    try:
        step = _timed(bpmn_run.advance, application.workflow, task.engine_task_id, decision=decision, opinion=opinion,
                      process=_process_of(application))
    except ProcessError as error:
        raise Problem("task-finished", "；".join(error.problems)) from None
    task.status, task.decision, task.opinion = TaskStatus.DONE, decision, opinion or None
    task.decided_by, task.decided_at = principal.actor_name, wall.now()
    supervision.close_clock(db, ClockKind.TASK, task.id, on=wall.today(), outcome=decision)
    _step(db, application, principal, "decided", f"{task.name}：{DECISION_LABELS[decision]}" + (f"。意见：{opinion}" if opinion else ""),
          _code(task))
    if decision == "approve":
        _results(db, application, task, principal)
    elif decision == "supplement":
        _tell_applicant(db, application, f"办件 {application.number} 需补正", f"{task.name}：{opinion}（补正期间办理时限暂停）")
    _sync(db, application, step, principal)
    audit.record(db, actor=principal, action="cases.decide", object_type="application", object_id=application.number,
                 details={"task": task.key, "decision": decision})
    _flush(db, task)
    return task


def supply(db: Session, application: Application, principal: Principal, *, note: str, provided: list[str]) -> Application:
    """The applicant answers a department's supplement request: the review reopens, the clock resumes."""
    task = db.scalar(select(CaseTask).where(CaseTask.application_id == application.id, CaseTask.kind == "supplement",
                                            CaseTask.status == TaskStatus.OPEN).order_by(CaseTask.id).limit(1))
    if task is None:
        raise Problem("conflict", f"办件 {application.number} 当前{_label(application)}，没有待补正的内容")
    application = _locked(db, application.id)
    db.refresh(task)
    if task.status != TaskStatus.OPEN:
        raise Problem("task-finished", "补正已提交，请勿重复提交")
    step = _timed(bpmn_run.advance, application.workflow, task.engine_task_id, data={"supplement": note},
                  process=_process_of(application))
    task.status, task.decision, task.decided_by, task.decided_at = TaskStatus.DONE, "supplied", principal.actor_name, wall.now()
    task.opinion = (note or "").strip()[:2000] or None
    _step(db, application, principal, "supplied", "申请人已补正" + (f"：{task.opinion}" if task.opinion else "")
          + (f"（补交：{'、'.join(provided)}）" if provided else ""))
    _sync(db, application, step, principal)
    _flush(db, application)
    return application


def _locked(db: Session, application_id: int) -> Application:
    """The application with its process state, its row locked for this transaction and read as the
    lock found it: writers of one case take turns (one statement: the row, not its joined
    definition, locked)."""
    return db.execute(_LOCKED, {"id": application_id}).scalar_one()


_LOCKED = (select(Application).where(Application.id == bindparam("id")).options(undefer(Application.workflow))
           .with_for_update(of=Application).execution_options(populate_existing=True))
# The same, found by one of its tasks (a decision names the task only).
_LOCKED_BY_TASK = (select(Application)
                   .where(Application.id == select(CaseTask.application_id).where(CaseTask.id == bindparam("id")).scalar_subquery())
                   .options(undefer(Application.workflow)).with_for_update(of=Application)
                   .execution_options(populate_existing=True))


def attach(db: Session, settings, application: Application, principal: Principal, *, material: str,
           filename: str, data: bytes) -> list[dict[str, Any]]:
    """An uploaded material, checked and kept, recorded against the application's material list."""
    from tongban.cases import attachments

    if application.status not in (ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED, ApplicationStatus.SUPPLEMENT):
        raise Problem("conflict", f"办件 {application.number} 当前{_label(application)}，不能再上传材料")
    material = (material or "").strip()
    if not material:
        raise Problem("validation-error", "请说明上传的是哪一项材料",
                      errors=[{"field": "body.material", "code": "required", "message": "请选择材料"}])
    record = json.loads(application.materials)
    entry = next((m for m in record if m["name"] == material and not m["exempt"]), None)
    if entry is None:
        if application.status != ApplicationStatus.SUPPLEMENT:
            names = "、".join(m["name"] for m in record if not m["exempt"])
            raise Problem("validation-error", f"「{material}」不是本办件需要提交的材料；需要：{names}",
                          errors=[{"field": "body.material", "code": "unknown", "message": "不是本办件的材料"}])
        entry = {"item": None, "item_name": "补正材料", "name": material, "exempt": False, "shared_resource": None,
                 "from_item": None}
        record.append(entry)
    stored = attachments.store(settings, application.number, filename, data)
    entry.update({"how": "provided", "note": "已上传", "files": [*entry.get("files", []), stored]})
    application.materials = json.dumps(record, ensure_ascii=False)
    _step(db, application, principal, "attachment", f"上传材料「{material}」（{stored['filename']}，{stored['bytes']} 字节）")
    audit.record(db, actor=principal, action="cases.attach", object_type="application", object_id=application.number,
                 details={"material": material, "sha256": stored["sha256"], "bytes": stored["bytes"]})
    _flush(db, application)
    return record


def _flush(db: Session, row) -> None:
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        raise Problem("stale-version", "该办件刚被他人更新，请刷新后重试") from None


# ------------------------------------------------------------------ results

def _results(db: Session, application: Application, task: CaseTask, actor: Principal) -> None:
    """The item's result: its electronic licence, and what belongs in a base registry, written there
    through the authoritative department (the reviewer's own)."""
    assert task.department is not None  # a department's task: decide refuses any other
    document, _version = items.published_item(db, task.item_code)
    licences = [result for result in document["results"] if result.get("licence")]
    for index, result in enumerate(licences, start=1):
        # Unique by construction: one task per item in an application, whose number is unique.
        number = f"{task.item_code[-6:]}-{application.number.split('-', 1)[1]}" + (f"-{index}" if len(licences) > 1 else "")
        db.add(Licence(number=number, application_id=application.id, item_code=task.item_code, name=result["name"],
                       holder_id=application.applicant_id, holder_name=application.applicant_name,
                       issued_by=task.department.name, issued_at=wall.now()))
        _step(db, application, actor, "licence", f"核发电子证照「{result['name']}」，证照编号 {number}", _code(task))
    effect = REGISTRY_EFFECTS.get(task.item_code)
    if effect is not None:
        effect(db, application, task, actor)


def _new_enterprise(db: Session, application: Application, task: CaseTask, actor) -> None:
    assert task.department is not None  # the approving department's task (_results)
    form = json.loads(application.form)
    for _attempt in range(5):
        code = new_credit_code("310115", _RANDOM)
        if registry.current_row(db, LEGAL_ENTITIES, code) is None:
            break
    today = wall.today()
    values = {"name": form["enterprise_name"], "entity_type": form.get("entity_type", "有限责任公司"),
              "legal_representative_id": application.applicant_id, "legal_representative_name": application.applicant_name,
              "registered_capital": form.get("registered_capital"),
              "currency": "人民币", "established_on": today, "approved_on": today,
              "registered_address": form.get("registered_address"), "business_scope": form.get("business_scope"),
              "registration_authority": task.department.name, "status": "存续"}
    # Typed by the registry's own rules, as its API would: a form value it refuses is not written.
    values = registry.parse_values(LEGAL_ENTITIES, {k: v for k, v in values.items() if v not in (None, "")},
                                   location="body.form")
    registry.write(db, registry=LEGAL_ENTITIES, key=code, values=values,
                   department=task.department, actor=actor, reason=f"企业设立登记（办件 {application.number}）")
    form["credit_code"] = code
    application.form = json.dumps(form, ensure_ascii=False)
    _step(db, application, actor, "registry", f"新设企业已登记入法人库，统一社会信用代码 {code}", _code(task))


def _entity_field(column: str, value: str, what: str):
    def effect(db: Session, application: Application, task: CaseTask, actor) -> None:
        assert task.department is not None  # the approving department's task (_results)
        code = json.loads(application.form).get("credit_code") or (
            application.applicant_id if application.applicant_type == "法人" else None)
        if not code or registry.write(db, registry=LEGAL_ENTITIES, key=code, values={column: value},
                                      department=task.department, actor=actor, reason=f"{what}（办件 {application.number}）",
                                      create=False) is None:
            return  # no enterprise in the registry yet: nothing to record there
        _step(db, application, actor, "registry", f"法人库「{what}」已更新", _code(task))
    return effect


REGISTRY_EFFECTS = {
    "000121004000": _new_enterprise,  # 企业设立登记 → 市场监管 registers the enterprise
    "000123004000": _entity_field("tax_registration_status", "正常", "税务登记状态"),
    "000112004000": _entity_field("social_insurance_registered", "已登记", "社会保险登记"),
    "000117004000": _entity_field("housing_fund_registered", "已登记", "公积金缴存登记"),
}


# ------------------------------------------------------------------ reading

def select_by_number(number: str):
    return select(Application).where(Application.number == normalise_code(number)[:32])


def application_or_404(db: Session, number: str, *, lock: bool = False) -> Application:
    """``lock``: for a decision on the application itself (受理): held until commit, so clerks
    deciding at once take turns and the later ones are told it is decided (409), not a stale 500."""
    query = select_by_number(number)
    if lock:
        query = query.with_for_update(of=Application).execution_options(populate_existing=True)
    row = db.scalar(query)
    if row is None:
        raise Problem("not-found", f"没有编号为「{number}」的办件")
    return row


def may_read(db: Session, principal: Principal, application: Application) -> bool:
    if principal.actor_type == "user" and application.applicant_account == str(principal.actor_id):
        return True
    if principal.can_for_department(Permission.CASES_READ, None):
        return True
    if principal.can(Permission.CASES_READ) and principal.department_id is not None:
        return db.scalar(select(CaseTask.id).where(CaseTask.application_id == application.id,
                                                   CaseTask.department_id == principal.department_id).limit(1)) is not None
    return False


def shared_data(db: Session, principal: Principal, application: Application) -> dict[str, Any]:
    """What the base registries hold of the applicant, for the reviewer: read with the case as purpose, audited."""
    registry_def = REGISTRIES["persons" if application.applicant_type == "自然人" else "legal_entities"]
    row = registry.current_row(db, registry_def, application.applicant_id)
    if row is None:
        return {}
    # The purpose is the case the reviewer works on, set here, not by the request: a link cannot
    # choose it. Clear only for a role with the right to personal data, like any registry read.
    clear = registry.reveal(db, principal, registry_def, application.applicant_id, f"审查办件 {application.number}",
                            application=application.number)
    values, masked = registry.present(registry_def, row, clear=clear)
    return {"registry": registry_def.label, "masked": bool(masked),
            "values": {registry_def.by_name[k].label: v for k, v in values.items()
                       if v not in (None, "") and k in registry_def.by_name}}


def timeline(db: Session, application: Application) -> list[CaseStep]:
    return list(db.scalars(_TIMELINE, {"application": application.id}))


def tasks_of(db: Session, application: Application) -> list[CaseTask]:
    return list(db.scalars(_TASKS_OF, {"application": application.id}))


def licences_of(db: Session, application: Application) -> list[Licence]:
    return list(db.scalars(_LICENCES_OF, {"application": application.id}))


# Built once: every answer about a case shows its steps, tasks and licences.
_TIMELINE = select(CaseStep).where(CaseStep.application_id == bindparam("application")).order_by(CaseStep.id)
_TASKS_OF = select(CaseTask).where(CaseTask.application_id == bindparam("application")).order_by(CaseTask.id)
_LICENCES_OF = select(Licence).where(Licence.application_id == bindparam("application")).order_by(Licence.id)


def mine(db: Session, principal: Principal, limit: int = 100) -> list[Application]:
    return list(db.scalars(select(Application).where(Application.applicant_account == str(principal.actor_id))
                           .order_by(Application.id.desc()).limit(limit)))


def window_queue(db: Session, limit: int = 200) -> list[Application]:
    return list(db.scalars(select(Application).where(Application.status == ApplicationStatus.SUBMITTED)
                           .order_by(Application.id).limit(limit)))
