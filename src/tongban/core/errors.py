"""One error type for the whole platform, answered as RFC 9457 problem+json.

``type`` is a stable machine-readable URI reference (``/problems/<slug>``); ``title`` and
``detail`` are Chinese for people. No stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tongban.core.observability import current_request_id

log = logging.getLogger("tongban.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"

# slug -> (status, Chinese title). The slug is the stable contract; titles may be improved.
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "validation-error": (422, "请求数据校验未通过"),
    "malformed-json": (422, "请求体不是合法的 JSON"),
    "not-authenticated": (401, "需要登录或提供访问令牌"),
    "invalid-credentials": (401, "用户名或密码错误"),
    "invalid-client": (401, "客户端身份验证失败"),
    "invalid-token": (401, "访问令牌无效"),
    "token-expired": (401, "访问令牌已过期"),
    "account-locked": (429, "登录失败次数过多，请稍后再试"),
    "too-many-attempts": (429, "操作过于频繁，请稍后再试"),
    "identity-not-verified": (403, "账户尚未完成实名核验"),
    "not-legal-representative": (403, "不是该企业登记的法定代表人"),
    "code-invalid": (422, "验证码错误或已失效"),
    "account-disabled": (403, "账户已停用"),
    "password-change-required": (403, "请先修改密码"),
    "unsupported-grant-type": (400, "不支持的授权类型"),
    "permission-denied": (403, "没有执行此操作的权限"),
    "department-scope": (403, "无权访问其他部门的数据"),
    "csrf-failed": (403, "表单已失效，请刷新页面后重试"),
    "not-authoritative": (403, "不是该数据的权威来源"),
    "import-refused": (422, "导入文件被拒绝"),
    "already-decided": (409, "该申请已经处理"),
    "unknown-resource": (404, "目录中没有该信息资源"),
    "unknown-item": (422, "信息项不在目录中"),
    "resource-not-published": (409, "信息资源未发布"),
    "no-grant": (403, "没有该信息资源的共享授权"),
    "grant-expired": (403, "共享授权已过期或已撤销"),
    "item-not-granted": (403, "请求的信息项未获授权"),
    "purpose-required": (422, "必须说明用途"),
    "purpose-by-post": (403, "查阅用途须以 POST 提交"),
    "too-many-keys": (422, "一次查询的主键过多"),
    "callback-not-allowed": (422, "回调地址不在允许的范围内"),
    "delivery-failed": (502, "回调地址未接收投递"),
    "unknown-service-item": (404, "没有该办事事项"),
    "item-invalid": (422, "事项内容校验未通过"),
    "prerequisite-cycle": (422, "前置事项形成循环"),
    "answer-invalid": (422, "情形选项无效"),
    "situation-dead-end": (422, "情形问题无法继续"),
    "navigation-incomplete": (422, "还有情形问题未回答"),
    "unknown-notice": (404, "没有该告知单"),
    "workbook-invalid": (422, "Excel 文件有误"),
    "version-not-editable": (409, "该版本当前不可修改"),
    "own-draft": (403, "不能审核自己编写的事项"),
    "query-empty": (422, "请输入要查找的内容"),
    "query-too-long": (422, "查询内容过长"),
    "unknown-consultation": (404, "没有该咨询"),
    "process-invalid": (422, "流程定义有误"),
    "attachment-refused": (422, "上传的材料未通过检查"),
    "task-finished": (409, "该待办已办理或已结束"),
    "stale-version": (409, "数据已被他人更新"),
    "already-acknowledged": (409, "该预警已确认说明"),
    "not-finished": (409, "办件尚未办结"),
    "already-rated": (409, "该办件已评价"),
    "rectification-closed": (409, "该整改已结束"),
    "disclosure-own-draft": (403, "不能对本人起草的文件作保密审查"),
    "disclosure-state": (409, "公开文件当前状态不允许该操作"),
    "not-spatial": (422, "该信息资源不是空间数据"),
    "grid-invalid-geojson": (422, "网格文件不是有效的 GeoJSON"),
    "grid-crs-mismatch": (422, "坐标系与文件不一致"),
    "grid-outside-district": (422, "坐标超出本区范围"),
    "grid-invalid-cell": (422, "网格多边形无效"),
    "grid-overlap": (422, "网格相互重叠"),
    "grid-gap": (422, "网格之间有空隙"),
    "grid-invalid-code": (422, "网格编码不符合规则"),
    "grid-state": (409, "案件当前状态不允许该操作"),
    "grid-invalid-photo": (422, "照片不是可识别的图片"),
    "participation-state": (409, "政民互动事项当前状态不允许该操作"),
    "participation-closed": (409, "不在参与期间内"),
    "participation-duplicate": (409, "已经提交过"),
    "participation-incomplete": (422, "还有必答题未回答"),
    "open311-invalid-key": (403, "Open311 API 密钥缺失或无效"),
    "mailbox-duplicate": (409, "同一来信人的相同信件已经提交"),
    "mailbox-state": (409, "信件当前状态不允许该操作"),
    "mailbox-no-consent": (409, "来信人未同意公开，信件不能选登"),
    "not-found": (404, "请求的资源不存在"),
    "method-not-allowed": (405, "不支持该请求方法"),
    "conflict": (409, "与现有数据冲突"),
    "idempotency-key-reused": (422, "幂等键已用于不同的请求"),
    "payload-too-large": (413, "请求内容过大"),
    "unsupported-media-type": (415, "不支持的内容类型"),
    "bad-request": (400, "请求有误"),
    "internal-error": (500, "服务器内部错误"),
    "service-unavailable": (503, "服务暂不可用"),
    "storage-full": (507, "存储空间已满"),
}


class Problem(Exception):
    """Raise this anywhere; the handler turns it into problem+json (or an error page)."""

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        status: int | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        known_status, known_title = PROBLEM_TYPES.get(slug, (400, "请求有误"))
        self.slug = slug
        self.status = status or known_status
        self.title = title or known_title
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions
        super().__init__(f"{slug}: {detail}")

    def body(self) -> dict[str, Any]:
        return {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "request_id": current_request_id(),
            **self.extensions,
        }


_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_FULL = 5, 6, 13  # sqlite3's primary result codes
_PG_DISK_FULL, _PG_OUT_OF_MEMORY, _PG_TOO_MANY_CONNECTIONS = "53100", "53200", "53300"


def database_problem(error: BaseException) -> Problem | None:
    """The problem for a database failure that is the platform's, not the request's: the
    database unreachable or restarting (503, the client may retry) or its storage full (507).
    Either way the request's transaction did not commit, so nothing it wrote is kept. ``None``
    for anything else (a bug stays a 500)."""
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(error, PoolTimeout):
        return Problem("service-unavailable", "数据库连接繁忙，本次操作未完成，请稍后重试。", headers={"Retry-After": "5"})
    if not isinstance(error, DBAPIError):
        return None
    original = error.orig
    sqlite_code = getattr(original, "sqlite_errorcode", None)
    sqlstate = getattr(original, "sqlstate", None)
    if sqlite_code is not None:
        sqlite_code &= 0xFF  # an extended code carries the primary one in its low byte
    if sqlite_code == _SQLITE_FULL or sqlstate == _PG_DISK_FULL:
        log.error("database storage full", extra={"error": str(original)})
        return Problem("storage-full", "数据库存储空间已满，本次操作未保存，请联系系统管理员扩充存储后重试。")
    unavailable = (
        error.connection_invalidated
        or sqlite_code in (_SQLITE_BUSY, _SQLITE_LOCKED)
        or (sqlstate or "")[:2] in ("08", "57")  # connection exceptions; operator intervention (shutdown, restart)
        or sqlstate in (_PG_OUT_OF_MEMORY, _PG_TOO_MANY_CONNECTIONS)
        # psycopg's own connection failures (refused, closed unexpectedly) carry no SQLSTATE
        or (isinstance(error, OperationalError) and sqlite_code is None and sqlstate is None)
    )
    if unavailable:
        log.warning("database unavailable", extra={"error": str(original).strip()[:200]})
        return Problem("service-unavailable", "数据库暂时无法连接，本次操作未完成，请稍后重试。", headers={"Retry-After": "5"})
    return None


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(
        problem.body(),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


# Pydantic error types -> Chinese messages. Custom validators raise PydanticCustomError
# with a Chinese message of their own, which is kept as it is.
_PYDANTIC_MESSAGES = {
    "missing": "缺少必填字段",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "string_type": "应为字符串",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为布尔值 (true/false)",
    "date_from_datetime_parsing": "应为日期 (YYYY-MM-DD)",
    "date_parsing": "应为日期 (YYYY-MM-DD)",
    "date_type": "应为日期 (YYYY-MM-DD)",
    "datetime_parsing": "应为带时区的时间 (ISO 8601)",
    "datetime_from_date_parsing": "应为带时区的时间 (ISO 8601)",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "greater_than": "必须大于 {gt}",
    "less_than": "必须小于 {lt}",
    "enum": "取值应为以下之一：{expected}",
    "literal_error": "取值应为以下之一：{expected}",
    "extra_forbidden": "不允许的字段",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为数组",
    "too_long": "元素个数不能超过 {max_length}",
    "too_short": "元素个数不能少于 {min_length}",
    "uuid_parsing": "应为 UUID",
    "value_error": "取值不正确",
}


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def validation_errors(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    """The problem slug and one entry per bad field, in Chinese."""
    errors = []
    slug = "validation-error"
    for error in exc.errors():
        kind = error.get("type", "value_error")
        if kind == "json_invalid":
            slug = "malformed-json"
            message = "请求体不是合法的 JSON：" + str(error.get("ctx", {}).get("error", "无法解析"))
        elif kind in _PYDANTIC_MESSAGES:
            ctx = {k: v for k, v in (error.get("ctx") or {}).items()}
            try:
                message = _PYDANTIC_MESSAGES[kind].format(**ctx)
            except (KeyError, IndexError):
                message = _PYDANTIC_MESSAGES[kind]
        else:
            message = str(error.get("msg", "取值不正确"))
        errors.append({"field": _field_name(error.get("loc", ())), "code": kind, "message": message})
    return slug, errors


# Where programs are served (the platform's API, and the standard protocols it speaks, such as
# Open311's GeoReport v2): an error there is never a page.
PROGRAM_PATHS = ("/api/", "/open311/")


def _is_api(request: Request) -> bool:
    """A program's request: under one of ``PROGRAM_PATHS``, asking for JSON, or carrying a token
    (a browser sends its session cookie, never an Authorization header). Its errors are
    problem+json, as /openapi.json documents them, never a page or a redirect to the sign-in page."""
    headers = request.headers
    return (request.url.path.startswith(PROGRAM_PATHS) or "application/json" in headers.get("accept", "")
            or "authorization" in headers)


def install_error_handlers(app: FastAPI, *, render_page) -> None:
    """``render_page(request, problem)`` answers browsers with an HTML page; it decides by the
    problem's slug, the stable contract, never by its status or title."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        if not _is_api(request):
            return render_page(request, exc)
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        slug, errors = validation_errors(exc)
        fields = "、".join(e["field"] for e in errors[:5])
        problem = Problem(slug, f"以下字段有误：{fields}" if slug != "malformed-json" else errors[0]["message"], errors=errors)
        if not _is_api(request):
            return render_page(request, problem)
        return problem_response(problem)

    async def _database(request: Request, exc: Exception):
        problem = database_problem(exc)
        if problem is None:
            raise exc  # a bug: the unexpected-error middleware answers 500 and logs it
        if not _is_api(request):
            return render_page(request, problem)
        return problem_response(problem)

    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(PoolTimeout, _database)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        slug = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large",
                415: "unsupported-media-type"}.get(exc.status_code, "bad-request")
        detail = {404: f"找不到 {request.url.path}", 405: f"{request.url.path} 不支持 {request.method} 请求"}.get(
            exc.status_code, "请求无法处理"
        )
        problem = Problem(slug, detail, status=exc.status_code)
        if not _is_api(request):
            return render_page(request, problem)
        return problem_response(problem)



