"""What can be applied for, prefilled forms, materials (shared data read through the exchange),
submission, resubmission and uploaded materials."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tongban.accounts import service as accounts
from tongban.cases.bundles import BUNDLES, SINGLE_ITEM_FIELDS, Bundle, FormField
from tongban.cases.models import Application, ApplicationStatus, Licence
from tongban.cases.common import _flush, _flushed_once, _label, _step, _tell_applicant
from tongban.cases.deadlines import _time_acceptance
from tongban.cases.definitions import SINGLE_ITEM_PROCESS, _current_definition
from tongban.cases.licences import REGISTRY_EFFECTS, _new_enterprise
from tongban.core import audit, idempotency, numbers
from tongban.core.auth import Principal
from tongban.core.db.cache import per_generation
from tongban.core.errors import Problem
from tongban.core.idnumbers import InvalidNumber, check_credit_code, check_resident_id
from tongban.core.inputs import InvalidNumberText, parse_number
from tongban.core.permissions import Permission
from tongban.items import service as items
from tongban.items.schemas import Material, ServiceItemDocument
from tongban.org import service as org
from tongban.policies import service as policies
from tongban.registry import service as registry
from tongban.registry.schemas import REGISTRIES
from tongban.core import clock as wall


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
    document = items.published_document(db, item)
    kind = applicant_type or document.service_objects[0]
    if kind not in document.service_objects:
        raise Problem("validation-error", f"事项「{document.name}」的服务对象是{'、'.join(document.service_objects)}")
    return Subject("item", item, document.name, kind, (item,), SINGLE_ITEM_FIELDS[kind], SINGLE_ITEM_PROCESS,
                   document.committed_days or document.statutory_days)


def resolve(db: Session, code: str, applicant_type: str | None = None) -> Subject:
    """What ``/apply/<code>`` applies for: a bundle by its code, otherwise a published item by its
    basic code (unknown or unpublished: not found)."""
    if code in BUNDLES:
        return subject(db, bundle=code)
    return subject(db, item=code, applicant_type=applicant_type)


def resolve_for(db: Session, principal: Principal, code: str, applicant_type: str | None = None) -> Subject:
    """``resolve`` for whoever applies: an item serving both persons and units is applied for as
    the signed-in account is (a person: 自然人), or as the clerk chose for a walk-in applicant."""
    if code in BUNDLES:
        return subject(db, bundle=code)
    if applicant_type not in ("自然人", "法人"):
        applicant_type = None
        user = _account(db, principal)
        if user is not None and (user.resident_id or user.credit_code):
            own = "自然人" if user.resident_id else "法人"
            if own in items.published_document(db, code).service_objects:
                applicant_type = own
    return subject(db, item=code, applicant_type=applicant_type)


def items_service_objects(db: Session, code: str) -> list[str]:
    """Who an item serves (自然人, 法人)."""
    return list(items.published_document(db, code).service_objects)


def situations(db: Session, found: Subject) -> list[dict[str, Any]]:
    """The questions of the subject's items whose answers decide which materials are needed."""
    out = []
    for code in found.items:
        document = items.published_document(db, code)
        for question in document.situations:
            out.append({"key": f"{code}.{question.id}", "item": code, "item_name": document.name,
                        "question": question.question,
                        "answers": [{"id": a.id, "label": a.label} for a in question.answers]})
    return out


def held_licences(db: Session, holder: str | None) -> list[tuple[str, str]]:
    """(number, name) of the electronic licences the platform issued to this applicant."""
    if not holder:
        return []
    return [(row.number, row.name) for row in db.execute(
        select(Licence.number, Licence.name).where(Licence.holder_id == holder).order_by(Licence.id.desc()).limit(200))]


