"""The seed's two attacks: raw-gradient descent towards the least likely class.

``oneshot`` (the seed's attack alpha) takes one step, ``iterated`` (attack beta, the seed's
``iugm_attack``) up to ``steps``. Each step re-picks the target as the class the model now finds
least likely and moves ``x <- clamp(x - eps * grad_x NLL(log_softmax(f(x)), target), 0, 1)``
with the raw gradient, not its sign, so ``eps`` scales the gradient rather than bounding the
perturbation. A sample stops as soon as its prediction differs from its true label.

Batched with masks by the shared loop (:mod:`~engine.vision.attacks.loop`): every iteration is
one forward and one backward over the samples still being attacked; the prediction check after
a step is read off the next iteration's forward, and only the final check costs a forward
without a backward.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from engine.vision.attacks.base import AttackResult, least_likely, nll_sum, register
from engine.vision.attacks.loop import State, gradient_attack


def towards_least_likely(
    logits: torch.Tensor, labels: torch.Tensor, target: torch.Tensor | None
) -> torch.Tensor:
    """Minus the summed NLL of the class each sample now finds least likely (re-picked)."""
    return -nll_sum(logits, least_likely(logits))


def raw_step(x: torch.Tensor, grad: torch.Tensor, state: State, eps: float) -> torch.Tensor:
    """``x + eps * grad`` of the ascended loss (= ``x - eps * grad NLL``), clamped to [0, 1]."""
    return torch.add(x, grad, alpha=eps).clamp_(0.0, 1.0)


def descend_least_likely(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, eps: float, steps: int
) -> AttackResult:
    """Up to ``steps`` raw-gradient steps of size ``eps`` towards the least likely class."""
    return gradient_attack(
        model,
        images,
        labels,
        eps,
        steps=steps,
        step=partial(raw_step, eps=eps),
        loss=towards_least_likely,
        early_stop=True,
    )


@register("oneshot", "eps", "seed's attack alpha: one raw-gradient step to the least likely class")
def oneshot(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float
) -> AttackResult:
    """One step ``x - eps * grad NLL(least likely)``, clamped to [0, 1].

    Example::

        res = oneshot(model, images, labels, 0.01)
        robust_acc = (res.pred == labels).float().mean()
    """
    return descend_least_likely(model, images, labels, budget, steps=1)


@register(
    "iterated",
    "eps",
    "seed's attack beta (iugm): up to `steps` raw-gradient steps, least likely class re-picked",
)
def iterated(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float, steps: int = 10
) -> AttackResult:
    """Up to ``steps`` (default 10) least-likely steps, each sample stopping once fooled.

    Example::

        res = iterated(model, images, labels, 0.01, steps=10)
        res.iterations.float().mean()  # steps each sample needed
    """
    return descend_least_likely(model, images, labels, budget, steps=steps)
