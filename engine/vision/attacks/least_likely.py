"""The seed's two attacks: raw-gradient descent towards the least likely class.

``oneshot`` (the seed's attack alpha) takes one step, ``iterated`` (attack beta, the seed's
``iugm_attack``) up to ``steps``. Each step re-picks the target as the class the model now finds
least likely and moves ``x <- clamp(x - eps * grad_x NLL(log_softmax(f(x)), target), 0, 1)``
with the raw gradient, not its sign, so ``eps`` scales the gradient rather than bounding the
perturbation. A sample stops as soon as its prediction differs from its true label.

Batched with masks: every iteration is one forward and one backward over the samples still
being attacked; the prediction check after a step is read off the next iteration's forward,
and only the final check costs a forward without a backward.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.vision.attacks.base import (
    AttackResult,
    check_budget,
    forward_with_grad,
    input_grad,
    least_likely,
    nll_sum,
    prepare,
    register,
)


def descend_least_likely(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, eps: float, steps: int
) -> AttackResult:
    """Up to ``steps`` raw-gradient steps of size ``eps`` towards the least likely class."""
    check_budget(eps, "eps")
    prepare(model)
    adv = images.detach().clone()
    pred = torch.empty_like(labels)
    iterations = torch.zeros_like(labels)
    idx = torch.arange(len(labels), device=labels.device)
    x, y = images.detach(), labels
    for it in range(steps + 1):
        step_next = it < steps and eps > 0
        if step_next:
            leaf, logits = forward_with_grad(model, x)
        else:
            with torch.no_grad():
                logits = model(x)
        p = logits.detach().argmax(1)
        pred[idx] = p
        adv[idx] = x
        alive = p == y  # still classified correctly: keep attacking
        if not step_next or not bool(alive.any()):
            break
        grad = input_grad(nll_sum(logits[alive], least_likely(logits[alive])), leaf)[alive]
        x = (x[alive] - eps * grad).clamp_(0.0, 1.0)
        idx, y = idx[alive], y[alive]
        iterations[idx] += 1
    return AttackResult(adv, pred, iterations)


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
    steps=10,
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