def _held(material: Material, licences: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The held licence a material is: by its name ("不动产权证书（厂房或场地）") or one of its
    alternatives ("建设用地规划许可证或不动产权证书"); never a form or a bundle of papers that
    only names it ("…许可证申请表", "…许可证及附图")."""
    names = {part.split("（")[0].strip() for part in material.name.split("或")}
    for number, licence in licences:
        if licence.split("（")[0].strip() in names:
            return number, licence
    return None


def material_list(db: Session, found: Subject, answers: dict[str, str] | None = None, *,
                  strict: bool = False, holder: str | None = None) -> list[dict[str, Any]]:
    """Every material of the subject's items, as the applicant sees it: its description, whether
    it is needed in the applicant's situation (``answers``: "<item>.<question>" → answer id; None:
    not yet known), whether the platform holds it (免提交, with the source), and its blank form and
    sample. ``strict``: every question on the applicant's path must be answered. ``holder``: the
    applicant, whose licences in the licence library stand for the materials they are."""
    documents = [items.published_document(db, code) for code in found.items]
    licences = held_licences(db, holder)
    out: list[dict[str, Any]] = []
    unanswered = []
    for position, document in enumerate(documents):
        code = document.basic_code
        path: set[str] | None = None
        if answers is not None:
            own = {key.split(".", 1)[1]: value for key, value in answers.items() if key.startswith(code + ".") and value}
            state = items.navigate(db, code, own)[2]
            if state.next_question is not None:
                unanswered.append({"field": f"answers.{code}.{state.next_question['id']}", "code": "required",
                                   "message": f"请回答：{state.next_question['question']}"})
            path = set(state.path)
        labels = {a.id: a.label for q in document.situations for a in q.answers}
        earlier = documents[:position]
        for material in document.materials:
            if material.required == "required":
                needed: bool | None = True
            else:
                needed = None if path is None else bool(path & set(material.when))
            producer = next((other.name for other in earlier if _produces(other, material)), None)
            shared = material.source == "shared_data"
            held = None if producer or shared else _held(material, licences)
            base = f"/services/{code}/materials/{material.id}"
            out.append({
                "key": f"{code}-{material.id}", "item": code, "item_name": document.name, "id": material.id,
                "name": material.name, "form": material.form, "copies": material.copies,
                "notes": material.notes, "issuer": material.issuer, "needed": needed,
                "condition": "、".join(labels.get(w, w) for w in material.when) or None,
                "exempt": shared or producer is not None or held is not None,
                "shared_resource": material.shared_resource, "from_item": producer,
                "licence": held[0] if held else None,
                "exempt_source": (f"由本件「{producer}」的办理结果获取" if producer
                                  else items.shared_data_label(material.shared_resource) if shared
                                  else f"电子证照库（{held[1]}，证照编号 {held[0]}）" if held else None),
                "blank_form_url": f"{base}/blank-form.pdf" if material.blank_form else None,
                "sample_url": f"{base}/sample.pdf" if material.sample else None,
            })
    if strict and unanswered:
        raise Problem("validation-error", "；".join(e["message"] for e in unanswered[:5]), errors=unanswered)
    return out


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


def prefill_for_applicant(db: Session, principal: Principal, found: Subject, raw_key: str,
                          purpose: str) -> tuple[str, str, list[dict[str, Any]]]:
    """窗口代办: the walk-in applicant looked up in the base registry by ID number or credit code,
    for a stated purpose (the read is audited as any registry read), and the form prefilled from
    the record. (the applicant's key, name, the fields)."""
    registry_name = "persons" if found.applicant_type == "自然人" else "legal_entities"
    definition = REGISTRIES[registry_name]
    key = registry.validate_key(definition, (raw_key or "").strip())
    if registry.stated_purpose(purpose) is None:
        raise Problem("validation-error", "请说明查询用途", errors=[{"field": "purpose", "code": "required",
                                                                  "message": "请说明查询用途（至少 2 个字）"}])
    record = registry.current_row(db, definition, key)
    if record is None:
        what = "身份证号" if registry_name == "persons" else "统一社会信用代码"
        raise Problem("not-found", f"{definition.label}库中没有该{what}的登记，请核对证件",
                      errors=[{"field": "applicant_key", "code": "not_found", "message": "基础库中没有该申请人"}])
    clear = registry.reveal(db, principal, definition, key, purpose.strip(), subject=found.code)
    fields = []
    for form_field in found.fields:
        value = source = None
        if form_field.prefill and form_field.prefill.startswith(registry_name + "."):
            column = form_field.prefill.split(".")[1]
            # Personal values only to a reader the registry shows them to in clear; the rest are typed.
            if record.get(column) not in (None, "") and (clear or not definition.by_name[column].personal):
                value = str(record[column])
                source = f"{definition.label}库 · {registry.source_name(db, definition.by_name[column].duty)}"
        fields.append({"key": form_field.key, "label": form_field.label, "kind": form_field.kind,
                       "required": form_field.required, "choices": list(form_field.choices), "value": value,
                       "source": source, "max_length": form_field.max_length})
    return key, str(record.get("name") or key), fields


def prefill_blank(found: Subject) -> list[dict[str, Any]]:
    """The form for someone not signed in: nothing prefilled."""
    return [{"key": f.key, "label": f.label, "kind": f.kind, "required": f.required, "choices": list(f.choices),
             "value": None, "source": None, "max_length": f.max_length} for f in found.fields]


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
    documents = [items.published_document(db, code) for code in found.items]
    needed = []
    for position, document in enumerate(documents):
        earlier = documents[:position]
        for material in document.materials:
            if material.required != "required":
                continue
            producer = next((other.name for other in earlier if _produces(other, material)), None)
            needed.append({"item": document.basic_code, "item_name": document.name, "name": material.name,
                           "exempt": material.source == "shared_data" or producer is not None,
                           "shared_resource": material.shared_resource, "from_item": producer})
    return needed


def _produces(item: ServiceItemDocument, material: Material) -> bool:
    if material.shared_resource == "legal-entities" and REGISTRY_EFFECTS.get(item.basic_code) is _new_enterprise:
        return True  # the enterprise this bundle registers
    name = material.name
    return any(result.name in name or name in result.name for result in item.results)


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
        department=org.egov_office(db), roles=[Role.DEPARTMENT_SYSTEM.value]))


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


