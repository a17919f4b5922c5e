"""Adversarial training: the attack each training batch is replaced by, and the robustness watch.

Two strategies, chosen by ``TrainConfig.adversarial``:

- ``fgsm-rs``: FGSM from a uniform random start in the eps-box, step ``alpha = 1.25 eps``
  ('Fast is better than free', Wong, Rice & Kolter, ICLR 2020,
  https://arxiv.org/abs/2001.03994): one extra forward and backward per batch.
- ``pgd``: PGD-AT ('Towards Deep Learning Models Resistant to Adversarial Attacks', Madry et
  al., ICLR 2018, https://arxiv.org/abs/1706.06083): ``steps`` sign steps of
  ``alpha = 2.5 eps / steps`` from a random start.

Both stay in train mode (batch statistics, as the papers' code does) and differentiate the input
only (``autograd.grad`` on the input: parameter gradients are neither computed nor touched), under
the same autocast as the training step. Random starts come from the training generator, so a
seed gives the same run.

FGSM training can fail suddenly: within an epoch the model learns to make the single FGSM step
useless and its accuracy under PGD collapses to near 0 (catastrophic overfitting, Wong et al.
section 5). :class:`RobustWatch` measures PGD-10 accuracy on a fixed batch held out of the training
split after every epoch, keeps the weights of the best robust epoch, and flags a collapse (more
than ``drop`` below the best so far), after which training stops and the best weights are kept,
as Wong et al. do.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.vision.budgets import parse_budgets
from engine.vision.data import ImageSet
from engine.vision.events import TrainConfig

Perturb = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
HELDOUT = 1000  # training images kept out to watch robustness (at most 10% of the split)
WATCH_STEPS = 10  # PGD-10, alpha 2/255 (as the sweep's pgd) for the per-epoch robust accuracy


def number(text: str) -> float:
    """A single value as users type it: ``8/255`` or ``0.031``."""
    return parse_budgets(text)[0]


def attack_settings(config: TrainConfig) -> tuple[float, float, int]:
    """``(eps, alpha, steps)`` of the training attack, with the papers' default step sizes."""
    eps = number(config.eps)
    steps = 1 if config.adversarial == "fgsm-rs" else config.attack_steps
    if config.attack_alpha:
        return eps, number(config.attack_alpha), steps
    return eps, (1.25 * eps if steps == 1 else 2.5 * eps / steps), steps


def training_attack(config: TrainConfig, gen: torch.Generator) -> Perturb | None:
    """The perturbation applied to every training batch, or None for standard training."""
    if config.adversarial == "none":
        return None
    eps, alpha, steps = attack_settings(config)

    def perturb(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return sign_ascent(model, x, y, eps, alpha, steps, gen)

    return perturb


def sign_ascent(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    alpha: float,
    steps: int,
    gen: torch.Generator,
) -> torch.Tensor:
    """``steps`` sign steps of ``alpha`` ascending the cross-entropy from a uniform random start
    in the eps-box, each projected back onto the box and [0, 1]; returns the detached images.

    One step is FGSM-RS (Wong et al.), several are PGD (Madry et al.)."""
    noise = torch.rand(x.shape, generator=gen).to(x.device, x.dtype).mul_(2 * eps).sub_(eps)
    lo, hi = (x - eps).clamp_(min=0.0), (x + eps).clamp_(max=1.0)
    adv = torch.clamp(x + noise, lo, hi)
    for _ in range(steps):
        adv.requires_grad_(True)
        loss = F.cross_entropy(model(adv), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, adv)
        adv = torch.clamp(adv.detach() + alpha * grad.sign(), lo, hi)
    return adv.detach()


def split_heldout(train: ImageSet, seed: int) -> tuple[ImageSet, ImageSet]:
    """``(the rest, held out)``: a seeded random ``HELDOUT`` images (10% at most) set aside."""
    n = min(HELDOUT, len(train) // 10)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed + 1))
    keep, out = order[n:].sort().values, order[:n].sort().values
    part = lambda idx: ImageSet(  # noqa: E731
        train.name, train.images[idx], train.labels[idx], train.classes
    )
    return part(keep), part(out)


@dataclass(frozen=True)
class RobustCheck:
    """One epoch's accuracies on the held-out batch: clean and under PGD-10."""

    epoch: int
    clean: float
    robust: float
    collapsed: bool = False


class RobustWatch:
    """PGD accuracy on a fixed held-out batch after each epoch; the best robust weights kept.

    The PGD start is drawn from a fixed seed every time (outside the training generator), so
    two epochs are measured on exactly the same attack."""

    def __init__(self, heldout: ImageSet, eps: float, device: torch.device, drop: float = 0.2):
        self.x = heldout.floats(slice(None), device).contiguous(memory_format=torch.channels_last)
        self.y = heldout.labels.to(device)
        self.eps, self.drop = eps, drop
        self.best: RobustCheck | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.collapse: RobustCheck | None = None

    def __call__(self, model: nn.Module, epoch: int) -> RobustCheck:
        clean, robust = self.measure(model)
        best = self.best
        collapsed = best is not None and robust < best.robust - self.drop
        check = RobustCheck(epoch, clean, robust, collapsed)
        if collapsed:
            self.collapse = check
        elif best is None or robust >= best.robust:
            self.best = check
            self.best_state = copy.deepcopy(model.state_dict())
        return check

    def measure(self, model: nn.Module) -> tuple[float, float]:
        """Clean and PGD-10 accuracy (fp32, eval mode); the model is left ready to train."""
        from engine.vision.attacks import get_attack

        pgd = get_attack("pgd").run
        with torch.random.fork_rng(devices=[self.x.device] if self.x.is_cuda else []):
            torch.manual_seed(0)
            res = pgd(model, self.x, self.y, self.eps, steps=WATCH_STEPS)
            with torch.no_grad():
                clean = (model(self.x).argmax(1) == self.y).float().mean().item()
        for p in model.parameters():  # attacks freeze the parameters; training needs them back
            p.requires_grad_(True)
        return clean, (res.pred == self.y).float().mean().item()

    def restore(self, model: nn.Module) -> bool:
        """Load the best robust epoch's weights; True if they are not the last epoch's."""
        if self.best_state is None:
            return False
        model.load_state_dict(self.best_state)
        return True

    def state(self) -> dict:
        """The best and collapsed epochs and the best weights, for a training checkpoint."""
        as_row = lambda c: None if c is None else [c.epoch, c.clean, c.robust, c.collapsed]  # noqa: E731
        return {"best": as_row(self.best), "collapse": as_row(self.collapse),
                "best_state": self.best_state}  # fmt: skip

    def load(self, state: dict) -> None:
        """Put back what :meth:`state` kept (a resumed training goes on watching)."""
        check = lambda row: None if row is None else RobustCheck(int(row[0]), *row[1:])  # noqa: E731
        self.best, self.collapse = check(state["best"]), check(state["collapse"])
        self.best_state = state["best_state"]

    def summary(self) -> dict[str, object]:
        """What the model card records about robustness during training."""
        best, fall = self.best, self.collapse
        return {
            "heldout_images": len(self.y),
            "heldout_attack": f"pgd, {WATCH_STEPS} steps, alpha 2/255, eps {self.eps:.6g}",
            "kept_epoch": best.epoch if best else None,
            "heldout_clean_accuracy": best.clean if best else None,
            "heldout_robust_accuracy": best.robust if best else None,
            "catastrophic_overfitting": None
            if fall is None
            else {"epoch": fall.epoch, "robust_accuracy": fall.robust},
        }
