"""Schemathesis against the whole API, in process: no 5xx, and no answer the OpenAPI document
does not describe (status, content type, body schema), for three callers: anonymous, a citizen
and the e-government office's administrator.

Repeatable (derandomized, no example database) and bounded: a few examples per operation and
generation mode, each sent as all three callers. The app has a database of its own, because
the generated requests create accounts and change states.
"""

from __future__ import annotations

import copy
import os
from collections import defaultdict
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tongban import demo
from tongban.app import create_app

# Examples per operation and generation mode; each is sent three times (one per caller). About
# 3 minutes on SQLite on a 2-core machine, most of it drawing the examples; PostgreSQL (in CI) is
# sent the first half of the same examples again (under a minute), as its requests take longer and
# the engine's own failures show within a few.
EXAMPLES = int(os.environ.get("TONGBAN_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CALLERS = {"anonymous": None, "citizen": demo.CITIZEN.username, "admin": "admin"}


def sign_in(session, username: str | None) -> dict[str, str]:
    """The caller's headers: a fresh token, or none for the anonymous caller (or one who can no
    longer sign in: the fuzz may have disabled the account or changed its password)."""
    if username is None:
        return {}
    response = session.post(f"http://{asgi.HOST}/api/v1/auth/token",
                            data={"grant_type": "password", "username": username, "password": demo.DEMO_PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"} if response.status_code == 200 else {}


# Each operation's generated requests, kept from the first engine's run and sent again to the next:
# the requests do not depend on the engine, and generating them costs more than sending them.
GENERATED: dict[tuple[str, str], list[dict[str, Any]]] = {}


def _kept(case) -> dict[str, Any]:
    """What a generated case sends, to make the same case against another engine's app."""
    fields = ("path_parameters", "headers", "cookies", "query", "media_type", "multipart_content_types")
    kept = {name: copy.deepcopy(getattr(case, name)) for name in fields}
    kept["headers"] = dict(kept["headers"]) if kept["headers"] is not None else None
    kept["body"] = case.body if isinstance(case.body, NotSet) else copy.deepcopy(case.body)
    return kept


def test_the_api_keeps_its_documented_contract(fresh_database):
    # No outbox relay or deadline scans: their threads would only race the fuzz for the database.
    app = create_app(fresh_database.settings.model_copy(update={"relay_enabled": False}))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    examples = EXAMPLES if fresh_database.engine_name == "sqlite" else max(1, EXAMPLES // 2)
    failures: dict[tuple[str, str], str] = {}
    counts: dict[str, int] = defaultdict(int)

    with asgi.get_client(app) as session:
        callers = {caller: sign_in(session, username) for caller, username in CALLERS.items()}
        assert callers["citizen"] and callers["admin"]

        def send(case, label: str, mode: GenerationMode) -> None:
            for caller, headers in callers.items():
                session.cookies.clear()  # a caller is its token only
                response = case.call(session=session, headers=headers)
                counts[caller] += 1
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except FailureGroup as group:  # keep going: report every operation's
                    for failure in group.exceptions:
                        key = (label, f"{type(failure).__name__}: {str(failure).splitlines()[0][:200]}")
                        failures.setdefault(key, f"{caller} {mode.value} {case.as_curl_command(headers)}\n"
                                                 f"{response.status_code} {response.text[:600]}")
                if response.status_code == 401 and headers:  # the fuzz ended the session (sign-out)
                    callers[caller] = sign_in(session, CALLERS[caller])

        for result in schema.get_all_operations():
            operation = result.ok()
            label = f"{operation.method.upper()} {operation.path}"  # none excluded: each answers in time
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                kept = GENERATED.get((label, mode.value))
                if kept is not None:  # generated for the engine before: the same requests, no new draw
                    for fields in kept[:examples]:
                        send(operation.Case(**fields), label, mode)
                    continue
                generated: list[dict[str, Any]] = []

                @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
                @given(case=operation.as_strategy(generation_mode=mode))
                def run(case) -> None:
                    generated.append(_kept(case))  # noqa: B023 (run() runs inside this iteration)
                    send(case, label, mode)  # noqa: B023

                try:
                    run()
                except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                    assert mode is GenerationMode.NEGATIVE, label
                GENERATED[(label, mode.value)] = generated

    report = "\n\n".join(f"{label} — {kind}\n{example}" for (label, kind), example in sorted(failures.items()))
    assert not failures, f"{len(failures)} failures in {sum(counts.values())} requests:\n\n{report}"
