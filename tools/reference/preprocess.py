"""SPAI test-time preprocessing (spec §1 "Input and normalisation", "Patching"; §6 quirks).

    PIL load -> .convert("RGB")            (alpha dropped, gray copied into R, G, B)
    PadIfNeeded(224, 224), centred, BORDER_REFLECT_101  (albumentations 1.4.x arithmetic)
    Normalize(mean=0, std=1)  ==  v * float32(1/255)    (float32 arithmetic)
    patchify 224/224, row-major, remainder dropped;
    if fewer than MINIMUM_PATCHES patches: five_crop(224) -> tl, tr, bl, br, centre

Everything here works on numpy / torch float32 tensors of shape (3, H, W).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

import numpy as np
import torch
from PIL import Image

# albumentations Normalize(mean=0, std=1, max_pixel_value=255): img * reciprocal(255) in float32.
INV_255 = np.float32(1.0) / np.float32(255.0)


def load_rgb_uint8(path: str) -> np.ndarray:
    """H x W x 3 uint8, exactly what PIL's convert("RGB") produces."""
    with Image.open(path) as im:
        return np.array(im.convert("RGB"), dtype=np.uint8)


@dataclass(frozen=True)
class Padding:
    top: int
    bottom: int
    left: int
    right: int


def pad_amounts(height: int, width: int, min_size: int = 224) -> Padding:
    """albumentations PadIfNeeded (position=center): before = int((min-n)/2), after = rest."""
    top = bottom = left = right = 0
    if height < min_size:
        top = (min_size - height) // 2
        bottom = min_size - height - top
    if width < min_size:
        left = (min_size - width) // 2
        right = min_size - width - left
    return Padding(top, bottom, left, right)


def pad_reflect101(img_hwc: np.ndarray, pad: Padding) -> np.ndarray:
    """cv2.BORDER_REFLECT_101 (gfedcb|abcdefgh|gfedcba) == numpy mode="reflect" (edge not repeated)."""
    if pad.top == pad.bottom == pad.left == pad.right == 0:
        return img_hwc
    widths = [(pad.top, pad.bottom), (pad.left, pad.right)] + [(0, 0)] * (img_hwc.ndim - 2)
    return np.pad(img_hwc, widths, mode="reflect")


def to_unit_float_chw(img_hwc_u8: np.ndarray) -> torch.Tensor:
    """uint8 H x W x 3 -> float32 3 x H x W in [0, 1] via v * float32(1/255)."""
    f = img_hwc_u8.astype(np.float32) * INV_255
    return torch.from_numpy(np.ascontiguousarray(f.transpose(2, 0, 1)))


@dataclass(frozen=True)
class Box:
    """A patch rectangle: x (left), y (top), w, h."""
    x: int
    y: int
    w: int
    h: int

    def as_list(self) -> List[int]:
        return [self.x, self.y, self.w, self.h]


def grid_boxes(height: int, width: int, patch: int, stride: int) -> List[Box]:
    """Boxes of Tensor.unfold(2,patch,stride).unfold(3,patch,stride), row-major."""
    rows = (height - patch) // stride + 1 if height >= patch else 0
    cols = (width - patch) // stride + 1 if width >= patch else 0
    return [Box(c * stride, r * stride, patch, patch) for r in range(rows) for c in range(cols)]


def five_crop_boxes(height: int, width: int, size: int) -> List[Box]:
    """torchvision five_crop: tl, tr, bl, br, centre; centre uses int(round((n - size) / 2.0))
    with Python's round-half-to-even."""
    if size > width or size > height:
        raise ValueError("crop larger than image")
    ctop = int(round((height - size) / 2.0))
    cleft = int(round((width - size) / 2.0))
    return [
        Box(0, 0, size, size),
        Box(width - size, 0, size, size),
        Box(0, height - size, size, size),
        Box(width - size, height - size, size, size),
        Box(cleft, ctop, size, size),
    ]


def crop(img_chw: torch.Tensor, box: Box) -> torch.Tensor:
    return img_chw[:, box.y:box.y + box.h, box.x:box.x + box.w]


def box_in_original(box: Box, pad: Padding, orig_h: int, orig_w: int) -> Box:
    """The padded-coordinate box shifted by the padding offset and intersected with the image."""
    x0 = max(box.x - pad.left, 0)
    y0 = max(box.y - pad.top, 0)
    x1 = min(box.x + box.w - pad.left, orig_w)
    y1 = min(box.y + box.h - pad.top, orig_h)
    return Box(x0, y0, max(x1 - x0, 0), max(y1 - y0, 0))


@dataclass
class Prepared:
    """One image, ready for SPAI."""
    width: int                 # original
    height: int                # original
    padding: Padding
    padded: torch.Tensor       # 3 x H' x W' float32 in [0, 1]
    crop_mode: str             # "grid" | "five_crop"
    boxes: List[Box]           # in padded coordinates
    patches: torch.Tensor      # L x 3 x 224 x 224

    def boxes_in_original(self) -> List[Box]:
        return [box_in_original(b, self.padding, self.height, self.width) for b in self.boxes]


def pad_image(img_hwc_u8: np.ndarray, patch: int = 224) -> Tuple[torch.Tensor, Padding]:
    h, w = img_hwc_u8.shape[:2]
    pad = pad_amounts(h, w, patch)
    return to_unit_float_chw(pad_reflect101(img_hwc_u8, pad)), pad


def prepare(img_hwc_u8: np.ndarray, patch: int = 224, stride: int = 224,
            minimum_patches: int = 4) -> Prepared:
    """Native-resolution SPAI input (spec §1): pad, [0,1], grid patches or five-crop."""
    h, w = img_hwc_u8.shape[:2]
    padded, pad = pad_image(img_hwc_u8, patch)
    ph, pw = padded.shape[1:]
    boxes = grid_boxes(ph, pw, patch, stride)
    mode = "grid"
    if len(boxes) < minimum_patches:
        boxes = five_crop_boxes(ph, pw, patch)
        mode = "five_crop"
    patches = torch.stack([crop(padded, b) for b in boxes], dim=0).contiguous()
    return Prepared(w, h, pad, padded, mode, boxes, patches)


def grid_patches(img_chw: torch.Tensor, patch: int = 224, stride: int = 224) -> Tuple[List[Box], torch.Tensor]:
    """forward_batch-style patching: grid only, never five-crop."""
    ph, pw = img_chw.shape[1:]
    boxes = grid_boxes(ph, pw, patch, stride)
    return boxes, torch.stack([crop(img_chw, b) for b in boxes], dim=0).contiguous()
