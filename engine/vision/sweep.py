"""The sweep job: robust accuracy of a classifier under attacks over a list of budgets.

The streaming form of Foolbox's ``attack(model, x, y, epsilons=[...])``: for each attack and
each budget it attacks the N evaluation images in batches, then emits one :class:`SweepPoint`
(accuracy, success rate, iterations, perturbation sizes and plausibility) and one
:class:`Samples` event (a few originals with their adversarials) for the previews. Between
batches it passes its :class:`~engine.jobs.Gate` (pause, cancel); when cancelled it returns
the finished points, which also go to the run record.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from torch import nn

from engine.jobs import (
    CancelToken,
    Emit,
    Frame,
    Gate,
    Log,
    PauseToken,
    RateMeter,
    ignore,
    pick_device,
)
from engine.vision.attacks import AttackSpec, get_attack
from engine.vision.budgets import parse_budgets
from engine.vision.data import ImageSet, download_progress, load_dataset
from engine.vision.events import (
    STAT_KEYS,
    Samples,
    SweepConfig,
    SweepPoint,
    SweepResult,
    SweepStarted,
    model_label,
    parse_target,
)
from engine.vision.masking import more_steps_check
from engine.vision.metrics import perturbation_stats
from engine.vision.report import write_sweep_record
from engine.vision.zoo import resolve_model

Plan = dict[str, tuple[str, tuple[float, ...]]]


def plan(config: SweepConfig) -> Plan:
    """Each attack's budget axis and budget list (the config is already validated)."""
    out = {}
    for name in config.attacks:
        axis = get_attack(name).axis
        text = config.eps if axis == "eps" else config.pixels
        out[name] = (axis, tuple(parse_budgets(text, integer=axis == "pixels")))
    return out


@dataclass
class Bench:
    """What every point of a sweep attacks: one model, the images and its clean verdict."""

    model: nn.Module
    data: ImageSet
    labels: torch.Tensor
    clean_ok: torch.Tensor
    device: torch.device
    config: SweepConfig
    label: str = ""

    @property
    def clean(self) -> float:
        return self.clean_ok.float().mean().item()

    def batches(self):
        """``(start, images, labels)`` per batch, on the device, in the model's layout."""
        size = self.config.batch
        for i in range(0, len(self.data), size):
            x = self.data.floats(slice(i, i + size), self.device)
            if self.device.type == "cpu":
                x = x.contiguous(memory_format=torch.channels_last)
            yield i, x, self.labels[i : i + size]


def run_sweep(
    config: SweepConfig,
    emit: Emit = ignore,
    cancel: CancelToken | None = None,
    pause: PauseToken | None = None,
    *,
    model: nn.Module | None = None,
    data: ImageSet | None = None,
) -> SweepResult:
    """Sweep every model with every attack over its budgets on ``config.n`` class-balanced
    images: one curve per (model, attack).

    ``model`` and ``data`` may be passed in (tests, notebooks; ``model`` stands for the one
    model the config names); otherwise they are loaded from the config. Returns the points
    finished, also when cancelled."""
    frame = Frame("sweep", config, emit, cancel, pause)
    gate = frame.gate
    result = SweepResult(config=config)
    with frame.stoppable(result, "sweep cancelled; finished points kept"):
        steps = plan(config)
        benches = _prepare(config, emit, gate.cancel, model, data)
        result.clean = {b.label: b.clean for b in benches}
        result.clean_accuracy = benches[0].clean
        _announce(benches, steps, emit)
        per_model = len(benches[0].data) * sum(len(b) for _, b in steps.values())
        gate.meter = RateMeter("sweep", per_model * len(benches), emit, unit="img")
        for bench in benches:
            _sweep_model(bench, steps, result, emit, gate)
    return frame.finish(result, write_sweep_record)


def _sweep_model(bench: Bench, steps: Plan, result: SweepResult, emit: Emit, gate: Gate) -> None:
    """Every attack at every budget on one model; each point emitted as it finishes."""
    config = bench.config
    for name, (axis, budgets) in steps.items():
        spec = get_attack(name)
        params = spec.resolve({"steps": config.steps, "target": parse_target(config.target)})
        for budget in budgets:
            point, samples = _sweep_point(bench, spec, params, budget, axis, gate)
            result.points.append(point)
            result.samples.append(samples)
            emit(point)
            emit(samples)


