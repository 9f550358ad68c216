"""电子监察 in a real browser, on the demo's month of supervised work: an inspector opens the
dashboard and sees its charts, drills down from a department to a red case and its history, and
downloads the figures as Excel and PDF; the citizen rates a finished application poorly and the
department's head finds the rectification it opened; an application entered late in last month,
published, month: the inspector re-runs the evaluation, sees what changed, the portal keeps the
published figures until the inspector publishes the new version."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from tongban import demo
from tongban.accounts import service as accounts
from tongban.cases.models import Application, ApplicationStatus
from tongban.org.models import Department
from tongban.supervision import clocks, evaluation
from tongban.supervision.models import ClockKind, ServiceRating, SupervisionClock

from browser_fixtures import start_server

from .conftest import screenshot, signed_in

pytestmark = pytest.mark.browser


def test_inspector_sees_the_charts_drills_down_to_a_red_case_and_exports(browser, live_server, database, tmp_path):
    import openpyxl
    from pypdf import PdfReader

    context, page = signed_in(browser, live_server, "inspector", accept_downloads=True)
    try:
        page.goto(f"{live_server}/staff")
        page.get_by_role("link", name="电子监察看板").click()
        page.wait_for_url(f"{live_server}/supervision")
        assert page.locator("h1").inner_text() == "电子监察看板"
        for chart in ("chart-volumes", "chart-timeliness", "chart-warnings", "chart-ratings", "chart-days"):
            assert page.locator(f"svg#{chart}").is_visible(), chart
            assert page.locator(f"svg#{chart} rect").count() > 0, chart
        assert page.locator("#departments tbody tr").count() >= 5
        screenshot(page, f"supervision-dashboard-{database.engine_name}")

        # Department → its red clocks → one red case and its history.
        page.locator("#departments a[href*='level=red']").first.click()
        page.wait_for_load_state()
        assert "level=red" in page.url and page.locator("#clocks tbody tr.level-red").count() >= 1
        screenshot(page, f"supervision-department-{database.engine_name}")
        page.locator("#clocks tbody tr.level-red", has_text="办件办结").locator("a").first.click()
        page.wait_for_url(f"{live_server}/supervision/clocks/*")
        assert page.locator("#clock-level").inner_text() == "红色预警"
        history = page.locator("#history").inner_text()
        assert "开始计时" in history and "黄色预警" in history and "红色预警" in history
        assert page.locator(".warning-card.level-red").count() == 1
        screenshot(page, f"supervision-clock-{database.engine_name}")
        number = page.locator("#application-link").inner_text()
        page.locator("#application-link").click()  # the case itself, as the staff see it
        page.wait_for_url(f"{live_server}/applications/{number}")
        assert page.locator(".number").inner_text() == number and "办理中" in page.locator("#status").inner_text()
        screenshot(page, f"supervision-case-{database.engine_name}")

        # The figures, downloaded as the browser saves them.
        page.goto(f"{live_server}/supervision")
        with page.expect_download() as saved:
            page.locator("#export-xlsx").click()
        workbook = openpyxl.load_workbook(io.BytesIO(open(saved.value.path(), "rb").read()))
        assert workbook.sheetnames[:2] == ["部门汇总", "按工作类型"]
        summary = workbook["部门汇总"]
        assert summary.cell(row=1, column=2).value == "部门" and summary.max_row >= 6
        assert summary.cell(row=summary.max_row, column=2).value == "合计"
        with page.expect_download() as saved:
            page.locator("#export-pdf").click()
        text = "".join(p.extract_text() for p in PdfReader(saved.value.path()).pages)
        assert "电子监察统计报表" in text and "人社局" in text

        # Last month's evaluation (the demo has computed and published it): internal details here,
        # the public summary on the portal.
        page.goto(f"{live_server}/supervision/evaluations")
        assert page.locator("#evaluations tbody tr").count() >= 5 and "已在门户公布" in page.inner_text("main")
        screenshot(page, f"supervision-evaluations-{database.engine_name}")
        page.get_by_role("link", name="评估公示").click()
        assert page.locator("#public-evaluations tbody tr").count() >= 5
        assert "BJ-" not in page.inner_text("main")  # no case numbers on the portal
        screenshot(page, f"supervision-public-{database.engine_name}")
    finally:
        context.close()


def test_a_poor_rating_reaches_the_department_head(browser, live_server, database):
    with database.sessionmaker()() as db:  # a finished demo case of 人社局 the citizen has not rated yet
        citizen = accounts.get_by_username(db, demo.CITIZEN.username)
        number = db.scalar(
            select(Application.number)
            .join(SupervisionClock, (SupervisionClock.kind == "application") & (SupervisionClock.subject_ref == Application.number))
            .join(Department, Department.id == SupervisionClock.department_id)
            .where(Application.applicant_account == str(citizen.id), Application.status == ApplicationStatus.APPROVED,
                   Department.code == "PD-RS", Application.id.not_in(select(ServiceRating.application_id)))
            .order_by(Application.id).limit(1))
    assert number, "the demo has finished applications of 人社局 left to rate"
    context, page = signed_in(browser, live_server, demo.CITIZEN.username, accept_downloads=True)
    try:
        page.goto(f"{live_server}/applications/{number}")
        form = page.locator("#rating-form")
        form.get_by_label("2 分 不满意").check()
        form.get_by_label("多次跑腿").check()
        form.get_by_label("评价内容（选填，最多 500 字）").fill("同一份材料被要求提交了两次。")
        screenshot(page, f"supervision-rating-{database.engine_name}")
        form.get_by_role("button", name="提交评价").click()
        page.wait_for_url(f"{live_server}/applications/{number}")
        assert "转办理部门整改" in page.locator(".flash").inner_text()
        assert "多次跑腿" in page.locator("#rating").inner_text()
    finally:
        context.close()

    context, page = signed_in(browser, live_server, "head", accept_downloads=True)
    try:
        page.goto(f"{live_server}/supervision/rectifications?status=open")
        row = page.locator("#rectifications tbody tr", has_text=number)
        assert row.count() == 1, page.inner_text("main")
        row.get_by_role("link").click()
        page.get_by_label("记录整改进展").fill("已核实，窗口已统一告知口径。")
        page.get_by_role("button", name="记录").click()
        assert "整改进展已记录" in page.locator(".flash").inner_text()
        screenshot(page, f"supervision-rectification-{database.engine_name}")
    finally:
        context.close()


def _public_started(page, live_server: str, name: str) -> str:
    """公安分局's 新收 on the portal's 评估公示, as anyone sees it."""
    page.goto(f"{live_server}/evaluations")
    return page.locator("#public-evaluations tbody tr", has_text=name).locator("td").nth(1).inner_text()


@pytest.fixture
def own_server(fresh_database):
    """A server on a database of its own: the shared one is also written by other tests, some with
    records dated last month, and this test reads last month's figures as the demo published them."""
    base, stop = start_server(fresh_database)
    yield base
    stop()


