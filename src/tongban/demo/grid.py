"""The demo district's city management: the national categories, who handles what, the unit grid
over 陆家嘴, 潍坊新村 and 花木 (``grid_cells``), and a day of cases in every step, some late.

Idempotent: categories, routes and the grid are loaded once; the cases only into a grid without any.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.core import audit, clock as wall
from tongban.core.auth import Principal
from tongban.core.config import Settings
from tongban.demo.district import DISTRICT, principal
from tongban.demo.grid_cells import demo_grid
from tongban.grid import components, geo, service as grid
from tongban.grid.models import Component
from tongban.grid.schemas import Source

SEED = 20261207
# Who handles each handler's problems in the demo district (the street's office where none: 属地).
ROUTES = {"water": "PD-JSJT", "power": "PD-JSJT", "telecom": "PD-JSJT", "gas": "PD-JSJT", "heat": "PD-JSJT",
          "transport": "PD-JSJT", "traffic_police": "PD-GA", "greening": "PD-LHSR", "sanitation": "PD-LHSR",
          "enforcement": "PD-CGZF", "housing": "PD-ZJ", "ecology": "PD-STHJ", "fire": "PD-GA"}
SUPERVISOR, OPERATOR = "grid", "grid.centre"
HANDLERS = {"PD-CGZF": "grid.cgzf", "PD-LHSR": "grid.lhsr", "PD-JSJT": "grid.jsjt", "PD-GA": "grid.ga",
            "PD-LJZ": "grid.ljz", "PD-WF": "grid.wf", "PD-HM": "grid.hm"}
# The problems a supervisor meets on a round, by name in the national classes.
COMMON = [("event", "暴露垃圾"), ("event", "非机动车乱停放"), ("event", "店外经营"), ("event", "非法小广告"),
          ("event", "占道堆物"), ("event", "道路破损"), ("component", "路灯"), ("component", "垃圾箱"),
          ("component", "行道树"), ("component", "污水井盖"), ("event", "机动车乱停放"), ("event", "无照经营游商")]
DESCRIPTIONS = {"暴露垃圾": "人行道旁有成堆生活垃圾未清运", "非机动车乱停放": "共享单车大量堆放占用盲道",
                "店外经营": "沿街商铺在店外摆放货架经营", "非法小广告": "电线杆和墙面张贴大量小广告",
                "占道堆物": "建筑材料堆放在人行道上", "道路破损": "机动车道出现约一平方米坑洞",
                "路灯": "路灯夜间不亮", "垃圾箱": "垃圾箱破损、桶盖缺失", "行道树": "行道树枝干折断悬挂",
                "污水井盖": "污水井盖缺失，井口敞开", "机动车乱停放": "机动车停放在消防通道",
                "无照经营游商": "流动摊贩在路口占道售卖"}


def load_grid(db: Session, settings: Settings) -> None:
    grid.seed_categories(db)
    system = principal(db, "admin")
    for handler, department in ROUTES.items():
        if grid.route_department(db, handler, None) is None:
            grid.set_route(db, system, handler=handler, street_code="", department_code=department)
    if db.scalar(select(func.count()).select_from(grid.GridVersion)) == 0:
        data = json.dumps(demo_grid(), ensure_ascii=False).encode()
        grid.import_grid(db, system, data, crs=geo.Crs.WGS84, source="浦东新区单元网格（演示）.geojson",
                         extent=geo.Extent.parse(settings.grid_extent), district_code=settings.district_code)
    if db.scalar(select(func.count()).select_from(Component)) == 0:
        components.import_components(db, system, json.dumps(_components(db)).encode(), crs=geo.Crs.WGS84,
                                     extent=geo.Extent.parse(settings.grid_extent), district_code=settings.district_code,
                                     index=grid.grid_index(db))
    if db.scalar(select(func.count()).select_from(grid.GridCase)) == 0:
        _cases(db, settings)
    _layers(db, settings)


def _item(code: str, name: str, data_type: str = "C", length: int = 64) -> dict:
    return {"code": code, "name": name, "data_type": data_type, "length": length, "sharing_type": "unconditional"}


# The grid's layers in the catalog (城运中心 provides them), so departments read them as GeoJSON
# through the exchange under grants; the demo grants 公安分局 the cells and the components.
LAYERS: list[dict[str, Any]] = [
    {"code": "GRID-CELLS", "name": "单元网格（空间数据）", "summary": "万米单元网格的边界、编码、所属街道社区和用地性质（WGS 84）。",
     "key_item": "code", "items": [_item("code", "网格编码", length=15), _item("street_code", "街道代码", length=9),
                                   _item("street", "街道"), _item("community_code", "社区代码", length=12),
                                   _item("community", "社区"), _item("land_use", "用地性质", length=16),
                                   _item("area_m2", "面积（平方米）", "N", 12)]},
    {"code": "GRID-COMPONENTS", "name": "城市管理部件（空间数据）", "summary": "部件普查成果：部件编码、类别、位置、主管部门、养护单位和状态。",
     "key_item": "code", "items": [_item("code", "部件编码", length=16), _item("category_code", "部件类别", length=4),
                                   _item("name", "部件名称"), _item("cell_code", "所在网格", length=15),
                                   _item("owner", "主管部门", length=100), _item("maintainer", "养护单位", length=100),
                                   _item("state", "状态", length=8)]},
    {"code": "GRID-CASES", "name": "城市管理案件（空间数据）", "summary": "城管案件的位置、类别、状态和时间（不含描述和举报人信息）。",
     "key_item": "number", "items": [_item("number", "案件编号", length=24), _item("status", "状态", length=10),
                                     _item("category_kind", "部件或事件", length=10), _item("category_code", "类别代码", length=4),
                                     _item("category_name", "类别名称"), _item("cell_code", "所在网格", length=15),
                                     _item("street_code", "街道代码", length=9), _item("created_at", "上报时间", "T", 32),
                                     _item("closed_at", "结案时间", "T", 32)]},
]


def _layers(db: Session, settings: Settings) -> None:
    from tongban.catalog import service as catalog
    from tongban.catalog.schemas import ResourceIn, ResourceStatus
    from tongban.sharing import service as sharing
    from tongban.org import service as org

    actor = audit.SystemActor(actor_name="tongban demo load")
    centre = org.get_by_code_or_404(db, "PD-WGZX")
    for layer in LAYERS:
        if catalog.get(db, layer["code"]) is None:
            resource = catalog.create(db, ResourceIn.model_validate({
                **layer, "classification": "department", "format": "空间数据", "update_cycle": "实时",
                "sharing_type": "unconditional", "openness": "not_open"}), provider=centre, actor=actor)
            catalog.set_status(db, resource, ResourceStatus.PUBLISHED, actor=actor)
            if layer["code"] in ("GRID-CELLS", "GRID-COMPONENTS"):
                today = wall.today()
                request = sharing.submit(db, resource=resource, requester=org.get_by_code_or_404(db, "PD-GA"),
                                         item_codes=[item["code"] for item in layer["items"]],
                                         duty="治安防控网格化：警务网格与城市管理网格对应", basis="《上海市城市网格化管理办法》",
                                         purpose="社区警务网格划分与巡逻部署", valid_from=today,
                                         valid_to=today + timedelta(days=365), actor=actor,
                                         response_days=settings.sharing_response_days)
                if request.status == "provider":  # unconditional items are granted as the request is filed
                    sharing.provider_decide(db, request, approve=[item["code"] for item in layer["items"]], refuse=[],
                                            reason=None, actor=actor)


# The census's kinds in the demo, with who owns and who maintains them.
CENSUS = [("0102", "污水井盖", "浦东新区建设和交通委员会", "浦东排水运营公司", 120),
          ("0101", "上水井盖", "浦东新区建设和交通委员会", "浦东威立雅自来水公司", 80),
          ("0116", "路灯", "浦东新区建设和交通委员会", "浦东路灯管理所", 160),
          ("0304", "垃圾箱", "浦东新区绿化和市容管理局", "浦东环卫作业公司", 90),
          ("0402", "行道树", "浦东新区绿化和市容管理局", "浦东绿化养护公司", 60)]


def _components(db: Session) -> dict:
    """Components at reproducible points of the demo grid: a survey of the streets' common kinds."""
    rng = random.Random(SEED + 1)
    index = grid.grid_index(db)
    kinds = {c.code for c in grid.categories(db, kind="component")}
    features = []
    for code, name, owner, maintainer, count in CENSUS:
        if code not in kinds:
            continue
        for serial in range(1, count + 1):
            bounds = index.polygons[rng.randrange(len(index.refs))].bounds
            lon, lat = rng.uniform(bounds[0], bounds[2]), rng.uniform(bounds[1], bounds[3])
            state = "破损" if rng.random() < 0.05 else "完好"
            features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
                             "properties": {"code": f"{DISTRICT[4]}{code}{serial:06d}", "name": name, "owner": owner,
                                            "maintainer": maintainer, "state": state, "surveyed_on": "2026-10-15"}})
    return {"type": "FeatureCollection", "features": features}


