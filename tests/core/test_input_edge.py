"""The one input edge (core/inputs.py): what every route and page refuses before it reads its input.

One test per finding of the attacker's report (issue 23, findings 9–15 and 20), each failing on
the code before the edge existed, and a property test throwing odd values at a handful of routes.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from helpers import assert_problem, bearer, fresh_resident_id, register_person
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from tongban import demo
from tongban.accounts.models import User
from tongban.core.auth import api_routes
from tongban.core.idnumbers import check_credit_code, check_resident_id
from tongban.core.inputs import BIGINT_MAX, INTEGER_MAX, InvalidNumberText, check_bounded_ids, parse_number
from tongban.registry.models import TABLES

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
TOO_BIG = BIGINT_MAX + 1  # an OverflowError on SQLite
PG_TOO_BIG = INTEGER_MAX + 1  # "integer out of range" on PostgreSQL


def _full_width(text: str, upto: int | None = None) -> str:
    return text[:upto].translate(FULL_WIDTH) + (text[upto:] if upto is not None else "")


def _errors(body: dict) -> dict[str, str]:
    return {e["field"]: e["code"] for e in body["errors"]}


# ------------------------------------------------------------------ 9: full-width digits in IDs

def test_full_width_ids_are_the_same_number():
    citizen = demo.CITIZEN.username
    assert check_resident_id(_full_width(citizen, 6)) == citizen
    assert check_resident_id(_full_width(citizen)) == citizen  # all full width: was "校验位错误"
    assert check_credit_code(demo.ENTERPRISE.username.translate(str.maketrans("0123456789", "０１２３４５６７８９")).lower()) \
        == demo.ENTERPRISE.username


def test_a_full_width_id_registers_no_second_account(client, db):
    for typed in (_full_width(demo.CITIZEN.username, 6), _full_width(demo.CITIZEN.username)):
        response = client.post("/api/v1/accounts/citizens", json={
            "resident_id": typed, "name": "冒名者", "password": "a-long-password-2026"})
        assert_problem(response, 409, "conflict")
    assert db.scalar(select(func.count()).select_from(User).where(User.username.like("%１%"))) == 0
    db.rollback()


def test_a_full_width_id_is_no_second_registry_person(client, as_role, db):
    police = as_role("steward")
    number = register_person(client, police)
    response = client.post("/api/v1/registries/persons", headers=police, json={
        "values": {"id_number": _full_width(number, 6), "name": "测试人", "ethnicity": "汉族",
                   "residence_status": "户籍", "household_address": "上海市浦东新区花木路100弄1号101室"},
        "reason": "户籍登记"})
    assert_problem(response, 409, "conflict")
    persons = TABLES["persons"]
    assert db.scalar(select(func.count()).select_from(persons).where(persons.c.id_number.like("%１%"))) == 0
    db.rollback()
    # The same person by either spelling in the path.
    found = client.get(f"/api/v1/registries/persons/{_full_width(number)}", headers=police,
                       params={"purpose": "核对户籍信息"})
    assert found.status_code == 200, found.text
    assert found.json()["key"] == number


def test_a_full_width_username_signs_in_as_the_id_it_is(client):
    bearer(client, _full_width(demo.CITIZEN.username))


def test_registry_codes_are_normalised(client, as_role):
    police = as_role("steward")
    number = register_person(client, police, phone="１３９１２３４５６７８")
    row = client.get(f"/api/v1/registries/persons/{number}", headers=police,
                     params={"purpose": "核对户籍信息", "clear": "true"}).json()
    assert "１" not in json.dumps(row, ensure_ascii=False)


def test_codes_in_paths_and_queries_are_normalised(client, as_role):
    """An application's number and its applicant's ID, typed on a Chinese keyboard, find it."""
    headers = as_role(demo.CITIZEN.username)
    number = client.get("/api/v1/applications/mine", headers=headers).json()["items"][0]["number"]
    typed = number.lower().translate(FULL_WIDTH)
    response = client.get(f"/api/v1/applications/{quote(typed)}/status",
                          params={"applicant_id": _full_width(demo.CITIZEN.username)})
    assert response.status_code == 200, response.text
    assert response.json()["number"] == number


# ------------------------------------------------------------------ 10: ids beyond BIGINT

ROLE_BY_PREFIX = (("/api/v1/exchange/", "steward"), ("/api/v1/tasks/", "reviewer"), ("/staff/tasks/", "reviewer"),
                  ("/api/v1/registries/corrections/", "steward"), ("/staff/corrections/", "steward"),
                  ("/api/v1/supervision/warnings/", "clerk"), ("/supervision/warnings/", "clerk"),
                  ("/api/v1/supervision/rectifications/{id}/", "head"), ("/supervision/rectifications/{id}/", "head"),
                  ("/api/v1/me/", demo.CITIZEN.username), ("/api/v1/participation/topics/", demo.CITIZEN.username),
                  ("/participation/", demo.CITIZEN.username), ("/", "admin"))


def _id_routes(app):
    for route in api_routes(app.routes):
        ids = [f.name for f in route.dependant.path_params if f.field_info.annotation is int]
        if ids and "{year}" not in route.path:
            for method in route.methods:
                yield method, route


def test_ids_beyond_bigint_are_a_422_on_every_route(client, app):
    """Every route with an int id in its path, found from the app (not from a list)."""
    roles = {}
    checked = 0
    for method, route in _id_routes(app):
        role = next(r for prefix, r in ROLE_BY_PREFIX if route.path.startswith(prefix))
        headers = roles.setdefault(role, bearer(client, role))
        for too_big in (TOO_BIG, PG_TOO_BIG):
            path = route.path
            for field in route.dependant.path_params:
                path = path.replace(f"{{{field.name}}}", str(too_big) if field.field_info.annotation is int else "000121004000")
            response = client.request(method, path, headers=headers, json={} if method != "GET" else None)
            assert response.status_code == 422, (method, path, response.status_code, response.text[:300])
            if path.startswith("/api/"):
                assert "less_than_equal" in _errors(assert_problem(response, 422, "validation-error")).values()
            else:
                assert "请求数据校验未通过" in response.text  # the Chinese error page
        checked += 1
    assert checked >= 30


@pytest.mark.parametrize("url", ["/staff/registry/persons/{key}/compare?a=1&b=9223372036854775808", "/staff/registry/persons/{key}/compare?a=2147483648&b=1",
                                 "/staff/corrections?created=9223372036854775808"])
def test_ids_beyond_bigint_in_page_queries(client, as_role, url):
    response = client.get(url.format(key=demo.CITIZEN.username), headers=as_role("steward"))
    assert response.status_code == 422, response.text[:300]
    assert "请求数据校验未通过" in response.text


def test_ids_beyond_bigint_in_a_form(client, as_role):
    response = client.post("/supervision/warnings/1/acknowledgement", headers=as_role("clerk"),
                           data={"clock": str(TOO_BIG), "explanation": "说明"})
    assert response.status_code == 422, response.text[:300]


def test_integers_beyond_bigint_in_a_json_body(client, as_role):
    response = client.post("/api/v1/tasks/1/decision", headers=as_role("reviewer"),
                           json={"decision": "approve", "opinion": "", "version": 2**64})
    assert _errors(assert_problem(response, 422, "validation-error"))["body.version"] in ("integer_out_of_range",
                                                                                         "less_than_equal")


def test_an_unbounded_int_parameter_stops_the_app():
    app = FastAPI()

    @app.get("/things/{thing_id}")
    def thing(thing_id: int):
        return {}

    with pytest.raises(RuntimeError, match="thing_id"):
        check_bounded_ids(app)


# ------------------------------------------------------------------ 11: forged pagination cursors

def _cursor(document) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


FORGED = [_cursor({"k": 1e20}), _cursor({"k": 2**70}), _cursor([1]), _cursor(None), _cursor({"k": None}),
          _cursor({"k": True}), _cursor({"k": {"a": 1}}), _cursor({"k": [1, 2]}), _cursor({"k": "\u0000"}),
          base64.urlsafe_b64encode(b"\xff\xfe anything").decode(), _cursor("just a string"), "!!!"]


@pytest.mark.parametrize("cursor", FORGED)
@pytest.mark.parametrize("url,role", [("/api/v1/supervision/clocks", "inspector"), ("/api/v1/catalog/resources", "clerk"),
                                      ("/api/v1/audit/events", "inspector"), ("/api/v1/sharing/grants", "admin"),
                                      ("/api/v1/registries/legal-entities", "steward.scjg")])
def test_forged_cursors_are_a_422(client, as_role, url, role, cursor):
    response = client.get(url, params={"cursor": cursor}, headers=as_role(role))
    body = assert_problem(response, 422, "validation-error")
    assert "query.cursor" in _errors(body)


def test_a_cursor_beyond_an_integer_key_is_refused(client, as_role):
    """Clock ids are INTEGER: 2^40 fits SQLite and BIGINT, but PostgreSQL's INTEGER overflows."""
    response = client.get("/api/v1/supervision/clocks", params={"cursor": _cursor({"k": 2**40})}, headers=as_role("inspector"))
    assert "query.cursor" in _errors(assert_problem(response, 422, "validation-error"))
    audit = client.get("/api/v1/audit/events", params={"cursor": _cursor({"k": 2**40}), "limit": 1},
                       headers=as_role("inspector"))
    assert audit.status_code == 200, audit.text  # the audit chain's seq is BIGINT