def test_a_late_application_is_a_new_version_the_inspector_checks_and_publishes(browser, own_server, fresh_database):
    live_server, database = own_server, fresh_database
    with database.sessionmaker()() as db:  # last month, evaluated and published by the demo; an application entered late
        start, end = evaluation.periods(db, published_only=True)[0]
        police = db.scalar(select(Department).where(Department.code == "PD-GA"))
        name, short = police.name, police.short_name
        clocks.start(db, kind=ClockKind.APPLICATION, subject=f"LATE-{end:%Y%m}", title="补录：户籍业务（逾期录入）",
                     department_id=police.id, limit_days=20, started_on=end)
        db.commit()
    context, page = signed_in(browser, live_server, "inspector", accept_downloads=True)
    try:
        published = int(_public_started(page, live_server, name))

        page.goto(f"{live_server}/supervision/evaluations")
        assert page.locator("#result-heading").inner_text() == f"{start} 至 {end} · 第 1 版"
        page.get_by_role("button", name="重新生成本期评估").click()
        page.wait_for_load_state()
        assert "已存为第 2 版" in page.locator(".flash").inner_text()
        assert "门户仍公示第 1 版" in page.locator("#version-status").inner_text()
        change = page.locator("#changes tbody tr", has_text=short).filter(has_text="新收（件）").first
        cells = change.locator("td")
        assert cells.nth(1).inner_text().startswith("新收（件）") and "公示" in cells.nth(1).inner_text()
        assert (cells.nth(2).inner_text(), cells.nth(3).inner_text()) == (str(published), str(published + 1))
        # Only the late application changed anything: the demo published its month with every record in.
        departments = page.locator("#changes tbody tr td:first-child").all_inner_texts()
        assert departments and set(departments) == {short}
        assert page.locator("#versions tbody tr").count() == 2
        screenshot(page, f"supervision-evaluation-changes-{database.engine_name}")
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, f"supervision-evaluation-changes-390-{database.engine_name}")
        page.set_viewport_size({"width": 1280, "height": 900})

        # The portal still shows the published figures.
        assert _public_started(page, live_server, name) == str(published)

        page.goto(f"{live_server}/supervision/evaluations")
        page.get_by_role("button", name="公布第 2 版，取代门户上的第 1 版").click()
        page.wait_for_load_state()
        assert "第 2 版已在门户公布" in page.locator(".flash").inner_text()
        assert "已在门户公布" in page.locator("#version-status").inner_text()
        assert page.locator("#pending-changes").count() == 0
        screenshot(page, f"supervision-evaluation-published-{database.engine_name}")

        assert _public_started(page, live_server, name) == str(published + 1)
        assert "第 2 版" in page.locator("#published-at").inner_text()
        screenshot(page, f"supervision-public-v2-{database.engine_name}")
    finally:
        context.close()
