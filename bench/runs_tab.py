"""How fast the Runs tab opens with many run folders: 500 by default, half sweeps (24 points
each), half words runs (5 epochs each), written to a temporary runs folder.

Printed: the CPU; ``list_runs`` alone (reading every folder's config, summary and rows); and in
the app (headless, 120x40, F5 sent to the driver as a terminal sends it, once the engine has
loaded), the time from F5 to the tab's first frame and to the frame with every run listed:
as the app runs (the list read on the engine thread at start), and after a run folder was made
meanwhile (F5 reads the folders again). Each is the median of ``--repeat`` fresh apps. The
target is 200 ms.

Measured 2026-11-30 (2-core AMD EPYC, median of 5): list_runs 55 ms; F5 to the first frame
52 ms, to all 500 rows 138 ms; with a folder made since, 34 ms and 435 ms (the list re-read).

Run it alone: ``flock /tmp/advtui-cpu.lock .venv/bin/python bench/runs_tab.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.words import cpu_summary  # noqa: E402
from tests.runfolders import sweep, words  # noqa: E402

BUDGETS = (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms (max {max(values) * 1000:.0f} ms)"


def make_runs(root: Path, n: int) -> None:
    """``n`` run folders: sweeps of three attacks over eight budgets, and words runs."""
    for i in range(n):
        day = f"2026{1 + i // 400 % 12:02d}{1 + i // 16 % 28:02d}"
        stamp = f"{day}-{i // 60 % 24:02d}{i % 60:02d}00"
        if i % 2:
            accs = {a: [(b, 0.6 - b * (j + 1)) for b in BUDGETS] for j, a in
                    enumerate(("fgsm", "pgd", "iterated"))}  # fmt: skip
            sweep(root, stamp, f"sample-smallcnn-run{i}", accs)
        else:
            words(root, stamp, f"sgns-run{i}", [0.1 + 0.01 * e for e in range(5)])


async def _painted(app: Any) -> float:
    """The time of the next frame written."""
    stamps: list[float] = []
    app.call_after_refresh(lambda: stamps.append(time.perf_counter()))
    while not stamps:
        await asyncio.sleep(0.0005)
    return stamps[0]


async def open_tab(size: tuple[int, int], root: Path, fresh: bool) -> tuple[float, float]:
    """In a fresh app, once its engine (and so the runs list) has loaded: seconds from F5 (sent
    to the driver as a terminal would) to the first frame of the tab, and to the frame with
    every run in the list. ``fresh``: a run folder is made after the list was read, so F5
    reads the folders again (what a run made by the CLI meanwhile causes)."""
    from textual import events

    from tui.app import AdvTUI

    app = AdvTUI(device="cpu")
    async with app.run_test(size=size) as pilot:
        pane = app.query_one("RunsPane")
        while app.engine_device is None or not pane.loaded:
            await asyncio.sleep(0.01)
        await pilot.pause(0.3)
        loaded = pane.loaded
        if fresh:
            words(root, "20270101-000000", f"sgns-new{time.monotonic_ns()}", [0.1])
        start = time.perf_counter()
        key = events.Key("f5", None)
        key.set_sender(app)
        app._driver.send_message(key)
        while app.query_one("#tabs").active != "runs":
            await asyncio.sleep(0.0005)
        first = await _painted(app)
        while (fresh and pane.loaded == loaded) or pane.table.row_count < len(pane.runs):
            await asyncio.sleep(0.0005)
        every = await _painted(app)
        return first - start, every - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        make_runs(root, args.runs)
        os.environ["ADVTUI_RUNS"] = str(root)
        from engine.run_index import list_runs

        listing = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            found = list_runs()
            listing.append(time.perf_counter() - t0)
        warm = [asyncio.run(open_tab((120, 40), root, False)) for _ in range(args.repeat)]
        fresh = [asyncio.run(open_tab((120, 40), root, True)) for _ in range(args.repeat)]
    python = platform.python_version()
    print(f"Runs tab with {len(found)} run folders; {cpu_summary()}; Python {python}")
    print(f"  list_runs (read every folder): median {ms(listing)}")
    print(f"  F5 to the tab's first frame, list read at start: median {ms([a for a, _ in warm])}"
          f" (target 200 ms)")  # fmt: skip
    print(f"  F5 to the frame with every run listed, list read at start: "
          f"median {ms([b for _, b in warm])}")  # fmt: skip
    print(f"  F5 to the tab's first frame, a new folder made since: "
          f"median {ms([a for a, _ in fresh])}")  # fmt: skip
    print(f"  F5 to the frame with the list read again and every run listed: "
          f"median {ms([b for _, b in fresh])}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
