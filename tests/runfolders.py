"""Run folders written by hand, as the jobs write them today and as crash-safe records will
(``status`` in summary.json, points appended to points.jsonl), for the run-index, CLI, pane
and snapshot tests. Fixed names and numbers, so what is shown is always the same."""

from __future__ import annotations

import csv
import json
from pathlib import Path

SWEEP_POINT = dict(axis="eps", n=40, success_rate=0.5, mean_iterations=1.0, linf=0.01, l2=0.5,
                   l0=3000.0, psnr=40.0, ssim=0.98, seconds=0.5)  # fmt: skip


COLUMNS = ("attack", "axis", "budget", "n", "accuracy", "success_rate", "mean_iterations",
           "linf", "l2", "l0", "psnr", "ssim", "seconds")  # fmt: skip


def _write(folder: Path, files: dict[str, object]) -> Path:
    folder.mkdir(parents=True)
    for name, payload in files.items():
        text = payload if isinstance(payload, str) else json.dumps(payload, indent=2)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def sweep(root: Path, stamp: str, name: str, accs: dict[str, list[tuple[float, float]]],
          cancelled: bool = False, **config) -> Path:  # fmt: skip
    """A sweep folder as ``write_sweep_record`` leaves it."""
    cfg = {"dataset": "sample", "model": "smallcnn", "attacks": list(accs), "n": 40,
           "ssim_bar": 0.95, **config}  # fmt: skip
    rows = [{"attack": a, "budget": b, "accuracy": acc, **SWEEP_POINT}
            for a, pts in accs.items() for b, acc in pts]  # fmt: skip
    rows = [{k: r[k] for k in COLUMNS} for r in rows]
    summary = {"clean_accuracy": 0.6, "cancelled": cancelled, "seconds": 3.0}
    files = {"config.json": cfg, "summary.json": summary, "points.json": rows}
    folder = _write(root / "sweep" / f"{stamp}-{name}", files)
    _csv(folder / "points.csv", rows)
    return folder


def words(
    root: Path,
    stamp: str,
    name: str,
    accs: list[float],
    epochs: int | None = None,
    model: str = "sgns",
    finished: bool = True,
    summary: dict | None = None,
) -> Path:
    """A words run folder as ``train_words`` leaves it (no vectors: not finished)."""
    cfg = {
        "corpus": "builtin",
        "model": model,
        "dim": 100,
        "window": 5,
        "epochs": epochs or len(accs),
    }
    history = [{"model": model, "epoch": i + 1, "loss": 3.0 - 0.1 * i, "seconds": 1.0,
                "words_per_s": 1000.0, "metrics": {"loss": 3.0 - 0.1 * i, "context_acc": a}}
               for i, a in enumerate(accs)]  # fmt: skip
    files: dict[str, object] = {"config.json": cfg, "epochs.json": history}
    if finished:
        files["vectors.txt"] = "2 2\nking 1 0\nqueen 0 1\n"
    if summary is not None:
        files["summary.json"] = summary
    folder = _write(root / "words" / f"{stamp}-{name}", files)
    _csv(folder / "epochs.csv", history)
    return folder


def incremental_sweep(root: Path, stamp: str, name: str) -> Path:
    """A sweep still running under crash-safe records: status in the summary, points.jsonl."""
    lines = [json.dumps({"attack": "fgsm", "budget": b, "accuracy": a, **SWEEP_POINT})
             for b, a in ((0.0, 0.6), (0.01, 0.3))]  # fmt: skip
    return _write(root / "sweep" / f"{stamp}-{name}", {
        "config.json": {"dataset": "sample", "model": "smallcnn", "attacks": ["fgsm"], "n": 40},
        "summary.json": {"status": "running"},
        "points.jsonl": "\n".join(lines) + "\n{\"attack\": \"fg",  # a line cut by a crash
    })  # fmt: skip


def fixture_runs(root: Path) -> dict[str, Path]:
    """The set the pane and snapshot tests show: four kinds of state, two kinds of job."""
    return {
        "sweep": sweep(
            root,
            "20261101-090000",
            "sample-smallcnn-oneshot+iterated",
            {
                "oneshot": [(0.0, 0.6), (0.01, 0.45), (0.1, 0.2)],
                "iterated": [(0.0, 0.6), (0.01, 0.3), (0.1, 0.05)],
            },
        ),  # fmt: skip
        "cancelled": sweep(
            root,
            "20261102-100000",
            "sample-smallcnn-fgsm",
            {"fgsm": [(0.0, 0.6), (0.02, 0.25)]},
            cancelled=True,
        ),  # fmt: skip
        "sgns": words(root, "20261103-110000", "sgns-tinyshakespeare", [0.17, 0.18, 0.19]),
        "cbow": words(
            root, "20261104-120000", "cbow-tinyshakespeare", [0.11, 0.12, 0.13], model="cbow"
        ),  # fmt: skip
        "failed": words(
            root,
            "20261105-130000",
            "classic-tinyshakespeare",
            [0.05],
            epochs=3,
            model="classic",
            finished=False,
            summary={"status": "failed", "reason": "out of memory"},
        ),  # fmt: skip
    }
