"""Find the weights a sweep should use: a user file, a shipped model, a cached one, or train.

A model name is one of: an architecture (``smallcnn``, ``resnet18``), a
shipped model (``smallcnn-robust``: an architecture with weights in ``assets/``), or a file
(TorchScript, ``torch.export``, or a ``state_dict`` whose architecture is recognised).

Order for an architecture: ``--weights FILE`` (one model only); the weights shipped in
``assets/`` for CIFAR-10 and the built-in sample; a checkpoint cached by an earlier standard
``train-model``; else train on demand when allowed, or say exactly which command trains it
(:class:`ModelMissing`, which the app turns into an offer).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from torch import nn

from assets import asset_path
from engine.errors import UsageError
from engine.jobs import Cancelled, CancelToken, Emit, Log, ignore
from engine.runs import cache_root
from engine.vision.events import ModelMissing
from engine.vision.models import ARCHITECTURES, load_model

if TYPE_CHECKING:
    from engine.vision.events import SweepConfig

# model name -> (architecture, weights in assets/ for CIFAR-10), trained by `advtui train-model`
SHIPPED = {
    "smallcnn": ("smallcnn", "smallcnn_cifar10.pt"),
    "smallcnn-robust": ("smallcnn", "smallcnn_cifar10_robust.pt"),
}
NAMES = tuple(dict.fromkeys((*ARCHITECTURES, *SHIPPED)))


def training_dataset(dataset: str) -> str:
    """The dataset whose training split a model for ``dataset`` is trained on."""
    return "cifar10" if dataset == "sample" else dataset


def shipped_weights(dataset: str, name: str) -> Path | None:
    arch_file = SHIPPED.get(name) if training_dataset(dataset) == "cifar10" else None
    path = asset_path(arch_file[1]) if arch_file else None
    return path if path is not None and path.is_file() else None


def cached_weights(dataset: str, arch: str) -> Path | None:
    """The newest checkpoint a standard ``train-model`` cached for this dataset and
    architecture (adversarially trained ones carry their settings in the name and are left
    alone: a sweep of ``smallcnn`` means the standard one)."""
    folder = cache_root() / "models"
    pattern = re.compile(rf"{re.escape(training_dataset(dataset))}-{re.escape(arch)}-s\d+-e\d+\.pt")
    found = [p for p in folder.glob("*.pt") if pattern.fullmatch(p.name)]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def resolve_model(
    config: SweepConfig, emit: Emit = ignore, cancel: CancelToken | None = None, name: str = ""
) -> nn.Module:
    """The model ``name`` (default: the config's first) for the config's dataset, data_dir,
    seed, device, weights and train_missing fields; training it first, when missing and
    allowed, can be cancelled."""
    name = name or config.model[0]
    if config.weights:
        return load_model(name, config.weights)
    if name in SHIPPED and name not in ARCHITECTURES:
        path = shipped_weights(config.dataset, name)
        if path is None:
            raise UsageError(
                f"{name} ships for CIFAR-10 only; for {config.dataset}, train a model with "
                "`advtui train-model --adversarial fgsm-rs` and name its file"
            )
        emit(Log(f"model {name}: weights {path.name}"))
        return load_model(SHIPPED[name][0], path)
    if name not in ARCHITECTURES:
        return load_model(name)
    for path in (shipped_weights(config.dataset, name), cached_weights(config.dataset, name)):
        if path is not None:
            emit(Log(f"model {name}: weights {path.name}"))
            return load_model(name, path)
    return _train_missing(config, name, emit, cancel)


def _train_missing(
    config: SweepConfig, arch: str, emit: Emit, cancel: CancelToken | None
) -> nn.Module:
    train_set = training_dataset(config.dataset)
    if not config.train_missing:
        raise ModelMissing(arch, train_set)
    from engine.vision.events import TrainConfig
    from engine.vision.train import train_classifier

    emit(Log(f"no trained {arch} for {train_set}: training it now"))
    tc = TrainConfig(
        dataset=train_set,
        data_dir=None if config.dataset == "sample" else config.data_dir,
        arch=arch,
        seed=config.seed,
        device=config.device,
    )
    result = train_classifier(tc, emit, cancel)
    if result.cancelled:
        raise Cancelled
    return result.model