def test_a_string_cursor_is_refused_where_the_key_is_an_int(client, as_role):
    response = client.get("/api/v1/supervision/clocks", params={"cursor": _cursor({"k": "10"})}, headers=as_role("inspector"))
    assert "query.cursor" in _errors(assert_problem(response, 422, "validation-error"))


def test_a_real_cursor_still_pages(client, as_role):
    headers = as_role("clerk")
    first = client.get("/api/v1/catalog/resources", params={"limit": 1}, headers=headers).json()
    assert first["next_cursor"]
    second = client.get("/api/v1/catalog/resources", params={"limit": 1, "cursor": first["next_cursor"]}, headers=headers)
    assert second.status_code == 200 and second.json()["items"] != first["items"]


@pytest.mark.parametrize("cursor", ["²", "１", "99999999999999999999", "-1", "1.0"])
def test_forged_exchange_feed_cursors_are_a_422(client, as_role, cursor):
    """The change feed's own cursor (a position) is refused like the paginator's."""
    response = client.get("/api/v1/exchange/PD-MZ-DIBAO/changes", headers=as_role("steward"),
                          params={"cursor": cursor, "purpose": "核对低保发放信息"})
    assert "query.cursor" in _errors(assert_problem(response, 422, "validation-error"))


def _page_sign_in(client, username: str) -> str:
    """Sign in through the login page; the session's CSRF token for the forms."""
    def csrf(html: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    response = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                           "csrf_token": csrf(client.get("/login").text)}, follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    return csrf(client.get("/me").text)


