"""Process start -> first paint of the app, in a real pseudo-terminal.

Starts ``python -m tui.cli`` on a pty with ``ADVTUI_FIRST_PAINT=FILE``; the app writes the wall
clock time right after its first frame is drawn and exits. The time counted runs from just
before the process is spawned (interpreter start, imports, Textual start, first compose and
paint included). Prints each run and the median / max.

    python bench/first_paint.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def once() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        stamp = Path(tmp) / "painted"
        env = dict(os.environ, ADVTUI_FIRST_PAINT=str(stamp), PYTHONPATH=str(REPO))
        env.setdefault("TERM", "xterm-256color")
        master, slave = os.openpty()
        os.set_blocking(master, False)
        start = time.time()
        proc = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "--device", "cpu"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=REPO,
        )
        while proc.poll() is None:  # keep the pty drained so the app never blocks writing
            try:
                os.read(master, 65536)
            except BlockingIOError:
                time.sleep(0.002)
        os.close(master)
        os.close(slave)
        return float(stamp.read_text()) - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    times = [once() for _ in range(args.runs)]
    print("runs (s):", " ".join(f"{t:.3f}" for t in times))
    print(f"first paint: median {statistics.median(times):.3f} s, max {max(times):.3f} s")


if __name__ == "__main__":
    main()
