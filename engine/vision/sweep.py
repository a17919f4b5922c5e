"""The sweep job: robust accuracy of a classifier under attacks over a list of budgets.

The streaming form of Foolbox's ``attack(model, x, y, epsilons=[...])``: for each attack and
each budget it attacks the N evaluation images in batches, then emits one :class:`SweepPoint`
(accuracy, success rate, iterations, perturbation sizes and plausibility) and one
:class:`Samples` event (a few originals with their adversarials) for the previews. Cancelling
stops at the next batch; the finished points stay in the result and the run record.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from engine.errors import UsageError
from engine.jobs import CancelToken, Emit, Finished, Log, RateMeter, ignore, pick_device
from engine.vision.attacks import get_attack
from engine.vision.attacks.targets import parse_target
from engine.vision.budgets import parse_budgets
from engine.vision.data import DATASETS, ImageSet, download_progress, load_dataset
from engine.vision.metrics import perturbation_stats
from engine.vision.zoo import resolve_model

DEFAULT_EPS = "0,0.001,0.002,0.005,0.01,0.02,0.05,0.1"
DEFAULT_PIXELS = "0,1,2,5,10,20"
STAT_KEYS = ("linf", "l2", "l0", "psnr", "ssim")


@dataclass(frozen=True)
class SweepConfig:
    dataset: str = "sample"
    data_dir: str | None = None
    model: str = "smallcnn"
    weights: str | None = None
    attacks: tuple[str, ...] = ("oneshot", "iterated")
    eps: str = DEFAULT_EPS
    pixels: str = DEFAULT_PIXELS
    n: int = 1000
    batch: int = 250
    steps: int | None = None  # overrides each iterative attack's default
    target: str | None = None  # class index, least-likely or random: attacks with a `target`
    seed: int = 0
    device: str = "auto"
    samples: int = 8
    ssim_bar: float = 0.95
    train_missing: bool = False
    out: str | None = None


@dataclass(frozen=True)
class SweepStarted:
    """Sent once the data and model are ready: what the sweep will cover."""

    attacks: tuple[str, ...]
    axes: dict[str, str]
    budgets: dict[str, tuple[float, ...]]
    classes: tuple[str, ...]
    n: int
    clean_accuracy: float
    device: str


@dataclass(frozen=True)
class SweepPoint:
    """One finished (attack, budget): the numbers of a row in the results table."""

    attack: str
    axis: str
    budget: float
    n: int
    accuracy: float
    success_rate: float
    mean_iterations: float
    linf: float
    l2: float
    l0: float
    psnr: float
    ssim: float
    seconds: float

    def row(self) -> dict[str, float | str | int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Samples:
    """The first few evaluation images at one (attack, budget), for half-block previews."""

    attack: str
    budget: float
    original: torch.Tensor  # [k, C, H, W] float in [0, 1], CPU
    adversarial: torch.Tensor
    labels: torch.Tensor
    preds: torch.Tensor
    classes: tuple[str, ...]


@dataclass
class SweepResult:
    config: SweepConfig
    points: list[SweepPoint] = field(default_factory=list)
    samples: list[Samples] = field(default_factory=list)
    clean_accuracy: float = float("nan")
    cancelled: bool = False
    seconds: float = 0.0
    run_dir: str | None = None

    def curve(self, attack: str) -> list[SweepPoint]:
        return [p for p in self.points if p.attack == attack]

    def thresholds(self, bar: float | None = None) -> dict[str, float | None]:
        """Per attack: the plausibility threshold (see :func:`plausibility_threshold`)."""
        bar = self.config.ssim_bar if bar is None else bar
        return {a: plausibility_threshold(self.curve(a), bar) for a in self.config.attacks}


def plausibility_threshold(points: list[SweepPoint], bar: float) -> float | None:
    """The largest budget up to which mean SSIM stays >= ``bar`` at every budget; None if none."""
    best = None
    for p in sorted(points, key=lambda p: p.budget):
        if math.isnan(p.ssim) or p.ssim < bar:
            break
        best = p.budget
    return best


def budgets_for(config: SweepConfig) -> dict[str, tuple[str, tuple[float, ...]]]:
    """Each attack's axis and budget list, validating names and lists before any work."""
    if not config.attacks:
        raise UsageError("no attack given")
    if config.n < 1 or config.batch < 1:
        raise UsageError("--n and --batch must be positive")
    if config.dataset not in DATASETS:
        raise UsageError(f"unknown dataset {config.dataset!r}; choose one of {', '.join(DATASETS)}")
    for label, path in (("--data-dir", config.data_dir), ("--weights", config.weights)):
        if path and not Path(path).expanduser().exists():
            raise UsageError(f"{label} not found: {path}")
    out = {}
    for name in config.attacks:
        spec = get_attack(name)
        text = config.eps if spec.axis == "eps" else config.pixels
        out[name] = (spec.axis, tuple(parse_budgets(text, integer=spec.axis == "pixels")))
    if parse_target(config.target) is not None and not any(
        "target" in get_attack(a).params for a in config.attacks
    ):
        raise UsageError("--target needs an attack with targeted mode (`advtui attacks` lists)")
    return out


def _attack_params(name: str, config: SweepConfig) -> dict:
    spec = get_attack(name)
    return spec.resolve({"steps": config.steps, "target": parse_target(config.target)})


