"""The web application: API, pages, operations endpoints."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Literal

import anyio
from pydantic import BaseModel
from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
import swagger_ui_bundle

import tongban
from tongban.accounts import api as accounts_api, pages as accounts_pages, service as accounts_service
from tongban.audit import api as audit_api
from tongban.cases import api as cases_api, pages as cases_pages, service as cases_service
from tongban.catalog import api as catalog_api, pages as catalog_pages
from tongban.core import apidocs, audit, routing, sms
from tongban.disclosure.requests import api as disclosure_requests_api, pages as disclosure_requests_pages
from tongban.disclosure.requests import service as disclosure_requests_service
from tongban.core.auth import Principal, PrincipalLoader, authenticate, check_routes, require
from tongban.core.config import Environment, Settings, get_settings
from tongban.core.db.engine import make_engine, make_sessionmaker
from tongban.core.events import OutboxRelay, make_transport
from tongban.core.headers import SecurityHeadersMiddleware
from tongban.core.limits import BodySizeLimitMiddleware
from tongban.core.errors import PROBLEM_TYPES, Problem, UnexpectedErrorMiddleware, install_error_handlers
from tongban.core.inputs import check_bounded_ids, check_request
from tongban.core.observability import Metrics, RequestContextMiddleware
from tongban.core.periodic import Periodic
from tongban.core.serving import settle_heap
from tongban.core.sessions import ServerSessionMiddleware
from tongban.core.permissions import Permission
from tongban.core.templating import PACKAGE_ROOT, render, templates
from tongban.disclosure import api as disclosure_api, feeds as disclosure_feeds, pages as disclosure_pages
from tongban.disclosure import search as disclosure_search, search_api as disclosure_search_api
from tongban.exchange import api as exchange_api, pages as exchange_pages, subscriptions_api, usage_api
from tongban.exchange.delivery import Dispatcher
from tongban.exchange.service import UsageLog
from tongban.grid import (
    api as grid_api, manage_pages as grid_manage_pages, open311 as grid_open311, pages as grid_pages,
    public_api as grid_public_api, public_pages as grid_public_pages,
)
from tongban.hotline import api as hotline_api, mailbox_api, mailbox_pages
from tongban.hotline import pages as hotline_pages
from tongban.hotline import tickets as hotline_tickets, tickets_api as hotline_tickets_api
from tongban.hotline import analysis_api as hotline_analysis_api, analysis_pages as hotline_analysis_pages
from tongban.items import api as items_api, pages as items_pages, service as items_service
from tongban.notifications import api as notifications_api, pages as notifications_pages, service as notifications_service
from tongban.org import api as org_api, pages as org_pages
from tongban.participation import api as participation_api, pages as participation_pages
from tongban.policies import api as policies_api, pages as policies_pages, service as policies_service
from tongban.registry import api as registry_api, importer as registry_importer, pages as registry_pages
from tongban.sharing import api as sharing_api, service as sharing_service, pages as sharing_pages
from tongban.supervision import api as supervision_api, service as supervision_service
from tongban.supervision import evaluation_api, pages as supervision_pages, ratings_api
from tongban.web import pages as web_pages
from tongban.workdays import api as workdays_api

REPO_ROOT = PACKAGE_ROOT.parent.parent
HTMX_DIST = REPO_ROOT / "node_modules" / "htmx.org" / "dist"
LEAFLET_DIST = REPO_ROOT / "node_modules" / "leaflet" / "dist"
SWAGGER_UI_DIST = Path(str(swagger_ui_bundle.swagger_ui_path))  # from PyPI: /docs loads nothing from a CDN


def _render_error_page(request: Request, problem: Problem):
    if problem.status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if problem.slug == "password-change-required":  # a reset password: change it first
        return RedirectResponse("/me/password", status_code=303)
    return render(request, "error.html", status_code=problem.status, status=problem.status, title=problem.title,
                  detail=problem.detail, principal=_signed_in(request) if problem.status < 500 else None)


def _signed_in(request: Request) -> Principal | None:
    """Who this browser's session belongs to, for the error page's menu: a signed-in person shown
    登录 would think the error signed them out. Never for a 5xx (the database may be the cause)."""
    if "session" not in request.scope or not request.session.get("subject"):
        return None
    try:
        with request.app.state.read_sessionmaker() as db:
            return authenticate(request, db)
    except Exception:  # an error page never fails on its menu
        return None


def register_bundles_for_search() -> None:
    """The bundles (一件事) of applications are found by the item search too."""
    from tongban.cases.bundles import BUNDLES
    from tongban.items.search import BundleDocument

    items_service.register_bundles([BundleDocument(code=bundle.code, name=bundle.name, summary=bundle.summary,
                                                   applicant_type=bundle.applicant_type, items=bundle.items)
                                    for bundle in BUNDLES.values()])


def _warm_search(sessions) -> None:
    try:
        items_service.warm_search(sessions)
    except Exception:  # the database is away: the first search builds the index
        logging.getLogger("tongban.items.search").exception("could not build the search index at start-up")
    disclosure_search.warm()  # no database needed: the dictionary and the pinyin table


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    audit.configure(settings.secret_key)
    register_bundles_for_search()
    engine = make_engine(settings)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # The outbox relay: committed events leave the database in order, at least once; each
        # published batch wakes the dispatcher, which pushes the new changes to subscriptions.
        relay = dispatcher = None
        if settings.relay_enabled:
            dispatcher = Dispatcher(app.state.sessionmaker, settings)
            dispatcher.start()
            relay = OutboxRelay(app.state.sessionmaker, make_transport(settings), on_published=dispatcher.notify)
            relay.start()
        app.state.relay, app.state.dispatcher = relay, dispatcher
        app.state.usage_log.start()
        # Imports a killed process left "running" are shown as interrupted (an upload resumes them).
        try:
            registry_importer.mark_interrupted(app.state.sessionmaker, settings.data_dir / "imports")
        except Exception:  # the database is away: the next upload looks again
            logging.getLogger("tongban.registry.importer").exception("could not look for interrupted imports")
        # Deadlines pass without anyone opening a page: overdue sharing requests are escalated.
        escalation = Periodic("sharing-escalation", settings.deadline_scan_seconds,
                              lambda: sharing_service.escalate_overdue_job(app.state.sessionmaker))
        reminders = Periodic("case-reminders", settings.deadline_scan_seconds,
                             lambda: cases_service.send_reminders_job(app.state.sessionmaker))
        warnings = Periodic("supervision-warnings", settings.deadline_scan_seconds,
                            lambda: supervision_service.scan_job(app.state.sessionmaker))
        # A request whose 补正 period passed without a correction counts as given up (条例第三十条).
        corrections = Periodic("disclosure-corrections", settings.deadline_scan_seconds,
                               lambda: disclosure_requests_service.expire_corrections_job(app.state.sessionmaker))
        # Text messages written with the steps they tell of leave after commit, at least once.
        texts = Periodic("text-messages", settings.text_send_seconds,
                         lambda: notifications_service.send_texts(app.state.sessionmaker, sms.sender_for(settings)))
        # 智能匹配: a subject whose registry record changed is matched again within seconds.
        rematch = Periodic("policy-rematch", settings.policy_rematch_seconds,
                           lambda: policies_service.follow_changes_job(app.state.sessionmaker))
        # Expired one-time codes, sessions, revoked tokens and quiet throttles are purged.
        housekeeping = Periodic("identity-housekeeping", settings.deadline_scan_seconds,
                                lambda: accounts_service.housekeeping_job(app.state.sessionmaker, settings))
        # The search index (tokenizer, pinyin tables, every published item) is built as the process
        # starts, so that the first citizen's search does not wait seconds for it: before serving
        # on a fresh start (`tongban serve`), beside serving in a worker started again after a crash
        # (requests already wait on its socket).
        if settings.env != Environment.TEST:
            if settings.warm_search_before_serving:
                await anyio.to_thread.run_sync(_warm_search, app.state.sessionmaker)  # the one searches use
            else:
                threading.Thread(target=_warm_search, args=(app.state.sessionmaker,), name="search-warm-up",
                                 daemon=True).start()
        if settings.relay_enabled:
            escalation.start()
            reminders.start()
            warnings.start()
            housekeeping.start()
            corrections.start()
            texts.start()
            rematch.start()
        yield
        rematch.stop()
        texts.stop()
        corrections.stop()
        # After the last request: the usage rows still queued are written before the process goes.
        app.state.usage_log.stop()
        housekeeping.stop()
        warnings.stop()
        reminders.stop()
        escalation.stop()
        if relay is not None:
            relay.stop()
        if dispatcher is not None:
            dispatcher.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="tongban 通办 API",
        version=tongban.__version__,
        description="一网通办平台接口。错误按 RFC 9457 以 application/problem+json 返回；每个接口标注所需权限 (x-permission)。",
        # FastAPI's own docs pages load their scripts from a CDN: /docs is served below from the
        # installed Swagger UI instead, and ReDoc (not packaged) is left out.
        docs_url=None, redoc_url=None,
        dependencies=[Depends(check_request)],  # the one input edge, before any route reads its input
    )
    app.state.settings = settings
    # Who a token or a session belongs to: core.auth asks accounts through the app, not by import.
    load_principal: PrincipalLoader = accounts_service.load_principal
    app.state.load_principal = load_principal
    # The header's bell on every page: core.templating asks notifications through the app too.
    app.state.unread_notifications = notifications_service.unread_count
    app.state.open311_other_categories = hotline_tickets.open311_categories  # the union Open311 lists
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.read_sessionmaker = make_sessionmaker(engine, reads_only=True)
    app.state.usage_log = UsageLog(app.state.sessionmaker)
    app.state.metrics = metrics

    # Server-side sessions: the cookie is an opaque id; signing out deletes the row (core.sessions).
    app.add_middleware(ServerSessionMiddleware, max_age_seconds=settings.session_max_age_minutes * 60,
                       https_only=settings.cookie_secure)
    app.add_middleware(BodySizeLimitMiddleware, limit=settings.max_request_kb * 1024, render_page=_render_error_page)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, internal_networks=settings.internal_networks,
                       docs_public=settings.docs_are_public, hsts=settings.cookie_secure)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)  # outermost: request id first
    install_error_handlers(app, render_page=_render_error_page)

    # Routes are matched in order (a router skips at once the paths outside its leading segments:
    # core.routing): the busiest first. The exchange, called by systems many times a second, then
    # applications and task queues; the exchange's subscriptions before its /{resource}/..., which
    # would match "subscriptions" too.
    for router in (subscriptions_api.router, exchange_api.router, cases_api.tasks, cases_api.applications,
                   accounts_api.router, org_api.router, audit_api.router, workdays_api.router, registry_api.router,
                   catalog_api.router, sharing_api.router, notifications_api.router, notifications_api.mine, items_api.router,
                   items_api.consultations, cases_api.processes, supervision_api.router, evaluation_api.router,
                   evaluation_api.public, ratings_api.router, cases_api.licences, disclosure_api.router,
                   disclosure_requests_api.router, disclosure_search_api.router, grid_api.router, grid_public_api.router,
                   hotline_api.router, hotline_tickets_api.router, hotline_tickets_api.mine, mailbox_api.router,
                   participation_api.router, policies_api.router):
        routing.include(app, router)
    routing.include(app, usage_api.router)
    routing.include(app, hotline_analysis_api.router)  # /api/v1/hotline/analysis
    routing.include(app, grid_open311.router)  # /open311/v2 (GeoReport v2) and its API keys
    routing.include(app, accounts_pages.router)
    routing.include(app, org_pages.router)
    routing.include(app, grid_manage_pages.router)
    routing.include(app, hotline_pages.router)
    routing.include(app, hotline_analysis_pages.router)
    routing.include(app, registry_pages.router)
    routing.include(app, catalog_pages.router)
    routing.include(app, sharing_pages.router)
    routing.include(app, exchange_pages.router)
    routing.include(app, items_pages.router)
    routing.include(app, cases_pages.router)
    routing.include(app, supervision_pages.router)
    routing.include(app, disclosure_requests_pages.router)
    routing.include(app, notifications_pages.router)
    routing.include(app, grid_pages.router)
    routing.include(app, grid_public_pages.router)
    routing.include(app, mailbox_pages.router)
    routing.include(app, disclosure_search_api.pages)
    routing.include(app, disclosure_pages.router)
    routing.include(app, disclosure_feeds.router)
    routing.include(app, participation_pages.router)
    routing.include(app, policies_pages.router)
    routing.include(app, web_pages.router)
    _operations(app)

    if HTMX_DIST.is_dir():  # from npm (package.json); pages still work without it
        app.mount("/static/vendor/htmx", StaticFiles(directory=str(HTMX_DIST)), name="htmx")
    if LEAFLET_DIST.is_dir():  # the grid's maps (package.json); the forms still work without it
        app.mount("/static/vendor/leaflet", StaticFiles(directory=str(LEAFLET_DIST)), name="leaflet")
    app.mount("/static/vendor/swagger-ui", StaticFiles(directory=str(SWAGGER_UI_DIST)), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=str(PACKAGE_ROOT / "web" / "static")), name="static")
    check_routes(app)
    check_bounded_ids(app)
    return app


def served_app() -> FastAPI:
    """The app as a server process runs it: built, then its start-up objects frozen out of the
    cycle collector's reach (``core.serving.settle_heap``)."""
    app = create_app()
    settle_heap()
    return app


