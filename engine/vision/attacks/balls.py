"""Threat models: random starts and projections for the L-inf, L2 and L0 (pixel) balls.

Every projection also clamps to the valid image box [0, 1]. Per-sample constants (the L-inf box
bounds) are cached in the loop's ``state`` dict, which the loop shrinks along with the batch
when samples stop, so they are computed once per attack, not once per step.
All functions are batched over the first dimension; nothing loops over samples in Python.
"""

from __future__ import annotations

import torch


def flat_norm(t: torch.Tensor) -> torch.Tensor:
    """Per-sample L2 norm, shaped ``[N, 1, 1, 1]`` for broadcasting."""
    return t.flatten(1).norm(dim=1).view(-1, *([1] * (t.dim() - 1)))


# --------------------------------------------------------------------------- L-inf


def linf_start(images: torch.Tensor, eps: float) -> torch.Tensor:
    """A uniform random point of the eps-box around ``images``, clamped to [0, 1] (Madry et al.).

    Draws exactly as torchattacks.PGD does, so the same seed gives the same start.
    """
    noise = torch.empty_like(images).uniform_(-eps, eps)
    return (images + noise).clamp_(0.0, 1.0)


def linf_project(x: torch.Tensor, state: dict[str, torch.Tensor], eps: float) -> torch.Tensor:
    """``x`` clamped into ``[x0 - eps, x0 + eps]`` and [0, 1] in one op (bounds cached)."""
    if "lo" not in state:
        x0 = state["x0"]
        state["lo"] = (x0 - eps).clamp_(min=0.0)
        state["hi"] = (x0 + eps).clamp_(max=1.0)
    return torch.clamp(x, state["lo"], state["hi"])


def sign_step(
    x: torch.Tensor, grad: torch.Tensor, state: dict[str, torch.Tensor], alpha: float, eps: float
) -> torch.Tensor:
    """The L-inf steepest-ascent step ``x + alpha * sign(grad)``, projected (FGSM/BIM/PGD)."""
    return linf_project(x + alpha * grad.sign_(), state, eps)


# --------------------------------------------------------------------------- L2


def l2_start(images: torch.Tensor, eps: float) -> torch.Tensor:
    """A random point of the L2 ball of radius ``eps``: a Gaussian direction, a uniform radius.

    Draws exactly as torchattacks.PGDL2 does (direction, then radius), so seeds agree.
    """
    delta = torch.empty_like(images).normal_()
    n = flat_norm(delta)
    r = torch.zeros_like(n).uniform_(0, 1)
    delta *= r / n * eps
    return (images + delta).clamp_(0.0, 1.0)


def l2_project(x: torch.Tensor, state: dict[str, torch.Tensor], eps: float) -> torch.Tensor:
    """``x`` pulled back onto the L2 ball of radius ``eps`` around ``x0``, then clamped."""
    x0 = state["x0"]
    delta = x - x0
    factor = (eps / flat_norm(delta)).clamp_(max=1.0)  # eps / 0 = inf -> 1: nothing to pull
    return (x0 + delta * factor).clamp_(0.0, 1.0)


def l2_step(
    x: torch.Tensor,
    grad: torch.Tensor,
    state: dict[str, torch.Tensor],
    alpha: float,
    eps: float,
    tiny: float = 1e-10,
) -> torch.Tensor:
    """The L2 steepest-ascent step ``x + alpha * grad / ||grad||``, projected (PGD-L2)."""
    grad = grad / (flat_norm(grad) + tiny)
    return l2_project(x + alpha * grad, state, eps)


# --------------------------------------------------------------------------- L0 (pixels)


def l0_project(x: torch.Tensor, x0: torch.Tensor, k: int) -> torch.Tensor:
    """The closest image to ``x`` in [0, 1] that differs from ``x0`` in at most ``k`` pixels.

    A pixel is all channels at one location. As Croce & Hein's ``project_L0_box``: clamp to the
    box, score each location by how much of the (clamped) change survives, sum of squares over
    channels, keep the ``k`` best locations and reset the others to ``x0``. ``topk`` picks
    exactly ``k`` locations, so ties can never keep more.
    """
    n, _, h, w = x.shape
    inside = x.clamp(0.0, 1.0)
    delta = x - x0
    kept = inside - x0
    score = (delta.square() - (delta - kept).square()).sum(1).view(n, h * w)
    k = min(int(k), h * w)
    top = score.topk(k, dim=1).indices
    mask = torch.zeros_like(score, dtype=torch.bool).scatter_(1, top, True).view(n, 1, h, w)
    return torch.where(mask, inside, x0)


def l0_start(images: torch.Tensor, k: int) -> torch.Tensor:
    """A uniform random image in [0, 1] projected onto the k-pixel set around ``images``."""
    return l0_project(torch.rand_like(images), images, k)
