"""Warnings of gradient masking: the symptoms 'On Evaluating Adversarial Robustness' lists.

A defence that only hides its gradients looks robust to gradient attacks and is not. Carlini
et al. (2019, https://arxiv.org/abs/1902.06705, section 5 and its checklist) name the symptoms
a sweep can see, and each becomes a flag on a point (model, attack, budget):

- ``black box``: a black-box attack (Square) leaves a lower accuracy than the strongest
  iterative white-box attack at the same L-inf budget: the gradients mislead.
- ``rises``: an iterative attack's accuracy goes up with the budget: a larger ball holds every
  adversarial of a smaller one, so a working attack can only do better.
- ``steps``: re-running an iterative attack with :data:`MORE_STEPS` times its steps on a few
  images lowers their accuracy a lot: the attack had not converged, or the loss surface is
  shattered. The sweep runs that check (:func:`more_steps_check`, its ``steps_check``
  setting) on the first :data:`CHECK_IMAGES` images of each point of a gradient attack with
  at most :data:`FEW_STEPS` steps, unless the attack already fooled them all.

The rules read sweep points only (this part is torch-free, so the app applies them as points
arrive); each has a margin so that sampling noise on a sound model does not raise it. Pixel
budgets are left out of the black-box rule: at 1-5 pixels a one-pixel search beats sparse PGD
on any model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

BLACK_BOX = frozenset({"square"})
WHITE_BOX = frozenset({"bim", "pgd", "mifgsm", "apgd-ce", "apgd-t", "fab-t"})  # iterative L-inf
SINGLE_STEP = frozenset({"fgsm", "oneshot"})  # may overshoot at large budgets; not flagged
STEPS_CHECKED = WHITE_BOX | {"pgd-l2", "illc", "iterated", "pgd-l0"}  # gradient attacks
MORE_STEPS, FEW_STEPS, CHECK_IMAGES = 5, 20, 64
BLACK_MARGIN, RISE_MARGIN, STEPS_MARGIN = 0.03, 0.02, 0.1
FLAG_TEXT = {
    "black box": "a black-box attack beats the white-box ones",
    "rises": "accuracy rises with the budget",
    "steps": "more steps help a lot",
}

Key = tuple[str, str, float]


def masking_flags(points: Iterable[Any]) -> dict[Key, tuple[str, ...]]:
    """The flags raised by a sweep's points, by (model, attack, budget); unflagged left out."""
    points = list(points)
    found: dict[Key, list[str]] = {}
    for p in _black_box_wins(points):
        found.setdefault((p.model, p.attack, p.budget), []).append("black box")
    for p in _rises(points):
        found.setdefault((p.model, p.attack, p.budget), []).append("rises")
    for p in points:
        if p.check_n and p.check_acc - p.check_more >= STEPS_MARGIN:
            found.setdefault((p.model, p.attack, p.budget), []).append("steps")
    return {k: tuple(v) for k, v in found.items()}


def _noise(n: int) -> float:
    """Three images' worth of accuracy: below that, a difference is noise."""
    return 3.0 / max(n, 1)


def _black_box_wins(points: list[Any]) -> list[Any]:
    best: dict[tuple[str, float], float] = {}
    for p in points:
        if p.attack in WHITE_BOX and p.axis == "eps" and p.budget > 0:
            key = (p.model, p.budget)
            best[key] = min(best.get(key, math.inf), p.accuracy)
    return [
        p
        for p in points
        if p.attack in BLACK_BOX
        and (p.model, p.budget) in best
        and p.accuracy < best[(p.model, p.budget)] - max(BLACK_MARGIN, _noise(p.n))
    ]


def _rises(points: list[Any]) -> list[Any]:
    out = []
    curves: dict[tuple[str, str], list[Any]] = {}
    for p in points:
        if p.attack not in SINGLE_STEP:
            curves.setdefault((p.model, p.attack), []).append(p)
    for curve in curves.values():
        lowest = math.inf
        for p in sorted(curve, key=lambda q: q.budget):
            if p.accuracy > lowest + max(RISE_MARGIN, _noise(p.n)):
                out.append(p)
            lowest = min(lowest, p.accuracy)
    return out


def flag_note(flags: Iterable[str]) -> str:
    """The flags as one short cell: ``black box, steps``."""
    return ", ".join(flags)


def more_steps_check(
    spec: Any, params: dict[str, Any], model: Any, x: Any, y: Any, pred: Any, budget: float
) -> tuple[int, float, float]:
    """``(images, accuracy, accuracy with MORE_STEPS x the steps)`` on the first
    :data:`CHECK_IMAGES` of a batch on which attack ``spec`` (with ``params``) gave ``pred``;
    ``(0, nan, nan)`` when the check does not apply (not a gradient attack, many steps,
    budget 0, every image already fooled)."""
    steps = params.get("steps")
    if spec.name not in STEPS_CHECKED or not isinstance(steps, int) or steps > FEW_STEPS:
        return 0, math.nan, math.nan
    k = min(CHECK_IMAGES, len(y))
    acc = (pred[:k] == y[:k]).float().mean().item()
    if budget == 0 or acc == 0:
        return 0, math.nan, math.nan
    import torch

    run = spec.run
    with torch.random.fork_rng(devices=[x.device] if x.is_cuda else []):  # the sweep's stream
        more = run(model, x[:k], y[:k], budget, **{**params, "steps": steps * MORE_STEPS})
    return k, acc, (more.pred == y[:k]).float().mean().item()
