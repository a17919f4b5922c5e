"""Train a victim classifier: a job with progress events, cancel, and a checkpoint cache.

The whole training split lives in memory as uint8; each batch is sliced, augmented on tensors
(random 4-pixel translation with reflection padding and horizontal flips, vectorised over the
batch) and fed in channels-last layout, in bfloat16 autocast where the CPU or GPU supports it.
With these, ``smallcnn`` reaches about 80% on CIFAR-10 in a few minutes on two CPU cores.

A finished model is cached (:mod:`engine.vision.model_cache`), so asking for the same model
twice trains it once.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from engine.distributed import Peers, distributable, peers
from engine.jobs import (
    Cancelled,
    CancelToken,
    Emit,
    Frame,
    Gate,
    Log,
    Metric,
    PauseToken,
    RateMeter,
    ignore,
    pick_device,
)
from engine.memory import BatchSize, is_oom
from engine.runs import RunRecord, writable_root
from engine.vision.adversarial import (
    Perturb,
    RobustWatch,
    attack_settings,
    split_heldout,
    training_attack,
)
from engine.vision.data import ImageSet, download_progress, load_dataset
from engine.vision.events import TrainConfig, TrainResult
from engine.vision.model_cache import keep_model
from engine.vision.models import build
from engine.vision.train_state import (
    Resumed,
    reopen_training,
    restore_checkpoint,
    save_training_checkpoint,
    share_state,
)


def use_bf16(device: torch.device) -> bool:
    """bfloat16 autocast where the hardware does it natively (it is slower where emulated)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def augment(images: torch.Tensor, gen: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random translation by up to ``pad`` pixels (reflect padding) and horizontal flip."""
    n, _, h, w = images.shape
    padded = F.pad(images, (pad, pad, pad, pad), mode="reflect")
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None]  # [n,1,h,1]
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :]  # [n,1,1,w]
    batch = torch.arange(n)[:, None, None, None]
    chans = torch.arange(images.shape[1])[None, :, None, None]
    out = padded[batch, chans, rows, cols]
    flip = torch.rand(n, generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(3), out)


@torch.no_grad()
def evaluate(
    model: nn.Module, data: ImageSet, device: torch.device, batch: int = 1000
) -> tuple[float, torch.Tensor]:
    """Accuracy of ``model`` on ``data`` and its predictions, batched."""
    model.eval()
    preds = []
    amp = use_bf16(device)
    for i in range(0, len(data), batch):
        x = data.floats(slice(i, i + batch), device).contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            preds.append(model(x).argmax(1).cpu())
    pred = torch.cat(preds)
    return (pred == data.labels).float().mean().item(), pred


@distributable
def train_classifier(
    config: TrainConfig,
    emit: Emit = ignore,
    cancel: CancelToken | None = None,
    pause: PauseToken | None = None,
) -> TrainResult:
    """Train ``config.arch`` on the training split, evaluating on the test split each epoch.

    The run folder is made before the first batch and gets a checkpoint (model, optimiser,
    generator) after every epoch, atomically; ``config.resume`` continues such a folder after
    its last finished epoch and ends with the model an uninterrupted run gives. Cancelled, it
    returns the model as it is and caches nothing.

    With ``procs`` > 1 (or under torchrun) it is data-parallel: DistributedDataParallel, each
    rank a share of every batch of ``batch`` images (the schedule is one process's), the
    first rank evaluating, checkpointing and writing the records."""
    frame = Frame("train", config, emit, cancel, pause)
    result = TrainResult(model=None, test_accuracy=0.0, epochs_done=0)
    group = peers()
    with frame.stoppable(result, "training cancelled; the checkpoint keeps every finished epoch"):
        prior = reopen_training(config) if group.main else None  # refused before any work
        if prior is None and group.main:
            writable_root("train", config.out)
        run = _Training(config, emit, frame, group)
        result.model = run.model
        run.begin(prior)
        run.train(result)
    if frame.record is None:  # cancelled while loading: nothing to write
        return frame.finish(result)
    return frame.finish(result, run.write)


class _Training:
    """One training from its data to its records: the model, its stepper, the epochs."""

    def __init__(self, config: TrainConfig, emit: Emit, frame: Frame, group: Peers) -> None:
        self.config, self.emit, self.frame, self.group = config, emit, frame, group
        self.device = device = pick_device(config.device)
        torch.manual_seed(config.seed)
        self.gen = torch.Generator().manual_seed(config.seed)  # the order: the same everywhere
        # augmentation and the training attack: one process's own (its generator alone)
        self.local_gen = self.gen
        if group.world > 1:
            self.local_gen = torch.Generator().manual_seed(config.seed + 7919 * group.rank)
        emit(Log(f"loading {config.dataset} train and test splits"))
        self.train_set = load_dataset(
            config.dataset, "train", config.data_dir, download_progress(emit)
        )
        self.test_set = load_dataset(config.dataset, "test", config.data_dir)
        self.train_set, self.watch = _watch(config, self.train_set, device, emit)
        classes = len(self.train_set.classes)
        self.model = build(config.arch, classes).to(device, memory_format=torch.channels_last)
        per_epoch = math.ceil(len(self.train_set) / config.batch)
        self.step = Stepper(self.model, config, per_epoch, device, emit)
        self.step.perturb = training_attack(config, self.local_gen)
        self.history: list[dict[str, float]] = []

    def begin(self, prior: Resumed | None) -> None:
        """Open the run folder (a new one, or the resumed one with its checkpoint restored);
        with several processes, the first one's state goes to all and DDP wraps the model."""
        c, n, group = self.config, len(self.train_set), self.group
        first = 0
        if group.main:
            record = prior.record if prior else RunRecord("train", c.cache_key(), c.out)
            self.record = self.frame.open(record, epochs_total=c.epochs)
            first = restore_checkpoint(self, prior) if prior is not None else 0
            if first:
                self.emit(Log(f"resuming {record.path.name} after epoch {first} of {c.epochs}"))
        if group.world > 1:
            first = share_state(self, group, first)
            self.step.parallel(group)
        self.first = first
        procs = f", {group.world} processes" if group.world > 1 else ""
        self.emit(
            Log(f"training {c.arch} on {n} images, {self.device}{procs}, bf16={self.step.amp}")
        )
        share = len(range(group.rank, c.batch, group.world)) / c.batch
        meter = RateMeter("train", round(c.epochs * n * share), self.emit, unit="img")
        meter.skip(round(first * n * share))
        self.frame.gate.meter = meter

    def train(self, result: TrainResult) -> None:
        """The epochs left; each ends with its checkpoint and its metrics row on disk."""
        c = self.config
        for epoch in range(self.first + 1, c.epochs + 1):
            loss = _epoch(self.step, self.train_set, (self.gen, self.local_gen), self.frame.gate,
                          self.emit)  # fmt: skip
            if not self.group.main:  # the first process evaluates and keeps the records
                if self.group.broadcast(False):
                    break
                continue
            acc, _ = evaluate(self.model, self.test_set, self.device)
            row = {"epoch": epoch, "train_loss": loss, "test_acc": acc}
            watch = self.watch
            collapsed = watch is not None and watch_epoch(watch, self.model, row, self.emit)
            self.history.append(row)
            # on disk before anyone hears of it: the checkpoint, then the row
            save_training_checkpoint(self, epoch)
            self.record.append_row("metrics", row)
            self.record.update(epochs_done=epoch)
            self.emit(Metric("test_acc", epoch, acc))
            self.emit(Log(f"epoch {epoch}/{c.epochs}: loss {loss:.3f}, test {acc:.2%}"))
            if self.group.broadcast(collapsed):
                break
        result.epochs_done = len(self.history)
        result.test_accuracy = self.history[-1]["test_acc"] if self.history else 0.0
        self.model.eval()

    def write(self, result: TrainResult) -> Path:
        """The metrics table; a finished model is cached (and copied where ``save`` says)."""
        result.epochs_done = len(self.history)
        if self.history:
            result.test_accuracy = self.history[-1]["test_acc"]
        if self.watch is not None:
            keep_best_robust(self.watch, result, self.test_set, self.device, self.emit)
            result.robust["epochs"] = self.history
        self.model.eval()
        self.record.write_rows("metrics", self.history)
        if not result.cancelled:
            keep_model(result, self.config, self.record)
        return self.record.path


class Stepper:
    """One optimiser step at a time: SGD with Nesterov momentum, no decay on biases and norms,
    a linear warm-up over 15% of the steps then a linear decay to 0, bf16 where native.

    Out of memory, a step is redone in halves (then quarters...) whose gradients add up to the
    whole batch's, so the schedule and the mean loss stay those of the configured batch."""

    def __init__(
        self, model: nn.Module, config: TrainConfig, per_epoch: int, device, emit: Emit = ignore
    ) -> None:
        self.model, self.config, self.device = model, config, device
        self.per_epoch = per_epoch
        decay, no_decay = [], []
        for p in model.parameters():
            (no_decay if p.ndim <= 1 else decay).append(p)
        self.opt = torch.optim.SGD(
            [
                {"params": decay, "weight_decay": config.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=config.lr,
            momentum=0.9,
            nesterov=True,
        )
        self.total = per_epoch * config.epochs
        self.warmup = max(1, int(0.15 * self.total))
        self.done = 0
        self.amp = use_bf16(device)
        self.size = BatchSize(config.batch, emit, "images", device)
        self.perturb: Perturb | None = None  # adversarial training: the batch's attack
        self.net: nn.Module = model  # what the loss goes through: DDP's wrapper when parallel
        self.group = Peers()

    def parallel(self, group: Peers) -> None:
        """Data-parallel from here: DDP averages the gradients (and sends rank 0's weights to
        all as it wraps the model)."""
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        self.net = DistributedDataParallel(self.model, device_ids=ids)
        self.group = group

    def share(self, idx: torch.Tensor) -> torch.Tensor:
        """This process's share of a batch's image indices."""
        return idx[self.group.rank :: self.group.world]

    def lr_at(self, step: int) -> float:
        lr = self.config.lr
        if step < self.warmup:
            return lr * (step + 1) / self.warmup
        return lr * max(0.0, (self.total - step) / (self.total - self.warmup))

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> float:
        while True:
            try:
                return self._step(x, y)
            except Exception as exc:  # noqa: BLE001 - only out-of-memory is retried
                if not is_oom(exc):
                    raise
                self.opt.zero_grad(set_to_none=True)
                self.size.halve(exc)

    def _step(self, x: torch.Tensor, y: torch.Tensor) -> float:
        for group in self.opt.param_groups:
            group["lr"] = self.lr_at(self.done)
        self.opt.zero_grad(set_to_none=True)
        total, n, size = 0.0, len(x), self.size.size
        for i in range(0, n, size):
            xb, yb = x[i : i + size], y[i : i + size]
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
                if self.perturb is not None:  # on the plain model: no gradient sync
                    xb = self.perturb(self.model, xb, yb)
                out = self.net(xb)
                loss = F.cross_entropy(out, yb, label_smoothing=self.config.label_smoothing)
            last = i + size >= n
            sync = (
                contextlib.nullcontext() if last or self.net is self.model else self.net.no_sync()
            )
            with sync:  # DDP averages the gradients once, on the last part of the batch
                (loss * (len(xb) / n)).backward()
            total += loss.item() * len(xb)
        self.opt.step()
        self.done += 1
        return total / n


def _epoch(step: Stepper, train: ImageSet, gens: tuple, gate: Gate, emit: Emit) -> float:
    """One pass over the shuffled, augmented training split; returns the mean loss. ``gens``:
    the order's generator and this process's own (the same one in a single process)."""
    step.model.train()
    order = torch.randperm(len(train), generator=gens[0])
    running, seen = 0.0, 0
    for i in range(0, len(train), step.config.batch):
        _gate_together(gate, step.group)
        idx = step.share(order[i : i + step.config.batch])
        x = augment(train.images[idx], gens[1]).to(step.device).float().div_(255)
        x = x.contiguous(memory_format=torch.channels_last)
        running += step(x, train.labels[idx].to(step.device)) * len(idx)
        seen += len(idx)
        if gate.meter is not None:
            gate.meter.add(len(idx))
        if step.done % 20 == 0:
            emit(Metric("loss", step.done / step.per_epoch, running / seen))
    return running / max(seen, 1)


def _gate_together(gate: Gate, group: Peers) -> None:
    """Pause and cancel between steps; several processes agree on a cancel first (one small
    collective), so none is left waiting in DDP's reduce for one that stopped."""
    if group.world == 1:
        gate()
        return
    try:
        gate()
        stopped = False
    except Cancelled:
        stopped = True
    if group.reduce([], stopped)[1]:
        raise Cancelled()


def _watch(
    config: TrainConfig, train: ImageSet, device: torch.device, emit: Emit
) -> tuple[ImageSet, RobustWatch | None]:
    """Adversarial training: set a held-out batch of the training split aside to watch."""
    if config.adversarial == "none":
        return train, None
    train, heldout = split_heldout(train, config.seed)
    eps, alpha, steps = attack_settings(config)
    emit(
        Log(
            f"adversarial training: {config.adversarial}, eps {eps * 255:.3g}/255, "
            f"{steps} step(s) of {alpha * 255:.3g}/255; PGD-10 watched on {len(heldout)} "
            "held-out training images"
        )
    )
    return train, RobustWatch(heldout, eps, device)


def watch_epoch(watch: RobustWatch, model: nn.Module, row: dict, emit: Emit) -> bool:
    """Measure the epoch's held-out robustness into ``row``; True on catastrophic overfitting."""
    check = watch(model, int(row["epoch"]))
    row.update(heldout_clean_acc=check.clean, heldout_robust_acc=check.robust)
    emit(Metric("heldout_clean_acc", check.epoch, check.clean))
    emit(Metric("robust_acc", check.epoch, check.robust))
    emit(Log(f"  held out: clean {check.clean:.2%}, PGD-10 {check.robust:.2%}"))
    if check.collapsed:
        best = watch.best
        assert best is not None
        emit(
            Log(
                f"catastrophic overfitting at epoch {check.epoch}: PGD accuracy on held-out "
                f"images fell from {best.robust:.2%} (epoch {best.epoch}) to "
                f"{check.robust:.2%}; training stops and keeps epoch {best.epoch}'s weights",
                "warning",
            )
        )
    return check.collapsed


def keep_best_robust(
    watch: RobustWatch, result: TrainResult, test: ImageSet, device: torch.device, emit: Emit
) -> None:
    """End of adversarial training: the best robust epoch's weights, their test accuracy."""
    best = watch.best
    if best is not None and best.epoch != result.epochs_done and watch.restore(result.model):
        result.test_accuracy, _ = evaluate(result.model, test, device)
        emit(Log(f"kept epoch {best.epoch} (best held-out PGD accuracy {best.robust:.2%})"))
    result.robust = watch.summary()
