"""A real server process and Debian's Chromium driven by Playwright: the browser tests' fixtures,
registered once by the root conftest (a session fixture defined twice would start a second
Playwright in the same worker, which Playwright refuses), and their helpers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from kept import kept


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(database) -> str:
    """``tongban serve`` in its own process, on the test database (one per engine, kept to the end)."""
    return kept("server", database.engine_name, lambda: start_server(database))


def start_server(database):
    """``tongban serve`` on ``database`` in a process of its own: (its address, how to stop it)."""
    port = _free_port()
    env = {**os.environ, "TONGBAN_DATABASE_URL": database.settings.database_url, "TONGBAN_ARGON2_PROFILE": "CHEAPEST",
           "TONGBAN_LOG_LEVEL": "WARNING",
           # The file SMS sender writes under the data directory: tests read one-time codes there.
           "TONGBAN_DATA_DIR": str(database.settings.data_dir)}
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"server-{database.engine_name}.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "tongban.cli", "serve", "--port", str(port)], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("tongban serve did not become ready in 30 s")

    def stop() -> None:
        process.terminate()
        process.wait(timeout=10)
        log.close()
    return base, stop


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium) or `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, base: str, username: str, password: str | None = None, *, landing: str | None = None) -> None:
    """Sign in through the login page, as a person does: the one way every browser test signs in.
    Waits for ``landing`` (a path) when given, else for the page the sign-in led to to load."""
    from tongban import demo

    page.goto(f"{base}/login")
    page.get_by_label("用户名 / 身份证号 / 统一社会信用代码").fill(username)
    page.get_by_label("密码").fill(password or demo.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    if landing is not None:
        page.wait_for_url(f"{base}{landing}")
    else:
        page.wait_for_load_state()


def signed_in(browser, base: str, username: str, width: int = 1280, **context_options):
    """A new browser context (its own cookies) signed in as ``username``: (context, page)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900}, **context_options)
    page = context.new_page()
    sign_in(page, base, username)
    return context, page


def watch_errors(page, errors: list[str]) -> None:
    """What goes wrong in the page goes to ``errors``: a refusal by the CSP (an inline style or
    script), a script's exception, a resource (a script, a style, an image, the map's data) not
    served; a refused form's page is the test's to check."""
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.request.resource_type != "document"
            and not response.url.endswith("/favicon.ico") else None)
