"""Regenerates every golden fixture under common/src/test/resources/golden/ deterministically.

    /usr/bin/python3 tools/reference/make_fixtures.py [--out DIR]

Fixed seeds; CPU float32 (like upstream). See README.md for the formats.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Dict, List

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import images as images_mod                                   # noqa: E402
import preprocess as pp                                       # noqa: E402
from resize import resize_bilinear_antialias                  # noqa: E402
from safetensors_io import save_file                          # noqa: E402
from semantic_reference import (TINY_CONVNEXT, TINY_FUSION, FusionHead,  # noqa: E402
                                OpenClipConvNext, semantic_input)
from spai_reference import SPAI, TINY, SpaiOutput             # noqa: E402
from spread_init import spread_                               # noqa: E402
from yacs.config import CfgNode                               # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "common", "src", "test", "resources", "golden")

SPAI_SEED = 20241
CONVNEXT_SEED = 20242
FUSION_SEED = 20243
TARGET_LOGIT_STD = 1.5
TARGET_LOGIT_MEAN = 0.25


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
def r9(obj):
    """Round floats to 9 significant digits (float32 round-trips) for JSON."""
    if isinstance(obj, float):
        return float(f"{obj:.9g}")
    if isinstance(obj, dict):
        return {k: r9(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [r9(v) for v in obj]
    return obj


def tl(t: torch.Tensor):
    return t.detach().double().tolist()


def _is_flat(v) -> bool:
    return isinstance(v, list) and all(not isinstance(x, (list, dict)) for x in v)


def _dumps(obj, level: int = 0) -> str:
    """Readable but compact JSON: dicts indented, flat lists on one line, lists of flat lists
    one inner list per line."""
    pad, pad1 = " " * level, " " * (level + 1)
    if isinstance(obj, dict):
        items = [f"{pad1}{json.dumps(k)}: {_dumps(v, level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if _is_flat(obj):
            return json.dumps(obj, separators=(",", ":"))
        if all(_is_flat(x) for x in obj):
            return "[\n" + ",\n".join(pad1 + json.dumps(x, separators=(",", ":")) for x in obj) \
                + "\n" + pad + "]"
        return "[\n" + ",\n".join(pad1 + _dumps(x, level + 1) for x in obj) + "\n" + pad + "]"
    return json.dumps(obj)


def write_json(path: str, obj) -> None:
    with open(path, "w") as f:
        f.write(_dumps(r9(obj)))
        f.write("\n")


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@torch.no_grad()
def calibrate_last_linear(linear: torch.nn.Linear, inputs: torch.Tensor) -> None:
    """Rescale a 1-output Linear so that its outputs over `inputs` have the target std/mean."""
    raw = inputs @ linear.weight[0]
    s = TARGET_LOGIT_STD / float(raw.std())
    linear.weight.mul_(s)
    linear.bias.fill_(TARGET_LOGIT_MEAN - s * float(raw.mean()))


def spai_state_dict(model: SPAI) -> Dict[str, torch.Tensor]:
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


def run_spai(model: SPAI, patches: torch.Tensor, dtype=torch.float32, debug=None) -> SpaiOutput:
    return model.forward_patches(patches.to(dtype), debug)


# ----------------------------------------------------------------------------------------
# checkpoint-shaped extras
# ----------------------------------------------------------------------------------------
def make_cfg() -> CfgNode:
    cfg = CfgNode({
        "MODEL": {
            "SID_APPROACH": "freq_restoration", "TYPE": "vit", "NAME": "finetune",
            "NUM_CLASSES": 2, "REQUIRED_NORMALIZATION": "positive_0_1",
            "RESOLUTION_MODE": "arbitrary", "FEATURE_EXTRACTION_BATCH": 400, "SID_DROPOUT": 0.5,
            "VIT": {"EMBED_DIM": TINY.embed_dim, "DEPTH": TINY.depth, "NUM_HEADS": TINY.num_heads,
                    "INIT_VALUES": None, "USE_MEAN_POOLING": True,
                    "USE_INTERMEDIATE_LAYERS": True, "PROJECTION_DIM": TINY.projection_dim,
                    "PROJECTION_LAYERS": 2, "PATCH_PROJECTION": True,
                    "PATCH_PROJECTION_PER_FEATURE": True,
                    "INTERMEDIATE_LAYERS": list(TINY.intermediate_layers)},
            "FRE": {"MASKING_RADIUS": TINY.masking_radius,
                    "PROJECTOR_LAST_LAYER_ACTIVATION_TYPE": None,
                    "ORIGINAL_IMAGE_FEATURES_BRANCH": True},
            "CLS_HEAD": {"MLP_RATIO": TINY.head_mlp_ratio},
            "PATCH_VIT": {"PATCH_STRIDE": TINY.stride, "NUM_HEADS": TINY.sca_heads,
                          "ATTN_EMBED_DIM": TINY.attn_embed_dim,
                          "MINIMUM_PATCHES": TINY.minimum_patches},
        },
        "DATA": {"IMG_SIZE": TINY.img_size, "AUGMENTED_VIEWS": 4},
        "TRAIN": {"EPOCHS": 35, "BASE_LR": 5e-4, "WARMUP_LR": 2.5e-7, "MIN_LR": 2.5e-7,
                  "WEIGHT_DECAY": 0.05, "LAYER_DECAY": 0.8, "CLIP_GRAD": None},
        "TEST": {"ORIGINAL_RESOLUTION": True},
        "TAG": "golden-tiny",
    })
    return cfg.freeze()


def make_optimizer_state(sd: Dict[str, torch.Tensor], seed: int) -> Dict:
    """AdamW-like state for a few (small) trainable tensors, keyed by parameter index."""
    gen = torch.Generator().manual_seed(seed)
    names = ["norm.weight", "norm.bias", "patch_aggregator", "cls_head.head.6.weight",
             "cls_head.head.6.bias"]
    state = {}
    for i, n in enumerate(names):
        shape = sd[n].shape
        state[i] = {"step": torch.tensor(1234.0),
                    "exp_avg": torch.randn(shape, generator=gen) * 1e-3,
                    "exp_avg_sq": torch.rand(shape, generator=gen) * 1e-6}
    return {"state": state,
            "param_groups": [{"lr": 1.2e-4, "betas": (0.9, 0.999), "eps": 1e-8,
                              "weight_decay": 0.05, "amsgrad": False, "maximize": False,
                              "foreach": None, "capturable": False, "lr_scale": 1.0,
                              "params": list(range(len(names)))}]}


def make_lr_scheduler_state() -> Dict:
    return {"t_initial": 35 * 100, "lr_min": 2.5e-7, "cycle_mul": 1.0, "cycle_decay": 1.0,
            "cycle_limit": 1, "warmup_t": 5 * 100, "warmup_lr_init": 2.5e-7,
            "warmup_prefix": False, "t_in_epochs": False, "k_decay": 1.0,
            "base_values": [5e-4], "warmup_steps": [9.99995e-07],
            "noise_range_t": None, "noise_pct": 0.67, "noise_std": 1.0, "noise_seed": 42,
            "param_group_field": "lr"}


def to_half(sd: Dict[str, torch.Tensor], dtype) -> Dict[str, torch.Tensor]:
    return {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in sd.items()}


# ----------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.set_grad_enabled(False)

    spai_dir = os.path.join(args.out, "spai")
    img_dir = os.path.join(spai_dir, "images")
    sem_dir = os.path.join(args.out, "semantic")
    for d in (spai_dir, img_dir, sem_dir):
        os.makedirs(d, exist_ok=True)

    # ---------------- images ----------------
    specs = images_mod.SPECS
    for s in specs:
        images_mod.make_image(s).save(os.path.join(img_dir, s.file), format="PNG", optimize=True)
    u8 = {s.file: pp.load_rgb_uint8(os.path.join(img_dir, s.file)) for s in specs}
    prepared = {s.file: pp.prepare(u8[s.file], TINY.patch, TINY.stride, TINY.minimum_patches)
                for s in specs}

    # ---------------- SPAI model ----------------
    model = spread_(SPAI(TINY), SPAI_SEED).eval()
    feats = torch.stack([run_spai(model, prepared[s.file].patches).image_feature for s in specs])
    calibrate_last_linear(model.cls_head.head[6], torch.relu(
        model.cls_head.head[3](torch.relu(model.cls_head.head[0](feats)))))

    results: Dict[str, SpaiOutput] = {}
    debug: Dict[str, torch.Tensor] = {}
    for i, s in enumerate(specs):
        dbg = {} if i == 0 else None
        results[s.file] = run_spai(model, prepared[s.file].patches, debug=dbg)
        if i == 0:
            debug = dbg

    # ---------------- SPAI files ----------------
    with open(os.path.join(spai_dir, "config.json"), "w") as f:
        json.dump(TINY.to_json(), f, indent=1)
        f.write("\n")
    sd = spai_state_dict(model)
    save_file(sd, os.path.join(spai_dir, "weights.safetensors"), metadata={"format": "pt"})
    torch.save({"model": sd, "optimizer": make_optimizer_state(sd, 7),
                "lr_scheduler": make_lr_scheduler_state(), "max_accuracy": 0.9, "epoch": 3,
                "config": make_cfg()}, os.path.join(spai_dir, "spai.pth"))
    sd16 = to_half(sd, torch.float16)
    torch.save(sd16, os.path.join(spai_dir, "spai_bare_fp16.pth"))
    sdbf = to_half(sd, torch.bfloat16)
    save_file(sdbf, os.path.join(spai_dir, "spai_bf16.safetensors"), metadata={"format": "pt"})

    first = prepared[specs[0].file]
    save_file({
        "input": first.patches[0].contiguous(),
        "low": debug["low"][0].contiguous(),
        "high": debug["high"][0].contiguous(),
        "mask": model.mfvit.frequencies_mask.detach().float().contiguous(),
        "vit_orig_blocks": debug["vit_orig_blocks"][0].contiguous(),
        "vit_low_blocks": debug["vit_low_blocks"][0].contiguous(),
        "projected_orig": debug["projected_orig"][0].contiguous(),
        "sims": debug["sims"][0].contiguous(),
        "orig_feature": debug["orig_feature"][0].contiguous(),
    }, os.path.join(spai_dir, "debug.safetensors"),
        metadata={"image": specs[0].file, "patch": "0"})

    entries = []
    for s in specs:
        p, r = prepared[s.file], results[s.file]
        logit = float(r.logit)
        entries.append({
            "file": s.file, "width": p.width, "height": p.height, "mode": s.mode,
            "crop": p.crop_mode,
            "padding": {"top": p.padding.top, "bottom": p.padding.bottom,
                        "left": p.padding.left, "right": p.padding.right},
            "patches": [b.as_list() for b in p.boxes_in_original()],
            "patches_padded": [b.as_list() for b in p.boxes],
            "patch_features": tl(r.patch_features),
            "sca_output": tl(r.sca_output),
            "image_feature": tl(r.image_feature),
            "attention": tl(r.attention),
            "attention_heads": tl(r.attention_heads),
            "logit": logit, "score": sigmoid(logit),
        })
    write_json(os.path.join(spai_dir, "expected.json"), {"images": entries})

    # ---------------- precision studies (SPAI) ----------------
    tol = {}

    def max_dev(other: Dict[str, SpaiOutput]) -> Dict[str, float]:
        out = {"patch_features": 0.0, "image_feature": 0.0, "attention": 0.0, "logit": 0.0,
               "score": 0.0}
        for s in specs:
            a, b = results[s.file], other[s.file]
            out["patch_features"] = max(out["patch_features"],
                                        float((a.patch_features.double() - b.patch_features.double()).abs().max()))
            out["image_feature"] = max(out["image_feature"],
                                       float((a.image_feature.double() - b.image_feature.double()).abs().max()))
            out["attention"] = max(out["attention"],
                                   float((a.attention.double() - b.attention.double()).abs().max()))
            out["logit"] = max(out["logit"], abs(float(a.logit) - float(b.logit)))
            out["score"] = max(out["score"], abs(sigmoid(float(a.logit)) - sigmoid(float(b.logit))))
        return out

    m64 = SPAI(TINY).double().eval()
    m64.load_state_dict(sd)
    res64 = {s.file: run_spai(m64, prepared[s.file].patches, torch.float64) for s in specs}
    tol["float32_vs_float64"] = max_dev(res64)
    for name, half in (("fp16_weights_in_fp32", sd16), ("bf16_weights_in_fp32", sdbf)):
        mh = SPAI(TINY).eval()
        mh.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in half.items()})
        tol[name] = max_dev({s.file: run_spai(mh, prepared[s.file].patches) for s in specs})
    write_json(os.path.join(spai_dir, "tolerances.json"), tol)

    # ---------------- Semantic branch ----------------
    clip = spread_(OpenClipConvNext(TINY_CONVNEXT), CONVNEXT_SEED).eval()
    trunk = clip.visual.trunk
    head = spread_(FusionHead(TINY_FUSION), FUSION_SEED).eval()

    sem_in = {s.file: semantic_input(u8[s.file]) for s in specs}
    sem_feat = {s.file: trunk(sem_in[s.file].unsqueeze(0))[0] for s in specs}
    spectral = {s.file: results[s.file].image_feature for s in specs}

    def fused_hidden(spec_f, sem_f):
        sem = head.semantic_projection(sem_f.unsqueeze(0))
        fused = head.fusion_layer(torch.cat([spec_f.unsqueeze(0), sem], dim=1))
        return head.classifier[1](head.classifier[0](torch.cat([spec_f.unsqueeze(0), fused], 1)))

    calibrate_last_linear(head.classifier[3],
                          torch.cat([fused_hidden(spectral[s.file], sem_feat[s.file]) for s in specs]))

    with open(os.path.join(sem_dir, "config.json"), "w") as f:
        json.dump({"convnext": TINY_CONVNEXT.to_json(), "fusion": TINY_FUSION.to_json(),
                   "spai_config": "../spai/config.json", "semantic_input_size": 224,
                   "normalization": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}},
                  f, indent=1)
        f.write("\n")
    clip_sd = {k: v.detach().clone().contiguous() for k, v in clip.state_dict().items()}
    save_file(clip_sd, os.path.join(sem_dir, "convnext.safetensors"), metadata={"format": "pt"})
    torch.save(clip_sd, os.path.join(sem_dir, "open_clip_pytorch_model.bin"))
    head_sd = {k: v.detach().clone().contiguous() for k, v in head.state_dict().items()}
    save_file(head_sd, os.path.join(sem_dir, "head.safetensors"), metadata={"format": "pt"})

    def fused_logit(spec_f: torch.Tensor, sem_f: torch.Tensor) -> float:
        return float(head(spec_f.unsqueeze(0), sem_f.unsqueeze(0))[0, 0])

    sem_entries = []
    for s in specs:
        x = sem_in[s.file]
        fl = fused_logit(spectral[s.file], sem_feat[s.file])
        sem_entries.append({
            "file": s.file,
            "semantic_input_stats": {"mean": float(x.double().mean()),
                                     "std": float(x.double().std())},
            "semantic_feature": tl(sem_feat[s.file]),
            "spectral_feature": tl(spectral[s.file]),
            "fused_logit": fl, "fused_score": sigmoid(fl),
            "spectral_logit": float(results[s.file].logit),
        })
    write_json(os.path.join(sem_dir, "expected.json"), {"images": sem_entries})

    x0 = sem_in[specs[0].file].unsqueeze(0)
    tmap = trunk.forward_map(x0)
    save_file({"semantic_input": x0[0].contiguous(), "trunk_map": tmap[0].contiguous(),
               "trunk_map_normed": trunk.head(tmap)[0].contiguous()},
              os.path.join(sem_dir, "debug.safetensors"), metadata={"image": specs[0].file})

    # ---------------- resize policies (Sem-SPAI SPAI input) ----------------
    policy_entries = []
    for policy in ("resize:224", "resize:448", "native_grid"):
        for s in specs:
            padded, _ = pp.pad_image(u8[s.file], TINY.patch)
            if policy.startswith("resize:"):
                n = int(policy.split(":")[1])
                img = resize_bilinear_antialias(padded, n, n)
            else:
                img = padded
            boxes, patches = pp.grid_patches(img, TINY.patch, TINY.stride)
            r = run_spai(model, patches)
            logit = float(r.logit)
            fl = fused_logit(r.image_feature, sem_feat[s.file])
            policy_entries.append({
                "file": s.file, "policy": policy,
                "input_size": [int(img.shape[2]), int(img.shape[1])],
                "patches": [b.as_list() for b in boxes],
                "logit": logit, "score": sigmoid(logit),
                "image_feature": tl(r.image_feature), "attention": tl(r.attention),
                "fused_logit": fl, "fused_score": sigmoid(fl),
            })
    write_json(os.path.join(sem_dir, "resize_policy.json"), {"entries": policy_entries})

    # ---------------- precision (semantic) ----------------
    clip64 = OpenClipConvNext(TINY_CONVNEXT).double().eval()
    clip64.load_state_dict(clip_sd)
    head64 = FusionHead(TINY_FUSION).double().eval()
    head64.load_state_dict(head_sd)
    dev_feat = dev_logit = 0.0
    for s in specs:
        f64 = clip64.visual.trunk(sem_in[s.file].double().unsqueeze(0))[0]
        dev_feat = max(dev_feat, float((f64 - sem_feat[s.file].double()).abs().max()))
        l64 = float(head64(res64[s.file].image_feature.unsqueeze(0), f64.unsqueeze(0))[0, 0])
        dev_logit = max(dev_logit, abs(l64 - fused_logit(spectral[s.file], sem_feat[s.file])))
    write_json(os.path.join(sem_dir, "tolerances.json"),
               {"float32_vs_float64": {"semantic_feature": dev_feat, "fused_logit": dev_logit}})

    # ---------------- summary ----------------
    logits = [float(results[s.file].logit) for s in specs]
    flog = [e["fused_logit"] for e in sem_entries]
    print("spai logits :", " ".join(f"{v:+.3f}" for v in logits), f"std={np.std(logits, ddof=1):.3f}")
    print("fused logits:", " ".join(f"{v:+.3f}" for v in flog), f"std={np.std(flog, ddof=1):.3f}")
    print("attention   :", [" ".join(f"{a:.2f}" for a in tl(results[s.file].attention)) for s in specs[:3]])
    print("tolerances  :", json.dumps(r9(tol)))


if __name__ == "__main__":
    main()