class Health(BaseModel):
    """The process is alive (``/healthz``)."""
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether the process can serve: its database answers (``/readyz``)."""
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]


class DocsChoice(BaseModel):
    """One entry of the docs page's section chooser."""
    slug: str
    name: str
    url: str


def _api_sections(app: FastAPI) -> list[apidocs.Section]:
    """The API document's sections, cut once like the document itself."""
    if getattr(app.state, "api_sections", None) is None:
        app.state.api_sections = apidocs.sections(app.openapi())
    return app.state.api_sections


def _operations(app: FastAPI) -> None:
    @app.get("/healthz", tags=["运维 operations"], summary="进程存活", response_model=Health)
    def healthz(_: Annotated[Principal | None, require(Permission.PUBLIC)]):
        return Health()

    @app.get("/readyz", tags=["运维 operations"], summary="就绪（数据库可用）", response_model=Readiness,
             responses={503: {"description": "数据库不可用", "model": Readiness}})
    def readyz(request: Request, _: Annotated[Principal | None, require(Permission.PUBLIC)]):
        try:
            with request.app.state.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # any failure means not ready; the reason goes to the log, not the client
            import logging

            logging.getLogger("tongban.readyz").exception("database not reachable")
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return Readiness(status="ok", database="ok")

    # Internal networks only (core.headers): any other client is answered 404, as if it were not there.
    @app.get("/metrics", tags=["运维 operations"], summary="Prometheus 指标（仅内部网络）", response_class=PlainTextResponse,
             responses={404: {"description": "请求来自内部网络之外"}})
    def metrics(request: Request, _: Annotated[Principal | None, require(Permission.PUBLIC)]):
        return PlainTextResponse(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/docs", tags=["运维 operations"], summary="接口文档 (Swagger UI)", include_in_schema=False)
    def docs(request: Request, _: Annotated[Principal | None, require(Permission.PUBLIC)], section: str | None = None):
        choices = [DocsChoice(slug=part.slug, name=part.tag, url=f"/openapi/{part.slug}.json")
                   for part in _api_sections(request.app)]
        choices.append(DocsChoice(slug="all", name="全部接口（完整文档，打开较慢）", url="/openapi.json"))
        # An unknown section opens the first one rather than an error: the page is for reading.
        chosen = next((choice for choice in choices if choice.slug == section), choices[0])
        return templates.TemplateResponse(request, "api_docs.html", {"choices": choices, "chosen": chosen})

    @app.get("/openapi/{slug}.json", tags=["运维 operations"], summary="接口文档的一个分组", include_in_schema=False)
    def api_section(request: Request, slug: str, _: Annotated[Principal | None, require(Permission.PUBLIC)]):
        for section in _api_sections(request.app):
            if section.slug == slug:
                return JSONResponse(section.document)
        raise Problem("not-found", f"接口文档中没有分组 {slug}，分组见 /docs。")

    # Browsers and feed readers ask for /favicon.ico whatever the page names: the package's icon.
    @app.get("/favicon.ico", tags=["运维 operations"], summary="网站图标", include_in_schema=False)
    def favicon(_: Annotated[Principal | None, require(Permission.PUBLIC)]):
        return FileResponse(PACKAGE_ROOT / "web" / "static" / "favicon.ico", media_type="image/x-icon",
                            headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/problems/{slug}", tags=["运维 operations"], summary="错误类型说明", include_in_schema=False)
    def problem_type(request: Request, slug: str, _: Annotated[Principal | None, require(Permission.PUBLIC)]):
        status, title = PROBLEM_TYPES.get(slug, (404, "未知的错误类型"))
        return render(request, "error.html", status=status, title=title,
                      detail=f"错误类型 /problems/{slug}：HTTP {status}，{title}。")