def _cases(db: Session, settings: Settings) -> None:
    """A day of a supervisor's reports, taken through the steps at the pace of a real day: some
    still waiting, some handled and checked, some late, one returned, one reworked, one duplicate."""
    rng = random.Random(SEED)
    supervisor, operator = principal(db, SUPERVISOR), principal(db, OPERATOR)
    handlers = {code: principal(db, username) for code, username in HANDLERS.items()}
    names = {(c.kind, c.name): c for c in grid.categories(db)}
    index = grid.grid_index(db)
    extent = geo.Extent.parse(settings.grid_extent)
    start = wall.now() - timedelta(hours=30)
    cases = []
    with wall.frozen(start) as moment:
        for number in range(48):
            kind, name = COMMON[number % len(COMMON)]
            category = names.get((kind, name))
            if category is None:
                continue
            ref = index.refs[rng.randrange(len(index.refs))]
            lon, lat = index.polygons[index.refs.index(ref)].representative_point().coords[0]
            moment.advance(minutes=rng.randint(10, 35))
            case = grid.report(db, supervisor, grid.Report(kind=kind, code=category.code, lon=lon, lat=lat,
                                                           description=DESCRIPTIONS[name], address=None),
                               source=Source.SUPERVISOR, extent=extent)
            cases.append(case)
        moment.advance(minutes=20)
        for position, case in enumerate(cases):
            stage = position % 8  # 0: waiting to register … 7: reworked
            if stage == 0:
                continue
            moment.advance(minutes=5)
            if stage == 1 and position % 16 == 1:
                grid.reject(db, operator, case.number, reason="经核实为私人庭院内问题，不属于城市管理范围")
                continue
            grid.register(db, operator, case.number)
            if stage == 2:
                continue
            moment.advance(minutes=5)
            grid.dispatch(db, operator, case.number)
            handler = _handler(db, handlers, case)
            if stage in (3, 4) or handler is None:
                continue  # being handled (stage 4 late by now, if its limit is in hours)
            moment.advance(hours=2)
            if stage == 5 and case.category_code != "0304":
                grid.return_case(db, handler, case.number, reason="该问题位于小区红线内，应由物业处理")
                continue
            grid.handle(db, handler, case.number, result="已安排人员到场处置，现场已恢复")
            if stage == 6:
                moment.advance(hours=1)
                grid.verify(db, supervisor, case.number, fixed=True, note="现场核查已解决")
            elif stage == 7:
                moment.advance(hours=1)
                grid.verify(db, supervisor, case.number, fixed=False, note="现场仍有部分问题未处理")
    db.flush()


def _handler(db: Session, handlers: dict[str, Principal], case) -> Principal | None:
    for handler in handlers.values():
        if handler.department_id == case.department_id:
            return handler
    return None
