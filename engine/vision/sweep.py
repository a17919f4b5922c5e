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

from engine.distributed import Peers, distributable, peers
from engine.jobs import (
    Cancelled,
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
    """What every point of a sweep attacks: one model, the images and its clean verdict.

    The images are cut into blocks of ``config.batch``; this process attacks every
    ``world``-th block from its rank (all of them in one process). A block is attacked with
    its own seed, so each image meets the same attack however many processes share the work,
    and the counts add up to exactly those of one process."""

    model: nn.Module
    data: ImageSet
    labels: torch.Tensor
    clean_ok: torch.Tensor  # [n] for the images of this process's blocks (False elsewhere)
    device: torch.device
    config: SweepConfig
    label: str
    size: BatchSize
    group: Peers
    clean: float = 0.0  # over all the images, every process's blocks

    @property
    def blocks(self) -> range:
        """Where this process's blocks start."""
        step = self.config.batch
        return range(self.group.rank * step, len(self.data), self.group.world * step)

    @property
    def mine(self) -> int:
        """How many images this process attacks per point."""
        step, n = self.config.batch, len(self.data)
        return sum(min(step, n - i) for i in self.blocks)

    def batch(self, start: int, end: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The images and labels from ``start`` (before ``end``), on the device, in the
        model's layout; fewer than asked after an out-of-memory error halved the batch."""
        stop = min(start + self.size.size, end)
        x = self.data.floats(slice(start, stop), self.device)
        if self.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        return x, self.labels[start:stop]

    def batches(self):
        """``(start, images, labels)`` over this process's blocks."""
        for block in self.blocks:
            end = min(block + self.config.batch, len(self.data))
            i = block
            while i < end:
                x, y = self.batch(i, end)
                yield i, x, y
                i += len(y)


def block_seed(seed: int, block: int) -> int:
    """The seed of the block that starts at image ``block``."""
    return seed * 1_000_003 + block


@distributable
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
    computed. With ``procs`` > 1 (or under torchrun) the processes share the images and add
    up each point; the first writes the run folder and speaks for the job. Returns the
    points finished, also when cancelled.
    """
    frame = Frame("sweep", config, emit, cancel, pause)
    result = SweepResult(config=config)
    group = peers()
    with frame.stoppable(result, "sweep cancelled; finished points kept"):
        steps = plan(config)
        prior = reopen_sweep(config) if group.main else None  # refused before any work
        if prior is None and group.main:
            writable_root("sweep", config.out)
        benches = _prepare(config, emit, frame.cancel, model, data, group)
        result.clean = {b.label: b.clean for b in benches}
        result.clean_accuracy = benches[0].clean
        _announce(benches, steps, emit)
        done = _open(frame, config, benches, steps, prior, group)
        per_point = benches[0].mine
        total = sum(len(b) for _, b in steps.values()) * len(benches)
        frame.gate.meter = RateMeter("sweep", per_point * total, emit, unit="img")
        for bench in benches:
            _run_points(bench, steps, result, done, frame)
    if frame.record is None:  # cancelled while loading, or not the first process
        return frame.finish(result)
    return frame.finish(result, lambda r: write_sweep_record(r, frame.record))


def _open(
    frame: Frame, config: SweepConfig, benches: list[Bench], steps: Plan, prior, group: Peers
) -> Done:
    """The run folder (the first process's), and the points a resumed folder already has
    (their keys shared with the other processes, which skip them)."""
    total = sum(len(b) for _, b in steps.values()) * len(benches)
    done: Done = {}
    if group.main:
        record = prior.record if prior else new_sweep_record(config)
        frame.open(record, points_total=total, points_done=len(prior.rows) if prior else 0)
        done = restore_points(prior, benches[0].data.classes) if prior else {}
        if done:
            name = record.path.name
            frame.emit(Log(f"resuming {name}: {len(done)} of {total} points already done"))
    keys = group.broadcast(list(done))
    return done if group.main else dict.fromkeys(keys)


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
                if gate.meter is not None:
                    gate.meter.skip(bench.mine)
                if done[key] is None:  # another process's copy of a restored point
                    continue
                point, samples = done[key]
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
    group: Peers,
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
        ok = torch.zeros(len(data), dtype=torch.bool, device=device)
        bench = Bench(net, data, labels, ok, device, config, model_label(name), size, group)
        with torch.no_grad():
            for i, x, y in bench.batches():
                ok[i : i + len(y)] = net(x).argmax(1) == y
        (right,), _ = group.reduce([float(ok.sum().item())])
        bench.clean = right / max(len(data), 1)
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
    procs = f", {first.group.world} processes" if first.group.world > 1 else ""
    for label, acc in clean.items():
        emit(Log(f"{label}: clean accuracy {acc:.2%} on {n} images ({device}{procs})"))


SUM_KEYS = ("correct", "attacked", "fooled", "iters", "finite_psnr", *STAT_KEYS)


def _sweep_point(
    bench: Bench, spec: AttackSpec, params: dict, budget: float, axis: str, gate: Gate
) -> tuple[SweepPoint, Samples]:
    """Attack all images at one budget; perturbation stats average over the attacked ones
    (the images the model classified correctly before the attack). On the first batch, the
    gradient-masking check of more steps (:func:`~engine.vision.masking.more_steps_check`).
    Several processes add their sums in one collective, which also agrees on a cancel."""
    t0 = time.perf_counter()
    sums = dict.fromkeys(SUM_KEYS, 0.0)
    check = (0, math.nan, math.nan)
    k = min(bench.config.samples, len(bench.data))
    kept: list[tuple[torch.Tensor, ...]] = []
    stopped = False
    try:
        for i, x, y, res in _attacked(bench, spec, params, budget, gate):
            attacked = bench.clean_ok[i : i + len(y)] & (budget > 0)
            _accumulate(sums, x, res, y, attacked)
            left = max(k - sum(len(t[0]) for t in kept), 0)
            if left or not kept:  # the first k images (none when k is 0) for the previews
                kept.append(tuple(t[:left].detach().cpu() for t in (x, res.adv, y, res.pred)))
            if i == 0 and bench.config.steps_check:
                check = more_steps_check(spec, params, bench.model, x, y, res.pred, budget)
    except Cancelled:
        if bench.group.world == 1:
            raise
        stopped = True  # the others hear of it in the reduce below
    sums, check = _add_up(bench.group, sums, check, stopped)
    seconds = time.perf_counter() - t0
    point = _point(spec.name, axis, budget, len(bench.data), sums, seconds, bench.label, check)
    keep = [torch.cat(parts) for parts in zip(*kept, strict=True)] if kept else _no_samples()
    return point, Samples(spec.name, budget, *keep, bench.data.classes, bench.label)


def _add_up(group: Peers, sums: dict, check: tuple, stopped: bool) -> tuple[dict, tuple]:
    """Every process's sums (and the masking check, made by the one holding image 0)."""
    if group.world == 1:
        return sums, check
    n, acc, more = check
    values = [*sums.values(), n, n * acc if n else 0.0, n * more if n else 0.0]
    total, stop = group.reduce(values, stopped)
    if stop:
        raise Cancelled()
    n = int(total[-3])
    check = (n, total[-2] / n, total[-1] / n) if n else (0, math.nan, math.nan)
    return dict(zip(sums, total[: len(sums)], strict=True)), check


def _no_samples() -> list[torch.Tensor]:
    """No preview images (a process whose blocks hold none)."""
    empty = torch.zeros(0, 0)
    return [empty, empty, torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long)]


def _attacked(bench: Bench, spec: AttackSpec, params: dict, budget: float, gate: Gate):
    """``(start, images, labels, result)`` per batch of this process's blocks, each block
    seeded on its own; out of memory, the batch is halved and tried again."""
    n, step = len(bench.data), bench.config.batch
    for block in bench.blocks:
        torch.manual_seed(block_seed(bench.config.seed, block))
        i, end = block, min(block + step, n)
        while i < end:
            gate()
            x, y = bench.batch(i, end)
            try:
                res = spec.run(bench.model, x, y, budget, **params)
            except Exception as exc:  # noqa: BLE001 - only out-of-memory is retried
                if not is_oom(exc):
                    raise
                del x, y
                bench.size.halve(exc)
                continue
            yield i, x, y, res
            if gate.meter is not None:
                gate.meter.add(len(y))
            i += len(y)


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
