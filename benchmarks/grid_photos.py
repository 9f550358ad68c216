"""Grid photos: what making a photo's public copy costs (``grid.privacy.public_bytes``: decode,
find faces and plates, blur them, encode again), per 1600×1200 JPEG.

Two photos, made here: a textured street with a blue plate and a drawn face (both found and
blurred), and the same street with neither. Each is processed ``--runs`` times; p50 / p95 of the
wall time and of the process's CPU time, in ms, with OpenCV on ``--threads`` threads (1: the cost
on one core, what a server thread pays when the others are busy). The copy is made on the first
public read, never during the report, so this is what that first read waits for.

Prints one JSON line (the load average at start included).

    .venv/bin/python benchmarks/grid_photos.py [--runs 20] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import cv2
import numpy as np

from tongban.grid import privacy


def street(width: int = 1600, height: int = 1200) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 110 + 50 * (y / height) + 12 * np.sin(x / 7.0) * np.cos(y / 11.0) + 8 * np.sin((x + 2 * y) / 23.0)
    return np.stack([base * 0.85, base * 0.92, base * 0.95], axis=-1).clip(0, 255).astype(np.uint8)  # BGR


def with_plate_and_face(image: np.ndarray) -> np.ndarray:
    out = image.copy()
    cv2.rectangle(out, (300, 800), (600, 896), (200, 60, 20), -1)  # a blue plate, 440:140
    cv2.putText(out, "A 12345", (318, 872), cv2.FONT_HERSHEY_SIMPLEX, 2.2, (250, 250, 250), 6)
    face = np.zeros((520, 520), np.uint8)
    cv2.ellipse(face, (260, 260), (99, 130), 0, 0, 360, 200, -1)
    for side in (-1, 1):
        cv2.ellipse(face, (260 + side * 47, 229), (23, 16), 0, 0, 360, 30, -1)
        cv2.ellipse(face, (260 + side * 47, 202), (26, 7), 0, 0, 360, 60, -1)
    cv2.ellipse(face, (260, 286), (13, 21), 0, 0, 360, 160, -1)
    cv2.ellipse(face, (260, 328), (36, 10), 0, 0, 360, 80, -1)
    face = cv2.GaussianBlur(face, (5, 5), 0)
    region = out[140:660, 540:1060]
    inside = face > 0
    region[inside] = np.repeat(face[inside][:, None], 3, axis=1)
    return out


def measure(data: bytes, runs: int) -> dict:
    wall, cpu, found = [], [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        _, regions = privacy.public_bytes(data, "image/jpeg")
        wall.append((time.perf_counter() - w) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        found = sorted(r.kind for r in regions)

    def p(values: list[float], q: float) -> float:
        return round(statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0], 1)
    return {"found": found, "wall_ms_p50": p(wall, 50), "wall_ms_p95": p(wall, 95), "cpu_ms_p50": p(cpu, 50),
            "cpu_ms_p95": p(cpu, 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    cv2.setNumThreads(args.threads)
    background = street()
    photos = {"plate_and_face": with_plate_and_face(background), "nothing": background}
    result = {"benchmark": "grid_photos", "size": "1600x1200", "format": "JPEG q90", "threads": args.threads,
              "runs": args.runs, "load_average": round(load, 2)}
    for name, image in photos.items():
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        result[name] = measure(encoded.tobytes(), args.runs)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
