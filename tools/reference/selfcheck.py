"""Cross-checks of the reference and of the generated fixtures.

    /usr/bin/python3 tools/reference/selfcheck.py [--golden DIR]

1. Primitives against library behaviour: torchvision 0.14 five_crop / center_crop / Resize /
   Normalize, torch reflect padding (== cv2 BORDER_REFLECT_101), Tensor.unfold patchify,
   F.cosine_similarity, FFT split identity (low + high == x before clamping).
2. A second, independent forward pass in numpy float64 that reads the weights from the
   committed safetensors files with safetensors_io (different code path: explicit index maps
   instead of fftshift, a hand-written antialiased bilinear resize, einsum attention,
   reshape-based convolutions) and is compared with expected.json / resize_policy.json.
3. File-format checks: spai.pth / fp16 / bf16 hold the same tensors as weights.safetensors,
   the int64 mask survives, weights_only loading refuses spai.pth (foreign global) but
   accepts the bare files.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import preprocess as pp                                  # noqa: E402
from resize import resize_bilinear_antialias, IMAGENET_MEAN, IMAGENET_STD  # noqa: E402
from safetensors_io import load_file                     # noqa: E402
from spai_reference import circular_mask, filter_frequencies, cosine_similarity  # noqa: E402

DEFAULT_GOLDEN = os.path.abspath(os.path.join(HERE, "..", "..", "common", "src", "test",
                                              "resources", "golden"))
FAILS = []


def check(name: str, ok: bool, detail: str = "") -> None:
    print(("ok    " if ok else "FAIL  ") + name + (f"  ({detail})" if detail else ""))
    if not ok:
        FAILS.append(name)


# ----------------------------------------------------------------------------------------
# 1. primitives vs libraries
# ----------------------------------------------------------------------------------------
def check_primitives() -> None:
    import torchvision.transforms.functional as TF
    from torchvision import transforms

    rng = np.random.RandomState(0)
    for (h, w) in [(300, 449), (224, 224), (301, 115), (100, 500), (150, 180), (672, 896)]:
        img = rng.randint(0, 256, size=(h, w, 3)).astype(np.uint8)
        padded, pad = pp.pad_image(img)
        # torch reflect padding == BORDER_REFLECT_101
        t = torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1).unsqueeze(0)
        if pad.top or pad.left or pad.bottom or pad.right:
            t = F.pad(t, (pad.left, pad.right, pad.top, pad.bottom), mode="reflect")
        t = t[0] * pp.INV_255
        check(f"pad reflect101 {w}x{h}", torch.equal(t, padded))
        ph, pw = padded.shape[1:]
        # grid == Tensor.unfold patchify
        boxes, patches = pp.grid_patches(padded)
        if boxes:
            u = padded.unsqueeze(0).unfold(2, 224, 224).unfold(3, 224, 224)
            u = u.permute(0, 2, 3, 1, 4, 5).contiguous().view(1, -1, 3, 224, 224)[0]
            check(f"grid == unfold {pw}x{ph}", torch.equal(u, patches))
        # five crop == torchvision five_crop
        fc = TF.five_crop(padded, [224, 224])
        mine = [pp.crop(padded, b) for b in pp.five_crop_boxes(ph, pw, 224)]
        check(f"five_crop {pw}x{ph}", all(torch.equal(a, b) for a, b in zip(fc, mine)))
        # Resize(antialias=True) on the float tensor
        for n in (224, 448):
            ref = transforms.Resize((n, n), antialias=True)(padded)
            check(f"resize {pw}x{ph}->{n}", torch.equal(ref, resize_bilinear_antialias(padded, n, n)))
        # Normalize
        norm = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)(padded.clone())
        from resize import imagenet_normalize
        check(f"normalize {pw}x{ph}", torch.equal(norm, imagenet_normalize(padded)))

    a, b = torch.randn(3, 4, 196, 64), torch.randn(3, 4, 196, 64)
    d = float((F.cosine_similarity(a, b, dim=-1) - cosine_similarity(a, b)).abs().max())
    check("cosine_similarity vs F.cosine_similarity", d < 1e-6, f"max {d:.2e}")

    x = torch.rand(2, 3, 224, 224)
    low, high = filter_frequencies(x, circular_mask(224, 16))
    d = float((low + high - x).abs().max())
    check("low + high == x", d < 1e-5, f"max {d:.2e}")
    spec = torch.fft.fftshift(torch.fft.fft2(x), dim=(-2, -1))
    low2 = torch.fft.ifft2(torch.fft.ifftshift(spec * circular_mask(224, 16), dim=(-2, -1))).real
    check("fftshift over all dims == over H,W", float((low2 - low).abs().max()) < 1e-6)


# ----------------------------------------------------------------------------------------
# 2. independent numpy float64 forward
# ----------------------------------------------------------------------------------------
def erf(x: np.ndarray) -> np.ndarray:
    return torch.special.erf(torch.from_numpy(np.ascontiguousarray(x))).numpy()


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def linear(x, W, b=None):
    y = x @ W.T
    return y + b if b is not None else y


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def reflect_index(j: int, n: int) -> int:
    while j < 0 or j >= n:
        j = -j if j < 0 else 2 * n - 2 - j
    return j


def np_load_pad(path: str):
    """PIL -> RGB uint8, reflect-101 pad via explicit index maps -> float64 [0,1] (3,H,W)
    computed as float32(v * float32(1/255)) exactly like the reference."""
    from PIL import Image
    with Image.open(path) as im:
        a = np.array(im.convert("RGB"))
    h, w = a.shape[:2]
    top = (224 - h) // 2 if h < 224 else 0
    left = (224 - w) // 2 if w < 224 else 0
    H, W = max(h, 224), max(w, 224)
    rows = [reflect_index(i - top, h) for i in range(H)]
    cols = [reflect_index(j - left, w) for j in range(W)]
    a = a[rows][:, cols]
    f = (a.astype(np.float32) * (np.float32(1) / np.float32(255))).astype(np.float64)
    return f.transpose(2, 0, 1), (top, left, h, w)


def np_mask(size=224, radius=16):
    """Mask in UNSHIFTED fft index space, from the frequency of each bin."""
    k = np.arange(size)
    f = np.where(k < size // 2, k, k - size)          # signed frequency
    c = np.where(f >= 0, f, -f - 1)                   # upstream's coordinate for that bin
    return (c[:, None] ** 2 + c[None, :] ** 2 < radius * radius).astype(np.float64)


def aa_weights(n_in: int, n_out: int) -> np.ndarray:
    """Antialiased bilinear (triangle) resampling matrix n_out x n_in, half-pixel centres."""
    scale = n_in / n_out
    support = scale if scale >= 1.0 else 1.0
    inv = 1.0 / scale if scale >= 1.0 else 1.0
    M = np.zeros((n_out, n_in))
    for i in range(n_out):
        centre = scale * (i + 0.5)
        lo = max(int(centre - support + 0.5), 0)
        hi = min(int(centre + support + 0.5), n_in)
        js = np.arange(lo, hi)
        wts = np.maximum(0.0, 1.0 - np.abs((js - centre + 0.5) * inv))
        M[i, lo:hi] = wts / wts.sum()
    return M


def np_resize(img, n):
    c, h, w = img.shape
    if (h, w) == (n, n):
        return img
    rows, cols = aa_weights(h, n), aa_weights(w, n)
    return np.stack([rows @ img[c] @ cols.T for c in range(c)])


def np_imagenet(x):
    m = np.array(IMAGENET_MEAN, dtype=np.float32).astype(np.float64)[:, None, None]
    s = np.array(IMAGENET_STD, dtype=np.float32).astype(np.float64)[:, None, None]
    return (x - m) / s


class NpSpai:
    def __init__(self, sd, cfg):
        self.p = {k: v.double().numpy() if v.is_floating_point() else v.numpy() for k, v in sd.items()}
        self.cfg = cfg

    def g(self, k):
        return self.p[k]

    def vit(self, x):
        c = self.cfg["vit"]
        P, D, Hh = c["patch_size"], c["embed_dim"], c["num_heads"]
        eps = c["layer_norm_eps"]
        g = self.g
        n = 224 // P
        tok = x.reshape(3, n, P, n, P).transpose(1, 3, 0, 2, 4).reshape(n * n, 3 * P * P)
        Wp = g("mfvit.vit.patch_embed.proj.weight").reshape(D, -1)
        t = tok @ Wp.T + g("mfvit.vit.patch_embed.proj.bias")
        t = np.concatenate([g("mfvit.vit.cls_token")[0], t], 0) + g("mfvit.vit.pos_embed")[0]
        outs = []
        for i in range(c["depth"]):
            pre = f"mfvit.vit.blocks.{i}."
            h = layer_norm(t, g(pre + "norm1.weight"), g(pre + "norm1.bias"), eps)
            Wqkv = g(pre + "attn.qkv.weight")
            q = h @ Wqkv[:D].T + g(pre + "attn.q_bias")
            k = h @ Wqkv[D:2 * D].T
            v = h @ Wqkv[2 * D:].T + g(pre + "attn.v_bias")
            dh = D // Hh
            q = q.reshape(-1, Hh, dh) * dh ** -0.5
            k = k.reshape(-1, Hh, dh)
            v = v.reshape(-1, Hh, dh)
            a = softmax(np.einsum("qhd,khd->hqk", q, k))
            o = np.einsum("hqk,khd->qhd", a, v).reshape(-1, D)
            t = t + linear(o, g(pre + "attn.proj.weight"), g(pre + "attn.proj.bias"))
            h = layer_norm(t, g(pre + "norm2.weight"), g(pre + "norm2.bias"), eps)
            h = gelu(linear(h, g(pre + "mlp.fc1.weight"), g(pre + "mlp.fc1.bias")))
            t = t + linear(h, g(pre + "mlp.fc2.weight"), g(pre + "mlp.fc2.bias"))
            if i in self.cfg["fre"]["intermediate_layers"]:
                outs.append(t[1:])
        return np.stack(outs)                       # N x L x D

    def projector(self, pre, x, input_norm, last_gelu):
        g = self.g
        if input_norm:
            x = layer_norm(x, g(pre + "norm1.weight"), g(pre + "norm1.bias"), 1e-5)
        x = gelu(linear(x, g(pre + "projector.1.weight"), g(pre + "projector.1.bias")))
        x = linear(x, g(pre + "projector.4.weight"), g(pre + "projector.4.bias"))
        if last_gelu:
            x = gelu(x)
        return layer_norm(x, g(pre + "norm2.weight"), g(pre + "norm2.bias"), 1e-5)

    def mfvit(self, x):
        X = np.fft.fft2(x)
        m = np_mask(224, self.cfg["fre"]["masking_radius"])
        low = np.clip(np.fft.ifft2(X * m).real, 0, 1)
        high = np.clip(np.fft.ifft2(X * (1 - m)).real, 0, 1)
        fs = [self.vit(np_imagenet(z)) for z in (x, low, high)]
        pre = "mfvit.features_processor."
        proj = [np.stack([self.projector(f"{pre}patch_projector.projectors.{i}.", f[i], True, False)
                          for i in range(f.shape[0])]) for f in fs]
        o, l, h = proj

        def cos(a, b):
            return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
        sims = []
        for a, b in ((o, l), (o, h), (l, h)):
            s = cos(a, b)
            sims += [s.mean(-1), s.std(-1, ddof=1)]
        sims = np.concatenate(sims)
        fp = pre + "original_features_processor."
        z = np.concatenate([o.mean(1), o.std(1, ddof=1)], -1)          # N x 2P
        z = self.projector(fp + "proj1.", z, False, True)
        alpha = self.g(fp + "alpha")[0]
        wts = softmax(alpha, axis=0)
        z = (wts * z).sum(0)
        z = self.projector(fp + "proj2.", z, False, True)
        return np.concatenate([sims, z])

    def forward(self, patches):
        g = self.g
        feats = np.stack([self.mfvit(p) for p in patches])           # L x F
        A = self.cfg["sca"]["attn_embed_dim"]
        H = self.cfg["sca"]["num_heads"]
        kv = feats @ g("to_kv.weight").T
        k, v = kv[:, :A].reshape(-1, H, A // H), kv[:, A:].reshape(-1, H, A // H)
        agg = g("patch_aggregator")[:, 0, :]                          # H x d
        attn = softmax(np.einsum("hd,lhd->hl", agg, k) * (A // H) ** -0.5)
        o = np.einsum("hl,lhd->hd", attn, v).reshape(-1)
        sca = o @ g("to_out.0.weight").T
        img = layer_norm(sca, g("norm.weight"), g("norm.bias"), 1e-5)
        h = np.maximum(linear(img, g("cls_head.head.0.weight"), g("cls_head.head.0.bias")), 0)
        h = np.maximum(linear(h, g("cls_head.head.3.weight"), g("cls_head.head.3.bias")), 0)
        logit = float(linear(h, g("cls_head.head.6.weight"), g("cls_head.head.6.bias"))[0])
        return feats, img, attn.mean(0), logit


def np_convnext(p, x, cfg):
    eps = cfg["layer_norm_eps"]
    g = lambda k: p["visual.trunk." + k]                              # noqa: E731

    def ln2d(z, pre):
        return layer_norm(z.transpose(1, 2, 0), g(pre + ".weight"), g(pre + ".bias"), eps).transpose(2, 0, 1)

    def patch_conv(z, W, b, s):
        c, h, w = z.shape
        t = z.reshape(c, h // s, s, w // s, s).transpose(1, 3, 0, 2, 4).reshape(h // s, w // s, -1)
        return (t @ W.reshape(W.shape[0], -1).T + b).transpose(2, 0, 1)

    def dwconv(z, W, b):
        c, h, w = z.shape
        zp = np.zeros((c, h + 6, w + 6))
        zp[:, 3:-3, 3:-3] = z
        out = np.zeros_like(z)
        for dy in range(7):
            for dx in range(7):
                out += W[:, 0, dy, dx][:, None, None] * zp[:, dy:dy + h, dx:dx + w]
        return out + b[:, None, None]

    z = patch_conv(x, g("stem.0.weight"), g("stem.0.bias"), 4)
    z = ln2d(z, "stem.1")
    for i, depth in enumerate(cfg["depths"]):
        if i > 0:
            z = ln2d(z, f"stages.{i}.downsample.0")
            z = patch_conv(z, g(f"stages.{i}.downsample.1.weight"), g(f"stages.{i}.downsample.1.bias"), 2)
        for j in range(depth):
            pre = f"stages.{i}.blocks.{j}."
            y = dwconv(z, g(pre + "conv_dw.weight"), g(pre + "conv_dw.bias")).transpose(1, 2, 0)
            y = layer_norm(y, g(pre + "norm.weight"), g(pre + "norm.bias"), eps)
            y = gelu(linear(y, g(pre + "mlp.fc1.weight"), g(pre + "mlp.fc1.bias")))
            y = linear(y, g(pre + "mlp.fc2.weight"), g(pre + "mlp.fc2.bias"))
            z = z + (y * g(pre + "gamma")).transpose(2, 0, 1)
    z = ln2d(z, "head.norm")
    return z.mean(axis=(1, 2))


def np_fusion(p, spectral, semantic):
    s = layer_norm(semantic, p["semantic_projection.0.weight"], p["semantic_projection.0.bias"], 1e-5)
    s = gelu(linear(s, p["semantic_projection.1.weight"], p["semantic_projection.1.bias"]))
    f = gelu(linear(np.concatenate([spectral, s]), p["fusion_layer.0.weight"], p["fusion_layer.0.bias"]))
    c = gelu(linear(np.concatenate([spectral, f]), p["classifier.0.weight"], p["classifier.0.bias"]))
    return float(linear(c, p["classifier.3.weight"], p["classifier.3.bias"])[0])


def maxdiff(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def check_numpy_forward(golden: str) -> None:
    spai_dir, sem_dir = os.path.join(golden, "spai"), os.path.join(golden, "semantic")
    cfg = json.load(open(os.path.join(spai_dir, "config.json")))
    sd, _ = load_file(os.path.join(spai_dir, "weights.safetensors"))
    model = NpSpai(sd, cfg)
    check("np mask == reference mask (after fftshift)",
          np.array_equal(np.fft.fftshift(np_mask()), circular_mask(224, 16).numpy()))
    check("safetensors mask == reference mask",
          torch.equal(sd["mfvit.frequencies_mask"], circular_mask(224, 16)))
    exp = json.load(open(os.path.join(spai_dir, "expected.json")))["images"]
    sem_exp = {e["file"]: e for e in json.load(open(os.path.join(sem_dir, "expected.json")))["images"]}
    csd, _ = load_file(os.path.join(sem_dir, "convnext.safetensors"))
    cp = {k: v.double().numpy() for k, v in csd.items()}
    hsd, _ = load_file(os.path.join(sem_dir, "head.safetensors"))
    hp = {k: v.double().numpy() for k, v in hsd.items()}
    ccfg = json.load(open(os.path.join(sem_dir, "config.json")))["convnext"]
    tol = 2e-5
    worst = {"patch_features": 0.0, "image_feature": 0.0, "attention": 0.0, "logit": 0.0,
             "semantic_feature": 0.0, "fused_logit": 0.0, "input_stats": 0.0}
    native_img = {}
    for e in exp:
        img, (top, left, h, w) = np_load_pad(os.path.join(spai_dir, "images", e["file"]))
        native_img[e["file"]] = img
        # boxes given in original coordinates must follow from the padded boxes
        for b, bp in zip(e["patches"], e["patches_padded"]):
            x0, y0 = max(bp[0] - left, 0), max(bp[1] - top, 0)
            x1, y1 = min(bp[0] + bp[2] - left, w), min(bp[1] + bp[3] - top, h)
            if b != [x0, y0, x1 - x0, y1 - y0]:
                check(f"box {e['file']}", False, f"{b} vs {[x0, y0, x1 - x0, y1 - y0]}")
        patches = [img[:, y:y + hh, x:x + ww] for (x, y, ww, hh) in e["patches_padded"]]
        feats, imgf, attn, logit = model.forward(patches)
        worst["patch_features"] = max(worst["patch_features"], maxdiff(feats, e["patch_features"]))
        worst["image_feature"] = max(worst["image_feature"], maxdiff(imgf, e["image_feature"]))
        worst["attention"] = max(worst["attention"], maxdiff(attn, e["attention"]))
        worst["logit"] = max(worst["logit"], abs(logit - e["logit"]))
        # semantic path
        se = sem_exp[e["file"]]
        x = np_imagenet(np_resize(img, 224))
        worst["input_stats"] = max(worst["input_stats"], abs(x.mean() - se["semantic_input_stats"]["mean"]),
                                   abs(x.std(ddof=1) - se["semantic_input_stats"]["std"]))
        sf = np_convnext(cp, x, ccfg)
        worst["semantic_feature"] = max(worst["semantic_feature"], maxdiff(sf, se["semantic_feature"]))
        worst["fused_logit"] = max(worst["fused_logit"], abs(np_fusion(hp, imgf, sf) - se["fused_logit"]))
        check(f"spectral_feature == image_feature {e['file']}",
              se["spectral_feature"] == e["image_feature"])
    for k, v in worst.items():
        check(f"numpy float64 vs expected: {k}", v < tol, f"max {v:.2e}")

    pol = json.load(open(os.path.join(sem_dir, "resize_policy.json")))["entries"]
    w_logit = w_feat = w_fused = 0.0
    for e in pol:
        img = native_img[e["file"]]
        if e["policy"].startswith("resize:"):
            n = int(e["policy"].split(":")[1])
            img = np_resize(img, n)
        patches = [img[:, y:y + hh, x:x + ww] for (x, y, ww, hh) in e["patches"]]
        _, imgf, attn, logit = model.forward(patches)
        w_logit = max(w_logit, abs(logit - e["logit"]))
        w_feat = max(w_feat, maxdiff(imgf, e["image_feature"]))
        x = np_imagenet(np_resize(native_img[e["file"]], 224))
        w_fused = max(w_fused, abs(np_fusion(hp, imgf, np_convnext(cp, x, ccfg)) - e["fused_logit"]))
    check("numpy float64 vs resize_policy: logit", w_logit < tol, f"max {w_logit:.2e}")
    check("numpy float64 vs resize_policy: image_feature", w_feat < tol, f"max {w_feat:.2e}")
    check("numpy float64 vs resize_policy: fused_logit", w_fused < tol, f"max {w_fused:.2e}")


# ----------------------------------------------------------------------------------------
# 3. file formats
# ----------------------------------------------------------------------------------------
def check_files(golden: str) -> None:
    spai_dir, sem_dir = os.path.join(golden, "spai"), os.path.join(golden, "semantic")
    ref, meta = load_file(os.path.join(spai_dir, "weights.safetensors"))
    check("weights.safetensors metadata", meta.get("format") == "pt")
    ck = torch.load(os.path.join(spai_dir, "spai.pth"), map_location="cpu")
    check("spai.pth top-level keys",
          sorted(ck) == sorted(["model", "optimizer", "lr_scheduler", "max_accuracy", "epoch", "config"]))
    check("spai.pth config class", type(ck["config"]).__module__ + "." + type(ck["config"]).__name__
          == "yacs.config.CfgNode")
    check("spai.pth model == weights.safetensors",
          sorted(ck["model"]) == sorted(ref) and all(torch.equal(ck["model"][k], ref[k]) for k in ref))
    try:
        torch.load(os.path.join(spai_dir, "spai.pth"), map_location="cpu", weights_only=True)
        check("spai.pth refuses weights_only", False)
    except Exception:
        check("spai.pth refuses weights_only", True)
    fp16 = torch.load(os.path.join(spai_dir, "spai_bare_fp16.pth"), map_location="cpu", weights_only=True)
    bf16, _ = load_file(os.path.join(spai_dir, "spai_bf16.safetensors"))
    for name, sd, dt in (("fp16", fp16, torch.float16), ("bf16", bf16, torch.bfloat16)):
        ok = sorted(sd) == sorted(ref)
        for k, v in ref.items():
            if v.is_floating_point():
                ok &= sd[k].dtype == dt and torch.equal(sd[k], v.to(dt))
            else:
                ok &= sd[k].dtype == torch.int64 and torch.equal(sd[k], v)
        check(f"spai {name} == rounded weights, mask int64", ok)
    c1, _ = load_file(os.path.join(sem_dir, "convnext.safetensors"))
    c2 = torch.load(os.path.join(sem_dir, "open_clip_pytorch_model.bin"), map_location="cpu",
                    weights_only=True)
    check("open_clip .bin == convnext.safetensors",
          sorted(c1) == sorted(c2) and all(torch.equal(c1[k], c2[k]) for k in c1))
    check("open_clip has visual.trunk.stem.0.weight", "visual.trunk.stem.0.weight" in c1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--golden", default=DEFAULT_GOLDEN)
    ap.add_argument("--skip-numpy", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    check_primitives()
    check_files(args.golden)
    if not args.skip_numpy:
        check_numpy_forward(args.golden)
    print("FAILED: " + ", ".join(FAILS) if FAILS else "ALL CHECKS PASSED")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
