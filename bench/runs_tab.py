"""How fast the Runs tab opens with many run folders: 500 by default, half sweeps (24 points
each), half words runs (5 epochs each), written to a temporary runs folder.

Printed: the CPU; ``list_runs`` alone (reading every folder's config, summary and rows); and in
the app (headless, 120x40, once the engine has loaded), the time from pressing F5 to the first
frame painted with the list (its first screenful of rows: the tab's first paint), and to the
frame after all the rows are in the table (the rest are added a chunk per frame). Each is the
median of ``--repeat`` fresh apps. The target is 200 ms for the first paint.

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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.runfolders import sweep, words  # noqa: E402

BUDGETS = (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)


def cpu() -> str:
    name = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{name}, {cores} cores"


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


async def open_tab(size: tuple[int, int]) -> tuple[float, float]:
    """Seconds from F5 to the first frame showing the list, and to the frame after every run
    is in it, in a fresh app."""
    from tui.app import AdvTUI

    app = AdvTUI(device="cpu")
    async with app.run_test(size=size) as pilot:
        while app.engine_device is None:  # torch loads on a thread at start: let it finish
            await asyncio.sleep(0.01)
        await pilot.pause(0.2)
        pane = app.query_one("RunsPane")
        first: list[float] = []
        every: list[float] = []
        start = time.perf_counter()
        await pilot.press("f5")
        while not pane.loaded:
            await asyncio.sleep(0.0005)
        app.call_after_refresh(lambda: first.append(time.perf_counter()))
        while pane.table.row_count < len(pane.runs):
            await asyncio.sleep(0.0005)
        app.call_after_refresh(lambda: every.append(time.perf_counter()))
        while not (first and every):
            await asyncio.sleep(0.0005)
        return first[0] - start, every[0] - start


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
        opened = [asyncio.run(open_tab((120, 40))) for _ in range(args.repeat)]
    first = [a for a, _ in opened]
    every = [b for _, b in opened]
    print(f"Runs tab with {len(found)} run folders; {cpu()}; Python {platform.python_version()}")
    print(f"  list_runs (read every folder): median {statistics.median(listing) * 1000:.0f} ms, "
          f"max {max(listing) * 1000:.0f} ms")  # fmt: skip
    print(f"  F5 to the first frame of the list: median {statistics.median(first) * 1000:.0f} ms, "
          f"max {max(first) * 1000:.0f} ms (target 200 ms)")  # fmt: skip
    print(f"  F5 to the frame with all {len(found)} rows in the table: median "
          f"{statistics.median(every) * 1000:.0f} ms, max {max(every) * 1000:.0f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
