"""Results of approved items: electronic licences and the writes to the base registries."""

from __future__ import annotations

import json
import random

from sqlalchemy.orm import Session

from tongban.cases.models import Application, CaseTask, Licence
from tongban.cases.common import _code, _step
from tongban.core.auth import Principal
from tongban.core.idnumbers import new_credit_code
from tongban.items import service as items
from tongban.registry import service as registry
from tongban.registry.schemas import LEGAL_ENTITIES
from tongban.core import clock as wall


_RANDOM = random.SystemRandom()


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
