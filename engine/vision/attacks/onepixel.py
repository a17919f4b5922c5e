"""One- and few-pixel attack by differential evolution, the whole population in batched forwards."""

from __future__ import annotations

import torch
from torch import nn

from engine.errors import UsageError
from engine.vision.attacks.base import AttackResult, check_budget, prepare, register
from engine.vision.attacks.loop import attackable, clean_result, fooled
from engine.vision.attacks.targets import TargetSpec, resolve_target

CROSSOVER = 0.1  # targeted: chance that a child's pixel comes from the mutant, not the parent


def flatten_pixels(images: torch.Tensor) -> torch.Tensor:
    """``[N, C, H, W]`` -> ``[N, H*W, C]``: one row per pixel, its channels side by side."""
    n, c, h, w = images.shape
    return images.permute(0, 2, 3, 1).reshape(n, h * w, c)


def paint(flat: torch.Tensor, cand: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Images ``[M, C, H, W]`` (channels-last strides): ``flat`` with each candidate's pixels set.

    Writes into ``flat`` (a fresh copy, ``[M, H*W, C]`` from :func:`flatten_pixels`) and returns
    a view of it. ``cand`` is ``[M, k, 2 + C]``: row and column (floats, floored) then the
    colour in [0, 1]. A pixel = all channels at one place.
    """
    m, _, c = flat.shape
    rows = cand[..., 0].long().clamp_(0, h - 1)  # a wrapped 31.99999 may round up to 32
    where = rows * w + cand[..., 1].long().clamp_(0, w - 1)
    flat.scatter_(1, where[:, :, None].expand(-1, -1, c), cand[..., 2:])
    return flat.view(m, h, w, c).permute(0, 3, 1, 2)


def fitness(
    logits: torch.Tensor, labels: torch.Tensor, target: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fitness (lower is better) and success of each row of ``logits``.

    Untargeted: the probability of the true class, less 2 on success. Targeted: the margin
    ``max_{j != t} z_j - z_t`` of the logits (negative exactly when the target wins), which
    keeps ranking candidates once the target's probability is tiny or already large, less
    a constant that puts every success below every failure.
    """
    ok = fooled(logits.argmax(1), labels, target)
    if target is None:
        return logits.softmax(1).gather(1, labels[:, None]).squeeze(1) - 2.0 * ok, ok
    own = logits.gather(1, target[:, None]).squeeze(1)
    other = logits.scatter(1, target[:, None], float("-inf")).amax(1)
    return other - own - 1e4 * ok, ok


@torch.no_grad()
def evaluate(
    model: nn.Module,
    flat: torch.Tensor,
    cand: torch.Tensor,
    labels: torch.Tensor,
    target: torch.Tensor | None,
    h: int,
    w: int,
    chunk: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fitness (lower is better) and success of every candidate ``[B, P, k, 2+C]`` of B images.

    All B * P candidate images go through the model together, ``chunk`` images per forward to
    bound memory; there is no per-candidate or per-image Python loop. See :func:`fitness`.
    """
    b, p = cand.shape[:2]
    cand = cand.reshape(b * p, *cand.shape[2:])
    owner = torch.arange(b, device=flat.device).repeat_interleave(p)
    fit = torch.empty(b * p, device=flat.device)
    hit = torch.empty(b * p, dtype=torch.bool, device=flat.device)
    for s in range(0, b * p, chunk):
        o = owner[s : s + chunk]
        logits = model(paint(flat[o], cand[s : s + chunk], h, w))
        t = None if target is None else target[o]
        fit[s : s + chunk], hit[s : s + chunk] = fitness(logits, labels[o], t)
    return fit.view(b, p), hit.view(b, p)


def pick(x: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
    """``x[b, i[b, p, ...]]`` along dim 1 for candidate tensors ``[B, P, k, D]``."""
    return x.gather(1, i[:, :, None, None].expand(-1, -1, *x.shape[2:]))


def initial_population(
    b: int, popsize: int, k: int, c: int, size: torch.Tensor, targeted: bool
) -> torch.Tensor:
    """``[B, P, k, 2 + C]`` random candidates: places uniform over the image, colours from
    N(0.5, 0.5) clamped (untargeted, as the paper) or each channel 0 or 1 (targeted)."""
    dev, dtype = size.device, size.dtype
    pos = torch.rand(b, popsize, k, 2, device=dev, dtype=dtype) * size
    colour = torch.randn(b, popsize, k, c, device=dev, dtype=dtype).mul_(0.5).add_(0.5)
    if targeted:
        colour = torch.randint(0, 2, colour.shape, device=dev).to(dtype)
    return torch.cat([pos, colour.clamp_(0.0, 1.0)], dim=3)


def mutate(
    cand: torch.Tensor, fit: torch.Tensor, mutation: float, size: torch.Tensor, targeted: bool
) -> torch.Tensor:
    """One child per candidate of ``cand`` ``[B, P, k, 2 + C]``, all images at once.

    Untargeted: DE/rand/1, ``a + F (b - c)`` on every pixel. Targeted: DE/best/1,
    ``best + F (b - c)``, crossed over pixel by pixel with the parent (each pixel from the
    mutant with probability :data:`CROSSOVER`, at least one), so a child keeps most of its
    parent's pixels and a good set of pixels is refined rather than redrawn.
    """
    b, p, k = cand.shape[:3]
    # three distinct other candidates per candidate: the 3 smallest of random scores,
    # with each candidate's own score pushed out of reach
    scores = torch.rand(b, p, p, device=cand.device)
    scores.diagonal(dim1=1, dim2=2).fill_(2.0)
    r = scores.topk(3, dim=2, largest=False).indices
    base = pick(cand, fit.argmin(1)[:, None].expand(-1, p) if targeted else r[..., 0])
    child = base + mutation * (pick(cand, r[..., 1]) - pick(cand, r[..., 2]))
    if targeted:
        u = torch.rand(b, p, k, 1, device=cand.device)
        child = torch.where((u < CROSSOVER) | (u == u.amin(2, keepdim=True)), child, cand)
    child[..., :2] = torch.remainder(child[..., :2], size)
    child[..., 2:].clamp_(0.0, 1.0)
    return child


class Population:
    """The images still attacked and their candidates, fitness and success, shrinking as
    images leave (on success with early stopping, or at the end); ``best`` holds the chosen
    candidate of every image that has left, indexed like the whole batch."""

    def __init__(
        self,
        model: nn.Module,
        x0: torch.Tensor,
        labels: torch.Tensor,
        target: torch.Tensor | None,
        idx: torch.Tensor,
        k: int,
        popsize: int,
        chunk: int,
    ) -> None:
        n, c, self.h, self.w = x0.shape
        self.model, self.chunk, self.idx = model, chunk, idx
        self.flat = flatten_pixels(x0[idx])
        self.y, self.t = labels[idx], None if target is None else target[idx]
        self.size = torch.tensor([self.h, self.w], device=x0.device, dtype=x0.dtype)
        self.cand = initial_population(len(idx), popsize, k, c, self.size, target is not None)
        self.fit, self.hit = self.evaluate(self.cand)
        self.best = torch.empty(n, k, 2 + c, device=x0.device, dtype=x0.dtype)

    def evaluate(self, cand: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return evaluate(self.model, self.flat, cand, self.y, self.t, self.h, self.w, self.chunk)

    def generation(self, mutation: float) -> None:
        """Children for all candidates; each replaces its parent when at least as fit."""
        child = mutate(self.cand, self.fit, mutation, self.size, self.t is not None)
        f_child, h_child = self.evaluate(child)
        better = f_child <= self.fit
        self.cand = torch.where(better[:, :, None, None], child, self.cand)
        self.fit = torch.where(better, f_child, self.fit)
        self.hit = torch.where(better, h_child, self.hit)

    def retire(self, done: torch.Tensor) -> None:
        """Keep the fittest candidate of each ``done`` image in ``best`` and drop those images."""
        if bool(done.any()):
            self.best[self.idx[done]] = pick(self.cand[done], self.fit[done].argmin(1)[:, None])[
                :, 0
            ]
            keep = ~done
            self.idx, self.flat, self.y = self.idx[keep], self.flat[keep], self.y[keep]
            self.cand, self.fit, self.hit = self.cand[keep], self.fit[keep], self.hit[keep]
            self.t = None if self.t is None else self.t[keep]

    def retire_successes(self) -> bool:
        """Retire every image with a successful candidate; whether any image is left."""
        self.retire(self.hit.any(1))
        return bool(self.idx.numel())


@register(
    "onepixel",
    "pixels",
    "one/few-pixel attack (Su 2019) by differential evolution over k pixels' place and colour",
)
def onepixel(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    budget: float,
    steps: int = 20,
    popsize: int = 100,
    mutation: float = 0.5,
    target: TargetSpec = None,
    early_stop: bool = True,
    chunk: int | None = None,
) -> AttackResult:
    r"""One pixel attack in the paper 'One Pixel Attack for Fooling Deep Neural Networks'
    [https://arxiv.org/abs/1710.08864] (Su, Vargas & Sakurai, IEEE TEVC 2019).

    Distance measure: L0 over pixel locations (a pixel is all C channels at one place).
    Black-box: only the model's probabilities are used. Each image has a population of
    ``popsize`` candidates, each k pixels (row, column, colour); DE/rand/1 makes a child
    ``a + mutation * (b - c)`` from three other candidates, and the child replaces its parent
    when fitter (lower true-class probability; a success always wins). Positions wrap around
    the image, colours are clamped to [0, 1]; initial colours are drawn from N(0.5, 0.5) as
    the paper's N(128, 127). Every candidate of every image is evaluated in batched forwards.
    At most k pixels differ from the clean image.

    Targeted, reaching one given class is far harder than leaving the true one, so the search
    changes (:func:`mutate`): fitness is the logit margin of the target (:func:`fitness`),
    initial colours are the corners of the colour cube (each channel 0 or 1), and DE/best/1
    with binomial crossover over pixels (rate 0.1, at least one pixel) moves each child a few
    pixels away from its parent, building on the best candidate found so far.

    Arguments:
        model: classifier on [0, 1] inputs (normalisation inside).
        images: ``[N, C, H, W]`` in [0, 1]. labels: ``[N]`` true classes.
        budget (int): k, the number of pixels that may change. (The paper: 1, 3 and 5)
        steps (int): generations after the initial population. (Default: 20; the paper: 100)
        popsize (int): candidates per image, at least 4. (Default: 100; the paper: 400)
        mutation (float): the DE scale factor F. (Default: 0.5, as the paper)
        target: None (default), a class index, ``"least-likely"`` or ``"random"``.
        early_stop (bool): stop each image at its first success. (Default: True, as the paper)
        chunk (int): most candidate images per forward. (Default: 256 on CPU, where small
            batches stay in cache and run fastest, 16384 elsewhere)

    Returns ``AttackResult(adv, pred, iterations)``; iterations counts population evaluations
    (1 for the initial population, plus one per generation).

    Example::

        torch.manual_seed(0)
        res = onepixel(model, images, labels, 1, steps=20, popsize=100)
    """
    check_budget(budget, "pixels")
    if popsize < 4:
        raise UsageError(f"popsize must be at least 4 for differential evolution, got {popsize}")
    prepare(model)
    if int(budget) == 0:
        return clean_result(model, images)
    x0 = images.detach()
    with torch.no_grad():
        logits = model(x0)
    pred = logits.argmax(1)
    tgt = resolve_target(target, logits, labels)
    iterations = torch.zeros_like(labels)
    idx = torch.nonzero(attackable(pred, labels, tgt)).squeeze(1)
    if idx.numel() == 0:
        return AttackResult(x0.clone(), pred, iterations)
    chunk = chunk or (256 if x0.device.type == "cpu" else 16384)
    pop = Population(model, x0, labels, tgt, idx, int(budget), popsize, chunk)
    iterations[idx] = 1
    for _ in range(steps):
        if early_stop and not pop.retire_successes():
            break
        pop.generation(mutation)
        iterations[pop.idx] += 1
    pop.retire(torch.ones_like(pop.idx, dtype=torch.bool))
    attacked = torch.nonzero(iterations > 0).squeeze(1)
    adv = x0.clone()
    _, _, h, w = x0.shape
    adv[attacked] = paint(flatten_pixels(x0[attacked]), pop.best[attacked], h, w)
    with torch.no_grad():
        pred[attacked] = model(adv[attacked]).argmax(1)
    return AttackResult(adv, pred, iterations)
