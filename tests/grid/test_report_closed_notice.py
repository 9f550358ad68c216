"""The resident is told when the problem they reported from the portal (公众举报) ends — closed after
the check, not registered (不予立案), or merged into a case of the same problem reported before —
through the one notifier, addressed to their account, with a link to the report in 「我的上报」 where
the same reply is shown; the residents whose reports were merged are told again when that case
closes. A supervisor's report tells no resident anything."""

from __future__ import annotations

from sqlalchemy import select

from tongban import demo
from tongban.grid.models import GridCase
from tongban.grid.resident_notice import KIND
from tongban.notifications.models import Notification

from .conftest import category_code, jpeg

CITIZEN, ENTERPRISE = demo.CITIZEN.username, demo.ENTERPRISE.username
SUPERVISOR, CENTRE, SANITATION = "grid", "grid.centre", "grid.lhsr"
ME = "/api/v1/me/grid-reports"
RESULT = "已安排保洁员清运，现场已清理干净"


def public_report(client, headers, code, lon, lat) -> str:
    created = client.post(ME, headers=headers, data={"kind": "event", "code": code, "lon": str(lon), "lat": str(lat),
                                                     "description": "小区门口人行道上垃圾堆积多日无人清运"})
    assert created.status_code == 201, created.text
    return created.json()["number"]


def supervisor_report(client, headers, code, lon, lat) -> str:
    created = client.post("/api/v1/grid/cases", headers=headers, data={
        "kind": "event", "code": code, "lon": str(lon), "lat": str(lat), "description": "人行道旁有成堆生活垃圾未清运"},
        files=[("photos", ("p.jpg", jpeg(), "image/jpeg"))])
    assert created.status_code == 201, created.text
    return created.json()["number"]


def close(client, as_role, number: str, *, registered: bool = False) -> None:
    centre = as_role(CENTRE)
    for step in ("dispatch",) if registered else ("register", "dispatch"):
        client.post(f"/api/v1/grid/cases/{number}/{step}", headers=centre, json={}).raise_for_status()
    client.post(f"/api/v1/grid/cases/{number}/handle", headers=as_role(SANITATION), data={"result": RESULT}).raise_for_status()
    client.post(f"/api/v1/grid/cases/{number}/verify", headers=as_role(SUPERVISOR), data={"fixed": "true"}).raise_for_status()


def notices(db, number: str) -> list[Notification]:
    found = list(db.scalars(select(Notification).where(Notification.link == f"/grid/public-reports/{number}")
                            .order_by(Notification.id)))
    db.expunge_all()  # read as they are: no transaction left open behind them (SQLite's lock)
    db.rollback()
    return found


def reporter_of(db, number: str) -> str | None:
    account = db.scalar(select(GridCase.reporter_account).where(GridCase.number == number))
    db.rollback()
    return account


def test_a_closed_public_report_tells_its_reporter_with_the_reply(client, as_role, cell_point, db):
    citizen = as_role(CITIZEN)
    garbage = category_code(client, "event", "暴露垃圾")
    _, lon, lat = cell_point("310115004")
    number = public_report(client, citizen, garbage, lon, lat)
    client.post(f"/api/v1/grid/cases/{number}/register", headers=as_role(CENTRE), json={}).raise_for_status()
    assert notices(db, number) == []  # a step that ends nothing tells nothing

    close(client, as_role, number, registered=True)

    [notice] = notices(db, number)
    assert notice.account_id == reporter_of(db, number) and notice.department_id is None and notice.kind == KIND
    assert notice.title == f"您的上报已结案：暴露垃圾（{number}）"
    assert "经核查结案" in notice.body and RESULT in notice.body and "上报的「暴露垃圾」问题" in notice.body
    # the resident reads it among their own notices, the link leading to the reply in 「我的上报」
    mine = client.get("/api/v1/me/notifications", headers=citizen)
    assert mine.status_code == 200, mine.text
    assert any(n["link"] == f"/grid/public-reports/{number}" and n["kind_label"] == "上报办结" and not n["read"]
               for n in mine.json()["items"])
    theirs = client.get("/api/v1/me/notifications", headers=as_role(ENTERPRISE)).json()["items"]
    assert all(n["link"] != f"/grid/public-reports/{number}" for n in theirs)
    page = client.get(f"/grid/public-reports/{number}", headers=citizen)
    assert page.status_code == 200 and RESULT in page.text
    assert client.get(f"{ME}/{number}", headers=citizen).json()["reply"] == RESULT


def test_a_rejected_public_report_tells_the_reason(client, as_role, cell_point, db):
    enterprise = as_role(ENTERPRISE)
    garbage = category_code(client, "event", "暴露垃圾")
    _, lon, lat = cell_point("310115004", offset=3)
    number = public_report(client, enterprise, garbage, lon, lat)
    reason = "经核实为私人庭院内的垃圾，不属于城市管理范围"
    client.post(f"/api/v1/grid/cases/{number}/reject", headers=as_role(CENTRE), json={"reason": reason}).raise_for_status()

    [notice] = notices(db, number)
    assert notice.account_id == reporter_of(db, number) and notice.title.startswith("您的上报不予立案：")
    assert f"理由：{reason}" in notice.body
    assert client.get(f"{ME}/{number}", headers=enterprise).json()["reply"] == reason


def test_a_merged_public_report_is_told_when_merged_and_again_when_the_case_closes(client, as_role, cell_point, db):
    citizen, centre = as_role(CITIZEN), as_role(CENTRE)
    garbage = category_code(client, "event", "暴露垃圾")
    _, lon, lat = cell_point("310115004", offset=6)
    first = supervisor_report(client, as_role(SUPERVISOR), garbage, lon, lat)
    client.post(f"/api/v1/grid/cases/{first}/register", headers=centre, json={}).raise_for_status()
    mine = public_report(client, citizen, garbage, lon + 0.0001, lat)
    client.post(f"/api/v1/grid/cases/{mine}/merge", headers=centre, json={"into": first}).raise_for_status()

    [merged] = notices(db, mine)
    assert merged.account_id == reporter_of(db, mine) and merged.title.startswith("您的上报已合并办理：")
    assert "合并办理" in merged.body and "结案后将另行告知" in merged.body
    assert "合并办理" in client.get(f"{ME}/{mine}", headers=citizen).json()["reply"]

    close(client, as_role, first, registered=True)

    told = notices(db, mine)
    assert [n.title.split("：")[0] for n in told] == ["您的上报已合并办理", "您的上报已结案"]
    assert RESULT in told[1].body and told[1].account_id == merged.account_id
    reply = client.get(f"{ME}/{mine}", headers=citizen).json()["reply"]
    assert "经核查结案" in reply and RESULT in reply
    assert notices(db, first) == []  # the supervisor's own case: no resident to tell


def test_a_supervisors_report_tells_no_resident(client, as_role, cell_point, db):
    garbage = category_code(client, "event", "暴露垃圾")
    _, lon, lat = cell_point("310115004", offset=9)
    number = supervisor_report(client, as_role(SUPERVISOR), garbage, lon, lat)
    close(client, as_role, number)
    assert notices(db, number) == []
    sent = db.scalars(select(Notification).where(Notification.kind == KIND, Notification.body.contains(number))).all()
    db.rollback()
    assert sent == []
