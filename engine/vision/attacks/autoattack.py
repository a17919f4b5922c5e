"""AutoAttack (standard, L-inf): four diverse attacks, each on the samples still robust.

The ensemble is what RobustBench ranks models by: a sample counts as robust only if APGD-CE,
APGD-T, FAB-T and Square all fail on it, so the accuracy is the worst case per sample over four
attacks that fail in different ways (a white box on two losses, a boundary attack, and a black
box that needs no gradient at all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from engine.vision.attacks.base import AttackResult, check_budget, get_attack, prepare, register
from engine.vision.attacks.loop import clean_result

COMPONENTS = ("apgd-ce", "apgd-t", "fab-t", "square")


def rng_rewinder(device: torch.device) -> Callable[[], None]:
    """A function that puts the random generators back as they are now, so every component
    starts from the same random state (AutoAttack seeds each with the same seed)."""
    cpu = torch.get_rng_state()
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None

    def rewind() -> None:
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state(cuda, device)

    return rewind


def component_params(steps: int, n_targets: int, n_queries: int) -> dict[str, dict[str, Any]]:
    """Each component's settings in the standard version (one restart each)."""
    return {
        "apgd-ce": {"steps": steps},
        "apgd-t": {"steps": steps, "n_targets": n_targets},
        "fab-t": {"steps": steps, "n_targets": n_targets},
        "square": {"n_queries": n_queries},
    }


@register(
    "autoattack",
    "eps",
    "AutoAttack standard (Croce & Hein 2020): apgd-ce, apgd-t, fab-t, square in turn on the "
    "samples still robust; worst case per sample",
)
def autoattack(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, budget: float, *,
    steps: int = 100, n_targets: int = 9, n_queries: int = 5000,
) -> AttackResult:  # fmt: skip
    r"""AutoAttack, standard version, in the paper 'Reliable evaluation of adversarial robustness
    with an ensemble of diverse parameter-free attacks' [https://arxiv.org/abs/2003.01690]
    (Croce & Hein, ICML 2020) [https://github.com/fra31/auto-attack].

    Distance measure: Linf. Runs :func:`~engine.vision.attacks.apgd.apgd_ce`,
    :func:`~engine.vision.attacks.apgd.apgd_t`, :func:`~engine.vision.attacks.fab.fab_t` and
    :func:`~engine.vision.attacks.square.square` in turn, each on the samples every earlier
    one failed to fool and each from the same random state; a sample is robust only if all
    four fail.

    Arguments:
        model, images, labels: as for every attack (see :mod:`~engine.vision.attacks.base`).
        budget (float): eps, the L-inf radius in [0, 1] pixel units (e.g. 8/255).
        steps (int): iterations of APGD-CE, and per target of APGD-T and FAB-T. (Default: 100,
            as the paper; torchattacks' AutoAttack runs 10)
        n_targets (int): target classes of APGD-T and FAB-T. (Default: 9)
        n_queries (int): Square's queries per image. (Default: 5000)

    Returns ``AttackResult(adv [N, C, H, W] in [0, 1], pred [N], iterations [N])``: for a
    fooled sample the first component's adversarial, for a robust one APGD-CE's highest-loss
    point; iterations add up the components' gradient steps and queries.

    Example::

        torch.manual_seed(0)
        res = autoattack(model, images, labels, 8 / 255)
        robust_acc = (res.pred == labels).float().mean()
    """
    check_budget(budget, "eps")
    prepare(model)
    if budget == 0:
        return clean_result(model, images)
    rewind = rng_rewinder(images.device)
    x0 = images.detach()
    with torch.no_grad():
        pred = model(x0).argmax(1)
    adv, iterations = x0.clone(), torch.zeros_like(labels)
    robust = pred == labels
    for i, (name, params) in enumerate(component_params(steps, n_targets, n_queries).items()):
        idx = torch.nonzero(robust).squeeze(1)
        if idx.numel() == 0:
            break
        rewind()
        res = get_attack(name).run(model, x0[idx], labels[idx], budget, **params)
        hit = res.pred != labels[idx]
        keep = torch.ones_like(hit) if i == 0 else hit  # robust: APGD-CE's strongest point
        adv[idx[keep]], pred[idx[keep]] = res.adv[keep], res.pred[keep]
        robust[idx[hit]] = False
        iterations[idx] += res.iterations
    return AttackResult(adv, pred, iterations)
