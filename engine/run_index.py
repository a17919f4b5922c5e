"""Finding runs again: every run folder with its date, kind, key settings, status and headline
figure; a run's curves and rows; renaming and deleting.

The reading side of the run records (:mod:`engine.runs` writes them). It reads what the
folders hold today and what they will hold once records are written as they go: a
``status`` (running, finished, cancelled, failed) and its ``reason`` in ``summary.json`` when
present; otherwise the status is inferred from the files (a sweep's ``cancelled`` flag, a
words run's vectors and epoch count) or ``unknown``. Points come from ``points.csv`` or, when
only that exists, ``points.jsonl``. Torch-free and quick: listing 500 folders reads two or
three small files each (``bench/runs_tab.py``).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import UsageError
from engine.runs import list_runs as run_folders
from engine.runs import runs_root

STATUSES = ("running", "finished", "cancelled", "failed", "unknown")
_STAMP = re.compile(r"^(\d{8}-\d{6})-?(.*)$")


@dataclass(frozen=True)
class RunInfo:
    """One run folder as the runs list shows it."""

    path: Path
    kind: str
    name: str  # the folder name without its timestamp
    started: float  # seconds since the epoch (from the folder name, else its mtime)
    status: str = "unknown"
    reason: str = ""
    settings: str = ""
    headline: str = ""
    config: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def id(self) -> str:
        """The folder name: what ``advtui runs show`` takes."""
        return self.path.name

    @property
    def date(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.started))

    def matches(self, text: str) -> bool:
        """Whether every word of ``text`` appears in the run's kind, name, settings or status."""
        hay = f"{self.kind} {self.name} {self.settings} {self.status} {self.headline}".lower()
        return all(word in hay for word in text.lower().split())


# --------------------------------------------------------------------------- files


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except (OSError, csv.Error, UnicodeDecodeError):
        return []


def _jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    rows = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except ValueError:  # a line cut short by a crash: the rows before it stand
            break
    return rows


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def read_config(path: Path, cls: type) -> Any:
    """A run folder's ``config.json`` as ``cls`` (its job's config class; unknown keys left
    out, missing ones at their defaults, so older folders still open)."""
    from engine.fields import from_dict

    payload = _json(Path(path) / "config.json")
    return from_dict(cls, payload if isinstance(payload, dict) else {})


TEXT_COLUMNS = ("model", "attack", "axis", "flags")  # a sweep's columns that are not numbers


def points(path: Path) -> list[dict[str, Any]]:
    """A sweep's finished points: ``points.csv`` (numbers as floats), else ``points.jsonl``."""
    rows = _csv(path / "points.csv")
    if rows:
        return [{k: v if k in TEXT_COLUMNS else _number(v) for k, v in r.items()} for r in rows]
    return _jsonl(path / "points.jsonl")


def epochs(path: Path) -> list[dict[str, Any]]:
    """A words run's epochs (``epochs.json``, else ``epochs.jsonl``): epoch, loss, seconds,
    words_per_s and the ``metrics`` dict."""
    rows = _json(path / "epochs.json")
    return rows if isinstance(rows, list) else _jsonl(path / "epochs.jsonl")


def metrics(path: Path) -> list[dict[str, Any]]:
    """A classifier-training run's epochs (``metrics.csv``): epoch, train_loss, test_acc."""
    return [{k: _number(v) for k, v in r.items()} for r in _csv(path / "metrics.csv")]


def scores(path: Path) -> list[dict[str, Any]]:
    """An evaluation run's scores (``scores.json``): file, metric, value, used, skipped."""
    rows = _json(path / "scores.json")
    return rows if isinstance(rows, list) else []


ROWS = {"sweep": points, "words": epochs, "train": metrics, "eval": scores}


def rows(path: Path, kind: str | None = None) -> list[dict[str, Any]]:
    """The rows of a run's table (points, epochs or scores) as plain dicts."""
    reader = ROWS.get(kind or path.parent.name)
    return reader(path) if reader else []


# --------------------------------------------------------------------------- status


def _status(path: Path, kind: str, config: dict[str, Any], summary: Any) -> tuple[str, str]:
    """``(status, reason)``: the summary's own when it has one, else read from the files."""
    if isinstance(summary, dict) and summary.get("status") in STATUSES:
        return summary["status"], str(summary.get("reason") or "")
    if isinstance(summary, dict) and "cancelled" in summary:
        return ("cancelled" if summary["cancelled"] else "finished"), ""
    if kind == "words" and (path / "vectors.txt").is_file():
        done = len(epochs(path))
        return ("finished" if done >= int(config.get("epochs") or 0) else "cancelled"), ""
    if kind == "train" and (path / "metrics.csv").is_file():
        return ("finished" if (path / "model.pt").is_file() else "cancelled"), ""
    if kind == "eval" and (path / "scores.csv").is_file():
        return "finished", ""
    return "unknown", ""


