"""Run records: one folder per job with its config, metrics (CSV and JSON) and images, written
so that a crash loses at most the point in flight.

Every job that a user may want to look at later writes one, so a sweep in the app and the same
sweep from the CLI leave the same files. The root is the user data dir (platformdirs), or the
``--out`` folder / ``ADVTUI_RUNS`` variable when given. The folder is
``<root>/<kind>/<stamp>-<name>`` (``-2``, ``-3``... when two jobs start in the same second).

Crash safety, written once here for every job:

- the folder and its ``config.json`` exist before the first batch;
- each finished point (or epoch) is appended to ``<stem>.jsonl`` and ``<stem>.csv`` and
  fsynced before the next starts; a reader drops a torn last line (:meth:`RunRecord.read_rows`);
- every other file is written to a temporary file, fsynced and moved into place with
  ``os.replace`` (:func:`atomic_path`), so a reader never sees half a file;
- ``summary.json`` carries ``status``: ``running`` (with ``pid`` and ``host``, so a reader can
  tell a live run from a killed one), then ``finished``, ``cancelled`` or ``failed`` with a
  one-line ``reason``.

A write that fails (disk full, folder gone read-only) is a one-line :class:`RecordError`;
what was written before it stays intact.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import os
import re
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from engine.errors import EngineError, UsageError
from engine.fields import from_dict, mention

C = TypeVar("C")
STATUSES = ("running", "finished", "cancelled", "failed")
SUMMARY = "summary.json"


class RecordError(EngineError):
    """A run folder could not be written (disk full, no permission); earlier files stay."""

    title = "Cannot write the run folder"


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


# --------------------------------------------------------------------------- durable writes


def _fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (where the platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _record_error(path: Path, exc: OSError) -> RecordError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return RecordError(f"cannot write {path.name} in {path.parent}: {reason}")


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``target`` to write; on success it is fsynced and moved into
    place, on failure removed, so ``target`` is always the old file or the whole new one."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _record_error(target, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically (see :func:`atomic_path`)."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def _append(path: Path, text: str) -> None:
    """Append ``text`` and fsync, so it is on disk before the caller goes on."""
    try:
        with open(path, "a", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise _record_error(path, exc) from None


def _csv_text(rows: list[dict[str, Any]], columns: list[str], header: bool) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    return columns


# --------------------------------------------------------------------------- folders


def writable_root(kind: str, root: str | os.PathLike[str] | None = None) -> Path:
    """``<root>/<kind>`` if run folders can be made there (it need not exist yet), else a
    one-line UsageError, so a job finds out before it has done any work. Leaves nothing
    behind: the check writes a probe file in the nearest folder that exists, and removes it."""
    base = runs_root(root) / kind
    near = base
    while not near.exists() and near != near.parent:
        near = near.parent
    try:
        if not near.is_dir():
            raise NotADirectoryError(20, "Not a directory")
        fd, probe = tempfile.mkstemp(prefix=".advtui-probe-", dir=near)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = f"{near} is a file" if near.is_file() else exc.strerror or type(exc).__name__
        raise UsageError(
            f"cannot write run folders in {base}: {reason}; choose another with {mention('out')} "
            "or ADVTUI_RUNS"
        ) from None
    return base


def _new_folder(base: Path, name: str) -> Path:
    """``base/<stamp>-<name>``, or with ``-2``, ``-3``... when taken; ``mkdir`` is atomic, so
    two processes starting in the same second never share a folder."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 10_000):
        path = base / (f"{stamp}-{name}" if n == 1 else f"{stamp}-{name}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise RecordError(f"cannot make a run folder in {base}: {exc.strerror}") from None
        _fsync_dir(base)
        return path
    raise RecordError(f"too many run folders named {stamp}-{name} in {base}")


class RunRecord:
    """A run folder, created on construction as ``<root>/<kind>/<timestamp>-<name>``, or an
    existing one opened again with :meth:`reopen` (to resume it)."""

    def __init__(self, kind: str, name: str, root: str | os.PathLike[str] | None = None) -> None:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:60] or kind
        base = writable_root(kind, root)
        try:
            base.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordError(f"cannot make {base}: {exc.strerror}") from None
        self.path = _new_folder(base, slug)
        self.kind = kind
        self.summary: dict[str, Any] = {}

    @classmethod
    def reopen(cls, path: str | os.PathLike[str], kind: str) -> RunRecord:
        """An existing ``kind`` run folder (with its summary so far), to continue writing."""
        folder = run_folder(path, kind)
        record = cls.__new__(cls)
        record.path, record.kind = folder, kind
        for tmp in folder.glob(".*.tmp"):  # left by a crash mid-write
            tmp.unlink(missing_ok=True)
        try:
            summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            summary = {}
        record.summary = summary if isinstance(summary, dict) else {}
        return record

    # ------------------------------------------------------------------ whole files

    def write_json(self, filename: str, payload: Any) -> Path:
        text = json.dumps(plain(payload), indent=2) + "\n"
        return write_atomic(self.path / filename, text.encode("utf-8"))

    def write_config(self, config: Any) -> Path:
        return self.write_json("config.json", config)

    def write_rows(self, stem: str, rows: Iterable[Mapping[str, Any]]) -> tuple[Path, Path]:
        """``<stem>.csv``, ``<stem>.jsonl`` and ``<stem>.json`` with exactly ``rows``, each
        replaced atomically; columns in first-seen order. Returns the CSV and JSON paths."""
        rows = [dict(plain(r)) for r in rows]
        csv_path = write_atomic(
            self.path / f"{stem}.csv", _csv_text(rows, _columns(rows), True).encode("utf-8")
        )
        lines = "".join(json.dumps(r) + "\n" for r in rows)
        write_atomic(self.path / f"{stem}.jsonl", lines.encode("utf-8"))
        return csv_path, self.write_json(f"{stem}.json", rows)

    def file(self, filename: str) -> Path:
        return self.path / filename

    # ------------------------------------------------------------------ one row at a time

    def append_row(self, stem: str, row: Mapping[str, Any]) -> None:
        """Add one row to ``<stem>.jsonl`` then ``<stem>.csv``, each fsynced before this returns
        (the JSON lines are the truth; the CSV gets its header with its first row)."""
        row = dict(plain(row))
        _append(self.path / f"{stem}.jsonl", json.dumps(row) + "\n")
        csv_path = self.path / f"{stem}.csv"
        new = not csv_path.is_file() or csv_path.stat().st_size == 0
        _append(csv_path, _csv_text([row], list(row), header=new))

    def read_rows(self, stem: str) -> list[dict[str, Any]]:
        """The rows of ``<stem>.jsonl``; a torn last line (a crash mid-append) is dropped."""
        try:
            text = (self.path / f"{stem}.jsonl").read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise UsageError(f"cannot read {stem}.jsonl in {self.path}: {exc.strerror}") from None
        rows = []
        for line in text.splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line torn by a crash mid-append
            if isinstance(row, dict):
                rows.append(row)
        return rows

    # ------------------------------------------------------------------ status

    def update(self, **fields: Any) -> None:
        """Merge ``fields`` into ``summary.json`` and rewrite it atomically."""
        self.summary.update(fields)
        self.summary["updated"] = _now()
        self.write_json(SUMMARY, self.summary)

    def start(self, config: Any, **fields: Any) -> None:
        """Before the first batch: the config, and the status ``running`` with who runs it."""
        if not (self.path / "config.json").is_file():
            try:
                self.write_config(config)
            except RecordError:
                with contextlib.suppress(OSError):  # empty: nothing to keep or resume
                    self.path.rmdir()
                raise
        self.summary.pop("reason", None)
        starts = int(self.summary.get("starts", 0)) + 1
        self.update(
            kind=self.kind, status="running", cancelled=False, pid=os.getpid(),
            host=socket.gethostname(), started=_now(), starts=starts, **fields,
        )  # fmt: skip

    def end(self, status: str, reason: str | None = None, **fields: Any) -> None:
        """The last status: ``finished``, ``cancelled`` or ``failed`` (with its reason)."""
        assert status in STATUSES[1:], status
        self.summary.pop("reason", None)
        if reason:
            fields["reason"] = reason
        self.update(status=status, cancelled=status == "cancelled", **fields)

    def __str__(self) -> str:
        return str(self.path)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


