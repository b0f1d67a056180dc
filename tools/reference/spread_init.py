"""Test weights whose outputs SPREAD (spec §6 "Test weights").

Upstream's own initialisation (trunc_normal 0.02, zero biases, unit LayerNorms, tiny layer
scale) makes every score sit near 0.5, so a parity test on such weights checks almost nothing.
Here, deterministically from a seed:
  Linear / Conv2d weight   ~ N(0, 1/fan_in)        (fan_in = in/groups * kh * kw)
  every bias               ~ N(0, 0.05^2)           (incl. attn.q_bias / attn.v_bias)
  LayerNorm weight         ~ 1 + 0.1 N(0,1),  bias ~ N(0, 0.05^2)
  cls_token, pos_embed, cls_pos_embed, actual_cls_token ~ N(0, 0.1^2)
  patch_aggregator         ~ N(0, 1)   (so the SCA softmax is far from uniform)
  FRE alpha                ~ N(0, 1)   (upstream also draws randn)
  ConvNeXt gamma           ~ 0.5 + 0.1 N(0,1)
  Embedding / text extras  ~ N(0, 0.02^2)
The int64 frequencies mask is left untouched. The last classifier layer is rescaled
afterwards (see make_fixtures.py) so that logits over the fixture images have std ~1.5.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _normal(shape, std, gen, mean=0.0):
    return torch.randn(shape, generator=gen, dtype=torch.float32) * std + mean


@torch.no_grad()
def spread_(model: nn.Module, seed: int) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    for name, m in model.named_modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            w = m.weight
            fan_in = w.shape[1] * (w[0, 0].numel() if w.dim() > 2 else 1)
            w.copy_(_normal(w.shape, 1.0 / math.sqrt(fan_in), gen))
            if m.bias is not None:
                m.bias.copy_(_normal(m.bias.shape, 0.05, gen))
        elif isinstance(m, nn.LayerNorm):
            m.weight.copy_(_normal(m.weight.shape, 0.1, gen, mean=1.0))
            m.bias.copy_(_normal(m.bias.shape, 0.05, gen))
        elif isinstance(m, nn.Embedding):
            m.weight.copy_(_normal(m.weight.shape, 0.02, gen))
    for name, p in model.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if p.dtype != torch.float32:
            continue                                   # frequencies_mask (int64)
        if leaf in ("cls_token", "pos_embed", "cls_pos_embed", "actual_cls_token"):
            p.copy_(_normal(p.shape, 0.1, gen))
        elif leaf in ("q_bias", "v_bias"):
            p.copy_(_normal(p.shape, 0.05, gen))
        elif leaf in ("patch_aggregator", "alpha"):
            p.copy_(_normal(p.shape, 1.0, gen))
        elif leaf == "gamma":
            p.copy_(_normal(p.shape, 0.1, gen, mean=0.5))
        elif leaf in ("positional_embedding",):
            p.copy_(_normal(p.shape, 0.02, gen))
    return model
