"""Targeted mode: which class each sample is pushed towards.

A ``target`` is ``None`` (untargeted: push away from the true label), a class index (the same
class for every image), ``"least-likely"`` (the class the model finds least likely on the clean
image, as Kurakin et al.'s ILLC) or ``"random"`` (a uniformly drawn class other than the true
label, as torchattacks' random targeted mode). Targets are fixed from the clean image, once.
"""

from __future__ import annotations

import torch

from engine.errors import UsageError
from engine.vision.targeting import TARGET_CHOICES, TargetSpec, parse_target  # noqa: F401


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
