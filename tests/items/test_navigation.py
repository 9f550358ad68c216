"""智能导航 to 智能告知单: every sub-case of the demo items reached through the public API, with
exactly its materials and the prerequisites in the order to do them; notices as pages and PDFs."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime, time, timedelta

import pypdf
import pytest
from helpers import assert_problem

from tongban.items import content, navigation

ROAD = "000115010000"  # 道路挖掘（占用）许可
ENTERPRISE = "000121004000"  # 企业设立登记
DIBAO = "000110004000"  # 最低生活保障
FOOD = "000121010000"  # 食品经营许可

ROAD_PREREQUISITES = ["企业投资项目备案", "建设工程规划许可证核发", "城市道路管线工程掘路施工计划核准",
                      "地下管线保护监护交底", "掘路工程文明施工承诺确认"]


def _road_materials(path: list[str]) -> set[str]:
    """The road-excavation notice rules, written out by hand from the item's text (not from the code)."""
    chosen = set(path)
    materials = {"m1", "m2", "m3"}
    if "q1a" in chosen:  # planned works: the prerequisite permits and the drawings
        materials |= {"m4", "m5", "m6", "m7", "m8"}
        materials |= {"m9"} if "q2a" in chosen else {"m10", "m11"}
        materials |= {"m12"} if "q3a" in chosen else {"m13", "m14"}
        materials |= {"m15"} if "q4a" in chosen else set()
        materials |= {"m16", "m17"} if "q5a" in chosen else set()
    else:  # emergency repair, regularised afterwards
        materials |= {"m18", "m19"}
        materials |= {"m20"} if "q6a" in chosen else {"m21"}
        materials |= {"m22"} if "q7b" in chosen else set()
    return materials


def _road_paths() -> list[list[str]]:
    planned = [["q1a", road, method, *green, night]
               for road, method, night in itertools.product(["q2a", "q2b"], ["q3a", "q3b"], ["q5a", "q5b"])
               for green in ([["q4a"], ["q4b"]] if method == "q3a" else [[]])]
    emergency = [["q1b", road, finish] for road in ("q6a", "q6b") for finish in ("q7a", "q7b")]
    return planned + emergency


def _walk(client, code: str, path: list[str]) -> dict:
    """Answer question after question through the API, as the portal does; return the final answer."""
    answers: dict[str, str] = {}
    for _ in range(len(path) + 1):
        response = client.post(f"/api/v1/items/published/{code}/navigation", json={"answers": answers})
        assert response.status_code == 200, response.text
        body = response.json()
        if body["done"]:
            return body
        question = body["question"]
        offered = {a["id"] for a in question["answers"]}
        choice = next(a for a in path if a in offered)
        answers[question["id"]] = choice
    raise AssertionError(f"navigation did not end after {len(path)} answers")


def test_road_excavation_has_the_sixteen_sub_cases_of_the_seed():
    item = next(i for i in content.load()["items"] if i["basic_code"] == ROAD)
    assert sorted(map(tuple, content.leaf_paths(item))) == sorted(map(tuple, _road_paths()))


@pytest.mark.parametrize("path", _road_paths(), ids=lambda p: "-".join(p))
def test_road_excavation_navigates_to_each_sub_case(client, path):
    body = _walk(client, ROAD, path)
    assert [a["answer_id"] for a in body["asked"]] == path
    assert {m["id"] for m in body["materials"]} == _road_materials(path)
    exempt = [m["name"] for m in body["materials"] if m["exempt"]]
    assert exempt == ["申请单位营业执照"]  # fetched from the legal-entity registry: 免提交

    notice = client.post(f"/api/v1/items/published/{ROAD}/notices", json={"answers": {
        a["question_id"]: a["answer_id"] for a in body["asked"]}})
    assert notice.status_code == 201, notice.text
    notice = notice.json()
    assert [p["name"] for p in notice["prerequisites"]] == ROAD_PREREQUISITES
    assert {m["id"] for m in notice["materials"]} == _road_materials(path)
    assert notice["materials"][1]["shared_data"].startswith("法人综合库")


@pytest.mark.parametrize(("code", "sub_cases"), [(ENTERPRISE, 18), (DIBAO, 8), (FOOD, 6)])
def test_every_path_of_three_more_items(client, code, sub_cases):
    item = client.get(f"/api/v1/items/published/{code}").json()
    paths = content.leaf_paths(item)
    assert len(paths) == sub_cases
    for path in paths:
        body = _walk(client, code, path)
        chosen = set(path)
        expected = {m["id"] for m in item["materials"] if not m["when"] or chosen & set(m["when"])}
        assert {m["id"] for m in body["materials"]} == expected
        assert [a["answer_id"] for a in body["asked"]] == path