class UnexpectedErrorMiddleware:
    """Turns any unhandled exception into a 500 problem (or page) carrying the request id
    (503/507 when it is the database's unavailability or full storage: ``database_problem``).

    It sits inside the request-id middleware, so the answer and the log line share the id;
    the stack trace goes to the log only.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            # The database down or full is told as such (503/507), without a stack trace in the log.
            problem = database_problem(error)
            if problem is None:
                log.exception("unhandled error", extra={"path": scope.get("path")})
            if started:
                raise
            problem = problem or Problem("internal-error", "服务器处理请求时出错，请稍后再试；如需协助请提供请求编号。")
            response: Response
            if scope.get("path", "").startswith(PROGRAM_PATHS):
                response = problem_response(problem)
            else:
                response = HTMLResponse(
                    f"<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>{problem.title}</title>"
                    f"<main><h1>{problem.title}</h1><p>{problem.detail}</p><p>请求编号：{current_request_id()}</p></main>"
                    "<p><a href=\"/\">返回首页</a></p></html>",
                    status_code=problem.status,
                )
            await response(scope, receive, send)


# --- the error contract in OpenAPI --------------------------------------------------------------

# The body ``Problem.body`` emits and the validation handler extends; extensions beyond these
# (``error`` of the OAuth token endpoint, a domain's own) are allowed, as RFC 9457 allows them.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 错误响应 (application/problem+json)：type 为稳定的错误类型，title、detail 为中文说明。",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "pattern": "^/problems/[a-z0-9-]+$", "description": "稳定的错误类型，如 /problems/not-found"},
        "title": {"type": "string", "description": "错误类型的中文标题"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "HTTP 状态码"},
        "detail": {"type": "string", "description": "本次错误的中文说明"},
        "request_id": {"type": ["string", "null"], "description": "请求编号，与服务器日志对应"},
        "errors": {"type": "array", "description": "逐项的错误（校验未通过的字段、被拒绝的行等）",
                   "items": {"$ref": "#/components/schemas/ProblemError"}},
        "error": {"type": "string", "description": "OAuth 2.0 错误码（仅令牌接口）"},
        "required_permissions": {"type": "array", "items": {"type": "string"},
                                 "description": "权限不足时：所需的权限代码（任一即可）"},
    },
    "additionalProperties": True,
}
PROBLEM_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ProblemError",
    "type": "object",
    "properties": {
        "field": {"type": "string", "description": "出错的字段，如 body.name、query.q"},
        "code": {"type": "string", "description": "错误代码"},
        "message": {"type": "string", "description": "中文说明"},
    },
    "additionalProperties": True,
}

# Why each status can come back; the statuses an operation gets are chosen in ``error_statuses``.
_STATUS_NOTES = {
    400: "请求有误（如请求体无法解析）",
    401: "未登录，或访问令牌无效、已过期",
    403: "没有该操作的权限、超出本部门范围，或网页会话缺少 X-CSRF-Token",
    404: "请求中指定的资源不存在（路径中的编号，或参数、请求体中的编码）",
    409: "与数据的当前状态冲突（已处理、已被他人更新等）",
    413: "请求内容过大",
    422: "请求数据校验未通过（逐项见 errors）",
    429: "请求过于频繁（如登录失败次数过多）",
    500: "服务器内部错误（附请求编号）",
    503: "服务暂不可用（数据库、病毒扫描等依赖暂时不可用），请稍后重试",
}
_PUBLIC_401 = "访问令牌无效或已过期（匿名访问无需令牌）"
# ``responses=THROTTLED`` on a route whose service may refuse with 429 (sign-in, one-time codes).
THROTTLED: dict[int | str, dict[str, Any]] = {429: {"description": "尝试过于频繁，已临时限制，请稍后再试"}}
_UNSAFE = {"post", "put", "patch", "delete"}


def error_statuses(method: str, operation: dict[str, Any], *, signed_in: bool) -> set[int]:
    """The error statuses an operation can answer, judged from what it takes.

    Any operation: 401 (a bad token is refused even where no sign-in is needed), 500 and 503. One
    that needs a sign-in, or writes (a cookie session must send its CSRF token): 403. Parameters
    or a body: 404 (the record, department or item they name may not exist) and 422. A body: 400
    (unparsable) and 413. A write: 409 and 422, even without input. Anything else (429 on
    sign-in, 502 of a callback) the route declares in ``responses``.
    """
    statuses = {401, 500, 503}
    writes = method in _UNSAFE
    if signed_in or writes:
        statuses.add(403)
    if operation.get("parameters") or "requestBody" in operation:
        statuses |= {404, 422}  # what a path, a parameter or the body names may not exist
    if "requestBody" in operation:
        statuses |= {400, 413}
    if writes:  # refused by the rules of the record's state, or of the caller's (a non-citizen's 实名)
        statuses |= {409, 422}
    return statuses


def document_problems(openapi: dict[str, Any], *, signed_in) -> dict[str, Any]:
    """Every operation's error responses as problem+json with the one ``Problem`` schema,
    instead of FastAPI's ``HTTPValidationError`` for 422 and nothing for the rest.

    ``signed_in(operation)`` says whether the operation needs a sign-in. Error statuses a route
    declared itself (``responses={429: {"description": ...}}``) keep their words, and get the
    ``Problem`` body unless they declared another.
    """
    content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in openapi.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            needs_sign_in = signed_in(operation)
            responses = operation["responses"]
            declared = {int(code) for code in responses if str(code).isdigit() and int(code) >= 400}
            for status in sorted(declared | error_statuses(method, operation, signed_in=needs_sign_in)):
                note = _PUBLIC_401 if status == 401 and not needs_sign_in else _STATUS_NOTES.get(status, "错误")
                if status in declared and status != 422:  # the route's own words (422: FastAPI's)
                    responses[str(status)].setdefault("content", content)
                else:
                    responses[str(status)] = {"description": note, "content": content}
            operation["responses"] = dict(sorted(responses.items()))
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ProblemError"] = PROBLEM_ERROR_SCHEMA
    return openapi
