"""The cache of trained classifiers: each a plain state_dict (loadable with
``weights_only=True``) keyed by the settings that change its weights, with a JSON card beside
it (the command, the machine, the config, the accuracies), written atomically because a sweep
may be reading the cache meanwhile."""

from __future__ import annotations

import json
import os
import platform
import shutil
from pathlib import Path

import torch
from torch import nn

from engine.fields import asdict, show, specs
from engine.runs import RunRecord, atomic_path, cache_root, write_atomic
from engine.vision.events import TrainConfig, TrainResult


def checkpoint_path(config: TrainConfig) -> Path:
    return cache_root() / "models" / f"{config.cache_key()}.pt"


def keep_model(result: TrainResult, config: TrainConfig, record: RunRecord) -> None:
    """Cache the finished model (and copy it where ``save`` asks) with its card."""
    ckpt = checkpoint_path(config)
    save_checkpoint(result.model, ckpt, config, result.test_accuracy, result.seconds, result.robust)
    with atomic_path(record.file("model.pt")) as tmp:
        torch.save(plain_state(result.model), tmp)
    result.checkpoint = str(ckpt)
    if config.save:
        target = Path(config.save).expanduser()
        for source, dest in (
            (ckpt, target),
            (ckpt.with_suffix(".json"), target.with_suffix(".json")),
        ):
            with atomic_path(dest) as tmp:
                shutil.copyfile(source, tmp)


def plain_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}


def save_checkpoint(
    model: nn.Module,
    path: Path,
    config: TrainConfig,
    acc: float,
    sec: float,
    robust: dict | None = None,
) -> None:
    """A plain state_dict (loadable with weights_only=True) and a JSON card beside it, each
    written atomically (another sweep may be reading the cache)."""
    from engine.runs import RecordError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecordError(f"cannot make the model cache {path.parent}: {exc.strerror}") from None
    with atomic_path(path) as tmp:
        torch.save(plain_state(model), tmp)
    card = {
        "command": command_line(config),
        "machine": machine(),
        "config": asdict(config),
        "test_accuracy": acc,
        "seconds": sec,
    }
    if robust is not None:
        card["robust"] = robust
    write_atomic(path.with_suffix(".json"), (json.dumps(card, indent=2) + "\n").encode("utf-8"))


def command_line(config: TrainConfig) -> str:
    """The ``advtui train-model`` command that trains this config (its non-default options)."""
    words = ["advtui train-model"]
    for spec in specs(TrainConfig):
        value = getattr(config, spec.name)
        if spec.option.cli and value != spec.default and spec.name not in ("save", "out"):
            words.append(f"{spec.flag} {show(value)}")
    return " ".join(words)


def machine() -> str:
    """The CPU (and GPU) this ran on, for the model card."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return f"{cpu}, {os.cpu_count()} cores{gpu}, torch {torch.__version__}"
