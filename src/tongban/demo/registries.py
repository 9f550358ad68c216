"""The demo's base registries: a synthetic district imported through the real import path."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session, sessionmaker

from tongban.core import audit
from tongban.core.config import Settings
from tongban.org import service as org
from tongban.registry.schemas import Duty, Registry

from tongban.demo.district import CITIZEN, ENTERPRISE, present

# The synthetic district loaded for the demo: big enough to search and page through.
DEMO_SEED = 2026
DEMO_PEOPLE, DEMO_ENTERPRISES, DEMO_ADDRESSES = 5_000, 500, 1_500


def load_registries(sessions: sessionmaker[Session], settings: Settings, *,
                    progress: Callable[[str, int], object] | None = None) -> dict[str, int]:
    """Import a synthetic district through the real import path: each department imports the
    columns it is the source of (the owner of the key first, who creates the records)."""
    from tongban.demo import synthetic
    from tongban.registry import importer
    from tongban.registry.schemas import REGISTRIES

    folder = settings.data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    plan = [("addresses", DEMO_ADDRESSES), ("persons", DEMO_PEOPLE), ("legal_entities", DEMO_ENTERPRISES)]
    counts: dict[str, int] = {}
    for name, count in plan:
        registry = REGISTRIES[name]
        rows = synthetic.rows(name, DEMO_SEED, count, people=DEMO_PEOPLE, addresses=DEMO_ADDRESSES)
        for duty, path in per_source_files(registry, rows, folder).items():
            with sessions() as db:
                source = present(org.get_by_duty(db, duty.value), f"{duty.value} 的来源部门").code
            actor = audit.SystemActor(actor_name="tongban demo load", department_code=source)
            job = importer.run(sessions, registry=registry, path=path, department_code=source, actor=actor)
            if duty == registry.owner:
                counts[name] = job.rows_accepted + job.rows_unchanged
        if progress:
            progress(name, counts[name])
    with sessions() as db:
        load_applicants(db)
        db.commit()
    return counts


def per_source_files(registry: Registry, rows: Iterable[dict[str, str]], folder: Path) -> dict[Duty, Path]:
    """Split full rows into one CSV per source department: the key plus that source's fields."""
    import csv

    by_duty: dict[Duty, list[str]] = {}
    for field in registry.fields:
        if field.name != registry.key:
            by_duty.setdefault(field.duty, []).append(field.name)
    paths: dict[Duty, Path] = {}
    writers: dict[Duty, tuple[Any, list[str]]] = {}  # csv's writer type is private (_csv._writer)
    handles: list[IO[str]] = []
    try:
        for duty, names in sorted(by_duty.items(), key=lambda item: item[0] != registry.owner):
            paths[duty] = folder / f"{registry.name}.{duty.value}.csv"
            handle = open(paths[duty], "w", encoding="utf-8", newline="")
            handles.append(handle)
            writers[duty] = (csv.writer(handle), [registry.key, *names])
            writers[duty][0].writerow(writers[duty][1])
        for row in rows:
            for writer, columns in writers.values():
                writer.writerow([row[c] for c in columns])
    finally:
        for opened in handles:
            opened.close()
    return paths


def load_applicants(db: Session) -> None:
    """The demo citizen and enterprise accounts have records in the registries too."""
    from tongban.registry import service
    from tongban.registry.schemas import LEGAL_ENTITIES, PERSONS

    actor = audit.SystemActor(actor_name="tongban demo load")
    if service.current_row(db, PERSONS, CITIZEN.username) is None:
        values = service.parse_values(PERSONS, {
            "id_number": CITIZEN.username, "name": CITIZEN.name, "gender": "男", "birth_date": "1993-06-15",
            "ethnicity": "汉族", "household_address": "上海市浦东新区花木街道锦绣路1001弄8号302室",
            "residence_address": "上海市浦东新区花木街道锦绣路1001弄8号", "residence_status": "户籍", "phone": "13916881234"})
        service.write(db, registry=PERSONS, key=CITIZEN.username, values=values,
                      department=org.get_by_code_or_404(db, "PD-GA"), actor=actor, reason="演示数据：户籍登记")
    if service.current_row(db, LEGAL_ENTITIES, ENTERPRISE.username) is None:
        values = service.parse_values(LEGAL_ENTITIES, {
            "credit_code": ENTERPRISE.username, "name": ENTERPRISE.name, "entity_type": "有限责任公司",
            "legal_representative_id": CITIZEN.username, "legal_representative_name": CITIZEN.name,
            "registered_capital": "500", "currency": "人民币", "established_on": "2021-03-18", "approved_on": "2021-03-18",
            "registered_address": "中国（上海）自由贸易试验区张江路665号3层", "business_scope": "软件开发；信息技术咨询服务；数据处理服务。",
            "industry_code": "I6513", "registration_authority": "浦东新区市场监督管理局", "status": "存续"})
        service.write(db, registry=LEGAL_ENTITIES, key=ENTERPRISE.username, values=values,
                      department=org.get_by_code_or_404(db, "PD-SCJG"), actor=actor, reason="演示数据：设立登记")
        # What the tax office, social security and statistics hold of it (the policies it qualifies for read them).
        for department, raw, reason in (
                ("PD-SW", {"tax_registration_status": "正常", "taxpayer_type": "小规模纳税人"}, "演示数据：税务登记"),
                ("PD-RS", {"social_insurance_registered": "已登记"}, "演示数据：社会保险登记"),
                ("PD-TJ", {"employees": "36"}, "演示数据：统计年报")):
            service.write(db, registry=LEGAL_ENTITIES, key=ENTERPRISE.username, values=service.parse_values(LEGAL_ENTITIES, raw),
                          department=org.get_by_code_or_404(db, department), actor=actor, reason=reason, create=False)
