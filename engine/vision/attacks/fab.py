"""FAB-T (L-inf): the minimum-norm boundary attack of AutoAttack, targeted at the top classes.

FAB linearises the decision boundary between the true class and a target class, projects both
the current point and the clean image onto that hyperplane (within the [0, 1] box), and steps
to a mix of the two projections, biased towards the clean image, with a small overshoot; after
each success it backs off towards the clean image to find a closer adversarial. An adversarial
counts only if its L-inf size is within eps.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.vision.attacks.base import AttackResult, check_budget, prepare, register
from engine.vision.attacks.loop import clean_result, per_target_start


def project_linf(t: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per row, the smallest L-inf step ``d`` with ``w . (t + d) = b`` and ``t + d`` in [0, 1]
    (the furthest box corner when the hyperplane is out of reach).

    Along ``dir = -sign(w)`` (towards the plane) coordinate i can move ``p_i`` before the box
    stops it, so ``d_i = dir_i * min(lambda, p_i)`` and the plane needs
    ``F(lambda) = sum |w_i| min(lambda, p_i) = r``. F is piecewise linear, increasing and
    concave, so Newton's method from lambda = 0 climbs to the root from below and is exact
    once no breakpoint is left between the iterate and the root: a few passes over the row
    instead of a sort (the reference sorts every row).
    """
    side = (w * t).sum(1) - b >= 0
    sign = torch.where(side, 1.0, -1.0).to(w.dtype)
    w, r = w * sign[:, None], (w * t).sum(1) * sign - b * sign  # now w.t - b = r >= 0
    corner = (w < 0).to(t.dtype)  # the box side each coordinate moves to
    p = corner - t * (2 * corner - 1)  # room to move, >= 0
    aw = w.abs()
    reach = (aw * p).sum(1)
    lam = torch.zeros_like(r)
    for _ in range(64):
        free = p > lam[:, None]
        slope = (aw * free).sum(1)
        value = (aw * torch.minimum(lam[:, None], p)).sum(1)
        step = (r - value) / slope.clamp(min=1e-30)
        nxt = lam + step.clamp(min=0)
        done = (p > nxt[:, None]).eq(free).all(1) | (slope == 0)
        lam = nxt
        if bool(done.all()):
            break
    move = torch.minimum(lam[:, None], p)
    d = torch.where(corner > 0, move, -move)
    d = torch.where((r >= reach)[:, None], corner - t, d)  # out of reach: the far corner
    return d * (w != 0)


def fab_step(
    x1: torch.Tensor, x0: torch.Tensor, df: torch.Tensor, dg: torch.Tensor, eta: float,
    alpha_max: float,
) -> torch.Tensor:  # fmt: skip
    """One FAB step from ``x1``: project it and the clean ``x0`` on the linearised boundary
    ``df + dg . (x - x1) = 0``; move to their mix (weight of x0: ``alpha``, at most
    ``alpha_max``), each projection stretched by ``eta``; clamp to [0, 1]."""
    n = len(x1)
    w = dg.reshape(n, -1)
    b = -df + (w * x1.reshape(n, -1)).sum(1)
    d = project_linf(torch.cat((x1.reshape(n, -1), x0.reshape(n, -1))), torch.cat((w, w)),
                     torch.cat((b, b)))  # fmt: skip
    size = d.abs().amax(1).clamp(min=1e-8).view(-1, 1, 1, 1)
    d1, d2 = d[:n].view_as(x1), d[n:].view_as(x1)
    a1, a2 = size[:n], size[n:]
    alpha = (a1 / (a1 + a2)).clamp(min=0.0, max=alpha_max)
    return ((x1 + eta * d1) * (1 - alpha) + (x0 + d2 * eta) * alpha).clamp(0.0, 1.0)


