"""Sem-SPAI semantic branch (spec §3, §7): a timm-layout ConvNeXt trunk as OpenCLIP wraps it,
the Sem-SPAI fusion head, and the semantic input path.

ConvNeXt (timm convnext.py, conv_mlp=False, ls_init_value -> `gamma`, norm_eps for every norm):
  stem      = Conv2d(3, d0, 4, stride 4) -> LayerNorm2d
  stage i   = [downsample = LayerNorm2d -> Conv2d(k2, s2)]  (stages 1..3 only) -> blocks
  block     = conv_dw 7x7 depthwise pad 3 -> permute NHWC -> LayerNorm -> fc1 -> GELU(exact)
              -> fc2 -> permute NCHW -> * gamma -> + shortcut
  head.norm = LayerNorm2d (NormMlpClassifierHead; Sem-SPAI sets head.global_pool and
              head.flatten to Identity, so the trunk returns head.norm(map) unpooled)
  Sem-SPAI then applies AdaptiveAvgPool2d(1) + flatten:  LN first, THEN pool.

Keys (OpenCLIP file): visual.trunk.stem.{0,1}.*, visual.trunk.stages.{i}.downsample.{0,1}.*,
visual.trunk.stages.{i}.blocks.{j}.{gamma,conv_dw.*,norm.*,mlp.fc1.*,mlp.fc2.*},
visual.trunk.head.norm.*, visual.head.proj.weight (unused), text tower (unused).

Fusion head (sid.py SemanticContextModel):
  semantic_projection = LN(C) -> Linear(C, p) -> GELU -> Dropout
  fusion_layer        = Linear(F + p, f) -> GELU -> Dropout
  classifier          = Linear(F + f, f) -> GELU -> Dropout -> Linear(f, 1)
  logit = classifier(cat[spectral, fusion_layer(cat[spectral, semantic_projection(sem)])])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from preprocess import pad_image
from resize import imagenet_normalize, resize_bilinear_antialias


@dataclass
class ConvNextConfig:
    depths: Sequence[int] = field(default_factory=lambda: [3, 4, 30, 3])
    dims: Sequence[int] = field(default_factory=lambda: [384, 768, 1536, 3072])
    norm_eps: float = 1e-5
    input_size: int = 224
    clip_embed_dim: int = 1024      # visual.head.proj output (unused)
    text_vocab: int = 49408         # text tower extras (unused)
    text_width: int = 1024
    text_context: int = 77

    def to_json(self) -> Dict:
        return {"depths": list(self.depths), "dims": list(self.dims),
                "layer_norm_eps": self.norm_eps, "input_size": self.input_size,
                "stem": {"kernel": 4, "stride": 4}, "dwconv": {"kernel": 7, "padding": 3},
                "mlp_ratio": 4}


@dataclass
class FusionConfig:
    spectral_dim: int = 1096
    semantic_dim: int = 3072
    projection_dim: int = 256
    fusion_dim: int = 512

    def to_json(self) -> Dict:
        return {"spectral_dim": self.spectral_dim, "semantic_dim": self.semantic_dim,
                "projection_dim": self.projection_dim, "fusion_dim": self.fusion_dim,
                "layer_norm_eps": 1e-5}


TINY_CONVNEXT = ConvNextConfig(depths=[1, 1, 2, 1], dims=[8, 16, 32, 64], clip_embed_dim=16,
                               text_vocab=64, text_width=16, text_context=8)
TINY_FUSION = FusionConfig(spectral_dim=88, semantic_dim=64, projection_dim=16, fusion_dim=24)


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over channels of an NCHW tensor (timm LayerNorm2d)."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.conv_dw = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True)
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, 4 * dim)
        self.gamma = nn.Parameter(1e-6 * torch.ones(dim))

    def forward(self, x):
        shortcut = x
        x = self.conv_dw(x).permute(0, 2, 3, 1)
        x = self.mlp(self.norm(x)).permute(0, 3, 1, 2)
        x = x.mul(self.gamma.reshape(1, -1, 1, 1))
        return x + shortcut


class ConvNeXtStage(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, depth: int, downsample: bool, eps: float):
        super().__init__()
        if downsample:
            self.downsample = nn.Sequential(LayerNorm2d(in_dim, eps=eps),
                                            nn.Conv2d(in_dim, out_dim, kernel_size=2, stride=2))
        else:
            self.downsample = nn.Identity()
        self.blocks = nn.Sequential(*[ConvNeXtBlock(out_dim, eps) for _ in range(depth)])

    def forward(self, x):
        return self.blocks(self.downsample(x))


class ConvNeXtHead(nn.Module):
    """NormMlpClassifierHead after Sem-SPAI's surgery: only head.norm remains active."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.norm = LayerNorm2d(dim, eps=eps)

    def forward(self, x):
        return self.norm(x)