Upload = tuple[str, bytes]  # (the file's name as sent, its bytes)


def _check_uploads(settings, found_materials: list[dict], uploads: dict[str, list[Upload]]) -> None:
    """Every needed material has its file, every file names a material of the list and passes the
    attachment checks (type, size): all told at once, next to each material, before anything is kept."""
    from tongban.cases import attachments

    by_key = {m["key"]: m for m in found_materials}
    errors = []
    for key, files in uploads.items():
        material = by_key.get(key)
        if material is None or material["exempt"]:
            errors.append({"field": f"materials.{key}", "code": "unknown",
                           "message": f"「{key}」不是本事项需要上传的材料"})
            continue
        for _filename, data in files:
            try:
                attachments.check(settings, data)
            except Problem as problem:
                errors.append({"field": f"materials.{key}", "code": "attachment", "message": f"{material['name']}：{problem.detail}"})
    for material in found_materials:
        if material["needed"] and not material["exempt"] and not uploads.get(material["key"]):
            errors.append({"field": f"materials.{material['key']}", "code": "required",
                           "message": f"请上传「{material['name']}」"})
    if errors:
        raise Problem("validation-error", "；".join(e["message"] for e in errors[:5]), errors=errors)


@_flushed_once
def submit(db: Session, principal: Principal, *, found: Subject, form: dict[str, Any], provided: list[str],
           idempotency_key: str | None, applicant_id: str | None = None, applicant_name: str | None = None,
           request_hash: str | None = None, answers: dict[str, str] | None = None,
           uploads: dict[str, list[Upload]] | None = None, settings=None) -> tuple[Application, bool]:
    """File an application; (the application, whether it was created now). A retry with the same
    idempotency key by the same account returns the first one; the key with a different request
    (``request_hash``, from ``core.idempotency``) is refused.

    With ``uploads`` (material key → files; the page and the multipart API) the applicant's
    situation (``answers``) decides the needed materials, each needs its file, and a form missing
    any is refused whole, nothing kept; without, materials are named (``provided``) as before."""
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
    listed: list[dict] = []
    if uploads is not None:
        listed = material_list(db, found, answers or {}, strict=True, holder=applicant_id)
        _check_uploads(settings, listed, uploads)
    definition = _current_definition(db, found.process_key)
    missing: list[str] = []
    if uploads is not None:
        record = _listed_materials(db, found, listed, applicant_id, set(uploads))
    else:
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
    try:
        # In a savepoint: the same key submitted at once by another request undoes this insert
        # only, not the caller's transaction, which then reads the first one's application.
        with db.begin_nested():
            db.add(application)
    except IntegrityError:  # the same key submitted concurrently: the first one wins
        existing = db.scalar(select(Application).where(Application.submitted_by == principal.actor_id,
                                                       Application.idempotency_key == idempotency_key))
        if existing is None or idempotency_key is None:
            raise
        idempotency.check_replay(existing.request_hash, request_hash, idempotency_key)
        return existing, False
    if uploads:
        _keep_uploads(db, settings, application, record, uploads)
    channel = "窗口代办" if window else "网上申请"
    _step(db, application, principal, "submitted", f"{channel}：{found.name}")
    if missing and not window:
        # The rules check online applications: everything missing is told at once (一次性告知).
        application.status, application.status_reason = ApplicationStatus.RETURNED, "请补齐以下材料后再次提交：" + "；".join(missing)
        _step(db, application, audit.SYSTEM, "returned", application.status_reason)
    else:
        _time_acceptance(db, application, new_subject=True)
        policies.claimed(db, found.code, applicant_id)  # a policy claimed through this item: 已申报
    audit.record(db, actor=principal, action="cases.submit", object_type="application", object_id=application.number,
                 details={"subject": found.code, "channel": application.channel, "missing": len(missing)})
    _tell_applicant(db, application, f"办件 {application.number} 已提交",
                    application.status_reason or "等待窗口受理。")
    return application, True


