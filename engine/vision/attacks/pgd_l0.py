"""Sparse PGD (PGD_0): L1-normalised gradient steps projected onto the k-pixel set."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from engine.vision.attacks.balls import l0_project, l0_start
from engine.vision.attacks.base import AttackResult, register
from engine.vision.attacks.loop import State, gradient_attack
from engine.vision.attacks.targets import TargetSpec


def l0_step(x: torch.Tensor, grad: torch.Tensor, state: State, alpha: float, k: int):
    """``x + alpha * grad / ||grad||_1``, projected onto the k-pixel set around ``x0``."""
    l1 = grad.abs().sum(dim=(1, 2, 3), keepdim=True).add_(1e-10)
    return l0_project(x + (alpha / l1) * grad, state["x0"], k)


@register(
    "pgd-l0",
    "pixels",
    "sparse PGD (Croce & Hein 2019): gradient steps kept to the k best pixels each step",
)
def pgd_l0(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float, *,
    alpha: float = 120000 / 255, steps: int = 20, random_start: bool = True,
    target: TargetSpec = None, early_stop: bool = True,
) -> AttackResult:  # fmt: skip
    r"""PGD_0 in the paper 'Sparse and Imperceivable Adversarial Attacks'
    [https://arxiv.org/abs/1909.05040] (Croce & Hein, ICCV 2019).

    Distance measure: L0 over pixel locations (a pixel is all C channels at one place). Start
    at a random image projected onto the k-pixel set, then ``steps`` times
    ``x <- P_k(x + alpha * g / ||g||_1)`` with ``g = grad_x CE(f(x), y)``, where ``P_k`` clamps
    to [0, 1] and keeps the k locations whose change survives best (sum of squares over
    channels), resetting all others to the clean image. Every result differs from the clean
    image in at most k pixels.

    Arguments:
        model, images, labels: as for every attack (see :mod:`~engine.vision.attacks.base`).
        budget (int): k, the number of pixels that may change (a whole number).
        alpha (float): step size on the L1-normalised gradient. (Default: 120000/255, the
            authors' value: about 0.15 per value on average for a 32x32x3 image)
        steps (int): number of steps. (Default: 20)
        random_start (bool): start at a random k-pixel perturbation. (Default: True, as the paper)
        target: None (default), a class index, ``"least-likely"`` or ``"random"``.
        early_stop (bool): keep each sample's first adversarial. (Default: True, as the paper)

    Returns ``AttackResult(adv [N, C, H, W] in [0, 1], pred [N], iterations [N])``.

    Example::

        torch.manual_seed(0)
        res = pgd_l0(model, images, labels, 10)  # at most 10 pixels changed per image
    """
    k = int(budget)
    step = partial(l0_step, alpha=alpha, k=k)
    start = partial(l0_start, k=k) if random_start else None
    args = (steps, step, start, target, early_stop, "pixels")
    return gradient_attack(model, images, labels, budget, *args)