# --------------------------------------------------------------------------- reading back


def run_folder(path: str | os.PathLike[str], kind: str) -> Path:
    """The run folder ``path`` names (the folder, or a file in it) if it is a ``kind`` run
    (as its summary says; a folder moved elsewhere still is); a one-line UsageError otherwise."""
    p = Path(path).expanduser()
    folder = p if p.is_dir() else p.parent
    if not (folder / "config.json").is_file():
        raise UsageError(f"{p} is not a run folder (no config.json)")
    try:
        summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary = {}
    found = summary.get("kind") if isinstance(summary, dict) else None
    if found is None and folder.parent.name in ("sweep", "train", "words", "eval"):
        found = folder.parent.name
    if found is not None and found != kind:
        raise UsageError(f"{folder.name} is a {found!r} run, not a {kind!r} run")
    return folder


def saved_config(cls: type[C], path: str | os.PathLike[str], kind: str) -> C:
    """The config a ``kind`` run folder was started with (its ``config.json``), validated."""
    from engine.fields import FieldError, validate

    folder = run_folder(path, kind)
    try:
        payload = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        config = from_dict(cls, payload if isinstance(payload, dict) else {})
        validate(config)
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(f"{folder}/config.json cannot be read back: {exc}") from None
    except FieldError as exc:
        raise UsageError(f"{folder}/config.json: {exc}") from None
    return config


def differences(saved: Any, config: Any, free: Iterable[str]) -> list[str]:
    """``field=value`` of each field ``config`` changes from ``saved``, except the ``free`` ones
    (the settings a resumed run may change without changing its results)."""
    skip = set(free)
    return [
        f"{mention(f.name)} {getattr(saved, f.name)!r} -> {getattr(config, f.name)!r}"
        for f in dataclasses.fields(saved)
        if f.name not in skip and getattr(saved, f.name) != getattr(config, f.name)
    ]


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
