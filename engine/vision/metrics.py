"""How big and how visible a perturbation is, per sample and batched.

L-inf and L2 are in [0, 1] pixel units over all channels; L0 counts pixel *locations* changed
(a pixel = all channels at one location, as pixel-budget attacks count them). PSNR is computed
from the MSE, SSIM by pytorch-msssim (Gaussian window 11, or the largest odd window that fits
smaller images): both say how plausible the adversarial image still looks next to the original.
"""

from __future__ import annotations

import torch
from pytorch_msssim import ssim as _ssim


def linf(delta: torch.Tensor) -> torch.Tensor:
    return delta.abs().flatten(1).amax(1)


def l2(delta: torch.Tensor) -> torch.Tensor:
    return delta.flatten(1).norm(dim=1)


def l0_pixels(delta: torch.Tensor) -> torch.Tensor:
    """Pixel locations where any channel changed."""
    return (delta != 0).any(dim=1).flatten(1).sum(1)


def psnr(x: torch.Tensor, adv: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB for data range 1; ``inf`` where nothing changed."""
    mse = (adv - x).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(1.0 / mse)


def ssim(x: torch.Tensor, adv: torch.Tensor) -> torch.Tensor:
    """Per-image structural similarity of ``adv`` to ``x`` (1 = identical)."""
    side = min(x.shape[-2:])
    win = min(11, side if side % 2 else side - 1)
    return _ssim(
        x.float().contiguous(),
        adv.float().contiguous(),
        data_range=1.0,
        size_average=False,
        win_size=win,
    )


def perturbation_stats(x: torch.Tensor, adv: torch.Tensor) -> dict[str, torch.Tensor]:
    """All per-sample measures of ``adv - x`` at once, as tensors of shape ``[N]``."""
    delta = adv - x
    return {
        "linf": linf(delta),
        "l2": l2(delta),
        "l0": l0_pixels(delta).float(),
        "psnr": psnr(x, adv),
        "ssim": ssim(x, adv),
    }