def test_a_superscript_digit_is_no_score(client, as_role):
    """"²" passes str.isdigit but not int(): the rating page answered 500."""
    number = client.get("/api/v1/applications/mine", headers=as_role(demo.CITIZEN.username)).json()["items"][0]["number"]
    token = _page_sign_in(client, demo.CITIZEN.username)
    response = client.post(f"/applications/{number}/rating", data={"score": "²", "csrf_token": token})
    assert response.status_code < 500, response.text[:300]
    assert "请选择 1 至 5 分的评分" in response.text


# ------------------------------------------------------------------ 12, 20: surrogates, NUL, control characters

def _raw_json(client, method, url, headers, text: str):
    return client.request(method, url, headers={**headers, "Content-Type": "application/json"}, content=text.encode())


@pytest.mark.parametrize("bad,code", [("\\ud800", "invalid_character"), ("\\udfff", "invalid_character"),
                                      ("\\u0000", "invalid_character"), ("\\u0007", "invalid_character"),
                                      ("\\u001b[31m", "invalid_character")])
def test_registry_values_refuse_surrogates_nul_and_controls(client, as_role, db, bad, code):
    number = fresh_resident_id()
    text = ('{"values": {"id_number": "' + number + '", "name": "张' + bad + '三", "ethnicity": "汉族", "residence_status": "户籍",'
            ' "household_address": "上海市浦东新区花木路1号"}, "reason": "户籍登记"}')
    response = _raw_json(client, "POST", "/api/v1/registries/persons", as_role("steward"), text)
    assert _errors(assert_problem(response, 422, "validation-error")) == {"body.values.name": code}
    persons = TABLES["persons"]
    assert db.scalar(select(func.count()).select_from(persons).where(persons.c.id_number == number)) == 0
    db.rollback()


