"""Atom 1.0 feeds of newly published documents, per department and per 主题: valid Atom (RFC 4287:
the feed's and every entry's id, title, updated; links), published documents only."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree

from helpers import assert_problem

ATOM = "{http://www.w3.org/2005/Atom}"


def _parse(response) -> ElementTree.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ElementTree.fromstring(response.content)


def _valid_atom(feed: ElementTree.Element, self_path: str) -> list[ElementTree.Element]:
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{tag}")) == 1, tag
    datetime.fromisoformat(feed.findtext(f"{ATOM}updated"))  # RFC 3339, with its offset
    assert feed.findtext(f"{ATOM}updated").endswith("+00:00")
    self_link = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert len(self_link) == 1 and self_link[0].get("href").endswith(self_path)
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None  # entries may then leave out their own
    entries = feed.findall(f"{ATOM}entry")
    ids = [entry.findtext(f"{ATOM}id") for entry in entries]
    assert len(set(ids)) == len(ids)
    for entry in entries:
        for tag in ("id", "title", "updated"):
            assert entry.findtext(f"{ATOM}{tag}"), tag
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated"))
        link = entry.find(f"{ATOM}link")
        assert link is not None and link.get("rel") == "alternate" and "/disclosure/documents/" in link.get("href")
        assert "索引号：" in entry.findtext(f"{ATOM}summary")
    updated = [entry.findtext(f"{ATOM}updated") for entry in entries]
    assert updated == sorted(updated, reverse=True)  # newest first
    return entries


def test_department_feed_is_atom_of_its_published_documents(client):
    entries = _valid_atom(_parse(client.get("/disclosure/feeds/department/PD-CZ.atom")),
                          "/disclosure/feeds/department/PD-CZ.atom")
    assert 0 < len(entries) <= 50
    assert {e.findtext(f"{ATOM}author/{ATOM}name") for e in entries} == {"浦东新区财政局"}
    # Every entry is a published document anyone can open.
    for entry in entries[:5]:
        path = entry.find(f"{ATOM}link").get("href").split("testserver", 1)[1]
        assert client.get(path).status_code == 200


def test_theme_feed_is_atom_too(client):
    entries = _valid_atom(_parse(client.get("/disclosure/feeds/theme/housing.atom")), "/disclosure/feeds/theme/housing.atom")
    assert entries and all(e.find(f"{ATOM}category").get("term") == "housing" for e in entries)
    assert {e.find(f"{ATOM}category").get("label") for e in entries} == {"住房保障"}


def test_a_feed_without_documents_is_still_valid(client):
    _valid_atom(_parse(client.get("/disclosure/feeds/department/PD-LJZ-MS.atom")), "/disclosure/feeds/department/PD-LJZ-MS.atom")


def test_unknown_feeds_are_not_found(client):
    assert_problem(client.get("/disclosure/feeds/theme/weather.atom", headers={"Accept": "application/json"}), 404, "not-found")
    assert client.get("/disclosure/feeds/department/NOPE.atom").status_code == 404