def test_enterprise_setup_marks_registry_data_as_not_to_bring(client):
    body = _walk(client, ENTERPRISE, ["q1a", "q2a", "q3a"])
    exempt = {m["name"]: m["shared_data"] for m in body["materials"] if m["exempt"]}
    assert set(exempt) == {"投资人、法定代表人身份证件", "房屋产权信息", "法人股东营业执照"}
    assert exempt["投资人、法定代表人身份证件"].startswith("人口综合库")


def test_a_question_that_changes_nothing_is_not_asked():
    item = {"name": "测试事项", "situations": [
        {"id": "q1", "question": "是否首次申请？", "answers": [{"id": "q1a", "label": "是", "next": "q2"},
                                                           {"id": "q1b", "label": "否", "next": "q2"}]},
        {"id": "q2", "question": "是否委托他人办理？", "answers": [{"id": "q2a", "label": "是", "next": None},
                                                              {"id": "q2b", "label": "否", "next": None}]}],
        "materials": [{"id": "m1", "when": ["q2a"]}]}
    state = navigation.navigate(item, {})
    assert state.next_question["id"] == "q2"  # q1's answers lead to the same place with the same materials
    state = navigation.navigate(item, {"q2": "q2b", "q1": "q1a"})
    assert state.done and state.path == ["q2b"]


def test_answers_off_the_path_are_ignored_and_wrong_ones_refused(client):
    body = client.post(f"/api/v1/items/published/{ROAD}/navigation",
                       json={"answers": {"q1": "q1b", "q2": "q2a", "q6": "q6a"}}).json()
    assert [a["answer_id"] for a in body["asked"]] == ["q1b", "q6a"] and body["question"]["id"] == "q7"
    problem = assert_problem(client.post(f"/api/v1/items/published/{ROAD}/navigation",
                                         json={"answers": {"q1": "q2a"}}), 422, "answer-invalid")
    assert "计划性施工" in problem["detail"]  # names the options that exist
    assert_problem(client.post(f"/api/v1/items/published/{ROAD}/notices", json={"answers": {"q1": "q1a"}}),
                   422, "navigation-incomplete")
    assert_problem(client.post("/api/v1/items/published/999999999999/navigation", json={"answers": {}}),
                   404, "unknown-service-item")
    assert_problem(client.post(f"/api/v1/items/published/{ROAD}/navigation",
                               json={"answers": {f"q{n}": "x" for n in range(60)}}), 422, "validation-error")


def test_a_notice_reopens_by_number_and_prints_as_a_chinese_pdf(client):
    answers = {"q1": "q1a", "q2": "q2a", "q3": "q3b", "q5": "q5a"}
    created = client.post(f"/api/v1/items/published/{ROAD}/notices", json={"answers": answers}).json()
    number = created["number"]
    assert number.startswith("GZ-")
    again = client.get(f"/api/v1/items/notices/{number.lower()}")
    assert again.status_code == 200 and again.json() == created

    pdf = client.get(f"/api/v1/items/notices/{number}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(pdf.content))
    assert reader.pages[0].mediabox.width == pytest.approx(595.27, abs=0.5)  # A4
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    for name in ("道路挖掘（占用）许可", number, "物探报告", "工作井设置位置图及专家书面意见", "夜间施工作业证明",
                 "交通组织方案及公安交通管理部门意见", "免提交", *ROAD_PREREQUISITES):
        assert name in text, name
    assert "开挖断面图" not in text  # open-cut material: not this applicant's case

    page = client.get(f"/notices/{number}")
    assert page.status_code == 200 and "物探报告" in page.text and f"/api/v1/items/notices/{number}/pdf" in page.text
    assert_problem(client.get("/api/v1/items/notices/GZ-20000101-XXXXXX"), 404, "unknown-notice")


def test_the_notice_pdf_states_its_time_of_issue_in_beijing_time(client, fixed_clock):
    # 18:30 UTC is 02:30 the next morning in Beijing: a UTC time would show the wrong day.
    evening = datetime.combine(fixed_clock.now().date() + timedelta(days=1), time(18, 30), tzinfo=UTC)
    fixed_clock.set(evening)
    answers = {"q1": "q1a", "q2": "q2a", "q3": "q3b", "q5": "q5a"}
    number = client.post(f"/api/v1/items/published/{ROAD}/notices", json={"answers": answers}).json()["number"]
    pdf = client.get(f"/api/v1/items/notices/{number}/pdf")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages).replace("\n", "")
    assert f"出具时间：{(evening + timedelta(days=1)).date().isoformat()} 02:30（北京时间）" in text
