"""Run records: one folder per job with its config, metrics (CSV and JSON) and images.

Every job that a user may want to look at later writes one, so a sweep in the app and the same
sweep from the CLI leave the same files. The root is the user data dir (platformdirs), or the
``--out`` folder / ``ADVTUI_RUNS`` variable when given.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import platformdirs


def runs_root(override: str | os.PathLike[str] | None = None) -> Path:
    """Where run folders go: ``override``, else ``$ADVTUI_RUNS``, else the user data dir."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("ADVTUI_RUNS")
    if env:
        return Path(env).expanduser()
    return platformdirs.user_data_path("advtui") / "runs"


def cache_root() -> Path:
    """Where downloads and trained checkpoints are cached (``$ADVTUI_CACHE`` overrides)."""
    env = os.environ.get("ADVTUI_CACHE")
    if env:
        return Path(env).expanduser()
    return platformdirs.user_cache_path("advtui")


def plain(value: Any, json: bool = True) -> Any:
    """Dataclasses, mappings and sequences as dicts and lists of plain values.

    ``json``: also paths as text and NaN/inf as None (JSON has neither); without it the values
    stay as they are (a checkpoint keeps NaN losses and tensors)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v, json) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, Mapping):
        return {str(k): plain(v, json) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, json) for v in value]
    if json and isinstance(value, Path):
        return str(value)
    if json and isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class RunRecord:
    """A run folder, created on construction as ``<root>/<kind>/<timestamp>-<name>``."""

    def __init__(self, kind: str, name: str, root: str | os.PathLike[str] | None = None) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:60] or kind
        base = runs_root(root) / kind
        base.mkdir(parents=True, exist_ok=True)
        path = base / f"{stamp}-{slug}"
        n = 1
        while path.exists():
            n += 1
            path = base / f"{stamp}-{slug}-{n}"
        path.mkdir()
        self.path = path

    def write_json(self, filename: str, payload: Any) -> Path:
        target = self.path / filename
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(plain(payload), indent=2) + "\n", encoding="utf-8")
        tmp.replace(target)
        return target

    def write_config(self, config: Any) -> Path:
        return self.write_json("config.json", config)

    def write_rows(self, stem: str, rows: Iterable[Mapping[str, Any]]) -> tuple[Path, Path]:
        """Write ``rows`` as ``<stem>.csv`` and ``<stem>.json``; columns in first-seen order."""
        rows = [dict(plain(r)) for r in rows]
        columns: list[str] = []
        for row in rows:
            columns += [k for k in row if k not in columns]
        csv_path = self.path / f"{stem}.csv"
        with csv_path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        return csv_path, self.write_json(f"{stem}.json", rows)

    def file(self, filename: str) -> Path:
        return self.path / filename

    def __str__(self) -> str:
        return str(self.path)


def list_runs(root: str | os.PathLike[str] | None = None, kind: str | None = None) -> list[Path]:
    """Run folders under the root (one ``kind`` or all), newest first."""
    base = runs_root(root)
    kinds = (
        [base / kind]
        if kind
        else [p for p in base.iterdir() if p.is_dir()]
        if base.is_dir()
        else []
    )
    runs = [p for k in kinds if k.is_dir() for p in k.iterdir() if (p / "config.json").is_file()]
    return sorted(runs, key=lambda p: p.name, reverse=True)