def run_sweep(
    config: SweepConfig,
    emit: Emit = ignore,
    cancel: CancelToken | None = None,
    model: nn.Module | None = None,
    data: ImageSet | None = None,
) -> SweepResult:
    """Sweep every attack over its budgets on ``config.n`` class-balanced images.

    ``model`` and ``data`` may be passed in (tests, notebooks); otherwise they are loaded from
    the config. Returns the points finished, also when cancelled.
    """
    cancel = cancel or CancelToken()
    plan = budgets_for(config)
    device = pick_device(config.device)
    start = time.perf_counter()
    result = SweepResult(config)
    if data is None:
        emit(Log(f"loading {config.dataset} test images"))
        data = load_dataset(config.dataset, "test", config.data_dir, download_progress(emit))
    data = data.balanced(config.n)
    if model is None:
        model = resolve_model(config, emit, cancel)
    model = model.to(device).eval()
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    n = len(data)
    labels_all = data.labels.to(device)
    with torch.no_grad():
        clean_pred = torch.cat(
            [
                model(data.floats(slice(i, i + config.batch), device)).argmax(1)
                for i in range(0, n, config.batch)
            ]
        )
    result.clean_accuracy = (clean_pred == labels_all).float().mean().item()
    emit(
        SweepStarted(
            tuple(config.attacks),
            {a: axis for a, (axis, _) in plan.items()},
            {a: b for a, (_, b) in plan.items()},
            data.classes,
            n,
            result.clean_accuracy,
            str(device),
        )
    )
    emit(Log(f"clean accuracy {result.clean_accuracy:.2%} on {n} images ({device})"))
    total = n * sum(len(b) for _, b in plan.values())
    meter = RateMeter("sweep", total, emit, unit="img")
    k = min(config.samples, n)
    try:
        for name in config.attacks:
            axis, budgets = plan[name]
            spec = get_attack(name)
            params = _attack_params(name, config)
            for budget in budgets:
                point, samples = _sweep_point(
                    spec,
                    params,
                    model,
                    data,
                    labels_all,
                    clean_pred == labels_all,
                    budget,
                    axis,
                    config,
                    device,
                    k,
                    meter,
                    cancel,
                )
                result.points.append(point)
                result.samples.append(samples)
                emit(point)
                emit(samples)
    except _Stop:
        result.cancelled = True
        emit(Log("sweep cancelled; finished points kept", "warning"))
    result.seconds = time.perf_counter() - start
    from engine.vision.report import write_sweep_record

    result.run_dir = str(write_sweep_record(result))
    emit(Finished("sweep", result.cancelled, result.seconds, result.run_dir))
    return result


class _Stop(Exception):
    pass


def _sweep_point(
    spec, params, model, data, labels_all, clean_ok, budget, axis, config, device, k, meter, cancel
) -> tuple[SweepPoint, Samples]:
    """Attack all images at one budget; perturbation stats average over the attacked ones
    (the images the model classified correctly before the attack)."""
    t0 = time.perf_counter()
    n = len(data)
    torch.manual_seed(config.seed)
    sums = dict.fromkeys(("correct", "attacked", "fooled", "iters", *STAT_KEYS), 0.0)
    finite_psnr = 0
    keep = None
    for i in range(0, n, config.batch):
        if cancel.cancelled:
            raise _Stop
        x = data.floats(slice(i, i + config.batch), device)
        if device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        y = labels_all[i : i + config.batch]
        res = spec.run(model, x, y, budget, **params)
        with torch.no_grad():
            correct = res.pred == y
            attacked = clean_ok[i : i + config.batch] & (budget > 0)
            stats = perturbation_stats(x, res.adv)
            sums["correct"] += correct.sum().item()
            sums["iters"] += res.iterations.sum().item()
            sums["attacked"] += attacked.sum().item()
            sums["fooled"] += (attacked & ~correct).sum().item()
            if attacked.any():
                for key in ("linf", "l2", "l0", "ssim"):
                    sums[key] += stats[key][attacked].sum().item()
                ps = stats["psnr"][attacked]
                ps = ps[torch.isfinite(ps)]
                sums["psnr"] += ps.sum().item()
                finite_psnr += ps.numel()
        if keep is None:
            keep = (x[:k].cpu(), res.adv[:k].detach().cpu(), y[:k].cpu(), res.pred[:k].cpu())
        meter.add(len(y))
    attacked = sums["attacked"]

    def mean(key: str) -> float:
        return sums[key] / attacked if attacked else (1.0 if key == "ssim" else 0.0)

    point = SweepPoint(
        attack=spec.name,
        axis=axis,
        budget=budget,
        n=n,
        accuracy=sums["correct"] / n,
        success_rate=sums["fooled"] / attacked if attacked else 0.0,
        mean_iterations=sums["iters"] / n,
        linf=mean("linf"),
        l2=mean("l2"),
        l0=mean("l0"),
        psnr=sums["psnr"] / finite_psnr if finite_psnr else float("inf"),
        ssim=mean("ssim"),
        seconds=time.perf_counter() - t0,
    )
    orig, adv, lab, pred = keep
    return point, Samples(spec.name, budget, orig, adv, lab, pred, data.classes)
