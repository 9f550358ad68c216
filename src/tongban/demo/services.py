"""The demo's item base, processes, catalogue and sharing grants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import audit
from tongban.core.config import Settings
from tongban.org import service as org
from tongban.core import clock as wall


def load_services(db: Session, settings: Settings) -> None:
    """The item base (the district's catalogue of published items, the search synonyms, the items'
    FAQ), the processes of applications, and the grants under which the one window fetches shared
    materials."""
    from tongban.items import consultation
    from tongban.items import service as items

    actor = audit.SystemActor(actor_name="tongban demo load")
    items.import_document(db, demo_catalog(), actor=actor, publish=True)
    items.seed_synonyms(db, actor=actor)
    consultation.load_demo_faqs(db)
    from tongban.cases import service as cases

    cases.load_demo_definitions(db, actor=actor)
    _platform_grants(db, settings)


def demo_catalog() -> dict[str, Any]:
    """The demo district's items document: the hand-written items (with situations, relations and
    the two bundles' items) and the rest of its catalogue (``district_catalog.csv``)."""
    from tongban.demo.catalog_items import catalog_items
    from tongban.items import content

    document = content.load()
    return {**document, "items": document["items"] + catalog_items()}


def _platform_grants(db: Session, settings: Settings) -> None:
    """The one-window platform (run by the e-government office) asks for the registry items it
    fetches instead of asking applicants for copies; the source departments grant them."""
    from datetime import timedelta

    from tongban.cases.service import PLATFORM_ITEMS
    from tongban.catalog import service as catalog
    from tongban.sharing import service as sharing
    from tongban.sharing.models import SharingRequest
    from tongban.sharing.schemas import RequestStatus

    egov = org.get_by_code_or_404(db, "PD-EGOV")
    # The platform has fetched under these grants for a while (the demo's past cases fetched their
    # materials, and a replay of an earlier day still finds them): the longest period allowed,
    # three years, begun two years ago.
    valid_from = wall.today() - timedelta(days=2 * 365)
    for code, items in PLATFORM_ITEMS.items():
        resource = catalog.get_or_404(db, code)
        if db.scalar(select(SharingRequest.id).where(SharingRequest.requester_id == egov.id,
                                                     SharingRequest.resource_id == resource.id)) is not None:
            continue
        request = sharing.submit(db, resource=resource, requester=egov, item_codes=items,
                                 duty="一网通办统一受理：核验申请人身份和登记信息，免除申请人重复提交材料",
                                 basis="《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》",
                                 purpose="政务服务办件受理时获取免提交材料", valid_from=valid_from,
                                 valid_to=valid_from + timedelta(days=3 * 365), actor=audit.SystemActor(actor_name="tongban demo load"),
                                 response_days=settings.sharing_response_days)
        if request.status == RequestStatus.PROVIDER:
            pending = [item.item_code for item in request.items if item.outcome == "pending"]
            sharing.provider_decide(db, request, approve=pending, refuse=[], reason=None,
                                    actor=audit.SystemActor(actor_name="tongban demo load（提供部门答复）"))


ASSISTANCE_RESOURCE: dict[str, Any] = {
    "code": "PD-MZ-DIBAO", "name": "最低生活保障对象名册", "classification": "department",
    "summary": "民政局认定的最低生活保障家庭及其成员：保障人数、月保障金额、起始日期和当前状态。每日更新。",
    "format": "库表", "update_cycle": "每日", "sharing_type": "conditional",
    "sharing_conditions": "用于社会救助、医疗救助、教育资助等履职审核", "openness": "not_open", "key_item": "id_number",
    "items": [
        {"code": "id_number", "name": "公民身份号码", "data_type": "C", "length": 18, "personal": True,
         "sharing_type": "conditional", "sharing_conditions": "履行社会救助相关职责"},
        {"code": "name", "name": "姓名", "data_type": "C", "length": 50, "personal": True,
         "sharing_type": "conditional", "sharing_conditions": "履行社会救助相关职责"},
        {"code": "household_size", "name": "保障人数", "data_type": "N", "length": 3, "sharing_type": "unconditional"},
        {"code": "monthly_amount", "name": "月保障金额（元）", "data_type": "N", "length": 10,
         "sharing_type": "conditional", "sharing_conditions": "仅限救助金额核算"},
        {"code": "start_date", "name": "保障起始日期", "data_type": "D", "length": 10, "sharing_type": "unconditional"},
        {"code": "status", "name": "保障状态", "data_type": "C", "length": 10, "sharing_type": "unconditional"},
        {"code": "case_notes", "name": "家庭经济状况核对明细", "data_type": "C", "length": 2000, "personal": True,
         "sharing_type": "not_shared", "legal_basis": "《社会救助暂行办法》第六十六条：对获得的信息予以保密"},
    ],
}


def load_catalog(db: Session, settings: Settings) -> None:
    """The base registries in the catalog, one department dataset, and one pending request."""
    from datetime import timedelta

    from tongban.catalog import service as catalog
    from tongban.catalog.schemas import ResourceIn, ResourceStatus
    from tongban.sharing import service as sharing
    from tongban.sharing.models import SharingRequest

    actor = audit.SystemActor(actor_name="tongban demo load")
    catalog.sync_registries(db)
    if catalog.get(db, ASSISTANCE_RESOURCE["code"]) is None:
        resource = catalog.create(db, ResourceIn.model_validate(ASSISTANCE_RESOURCE),
                                  provider=org.get_by_code_or_404(db, "PD-MZ"), actor=actor)
        catalog.set_status(db, resource, ResourceStatus.PUBLISHED, actor=actor)
    if db.scalar(select(SharingRequest).limit(1)) is None:
        today = wall.today()
        sharing.submit(db, resource=catalog.get_or_404(db, "persons"), requester=org.get_by_code_or_404(db, "PD-MZ"),
                       item_codes=["name", "gender", "residence_status", "marital_status", "household_address"],
                       duty="最低生活保障申请家庭的户籍和婚姻状况核对", basis="《社会救助暂行办法》第十一条",
                       purpose="低保审核：核对申请人户籍、婚姻状况", valid_from=today,
                       valid_to=today + timedelta(days=365), actor=actor,
                       response_days=settings.sharing_response_days)
