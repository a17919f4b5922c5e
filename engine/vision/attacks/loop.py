"""The loop every gradient attack shares: batched, masked, one forward and backward per step.

An attack supplies only its ``step`` (how to move along the gradient and project back into its
ball), an optional random ``start`` and its defaults; :func:`gradient_attack` does the rest:

- images the model already gets wrong (and, in targeted mode, images already of the target
  class) are left unperturbed with 0 iterations;
- each step is one forward and one backward over the samples still attacked; the loss is summed
  over the batch (never averaged) so every sample gets its own gradient, and a batch gives the
  same result as one image at a time;
- untargeted attacks ascend the cross-entropy of the true label, targeted ones descend the
  cross-entropy of their target (:mod:`~engine.vision.attacks.targets`);
- with ``early_stop`` a sample leaves the batch as soon as it is fooled (misclassified, or of the
  target class when targeted), its adversarial kept; the check reuses the next step's forward
  (a sample the random start alone fools counts one iteration, so every attacked sample has
  at least one);
- without it every attacked sample takes all ``steps`` (as torchattacks does) and the loop never
  waits on the device;
- the final predictions come from one last forward without gradients.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from engine.vision.attacks.base import (
    AttackResult,
    check_budget,
    forward_with_grad,
    input_grad,
    nll_sum,
    prepare,
)
from engine.vision.attacks.targets import TargetSpec, resolve_target

State = dict[str, torch.Tensor]
Step = Callable[[torch.Tensor, torch.Tensor, State], torch.Tensor]
Start = Callable[[torch.Tensor], torch.Tensor]
Loss = Callable[[torch.Tensor, torch.Tensor, "torch.Tensor | None"], torch.Tensor]


def attackable(
    pred: torch.Tensor, labels: torch.Tensor, target: torch.Tensor | None
) -> torch.Tensor:
    """Samples worth attacking: correctly classified, and not already of their target class."""
    ok = pred == labels
    return ok if target is None else ok & (target != labels)


def fooled(pred: torch.Tensor, labels: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
    """Success: misclassified (untargeted) or classified as the target (targeted)."""
    return pred != labels if target is None else pred == target


def objective(
    logits: torch.Tensor, labels: torch.Tensor, target: torch.Tensor | None
) -> torch.Tensor:
    """The summed loss each step ascends: CE of the label, or minus CE of the target."""
    return nll_sum(logits, labels) if target is None else -nll_sum(logits, target)


def clean_result(model: nn.Module, images: torch.Tensor) -> AttackResult:
    """Budget 0: the images untouched, the clean predictions, no iterations."""
    with torch.no_grad():
        pred = model(images).argmax(1)
    return AttackResult(images.detach().clone(), pred, torch.zeros_like(pred))


def gradient_attack(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    budget: float,
    *,
    steps: int,
    step: Step,
    start: Start | None = None,
    target: TargetSpec = None,
    early_stop: bool = False,
    axis: str = "eps",
    loss: Loss = objective,
) -> AttackResult:
    """Run ``steps`` gradient steps of ``step`` on every attackable sample of the batch.

    Arguments:
        model: classifier on [0, 1] inputs; put in eval mode, parameters frozen.
        images: ``[N, C, H, W]`` in [0, 1]; labels: ``[N]`` true classes.
        budget: the attack's size on ``axis`` (checked >= 0; 0 returns the clean images).
        steps: gradient steps (>= 1 to attack at all).
        step: ``step(x, grad, state) -> x_next``: the ascent move and projection. ``state``
            holds per-sample tensors (``x0``, the clean images, and whatever the step caches,
            e.g. momentum); the loop keeps it aligned with the shrinking batch.
        start: ``start(images) -> x`` random start drawn for the whole batch (so the random
            stream matches a library that draws for every image), or None to start at x0.
        target: None, a class index, ``"least-likely"`` or ``"random"`` (fixed from the clean
            image).
        early_stop: stop each sample at its first success.
        loss: ``loss(logits, labels, targets)``, summed over the batch, that each step
            ascends (default :func:`objective`).
    """
    check_budget(budget, axis)
    prepare(model)
    if budget == 0 or steps < 1:
        return clean_result(model, images)
    x0 = images.detach()
    adv = x0.clone()
    iterations = torch.zeros_like(labels)
    idx = torch.arange(len(labels), device=labels.device)
    y, tgt = labels, None
    if start is None:
        pred = torch.empty_like(labels)
        x, clean_pending = x0, True  # the first forward doubles as the clean check
    else:
        with torch.no_grad():
            logits = model(x0)
        pred = logits.argmax(1)
        tgt = resolve_target(target, logits, y)
        x = start(x0)
        keep = attackable(pred, y, tgt)
        if not bool(keep.any()):
            return AttackResult(adv, pred, iterations)
        if not bool(keep.all()):
            idx, y, x, x0 = idx[keep], y[keep], x[keep], x0[keep]
            tgt = None if tgt is None else tgt[keep]
        clean_pending = False
    state: State = {"x0": x0}
    for it in range(steps + 1):
        final = it == steps
        if final:
            with torch.no_grad():
                logits = model(x)
        else:
            leaf, logits = forward_with_grad(model, x)
        p = logits.detach().argmax(1)
        pred[idx] = p
        if final:
            break
        keep = None
        if clean_pending:
            clean_pending = False
            tgt = resolve_target(target, logits, y)
            keep = attackable(p, y, tgt)
        elif early_stop:
            keep = ~fooled(p, y, tgt)
        if keep is not None and not bool(keep.all()):
            done = ~keep
            adv[idx[done]] = x[done]
            if early_stop and it == 0 and start is not None:
                iterations[idx[done]] = 1  # fooled by the random start alone: one try
            if not bool(keep.any()):
                return AttackResult(adv, pred, iterations)
            idx, y, x = idx[keep], y[keep], x[keep]
            tgt = None if tgt is None else tgt[keep]
            state = {k: v[keep] for k, v in state.items()}
            grad = input_grad(loss(logits[keep], y, tgt), leaf)[keep]
        else:
            grad = input_grad(loss(logits, y, tgt), leaf)
        x = step(x, grad, state)
        iterations[idx] += 1
    adv[idx] = x
    return AttackResult(adv, pred, iterations)
