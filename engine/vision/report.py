"""A sweep's run record: config, points (CSV, JSON lines, JSON), summary, curve and samples.

The CLI and the app both write through here, so a sweep leaves the same files wherever it
ran. While it runs, each finished point is kept at once (:func:`keep_point`): its preview
images in ``samples/``, its row appended to ``points.jsonl`` and ``points.csv`` (fsynced),
``points.json`` and ``summary.json`` replaced atomically. At the end
(:func:`write_sweep_record`) the tables are rewritten in plan order and the curve and sample
PNGs drawn, each to a temporary file moved into place. :func:`reopen_sweep` and
:func:`restore_points` read a run folder back to resume it. Plots use matplotlib's Agg backend
(no display needed over SSH).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.errors import UsageError
from engine.runs import RunRecord, atomic_path, differences, saved_config
from engine.vision.events import Samples, SweepConfig, SweepPoint, SweepResult, model_label
from engine.vision.masking import flag_note

Done = dict[tuple[str, str, float], tuple[SweepPoint, Samples]]  # by (model, attack, budget)
SAMPLE_KEYS = ("original", "adversarial", "labels", "preds")


def new_sweep_record(config: SweepConfig) -> RunRecord:
    """A fresh run folder named after the dataset, model and attacks."""
    models = "+".join(model_label(m) for m in config.model)
    name = f"{config.dataset}-{models}-{'+'.join(config.attacks)}"
    return RunRecord("sweep", name, config.out)


def keep_point(record: RunRecord | None, result: SweepResult, point, samples) -> None:
    """Put a finished point on disk before the next starts: previews first, then the row
    (a row on disk means its previews are too), then the JSON table and the summary."""
    if record is None:
        return
    save_samples(record, samples)
    record.append_row("points", point.row())
    record.write_json("points.json", [p.row() for p in result.points])
    record.update(points_done=len(result.points))


def write_sweep_record(result: SweepResult, record: RunRecord | None = None) -> Path:
    """Write every file of the sweep's run folder and return its path (a new folder, with its
    final status, when ``record`` is None: the app's export of a sweep that failed)."""
    cfg = result.config
    fresh = record is None
    if record is None:
        record = new_sweep_record(cfg)
        record.start(cfg)
    flags = result.flags()
    rows = [{**p.row(), "flags": flag_note(flags.get(key(p), ()))} for p in result.points]
    record.write_rows("points", rows)
    record.update(
        clean_accuracy=result.clean_accuracy, clean_accuracy_by_model=result.clean,
        cancelled=result.cancelled, seconds=result.seconds, ssim_bar=cfg.ssim_bar,
        plausibility_threshold=result.thresholds(), points_done=len(result.points),
        masking_flags=[
            {"model": m, "attack": a, "budget": b, "flags": list(f)}
            for (m, a, b), f in flags.items()
        ],
    )  # fmt: skip
    if result.points:
        with atomic_path(record.file("curve.png")) as tmp:
            plot_curves(result, tmp)
        for pair in dict.fromkeys((s.model, s.attack) for s in result.samples):
            model, attack = pair
            if not any(len(s.labels) for s in result.samples if (s.model, s.attack) == pair):
                continue
            stem = attack if len(result.models) == 1 else f"{model}-{attack}"
            with atomic_path(record.file(f"samples-{stem}.png")) as tmp:
                plot_samples(result, attack, tmp, model)
    if fresh:
        record.end("cancelled" if result.cancelled else "finished", seconds=result.seconds)
    return record.path


def key(p) -> tuple[str, str, float]:
    """A point's key in the masking flags."""
    return (p.model, p.attack, p.budget)


# --------------------------------------------------------------------------- resume


@dataclass
class Prior:
    """A run folder to resume: its record and the point rows it kept."""

    record: RunRecord
    rows: list[dict]


def reopen_sweep(config: SweepConfig) -> Prior | None:
    """The run folder ``config.resume`` names, if its settings are this config's (only
    ``SweepConfig.RESUME_FREE`` may differ); None when not resuming."""
    if not config.resume:
        return None
    saved = saved_config(SweepConfig, config.resume, "sweep")
    changed = differences(saved, config, SweepConfig.RESUME_FREE)
    record = RunRecord.reopen(config.resume, "sweep")
    if changed:
        raise UsageError(
            f"cannot resume {record.path.name}: it ran with other settings ({'; '.join(changed)})"
        )
    return Prior(record, record.read_rows("points"))


def restore_points(prior: Prior, classes: tuple[str, ...]) -> Done:
    """The points the folder holds whole (row and previews), by (attack, budget); the tables
    are rewritten with exactly those, so a torn line from a crash is gone."""
    done: Done = {}
    for row in prior.rows:
        try:
            point = SweepPoint.from_row(row)
        except (KeyError, TypeError, ValueError):
            continue
        samples = load_samples(prior.record, point, classes)
        if samples is not None:
            done.setdefault((point.model, point.attack, point.budget), (point, samples))
    prior.record.write_rows("points", [p.row() for p, _ in done.values()])
    return done


