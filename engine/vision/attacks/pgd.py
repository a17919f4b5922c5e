"""PGD (L-inf): BIM from a uniform random start inside the eps-box."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from engine.vision.attacks.balls import linf_start, sign_step
from engine.vision.attacks.base import AttackResult, register
from engine.vision.attacks.loop import gradient_attack
from engine.vision.attacks.targets import TargetSpec


@register(
    "pgd",
    "eps",
    "PGD L-inf (Madry 2018): random start, `steps` sign steps of `alpha` in the eps-box",
)
def pgd(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float, *,
    alpha: float = 2 / 255, steps: int = 10, random_start: bool = True, target: TargetSpec = None,
    early_stop: bool = False,
) -> AttackResult:  # fmt: skip
    r"""PGD in the paper 'Towards Deep Learning Models Resistant to Adversarial Attacks'
    [https://arxiv.org/abs/1706.06083] (Madry et al., ICLR 2018).

    Distance measure: Linf. Start at ``x0 + U(-eps, eps)`` (clamped to [0, 1]), then ``steps``
    times ``x <- clip_{x0, eps}(x + alpha * sign(grad_x CE(f(x), y)))`` in [0, 1]. Seeded the
    same, it draws the same random start as torchattacks.PGD.

    Arguments:
        model, images, labels: as for every attack (see :mod:`~engine.vision.attacks.base`).
        budget (float): eps, the L-inf radius in [0, 1] pixel units (e.g. 8/255).
        alpha (float): step size. (Default: 2/255, as torchattacks)
        steps (int): number of steps. (Default: 10, as torchattacks)
        random_start (bool): start at a uniform random point of the box. (Default: True)
        target: None (default), a class index, ``"least-likely"`` or ``"random"``.
        early_stop (bool): stop each sample once fooled. (Default: False, as torchattacks)

    Returns ``AttackResult(adv [N, C, H, W] in [0, 1], pred [N], iterations [N])``.

    Example::

        torch.manual_seed(0)
        res = pgd(model, images, labels, 8 / 255, alpha=2 / 255, steps=10)
    """
    step = partial(sign_step, alpha=alpha, eps=budget)
    start = partial(linf_start, eps=budget) if random_start else None
    return gradient_attack(model, images, labels, budget, steps, step, start, target, early_stop)