def _listed_materials(db: Session, found: Subject, listed: list[dict], applicant_id: str,
                      uploaded: set[str]) -> list[dict]:
    """The record of a form with uploads: the needed or uploaded materials, the 免提交 ones read through the exchange."""
    shared: dict[str, list[str]] = {}
    for m in listed:
        if m["exempt"] and not m["from_item"] and not m.get("licence") and m["needed"] is not False:
            shared.setdefault(m["shared_resource"], []).append(m["name"])
    fetches = {resource: _fetch_shared(db, resource, applicant_id,
                                       purpose=f"一网通办受理：免提交材料「{'」「'.join(names)}」（{found.name}）"[:500])
               for resource, names in shared.items()}
    record = []
    for m in listed:
        if m["needed"] is False and not m["exempt"] and m["key"] not in uploaded:
            continue  # not needed in this situation and not given
        entry = {"key": m["key"], "item": m["item"], "item_name": m["item_name"], "name": m["name"],
                 "exempt": m["exempt"], "shared_resource": m["shared_resource"], "from_item": m["from_item"]}
        if m["from_item"]:
            entry.update(how="bundle", note=f"由本件「{m['from_item']}」的办理结果获取，免提交")
        elif m.get("licence"):
            if m["needed"] is False:
                continue
            entry.update(how="licence", licence=m["licence"], note=f"已从{m['exempt_source']}获取，免提交")
        elif m["exempt"]:
            if m["needed"] is False:
                continue
            fetched = fetches.get(m["shared_resource"])
            entry.update(how="shared" if fetched else "on_site", source=fetched,
                         note=f"已从{m['exempt_source']}获取，免提交" if fetched else "共享数据未取得，受理时核验原件")
        else:
            entry.update(how="missing", note="未提交")
        record.append(entry)
    return record


def _keep_uploads(db: Session, settings, application: Application, record: list[dict],
                  uploads: dict[str, list[Upload]]) -> None:
    """Keep every checked file (the virus scan runs here); one refused: every file kept so far is removed."""
    from tongban.cases import attachments

    by_key = {m["key"]: m for m in record}
    kept: list[dict] = []
    try:
        for key, files in uploads.items():
            entry = by_key[key] if key in by_key else None
            for filename, data in files:
                stored = attachments.store(settings, application.number, filename, data)
                kept.append(stored)
                if entry is not None:
                    entry.setdefault("files", []).append(stored)
                    entry.update(how="provided", note="已上传")
    except Problem:
        attachments.discard(settings, application.number, kept)
        raise
    application.materials = json.dumps(record, ensure_ascii=False)


