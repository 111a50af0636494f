"""Batch augmentation written with torch ops: random shift, flip, cutout, mixup and cutmix.

Images are tensors of shape ``(batch, channels, height, width)``. Every random draw comes from
the ``torch.Generator`` or ``numpy.random.Generator`` passed in, so training stays reproducible.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def random_shift(images: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to ``pad`` pixels in each direction (zero padding, random crop)."""
    if pad <= 0:
        return images
    batch, _, height, width = images.shape
    padded = F.pad(images, (pad, pad, pad, pad))
    offsets = torch.randint(0, 2 * pad + 1, (2, batch), generator=generator)
    rows = offsets[0][:, None] + torch.arange(height)  # (batch, height)
    cols = offsets[1][:, None] + torch.arange(width)  # (batch, width)
    index = torch.arange(batch)[:, None, None]
    # Advanced indexing over (batch, rows, cols) gives (batch, height, width, channels).
    cropped = padded.permute(0, 2, 3, 1)[index, rows[:, :, None], cols[:, None, :]]
    return cropped.permute(0, 3, 1, 2).contiguous()


def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip half of the images horizontally, chosen at random."""
    flip = torch.rand(images.shape[0], generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def cutout(images: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """Zero one ``size`` x ``size`` square per image at a random center (DeVries & Taylor 2017)."""
    if size <= 0:
        return images
    batch, _, height, width = images.shape
    centers_y = torch.randint(0, height, (batch,), generator=generator)
    centers_x = torch.randint(0, width, (batch,), generator=generator)
    ys = torch.arange(height)[None, :]
    xs = torch.arange(width)[None, :]
    inside_y = (ys - centers_y[:, None]).abs() * 2 < size  # (batch, height)
    inside_x = (xs - centers_x[:, None]).abs() * 2 < size  # (batch, width)
    mask = inside_y[:, :, None] & inside_x[:, None, :]
    return images * (~mask)[:, None, :, :].to(images.dtype)


def mixup(
    inputs: torch.Tensor, alpha: float, rng: np.random.Generator, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Mix each input with a random partner (Zhang et al. 2018, "mixup").

    Returns:
        The mixed inputs, the partner permutation and the weight ``lam`` of the original inputs:
        the loss is ``lam * loss(y) + (1 - lam) * loss(y[permutation])``.
    """
    lam = float(rng.beta(alpha, alpha))
    permutation = torch.randperm(inputs.shape[0], generator=generator)
    return lam * inputs + (1.0 - lam) * inputs[permutation], permutation, lam


def cutmix(
    images: torch.Tensor, alpha: float, rng: np.random.Generator, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Paste a random box from a partner image into each image (Yun et al. 2019, "CutMix").

    Returns:
        The mixed images, the partner permutation and the share ``lam`` of each image that
        remains its own, corrected for the box being clipped at the border.
    """
    _, _, height, width = images.shape
    lam = float(rng.beta(alpha, alpha))
    box_h, box_w = int(height * np.sqrt(1 - lam)), int(width * np.sqrt(1 - lam))
    center_y, center_x = int(rng.integers(height)), int(rng.integers(width))
    top, bottom = max(center_y - box_h // 2, 0), min(center_y + box_h // 2, height)
    left, right = max(center_x - box_w // 2, 0), min(center_x + box_w // 2, width)
    permutation = torch.randperm(images.shape[0], generator=generator)
    mixed = images.clone()
    mixed[:, :, top:bottom, left:right] = images[permutation, :, top:bottom, left:right]
    lam = 1.0 - (bottom - top) * (right - left) / (height * width)
    return mixed, permutation, lam
