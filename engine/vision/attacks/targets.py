"""Targeted mode: which class each sample is pushed towards.

A ``target`` is ``None`` (untargeted: push away from the true label), a class index (the same
class for every image), ``"least-likely"`` (the class the model finds least likely on the clean
image, as Kurakin et al.'s ILLC) or ``"random"`` (a uniformly drawn class other than the true
label, as torchattacks' random targeted mode). Targets are fixed from the clean image, once.
"""

from __future__ import annotations

import torch

from engine.errors import UsageError

TargetSpec = int | str | None
TARGET_CHOICES = ("least-likely", "random")


def parse_target(value: TargetSpec) -> TargetSpec:
    """``None``, a non-negative class index, or one of :data:`TARGET_CHOICES` (UsageError else)."""
    if value is None or isinstance(value, int) and not isinstance(value, bool):
        if isinstance(value, int) and value < 0:
            raise UsageError(f"target class must be >= 0, got {value}")
        return value
    text = str(value).strip().lower().replace("_", "-")
    if text in ("", "none"):
        return None
    if text.isdigit():
        return int(text)
    if text in ("least", "ll"):
        text = "least-likely"
    if text not in TARGET_CHOICES:
        raise UsageError(f"unknown target {value!r}; give a class index, least-likely or random")
    return text


def resolve_target(
    target: TargetSpec, clean_logits: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor | None:
    """Per-sample targets ``[N]`` from the clean logits ``[N, classes]``; None if untargeted."""
    target = parse_target(target)
    if target is None:
        return None
    classes = clean_logits.shape[1]
    if isinstance(target, int):
        if target >= classes:
            raise UsageError(f"target class {target} out of range; the model has {classes}")
        return torch.full_like(labels, target)
    if target == "least-likely":
        return clean_logits.detach().argmin(1)
    # random: a uniform class among the classes - 1 others than the label
    shift = torch.randint(1, classes, labels.shape, device=labels.device)
    return (labels + shift) % classes
