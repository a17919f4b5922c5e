"""A classifier training's checkpoint in its run folder: written after every epoch, read back
to resume.

``checkpoint.pt`` holds the model, the optimiser (momentum buffers), the step count (so the
learning-rate schedule goes on where it was), the data generator's state (so the next epoch
shuffles and augments as an uninterrupted run would) and the metrics so far. Everything in it
is a tensor, number, string, list or dict, so it loads with ``weights_only=True``; it is
written to a temporary file and moved into place, so a crash leaves the previous epoch's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.errors import UsageError, one_line
from engine.runs import RunRecord, atomic_path, differences, saved_config
from engine.vision.events import TrainConfig
from engine.vision.model_cache import plain_state

FORMAT = "advtui-train/1"
CHECKPOINT = "checkpoint.pt"


@dataclass
class Resumed:
    """A training run folder to continue, and its checkpoint (None: stopped before the end
    of its first epoch)."""

    record: RunRecord
    payload: dict | None


def reopen_training(config: TrainConfig) -> Resumed | None:
    """The run folder ``config.resume`` names, if it trained with this config's settings
    (only ``TrainConfig.RESUME_FREE`` may differ), has epochs left and a readable checkpoint;
    None when not resuming. Checked before any data loads."""
    if not config.resume:
        return None
    saved = saved_config(TrainConfig, config.resume, "train")
    record = RunRecord.reopen(config.resume, "train")
    changed = differences(saved, config, TrainConfig.RESUME_FREE)
    if changed:
        raise UsageError(
            f"cannot resume {record.path.name}: it ran with other settings ({'; '.join(changed)})"
        )
    if record.summary.get("status") == "finished":
        raise UsageError(f"{record.path.name} already finished its {saved.epochs} epochs")
    return Resumed(record, _read_checkpoint(record.file(CHECKPOINT)))


def _read_checkpoint(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError("not an advtui training checkpoint")
    except Exception as exc:  # noqa: BLE001 - torn or foreign: one line
        raise UsageError(f"cannot resume from {path}: {one_line(exc)[:160]}") from None
    return payload


def save_training_checkpoint(run: Any, epoch: int) -> None:
    """``run`` (an ``engine.vision.train._Training``) after ``epoch`` finished epochs."""
    payload = {
        "format": FORMAT,
        "epoch": int(epoch),
        "model": plain_state(run.model),
        "optim": run.step.opt.state_dict(),
        "step": int(run.step.done),
        "generator": run.gen.get_state(),
        "history": [dict(row) for row in run.history],
        "watch": None if run.watch is None else run.watch.state(),
    }
    with atomic_path(run.record.file(CHECKPOINT)) as tmp:
        torch.save(payload, tmp)


def restore_checkpoint(run: Any, resumed: Resumed) -> int:
    """Put the folder's checkpoint back into ``run``; the number of epochs it had finished (0
    when the run was stopped before its first epoch ended)."""
    payload, record = resumed.payload, resumed.record
    if payload is None:
        record.write_rows("metrics", [])
        return 0
    try:
        run.model.load_state_dict(payload["model"])
        run.step.opt.load_state_dict(payload["optim"])
        run.gen.set_state(payload["generator"])
        history = [dict(row) for row in payload["history"]]
        if run.watch is not None and payload.get("watch"):
            run.watch.load(payload["watch"])
        epoch, step = int(payload["epoch"]), int(payload["step"])
    except Exception as exc:  # noqa: BLE001 - another model's checkpoint: one line
        path = record.file(CHECKPOINT)
        raise UsageError(f"cannot resume from {path}: {one_line(exc)[:160]}") from None
    run.step.done, run.history = step, history
    record.write_rows("metrics", history)  # rows appended after the checkpoint are redone
    return epoch


def share_state(run: Any, group: Any, first: int) -> int:
    """With several processes: the first one's optimiser, step count, data order and history
    (restored from a checkpoint or fresh) go to all, so their SGD steps stay identical; DDP
    sends the weights itself. Returns the epochs already finished."""
    state = None
    if group.main:
        state = {
            "epoch": first,
            "optim": run.step.opt.state_dict(),
            "step": run.step.done,
            "generator": run.gen.get_state(),
            "history": run.history,
        }
    state = group.broadcast(state)
    if not group.main:
        run.step.opt.load_state_dict(state["optim"])
        run.step.done, run.history = state["step"], state["history"]
        run.gen.set_state(state["generator"])
    return int(state["epoch"])
