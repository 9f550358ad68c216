"""The demo's history: registry corrections under supervision and a month of supervised applications."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.accounts import service as accounts
from tongban.core import audit, numbers
from tongban.core.config import Settings
from tongban.core import clock as wall

from tongban.demo.district import CITIZEN, ENTERPRISE, STAFF, DemoAccount, present

DEMO_CORRECTOR = "tongban demo load（电子监察演示）"


def load_supervision(db: Session, settings: Settings) -> None:
    """Something for the inspectors to watch: 纠错 requests of the demo applicants filed some
    working days ago, so their clocks stand at every level (overdue, due soon, on track) and two
    are closed (on time and late); then one warning scan, as the server runs it."""
    from datetime import timedelta

    from tongban.core.workdays import WorkingCalendar
    from tongban.registry import corrections
    from tongban.registry.models import CorrectionRequest
    from tongban.registry.schemas import LEGAL_ENTITIES, PERSONS
    from tongban.supervision import service as supervision

    if db.scalar(select(CorrectionRequest.id).where(CorrectionRequest.requester_name == DEMO_CORRECTOR).limit(1)):
        return
    calendar, today = WorkingCalendar.load(db), wall.today()

    def working_days_ago(count: int) -> date:
        day = today
        while count > 0:
            day -= timedelta(days=1)
            count -= calendar.is_working_day(day)
        return day

    requester = audit.SystemActor(actor_name=DEMO_CORRECTOR, department_code="PD-MZ")
    plan = [  # (registry, key, field, proposed, working days ago, decided as)
        (PERSONS, CITIZEN.username, "residence_address", "上海市浦东新区花木街道锦绣路1001弄9号", settings.correction_days + 3, None),
        (PERSONS, CITIZEN.username, "phone", "13916885678", settings.correction_days - 1, None),
        (LEGAL_ENTITIES, ENTERPRISE.username, "registered_address", "中国（上海）自由贸易试验区张江路665号5层", 0, None),
        (LEGAL_ENTITIES, ENTERPRISE.username, "phone", "021-58881234", 2, "rejected"),
        (LEGAL_ENTITIES, ENTERPRISE.username, "business_scope", "软件开发；信息技术咨询服务；数据处理和存储支持服务。",
         settings.correction_days + 4, "rejected"),
    ]
    for registry, key, field, proposed, ago, decided in plan:
        correction = corrections.request_correction(
            db, registry=registry, key=key, field_name=field, proposed=proposed, reason="群众反映信息有误（演示）",
            evidence=None, requester=requester, working_days=settings.correction_days, today=working_days_ago(ago))
        if decided:
            source = audit.SystemActor(actor_name="tongban demo load（来源部门）", department_code=correction.source_department)
            corrections.decide(db, correction_id=correction.id, accept=False, reason="经核实，登记信息无误（演示）",
                               decider=source, registries={registry.name: registry})
    supervision.scan(db, today=today)


def publish_last_month(db: Session) -> None:
    """Last month's evaluation, computed and published on the portal once, after every demo record
    of the month is in: published earlier, a re-run would find figures the demo added after it
    (the 纠错 clocks of ``load_supervision``)."""
    from datetime import timedelta

    from tongban.supervision import evaluation

    month_end = wall.today().replace(day=1) - timedelta(days=1)
    first = month_end.replace(day=1)
    if evaluation.latest(db, first, month_end, published=True) is not None:
        return
    evaluation.evaluate(db, period_start=first, period_end=month_end, computed_by="电子监察（演示数据）")
    evaluation.publish(db, period_start=first, period_end=month_end, actor=audit.SystemActor(actor_name="tongban demo load"))


DEMO_MONTH_KEY = "demo-supervised-month"  # the idempotency keys of the month's applications start with it
# Items the demo applicants use, by who applies: (basic code, applicant); limits come from the items.
DEMO_MONTH_ITEMS = [
    ("000112010000", CITIZEN), ("000107010000", CITIZEN), ("000121007000", CITIZEN), ("000112007000", CITIZEN),
    ("000126007000", CITIZEN), ("000117007000", CITIZEN), ("000113010000", CITIZEN), ("000114004000", ENTERPRISE),
    ("000125010000", CITIZEN), ("000121010000", CITIZEN), ("000115010000", ENTERPRISE), ("000112013000", CITIZEN),
    ("000121013000", ENTERPRISE), ("000107013000", CITIZEN),
]


def load_supervised_month(db: Session, settings: Settings) -> None:
    """Something real for the dashboard: the demo applicants' online applications from the first
    day of last month to today, played day by day through the supervision clocks (accepted the
    same or the next working day; most finished on time, some late, some with a supplement that
    pauses the clock, a few refused, some still open and one of those overdue), rated 好差评 the
    working day after they finish (two poor ratings: one rectification 人社局's head has closed,
    one still open), the warning scan run at the end of every day (last month's evaluation is
    ``publish_last_month``'s, once every record is in).

    The applications still open today are accepted, sent back for a supplement and supplied
    through the cases domain itself (``start_processing``, ``decide``, ``supply``), each under the
    clock of its day: they have the department tasks a real acceptance opens, so their reviewers
    find them in their queues and can decide them. The finished ones are history, written as rows."""
    import random
    from datetime import datetime, time, timedelta

    from tongban.accounts.service import load_principal
    from tongban.cases import service as cases
    from tongban.cases.models import Application, ApplicationStatus, CaseStep, CaseTask, ProcessDefinitionRow, TaskStatus
    from tongban.cases.service import SINGLE_ITEM_PROCESS
    from tongban.core.permissions import Role
    from tongban.core.workdays import WorkingCalendar
    from tongban.items import service as items
    from tongban.items.models import ServiceItem
    from tongban.supervision import clocks, ratings
    from tongban.supervision import service as supervision
    from tongban.supervision.models import ClockKind

    people = {who: present(accounts.get_by_username(db, who.username), who.name) for who in (CITIZEN, ENTERPRISE)}
    if db.scalar(select(Application.id).where(Application.idempotency_key.like(f"{DEMO_MONTH_KEY}%")).limit(1)):
        return
    calendar, today = WorkingCalendar.load(db), wall.today()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    days = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    work = [d for d in days if calendar.is_working_day(d)]
    last = len(work) - 1
    definition = present(db.scalar(select(ProcessDefinitionRow).where(ProcessDefinitionRow.key == SINGLE_ITEM_PROCESS)
                                    .order_by(ProcessDefinitionRow.version.desc()).limit(1)), "单事项办理流程")
    departments = dict(db.execute(select(ServiceItem.basic_code, ServiceItem.department_id)).all())
    department_codes = {code: items.published_document(db, code).department for code, _who in DEMO_MONTH_ITEMS}
    rng = random.Random(2026)

    def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), wall.BEIJING)

    def planned(code: str, who: DemoAccount, submitted: int, accepted: int, used: int, *, pause: tuple[int, int] | None = None,
                outcome: str = "approved", score: int | None = None) -> dict[str, Any]:
        """One application: working-day indices of its steps, its limit from the item."""
        limit = items.published_document(db, code).committed_days or 1
        # A supplement is asked the day after acceptance; the work goes on at least a day after it.
        finished = accepted + (max(used, 1) + pause[1] if pause else used)
        return {"code": code, "who": who, "limit": limit, "submitted": submitted, "accepted": accepted, "pause": pause,
                "finished": finished, "outcome": outcome, "score": score}

    plan = []
    for n in range(34):
        code, who = DEMO_MONTH_ITEMS[n % len(DEMO_MONTH_ITEMS)]
        limit = items.published_document(db, code).committed_days or 1
        submitted = n * (last - 1) // 33
        used = limit + rng.randint(1, 3) if n % 5 == 1 else rng.randint(max(limit // 3, 0), limit)  # one in five late
        plan.append(planned(code, who, submitted, min(submitted + n % 2, last), used,
                            pause=(min(submitted + n % 2, last) + 1, 2) if n % 5 == 2 else None,
                            outcome="refused" if n % 9 == 7 else "approved",
                            score=rng.choices((3, 4, 5), (1, 3, 6))[0] if n % 3 else None))
    # 人社局: two poor ratings, one rectified and closed by its head, one still open; and a case overdue now.
    plan.append(planned("000112013000", CITIZEN, last // 3, last // 3, 8, outcome="refused", score=1))
    plan.append(planned("000112010000", CITIZEN, last - 9, last - 9, 6, score=2))
    plan.append(planned("000107013000", CITIZEN, last - 19, last - 19, 30))

    by_day: dict[int, list[tuple[str, Application, dict[str, Any]]]] = {}
    for entry in plan:
        name = items.published_document(db, entry["code"]).name
        submitted = work[entry["submitted"]]
        number = numbers.compose("BJ", submitted, rng.choice)
        user = people[entry["who"]]
        application = Application(
            number=number, subject_kind="item", subject_code=entry["code"], name=name, channel="online",
            applicant_type="自然人" if entry["who"] is CITIZEN else "法人", applicant_id=user.resident_id or user.credit_code,
            applicant_name=user.display_name, applicant_account=str(user.id), submitted_by=str(user.id),
            idempotency_key=f"{DEMO_MONTH_KEY}-{number}", form="{}", materials="[]", status=ApplicationStatus.SUBMITTED,
            definition_id=definition.id, limit_days=entry["limit"], created_at=at(submitted, 9, 30))
        db.add(application)
        steps = [("submit", entry["submitted"]), ("accept", entry["accepted"])]
        if entry["pause"]:
            steps += [("pause", entry["pause"][0]), ("resume", entry["pause"][0] + entry["pause"][1])]
        steps.append(("finish", entry["finished"]))
        if entry["score"]:
            steps.append(("rate", entry["finished"] + 1))
        for action, index in steps:
            if index <= last:  # what lies beyond today has not happened yet
                by_day.setdefault(index, []).append((action, application, entry))
    db.flush()

    def principal(username: str):
        return present(load_principal(db, f"user:{present(accounts.get_by_username(db, username), username).id}"), username)

    head = principal("head")
    clerk = principal("clerk")
    # Each department's demo reviewer decides what the cases still open ask of it.
    reviewers = {account.department_code: account.username for account in reversed(STAFF) if account.role == Role.REVIEWER}

    def open_review(application: Application) -> int:
        return present(db.scalar(select(CaseTask.id).where(
            CaseTask.application_id == application.id, CaseTask.kind == "review",
            CaseTask.status.in_((TaskStatus.OPEN, TaskStatus.CLAIMED))).order_by(CaseTask.id).limit(1)),
            f"办件 {application.number} 的审查待办")
    comments = {1: "材料清单写得不清楚，跑了三趟才补齐，最后还不予许可，也没说清原因。",
                2: "等了很久才办结，中间没人告知进度。"}
    reasons = {1: ["unclear_materials", "many_trips"], 2: ["slow"], 3: [], 4: ["efficient"], 5: ["efficient", "one_visit"]}
    for index, day in enumerate(work):
        for action, application, entry in by_day.get(index, []):
            number, department_id, limit, score = application.number, departments[entry["code"]], entry["limit"], entry["score"]
            if action == "submit":
                clocks.start(db, kind=ClockKind.ACCEPTANCE, subject=number, title=f"受理「{application.name}」（办件 {number}）",
                             department_id=department_id, limit_days=5, started_on=day, link="/staff/window",
                             calendar=calendar)
                db.add(CaseStep(application_id=application.id, at=at(day, 9, 30), actor=application.applicant_name,
                                kind="submitted", text=f"网上申请：{application.name}"))
            elif action in ("accept", "pause", "resume") and entry["finished"] > last:  # open today: the real path
                db.flush()  # what this day wrote (a clock started this morning): a case's step reads it unflushed
                with wall.frozen(at(day, {"accept": 11, "pause": 14, "resume": 10}[action])):
                    if action == "accept":
                        cases.start_processing(db, application, clerk)
                    elif action == "pause":
                        cases.decide(db, open_review(application), principal(reviewers[department_codes[entry["code"]]]),
                                     decision="supplement", opinion="请补充相关证明材料", version=None)
                    else:
                        cases.supply(db, application, principal(entry["who"].username), note="已补充相关证明材料",
                                     provided=[])
            elif action == "accept":
                clocks.close(db, ClockKind.ACCEPTANCE, number, on=day, outcome="accepted", calendar=calendar)
                clock = clocks.start(db, kind=ClockKind.APPLICATION, subject=number,
                                     title=f"办结「{application.name}」（办件 {number}）", department_id=department_id,
                                     limit_days=limit, started_on=day, link=f"/applications/{number}", calendar=calendar)
                application.status, application.accepted_on = ApplicationStatus.PROCESSING, day
                db.add(CaseStep(application_id=application.id, at=at(day, 11), actor="王晓燕", kind="accepted",
                                text=f"已受理，承诺 {limit} 个工作日内办结（至 {clock.due_on}）"))
            elif action == "pause":
                clocks.pause(db, ClockKind.APPLICATION, number, on=day, note="申请人补正")
                application.status = ApplicationStatus.SUPPLEMENT
                db.add(CaseStep(application_id=application.id, at=at(day, 14), actor="审查部门", kind="decided",
                                text="退回补正：请补充相关证明材料"))
            elif action == "resume":
                present(clocks.resume(db, ClockKind.APPLICATION, number, on=day, calendar=calendar), number)
                application.status = ApplicationStatus.PROCESSING
                db.add(CaseStep(application_id=application.id, at=at(day, 10), actor=application.applicant_name,
                                kind="supplied", text="申请人已补正"))
            elif action == "finish":
                outcome = entry["outcome"]
                present(clocks.close(db, ClockKind.APPLICATION, number, on=day, outcome=outcome, calendar=calendar), number)
                application.status = ApplicationStatus.APPROVED if outcome == "approved" else ApplicationStatus.REFUSED
                application.finished_at = at(day, 16)
                db.add(CaseStep(application_id=application.id, at=at(day, 16), actor="审查部门", kind="finished",
                                text=f"办结：{'准予' if outcome == 'approved' else '不予许可'}"))
            elif action == "rate":
                applicant = present(load_principal(db, f"user:{people[entry['who']].id}"), entry["who"].name)
                _rating, rectification = ratings.rate(
                    db, settings, number, applicant, score=score, reasons=reasons[score], comment=comments.get(score),
                    now=at(day, 10, 15))
                if rectification is not None and score == 1 and index + 2 <= last:  # the head puts it right
                    note = ratings.follow_up(db, rectification.id, head, text="已约谈窗口负责人，重新梳理该事项的材料清单。")
                    note.at = at(work[index + 1], 15)
                    closed = ratings.close(db, rectification.id, head, today=work[index + 2],
                                           result="材料清单已按情形细化并在办事指南公布；已电话回访申请人，说明不予许可的依据。")
                    closed.closed_at = at(work[index + 2], 16)
        db.flush()
        supervision.scan(db, today=day)