def test_tab_and_newline_are_still_text(client):
    response = client.post("/api/v1/consultations", json={"question": "营业执照\r\n怎么\t办理？"})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("method,url,role,text,field", [
    ("POST", "/api/v1/applications", "citizen",
     '{"bundle": "enterprise-setup", "form": {"enterprise_name": "\\ud83d"}, "materials": []}', "body.form.enterprise_name"),
    ("PUT", "/api/v1/items/synonyms", "admin", '{"phrase": "开\\u0000店", "expansions": ["食品经营"]}', "body.phrase"),
    ("POST", "/api/v1/consultations", "citizen", '{"question": "\\udc00怎么办"}', "body.question"),
    ("PUT", "/api/v1/items/000121004000/draft", "admin", '{"name": "\\ud800"}', "body.name"),
    ("POST", "/api/v1/catalog/resources", "steward", '{"code": "x", "name": "a\\u0000b"}', "body.name"),
])
def test_free_form_json_refuses_lone_surrogates_and_nul(client, as_role, method, url, role, text, field):
    headers = as_role(demo.CITIZEN.username if role == "citizen" else role)
    if url == "/api/v1/applications":
        headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    response = _raw_json(client, method, url, headers, text)
    assert _errors(assert_problem(response, 422, "validation-error")).get(field) == "invalid_character", response.text


def test_a_dict_key_with_a_surrogate_is_refused(client, as_role):
    response = _raw_json(client, "PATCH", f"/api/v1/registries/persons/{demo.CITIZEN.username}", as_role("steward"),
                         '{"values": {"\\ud800": "x"}, "reason": "更正"}')
    assert_problem(response, 422, "validation-error")


@pytest.mark.parametrize("depth", [500, 5000])
def test_deeply_nested_json_is_no_5xx(client, depth):
    text = '{"question": ' + "[" * depth + '"\\u0000"' + "]" * depth + "}"
    response = _raw_json(client, "POST", "/api/v1/consultations", {}, text)
    assert 400 <= response.status_code < 500, response.text[:300]


@pytest.mark.parametrize("url", ["/api/v1/items/search?q=%E5%BC%80%00%E5%BA%97", "/api/v1/items/search?q=a%07b",
                                 "/api/v1/items/published/0001%00"])
def test_query_and_path_values_refuse_nul_and_controls(client, url):
    body = assert_problem(client.get(url), 422, "validation-error")
    assert set(_errors(body).values()) == {"invalid_character"}


def test_a_form_refuses_nul(client):
    response = client.post("/login", data={"username": "admin\x00", "password": "whatever-password"})
    assert response.status_code == 422
    assert "空字符" in response.text or "请求数据校验未通过" in response.text


# ------------------------------------------------------------------ 13: a synonym of only punctuation

@pytest.mark.parametrize("phrase", ["！？。", "...", "——", "   "])
def test_a_synonym_of_only_punctuation_is_a_422(client, as_role, phrase):
    response = client.put("/api/v1/items/synonyms", headers=as_role("admin"), json={"phrase": phrase, "expansions": ["食品经营许可"]})
    body = assert_problem(response, 422, "validation-error")
    assert "body.phrase" in _errors(body)


# ------------------------------------------------------------------ 14: the deadline calculator near year 9999

@pytest.mark.parametrize("start", ["9999-12-31", "9999-12-20", "2101-01-01", "0001-01-01"])
def test_the_deadline_calculator_refuses_dates_out_of_range(client, start):
    body = assert_problem(client.get("/api/v1/calendar/deadline", params={"start": start, "working_days": 20}),
                          422, "validation-error")
    assert "query.start" in _errors(body)
    page = client.get("/deadline", params={"start": start, "working_days": 20})
    assert page.status_code == 422 and "请求数据校验未通过" in page.text


def test_the_deadline_calculator_still_works_at_the_edge_of_its_range(client):
    response = client.get("/api/v1/calendar/deadline", params={"start": "2100-12-31", "working_days": 1000})
    assert response.status_code == 200, response.text


def test_the_portal_date_field_offers_the_range(client):
    page = client.get("/")
    assert 'min="1900-01-01"' in page.text and 'max="2100-12-31"' in page.text


# ------------------------------------------------------------------ 15: numbers, one way

@pytest.mark.parametrize("typed", ["nan", "NaN", "Infinity", "-inf", "1e999", "12abc", "0x10", "1_000", "--1", "", "١٢", "1,5"])
def test_parse_number_refuses_what_is_not_a_finite_number(typed):
    with pytest.raises(InvalidNumberText):
        parse_number(typed)


def test_parse_number_reads_full_width_and_bounds():
    assert parse_number("１２") == 12
    assert parse_number(" ３.５ ") == parse_number("3.5")
    assert parse_number(float("1e-05")) > 0
    with pytest.raises(InvalidNumberText):
        parse_number("1e20")  # beyond the default bound
    with pytest.raises(InvalidNumberText):
        parse_number("3.5", integer=True)
    with pytest.raises(InvalidNumberText):
        parse_number(float("nan"))


