"""MI-FGSM: BIM with an accumulated, L1-normalised gradient momentum."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from engine.vision.attacks.balls import linf_project
from engine.vision.attacks.base import AttackResult, register
from engine.vision.attacks.loop import State, gradient_attack
from engine.vision.attacks.targets import TargetSpec


def momentum_step(
    x: torch.Tensor, grad: torch.Tensor, state: State, alpha: float, eps: float, decay: float
) -> torch.Tensor:
    """``g <- decay * g + grad / mean|grad|``; ``x <- clip_{x0, eps}(x + alpha * sign(g))``."""
    scale = grad.abs().mean(dim=(1, 2, 3), keepdim=True).clamp_(min=1e-30)
    g = grad / scale
    if "momentum" in state:
        g += decay * state["momentum"]
    state["momentum"] = g
    return linf_project(x + alpha * g.sign(), state, eps)


@register("mifgsm", "eps", "MI-FGSM (Dong 2018): BIM with gradient momentum `decay`")
def mifgsm(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float, *,
    alpha: float = 2 / 255, steps: int = 10, decay: float = 1.0, target: TargetSpec = None,
    early_stop: bool = False,
) -> AttackResult:  # fmt: skip
    r"""MI-FGSM in the paper 'Boosting Adversarial Attacks with Momentum'
    [https://arxiv.org/abs/1710.06081] (Dong et al., CVPR 2018).

    Distance measure: Linf. From the clean image, ``steps`` times
    ``g <- decay * g + grad / mean|grad|`` and ``x <- clip_{x0, eps}(x + alpha * sign(g))``
    in [0, 1], with ``grad = grad_x CE(f(x), y)`` (the mean over each sample's values).

    Arguments:
        model, images, labels: as for every attack (see :mod:`~engine.vision.attacks.base`).
        budget (float): eps, the L-inf radius in [0, 1] pixel units (e.g. 8/255).
        alpha (float): step size. (Default: 2/255, as torchattacks; the paper: eps / steps)
        steps (int): number of steps. (Default: 10, as the paper and torchattacks)
        decay (float): momentum factor mu. (Default: 1.0, as the paper)
        target: None (default), a class index, ``"least-likely"`` or ``"random"``.
        early_stop (bool): stop each sample once fooled. (Default: False, as torchattacks)

    Returns ``AttackResult(adv [N, C, H, W] in [0, 1], pred [N], iterations [N])``.

    Example::

        res = mifgsm(model, images, labels, 8 / 255, steps=10, decay=1.0)
        robust_acc = (res.pred == labels).float().mean()
    """
    step = partial(momentum_step, alpha=alpha, eps=budget, decay=decay)
    return gradient_attack(model, images, labels, budget, steps, step, None, target, early_stop)
