"""Write a sweep's run record: config, points (CSV + JSON), summary, curve and sample PNGs.

The CLI and the app both call :func:`write_sweep_record`, so a sweep leaves the same files
wherever it ran. Plots use matplotlib's Agg backend (no display needed over SSH).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from engine.runs import RunRecord
from engine.vision.events import SweepResult
from engine.vision.masking import flag_note


def write_sweep_record(result: SweepResult, record: RunRecord | None = None) -> Path:
    """Write every file of the sweep's run folder and return its path."""
    cfg = result.config
    if record is None:
        name = f"{cfg.dataset}-{'+'.join(result.models)}-{'+'.join(cfg.attacks)}"
        record = RunRecord("sweep", name, cfg.out)
    record.write_config(cfg)
    flags = result.flags()
    rows = [{**p.row(), "flags": flag_note(flags.get(key(p), ()))} for p in result.points]
    record.write_rows("points", rows)
    record.write_json(
        "summary.json",
        {
            "clean_accuracy": result.clean_accuracy,
            "clean_accuracy_by_model": result.clean,
            "cancelled": result.cancelled,
            "seconds": result.seconds,
            "ssim_bar": cfg.ssim_bar,
            "plausibility_threshold": result.thresholds(),
            "masking_flags": [
                {"model": m, "attack": a, "budget": b, "flags": list(f)}
                for (m, a, b), f in flags.items()
            ],
        },
    )
    if result.points:
        plot_curves(result, record.file("curve.png"))
        for model, attack in dict.fromkeys((s.model, s.attack) for s in result.samples):
            stem = attack if len(result.models) == 1 else f"{model}-{attack}"
            plot_samples(result, attack, record.file(f"samples-{stem}.png"), model)
    return record.path


def key(p) -> tuple[str, str, float]:
    """A point's key in the masking flags."""
    return (p.model, p.attack, p.budget)


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
    fig.savefig(path, dpi=110)
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
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt(budget: float) -> str:
    if budget == int(budget) and budget >= 1:
        return str(int(budget))
    return f"{budget:g}" if not math.isnan(budget) else "nan"
