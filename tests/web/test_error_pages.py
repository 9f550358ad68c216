"""Error pages tell a person what to do next in Chinese; a parameter check's program names
(query.start) are folded under 技术信息, not the message. Pages name their icon (no /favicon.ico 404)."""

from __future__ import annotations


def test_a_page_missing_its_parameters_says_how_to_fix_it(client):
    page = client.get("/deadline", headers={"Accept": "text/html"})
    assert page.status_code == 422
    message = page.text.split("<h1>", 1)[1].split("<details>", 1)[0]
    assert "请返回上一页" in message and "query." not in message
    assert "技术信息" in page.text  # the fields are still there for whoever investigates


def test_a_missing_page_says_where_to_go(client):
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "请检查网址是否正确" in page.text


def test_pages_name_their_icon_so_browsers_do_not_ask_for_a_missing_favicon(client):
    page = client.get("/")
    assert '<link rel="icon" href="/static/favicon.svg"' in page.text
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
