"""Train a victim classifier: a job with progress events, cancel, and a checkpoint cache.

The whole training split lives in memory as uint8; each batch is sliced, augmented on tensors
(random 4-pixel translation with reflection padding and horizontal flips, vectorised over the
batch) and fed in channels-last layout, in bfloat16 autocast where the CPU or GPU supports it.
With these, ``smallcnn`` reaches about 80% on CIFAR-10 in a few minutes on two CPU cores.

Checkpoints are cached under the cache dir keyed by dataset, architecture, seed and epochs, so
asking for the same model twice trains it once.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import UsageError
from engine.jobs import CancelToken, Emit, Finished, Log, Metric, RateMeter, ignore, pick_device
from engine.runs import RunRecord, cache_root
from engine.vision.data import ImageSet, download_progress, load_dataset
from engine.vision.models import build


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = "cifar10"
    data_dir: str | None = None
    arch: str = "smallcnn"
    epochs: int = 14
    batch: int = 256
    lr: float = 0.2
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    seed: int = 0
    device: str = "auto"
    out: str | None = None  # runs root override

    def cache_key(self) -> str:
        return f"{self.dataset}-{self.arch}-s{self.seed}-e{self.epochs}"


@dataclass
class TrainResult:
    model: nn.Module
    test_accuracy: float
    epochs_done: int
    seconds: float
    checkpoint: Path | None
    cancelled: bool = False


def checkpoint_path(config: TrainConfig) -> Path:
    return cache_root() / "models" / f"{config.cache_key()}.pt"


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


def train_classifier(
    config: TrainConfig, emit: Emit = ignore, cancel: CancelToken | None = None
) -> TrainResult:
    """Train ``config.arch`` on the training split, evaluating on the test split each epoch."""
    cancel = cancel or CancelToken()
    if config.epochs < 1 or config.batch < 1:
        raise UsageError("epochs and batch must be positive")
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    start = time.perf_counter()
    emit(Log(f"loading {config.dataset} train and test splits"))
    train = load_dataset(config.dataset, "train", config.data_dir, download_progress(emit))
    test = load_dataset(config.dataset, "test", config.data_dir)
    model = build(config.arch, len(train.classes)).to(device, memory_format=torch.channels_last)
    decay, no_decay = [], []
    for p in model.parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    opt = torch.optim.SGD(
        [
            {"params": decay, "weight_decay": config.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=config.lr,
        momentum=0.9,
        nesterov=True,
    )
    steps_per_epoch = math.ceil(len(train) / config.batch)
    total_steps = steps_per_epoch * config.epochs
    warmup = max(1, int(0.15 * total_steps))

    def lr_at(step: int) -> float:
        if step < warmup:
            return config.lr * (step + 1) / warmup
        return config.lr * max(0.0, (total_steps - step) / (total_steps - warmup))

    amp = use_bf16(device)
    emit(Log(f"training {config.arch} on {len(train)} images, {device}, bf16={amp}"))
    meter = RateMeter("train", config.epochs * len(train), emit, unit="img")
    record = RunRecord("train", config.cache_key(), config.out)
    record.write_config(config)
    history: list[dict[str, float]] = []
    step = 0
    acc = 0.0
    epochs_done = 0
    cancelled = False
    for epoch in range(config.epochs):
        model.train()
        order = torch.randperm(len(train), generator=gen)
        running, seen = 0.0, 0
        for i in range(0, len(train), config.batch):
            if cancel.cancelled:
                cancelled = True
                break
            idx = order[i : i + config.batch]
            x = augment(train.images[idx], gen).to(device).float().div_(255)
            x = x.contiguous(memory_format=torch.channels_last)
            y = train.labels[idx].to(device)
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                loss = F.cross_entropy(model(x), y, label_smoothing=config.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            running += loss.item() * len(idx)
            seen += len(idx)
            meter.add(len(idx))
            if step % 20 == 0:
                emit(Metric("loss", step / steps_per_epoch, running / seen))
        if cancelled:
            break
        acc, _ = evaluate(model, test, device)
        epochs_done = epoch + 1
        history.append(
            {"epoch": epochs_done, "train_loss": running / max(seen, 1), "test_acc": acc}
        )
        emit(Metric("test_acc", epochs_done, acc))
        emit(Log(f"epoch {epochs_done}/{config.epochs}: loss {running / seen:.3f}, test {acc:.2%}"))
    seconds = time.perf_counter() - start
    record.write_rows("metrics", history)
    model.eval()
    ckpt = None
    if not cancelled:
        ckpt = checkpoint_path(config)
        save_checkpoint(model, ckpt, config, acc, seconds)
        torch.save(model.state_dict(), record.file("model.pt"))
    emit(Finished("train", cancelled, seconds, str(record.path)))
    return TrainResult(model, acc, epochs_done, seconds, ckpt, cancelled)


def save_checkpoint(
    model: nn.Module, path: Path, config: TrainConfig, acc: float, sec: float
) -> None:
    """A plain state_dict (loadable with weights_only=True) and a JSON card beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    torch.save(state, path)
    card = {"config": asdict(config), "test_accuracy": acc, "seconds": sec}
    path.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
