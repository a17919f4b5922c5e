"""BIM / I-FGSM: signed-gradient steps of size alpha, projected on the eps-box."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from engine.vision.attacks.balls import sign_step
from engine.vision.attacks.base import AttackResult, register
from engine.vision.attacks.loop import gradient_attack
from engine.vision.attacks.targets import TargetSpec


@register(
    "bim",
    "eps",
    "BIM / I-FGSM (Kurakin 2017): `steps` sign steps of `alpha`, kept in the eps-box",
)
def bim(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float, *,
    alpha: float = 2 / 255, steps: int = 10, target: TargetSpec = None, early_stop: bool = False,
) -> AttackResult:  # fmt: skip
    r"""BIM (iterative FGSM) in the paper 'Adversarial Examples in the Physical World'
    [https://arxiv.org/abs/1607.02533] (Kurakin, Goodfellow & Bengio, ICLR 2017 workshop).

    Distance measure: Linf. From the clean image, ``steps`` times
    ``x <- clip_{x0, eps}(x + alpha * sign(grad_x CE(f(x), y)))``, clamped to [0, 1].

    Arguments:
        model, images, labels: as for every attack (see :mod:`~engine.vision.attacks.base`).
        budget (float): eps, the L-inf radius in [0, 1] pixel units (e.g. 8/255).
        alpha (float): step size. (Default: 2/255, as torchattacks; the paper: 1/255)
        steps (int): number of steps. (Default: 10, as torchattacks; the paper:
            ``min(255 eps + 4, 1.25 * 255 eps)``)
        target: None (default), a class index, ``"least-likely"`` or ``"random"``.
        early_stop (bool): stop each sample once fooled. (Default: False, as torchattacks)

    Returns ``AttackResult(adv [N, C, H, W] in [0, 1], pred [N], iterations [N])``.

    Example::

        res = bim(model, images, labels, 8 / 255, alpha=2 / 255, steps=10)
        robust_acc = (res.pred == labels).float().mean()
    """
    step = partial(sign_step, alpha=alpha, eps=budget)
    return gradient_attack(model, images, labels, budget, steps, step, None, target, early_stop)
