#!/usr/bin/python3
"""Regenerates the reference images for PerturbationReferenceTest (CI does not run this; it needs Debian's
python3-pil, python3-numpy and python3-scipy):

  * pil_scale_<f>.png: PIL Image.resize(BILINEAR), antialiased like torchvision antialias=True, of the test
    pattern scaled by f with albumentations' int(w*f) x int(h*f) size.
  * scipy_blur_<sigma>.png: scipy.ndimage.gaussian_filter with mode='mirror' (reflect-101, OpenCV's default
    border) and a radius of ceil(3*sigma), in float64, rounded half-to-even.

    cd common/src/test/resources/perturb && /usr/bin/python3 make_perturb_fixtures.py
"""
import math

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

W, H = 37, 23


def pattern():
    y, x, c = np.meshgrid(np.arange(H), np.arange(W), np.arange(3), indexing="ij")
    return ((x * 7 + y * 13 + c * 50 + ((x * y) % 17) * 5) % 256).astype(np.uint8)


img = pattern()
for f in ["0.5", "0.3", "1.7"]:
    size = (int(W * float(f)), int(H * float(f)))
    Image.fromarray(img).resize(size, Image.BILINEAR).save(f"pil_scale_{f}.png")
for s in ["0.5", "1", "2"]:
    sigma = float(s)
    out = np.empty(img.shape)
    for c in range(3):
        out[..., c] = gaussian_filter(img[..., c].astype(np.float64), sigma, mode="mirror",
                                      truncate=math.ceil(3 * sigma) / sigma)
    Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8)).save(f"scipy_blur_{s}.png")

# libjpeg's quantisation tables and sampling factors at each quality (PIL uses libjpeg like OpenCV does):
# jpeg_tables.json maps quality -> {"dqt": [hex of each table's 64 bytes, file order], "sampling": [hex per component]}.
import io
import json


def segments(data):
    i = 2
    while i < len(data):
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        yield marker, data[i + 4:i + 2 + length]
        if marker == 0xDA:
            return
        i += 2 + length


tables = {}
for q in [95, 85, 75, 50, 10]:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=q)
    dqt, sampling = [], []
    for marker, payload in segments(buf.getvalue()):
        if marker == 0xDB:
            j = 0
            while j < len(payload):
                dqt.append(payload[j + 1:j + 65].hex())
                j += 65
        if marker == 0xC0:
            n = payload[5]
            sampling = [payload[6 + 3 * k + 1:6 + 3 * k + 2].hex() for k in range(n)]
    tables[str(q)] = {"dqt": dqt, "sampling": sampling}
with open("jpeg_tables.json", "w") as f:
    json.dump(tables, f, indent=1)
