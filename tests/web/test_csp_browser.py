"""The Content-Security-Policy in a real browser: the main pages run under it without a single
violation (no inline script or style, nothing from elsewhere), htmx and the API docs included."""

from __future__ import annotations

import pytest

from tongban import demo

pytestmark = pytest.mark.browser

FOOD = "000121010000"  # 食品经营许可: an item with situations

# Playwright's init scripts are exempt from the page's CSP: this one only records what the policy refused.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


class Watch:
    """A signed-out or signed-in browser page that remembers every CSP violation and console error."""

    def __init__(self, browser, base: str, width: int = 1280) -> None:
        self.base = base
        self.context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        # A missing resource is reported by its address (the console only says "404"); the browser's own
        # favicon request is not a page's doing.
        self.page.on("console", lambda message: message.type == "error" and "Failed to load resource" not in message.text
                     and self.errors.append(message.text))
        self.page.on("response", lambda response: response.status >= 400 and not response.url.endswith("/favicon.ico")
                     and self.errors.append(f"{response.status} {response.url}"))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def visit(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status < 400, (path, response and response.status)
        assert "default-src 'self'" in response.headers.get("content-security-policy", ""), path
        self.check(path)

    def check(self, where: str) -> None:
        self.page.wait_for_load_state("load")
        violations = self.page.evaluate("window.__violations")
        csp_errors = [e for e in self.errors if "Content Security Policy" in e or "Refused to" in e]
        assert not violations and not csp_errors, (where, violations, csp_errors)
        assert not self.errors, (where, self.errors)

    def sign_in(self, username: str, landing: str) -> None:
        self.visit("/login")
        self.page.get_by_label("用户名 / 身份证号 / 统一社会信用代码").fill(username)
        self.page.get_by_label("密码").fill(demo.DEMO_PASSWORD)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_url(lambda url: url.startswith(self.base + landing) and "/login" not in url)
        self.check(f"signed in as {username}")


def test_the_main_pages_run_under_the_csp(browser, live_server):
    visitor = Watch(browser, live_server, width=390)  # and on a phone
    for path in ("/", "/services", f"/services/{FOOD}", f"/services/{FOOD}/guide", "/apply", "/evaluations"):
        visitor.visit(path)
    # htmx at work: the portal's deadline calculator swaps in its answer.
    visitor.visit("/")
    visitor.page.get_by_label("起算日期（受理日）").fill("2025-09-30")
    visitor.page.get_by_label("期限（工作日）").fill("3")
    visitor.page.get_by_role("button", name="计算截止日期").click()
    assert visitor.page.locator(".due").inner_text() == "2025-10-11"
    visitor.check("deadline calculator")
    visitor.context.close()

    clerk = Watch(browser, live_server)
    clerk.sign_in("clerk", "/staff")
    for path in ("/staff", "/staff/registry", f"/staff/registry/persons/{demo.CITIZEN.username}?purpose=核对",
                 "/staff/calendar", "/staff/window", "/catalog"):
        clerk.visit(path)
    clerk.context.close()

    citizen = Watch(browser, live_server)
    citizen.sign_in(demo.CITIZEN.username, "/")
    citizen.visit("/applications")
    citizen.visit("/apply/enterprise-setup")
    first = citizen.page.locator("main a[href^='/applications/BJ-']").first
    if first.count():  # an application of the citizen's, when the demo month gave one
        first.click()
        citizen.check("an application")
    citizen.context.close()


def test_the_api_docs_run_under_the_csp(browser, live_server):
    reader = Watch(browser, live_server)
    reader.visit("/docs")
    reader.page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)  # the operations are listed
    reader.check("/docs")
    # Another section, chosen from the list: its operations replace the first's, and the address keeps it.
    reader.page.get_by_label("接口分组").select_option(label="城市网格化管理 grid")
    reader.page.wait_for_selector(".swagger-ui .opblock-summary-path:has-text('/api/v1/grid/categories')", timeout=20_000)
    assert reader.page.url.endswith("/docs?section=grid")
    assert not reader.page.locator(".swagger-ui .opblock-summary-path:has-text('/api/v1/accounts')").count()
    reader.check("/docs?section=grid")
    reader.context.close()
