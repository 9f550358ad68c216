"""Faces and licence plates blurred in every case photo shown outside the staff (``grid.privacy``):
the detectors on photos made here (a blue and a green Chinese plate drawn with Pillow, a cartoon
face the bundled cascade finds — ``photo_scenes``), the blur (the regions' detail gone, every other
pixel as it was), the metadata dropped; then, through the app on both engines, 「我的上报」 and
Open311's ``media_url`` serving the blurred public copy (made on the first public read, kept beside
the original), and the staff reading the original, each read logged."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from tongban import demo
from tongban.core.audit import AuditEvent
from tongban.grid import privacy
from tongban.grid.models import CasePhoto

from .conftest import category_code
from .photo_scenes import encoded, face, outside, pixels, plate, sharpness, street

ME = "/api/v1/me/grid-reports"
CITIZEN, CENTRE = demo.CITIZEN.username, "grid.centre"
PLATE_LEFT, FACE_LEFT = 0.001, 0.02  # the most of a region's sharpness the public copy may keep


def regions_over(regions: list[privacy.Region], box, kind: str) -> list[privacy.Region]:
    """The regions of ``kind`` that cover most of ``box``."""
    x, y, w, h = box
    return [r for r in regions if r.kind == kind
            and max(0, min(r.x + r.w, x + w) - max(r.x, x)) * max(0, min(r.y + r.h, y + h) - max(r.y, y)) >= 0.8 * w * h]


def test_plates_blue_and_green_and_a_face_are_found_and_blurred_and_nothing_else_changes():
    scene = street()
    blue, green = plate(scene, 300, 800, 300), plate(scene, 1000, 850, 330, green=True)
    person = face(scene, 800, 400, 260)
    original = encoded(scene)

    public, regions = privacy.public_bytes(original, "image/png")

    assert len(regions_over(regions, blue, "plate")) == 1 and len(regions_over(regions, green, "plate")) == 1
    assert regions_over(regions, person, "face")
    before, after = pixels(original), pixels(public)
    # the detail is gone: a plate's characters (a weaker blur that left them legible kept 0.14 %
    # of their sharpness; this one keeps 0.03 %), a face's eyes, brows and mouth
    for box in (blue, green):
        assert sharpness(after, box) < PLATE_LEFT * sharpness(before, box), box
    assert sharpness(after, person) < FACE_LEFT * sharpness(before, person)
    away = outside(before, [blue, green, person])
    assert np.array_equal(before[away], after[away])  # PNG: every other pixel exactly as it was
    assert privacy.detect(privacy.decode(public)) == []  # nothing left to find: no face, no plate read
    assert Image.open(io.BytesIO(public)).format == "PNG"


def test_a_street_with_no_face_or_plate_is_left_alone():
    scene = street(1200, 900)
    # a blue shop sign without characters, a tall blue post: a plate's colour, not its shape or content
    draw = ImageDraw.Draw(scene)
    draw.rectangle([100, 100, 700, 300], fill=(20, 60, 200))
    draw.rectangle([900, 200, 960, 800], fill=(20, 60, 200))
    original = encoded(scene)
    public, regions = privacy.public_bytes(original, "image/png")
    assert regions == []
    assert np.array_equal(pixels(original), pixels(public))


def test_a_jpeg_keeps_its_format_loses_its_metadata_and_is_blurred_in_reasonable_time():
    scene = street()
    blue = plate(scene, 600, 700, 280)
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 30.0, 0.0)}  # GPS
    original = encoded(scene, "JPEG", quality=90, exif=exif)
    assert Image.open(io.BytesIO(original)).getexif()

    started = time.perf_counter()
    public, regions = privacy.public_bytes(original, "image/jpeg")
    spent = time.perf_counter() - started

    assert public[:2] == b"\xff\xd8" and regions_over(regions, blue, "plate")
    with Image.open(io.BytesIO(public)) as opened:
        assert not opened.getexif() and opened.size == (1600, 1200)
    before, after = pixels(original), pixels(public)
    assert sharpness(after, blue) < PLATE_LEFT * sharpness(before, blue)
    assert privacy.detect(privacy.decode(public)) == []
    away = outside(before, [blue])
    assert float(np.abs(before[away] - after[away]).mean()) < 2.0  # JPEG encoded again: the same picture
    assert spent < 5.0, spent  # about 0.15 s on one core; a loose bound for a shared machine


def report_with(client, headers, cell_point, photo: bytes, media_type: str = "image/png", offset: int = 0) -> dict:
    code = category_code(client, "event", "暴露垃圾")
    _, lon, lat = cell_point("310115004", offset=offset)
    created = client.post(ME, headers=headers, data={"kind": "event", "code": code, "lon": str(lon), "lat": str(lat),
                                                     "description": "路边停车占用人行道，旁边垃圾堆积"},
                          files=[("photos", ("street.png", photo, media_type))])
    assert created.status_code == 201, created.text
    return created.json()


def test_outside_the_staff_the_blurred_copy_is_served_and_the_staff_read_the_original_logged(client, as_role, cell_point, db):
    citizen, centre = as_role(CITIZEN), as_role(CENTRE)
    scene = street(1200, 900)
    blue, person = plate(scene, 200, 600, 260), face(scene, 800, 350, 240)
    original = encoded(scene)

    mine = report_with(client, citizen, cell_point, original)
    number, [shown] = mine["number"], mine["photos"]
    stored = db.scalar(select(CasePhoto).where(CasePhoto.id == shown["id"]))
    kept, copy = Path(stored.path), privacy.public_path(stored)
    db.rollback()
    assert kept.read_bytes() == original  # the original is kept as taken
    assert not copy.exists()  # the report did not wait for the blur: made on the first public read

    # the reporter, in 「我的上报」: the public copy
    served = client.get(shown["url"], headers=citizen)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert copy.exists() and served.content == copy.read_bytes() and served.content != original
    before, after = pixels(original), pixels(served.content)
    assert sharpness(after, blue) < PLATE_LEFT * sharpness(before, blue)
    assert sharpness(after, person) < FACE_LEFT * sharpness(before, person)
    away = outside(before, [blue, person])
    assert np.array_equal(before[away], after[away])
    page = client.get(f"/grid/public-reports/{number}", headers=citizen)
    assert page.status_code == 200 and "人脸和车牌已做模糊处理" in page.text

    # an Open311 client following media_url: the same public copy
    [request] = client.get(f"/open311/v2/requests/{number}.json").json()
    assert request["media_url"].endswith(f"/open311/v2/media/{number}/{shown['id']}")
    media = client.get(request["media_url"].removeprefix("http://testserver"))
    assert media.status_code == 200 and media.content == served.content

    # the staff handling it: the original, and the read is in the audit log
    staff = client.get(f"/api/v1/grid/cases/{number}", headers=centre).json()
    [staff_photo] = staff["photos"]
    original_read = client.get(staff_photo["url"], headers=centre)
    assert original_read.status_code == 200 and original_read.content == original
    logged = db.scalars(select(AuditEvent).where(AuditEvent.action == "grid.case.read_photo",
                                                 AuditEvent.object_id == number)).all()
    assert len(logged) == 1 and logged[0].purpose == "办理城市管理案件"
    db.rollback()
    # a resident never reaches the staff's route
    assert client.get(staff_photo["url"], headers=citizen).status_code in (403, 404)


def test_the_public_copy_is_made_once_and_again_by_a_new_detector(client, as_role, cell_point, db, monkeypatch):
    citizen = as_role(CITIZEN)
    scene = street(800, 600)
    plate(scene, 100, 300, 200)
    mine = report_with(client, citizen, cell_point, encoded(scene), offset=2)
    url = mine["photos"][0]["url"]
    made = []
    real = privacy.public_bytes
    monkeypatch.setattr(privacy, "public_bytes", lambda *args: made.append(args[1]) or real(*args))
    first = client.get(url, headers=citizen).content
    assert client.get(url, headers=citizen).content == first and made == ["image/png"]  # the second from disk
    stored = db.scalar(select(CasePhoto).where(CasePhoto.id == mine["photos"][0]["id"]))
    photo = CasePhoto(path=stored.path, media_type=stored.media_type)  # detached: no transaction held open
    db.rollback()
    assert privacy.public_path(photo).name.endswith(".public-v1.png")
    monkeypatch.setattr(privacy, "PUBLIC_TAG", "public-v2")  # a changed detector names its copies anew
    assert client.get(url, headers=citizen).content == first and len(made) == 2
    assert privacy.public_path(photo).name.endswith(".public-v2.png") and privacy.public_path(photo).exists()
    assert not list(Path(photo.path).parent.glob("*.part"))  # no half-written copy left


@pytest.mark.parametrize("side", [8, 3000])
def test_tiny_and_large_photos(side):
    scene = street(side, max(2, side * 3 // 4))
    public, regions = privacy.public_bytes(encoded(scene, "WEBP", quality=90), "image/webp")
    assert regions == [] and Image.open(io.BytesIO(public)).format == "WEBP"


@pytest.mark.browser
def test_on_a_phone_the_resident_sees_the_blurred_photo_and_is_told_when_it_closes(browser, live_server):
    import httpx
    from browser_fixtures import ARTIFACTS, screenshot, signed_in
    from helpers import bearer
    from shapely.geometry import shape

    with httpx.Client(base_url=live_server, timeout=60) as api:
        cells = api.get("/api/v1/grid/cells.geojson", params={"bbox": "121.505,31.228,121.515,31.234"},
                        headers=bearer(api, "grid")).json()["features"]
        point = shape(max(cells, key=lambda f: f["properties"]["area_m2"])["geometry"]).representative_point()
        code = next(c["code"] for c in api.get("/api/v1/grid/categories", params={"kind": "event"}).json() if c["name"] == "暴露垃圾")
        scene = street(1200, 900)
        plate(scene, 420, 560, 300)
        face(scene, 900, 330, 260)
        created = api.post(ME, headers=bearer(api, CITIZEN), data={
            "kind": "event", "code": code, "lon": f"{point.x:.6f}", "lat": f"{point.y:.6f}",
            "description": "车辆长期占用人行道，旁边垃圾堆积"}, files=[("photos", ("街景.jpg", encoded(scene, "JPEG", quality=90), "image/jpeg"))])
        assert created.status_code == 201, created.text
        number = created.json()["number"]

    (ARTIFACTS / "grid").mkdir(parents=True, exist_ok=True)
    context, phone = signed_in(browser, live_server, CITIZEN, width=390)
    phone.goto(f"{live_server}/grid/public-reports/{number}")
    phone.wait_for_function("() => { const img = document.querySelector('img.wg-thumb');"
                            " return img && img.complete && img.naturalWidth > 0; }", timeout=30000)
    assert "人脸和车牌已做模糊处理" in phone.locator("#photos-note").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "grid/40-my-report-photo-blurred")
    served = phone.request.get(live_server + phone.locator("img.wg-thumb").get_attribute("src"))
    assert served.ok
    after, before = pixels(served.body()), pixels(encoded(scene, "JPEG", quality=90))
    assert sharpness(after, (420, 560, 300, 96)) < PLATE_LEFT * sharpness(before, (420, 560, 300, 96))
    assert privacy.detect(privacy.decode(served.body())) == []

    with httpx.Client(base_url=live_server, timeout=60) as api:
        centre = bearer(api, CENTRE)
        api.post(f"/api/v1/grid/cases/{number}/reject", headers=centre,
                 json={"reason": "经核实车辆已驶离，垃圾属物业管理区域，已转物业处理"}).raise_for_status()
    phone.goto(f"{live_server}/notifications")
    notice = phone.locator("li.notice", has_text=number).first
    notice.wait_for()
    assert "您的上报不予立案" in notice.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "grid/41-resident-told-not-registered")
    phone.locator(f"a[href='/grid/public-reports/{number}']").first.click()
    phone.wait_for_url(f"{live_server}/grid/public-reports/{number}")
    assert "已转物业处理" in phone.locator("#report-reply").inner_text()
    screenshot(phone, "grid/42-resident-reads-the-reason")
    context.close()