# --------------------------------------------------------------------------- settings, headline


def _name(value: Any) -> str:
    return Path(str(value)).name if value else ""


def settings(kind: str, c: dict[str, Any]) -> str:
    """The few settings that tell runs of one kind apart."""
    if kind == "sweep":
        attacks = "+".join(c.get("attacks") or ())
        models = c.get("model") or ""
        models = ",".join(map(_name, models)) if isinstance(models, list) else _name(models)
        return f"{c.get('dataset', '')} {models} {attacks} n={c.get('n', '')}"
    if kind == "words":
        corpus = c.get("corpus") if c.get("corpus") == "builtin" else _name(c.get("corpus"))
        return (
            f"{c.get('model', '')} {corpus} dim {c.get('dim', '')} window {c.get('window', '')} "
            f"epochs {c.get('epochs', '')}"
        )
    if kind == "train":
        return f"{c.get('arch', '')} {c.get('dataset', '')} epochs {c.get('epochs', '')}"
    if kind == "eval":
        return _name(c.get("model"))
    return ""


WORDS_HEADLINE = ("context_acc", "accuracy", "analogy", "wordsim", "simlex")


def headline(path: Path, kind: str) -> str:
    """The figure a run is remembered by: a sweep's lowest accuracy at its largest budget, a words
    run's last held-out context accuracy, a classifier's test accuracy, an evaluation's first
    score."""
    if kind == "sweep":
        pts = points(path)
        if not pts:
            return ""
        top = max(p.get("budget", 0) for p in pts)  # the worst attack at the largest budget
        last = min((p for p in pts if p.get("budget", 0) == top), key=lambda p: p["accuracy"])
        return f"{last['attack']} {last['accuracy']:.3f} at {top:g}"
    if kind == "words":
        rows_ = epochs(path)
        if not rows_:
            return ""
        found = rows_[-1].get("metrics") or {}
        name = next((m for m in WORDS_HEADLINE if m in found), None)
        if name is None:
            return f"loss {_number(rows_[-1].get('loss')):.3f}"
        return f"{name} {_number(found[name]):.3f}"
    if kind == "train":
        rows_ = metrics(path)
        return f"test {rows_[-1].get('test_acc', float('nan')):.1%}" if rows_ else ""
    if kind == "eval":
        rows_ = scores(path)
        return f"{rows_[0].get('metric')} {_number(rows_[0].get('value')):.3f}" if rows_ else ""
    return ""


# --------------------------------------------------------------------------- listing


def _started(path: Path, stamp: str | None) -> float:
    if stamp:
        try:
            return time.mktime(time.strptime(stamp, "%Y%m%d-%H%M%S"))
        except ValueError:
            pass
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def run_info(path: str | os.PathLike[str]) -> RunInfo:
    """One run folder read: what the runs list shows of it (a folder whose files cannot be read
    is listed as ``unknown``, never an error: one bad folder must not hide the others)."""
    path = Path(path)
    kind = path.parent.name
    config = _json(path / "config.json")
    config = config if isinstance(config, dict) else {}
    try:
        status, reason = _status(path, kind, config, _json(path / "summary.json"))
        summary = (settings(kind, config).strip(), headline(path, kind))
    except (KeyError, TypeError, ValueError, AttributeError):  # a file edited by hand
        status, reason, summary = "unknown", "unreadable files", ("", "")
    match = _STAMP.match(path.name)
    name = (match.group(2) if match else path.name) or kind
    started = _started(path, match.group(1) if match else None)
    return RunInfo(path, kind, name, started, status, reason, *summary, config)


def list_runs(
    root: str | os.PathLike[str] | None = None, kind: str | None = None, text: str = ""
) -> list[RunInfo]:
    """Every run folder under the root (one ``kind``, those matching ``text``), newest first."""
    found = [run_info(p) for p in run_folders(root, kind)]
    found = [r for r in found if r.matches(text)] if text.strip() else found
    return sorted(found, key=lambda r: (r.started, r.path.name), reverse=True)


def signature(root: str | os.PathLike[str] | None = None) -> tuple[tuple[str, int], ...]:
    """The modification times of the runs root and its kind folders: a folder made, renamed or
    removed changes one, so a list read before is known to be stale with a few ``stat`` calls."""
    base = runs_root(root)
    try:
        folders = [base, *(p for p in base.iterdir() if p.is_dir())]
        return tuple((p.name, p.stat().st_mtime_ns) for p in folders)
    except OSError:
        return ()


def find_run(ref: str, root: str | os.PathLike[str] | None = None) -> Path:
    """A run folder from a path, a folder name, or a piece of one that only one run has."""
    from engine.fields import shown
    from engine.files import kind

    direct = Path(ref).expanduser()
    if kind(direct / "config.json") == "file":
        return direct
    folders = run_folders(root)
    exact = [p for p in folders if p.name == ref]
    if exact:
        return exact[0]
    partial = [p for p in folders if ref in p.name]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise UsageError(f"no run folder matches {shown(ref)} under {runs_root(root)}")
    names = ", ".join(p.name for p in partial[:3])
    raise UsageError(
        f"{len(partial)} runs match {shown(ref)} ({names}, ...); give more of the name"
    )


