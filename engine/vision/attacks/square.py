"""Square Attack (L-inf): a score-based black box, random search over square patches.

The attack sees only the model's logits, never a gradient, so a model that hides its gradients
(gradient masking) does not hide from it: when Square beats the gradient attacks, the gradients
were lying (Carlini et al. 2019's checklist; AutoAttack runs it last for that reason).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from engine.vision.attacks.base import AttackResult, check_budget, prepare, register
from engine.vision.attacks.loop import clean_result

# p's schedule in Andriushchenko et al. (on a 10,000-query scale): halve at these iterations
P_HALVINGS = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)


def p_schedule(it: int, n_queries: int, p_init: float) -> float:
    """The share of the image a square covers at iteration ``it``, shrinking as in the paper."""
    it = int(it / n_queries * 10000)
    halvings = sum(it > t for t in P_HALVINGS)
    return p_init / 2**halvings


def margin(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``z_y - max_{k != y} z_k``: positive while the image is classified correctly."""
    true = logits.gather(1, y[:, None]).squeeze(1)
    others = logits.scatter(1, y[:, None], -float("inf")).amax(1)
    return true - others


def random_sign(shape: list[int], device: torch.device) -> torch.Tensor:
    """Uniform signs, drawn on the CPU as torchattacks' Square draws them."""
    return torch.sign(2 * torch.rand(shape).to(device) - 1)


class SquareRun:
    """The samples still searched: clean images, box bounds, best images and their margins."""

    def __init__(self, model: nn.Module, x0: torch.Tensor, y: torch.Tensor, eps: float):
        self.model, self.eps = model, eps
        n, c, _, w = x0.shape
        self.idx = torch.arange(n, device=y.device)
        self.x0, self.y = x0, y
        self.best = (x0 + eps * random_sign([n, c, 1, w], x0.device)).clamp(0.0, 1.0)
        logits = model(self.best)
        self.margin = margin(logits, y)
        self.queries = torch.ones_like(y)
        self.adv, self.pred = self.best.clone(), logits.argmax(1)
        self.fooled = self.margin <= 0

    def drop_fooled(self) -> bool:
        """Keep only the samples not yet fooled; False when none are left."""
        keep = self.margin > 0
        if not bool(keep.all()):
            self.idx, self.x0, self.y = self.idx[keep], self.x0[keep], self.y[keep]
            self.best, self.margin = self.best[keep], self.margin[keep]
        return len(self.idx) > 0

    def query(self, side: int) -> None:
        """Try one random ``side`` x ``side`` square of +-2 eps (one sign per channel), the same
        place for every sample as the reference code; keep it where the margin drops."""
        _, c, h, w = self.x0.shape
        dev = self.x0.device
        top = int((0 + (h - side) * torch.rand([1]).to(dev)).long())
        left = int((0 + (w - side) * torch.rand([1]).to(dev)).long())
        change = 2.0 * self.eps * random_sign([c, 1, 1], dev)
        rows, cols = slice(top, top + side), slice(left, left + side)
        x0 = self.x0[:, :, rows, cols]
        patch = self.best[:, :, rows, cols] + change
        patch = torch.clamp(torch.min(torch.max(patch, x0 - self.eps), x0 + self.eps), 0.0, 1.0)
        trial = self.best.clone()
        trial[:, :, rows, cols] = patch
        logits = self.model(trial)
        m = margin(logits, self.y)
        better = m < self.margin
        self.margin = torch.where(better, m, self.margin)
        self.best = torch.where(better[:, None, None, None], trial, self.best)
        self.queries[self.idx] += 1
        hit = m <= 0
        if bool(hit.any()):
            where = self.idx[hit]
            self.adv[where], self.pred[where], self.fooled[where] = (
                trial[hit],
                logits[hit].argmax(1),
                True,
            )

    def finish(self) -> None:
        """The samples never fooled keep their lowest-margin image (classified correctly)."""
        self.adv[self.idx] = self.best


@register(
    "square",
    "eps",
    "Square Attack (Andriushchenko 2020): L-inf score-based black box, `n_queries` per image",
)
def square(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float, *,
    n_queries: int = 5000, p_init: float = 0.8,
) -> AttackResult:  # fmt: skip
    r"""Square Attack in the paper 'Square Attack: a query-efficient black-box adversarial attack
    via random search' [https://arxiv.org/abs/1912.00049] (Andriushchenko, Croce, Flammarion &
    Hein, ECCV 2020), the last attack of AutoAttack.

    Distance measure: Linf. Black-box, score-based: it reads the logits only. Start from
    vertical stripes of +-eps; then, per query, change one random square (side from
    ``p_init`` of the image, shrinking on the paper's schedule) by +-2 eps per channel, project
    on the eps-box, and keep the change for the samples whose margin ``z_y - max_{k!=y} z_k``
    dropped. A sample stops at its first misclassification.

    Arguments:
        model, images, labels: as for every attack (see :mod:`~engine.vision.attacks.base`).
        budget (float): eps, the L-inf radius in [0, 1] pixel units (e.g. 8/255).
        n_queries (int): the query budget per image. (Default: 5000, as AutoAttack)
        p_init (float): the first square's share of the image. (Default: 0.8, as the paper)

    Returns ``AttackResult(adv [N, C, H, W] in [0, 1], pred [N], iterations [N])``;
    iterations count the queries (forward passes) each image used.

    Example::

        torch.manual_seed(0)
        res = square(model, images, labels, 8 / 255, n_queries=5000)
    """
    check_budget(budget, "eps")
    prepare(model)
    if budget == 0 or n_queries < 1:
        return clean_result(model, images)
    with torch.no_grad():
        pred = model(images).argmax(1)
        adv, iterations = images.detach().clone(), torch.zeros_like(labels)
        idx = torch.nonzero(pred == labels).squeeze(1)
        if idx.numel() == 0:
            return AttackResult(adv, pred, iterations)
        run = SquareRun(model, images[idx].detach(), labels[idx], budget)
        c, h, w = images.shape[1:]
        for it in range(n_queries):
            if not run.drop_fooled():
                break
            p = p_schedule(it, n_queries, p_init)
            run.query(max(int(round(math.sqrt(p * c * h * w / c))), 1))
        run.finish()
        adv[idx], pred[idx], iterations[idx] = run.adv, run.pred, run.queries
    return AttackResult(adv, pred, iterations)
