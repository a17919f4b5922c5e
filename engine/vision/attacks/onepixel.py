"""One- and few-pixel attack by differential evolution, the whole population in batched forwards."""

from __future__ import annotations

import torch
from torch import nn

from engine.errors import UsageError
from engine.vision.attacks.base import AttackResult, check_budget, prepare, register
from engine.vision.attacks.loop import attackable, clean_result, fooled
from engine.vision.attacks.targets import TargetSpec, resolve_target


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
    bound memory; there is no per-candidate or per-image Python loop. Fitness is the probability
    of the true class (untargeted) or one minus that of the target, less 2 on success, so a
    successful candidate always beats an unsuccessful one.
    """
    b, p = cand.shape[:2]
    cand = cand.reshape(b * p, *cand.shape[2:])
    owner = torch.arange(b, device=flat.device).repeat_interleave(p)
    fit = torch.empty(b * p, device=flat.device)
    hit = torch.empty(b * p, dtype=torch.bool, device=flat.device)
    for s in range(0, b * p, chunk):
        o = owner[s : s + chunk]
        logits = model(paint(flat[o], cand[s : s + chunk], h, w))
        prob = logits.softmax(1)
        t = None if target is None else target[o]
        ok = fooled(logits.argmax(1), labels[o], t)
        base = prob.gather(1, labels[o, None]) if t is None else 1 - prob.gather(1, t[:, None])
        fit[s : s + chunk] = base.squeeze(1) - 2.0 * ok
        hit[s : s + chunk] = ok
    return fit.view(b, p), hit.view(b, p)


def pick(x: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
    """``x[b, i[b, p, ...]]`` along dim 1 for candidate tensors ``[B, P, k, D]``."""
    return x.gather(1, i[:, :, None, None].expand(-1, -1, *x.shape[2:]))


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
    when fitter (lower true-class probability, or higher target probability; a success always
    wins). Positions wrap around the image, colours are clamped to [0, 1]; initial colours are
    drawn from N(0.5, 0.5) as the paper's N(128, 127). Every candidate of every image is
    evaluated in batched forwards. At most k pixels differ from the clean image.

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
    k = int(budget)
    if k == 0:
        return clean_result(model, images)
    x0 = images.detach()
    n, c, h, w = x0.shape
    adv = x0.clone()
    iterations = torch.zeros_like(labels)
    with torch.no_grad():
        logits = model(x0)
    pred = logits.argmax(1)
    tgt = resolve_target(target, logits, labels)
    idx = torch.nonzero(attackable(pred, labels, tgt)).squeeze(1)
    if idx.numel() == 0:
        return AttackResult(adv, pred, iterations)
    dev = x0.device
    chunk = chunk or (256 if dev.type == "cpu" else 16384)
    flat = flatten_pixels(x0[idx])
    y, t = labels[idx], None if tgt is None else tgt[idx]
    size = torch.tensor([h, w], device=dev, dtype=x0.dtype)
    b = len(idx)
    pos = torch.rand(b, popsize, k, 2, device=dev, dtype=x0.dtype) * size
    colour = torch.randn(b, popsize, k, c, device=dev, dtype=x0.dtype).mul_(0.5).add_(0.5)
    cand = torch.cat([pos, colour.clamp_(0.0, 1.0)], dim=3)
    fit, hit = evaluate(model, flat, cand, y, t, h, w, chunk)
    iterations[idx] = 1
    best = torch.empty(n, k, 2 + c, device=dev, dtype=x0.dtype)  # chosen candidate per image
    for _ in range(steps):
        if early_stop:
            done = hit.any(1)
            if bool(done.any()):
                best[idx[done]] = pick(cand[done], fit[done].argmin(1)[:, None])[:, 0]
                keep = ~done
                if not bool(keep.any()):
                    break
                idx, flat, y, cand, fit, hit = (v[keep] for v in (idx, flat, y, cand, fit, hit))
                t = None if t is None else t[keep]
        b = len(idx)
        # three distinct other candidates per candidate: the 3 smallest of random scores,
        # with each candidate's own score pushed out of reach
        scores = torch.rand(b, popsize, popsize, device=dev)
        scores.diagonal(dim1=1, dim2=2).fill_(2.0)
        r = scores.topk(3, dim=2, largest=False).indices
        child = pick(cand, r[..., 0]) + mutation * (pick(cand, r[..., 1]) - pick(cand, r[..., 2]))
        child[..., :2] = torch.remainder(child[..., :2], size)
        child[..., 2:].clamp_(0.0, 1.0)
        f_child, h_child = evaluate(model, flat, child, y, t, h, w, chunk)
        better = f_child <= fit
        cand = torch.where(better[:, :, None, None], child, cand)
        fit = torch.where(better, f_child, fit)
        hit = torch.where(better, h_child, hit)
        iterations[idx] += 1
    best[idx] = pick(cand, fit.argmin(1)[:, None])[:, 0]
    attacked = torch.nonzero(iterations > 0).squeeze(1)
    adv[attacked] = paint(flatten_pixels(x0[attacked]), best[attacked], h, w)
    with torch.no_grad():
        pred[attacked] = model(adv[attacked]).argmax(1)
    return AttackResult(adv, pred, iterations)
