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


def per_target_start(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple:
    """What an attack that runs once per target class starts from: the clean images, their
    logits, the adversarials so far (the clean images), iterations, which samples are still
    robust, and the classes by score (the last is the prediction)."""
    x0 = images.detach()
    with torch.no_grad():
        logits = model(x0)
    robust = logits.argmax(1) == labels
    return x0, logits, x0.clone(), torch.zeros_like(labels), robust, logits.sort(dim=1).indices


def gradient_attack(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    budget: float,
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
    b = _Batch(images, labels)
    if start is not None and not b.random_start(model, start, target):
        return b.result()
    for it in range(steps + 1):
        if it == steps:
            with torch.no_grad():
                b.pred[b.idx] = model(b.x).argmax(1)
            break
        leaf, logits = forward_with_grad(model, b.x)
        p = logits.detach().argmax(1)
        b.pred[b.idx] = p
        keep = None
        if b.clean_pending:  # the first forward doubles as the clean check
            b.clean_pending = False
            b.tgt = resolve_target(target, logits, b.y)
            keep = attackable(p, b.y, b.tgt)
        elif early_stop:
            keep = ~fooled(p, b.y, b.tgt)
        if keep is not None and not bool(keep.all()):
            if early_stop and it == 0 and start is not None:
                b.iterations[b.idx[~keep]] = 1  # fooled by the random start alone: one try
            b.settle(~keep)
            if not bool(keep.any()):
                return b.result()
            grad = input_grad(loss(logits[keep], b.y[keep], _part(b.tgt, keep)), leaf)[keep]
            b.shrink(keep)
        else:
            grad = input_grad(loss(logits, b.y, b.tgt), leaf)
        b.x = step(b.x, grad, b.state)
        b.iterations[b.idx] += 1
    b.settle(torch.ones_like(b.idx, dtype=torch.bool))
    return b.result()


def _part(t: torch.Tensor | None, keep: torch.Tensor) -> torch.Tensor | None:
    return None if t is None else t[keep]


class _Batch:
    """The samples still attacked (``idx`` into the batch, their labels, targets, current
    images and step state) and what is settled for all (``adv``, ``pred``, ``iterations``)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.x0 = images.detach()
        self.adv = self.x0.clone()
        self.iterations = torch.zeros_like(labels)
        self.pred = torch.empty_like(labels)
        self.idx = torch.arange(len(labels), device=labels.device)
        self.y, self.tgt = labels, None
        self.x = self.x0
        self.clean_pending = True
        self.state: State = {"x0": self.x0}

    def random_start(self, model: nn.Module, start: Start, target: TargetSpec) -> bool:
        """Classify the clean images, fix targets, draw the start; False if none to attack."""
        with torch.no_grad():
            logits = model(self.x0)
        self.pred = logits.argmax(1)
        self.tgt = resolve_target(target, logits, self.y)
        self.x = start(self.x0)
        self.clean_pending = False
        keep = attackable(self.pred, self.y, self.tgt)
        if not bool(keep.any()):
            return False
        if not bool(keep.all()):
            self.shrink(keep)
        return True

    def settle(self, done: torch.Tensor) -> None:
        """The samples ``done`` keep their current image."""
        self.adv[self.idx[done]] = self.x[done]

    def shrink(self, keep: torch.Tensor) -> None:
        self.idx, self.y, self.x = self.idx[keep], self.y[keep], self.x[keep]
        self.tgt = _part(self.tgt, keep)
        self.state = {k: v[keep] for k, v in self.state.items()}

    def result(self) -> AttackResult:
        return AttackResult(self.adv, self.pred, self.iterations)
