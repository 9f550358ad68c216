"""Results of approved items: electronic licences and the writes to the base registries."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.cases.models import Application, CaseTask, Licence
from tongban.cases.common import _code, _flush, _step
from tongban.cases.reading import is_applicant
from tongban.core import audit
from tongban.core.auth import Principal, deny
from tongban.core.errors import Problem
from tongban.core.idnumbers import mask_resident_id
from tongban.core.inputs import normalise_code
from tongban.core.permissions import Permission
from tongban.core.idnumbers import new_credit_code
from tongban.items import service as items
from tongban.registry import service as registry
from tongban.registry.schemas import LEGAL_ENTITIES
from tongban.core import clock as wall


_RANDOM = random.SystemRandom()


@dataclass(frozen=True)
class LicenceType:
    """How a licence is printed and how long it is valid."""

    layout: str  # business: 营业执照; general: 准予行政许可决定书 with the licence's particulars
    valid_years: int | None  # None: 长期有效


GENERAL = LicenceType("general", None)
# By item: the validity its rules set (食品经营许可证 5 years, 公共场所卫生许可证 4 years, …).
LICENCE_TYPES = {
    "000121004000": LicenceType("business", None),  # 营业执照：营业期限长期
    "000121007000": LicenceType("business", None),  # 个体工商户营业执照
    "000121010000": LicenceType("general", 5),  # 食品经营许可证
    "000125004000": LicenceType("general", 4),  # 公共场所卫生许可证
    "000125007000": LicenceType("general", 5),  # 医疗机构执业许可证
    "000116007000": LicenceType("general", 1),  # 建筑垃圾处置证
    "000107010000": LicenceType("general", 1),  # 上海市居住证（签注有效期一年）
    "000113004000": LicenceType("general", 1),  # 建设用地规划许可证：一年内未取得批准的失效
    "000113007000": LicenceType("general", 2),  # 建设工程规划许可证
}
STATUS_LABELS = {"valid": "有效", "expired": "已过期", "revoked": "已撤销"}


def licence_type(licence: Licence) -> LicenceType:
    return LICENCE_TYPES.get(licence.item_code, GENERAL)


def _valid_until(item_code: str, issued_on: date) -> date | None:
    years = LICENCE_TYPES.get(item_code, GENERAL).valid_years
    if years is None:
        return None
    try:
        end = issued_on.replace(year=issued_on.year + years)
    except ValueError:  # issued on 29 February: the years end on 1 March
        end = issued_on.replace(year=issued_on.year + years, month=3, day=1)
    return end - timedelta(days=1)


def licence_status(licence: Licence) -> str:
    """valid, expired (past its last valid day, Beijing date) or revoked."""
    if licence.revoked_at is not None:
        return "revoked"
    if licence.valid_until is not None and licence.valid_until < wall.today():
        return "expired"
    return "valid"


def licence_or_404(db: Session, number: str) -> Licence:
    row = db.scalar(select(Licence).where(Licence.number == normalise_code(number)[:40]))
    if row is None:
        raise Problem("not-found", f"没有编号为「{number[:40]}」的证照，请核对证照编号")
    return row


def licence_application(db: Session, licence: Licence) -> Application:
    return db.get_one(Application, licence.application_id)


def issuing_department_id(db: Session, licence: Licence) -> int | None:
    """The department whose approval issued the licence: the one that decided its item's task."""
    return db.scalar(select(CaseTask.department_id).where(
        CaseTask.application_id == licence.application_id, CaseTask.item_code == licence.item_code,
        CaseTask.kind == "review", CaseTask.decision == "approve").order_by(CaseTask.id).limit(1))


def check_licence_reader(db: Session, principal: Principal, licence: Licence) -> None:
    """The holder (the applicant's account) or staff of the issuing department; anyone else is refused, audited."""
    if is_applicant(db, principal, licence_application(db, licence)):  # online, or filed for them at the window
        return
    if principal.kind == "staff" and principal.can_for_department(Permission.CASES_READ, issuing_department_id(db, licence)):
        return
    raise deny(db, principal, slug="permission-denied", detail="只有持证人本人或发证部门的工作人员可以下载该证照",
               action="cases.licence.read", object_type="licence", object_id=licence.number)


