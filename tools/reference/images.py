"""Deterministic synthetic test images (numpy + PIL only).

Each image mixes smooth gradients, hard-edged shapes, a few periodic gratings and one
rectangle of noise, so that its spectrum has energy at low, mid and high frequencies while the
PNG stays small. File names are <kind>_<WIDTH>x<HEIGHT>.png.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class ImageSpec:
    file: str
    width: int
    height: int
    mode: str        # PIL mode written to disk: "RGB", "RGBA" or "L"
    seed: int


SPECS: List[ImageSpec] = [
    ImageSpec("rgb_512x512.png", 512, 512, "RGB", 11),
    ImageSpec("rgb_700x500.png", 700, 500, "RGB", 12),
    ImageSpec("rgb_400x300.png", 400, 300, "RGB", 13),
    ImageSpec("small_180x150.png", 180, 150, "RGB", 14),
    ImageSpec("wide_500x100.png", 500, 100, "RGB", 15),
    ImageSpec("odd_449x300.png", 449, 300, "RGB", 16),
    ImageSpec("rgba_300x260.png", 300, 260, "RGBA", 17),
    ImageSpec("gray_450x230.png", 450, 230, "L", 18),
    ImageSpec("rgb_896x672.png", 896, 672, "RGB", 19),
    # extra: odd horizontal padding (109 -> 54 left, 55 right) and a .5 centre offset
    # on the vertical axis (301 - 224 = 77 -> round(38.5) = 38)
    ImageSpec("tall_115x301.png", 115, 301, "RGB", 20),
]


def _canvas(w: int, h: int, rng: np.random.RandomState) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    a = rng.uniform(0, 2 * np.pi, size=3)
    img = np.empty((h, w, 3), dtype=np.float64)
    for c in range(3):
        d = (np.cos(a[c]) * x + np.sin(a[c]) * y) / max(w, h)
        img[..., c] = 40 + 170 * (d - d.min()) / max(d.max() - d.min(), 1e-9)
    return img


def _shapes(img: np.ndarray, rng: np.random.RandomState, count: int) -> None:
    h, w = img.shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    for _ in range(count):
        colour = rng.randint(0, 256, size=3).astype(np.float64)
        kind = rng.randint(0, 3)
        cx, cy = rng.randint(0, w), rng.randint(0, h)
        s = rng.randint(max(min(w, h) // 10, 4), max(min(w, h) // 3, 6))
        if kind == 0:
            m = (x - cx) ** 2 + (y - cy) ** 2 < s * s
        elif kind == 1:
            m = (abs(x - cx) < s) & (abs(y - cy) < s // 2 + 1)
        else:
            m = (y - cy >= 0) & (y - cy < s) & (abs(x - cx) <= (y - cy))
        img[m] = colour


def _gratings(img: np.ndarray, rng: np.random.RandomState, count: int) -> None:
    h, w = img.shape[:2]
    for _ in range(count):
        gw, gh = rng.randint(w // 8, w // 3 + 1), rng.randint(h // 8, h // 3 + 1)
        x0, y0 = rng.randint(0, w - gw + 1), rng.randint(0, h - gh + 1)
        period = rng.randint(2, 9)
        amp = rng.uniform(30, 90)
        yy, xx = np.mgrid[0:gh, 0:gw]
        if rng.randint(0, 2):
            pattern = np.where(((xx // max(period // 2, 1)) + (yy // max(period // 2, 1))) % 2, 1.0, -1.0)
        else:
            pattern = np.sin(2 * np.pi * xx / period)
        img[y0:y0 + gh, x0:x0 + gw] += amp * pattern[..., None]


def _noise(img: np.ndarray, rng: np.random.RandomState) -> None:
    h, w = img.shape[:2]
    nw, nh = max(w // 5, 8), max(h // 5, 8)
    x0, y0 = rng.randint(0, w - nw + 1), rng.randint(0, h - nh + 1)
    img[y0:y0 + nh, x0:x0 + nw] += rng.uniform(-40, 40, size=(nh, nw, 3))


def make_image(spec: ImageSpec) -> Image.Image:
    rng = np.random.RandomState(spec.seed)
    img = _canvas(spec.width, spec.height, rng)
    _shapes(img, rng, 6)
    _gratings(img, rng, 2)
    _noise(img, rng)
    rgb = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    if spec.mode == "RGB":
        return Image.fromarray(rgb, "RGB")
    if spec.mode == "L":
        gray = np.clip(np.rint(img.mean(axis=2)), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, "L")
    if spec.mode == "RGBA":
        h, w = spec.height, spec.width
        y, x = np.mgrid[0:h, 0:w]
        alpha = (255 * (x + y) / (w + h - 2)).astype(np.float64)
        alpha[(x < w // 4) & (y < h // 4)] = 0          # fully transparent, colour still present
        alpha[(x >= 3 * w // 4) & (y >= 3 * h // 4)] = 255
        rgba = np.dstack([rgb, np.clip(np.rint(alpha), 0, 255).astype(np.uint8)])
        return Image.fromarray(rgba, "RGBA")
    raise ValueError(spec.mode)
