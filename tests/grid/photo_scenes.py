"""Street photos made in the test, deterministically: a smooth, textured background (a wall, a
road), with a Chinese licence plate drawn with Pillow (a blue 蓝牌 with white characters, or a green
新能源 plate with black ones, 440×140 and 480×140 mm) and a face drawn as a cartoon — plain shapes
in the places OpenCV's bundled frontal-face cascade looks for a face (dark eyes and brows over
lighter cheeks, a nose, a mouth, in an oval): no third-party photo is copied."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Box = tuple[int, int, int, int]  # x, y, w, h


def street(width: int = 1600, height: int = 1200) -> Image.Image:
    """A background with texture (so a blur would show) that holds neither a face nor a plate."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 110 + 50 * (y / height) + 12 * np.sin(x / 7.0) * np.cos(y / 11.0) + 8 * np.sin((x + 2 * y) / 23.0)
    rgb = np.stack([base * 0.95, base * 0.92, base * 0.85], axis=-1).clip(0, 255).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


def plate(image: Image.Image, x: int, y: int, width: int, *, green: bool = False) -> Box:
    """A plate with 7 characters (8 on a green one) at (x, y), ``width`` pixels wide."""
    height = round(width / (480 / 140 if green else 440 / 140))
    draw = ImageDraw.Draw(image)
    if green:  # the new-energy plate's gradient, light green to whitish green
        for row in range(height):
            shade = row / max(1, height - 1)
            draw.line([(x, y + row), (x + width, y + row)], fill=(int(60 + 120 * shade), int(190 + 40 * shade), int(90 + 90 * shade)))
        ink, text = (10, 10, 10), "A D12345"
    else:
        draw.rectangle([x, y, x + width, y + height], fill=(20, 60, 200))
        ink, text = (250, 250, 250), "A 12345"
    draw.rectangle([x + 3, y + 3, x + width - 3, y + height - 3], outline=ink, width=2)
    font = ImageFont.load_default(size=int(height * 0.68))
    draw.text((x + int(width * 0.06), y + int(height * 0.12)), text, fill=ink, font=font)
    return x, y, width + 1, height + 1


def face(image: Image.Image, cx: int, cy: int, size: int) -> Box:
    """A cartoon face centred at (cx, cy), ``size`` pixels tall (drawn, then softened as a camera would)."""
    layer = Image.new("L", (size * 2, size * 2), 0)
    mask = Image.new("L", (size * 2, size * 2), 0)
    draw, edge = ImageDraw.Draw(layer), ImageDraw.Draw(mask)
    c = size
    oval = [c - int(size * 0.38), c - size // 2, c + int(size * 0.38), c + size // 2]
    draw.ellipse(oval, fill=200)
    edge.ellipse(oval, fill=255)
    eye_y = c - size // 2 + int(size * 0.38)
    for side in (-1, 1):
        ex = c + side * int(size * 0.18)
        draw.ellipse([ex - int(size * 0.09), eye_y - int(size * 0.06), ex + int(size * 0.09), eye_y + int(size * 0.06)], fill=30)
        draw.ellipse([ex - int(size * 0.10), eye_y - int(size * 0.13), ex + int(size * 0.10), eye_y - int(size * 0.08)], fill=60)
    draw.ellipse([c - int(size * 0.05), c + int(size * 0.02), c + int(size * 0.05), c + int(size * 0.18)], fill=160)
    draw.ellipse([c - int(size * 0.14), c + int(size * 0.22), c + int(size * 0.14), c + int(size * 0.30)], fill=80)
    layer = layer.filter(ImageFilter.GaussianBlur(2))
    tone = Image.merge("RGB", [layer.point(lambda v: min(255, int(v * 1.05))), layer, layer.point(lambda v: int(v * 0.9))])
    image.paste(tone, (cx - c, cy - c), mask)
    return cx - int(size * 0.38), cy - size // 2, int(size * 0.76) + 1, size + 1


def encoded(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as opened:
        return np.asarray(opened.convert("RGB")).astype(np.float32)


def sharpness(array: np.ndarray, box: Box) -> float:
    """The variance of the differences between neighbouring pixels inside ``box``: high where
    there is detail (characters, eyes), near nothing where it is blurred."""
    x, y, w, h = box
    patch = array[y:y + h, x:x + w].mean(axis=-1)
    return float(np.var(np.diff(patch, axis=1)) + np.var(np.diff(patch, axis=0)))


def outside(array: np.ndarray, boxes: list[Box], margin: float = 0.5) -> np.ndarray:
    """A mask of the pixels away from every box (by ``margin`` of its size)."""
    keep = np.ones(array.shape[:2], bool)
    for x, y, w, h in boxes:
        dx, dy = int(w * margin), int(h * margin)
        keep[max(0, y - dy):y + h + dy, max(0, x - dx):x + w + dx] = False
    return keep

