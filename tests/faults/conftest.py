"""The fault-injection suite's tools: jobs in child processes killed at seeded random moments,
tiny data, the records a run folder holds, and the tally printed at the end of the run.

Every test adds what it injected to the tally (:func:`tally`): the fault, how many times,
the points lost beyond the one in flight, and the crashes (a traceback, an unexpected exit
code, a half-written file). The table is printed after the tests, so a CI log shows the
counts measured by that very run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import write_image_folder

REPO = Path(__file__).resolve().parents[2]
TALLY: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # fault -> injected, lost, crashes

# Tiny, real jobs: a few seconds each on two CPU cores, points long enough to be hit mid-way.
SWEEP = ["sweep", "--n", "40", "--batch", "20", "--attack", "pgd", "--steps", "5",
         "--eps", "0,0.002,0.004,0.006,0.008,0.01,0.012,0.014"]  # fmt: skip
SWEEP_POINTS = 8
WORDS = ["words", "train", "--max-words", "60000", "--epochs", "6", "--dim", "16",
         "--min-count", "2", "--batch", "256"]  # fmt: skip
POINT = {"sweep": re.compile(r"acc \d\.\d+\s+success"), "epoch": re.compile(r"^epoch \d+/\d+:")}


def tally(fault: str, injected: int = 1, lost: int = 0, crashes: int = 0) -> None:
    """Count ``injected`` injections of ``fault`` with what they cost."""
    row = TALLY[fault]
    row[0] += injected
    row[1] += max(lost, 0)
    row[2] += crashes


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's hook
    if not TALLY:
        return
    write = terminalreporter.write_line
    write("")
    write("fault injection (this run)                        injected  points lost  crashes")
    for fault, (injected, lost, crashes) in TALLY.items():
        write(f"{fault:<50}{injected:>8}{lost:>13}{crashes:>9}")


# --------------------------------------------------------------------------- child processes


@dataclass
class Child:
    """``advtui ARGV`` in a child process; its stderr lines are read as they come."""

    argv: list[str]
    marker: re.Pattern
    proc: subprocess.Popen = field(init=False)
    lines: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # when each point was reported
    stdout: str = ""

    def __post_init__(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "--device", "cpu", *self.argv], cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            if self.marker.search(line):
                self.times.append(time.monotonic())

    @property
    def points(self) -> int:
        """Points (or epochs) the job has said it finished so far."""
        return len(self.times)

    def seconds_per_point(self) -> float:
        """How long a point has taken so far (between the first and the last reported)."""
        times = list(self.times)
        return (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else 0.0

    def wait_points(self, k: int, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while self.points < k:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"never reached {k} points: {self.stderr[-2000:]}")
            time.sleep(0.01)

    def kill(self, sig: int) -> int:
        """Send ``sig``; the points the job had reported when it was sent."""
        before = self.points
        self.proc.send_signal(sig)
        return before

    def finish(self, timeout: float = 300) -> int:
        """Wait for the exit; stdout is read here, stderr by the reader thread alone."""
        assert self.proc.stdout is not None
        self.stdout = self.proc.stdout.read()
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)


def interrupt_at_random(child: Child, rng, sig: int, total: int) -> int | None:
    """Wait for a seeded random number of finished points (at least two, two fewer than all
    at most), then a seeded random part of the time a point takes, then send ``sig``; the
    points reported by then (these must all be on disk), or None when the job had already
    ended (then nothing was injected)."""
    child.wait_points(int(rng.integers(2, max(total - 1, 3))))
    time.sleep(float(rng.uniform(0, 1)) * child.seconds_per_point())
    if child.proc.poll() is not None:
        return None
    return child.kill(sig)


def crashed(stderr: str) -> bool:
    """A traceback or a Python warning reached the user."""
    return "Traceback" in stderr or "Warning:" in stderr


# --------------------------------------------------------------------------- run folders


def only_run(root: Path, kind: str) -> Path:
    runs = [p for p in (root / kind).iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def rows(run: Path, stem: str) -> list[dict]:
    """The rows on disk (JSON lines; a line torn by a kill is not a row)."""
    path = run / f"{stem}.jsonl"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def summary(run: Path) -> dict:
    """``summary.json``, which must always parse (it is replaced atomically)."""
    return json.loads((run / "summary.json").read_text(encoding="utf-8"))


def whole_files(run: Path) -> bool:
    """Every JSON file of the folder parses and no temporary file is left in sight."""
    for path in run.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    return True


def timeless(table: list[dict]) -> list[dict]:
    """Rows without their wall-clock columns (two runs never take the same time)."""
    drop = {"seconds", "words_per_s"}
    return [{k: v for k, v in row.items() if k not in drop} for row in table]


# --------------------------------------------------------------------------- data


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory) -> Path:
    """An ImageFolder (train/ 300, test/ 100 images) cut from the shipped sample."""
    return write_image_folder(tmp_path_factory.mktemp("images"), 300, 100)


def train_argv(folder: Path, epochs: int = 5) -> list[str]:
    return ["train-model", "--dataset", "imagefolder", "--data-dir", str(folder),
            "--epochs", str(epochs), "--batch", "100"]  # fmt: skip


@pytest.fixture
def rng(request) -> np.random.Generator:
    """A generator seeded by the test's name: the same random moments on every run."""
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))


SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}