def _samples_path(record: RunRecord, model: str, attack: str, budget: float) -> Path:
    return record.file("samples") / f"{model}-{attack}-{budget!r}.pt"


def save_samples(record: RunRecord, samples: Samples) -> None:
    """One point's preview images as plain tensors (``weights_only`` loadable), atomically."""
    from engine.runs import RecordError

    path = _samples_path(record, samples.model, samples.attack, samples.budget)
    try:
        path.parent.mkdir(exist_ok=True)
    except OSError as exc:
        raise RecordError(f"cannot make {path.parent}: {exc.strerror}") from None
    payload = {key: getattr(samples, key).contiguous() for key in SAMPLE_KEYS}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_samples(record: RunRecord, point: SweepPoint, classes: tuple[str, ...]) -> Samples | None:
    """A point's previews read back, or None when missing or unreadable (the point is redone)."""
    path = _samples_path(record, point.model, point.attack, point.budget)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        tensors = [payload[key] for key in SAMPLE_KEYS]
    except Exception:  # noqa: BLE001 - missing, torn or foreign: compute the point again
        return None
    if not all(isinstance(t, torch.Tensor) for t in tensors):
        return None
    return Samples(point.attack, point.budget, *tensors, classes, point.model)


def plot_curves(result: SweepResult, path: Path) -> None:
    """Accuracy against budget, one curve per attack, one panel per budget axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes_names = list(dict.fromkeys(p.axis for p in result.points))
    fig, axes = plt.subplots(
        1, len(axes_names), figsize=(6.5 * len(axes_names), 4.2), squeeze=False
    )
    thresholds = result.thresholds()
    flags = result.flags()
    styles = ("-", "--", ":", "-.")
    for ax, axis in zip(axes[0], axes_names, strict=True):
        flagged = []
        for label, curve in result.curves().items():
            pts = [p for p in curve if p.axis == axis]
            if not pts:
                continue
            xs = [p.budget for p in pts]
            style = "o" + styles[result.models.index(pts[0].model or result.models[0]) % 4]
            color = f"C{result.config.attacks.index(pts[0].attack) % 10}"  # a colour per attack
            (line,) = ax.plot(xs, [p.accuracy for p in pts], style, label=label, color=color)
            flagged += [p for p in pts if key(p) in flags]
            t = thresholds.get(label)
            if t is not None:
                ax.axvline(t, color=line.get_color(), ls="--", lw=1, alpha=0.7)
        if flagged:
            ax.plot([p.budget for p in flagged], [p.accuracy for p in flagged], "x", ms=11,
                    mew=2.5, color="red", label="gradient-masking flag")  # fmt: skip
        positive = [p.budget for p in result.points if p.axis == axis and p.budget > 0]
        if positive and max(positive) / min(positive) > 30:
            ax.set_xscale("symlog", linthresh=min(positive))
            ax.set_xlim(left=0)
        ax.set_xlabel("epsilon" if axis == "eps" else "pixels changed (L0 budget)")
        ax.set_ylabel("accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(
        f"{', '.join(result.models)} on {result.config.dataset}, n={result.points[0].n} "
        f"(dashed: SSIM >= {result.config.ssim_bar} plausibility threshold)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def plot_samples(result: SweepResult, attack: str, path: Path, model: str = "") -> None:
    """Rows: the originals, then the adversarials at each budget; titles true -> predicted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [s for s in result.samples if s.attack == attack and s.model == model]
    k = rows[0].original.shape[0]
    fig, axes = plt.subplots(
        len(rows) + 1, k, figsize=(1.3 * k, 1.45 * (len(rows) + 1)), squeeze=False
    )
    classes = rows[0].classes

    def show(ax, img: torch.Tensor, title: str, ok: bool | None) -> None:
        ax.imshow(img.permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
        color = "black" if ok is None else ("green" if ok else "red")
        ax.set_title(title, fontsize=6, color=color)
        ax.axis("off")

    for j in range(k):
        show(axes[0][j], rows[0].original[j], f"orig {classes[rows[0].labels[j]]}", None)
    for i, s in enumerate(rows, start=1):
        for j in range(k):
            ok = bool(s.preds[j] == s.labels[j])
            show(axes[i][j], s.adversarial[j], f"{_fmt(s.budget)}: {classes[s.preds[j]]}", ok)
    title = attack if not model else f"{model}, {attack}"
    fig.suptitle(f"{title}: adversarial samples by budget", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def _fmt(budget: float) -> str:
    if budget == int(budget) and budget >= 1:
        return str(int(budget))
    return f"{budget:g}" if not math.isnan(budget) else "nan"