class FabRun:
    """One targeted FAB run over samples classified correctly; shrinks as samples are fooled
    within eps (further steps would only look for smaller adversarials)."""

    def __init__(self, model: nn.Module, x0, y, target, eps: float) -> None:
        self.model, self.eps = model, eps
        self.idx = torch.arange(len(y), device=y.device)
        self.x0, self.y, self.t, self.x1 = x0, y, target, x0.clone()
        self.adv, self.pred = x0.clone(), y.clone()
        self.fooled = torch.zeros(len(y), dtype=torch.bool, device=y.device)
        self.iterations = torch.zeros_like(y)

    def boundary(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``z_t - z_y`` at x1 and its input gradient (one forward, one backward)."""
        leaf = self.x1.detach().requires_grad_(True)
        with torch.enable_grad():
            z = self.model(leaf)
            diff = z.gather(1, self.t[:, None]) - z.gather(1, self.y[:, None])
            (grad,) = torch.autograd.grad(diff.sum(), leaf)
        self.iterations[self.idx] += 1
        return diff.detach().squeeze(1), grad

    def check(self, beta: float) -> bool:
        """Classify x1; a misclassification within eps ends the sample, one beyond eps sends
        x1 back towards the clean image by ``beta``. False when no sample is left."""
        pred = self.model(self.x1).argmax(1)
        hit = pred != self.y
        size = (self.x1 - self.x0).flatten(1).abs().amax(1)
        won = hit & (size <= self.eps)
        if bool(won.any()):
            where = self.idx[won]
            self.adv[where], self.pred[where], self.fooled[where] = self.x1[won], pred[won], True
            keep = ~won
            self.idx, self.x0, self.y, self.t = (
                v[keep] for v in (self.idx, self.x0, self.y, self.t)
            )
            self.x1, hit = self.x1[keep], hit[keep]
        far = hit[:, None, None, None]
        self.x1 = torch.where(far, self.x0 + (self.x1 - self.x0) * beta, self.x1)
        return len(self.idx) > 0


@torch.no_grad()
def fab_run(model: nn.Module, x0, y, target, eps: float, steps: int, *, eta: float,
            beta: float, alpha_max: float) -> FabRun:  # fmt: skip
    run = FabRun(model, x0, y, target, eps)
    for _ in range(steps):
        df, dg = run.boundary()
        run.x1 = fab_step(run.x1, run.x0, df, dg, eta, alpha_max)
        if not run.check(beta):
            break
    return run


@register(
    "fab-t",
    "eps",
    "FAB-T (Croce & Hein 2020): targeted minimum-norm boundary attack, success within eps",
)
def fab_t(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float, *,
    steps: int = 100, n_targets: int = 9, alpha_max: float = 0.1, eta: float = 1.05,
    beta: float = 0.9,
) -> AttackResult:  # fmt: skip
    r"""FAB-T (targeted FAB) in the paper 'Minimally distorted Adversarial Examples with a Fast
    Adaptive Boundary Attack' [https://arxiv.org/abs/1907.02044] (Croce & Hein, ICML 2020),
    AutoAttack's third attack.

    Distance measure: Linf. For the 2nd, 3rd, ... most likely classes of the clean image in
    turn (``n_targets`` of them), ``steps`` FAB steps on the samples still classified
    correctly (see :func:`fab_step`); a sample is fooled by an adversarial whose L-inf size is
    at most eps. No random start (AutoAttack's FAB-T runs one restart).

    Arguments:
        model, images, labels: as for every attack (see :mod:`~engine.vision.attacks.base`).
        budget (float): eps, the L-inf radius in [0, 1] pixel units (e.g. 8/255).
        steps (int): steps per target. (Default: 100, as AutoAttack; torchattacks: 10)
        n_targets (int): target classes tried. (Default: 9)
        alpha_max (float): largest weight of the clean image's projection. (Default: 0.1)
        eta (float): overshoot of the projections. (Default: 1.05)
        beta (float): back-off towards the clean image after a success. (Default: 0.9)

    Returns ``AttackResult(adv [N, C, H, W] in [0, 1], pred [N], iterations [N])``; images not
    fooled within eps come back clean.

    Example::

        res = fab_t(model, images, labels, 8 / 255, steps=100, n_targets=9)
    """
    check_budget(budget, "eps")
    prepare(model)
    if budget == 0 or steps < 1:
        return clean_result(model, images)
    x0, logits, adv, iterations, robust, order = per_target_start(model, images, labels)
    pred = logits.argmax(1)
    for rank in range(2, min(int(n_targets), logits.shape[1] - 1) + 2):
        idx = torch.nonzero(robust).squeeze(1)
        if idx.numel() == 0:
            break
        kw = {"eta": eta, "beta": beta, "alpha_max": alpha_max}
        run = fab_run(model, x0[idx], labels[idx], order[idx, -rank], budget, steps, **kw)
        hit = idx[run.fooled]
        adv[hit], pred[hit], robust[hit] = run.adv[run.fooled], run.pred[run.fooled], False
        iterations[idx] += run.iterations
    return AttackResult(adv, pred, iterations)
