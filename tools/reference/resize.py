"""torchvision 0.14 `transforms.Resize((h, w), antialias=True)` on a float tensor.

torchvision.transforms.functional.resize returns the input unchanged when the size already
matches; otherwise functional_tensor.resize calls
    torch.nn.functional.interpolate(img, size, mode="bilinear", align_corners=False, antialias=True)
on a float32 4-D tensor. No rounding and no clamping for bilinear on float input.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def resize_bilinear_antialias(img_chw: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """3 x H x W float -> 3 x height x width float (identity when already that size)."""
    if tuple(img_chw.shape[-2:]) == (height, width):
        return img_chw
    out = F.interpolate(img_chw.unsqueeze(0), size=[height, width], mode="bilinear",
                        align_corners=False, antialias=True)
    return out.squeeze(0)


def imagenet_normalize(x: torch.Tensor) -> torch.Tensor:
    """transforms.Normalize(IMAGENET mean/std) on ... x 3 x H x W: (x - mean) / std, in x's dtype."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype).view(-1, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype).view(-1, 1, 1)
    return (x - mean) / std
