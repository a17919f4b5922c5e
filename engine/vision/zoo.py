"""Find the weights a sweep should use: a user file, the shipped model, a cached one, or train.

Order: ``--weights FILE`` for a known architecture; a TorchScript archive given as the model;
the ``smallcnn`` weights shipped in ``assets/`` for CIFAR-10 and the built-in sample; a
checkpoint cached by an earlier ``train-model``; else train on demand when allowed, or say
exactly which command trains it (:class:`ModelMissing`, which the app turns into an offer).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from torch import nn

from assets import asset_path
from engine.jobs import Cancelled, CancelToken, Emit, Log, ignore
from engine.runs import cache_root
from engine.vision.events import ModelMissing
from engine.vision.models import ARCHITECTURES, load_model

if TYPE_CHECKING:
    from engine.vision.events import SweepConfig

SHIPPED = {("cifar10", "smallcnn"): "smallcnn_cifar10.pt"}


def training_dataset(dataset: str) -> str:
    """The dataset whose training split a model for ``dataset`` is trained on."""
    return "cifar10" if dataset == "sample" else dataset


def shipped_weights(dataset: str, arch: str) -> Path | None:
    name = SHIPPED.get((training_dataset(dataset), arch))
    path = asset_path(name) if name else None
    return path if path is not None and path.is_file() else None


def cached_weights(dataset: str, arch: str) -> Path | None:
    """The newest checkpoint cached by ``train-model`` for this dataset and architecture."""
    folder = cache_root() / "models"
    found = sorted(
        folder.glob(f"{training_dataset(dataset)}-{arch}-s*-e*.pt"), key=lambda p: p.stat().st_mtime
    )
    return found[-1] if found else None


def resolve_model(
    config: SweepConfig, emit: Emit = ignore, cancel: CancelToken | None = None
) -> nn.Module:
    """The model a sweep config names (its model, weights, dataset, data_dir, seed, device and
    train_missing fields); training it first, when missing and allowed, can be cancelled."""
    if config.weights:
        return load_model(config.model, config.weights)
    if config.model not in ARCHITECTURES:
        return load_model(config.model)
    for path in (
        shipped_weights(config.dataset, config.model),
        cached_weights(config.dataset, config.model),
    ):
        if path is not None:
            emit(Log(f"model {config.model}: weights {path.name}"))
            return load_model(config.model, path)
    train_set = training_dataset(config.dataset)
    if not config.train_missing:
        raise ModelMissing(config.model, train_set)
    from engine.vision.events import TrainConfig
    from engine.vision.train import train_classifier

    emit(Log(f"no trained {config.model} for {train_set}: training it now"))
    tc = TrainConfig(
        dataset=train_set,
        data_dir=None if config.dataset == "sample" else config.data_dir,
        arch=config.model,
        seed=config.seed,
        device=config.device,
    )
    result = train_classifier(tc, emit, cancel)
    if result.cancelled:
        raise Cancelled
    return result.model