def resubmit(db: Session, application: Application, principal: Principal, *, form: dict[str, Any] | None,
             provided: list[str]) -> Application:
    """The applicant completes what acceptance asked for, once, and the application goes back to the window."""
    if application.status != ApplicationStatus.RETURNED:
        raise Problem("conflict", f"办件 {application.number} 当前{_label(application)}，不需要补正")
    found = _subject_of(db, application)
    if form is not None:
        application.form = json.dumps(_check_form(found, form), ensure_ascii=False)
    record = json.loads(application.materials)
    if any("key" in m for m in record):  # filed with uploads: the files are the record; what is still wanted
        missing = [f"{m['item_name']}：{m['name']}" for m in record if m["how"] in ("missing", "requested")]
        for m in record:
            m.pop("requested", None)
    else:
        earlier = [m["name"] for m in record if m["how"] == "provided"]
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


def _subject_of(db: Session, application: Application) -> Subject:
    if application.subject_kind == "bundle":
        return subject(db, bundle=application.subject_code)
    return subject(db, item=application.subject_code, applicant_type=application.applicant_type)


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
    requested = [m["name"] for m in record if m.get("requested")]
    if application.status == ApplicationStatus.SUPPLEMENT and requested and material not in requested:
        raise Problem("validation-error", f"「{material}」不是要求补正的材料；需补正：{'、'.join(requested)}",
                      errors=[{"field": "body.material", "code": "unknown", "message": "不是要求补正的材料"}])
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


def request_materials(db: Session, application: Application, names: list[str]) -> list[str]:
    """A supplement request names materials of the subject's list, and only those: the applicant
    is then asked for exactly these uploads."""
    names = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    listed = {m["name"]: m for m in reversed(material_list(db, _subject_of(db, application)))}
    unknown = [n for n in names if n not in listed]
    if unknown:
        raise Problem("validation-error", f"「{'」「'.join(unknown)}」不在「{application.name}」的材料清单中；可选："
                      + "、".join(listed), errors=[{"field": "body.materials", "code": "unknown",
                                                    "message": f"不在材料清单中：{n}"} for n in unknown])
    record = json.loads(application.materials)
    for name in names:
        entry = next((e for e in record if e["name"] == name), None)
        if entry is None:
            m = listed[name]
            entry = {"key": m["key"], "item": m["item"], "item_name": m["item_name"], "name": name,
                     "exempt": False, "shared_resource": None, "from_item": None}
            record.append(entry)
        entry.update(requested=True, how="requested", note="待补正")
    application.materials = json.dumps(record, ensure_ascii=False)
    return names


def wanted(application: Application) -> list[dict[str, Any]]:
    """What the applicant is asked to upload now: the materials a supplement request named, or
    (returned before acceptance) those still missing."""
    return [m for m in json.loads(application.materials) if m.get("how") in ("requested", "missing")
            and not (m.get("exempt") and m.get("how") != "requested")]


def upload_wanted(db: Session, settings, application: Application, principal: Principal,
                  uploads: dict[str, list[Upload]]) -> list[str]:
    """The applicant's uploads for exactly what is wanted: all checked first (each wanted material
    has its file, each file its checks), then kept. Returns the names uploaded."""
    from tongban.cases import attachments

    asked = {m.get("key") or m["name"]: m for m in wanted(application)}
    errors = []
    for key, files in uploads.items():
        if key not in asked:
            errors.append({"field": f"materials.{key}", "code": "unknown", "message": f"「{key}」不是要求补正的材料"})
            continue
        for _filename, data in files:
            try:
                attachments.check(settings, data)
            except Problem as problem:
                errors.append({"field": f"materials.{key}", "code": "attachment",
                               "message": f"{asked[key]['name']}：{problem.detail}"})
    for key, m in asked.items():
        if not uploads.get(key):
            errors.append({"field": f"materials.{key}", "code": "required", "message": f"请上传「{m['name']}」"})
    if errors:
        raise Problem("validation-error", "；".join(e["message"] for e in errors[:5]), errors=errors)
    for key, files in uploads.items():
        for filename, data in files:
            attach(db, settings, application, principal, material=asked[key]["name"], filename=filename, data=data)
    return [asked[key]["name"] for key in uploads]
