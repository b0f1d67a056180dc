"""Independent PyTorch reference of SPAI (spec §1, §6), written from the spec and checked
against upstream's behaviour; module and parameter names are chosen so that
`state_dict()` keys equal the keys of upstream's `PatchBasedMFViT` checkpoint.

Layout (keys):
  patch_aggregator                                   (H, 1, A/H)
  mfvit.frequencies_mask                             (S, S) int64, non-trainable
  mfvit.vit.{cls_token,pos_embed,cls_pos_embed,actual_cls_token}
  mfvit.vit.patch_embed.proj.{weight,bias}
  mfvit.vit.blocks.{i}.{norm1,attn.qkv,attn.q_bias,attn.v_bias,attn.proj,norm2,mlp.fc1,mlp.fc2}
  mfvit.vit.fc_norm.*, cls_blocks.0.*, intermediate_fc_norm.{j}.*, head.*     (unused)
  mfvit.features_processor.patch_projector.projectors.{j}.{norm1,projector.1,projector.4,norm2}.*
  mfvit.features_processor.original_features_processor.{alpha,proj1.projector.{1,4},proj1.norm2,
                                                         proj2.projector.{1,4},proj2.norm2}
  to_kv.weight, to_out.0.weight, norm.*, cls_head.head.{0,3,6}.*

All dropout layers exist only to keep Sequential indices; the reference runs in eval mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import torch
from torch import nn
import torch.nn.functional as F

from resize import imagenet_normalize


# ----------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------
@dataclass
class SpaiConfig:
    img_size: int = 224
    patch_size: int = 16
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    vit_ln_eps: float = 1e-6
    vit_num_classes: int = 2          # size of the unused vit.head (MODEL.NUM_CLASSES)
    projection_dim: int = 1024
    intermediate_layers: Sequence[int] = field(default_factory=lambda: list(range(12)))
    masking_radius: int = 16
    attn_embed_dim: int = 1536
    sca_heads: int = 12
    head_mlp_ratio: int = 3
    patch: int = 224
    stride: int = 224
    minimum_patches: int = 4

    @property
    def feature_dim(self) -> int:
        return 6 * len(self.intermediate_layers) + self.projection_dim

    def to_json(self) -> Dict:
        return {
            "vit": {"img_size": self.img_size, "patch_size": self.patch_size,
                    "embed_dim": self.embed_dim, "depth": self.depth,
                    "num_heads": self.num_heads, "mlp_ratio": self.mlp_ratio,
                    "layer_norm_eps": self.vit_ln_eps},
            "fre": {"projection_dim": self.projection_dim,
                    "intermediate_layers": list(self.intermediate_layers),
                    "masking_radius": self.masking_radius},
            "sca": {"attn_embed_dim": self.attn_embed_dim, "num_heads": self.sca_heads},
            "head": {"mlp_ratio": self.head_mlp_ratio},
            "patch": {"size": self.patch, "stride": self.stride,
                      "minimum_patches": self.minimum_patches},
        }


TINY = SpaiConfig(embed_dim=32, depth=4, num_heads=2, mlp_ratio=4.0, projection_dim=64,
                  intermediate_layers=[0, 1, 2, 3], masking_radius=16, attn_embed_dim=48,
                  sca_heads=4, head_mlp_ratio=3)


# ----------------------------------------------------------------------------------------
# Frequency filtering (filters.py)
# ----------------------------------------------------------------------------------------
def circular_mask(size: int, radius: int) -> torch.Tensor:
    """int64 size x size. Coordinates per axis are [size/2-1, ..., 1, 0, 0, 1, ..., size/2-1]
    (NOT centred on the DC bin at index size/2 after fftshift); keep where sqrt(x^2+y^2) < radius."""
    assert size % 2 == 0
    half = torch.arange(0, size // 2, dtype=torch.float32)
    coords = torch.cat([half.flip(0), half])                # [111..0, 0..111] for 224
    cx = coords.unsqueeze(0).expand(size, -1)               # varies along columns
    cy = cx.t()                                             # varies along rows
    r = torch.sqrt(cx * cx + cy * cy)
    return torch.where(r < radius, 1, 0).to(torch.int64)


def filter_frequencies(x: torch.Tensor, mask: torch.Tensor):
    """Low/high split of B x C x H x W. fftshift/ifftshift act on ALL dims as upstream does
    (the B and C shifts cancel); the result is the real part of the complex ifft2."""
    spec = torch.fft.fftshift(torch.fft.fft2(x))
    low = torch.fft.ifft2(torch.fft.ifftshift(spec * mask)).real
    high = torch.fft.ifft2(torch.fft.ifftshift(spec * (1 - mask))).real
    return low, high


# ----------------------------------------------------------------------------------------
# BEiT-style ViT (vision_transformer.py)
# ----------------------------------------------------------------------------------------
class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()                                # exact erf GELU
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """qkv Linear without bias; separate q_bias and v_bias, k gets zero bias."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        head_dim = dim // num_heads
        self.scale = head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        bias = torch.cat([self.q_bias, torch.zeros_like(self.v_bias), self.v_bias])
        qkv = F.linear(x, self.qkv.weight, bias)
        qkv = qkv.reshape(b, n, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        q = q * self.scale
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(b, n, -1)
        return self.proj(out)


class Block(nn.Module):
    """Pre-norm block, no layer scale (INIT_VALUES None), no drop-path in eval."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, eps: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


class PatchEmbed(nn.Module):
    def __init__(self, patch: int, dim: int):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)     # B x (h*w) x D, row-major tokens


class VisionTransformer(nn.Module):
    """Returns the raw output of each selected block without the CLS token: B x N x L x D."""

    def __init__(self, cfg: SpaiConfig):
        super().__init__()
        d = cfg.embed_dim
        n_tokens = (cfg.img_size // cfg.patch_size) ** 2 + 1
        self.intermediate_layers = list(cfg.intermediate_layers)
        self.patch_embed = PatchEmbed(cfg.patch_size, d)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.zeros(1, n_tokens, d))
        self.blocks = nn.ModuleList(
            [Block(d, cfg.num_heads, cfg.mlp_ratio, cfg.vit_ln_eps) for _ in range(cfg.depth)])
        # ---- parameters present in the checkpoint but never used by SPAI's forward ----
        self.fc_norm = nn.LayerNorm(d, eps=cfg.vit_ln_eps)
        self.cls_pos_embed = nn.Parameter(torch.zeros(1, n_tokens, d))
        self.actual_cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.cls_blocks = nn.ModuleList([Block(d, cfg.num_heads, cfg.mlp_ratio, cfg.vit_ln_eps)])
        self.intermediate_fc_norm = nn.ModuleList(
            [nn.LayerNorm(d, eps=cfg.vit_ln_eps) for _ in self.intermediate_layers])
        self.head = nn.Linear(d * len(self.intermediate_layers), cfg.vit_num_classes)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.pos_embed
        outs = []
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            if i in self.intermediate_layers:
                outs.append(x[:, 1:])
        return torch.stack(outs, dim=1)


# ----------------------------------------------------------------------------------------
# Frequency Restoration Estimator (sid.py)
# ----------------------------------------------------------------------------------------
class Projector(nn.Module):
    """[LN] -> Dropout -> (Linear -> act -> Dropout) x layers -> LN; the last act may differ."""

    def __init__(self, in_dim: int, out_dim: int, layers: int = 2, last_act: str = "gelu",
                 input_norm: bool = True):
        super().__init__()
        self.norm1 = nn.LayerNorm(in_dim) if input_norm else nn.Identity()
        mods: List[nn.Module] = [nn.Dropout(0.5)]
        for i in range(layers):
            act = nn.GELU() if (i < layers - 1 or last_act == "gelu") else nn.Identity()
            mods += [nn.Linear(in_dim if i == 0 else out_dim, out_dim), act, nn.Dropout(0.5)]
        self.projector = nn.Sequential(*mods)
        self.norm2 = nn.LayerNorm(out_dim)

    def forward(self, x):
        return self.norm2(self.projector(self.norm1(x)))


class FeatureSpecificProjector(nn.Module):
    def __init__(self, n: int, in_dim: int, out_dim: int):
        super().__init__()
        self.projectors = nn.ModuleList(
            [Projector(in_dim, out_dim, last_act="none") for _ in range(n)])

    def forward(self, x):                                   # B x N x L x D
        return torch.stack([p(x[:, i]) for i, p in enumerate(self.projectors)], dim=1)


class FeatureImportanceProjector(nn.Module):
    def __init__(self, n: int, dim: int):
        super().__init__()
        self.alpha = nn.Parameter(torch.randn(1, n, dim))
        self.proj1 = Projector(2 * dim, dim, input_norm=False)   # last act GELU
        self.proj2 = Projector(dim, dim, input_norm=False)

    def forward(self, x):                                   # B x N x L x P
        x = torch.cat([x.mean(dim=2), x.std(dim=2)], dim=-1)  # unbiased std (n-1)
        x = self.proj1(x)
        x = (torch.softmax(self.alpha, dim=1) * x).sum(dim=1)
        return self.proj2(x)


def cosine_similarity(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """a.b / max(|a||b|, eps) over the last dim."""
    num = (a * b).sum(-1)
    den = torch.clamp(a.norm(dim=-1) * b.norm(dim=-1), min=eps)
    return num / den


class FrequencyRestorationEstimator(nn.Module):
    def __init__(self, cfg: SpaiConfig):
        super().__init__()
        n = len(cfg.intermediate_layers)
        self.patch_projector = FeatureSpecificProjector(n, cfg.embed_dim, cfg.projection_dim)
        self.original_features_processor = FeatureImportanceProjector(n, cfg.projection_dim)

    def forward(self, x, low, high, debug: Optional[Dict] = None):
        orig = self.patch_projector(x)
        low = self.patch_projector(low)
        high = self.patch_projector(high)
        s_ol = cosine_similarity(orig, low)                 # B x N x L
        s_oh = cosine_similarity(orig, high)
        s_lh = cosine_similarity(low, high)
        sims = torch.cat([s_ol.mean(-1), s_ol.std(-1), s_oh.mean(-1), s_oh.std(-1),
                          s_lh.mean(-1), s_lh.std(-1)], dim=1)   # B x 6N
        orig_feat = self.original_features_processor(orig)      # B x P
        if debug is not None:
            debug["projected_orig"] = orig
            debug["sims"] = sims
            debug["orig_feature"] = orig_feat
        return torch.cat([sims, orig_feat], dim=1)


class MFViT(nn.Module):
    def __init__(self, cfg: SpaiConfig):
        super().__init__()
        self.vit = VisionTransformer(cfg)
        self.features_processor = FrequencyRestorationEstimator(cfg)
        self.frequencies_mask = nn.Parameter(circular_mask(cfg.img_size, cfg.masking_radius),
                                             requires_grad=False)

    def forward(self, x, debug: Optional[Dict] = None):
        """x: B x 3 x 224 x 224 in [0, 1] -> B x (6N + P)."""
        # upstream: x.float(); a float64 run (precision study) keeps float64 throughout.
        xf = x if x.dtype == torch.float64 else x.float()
        low, high = filter_frequencies(xf, self.frequencies_mask)
        low = torch.clamp(low, 0.0, 1.0).to(x.dtype)
        high = torch.clamp(high, 0.0, 1.0).to(x.dtype)
        f_x = self.vit(imagenet_normalize(x))
        f_low = self.vit(imagenet_normalize(low))
        f_high = self.vit(imagenet_normalize(high))
        if debug is not None:
            debug.update(low=low, high=high, vit_orig_blocks=f_x, vit_low_blocks=f_low,
                         vit_high_blocks=f_high)
        return self.features_processor(f_x, f_low, f_high, debug)


class ClassificationHead(nn.Module):
    def __init__(self, dim: int, mlp_ratio: int):
        super().__init__()
        h = dim * mlp_ratio
        self.head = nn.Sequential(nn.Linear(dim, h), nn.ReLU(), nn.Dropout(0.5),
                                  nn.Linear(h, h), nn.ReLU(), nn.Dropout(0.5),
                                  nn.Linear(h, 1))

    def forward(self, x):
        return self.head(x)


@dataclass
class SpaiOutput:
    patch_features: torch.Tensor   # L x F   (MFViT output per patch)
    sca_output: torch.Tensor       # F       (patches_attention, before `norm`)
    image_feature: torch.Tensor    # F       (after `norm`; the classification head's input)
    attention: torch.Tensor        # L       (softmax weights averaged over heads)
    attention_heads: torch.Tensor  # H x L
    logit: torch.Tensor            # scalar


class SPAI(nn.Module):
    """PatchBasedMFViT in eval mode."""

    def __init__(self, cfg: SpaiConfig):
        super().__init__()
        self.cfg = cfg
        fdim = cfg.feature_dim
        self.mfvit = MFViT(cfg)
        self.heads = cfg.sca_heads
        self.scale = (cfg.attn_embed_dim // cfg.sca_heads) ** -0.5
        self.to_kv = nn.Linear(fdim, cfg.attn_embed_dim * 2, bias=False)
        self.patch_aggregator = nn.Parameter(
            torch.zeros(cfg.sca_heads, 1, cfg.attn_embed_dim // cfg.sca_heads))
        self.to_out = nn.Sequential(nn.Linear(cfg.attn_embed_dim, fdim, bias=False),
                                    nn.Dropout(0.5))
        self.norm = nn.LayerNorm(fdim)
        self.cls_head = ClassificationHead(fdim, cfg.head_mlp_ratio)

    def patches_attention(self, x):
        """x: B x L x F -> (B x F, attn B x H x 1 x L)."""
        b, l, _ = x.shape
        agg = self.patch_aggregator.expand(b, -1, -1, -1)            # B x H x 1 x d
        k, v = self.to_kv(x).chunk(2, dim=-1)
        k = k.reshape(b, l, self.heads, -1).transpose(1, 2)          # B x H x L x d
        v = v.reshape(b, l, self.heads, -1).transpose(1, 2)
        dots = torch.matmul(agg, k.transpose(-1, -2)) * self.scale   # B x H x 1 x L
        attn = dots.softmax(dim=-1)
        out = torch.matmul(attn, v)                                  # B x H x 1 x d
        out = out.transpose(1, 2).reshape(b, 1, -1)                  # B x 1 x (H d)
        return self.to_out(out).squeeze(1), attn

    def forward_patches(self, patches: torch.Tensor, debug: Optional[Dict] = None) -> SpaiOutput:
        """patches: L x 3 x 224 x 224 of ONE image, in [0, 1]."""
        feats = self.mfvit(patches, debug)                           # L x F
        sca, attn = self.patches_attention(feats.unsqueeze(0))
        img = self.norm(sca)
        logit = self.cls_head(img)
        return SpaiOutput(patch_features=feats, sca_output=sca[0], image_feature=img[0],
                          attention=attn.mean(dim=1)[0, 0], attention_heads=attn[0, :, 0],
                          logit=logit[0, 0])
