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
from engine.memory import BatchSize, is_oom
from engine.runs import writable_root
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
from engine.vision.report import (
    Done,
    keep_point,
    new_sweep_record,
    reopen_sweep,
    restore_points,
    write_sweep_record,
)
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
    label: str
    size: BatchSize

    @property
    def clean(self) -> float:
        return self.clean_ok.float().mean().item()

    def batch(self, start: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The images and labels of the batch at ``start``, on the device, in the model's
        layout (the batch size may have been halved after an out-of-memory error)."""
        x = self.data.floats(slice(start, start + self.size.size), self.device)
        if self.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        return x, self.labels[start : start + len(x)]

    def batches(self):
        """``(start, images, labels)`` per batch."""
        for i in range(0, len(self.data), self.size.size):
            yield (i, *self.batch(i))


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
    model the config names); otherwise they are loaded from the config. The run folder is
    made once they are loaded, before the first batch; every finished point is on disk before
    the next starts. ``config.resume`` continues a run folder: only its missing points are
    computed. Returns the points finished, also when cancelled.
    """
    frame = Frame("sweep", config, emit, cancel, pause)
    result = SweepResult(config=config)
    with frame.stoppable(result, "sweep cancelled; finished points kept"):
        steps = plan(config)
        prior = reopen_sweep(config)  # a resume that cannot be is refused before any work
        if prior is None:
            writable_root("sweep", config.out)
        benches = _prepare(config, emit, frame.cancel, model, data)
        result.clean = {b.label: b.clean for b in benches}
        result.clean_accuracy = benches[0].clean
        _announce(benches, steps, emit)
        total = sum(len(b) for _, b in steps.values()) * len(benches)
        record = prior.record if prior else new_sweep_record(config)
        frame.open(record, points_total=total, points_done=len(prior.rows) if prior else 0)
        done = restore_points(prior, benches[0].data.classes) if prior else {}
        if done:
            emit(Log(f"resuming {record.path.name}: {len(done)} of {total} points already done"))
        n = len(benches[0].data)
        frame.gate.meter = RateMeter("sweep", n * total, emit, unit="img")
        for bench in benches:
            _run_points(bench, steps, result, done, frame)
    if frame.record is None:  # cancelled while loading: nothing finished, no folder
        return frame.finish(result)
    return frame.finish(result, lambda r: write_sweep_record(r, frame.record))


def _run_points(bench: Bench, steps: Plan, result: SweepResult, done: Done, frame: Frame) -> None:
    """Each (attack, budget) of one model in order: restored from the run folder, or attacked
    and kept; each point emitted as it finishes."""
    gate, emit, c = frame.gate, frame.emit, bench.config
    for name, (axis, budgets) in steps.items():
        spec = get_attack(name)
        params = spec.resolve({"steps": c.steps, "target": parse_target(c.target)})
        for budget in budgets:
            key = (bench.label, name, budget)
            if key in done:
                point, samples = done[key]
                if gate.meter is not None:
                    gate.meter.skip(len(bench.data))
            else:
                point, samples = _sweep_point(bench, spec, params, budget, axis, gate)
            result.points.append(point)
            result.samples.append(samples)
            if key not in done:
                keep_point(frame.record, result, point, samples)
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
    # first: a file that is no model is refused before the data loads
    nets = [
        (name, model if model is not None else resolve_model(config, emit, cancel, name))
        for name in config.model
    ]
    if data is None:
        emit(Log(f"loading {config.dataset} test images"))
        data = load_dataset(config.dataset, "test", config.data_dir, download_progress(emit))
    data = data.balanced(config.n)
    labels = data.labels.to(device)
    size = BatchSize(config.batch, emit, "images", device)
    benches = []
    for name, net in nets:
        net = net.to(device).eval()
        if device.type == "cpu":
            net = net.to(memory_format=torch.channels_last)
        bench = Bench(net, data, labels, labels, device, config, model_label(name), size)
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
    check = (0, math.nan, math.nan)
    k = min(bench.config.samples, len(bench.data))
    kept: list[tuple[torch.Tensor, ...]] = []
    i = 0
    while i < len(bench.data):
        gate()
        x, y, res = _attack_batch(bench, spec, params, budget, i)
        attacked = bench.clean_ok[i : i + len(y)] & (budget > 0)
        _accumulate(sums, x, res, y, attacked)
        left = max(k - sum(len(t[0]) for t in kept), 0)
        if left or not kept:  # the first k images (none when k is 0) for the previews
            kept.append(tuple(t[:left].detach().cpu() for t in (x, res.adv, y, res.pred)))
        if i == 0 and bench.config.steps_check:
            check = more_steps_check(spec, params, bench.model, x, y, res.pred, budget)
        if gate.meter is not None:
            gate.meter.add(len(y))
        i += len(y)
    seconds = time.perf_counter() - t0
    point = _point(spec.name, axis, budget, len(bench.data), sums, seconds, bench.label, check)
    keep = [torch.cat(parts) for parts in zip(*kept, strict=True)]
    return point, Samples(spec.name, budget, *keep, bench.data.classes, bench.label)


def _attack_batch(bench: Bench, spec: AttackSpec, params: dict, budget: float, start: int):
    """The batch at ``start`` attacked; out of memory, the batch is halved and tried again."""
    while True:
        x, y = bench.batch(start)
        try:
            return x, y, spec.run(bench.model, x, y, budget, **params)
        except Exception as exc:  # noqa: BLE001 - only out-of-memory is retried
            if not is_oom(exc):
                raise
            del x, y
            bench.size.halve(exc)


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
