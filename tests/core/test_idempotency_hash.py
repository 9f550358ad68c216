"""core.idempotency: what a key is bound to."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from tongban.core.idempotency import request_hash

ROUTE = Route("/apply/{code}", endpoint=lambda request: None, methods=["POST"])


def _request(code: str) -> Request:
    return Request({"type": "http", "method": "POST", "path": f"/apply/{code}", "headers": [], "query_string": b"",
                    "route": ROUTE, "path_params": {"code": code}})


def test_the_same_form_sent_to_another_path_is_another_request():
    body = {"form": {"name": "张三"}, "materials": []}
    assert request_hash(_request("road-excavation"), body) == request_hash(_request("road-excavation"), body)
    assert request_hash(_request("road-excavation"), body) != request_hash(_request("enterprise-setup"), body)
