"""How far do plausible implementation mistakes move the golden outputs?

    /usr/bin/python3 tools/reference/sensitivity.py

Re-runs the tiny SPAI fixture model with one deliberate deviation at a time and prints the
largest change of logit / image_feature over the fixture images. A parity tolerance must stay
well below these numbers for the fixtures to catch the mistake.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import preprocess as pp                                   # noqa: E402
import spai_reference as sr                               # noqa: E402
from safetensors_io import load_file                      # noqa: E402

GOLDEN = os.path.abspath(os.path.join(HERE, "..", "..", "common", "src", "test", "resources",
                                      "golden", "spai"))


@contextmanager
def patched(obj, name, value):
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def run_all(model, prep_fn):
    out = {}
    for e in EXPECTED:
        u8 = pp.load_rgb_uint8(os.path.join(GOLDEN, "images", e["file"]))
        p = prep_fn(u8)
        out[e["file"]] = model.forward_patches(p.patches)
    return out


def report(name, res):
    dl = max(abs(float(res[e["file"]].logit) - e["logit"]) for e in EXPECTED)
    df = max(float(np.abs(res[e["file"]].image_feature.double().numpy() - np.array(e["image_feature"])).max())
             for e in EXPECTED)
    print(f"{name:58s} max|dlogit| {dl:9.2e}   max|dfeature| {df:9.2e}")
    return {"logit": dl, "image_feature": df}


def main():
    global EXPECTED
    torch.set_grad_enabled(False)
    torch.set_num_threads(1)
    EXPECTED = json.load(open(os.path.join(GOLDEN, "expected.json")))["images"]
    sd, _ = load_file(os.path.join(GOLDEN, "weights.safetensors"))
    model = sr.SPAI(sr.TINY).eval()
    model.load_state_dict(sd)
    prep = pp.prepare
    results = {}
    results["baseline (reference itself)"] = report("baseline (reference itself)", run_all(model, prep))

    # 1. DC-centred mask
    size = 224
    c = torch.arange(size, dtype=torch.float32) - size // 2
    centred = (torch.sqrt(c[None, :] ** 2 + c[:, None] ** 2) < 16).to(torch.int64)
    orig_mask = model.mfvit.frequencies_mask.data.clone()
    model.mfvit.frequencies_mask.data.copy_(centred)
    results["mask centred on the DC bin"] = report("mask centred on the DC bin", run_all(model, prep))
    model.mfvit.frequencies_mask.data.copy_(orig_mask)

    # 2. no clamp of low/high
    with patched(torch, "clamp", lambda x, *a, **k: x):
        results["low/high not clamped to [0,1]"] = report("low/high not clamped to [0,1]", run_all(model, prep))

    # 3. padding variants
    for mode, label in (("symmetric", "pad BORDER_REFLECT (edge repeated)"), ("edge", "pad edge replicate")):
        def prep_mode(u8, mode=mode):
            with patched(pp, "pad_reflect101", lambda img, pad: np.pad(
                    img, [(pad.top, pad.bottom), (pad.left, pad.right), (0, 0)], mode=mode)):
                return pp.prepare(u8)
        results[label] = report(label, run_all(model, prep_mode))

    # 4. five-crop centre rounded half-up
    def five_half_up(h, w, s):
        boxes = ORIG_FIVE(h, w, s)
        ctop, cleft = int(np.floor((h - s) / 2.0 + 0.5)), int(np.floor((w - s) / 2.0 + 0.5))
        boxes[4] = pp.Box(cleft, ctop, s, s)
        return boxes
    global ORIG_FIVE
    ORIG_FIVE = pp.five_crop_boxes
    with patched(pp, "five_crop_boxes", five_half_up):
        results["five-crop centre rounded half-up"] = report("five-crop centre rounded half-up", run_all(model, prep))

    # 5. biased std
    orig_std = torch.Tensor.std
    with patched(torch.Tensor, "std", lambda self, *a, **k: orig_std(self, *a, unbiased=False, **k)):
        results["std with n instead of n-1"] = report("std with n instead of n-1", run_all(model, prep))

    # 6. ViT LayerNorm eps 1e-5
    for m in model.mfvit.vit.modules():
        if isinstance(m, torch.nn.LayerNorm):
            m.eps = 1e-5
    results["ViT LayerNorm eps 1e-5 instead of 1e-6"] = report("ViT LayerNorm eps 1e-5 instead of 1e-6", run_all(model, prep))
    for m in model.mfvit.vit.modules():
        if isinstance(m, torch.nn.LayerNorm):
            m.eps = 1e-6

    # 7. tanh GELU
    orig_gelu = F.gelu
    with patched(F, "gelu", lambda x, approximate="none": orig_gelu(x, approximate="tanh")):
        results["GELU tanh approximation"] = report("GELU tanh approximation", run_all(model, prep))

    # 8. ImageNet-normalise before the FFT split
    orig_forward = sr.MFViT.forward

    def norm_first(self, x, debug=None):
        xn = sr.imagenet_normalize(x)
        low, high = sr.filter_frequencies(xn, self.frequencies_mask)
        return self.features_processor(self.vit(xn), self.vit(low), self.vit(high))
    with patched(sr.MFViT, "forward", norm_first):
        results["ImageNet-normalise before FFT (no clamp)"] = report("ImageNet-normalise before FFT (no clamp)", run_all(model, prep))

    # 9. pos_embed missing
    pe = model.mfvit.vit.pos_embed.data.clone()
    model.mfvit.vit.pos_embed.data.zero_()
    results["pos_embed not added"] = report("pos_embed not added", run_all(model, prep))
    model.mfvit.vit.pos_embed.data.copy_(pe)

    semantic()


def semantic():
    import semantic_reference as sem
    from resize import imagenet_normalize
    sdir = os.path.join(os.path.dirname(GOLDEN), "semantic")
    exp = json.load(open(os.path.join(sdir, "expected.json")))["images"]
    clip = sem.OpenClipConvNext(sem.TINY_CONVNEXT).eval()
    clip.load_state_dict(load_file(os.path.join(sdir, "convnext.safetensors"))[0])
    head = sem.FusionHead(sem.TINY_FUSION).eval()
    head.load_state_dict(load_file(os.path.join(sdir, "head.safetensors"))[0])
    trunk = clip.visual.trunk

    def rep(name, feat_fn, input_fn=sem.semantic_input):
        df = dl = 0.0
        for e in exp:
            u8 = pp.load_rgb_uint8(os.path.join(GOLDEN, "images", e["file"]))
            f = feat_fn(input_fn(u8).unsqueeze(0))[0]
            df = max(df, float(np.abs(f.double().numpy() - np.array(e["semantic_feature"])).max()))
            spec = torch.tensor(e["spectral_feature"], dtype=torch.float32)
            dl = max(dl, abs(float(head(spec[None], f[None])[0, 0]) - e["fused_logit"]))
        print(f"{name:58s} max|dfused|  {dl:9.2e}   max|dsemantic| {df:9.2e}")

    rep("semantic baseline", trunk)
    rep("semantic: pool then head.norm (OpenCLIP order)",
        lambda x: trunk.head.norm(F.adaptive_avg_pool2d(trunk.forward_map(x), 1)).flatten(1))

    def no_pad(u8):
        t = pp.to_unit_float_chw(u8)
        return imagenet_normalize(sem.resize_bilinear_antialias(t, 224, 224))
    rep("semantic: no reflect padding before resize", trunk, no_pad)

    def no_aa(u8):
        t, _ = pp.pad_image(u8)
        if tuple(t.shape[1:]) != (224, 224):
            t = F.interpolate(t[None], size=[224, 224], mode="bilinear", align_corners=False)[0]
        return imagenet_normalize(t)
    rep("semantic: bilinear without antialias", trunk, no_aa)

    def rounded(u8):
        t, _ = pp.pad_image(u8)
        t = sem.resize_bilinear_antialias(t, 224, 224)
        return imagenet_normalize(torch.round(t * 255) / 255)
    rep("semantic: resized image rounded to uint8", trunk, rounded)

    for m in trunk.modules():
        if isinstance(m, torch.nn.LayerNorm):
            m.eps = 1e-6
    rep("semantic: ConvNeXt LayerNorm eps 1e-6 instead of 1e-5", trunk)


if __name__ == "__main__":
    main()