def masked_holder(application: Application, licence: Licence) -> tuple[str, str]:
    """(name, ID) as the public check shows them: a person's masked, an enterprise's as registered."""
    if application.applicant_type == "自然人":
        name = licence.holder_name
        return (name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"), mask_resident_id(licence.holder_id)
    return licence.holder_name, licence.holder_id


def licence_check(db: Session, number: str) -> dict:
    """The public check of a licence (schemas.LicenceCheck): its status, issuer and masked holder."""
    licence = licence_or_404(db, number)
    holder_name, holder_id = masked_holder(licence_application(db, licence), licence)
    status = licence_status(licence)
    return {"number": licence.number, "name": licence.name, "item_name": items.published_document(db, licence.item_code).name,
            "status": status, "status_label": STATUS_LABELS[status], "holder_name": holder_name,
            "holder_id": holder_id, "issued_by": licence.issued_by, "issued_at": licence.issued_at,
            "valid_until": licence.valid_until, "revoked_at": licence.revoked_at, "revoked_reason": licence.revoked_reason}


def revoke(db: Session, licence: Licence, principal: Principal, *, reason: str) -> Licence:
    """撤销: only the issuing department; the reason is public on the check page."""
    department_id = issuing_department_id(db, licence)
    if not principal.can_for_department(Permission.CASES_REVIEW, department_id):
        raise deny(db, principal, slug="department-scope", detail="只有发证部门可以撤销该证照",
                   action="cases.licence.revoke", object_type="licence", object_id=licence.number)
    reason = (reason or "").strip()
    if not reason:
        raise Problem("validation-error", "撤销证照须说明理由",
                      errors=[{"field": "body.reason", "code": "required", "message": "请填写撤销理由"}])
    if licence.revoked_at is not None:
        raise Problem("conflict", f"证照 {licence.number} 已于此前撤销")
    licence.revoked_at, licence.revoked_reason = wall.now(), reason[:500]
    _step(db, licence_application(db, licence), principal, "revoked", f"证照「{licence.name}」（{licence.number}）已撤销：{reason[:400]}",
          principal.department_code)
    audit.record(db, actor=principal, action="cases.licence.revoke", object_type="licence", object_id=licence.number,
                 details={"reason": reason[:500]})
    _flush(db, licence)
    return licence


def _results(db: Session, application: Application, task: CaseTask, actor: Principal) -> None:
    """The item's result: its electronic licence, and what belongs in a base registry, written there
    through the authoritative department (the reviewer's own)."""
    assert task.department is not None  # a department's task: decide refuses any other
    document = items.published_document(db, task.item_code)
    licences = [result for result in document.results if result.licence]
    for index, result in enumerate(licences, start=1):
        # Unique by construction: one task per item in an application, whose number is unique.
        number = f"{task.item_code[-6:]}-{application.number.split('-', 1)[1]}" + (f"-{index}" if len(licences) > 1 else "")
        db.add(Licence(number=number, application_id=application.id, item_code=task.item_code, name=result.name,
                       holder_id=application.applicant_id, holder_name=application.applicant_name,
                       issued_by=task.department.name, issued_at=wall.now(),
                       valid_until=_valid_until(task.item_code, wall.today())))
        _step(db, application, actor, "licence", f"核发电子证照「{result.name}」，证照编号 {number}", _code(task))
    effect = REGISTRY_EFFECTS.get(task.item_code)
    if effect is not None:
        effect(db, application, task, actor)


def _new_enterprise(db: Session, application: Application, task: CaseTask, actor) -> None:
    assert task.department is not None  # the approving department's task (_results)
    form = json.loads(application.form)
    for _attempt in range(5):
        code = new_credit_code(task.department.division_code[:6], _RANDOM)  # the registering authority's division
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
