"""Photos shown outside the staff: faces and licence plates blurred, the metadata dropped.

A case photo is kept as it was taken (``service._store_photos``); staff handling the case see that
original, and each such read is logged (``original_read``). Anyone else — an Open311 client
following ``media_url``, a resident reading the trail of their own report in 「我的上报」 — is
served a derived *public copy* instead (``public_copy``): written once, next to the original, on
the first public read (so a report, a hundred a second, never waits for it), then served from disk.

The copy is the photo decoded (its EXIF orientation applied), every face and plate found made
unreadable (pixelated, then a strong Gaussian blur over the region and a margin around it), and
encoded again in the same format: no EXIF, so no GPS position, camera or time either.

What is found, with OpenCV's installed package only (nothing downloaded at run time):

- **faces**: the Haar cascades bundled with ``opencv-python-headless`` (``cv2.data.haarcascades``),
  frontal and profile, the profile one on the image and on its mirror (it knows one side only);
- **plates**: Chinese plates, the blue 蓝牌 (white characters on blue, 440×140 mm) and the green
  新能源 plate (black characters on a green gradient, 480×140 mm): a colour mask in HSV, closed
  over the characters, its contours kept when their shape is a plate's (a rectangle of aspect
  2–5, not tilted more than 30°, of a plausible size) and when a line across them crosses
  characters (at least ``MIN_CROSSINGS`` changes between the plate's colour and the characters').

Detection runs on the photo scaled to at most ``DETECT_SIDE`` pixels on its longest side; the
boxes found are scaled back and the blur applied to the full-size photo.
"""

from __future__ import annotations

import io
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from cv2.data import haarcascades
from PIL import Image, ImageOps
from sqlalchemy.orm import Session

from tongban.core import audit
from tongban.core.auth import Principal
from tongban.core.errors import Problem
from tongban.grid.models import CasePhoto, GridCase

# The public copy's name: the original's with this before the suffix. A change of the detector
# or of the blur changes the version, so copies made by an older one are made again.
PUBLIC_TAG = "public-v1"
DETECT_SIDE = 1024
FACE_CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")
MIN_FACE = 24  # pixels, at the detection scale
SCALE_STEP = 1.15  # between the cascades' scales: 1.1 finds a little more, in twice the time
FACE_MARGIN = 0.15
PLATE_MARGIN = 0.12
MIN_CROSSINGS = 8  # 7 or 8 characters: at least 4 of them crossed on one line
FACE_BLOCKS, PLATE_BLOCKS = 6, 3  # a region is pixelated to this many blocks across its shorter side

# HSV (OpenCV: H 0–179) ranges of the plates' backgrounds.
BLUE = (np.array([100, 90, 60], np.uint8), np.array([124, 255, 255], np.uint8))
GREEN = (np.array([35, 45, 90], np.uint8), np.array([85, 255, 255], np.uint8))

ENCODINGS = {"image/jpeg": (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 90]), "image/png": (".png", []),
             "image/webp": (".webp", [cv2.IMWRITE_WEBP_QUALITY, 90])}


@dataclass(frozen=True)
class Region:
    """A face or a plate found in a photo: its box in the photo's pixels."""

    kind: str  # face, plate
    x: int
    y: int
    w: int
    h: int


# ---- detection ----------------------------------------------------------------------------------

_local = threading.local()  # a CascadeClassifier is not to be shared between threads


def _cascades() -> list[cv2.CascadeClassifier]:
    found = getattr(_local, "cascades", None)
    if found is None:
        found = []
        for name in FACE_CASCADES:
            cascade = cv2.CascadeClassifier(os.path.join(haarcascades, name))
            if cascade.empty():
                raise RuntimeError(f"OpenCV's bundled cascade {name} is missing (opencv-python-headless < 5 ships them)")
            found.append(cascade)
        _local.cascades = found
    return found


