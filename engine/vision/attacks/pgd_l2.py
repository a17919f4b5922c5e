"""PGD (L2): normalised-gradient steps from a random start inside the L2 ball."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from engine.vision.attacks.balls import l2_start, l2_step
from engine.vision.attacks.base import AttackResult, register
from engine.vision.attacks.loop import gradient_attack
from engine.vision.attacks.targets import TargetSpec


@register(
    "pgd-l2",
    "eps",
    "PGD L2 (Madry 2018): eps is the L2 radius; random start, `steps` steps of L2 length `alpha`",
)
def pgd_l2(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float, *,
    alpha: float = 0.2, steps: int = 10, random_start: bool = True, target: TargetSpec = None,
    early_stop: bool = False,
) -> AttackResult:  # fmt: skip
    r"""PGD in the paper 'Towards Deep Learning Models Resistant to Adversarial Attacks'
    [https://arxiv.org/abs/1706.06083] (Madry et al., ICLR 2018), L2 version.

    Distance measure: L2. Start at a random point of the ball (Gaussian direction, uniform
    radius, as torchattacks.PGDL2 draws it), then ``steps`` times
    ``x <- proj_{x0, eps}(x + alpha * g / ||g||_2)`` with ``g = grad_x CE(f(x), y)``, in [0, 1].

    Arguments:
        model, images, labels: as for every attack (see :mod:`~engine.vision.attacks.base`).
        budget (float): eps, the L2 radius over all C*H*W values in [0, 1] units (e.g. 0.5;
            a 32x32x3 image changed by 8/255 everywhere has L2 norm 1.74).
        alpha (float): L2 length of each step. (Default: 0.2, as torchattacks)
        steps (int): number of steps. (Default: 10, as torchattacks)
        random_start (bool): start at a random point of the ball. (Default: True)
        target: None (default), a class index, ``"least-likely"`` or ``"random"``.
        early_stop (bool): stop each sample once fooled. (Default: False, as torchattacks)

    Returns ``AttackResult(adv [N, C, H, W] in [0, 1], pred [N], iterations [N])``.

    Example::

        torch.manual_seed(0)
        res = pgd_l2(model, images, labels, 0.5, alpha=0.2, steps=10)
    """
    step = partial(l2_step, alpha=alpha, eps=budget)
    start = partial(l2_start, eps=budget) if random_start else None
    return gradient_attack(model, images, labels, budget, steps, step, start, target, early_stop)