class ConvNeXtTrunk(nn.Module):
    def __init__(self, cfg: ConvNextConfig):
        super().__init__()
        eps = cfg.norm_eps
        d = list(cfg.dims)
        self.stem = nn.Sequential(nn.Conv2d(3, d[0], kernel_size=4, stride=4),
                                  LayerNorm2d(d[0], eps=eps))
        stages = []
        prev = d[0]
        for i, (depth, dim) in enumerate(zip(cfg.depths, d)):
            stages.append(ConvNeXtStage(prev, dim, depth, downsample=i > 0, eps=eps))
            prev = dim
        self.stages = nn.Sequential(*stages)
        self.head = ConvNeXtHead(prev, eps)

    def forward_map(self, x):
        """Stage-3 output before head.norm: B x C x h x w."""
        return self.stages(self.stem(x))

    def forward(self, x):
        """Sem-SPAI: head.norm on the unpooled map, then global average pool."""
        return F.adaptive_avg_pool2d(self.head(self.forward_map(x)), 1).flatten(1)


class VisualTower(nn.Module):
    def __init__(self, cfg: ConvNextConfig):
        super().__init__()
        self.trunk = ConvNeXtTrunk(cfg)
        self.head = nn.Module()
        self.head.proj = nn.Linear(cfg.dims[-1], cfg.clip_embed_dim, bias=False)   # unused


class OpenClipConvNext(nn.Module):
    """Just enough of an OpenCLIP CustomTextCLIP to reproduce its state-dict key names."""

    def __init__(self, cfg: ConvNextConfig):
        super().__init__()
        self.visual = VisualTower(cfg)
        # text-tower tensors that an importer must ignore
        self.token_embedding = nn.Embedding(cfg.text_vocab, cfg.text_width)
        self.positional_embedding = nn.Parameter(torch.zeros(cfg.text_context, cfg.text_width))
        self.logit_scale = nn.Parameter(torch.ones([]) * np.log(1 / 0.07))


class FusionHead(nn.Module):
    def __init__(self, cfg: FusionConfig):
        super().__init__()
        self.semantic_projection = nn.Sequential(
            nn.LayerNorm(cfg.semantic_dim), nn.Linear(cfg.semantic_dim, cfg.projection_dim),
            nn.GELU(), nn.Dropout(0.5))
        self.fusion_layer = nn.Sequential(
            nn.Linear(cfg.spectral_dim + cfg.projection_dim, cfg.fusion_dim), nn.GELU(),
            nn.Dropout(0.5))
        self.classifier = nn.Sequential(
            nn.Linear(cfg.spectral_dim + cfg.fusion_dim, cfg.fusion_dim), nn.GELU(),
            nn.Dropout(0.5), nn.Linear(cfg.fusion_dim, 1))

    def forward(self, spectral: torch.Tensor, semantic: torch.Tensor) -> torch.Tensor:
        """spectral: B x F (post-LayerNorm SCA output), semantic: B x C (pooled) -> B x 1."""
        sem = self.semantic_projection(semantic)
        fused = self.fusion_layer(torch.cat([spectral, sem], dim=1))
        return self.classifier(torch.cat([spectral, fused], dim=1))


def semantic_input(img_hwc_u8: np.ndarray, size: int = 224) -> torch.Tensor:
    """Sem-SPAI test path: reflect-101 pad short sides to 224 (the dataset transform), [0,1] float,
    Resize((224,224), antialias=True) on the float tensor (no rounding/clamping), ImageNet norm.
    Returns 3 x 224 x 224."""
    padded, _ = pad_image(img_hwc_u8, 224)
    return imagenet_normalize(resize_bilinear_antialias(padded, size, size))