def _find(cascade: cv2.CascadeClassifier, gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    found = cascade.detectMultiScale(gray, scaleFactor=SCALE_STEP, minNeighbors=5, minSize=(MIN_FACE, MIN_FACE))
    return [(int(x), int(y), int(w), int(h)) for x, y, w, h in found]


def detect_faces(gray: np.ndarray) -> list[Region]:
    """Faces, frontal and in profile (either side), in a grayscale image."""
    frontal, profile = _cascades()
    width = gray.shape[1]
    found = [Region("face", *box) for box in _find(frontal, gray) + _find(profile, gray)]
    found += [Region("face", width - x - w, y, w, h) for x, y, w, h in _find(profile, cv2.flip(gray, 1))]
    return found


def _crossings(inside: np.ndarray) -> int:
    """The most changes between background and characters along a few lines across a plate
    (``inside``: True where a pixel is the plate's background colour)."""
    height = inside.shape[0]
    best = 0
    for fraction in (0.4, 0.5, 0.6):
        row = inside[min(height - 1, int(height * fraction))].astype(np.int8)
        best = max(best, int(np.count_nonzero(np.diff(row))))
    return best


def detect_plates(bgr: np.ndarray) -> list[Region]:
    """Blue and green Chinese licence plates in a colour image."""
    height, width = bgr.shape[:2]
    area = height * width
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, width // 80), max(3, height // 160)))
    found = []
    for low, high in (BLUE, GREEN):
        colour = cv2.inRange(hsv, low, high)
        closed = cv2.morphologyEx(colour, cv2.MORPH_CLOSE, kernel)
        contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            (_, _), (rw, rh), angle = cv2.minAreaRect(contour)
            long_side, short_side = max(rw, rh), min(rw, rh)
            if short_side < 8 or not 2.0 <= long_side / short_side <= 5.0:
                continue
            if not max(400, area * 0.0002) <= long_side * short_side <= area * 0.2:
                continue
            along = (angle if rw >= rh else angle + 90) % 180  # the long side's angle to the horizontal
            if min(along, 180 - along) > 30:
                continue
            if cv2.contourArea(contour) < 0.5 * long_side * short_side:
                continue
            x, y, w, h = cv2.boundingRect(contour)
            if w < h * 1.5:  # standing up: not a plate read from the street
                continue
            if _crossings(colour[y:y + h, x:x + w] > 0) < MIN_CROSSINGS:
                continue
            found.append(Region("plate", int(x), int(y), int(w), int(h)))
    return found


def detect(image: np.ndarray) -> list[Region]:
    """Faces and plates in a BGR image, in its pixels (found on a copy scaled to ``DETECT_SIDE``)."""
    height, width = image.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else image
    regions = detect_faces(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)) + detect_plates(small)
    if scale == 1:
        return regions
    return [Region(r.kind, int(r.x / scale), int(r.y / scale), int(np.ceil(r.w / scale)), int(np.ceil(r.h / scale)))
            for r in regions]


# ---- blur ---------------------------------------------------------------------------------------


def blur(image: np.ndarray, regions: list[Region]) -> np.ndarray:
    """The image with each region (and a margin around it) pixelated and blurred beyond reading."""
    out = image.copy()
    height, width = image.shape[:2]
    for r in regions:
        margin = FACE_MARGIN if r.kind == "face" else PLATE_MARGIN
        dx, dy = int(r.w * margin), int(r.h * margin)
        x0, y0, x1, y1 = max(0, r.x - dx), max(0, r.y - dy), min(width, r.x + r.w + dx), min(height, r.y + r.h + dy)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        patch = out[y0:y1, x0:x1]
        w, h = x1 - x0, y1 - y0
        # a plate's characters fill most of its height: blocks of a third of it leave no stroke
        block = max(2, min(w, h) // (PLATE_BLOCKS if r.kind == "plate" else FACE_BLOCKS))
        tiny = cv2.resize(patch, (max(1, w // block), max(1, h // block)), interpolation=cv2.INTER_AREA)
        # the blocks blurred at a quarter of the size, then scaled up: the same look, a sixteenth of the work
        quarter = (max(1, w // 4), max(1, h // 4))
        coarse = cv2.resize(tiny, quarter, interpolation=cv2.INTER_NEAREST)
        k = max(3, (min(quarter) // 2) | 1)
        out[y0:y1, x0:x1] = cv2.resize(cv2.GaussianBlur(coarse, (k, k), 0), (w, h), interpolation=cv2.INTER_LINEAR)
    return out


def decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)  # EXIF orientation applied
    if image is not None:
        return image
    with Image.open(io.BytesIO(data)) as opened:
        rgb = ImageOps.exif_transpose(opened).convert("RGB")
    return cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)


def _encode(image: np.ndarray, media_type: str) -> bytes:
    suffix, params = ENCODINGS.get(media_type, ENCODINGS["image/jpeg"])
    ok, encoded = cv2.imencode(suffix, image, params)
    if not ok:
        raise Problem("internal-error", "照片处理失败")
    return encoded.tobytes()


def public_bytes(data: bytes, media_type: str) -> tuple[bytes, list[Region]]:
    """The public version of a photo's bytes (same format, no metadata) and what was blurred."""
    image = decode(data)
    regions = detect(image)
    return _encode(blur(image, regions), media_type), regions


# ---- the copies on disk ---------------------------------------------------------------------------


def public_path(photo: CasePhoto) -> Path:
    original = Path(photo.path)
    return original.with_name(f"{original.stem}.{PUBLIC_TAG}{original.suffix}")


def public_copy(photo: CasePhoto) -> Path:
    """The photo's public copy, made on its first public read and kept beside the original (two
    readers at once both make it; the later rename wins, with the same content)."""
    target = public_path(photo)
    if target.exists():
        return target
    try:
        data = Path(photo.path).read_bytes()
    except OSError:
        raise Problem("not-found", "没有这张照片") from None
    public, _ = public_bytes(data, photo.media_type)
    partial = target.with_name(f"{target.name}.{uuid.uuid4().hex}.part")
    partial.write_bytes(public)
    os.replace(partial, target)
    return target


def original_read(db: Session, principal: Principal, case: GridCase, photo: CasePhoto) -> Path:
    """The original, for the staff handling the case: a read of personal data (faces, plates), so
    it is logged (in the caller's transaction: the route commits)."""
    audit.record(db, actor=principal, action="grid.case.read_photo", object_type="grid_case", object_id=case.number,
                 purpose="办理城市管理案件", details={"photo": photo.id, "stage": photo.stage})
    return Path(photo.path)
