"""Key latency while a sweep runs: how long the app takes to answer a key press.

Runs the real app headless (``App.run_test``), starts a sweep from the keyboard on the built-in
sample, and while it runs sends a key every ``--every`` seconds straight to the driver (as a
terminal would). Each key is bound to an action that stamps the time it ran and asks for a
refresh; the latency is key sent -> action ran (``handled``) and key sent -> the next screen
update after it (``painted``). Prints p50 / p95 / max for both, and the sweep's throughput.

    python bench/ui_latency.py [--n 200] [--batch 100] [--keys 60] [--threads N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events  # noqa: E402

from tui.app import AdvTUI  # noqa: E402
from tui.widgets.preview import SamplePreview  # noqa: E402


class ProbeApp(AdvTUI):
    """The real app; the sample preview's down key also stamps when it ran and when it showed."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sent: list[float] = []
        self.handled: list[float] = []
        self.painted: list[float] = []

    def on_mount(self) -> None:
        preview = self.query_one(SamplePreview)
        original = preview.action_sample

        def stamped(step: int) -> None:
            self.handled.append(time.perf_counter())
            original(step)
            self.call_after_refresh(lambda: self.painted.append(time.perf_counter()))

        preview.action_sample = stamped


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def measure(args: argparse.Namespace) -> None:
    app = ProbeApp(device="cpu")
    async with app.run_test(size=(120, 40)) as pilot:
        while app.engine_device is None:
            await pilot.pause(0.05)
        pane = app.query_one("AttackLab")
        for field, value in (("n", args.n), ("batch", args.batch)):
            pane.form.query_one(f"#{field}").value = str(value)
        await pilot.press("ctrl+r")
        while pane.status.state not in ("running",):
            await pilot.pause(0.05)
        while not pane.preview.sets:  # something to browse
            await pilot.pause(0.05)
        pane.preview.focus()
        await pilot.pause()
        driver = app._driver
        for _ in range(args.keys):
            if not pane.running:
                break
            app.sent.append(time.perf_counter())
            key = events.Key("down", None)
            key.set_sender(app)
            driver.send_message(key)
            await asyncio.sleep(args.every)
        while pane.running:
            await pilot.pause(0.1)
        await pilot.pause(0.3)
    n = min(len(app.sent), len(app.handled), len(app.painted))
    handled = [(app.handled[i] - app.sent[i]) * 1000 for i in range(n)]
    painted = [(app.painted[i] - app.sent[i]) * 1000 for i in range(n)]
    result = pane.state.result
    total = sum(p.n for p in result.points) if result else 0
    threads = os.environ.get("ADVTUI_TORCH_THREADS", "auto (cores - 1)")
    print(f"device {app.engine_device}; torch threads {threads}")
    print(
        f"sweep: {len(result.points) if result else 0} points, {total} attacked images "
        f"in {result.seconds:.1f} s ({total / max(result.seconds, 1e-9):.0f} img/s)"
    )
    for name, vals in (("key -> handled", handled), ("key -> painted", painted)):
        print(
            f"{name}: n={len(vals)} p50 {statistics.median(vals):.1f} ms  "
            f"p95 {pct(vals, 0.95):.1f} ms  max {max(vals):.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--keys", type=int, default=300)
    parser.add_argument("--every", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default cores-1)")
    args = parser.parse_args()
    if args.threads:
        os.environ["ADVTUI_TORCH_THREADS"] = str(args.threads)
    os.environ.setdefault("ADVTUI_RUNS", "/tmp/advtui-bench-runs")
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
