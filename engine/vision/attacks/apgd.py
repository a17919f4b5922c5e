"""APGD-CE and APGD-T: PGD whose step size adapts itself, the first half of AutoAttack.

Croce & Hein's Auto-PGD takes sign steps with momentum from a random start; at checkpoints
(after 22%, then ever shorter stretches of the budget) it halves the step size of each sample
whose loss stopped rising and sends it back to its best point. Nothing is left to tune but the
number of steps. APGD-CE ascends the cross-entropy; APGD-T descends, for each of the classes the
clean image finds most likely after its own in turn, the targeted DLR loss (logit differences
scaled by the gap between the top logits, so a model that scales its logits cannot hide).

The updates follow torchattacks' APGD/APGDT (from the authors' code) operation by operation, so
with the same seed the same samples are fooled. Each sample is its own problem (its own step
size and checkpoints), so with ``early_stop`` a sample leaves the batch the moment it is fooled,
which saves the steps torchattacks spends on samples already counted as broken and changes no
accuracy.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from engine.vision.attacks.base import (
    AttackResult,
    check_budget,
    forward_with_grad,
    input_grad,
    prepare,
    register,
)
from engine.vision.attacks.loop import clean_result, per_target_start

Loss = Callable[[torch.Tensor, torch.Tensor, "torch.Tensor | None"], torch.Tensor]


def ce_loss(logits: torch.Tensor, y: torch.Tensor, _t: torch.Tensor | None) -> torch.Tensor:
    """Per-sample cross-entropy of the true label (ascended)."""
    return F.cross_entropy(logits, y, reduction="none")


def dlr_targeted(logits: torch.Tensor, y: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
    """Targeted DLR loss ``-(z_y - z_t) / (z_1 - (z_3 + z_4) / 2)`` (z sorted, largest first)."""
    assert t is not None
    z = logits.sort(dim=1).values
    zy = logits.gather(1, y[:, None]).squeeze(1)
    zt = logits.gather(1, t[:, None]).squeeze(1)
    return -(zy - zt) / (z[:, -1] - 0.5 * z[:, -3] - 0.5 * z[:, -4] + 1e-12)


def apgd_start(x0: torch.Tensor, eps: float) -> torch.Tensor:
    """A random start whose largest change is exactly eps, drawn on the CPU as torchattacks'
    APGD draws it (so the same seed gives the same start on any device)."""
    t = 2 * torch.rand(x0.shape).to(x0.device) - 1
    top = t.flatten(1).abs().amax(1).view(-1, 1, 1, 1)
    return (x0 + eps * torch.ones_like(top) * t / top).clamp(0.0, 1.0)


class ApgdRun:
    """One APGD run over a batch: per-sample state, shrinking as samples are fooled.

    ``done`` collects, for the samples that left, their index in the batch, the image that
    fooled the model and the prediction on it; ``iterations`` counts gradient evaluations."""

    def __init__(self, model: nn.Module, x0, y, target, eps: float, loss: Loss, steps: int):
        self.model, self.eps, self.loss, self.steps = model, eps, loss, steps
        n = len(y)
        self.idx = torch.arange(n, device=y.device)
        self.iterations = torch.zeros_like(y)
        self.fooled = torch.zeros(n, dtype=torch.bool, device=y.device)
        self.adv, self.pred = x0.clone(), y.clone()
        self.s: dict[str, torch.Tensor] = {"x0": x0, "y": y}
        if target is not None:
            self.s["t"] = target
        self.s["lo"], self.s["hi"] = (x0 - eps).clamp(min=0.0), (x0 + eps).clamp(max=1.0)

    def evaluate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-sample loss, input gradient and prediction at ``x`` (one forward, one backward)."""
        leaf, logits = forward_with_grad(self.model, x)
        loss = self.loss(logits, self.s["y"], self.s.get("t"))
        grad = input_grad(loss.sum(), leaf)
        self.iterations[self.idx] += 1
        return loss.detach(), grad, logits.detach().argmax(1)

    def settle(self, x: torch.Tensor, pred: torch.Tensor, early_stop: bool) -> bool:
        """Record the samples ``x`` fools; with ``early_stop`` drop them. False if none left."""
        hit = pred != self.s["y"]
        if bool(hit.any()):
            where = self.idx[hit]
            self.adv[where], self.pred[where], self.fooled[where] = x[hit], pred[hit], True
            if early_stop:
                keep = ~hit
                self.idx = self.idx[keep]
                self.s = {k: v[keep] for k, v in self.s.items()}
        return len(self.idx) > 0

    def project(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(x, self.s["lo"], self.s["hi"])

    def step(self, i: int) -> torch.Tensor:
        """The momentum step of iteration ``i`` from ``x`` along sign(grad), in the eps-box."""
        s = self.s
        x = s["x"]
        grad2 = x - s["x_old"]
        s["x_old"] = x
        a = 0.75 if i > 0 else 1.0
        x1 = self.project(x + s["size"] * torch.sign(s["grad"]))
        return self.project(x + (x1 - x) * a + grad2 * (1 - a))

    def improve(self, x, loss, grad, i: int) -> None:
        """Keep each sample's best point (highest loss) and its gradient; log the loss."""
        s = self.s
        s["x"], s["grad"] = x, grad
        s["history"][:, i] = loss
        up = loss > s["loss_best"]
        s["x_best"] = torch.where(up[:, None, None, None], x, s["x_best"])
        s["grad_best"] = torch.where(up[:, None, None, None], grad, s["grad_best"])
        s["loss_best"] = torch.where(up, loss, s["loss_best"])

    def checkpoint(self, i: int, k: int, rho: float) -> None:
        """Halve the step of samples whose loss rose in at most ``rho`` of the last ``k``
        steps, or that did not improve since the last checkpoint without a halving then; send
        them back to their best point."""
        s = self.s
        h = s["history"]
        cols = torch.tensor([i - c for c in range(k)], device=h.device)
        rises = (h[:, cols] > h[:, (cols - 1) % self.steps]).sum(1)
        halve = rises <= k * rho
        halve |= ~s["halved"] & (s["loss_at_check"] >= s["loss_best"])
        s["halved"], s["loss_at_check"] = halve, s["loss_best"].clone()
        m = halve[:, None, None, None]
        s["size"] = torch.where(m, s["size"] / 2.0, s["size"])
        s["x"] = torch.where(m, s["x_best"], s["x"])
        s["grad"] = torch.where(m, s["grad_best"], s["grad"])

    def begin(self, start: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Evaluate the start; set up the step size (2 eps), best points and checkpoints."""
        loss, grad, pred = self.evaluate(start)
        s, n = self.s, len(self.idx)
        s.update(x=start, x_old=start, grad=grad, x_best=start, grad_best=grad, loss_best=loss)
        s["size"] = torch.full((n, 1, 1, 1), 2.0 * self.eps, device=start.device)
        s["history"] = torch.zeros(n, self.steps, device=start.device)
        s["halved"] = torch.ones(n, dtype=torch.bool, device=start.device)
        s["loss_at_check"] = loss.clone()
        return start, pred


def apgd_run(
    model: nn.Module, x0, y, target, eps: float, loss: Loss, steps: int, rho: float,
    early_stop: bool,
) -> ApgdRun:  # fmt: skip
    """``steps`` APGD iterations on every sample of ``x0`` (all classified correctly)."""
    run = ApgdRun(model, x0, y, target, eps, loss, steps)
    x, pred = run.begin(apgd_start(x0, eps))
    if not run.settle(x, pred, early_stop):
        return run
    k, counter = max(int(0.22 * steps), 1), 0
    k_min, k_decr = max(int(0.06 * steps), 1), max(int(0.03 * steps), 1)
    for i in range(steps):
        with torch.no_grad():
            x = run.step(i)
        loss, grad, pred = run.evaluate(x)
        run.improve(x, loss, grad, i)
        counter += 1
        if counter == k:
            run.checkpoint(i, k, rho)
            counter, k = 0, max(k - k_decr, k_min)
        if not run.settle(x, pred, early_stop):
            break
    alive = ~run.fooled[run.idx]  # the samples never fooled keep their strongest point
    run.adv[run.idx[alive]] = run.s["x_best"][alive]
    return run


def apgd_attack(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    budget: float,
    steps: int,
    rho: float,
    early_stop: bool,
    targets: int = 0,
) -> AttackResult:
    """APGD-CE (``targets`` 0) or APGD-T over the top ``targets`` other classes, one run each
    on the samples still classified correctly; images stay in [0, 1] and the eps-box."""
    check_budget(budget, "eps")
    prepare(model)
    if budget == 0 or steps < 1:
        return clean_result(model, images)
    x0, logits, adv, iterations, robust, order = per_target_start(model, images, labels)
    pred = logits.argmax(1)
    targets = min(targets, logits.shape[1] - 1)
    for rank in range(2, targets + 2) if targets else (0,):
        idx = torch.nonzero(robust).squeeze(1)
        if idx.numel() == 0:
            break
        target = order[idx, -rank] if targets else None
        loss = dlr_targeted if targets else ce_loss
        run = apgd_run(model, x0[idx], labels[idx], target, budget, loss, steps, rho, early_stop)
        adv[idx], pred[idx] = run.adv, run.pred
        robust[idx] = ~run.fooled
        iterations[idx] += run.iterations
    return AttackResult(adv, pred, iterations)


@register(
    "apgd-ce",
    "eps",
    "APGD-CE (Croce & Hein 2020): step-size-free PGD with momentum on the cross-entropy",
)
def apgd_ce(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float, *,
    steps: int = 100, rho: float = 0.75, early_stop: bool = True,
) -> AttackResult:  # fmt: skip
    r"""APGD-CE in the paper 'Reliable evaluation of adversarial robustness with an ensemble of
    diverse parameter-free attacks' [https://arxiv.org/abs/2003.01690] (Croce & Hein, ICML
    2020), the first attack of AutoAttack.

    Distance measure: Linf. From a random point of the eps-box, ``steps`` sign steps with
    momentum 0.75 on the cross-entropy, starting at size 2 eps; at checkpoints (after 22% of the
    steps, then ever shorter stretches down to 6%) a sample whose loss rose in at most ``rho`` of
    the steps since, or stalled after a halving-free stretch, halves its step and restarts from
    its best point.

    Arguments:
        model, images, labels: as for every attack (see :mod:`~engine.vision.attacks.base`).
        budget (float): eps, the L-inf radius in [0, 1] pixel units (e.g. 8/255).
        steps (int): iterations. (Default: 100, as the paper and AutoAttack; torchattacks: 10)
        rho (float): the checkpoint's share of rising steps. (Default: 0.75, as the paper)
        early_stop (bool): stop each sample once fooled; the accuracy is the same. (Default:
            True; False runs every sample through every step, as torchattacks does)

    Returns ``AttackResult(adv [N, C, H, W] in [0, 1], pred [N], iterations [N])``: a fooled
    sample's first adversarial, the others' highest-loss point; iterations count gradients.

    Example::

        torch.manual_seed(0)
        res = apgd_ce(model, images, labels, 8 / 255, steps=100)
    """
    return apgd_attack(model, images, labels, budget, steps, rho, early_stop)


@register(
    "apgd-t",
    "eps",
    "APGD-T (Croce & Hein 2020): APGD on the targeted DLR loss, top `n_targets` classes in turn",
)
def apgd_t(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float, *,
    steps: int = 100, n_targets: int = 9, rho: float = 0.75, early_stop: bool = True,
) -> AttackResult:  # fmt: skip
    r"""APGD-T (APGD with the targeted DLR loss) in the paper 'Reliable evaluation of adversarial
    robustness with an ensemble of diverse parameter-free attacks'
    [https://arxiv.org/abs/2003.01690] (Croce & Hein, ICML 2020), AutoAttack's second attack.

    Distance measure: Linf. For the 2nd, 3rd, ... most likely classes of the clean image in
    turn (``n_targets`` of them), one APGD run on the samples still classified correctly,
    descending the targeted DLR loss ``-(z_y - z_t) / (z_1 - (z_3 + z_4) / 2)``. A sample
    counts as fooled by any misclassification.

    Arguments:
        model, images, labels: as for every attack (see :mod:`~engine.vision.attacks.base`).
        budget (float): eps, the L-inf radius in [0, 1] pixel units (e.g. 8/255).
        steps (int): iterations per target. (Default: 100, as AutoAttack; torchattacks: 10)
        n_targets (int): target classes tried. (Default: 9, every other CIFAR-10 class)
        rho (float): the checkpoint's share of rising steps. (Default: 0.75)
        early_stop (bool): stop each sample once fooled. (Default: True)

    Returns ``AttackResult(adv [N, C, H, W] in [0, 1], pred [N], iterations [N])``.

    Example::

        torch.manual_seed(0)
        res = apgd_t(model, images, labels, 8 / 255, steps=100, n_targets=9)
    """
    n_targets = max(0, min(int(n_targets), 1000))
    if n_targets == 0:
        return clean_result(prepare(model), images)
    return apgd_attack(model, images, labels, budget, steps, rho, early_stop, n_targets)