def _prepare(
    config: SweepConfig,
    emit: Emit,
    cancel: CancelToken,
    model: nn.Module | None,
    data: ImageSet | None,
) -> list[Bench]:
    """Load the images once and every model, and classify the clean images once per model."""
    device = pick_device(config.device)
    if data is None:
        emit(Log(f"loading {config.dataset} test images"))
        data = load_dataset(config.dataset, "test", config.data_dir, download_progress(emit))
    data = data.balanced(config.n)
    labels = data.labels.to(device)
    benches = []
    for name in config.model:
        net = model if model is not None else resolve_model(config, emit, cancel, name)
        net = net.to(device).eval()
        if device.type == "cpu":
            net = net.to(memory_format=torch.channels_last)
        bench = Bench(net, data, labels, labels, device, config, model_label(name))
        with torch.no_grad():
            pred = torch.cat([net(x).argmax(1) for _, x, _ in bench.batches()])
        bench.clean_ok = pred == labels
        benches.append(bench)
    return benches


def _announce(benches: list[Bench], steps: Plan, emit: Emit) -> None:
    first = benches[0]
    n, device = len(first.data), first.device
    clean = {b.label: b.clean for b in benches}
    emit(
        SweepStarted(
            tuple(steps),
            {a: axis for a, (axis, _) in steps.items()},
            {a: b for a, (_, b) in steps.items()},
            first.data.classes,
            n,
            first.clean,
            str(device),
            tuple(clean),
            clean,
        )
    )
    for label, acc in clean.items():
        emit(Log(f"{label}: clean accuracy {acc:.2%} on {n} images ({device})"))


def _sweep_point(
    bench: Bench, spec: AttackSpec, params: dict, budget: float, axis: str, gate: Gate
) -> tuple[SweepPoint, Samples]:
    """Attack all images at one budget; perturbation stats average over the attacked ones
    (the images the model classified correctly before the attack). On the first batch, the
    gradient-masking check of more steps (:func:`~engine.vision.masking.more_steps_check`)."""
    t0 = time.perf_counter()
    torch.manual_seed(bench.config.seed)
    sums = dict.fromkeys(("correct", "attacked", "fooled", "iters", "finite_psnr", *STAT_KEYS), 0.0)
    keep, check = None, (0, math.nan, math.nan)
    k = min(bench.config.samples, len(bench.data))
    for i, x, y in bench.batches():
        gate()
        res = spec.run(bench.model, x, y, budget, **params)
        attacked = bench.clean_ok[i : i + len(y)] & (budget > 0)
        _accumulate(sums, x, res, y, attacked)
        if keep is None:
            keep = (x[:k].cpu(), res.adv[:k].detach().cpu(), y[:k].cpu(), res.pred[:k].cpu())
            if bench.config.steps_check:
                check = more_steps_check(spec, params, bench.model, x, y, res.pred, budget)
        if gate.meter is not None:
            gate.meter.add(len(y))
    seconds = time.perf_counter() - t0
    point = _point(spec.name, axis, budget, len(bench.data), sums, seconds, bench.label, check)
    return point, Samples(spec.name, budget, *keep, bench.data.classes, bench.label)


@torch.no_grad()
def _accumulate(sums: dict, x: torch.Tensor, res, y: torch.Tensor, attacked: torch.Tensor) -> None:
    """Add one batch's counts and perturbation sums (over the attacked images) to ``sums``."""
    correct = res.pred == y
    sums["correct"] += correct.sum().item()
    sums["iters"] += res.iterations.sum().item()
    sums["attacked"] += attacked.sum().item()
    sums["fooled"] += (attacked & ~correct).sum().item()
    if not attacked.any():
        return
    stats = perturbation_stats(x, res.adv)
    for key in ("linf", "l2", "l0", "ssim"):
        sums[key] += stats[key][attacked].sum().item()
    ps = stats["psnr"][attacked]
    ps = ps[torch.isfinite(ps)]
    sums["psnr"] += ps.sum().item()
    sums["finite_psnr"] += ps.numel()


def _point(
    attack: str, axis: str, budget: float, n: int, sums: dict, seconds: float, model: str,
    check: tuple[int, float, float],
) -> SweepPoint:  # fmt: skip
    attacked = sums["attacked"]

    def mean(key: str) -> float:
        return sums[key] / attacked if attacked else (1.0 if key == "ssim" else 0.0)

    return SweepPoint(
        attack=attack,
        axis=axis,
        budget=budget,
        n=n,
        accuracy=sums["correct"] / n,
        success_rate=sums["fooled"] / attacked if attacked else 0.0,
        mean_iterations=sums["iters"] / n,
        linf=mean("linf"),
        l2=mean("l2"),
        l0=mean("l0"),
        psnr=sums["psnr"] / sums["finite_psnr"] if sums["finite_psnr"] else float("inf"),
        ssim=mean("ssim"),
        seconds=seconds,
        model=model,
        check_n=check[0],
        check_acc=check[1],
        check_more=check[2],
    )
