"""ILLC: iterative sign steps towards the class least likely on the clean image."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from engine.vision.attacks.balls import sign_step
from engine.vision.attacks.base import AttackResult, register
from engine.vision.attacks.loop import gradient_attack


@register(
    "illc",
    "eps",
    "iterative least-likely class (Kurakin 2017): BIM descending to the clean least-likely class",
)
def illc(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float, *,
    alpha: float = 2 / 255, steps: int = 10, early_stop: bool = False,
) -> AttackResult:  # fmt: skip
    r"""Iterative least-likely class method in 'Adversarial Examples in the Physical World'
    [https://arxiv.org/abs/1607.02533] (Kurakin, Goodfellow & Bengio, ICLR 2017 workshop).

    Distance measure: Linf. The target ``t = argmin f(x0)`` is fixed from the clean image
    (unlike the seed's ``iterated``, which re-picks it each step and uses the raw gradient);
    ``steps`` times ``x <- clip_{x0, eps}(x - alpha * sign(grad_x CE(f(x), t)))`` in [0, 1].
    The same as torchattacks' BIM in least-likely targeted mode.

    Arguments:
        model, images, labels: as for every attack (see :mod:`~engine.vision.attacks.base`).
        budget (float): eps, the L-inf radius in [0, 1] pixel units.
        alpha (float): step size. (Default: 2/255, as BIM here; the paper: 1/255)
        steps (int): number of steps. (Default: 10; the paper: ``min(255 eps + 4, 1.25 * 255 eps)``)
        early_stop (bool): stop each sample once it reaches its target. (Default: False)

    Returns ``AttackResult(adv [N, C, H, W] in [0, 1], pred [N], iterations [N])``.

    Example::

        res = illc(model, images, labels, 8 / 255)
        robust_acc = (res.pred == labels).float().mean()
    """
    step = partial(sign_step, alpha=alpha, eps=budget)
    target = "least-likely"
    return gradient_attack(model, images, labels, budget, steps, step, None, target, early_stop)
