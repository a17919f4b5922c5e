"""FGSM: one signed-gradient step of size eps."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from engine.vision.attacks.balls import sign_step
from engine.vision.attacks.base import AttackResult, register
from engine.vision.attacks.loop import gradient_attack
from engine.vision.attacks.targets import TargetSpec


@register("fgsm", "eps", "FGSM (Goodfellow 2015): one sign-gradient step of size eps")
def fgsm(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float, *,
    target: TargetSpec = None,
) -> AttackResult:  # fmt: skip
    r"""FGSM in the paper 'Explaining and Harnessing Adversarial Examples'
    [https://arxiv.org/abs/1412.6572] (Goodfellow, Shlens & Szegedy, ICLR 2015).

    Distance measure: Linf. ``x' = clamp(x + eps * sign(grad_x CE(f(x), y)), 0, 1)``; targeted,
    ``x - eps * sign(grad_x CE(f(x), t))``.

    Arguments:
        model, images, labels: as for every attack (see :mod:`~engine.vision.attacks.base`).
        budget (float): eps, the L-inf size in [0, 1] pixel units (e.g. 8/255).
        target: None (default, untargeted), a class index, ``"least-likely"`` or ``"random"``.

    Returns ``AttackResult(adv [N, C, H, W] in [0, 1], pred [N], iterations [N])``; images the
    model already gets wrong are returned unchanged (iterations 0), the others take 1 step.

    Example::

        res = fgsm(model, images, labels, 8 / 255)
        robust_acc = (res.pred == labels).float().mean()
    """
    step = partial(sign_step, alpha=budget, eps=budget)
    return gradient_attack(model, images, labels, budget, steps=1, step=step, target=target)
