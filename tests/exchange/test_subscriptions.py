"""Subscriptions: changes pushed to a real HTTP receiver that fails, times out and recovers;
signed, in order per record, only granted items; dead letters and replay; grants re-checked."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tongban import demo
from tongban.app import create_app
from tongban.core.errors import Problem
from tongban.core.events import InProcessBus, OutboxRelay
from tongban.exchange.delivery import Dispatcher, check_callback, sign
from tongban.exchange.models import ExchangeCall, Subscription
from helpers import assert_problem, bearer, register_person
from tongban.core import clock as wall

GRANTED = {"id_number", "name", "gender", "residence_status", "marital_status"}
HIDDEN_ADDRESS = "上海市浦东新区不予共享路9号"  # household_address is refused: it must never leave
HIDDEN_PHONE = "13900001111"  # phone was never asked for


# ---- the receiver: a real HTTP server ---------------------------------------------------------


@dataclass
class Received:
    mode: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> dict:
        return json.loads(self.raw)


class Receiver:
    """Records every request; answers 200 ("ok"), 500 ("fail"), too late ("slow") or not at all ("drop")."""

    def __init__(self, slow_seconds: float) -> None:
        self.requests: list[Received] = []
        self.planned: list[str] = []  # modes for the next requests, then ``default``
        self.default = "ok"
        self.slow_seconds = slow_seconds
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                mode = receiver.planned.pop(0) if receiver.planned else receiver.default
                receiver.requests.append(Received(mode, {k.lower(): v for k, v in self.headers.items()}, raw))
                if mode == "drop":
                    self.close_connection = True
                    return
                if mode == "slow":
                    time.sleep(receiver.slow_seconds)
                try:
                    self.send_response(200 if mode in ("ok", "slow") else 500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the sender gave up waiting
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *args: None
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tongban/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.mode == "ok"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    found = Receiver(slow_seconds=1.5)
    yield found
    found.close()


def verified(request: Received, secret: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), request.raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers["x-tongban-signature"])


def versions_by_key(requests: list[Received], keys) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {key: [] for key in keys}
    for request in requests:
        for change in request.body["changes"]:
            if change["key"] in found:
                found[change["key"]].append(change["version"])
    return found


# ---- unit checks --------------------------------------------------------------------------------


def test_production_allows_no_callback_host_unless_listed():
    from tongban.core.config import Environment, Settings

    production = {"env": Environment.PRODUCTION, "secret_key": "p" * 40, "sms_sender": "command",
                  "sms_command": "/usr/local/bin/send-sms"}
    for url in ("http://127.0.0.1:8000/metrics", "http://localhost/hook"):
        with pytest.raises(Problem) as caught:
            check_callback(url, Settings(**production).exchange_callback_hosts)
        assert caught.value.slug == "callback-not-allowed" and "允许：无" in caught.value.detail
    listed = Settings(**production, exchange_callback_hosts="*.mz.example.gov.cn").exchange_callback_hosts
    assert check_callback("https://api.mz.example.gov.cn/hook", listed)
    assert Settings().exchange_callback_hosts == "127.0.0.1,localhost"  # development and tests as before
    assert Settings(env=Environment.TEST).exchange_callback_hosts == "127.0.0.1,localhost"


def test_callback_hosts_and_signature():
    allowed = "127.0.0.1, *.mz.example.gov.cn"
    for url in ("http://127.0.0.1:8080/hook", "https://api.mz.example.gov.cn/v1/hook?x=1", "https://A.B.MZ.example.gov.cn/"):
        assert check_callback(url, allowed) == url
    refused = {
        "https://mz.example.gov.cn/hook": "mz.example.gov.cn",  # the wildcard is for subdomains only
        "https://evilmz.example.gov.cn/hook": "evilmz.example.gov.cn",
        "http://127.0.0.1.evil.example.com/": "127.0.0.1.evil.example.com",
        "http://169.254.169.254/latest/meta-data": "169.254.169.254",
        "http://user:pw@127.0.0.1/hook": "用户名或密码",
        "http://127.0.0.1@evil.example.com/": "用户名或密码",
        "ftp://127.0.0.1/hook": "http 或 https",
        "javascript:alert(1)": "http 或 https",
        "http://127.0.0.1:99999/": "格式有误",
        "http:///hook": "缺少主机名",
        "http://127.0.0.1/ hook": "不含空白",
    }
    for url, mentioned in refused.items():
        with pytest.raises(Problem) as caught:
            check_callback(url, allowed)
        assert caught.value.slug == "callback-not-allowed" and caught.value.status == 422
        assert mentioned in caught.value.detail, (url, caught.value.detail)
    assert sign("k", b"{}") == "sha256=" + hmac.new(b"k", b"{}", hashlib.sha256).hexdigest()


# ---- the whole story on a database of its own ---------------------------------------------------


def _client_token(client, client_id: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                       "client_secret": demo.DEMO_CLIENT_SECRET})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _change(client, headers, key: str, **values) -> None:
    response = client.patch(f"/api/v1/registries/persons/{key}", headers=headers,
                            json={"values": values, "reason": "测试变更"})
    assert response.status_code == 200, response.text


def _subscription(sessions, subscription_id: int) -> Subscription:
    with sessions() as db:
        return db.get(Subscription, subscription_id)


def _pump(dispatcher: Dispatcher, now) -> int:
    """Deliver until nothing more is due at ``now``."""
    total = 0
    for _ in range(50):
        delivered = dispatcher.run_once(now=now)
        if not delivered:
            return total
        total += delivered
    raise AssertionError("the dispatcher never became idle")


def _grant_persons_to_mz(client) -> None:
    """The provider answers the demo request: name and the key approved, the household address refused."""
    steward = bearer(client, "steward")
    pending = [r for r in client.get("/api/v1/sharing/requests", headers=steward, params={"status": "provider"}).json()["items"]
               if r["resource"] == "persons" and r["requester"] == "PD-MZ"]
    assert len(pending) == 1
    response = client.post(f"/api/v1/sharing/requests/{pending[0]['id']}/decision", headers=steward,
                           json={"approve": ["id_number", "name"], "refuse": ["household_address"],
                                 "reason": "户籍地址仅限窗口核验，不予接口共享"})
    assert response.status_code == 200, response.text


def test_subscription_delivers_through_failures_timeouts_and_dead_letters(fresh_database, receiver):
    settings = fresh_database.settings.model_copy(update={
        "relay_enabled": False,  # the test drives the relay and the dispatcher itself, with its own clock
        "exchange_delivery_timeout_s": 0.5, "exchange_delivery_attempts": 4, "exchange_retry_base_s": 1.0})
    app = create_app(settings)
    sessions = app.state.sessionmaker
    relay = OutboxRelay(sessions, InProcessBus())
    dispatcher = Dispatcher(sessions, settings, batch=3)  # small batches: order must hold across them
    with TestClient(app) as client:
        _grant_persons_to_mz(client)
        relay.drain()
        mz = _client_token(client, demo.MZ_CLIENT_ID)
        steward, steward_mz = bearer(client, "steward"), bearer(client, "steward.mz")
        url = "/api/v1/exchange/subscriptions"
        purpose = "低保审核：跟踪申请人户籍、婚姻状况变化"

        # Bad input is refused with a clear problem.
        body = assert_problem(client.post(url, headers=mz, json={"resource": "persons", "purpose": purpose,
                                                                 "callback_url": "https://evil.example.com/hook"}),
                              422, "callback-not-allowed")
        assert "evil.example.com" in body["detail"]
        assert_problem(client.post(url, headers=mz, json={"resource": "persons", "callback_url": receiver.url}),
                       422, "purpose-required")
        assert_problem(client.post(url, headers=mz, json={"resource": "persons", "callback_url": receiver.url,
                                                          "purpose": purpose, "items": ["household_address"]}),
                       403, "item-not-granted")
        assert_problem(client.post(url, headers=mz, json={"resource": "PD-SCJG-NONE", "callback_url": receiver.url,
                                                          "purpose": purpose}), 404, "unknown-resource")
        assert_problem(client.post(url, headers=mz, json={"resource": "persons", "callback_url": receiver.url,
                                                          "purpose": purpose, "from_cursor": 10**12}),
                       422, "validation-error")

        created = client.post(url, headers=mz, json={"resource": "persons", "callback_url": receiver.url,
                                                     "purpose": purpose})
        assert created.status_code == 201, created.text
        subscription = created.json()
        secret, sid, start = subscription["secret"], subscription["id"], subscription["cursor"]
        assert len(secret) == 64 and subscription["items"] is None and subscription["active"] is True
        listed = client.get(url, headers=mz).json()["items"]
        assert [s["id"] for s in listed] == [sid] and "secret" not in listed[0]
        assert "secret" not in client.get(f"{url}/{sid}", headers=mz).json()
        # Another department neither sees nor touches it.
        assert sid not in [s["id"] for s in client.get(url, headers=steward).json()["items"]]
        assert_problem(client.get(f"{url}/{sid}", headers=steward), 403, "department-scope")
        assert_problem(client.delete(f"{url}/{sid}", headers=steward), 403, "department-scope")
        assert_problem(client.get(f"{url}/999999", headers=mz), 404, "not-found")

        # Changes to three records, two of them changed more than once; two touch ungranted items only.
        p1 = register_person(client, steward, name="赵一", household_address=HIDDEN_ADDRESS)
        p2 = register_person(client, steward, name="钱二", household_address=HIDDEN_ADDRESS)
        _change(client, steward, p1, residence_status="居住证")
        _change(client, steward, p2, name="钱二改")
        p3 = register_person(client, steward, name="孙三", household_address=HIDDEN_ADDRESS)
        _change(client, steward, p1, phone=HIDDEN_PHONE)  # ungranted only: not delivered
        _change(client, steward, p3, household_address=HIDDEN_ADDRESS + "甲")  # ungranted only
        _change(client, steward_mz, p2, marital_status="已婚")  # 民政 is the source of this field
        _change(client, steward, p1, residence_status="户籍", household_address=HIDDEN_ADDRESS + "乙")
        expected = {p1: [1, 2, 4], p2: [1, 2, 3], p3: [1]}
        assert relay.drain() == 9

        # The receiver fails, then times out, then drops the connection; each retry waits longer.
        receiver.planned = ["fail", "slow", "drop"]
        clock = wall.now()
        assert dispatcher.run_once(now=clock) == 0
        sub = _subscription(sessions, sid)
        assert (sub.attempts, sub.next_attempt_at, sub.cursor) == (1, clock + timedelta(seconds=2), start)
        assert "HTTP 500" in sub.last_error
        assert dispatcher.run_once(now=clock + timedelta(seconds=1)) == 0 and len(receiver.requests) == 1  # not yet due
        began = time.monotonic()
        assert dispatcher.run_once(now=clock + timedelta(seconds=2)) == 0
        assert time.monotonic() - began < 1.4  # gave up at the timeout, did not wait for the slow answer
        sub = _subscription(sessions, sid)
        assert (sub.attempts, sub.next_attempt_at) == (2, clock + timedelta(seconds=6)) and "超时" in sub.last_error
        assert dispatcher.run_once(now=clock + timedelta(seconds=6)) == 0
        sub = _subscription(sessions, sid)
        assert (sub.attempts, sub.next_attempt_at) == (3, clock + timedelta(seconds=14)) and "连接" in sub.last_error
        # It recovers: everything arrives.
        assert _pump(dispatcher, clock + timedelta(seconds=14)) == 7
        assert len(receiver.requests) == 3 + 3  # three failed tries of the first batch, then three batches

        accepted = receiver.accepted()
        assert versions_by_key(accepted, expected) == expected  # each change once, in order per record
        for request in receiver.requests:  # failed tries too: signed, and nothing ungranted left
            assert verified(request, secret)
            assert request.headers["content-type"] == "application/json"
            assert request.headers["x-tongban-timestamp"].isdigit()
            assert HIDDEN_ADDRESS not in request.raw.decode() and HIDDEN_PHONE not in request.raw.decode()
            assert request.body["subscription"] == sid and request.body["resource"] == "persons"
            for change in request.body["changes"]:
                assert set(change["items"]) <= GRANTED and set(change["changed_items"]) <= GRANTED
        assert len({r.headers["x-tongban-delivery"] for r in receiver.requests}) == len(receiver.requests)
        first = accepted[0].body["changes"][0]
        assert (first["key"], first["version"], first["items"]["name"]) == (p1, 1, "赵一")
        positions = [c["position"] for r in accepted for c in r.body["changes"]]
        assert positions == sorted(positions)
        state = client.get(f"{url}/{sid}", headers=mz).json()
        assert (state["delivered_count"], state["attempts"], state["last_error"]) == (7, 0, None)
        assert state["cursor"] == int(accepted[-1].body["next_cursor"])
        with sessions() as db:  # every try is in the usage log, with its purpose and the granted items only
            calls = list(db.scalars(select(ExchangeCall).where(ExchangeCall.operation == "delivery")))
        assert sorted(c.outcome for c in calls) == ["failed"] * 3 + ["ok"] * 3
        assert sum(c.keys_count for c in calls if c.outcome == "ok") == 7
        assert all(c.client_id == demo.MZ_CLIENT_ID and c.purpose == purpose and c.department_code == "PD-MZ"
                   and set(json.loads(c.items)) == GRANTED for c in calls)

        # The receiver stays down: after the last attempt the batch becomes a dead letter.
        receiver.default = "fail"
        _change(client, steward, p3, residence_status="来沪人员")
        relay.drain()
        now = clock + timedelta(seconds=20)
        for _ in range(4):
            dispatcher.run_once(now=now)
            now = _subscription(sessions, sid).next_attempt_at or now
        sub = _subscription(sessions, sid)
        assert (sub.attempts, sub.next_attempt_at) == (0, None) and "死信" in sub.last_error
        letters = client.get(f"{url}/{sid}/dead-letters", headers=mz).json()["items"]
        assert len(letters) == 1
        letter = letters[0]
        assert (letter["changes"], letter["attempts"], letter["replayed_at"]) == (1, 4, None)
        assert "HTTP 500" in letter["error"] and sub.cursor >= letter["last_position"]
        assert_problem(client.get(f"{url}/{sid}/dead-letters", headers=steward), 403, "department-scope")
        notes = client.get("/api/v1/notifications", headers=bearer(client, "steward.mz")).json()
        assert any(n["kind"] == "exchange.dead_letter" for n in notes)  # the department is told
        # Replaying while the receiver is still down fails visibly; once it is back, it arrives.
        replay_url = f"{url}/{sid}/dead-letters/{letter['id']}/replay"
        assert_problem(client.post(replay_url, headers=mz), 502, "delivery-failed")
        receiver.default = "ok"
        replayed = client.post(replay_url, headers=mz)
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["replayed_at"] is not None
        last = receiver.requests[-1]
        assert last.mode == "ok" and verified(last, secret) and last.body["dead_letter"] == letter["id"]
        assert [(c["key"], c["version"], c["items"]["residence_status"]) for c in last.body["changes"]] == [(p3, 3, "来沪人员")]

        # Replay from a cursor: everything after it comes again, at least once, in order per record.
        assert_problem(client.post(f"{url}/{sid}/replay", headers=mz, json={"from_cursor": sub.cursor + 1}),
                       422, "validation-error")
        again = client.post(f"{url}/{sid}/replay", headers=mz, json={"from_cursor": start})
        assert again.status_code == 200 and again.json()["cursor"] == start
        mark = len(receiver.requests)
        assert _pump(dispatcher, now) == 8
        replayed_requests = receiver.requests[mark:]
        assert all(verified(r, secret) for r in replayed_requests)
        assert versions_by_key(replayed_requests, expected) == {p1: [1, 2, 4], p2: [1, 2, 3], p3: [1, 3]}

        # The provider revokes the grants: delivery stops at the next batch and no data leaves.
        grants = client.get("/api/v1/sharing/grants", headers=steward).json()["items"]
        for grant in [g for g in grants if g["department"] == "PD-MZ" and g["resource"] == "persons"]:
            revoked = client.post(f"/api/v1/sharing/grants/{grant['id']}/revoke", headers=steward,
                                  json={"reason": "低保审核项目结束"})
            assert revoked.status_code == 200, revoked.text
        _change(client, steward, p2, name="钱二再改")
        relay.drain()
        mark = len(receiver.requests)
        assert dispatcher.run_once(now=now) == 0
        assert len(receiver.requests) == mark
        state = client.get(f"{url}/{sid}", headers=mz).json()
        assert "撤销" in state["last_error"] and state["active"] is True  # paused: resumes if a grant returns
        assert dispatcher.run_once(now=now + timedelta(seconds=60)) == 0 and len(receiver.requests) == mark
        assert_problem(client.post(replay_url, headers=mz), 403, "grant-expired")
        assert len(receiver.requests) == mark
        with sessions() as db:
            denied = list(db.scalars(select(ExchangeCall).where(ExchangeCall.operation == "delivery",
                                                                ExchangeCall.outcome == "denied")))
        assert len(denied) == 2 and all(c.keys_count == 0 for c in denied)  # the pause, then the refused replay
        assert_problem(client.post(url, headers=mz, json={"resource": "persons", "callback_url": receiver.url,
                                                          "purpose": purpose}), 403, "grant-expired")

        # Cancelled: nothing more, even after the pause would have ended.
        cancelled = client.delete(f"{url}/{sid}", headers=mz)
        assert cancelled.status_code == 200 and cancelled.json()["active"] is False
        assert dispatcher.run_once(now=now + timedelta(hours=1)) == 0 and len(receiver.requests) == mark
        assert_problem(client.post(f"{url}/{sid}/replay", headers=mz, json={"from_cursor": 0}), 409, "conflict")
    dispatcher.client.close()


def test_the_running_app_pushes_new_changes_on_its_own(client, receiver):
    """Wired up: the relay publishes, wakes the dispatcher, and the change arrives (provider's own system)."""
    system = _client_token(client, demo.CLIENT_ID)
    created = client.post("/api/v1/exchange/subscriptions", headers=system, json={
        "resource": "persons", "callback_url": receiver.url, "items": ["id_number", "residence_status"],
        "purpose": "人口管理系统同步居住状态"})
    assert created.status_code == 201, created.text
    sid, secret = created.json()["id"], created.json()["secret"]
    try:
        number = register_person(client, bearer(client, "steward"), name="自动推送")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
                c["key"] == number for r in receiver.accepted() for c in r.body["changes"]):
            time.sleep(0.05)
        [change] = [c for r in receiver.accepted() for c in r.body["changes"] if c["key"] == number]
        assert change["items"] == {"id_number": number, "residence_status": "户籍"}
        assert all(verified(r, secret) for r in receiver.requests)
    finally:
        client.delete(f"/api/v1/exchange/subscriptions/{sid}", headers=system)
