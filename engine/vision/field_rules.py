"""The checks of the vision jobs' fields (one line saying what is wrong, or None), and the
model names they accept; torch-free, like the configs that declare them."""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Any

from engine.errors import UsageError
from engine.fields import FieldError, shown
from engine.files import kind, path_reason
from engine.vision.targeting import parse_target

MODEL_SUFFIXES = (".pt", ".pt2", ".pth", ".ts")


def target_reason(value: str) -> str | None:
    try:
        parse_target(value)
    except FieldError as exc:
        return exc.reason
    return None


def budget_reason(integer: bool) -> Any:
    def reason(text: str) -> str | None:
        from engine.vision.budgets import parse_budgets

        try:
            parse_budgets(text, integer=integer)
        except UsageError as exc:
            return str(exc)
        return None

    return reason


def attacks_reason(names: tuple[str, ...]) -> str | None:
    if not names:
        return "must name at least one attack"
    from engine.vision.attacks import REGISTRY

    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        return f"has unknown {unknown[0]!r}; choose from {', '.join(sorted(REGISTRY))}"
    return None


ARCHITECTURES = ("smallcnn", "resnet18")  # engine.vision.models builds them
SHIPPED_MODELS = ("smallcnn-robust",)  # engine.vision.zoo: trained weights in assets/


def model_reason(name: str) -> str | None:
    """One model: an architecture, a shipped model, or a model file (zip archives all)."""
    if name in ARCHITECTURES or name in SHIPPED_MODELS:
        return None
    if kind(name) == "file":
        from engine.files import archive_reason

        reason = archive_reason(name)
        return f"{shown(name)} {reason}" if reason else None
    known = ", ".join((*ARCHITECTURES, *SHIPPED_MODELS))
    return f"must be {known} or existing model files, got {shown(name)}"


def weights_reason(path: str) -> str | None:
    if kind(path) != "file":
        return f"must be an existing file, got {shown(path)}"
    from engine.files import checkpoint_reason

    reason = checkpoint_reason(path)
    return f"{shown(path)} {reason}" if reason else None


def save_reason(path: str) -> str | None:
    target = Path(path).expanduser()
    if path_reason(path):
        return path_reason(path)
    if kind(target) == "dir":
        return f"must be a file name, not the folder {shown(path)}"
    if kind(target.parent) != "dir":
        return f"must be in an existing folder, got {shown(path)}"
    return None


def model_label(name: str) -> str:
    """How results name a model: its name, or a file's stem (``runs/a/model.pt`` -> ``model``)."""
    path = PurePath(name)
    return path.stem if "/" in name or "\\" in name or path.suffix in MODEL_SUFFIXES else name


def models_reason(names: tuple[str, ...]) -> str | None:
    if not names:
        return "must name at least one model: an architecture, a shipped model or a file"
    reason = next(filter(None, map(model_reason, names)), None)
    if reason:
        return reason
    labels = [model_label(n) for n in names]
    twice = next((label for label in labels if labels.count(label) > 1), None)
    return None if twice is None else f"names {twice!r} twice"


def radius_reason(text: str) -> str | None:
    """One size in [0, 1] pixel units, more than 0: ``8/255`` or ``0.031``."""
    from engine.vision.budgets import parse_budgets

    try:
        values = parse_budgets(text)
    except UsageError as exc:
        return str(exc)
    if len(values) != 1 or not 0 < values[0] <= 1:
        return f"must be one size in (0, 1], e.g. 8/255, got {shown(text)}"
    return None
