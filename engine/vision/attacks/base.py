"""What every attack shares: the result type, the registry, and batched input gradients.

An attack is a function ``run(model, images, labels, budget, **params) -> AttackResult`` over a
whole batch (images in [0, 1], the model in eval mode with its normalisation inside). It is
registered with the axis its budget lives on (``eps``: a per-pixel L-inf/L2 size in [0, 1]
units, ``pixels``: an L0 count of locations), its parameters with defaults, and a one-line
summary, so the CLI, the app and the sweep learn attacks from one table (as Foolbox and
torchattacks do with one class per attack).

Shared rules (DESIGN.md): images the model already gets wrong stay unperturbed (iterations 0)
and count as wrong; losses are summed over the batch, never averaged, so each sample's gradient
is the one it would get alone and a batch gives the same result as one image at a time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import nn

from engine.errors import UsageError


@dataclass
class AttackResult:
    """Adversarial images ``[N, C, H, W]`` in [0, 1], predictions on them, and steps used."""

    adv: torch.Tensor
    pred: torch.Tensor
    iterations: torch.Tensor


class AttackFn(Protocol):
    def __call__(
        self,
        model: nn.Module,
        images: torch.Tensor,
        labels: torch.Tensor,
        budget: float,
        **params: Any,
    ) -> AttackResult: ...


@dataclass(frozen=True)
class AttackSpec:
    """A registered attack: its function, budget axis, parameter defaults and a summary."""

    name: str
    run: AttackFn
    axis: str  # "eps" or "pixels"
    summary: str
    params: dict[str, Any] = field(default_factory=dict)

    def resolve(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """The attack's defaults updated with the ``overrides`` it knows (others are ignored)."""
        return {
            k: overrides.get(k, v) if overrides.get(k) is not None else v
            for k, v in self.params.items()
        }


REGISTRY: dict[str, AttackSpec] = {}


def register(name: str, axis: str, summary: str) -> Callable[[AttackFn], AttackFn]:
    """Decorator adding an attack function to the registry under ``name``.

    Its parameters and defaults are read from the function's signature (every keyword after
    ``budget``), so the registry, ``advtui attacks`` and a direct call agree by construction."""
    if axis not in ("eps", "pixels"):
        raise ValueError(f"axis must be 'eps' or 'pixels', not {axis!r}")

    def deco(fn: AttackFn) -> AttackFn:
        REGISTRY[name] = AttackSpec(name, fn, axis, summary, signature_defaults(fn))
        return fn

    return deco


def signature_defaults(fn: Callable[..., Any]) -> dict[str, Any]:
    """The keyword parameters after ``(model, images, labels, budget)`` with their defaults."""
    params = list(inspect.signature(fn).parameters.values())[4:]
    missing = [p.name for p in params if p.default is inspect.Parameter.empty]
    if missing:
        raise TypeError(f"attack parameters need defaults: {', '.join(missing)}")
    return {p.name: p.default for p in params}


def get_attack(name: str) -> AttackSpec:
    """The registered attack called ``name``; an unknown name is a one-line UsageError.

    Import it from :mod:`engine.vision.attacks`, whose import fills the registry."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise UsageError(f"unknown attack {name!r}; choose from {known}") from None


def prepare(model: nn.Module) -> nn.Module:
    """Eval mode and no parameter gradients: attacks differentiate the input only."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def forward_with_grad(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits of ``x`` with a graph back to a fresh leaf copy of ``x``; returns (leaf, logits)."""
    leaf = x.detach().requires_grad_(True)
    return leaf, model(leaf)


def input_grad(loss: torch.Tensor, leaf: torch.Tensor) -> torch.Tensor:
    """d(sum of per-sample losses)/d(input): each sample's own gradient, batched."""
    (grad,) = torch.autograd.grad(loss, leaf)
    return grad


def least_likely(logits: torch.Tensor) -> torch.Tensor:
    """The class with the lowest log-probability (argmin of log-softmax = argmin of logits)."""
    return logits.argmin(dim=1)


def nll_sum(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Summed negative log-likelihood of ``target`` under softmax(logits)."""
    return nn.functional.cross_entropy(logits, target, reduction="sum")


def check_budget(budget: float, axis: str) -> None:
    if budget < 0:
        raise UsageError(f"budget must be >= 0, got {budget}")
    if axis == "pixels" and budget != int(budget):
        raise UsageError(f"a pixel budget is a whole number of pixels, got {budget}")