ENTERPRISE_FORM = {"applicant_name": "张伟", "applicant_id": demo.CITIZEN.username, "phone": "13812345678",
                   "enterprise_name": "上海张伟边界测试有限公司", "entity_type": "有限责任公司", "registered_capital": "100",
                   "registered_address": "上海市浦东新区张江路100号", "business_scope": "软件开发",
                   "seal_count": "3", "employees": "5", "housing_fund_rate": "7"}


def _apply(client, headers, form):
    materials = [m["name"] for m in client.get("/api/v1/applications/forms", params={"bundle": "enterprise-setup"},
                                                headers=headers).json()["materials"] if not m["exempt"]]
    return client.post("/api/v1/applications", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                       json={"bundle": "enterprise-setup", "form": form, "materials": materials})


@pytest.mark.parametrize("typed", ["nan", "Infinity", "1e999", "-1", "1e10"])
def test_the_application_form_refuses_numbers_the_registry_refuses(client, as_role, typed):
    response = _apply(client, as_role(demo.CITIZEN.username), {**ENTERPRISE_FORM, "registered_capital": typed})
    assert "body.form.registered_capital" in _errors(assert_problem(response, 422, "validation-error"))


def test_the_application_form_keeps_a_full_width_number_as_its_one_spelling(client, as_role):
    headers = as_role(demo.CITIZEN.username)
    response = _apply(client, headers, {**ENTERPRISE_FORM, "registered_capital": "１２", "seal_count": "３"})
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    form = client.get(f"/api/v1/applications/{number}", headers=headers).json()["form"]
    assert form["registered_capital"] == "12" and form["seal_count"] == "3"


@pytest.mark.parametrize("value", ["nan", "inf", "1e999", "-Infinity", "１e999"])
def test_registry_numbers_refuse_nan_and_infinity(client, as_role, value):
    response = client.patch(f"/api/v1/registries/legal-entities/{demo.ENTERPRISE.username}", headers=as_role("steward.scjg"),
                            json={"values": {"registered_capital": value}, "reason": "变更登记"})
    assert "body.values.registered_capital" in _errors(assert_problem(response, 422, "validation-error"))


def test_registry_numbers_read_full_width_digits(client, as_role):
    response = client.patch(f"/api/v1/registries/legal-entities/{demo.ENTERPRISE.username}", headers=as_role("steward.scjg"),
                            json={"values": {"registered_capital": "５００"}, "reason": "变更登记"})
    assert response.status_code == 200, response.text


def test_registry_floats_refuse_nan():
    """A float field (an address's longitude) let NaN through: every comparison with NaN is false."""
    from tongban.registry.schemas import ADDRESSES, FieldError

    for value in ("nan", "NaN", float("nan"), "inf"):
        with pytest.raises(FieldError):
            ADDRESSES.by_name["longitude"].parse(value)
    assert ADDRESSES.by_name["longitude"].parse("１２１.５") == 121.5


# ------------------------------------------------------------------ property: odd input never a 5xx

ODD_TEXT = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(["\x00", "\x07", "\ufeff", "％", "１", ".", "/"]),
                   max_size=30)
ODD_INT = st.one_of(st.integers(), st.integers(min_value=2**62, max_value=2**80).map(str), ODD_TEXT)


@pytest.fixture
def role_headers(client):
    return bearer(client, "inspector"), bearer(client, "steward")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ODD_TEXT, number=ODD_INT)
def test_odd_strings_ints_and_cursors_never_give_5xx(client, role_headers, text, number):
    inspector, steward = role_headers
    segment, number_segment = quote(text or "x", safe=""), quote(str(number), safe="")
    for url, params, headers in (
            ("/api/v1/items/search", {"q": text}, {}),
            ("/api/v1/supervision/clocks", {"cursor": text}, inspector),
            (f"/api/v1/supervision/clocks/{number_segment}", {}, inspector),
            ("/api/v1/calendar/deadline", {"start": text, "working_days": number}, {}),
            ("/deadline", {"start": text, "working_days": number}, {}),
            (f"/api/v1/registries/persons/{segment}", {"purpose": text}, steward)):
        response = client.get(url, params=params, headers=headers)
        assert response.status_code < 500, (url, params, response.text[:200])