# --------------------------------------------------------------------------- curves


Series = dict[str, list[tuple[float, float]]]
CURVE_ORDER = ("context_acc", "accuracy", "analogy", "wordsim", "simlex", "test_acc", "loss",
               "train_loss")  # fmt: skip


def curves(path: Path, kind: str | None = None) -> Series:
    """A run's curves by name: a sweep's accuracy against budget per attack, a training run's
    metrics (and loss) per epoch. An evaluation run has none."""
    kind = kind or path.parent.name
    out: Series = {}
    if kind == "sweep":
        for p in points(path):
            out.setdefault(str(p["attack"]), []).append((p["budget"], p["accuracy"]))
    elif kind == "words":
        for e in epochs(path):
            out.setdefault("loss", []).append((_number(e["epoch"]), _number(e.get("loss"))))
            for name, value in (e.get("metrics") or {}).items():
                if name in CURVE_ORDER and name != "loss":
                    out.setdefault(name, []).append((_number(e["epoch"]), _number(value)))
    elif kind == "train":
        for m in metrics(path):
            for name in ("test_acc", "train_loss"):
                out.setdefault(name, []).append((m["epoch"], m.get(name, float("nan"))))
    return {k: out[k] for k in sorted(out, key=_curve_rank)}


def _curve_rank(name: str) -> tuple[int, str]:
    return (CURVE_ORDER.index(name) if name in CURVE_ORDER else -1, name)


def x_label(kind: str) -> str:
    return "budget" if kind == "sweep" else "epoch"


@dataclass(frozen=True)
class Overlay:
    """Several runs' curves on one plot: ``series`` by legend label (the run's name)."""

    kind: str
    metric: str
    xlabel: str
    series: Series


def overlay(runs: list[RunInfo], metric: str | None = None) -> Overlay:
    """One curve per run (a sweep: per run and attack) of one ``metric``, the first of
    :data:`CURVE_ORDER` every run has when none is named. Runs of one kind only."""
    kinds = {r.kind for r in runs}
    if len(kinds) != 1:
        raise UsageError(f"compare runs of one kind; these are {', '.join(sorted(kinds))}")
    kind = kinds.pop()
    if kind == "eval":
        raise UsageError("evaluation runs have scores, not curves; `advtui runs show` lists them")
    each = [curves(r.path, kind) for r in runs]
    if kind != "sweep":
        common = [m for m in CURVE_ORDER if all(m in c for c in each)]
        metric = metric or (common[0] if common else None)
        if metric is None or not all(metric in c for c in each):
            raise UsageError(f"not every run has a {metric or 'shared'} curve")
    labels = _labels(runs)
    series: Series = {}
    for label, found in zip(labels, each, strict=True):
        if kind == "sweep":
            for attack, pts in found.items():
                series[label if len(found) == 1 else f"{label} {attack}"] = pts
        else:
            series[label] = found[str(metric)]
    return Overlay(kind, metric or "accuracy", x_label(kind), series)


def _labels(runs: list[RunInfo]) -> list[str]:
    """Each run's name, with its time added where two runs share a name."""
    names = [r.name for r in runs]
    return [
        n
        if names.count(n) == 1
        else f"{n} {time.strftime('%m-%d %H:%M:%S', time.localtime(r.started))}"
        for n, r in zip(names, runs, strict=True)
    ]


# --------------------------------------------------------------------------- rename, delete


def _inside(path: Path, root: str | os.PathLike[str] | None) -> Path:
    """``path`` checked to be a run folder under the runs root (nothing else is touched)."""
    path = path.resolve()
    base = runs_root(root).resolve()
    if base not in path.parents or not (path / "config.json").is_file():
        raise UsageError(f"{path} is not a run folder under {base}")
    return path


def rename_run(path: Path, name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Give a run a new name (its folder keeps its timestamp); returns the new path."""
    path = _inside(path, root)
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:60]
    if not slug:
        raise UsageError("a run's name needs a letter or digit")
    if run_info(path).status == "running":
        raise UsageError(f"{path.name} is still running; rename it when it has finished")
    match = _STAMP.match(path.name)
    target = path.with_name(f"{match.group(1)}-{slug}" if match else slug)
    if target.exists() and target != path:
        raise UsageError(f"a run named {target.name} exists already")
    path.rename(target)
    return target


def delete_run(path: Path, root: str | os.PathLike[str] | None = None) -> None:
    """Remove a run folder and everything in it (callers ask first)."""
    shutil.rmtree(_inside(path, root))
