"""Key latency while a sweep runs: how long the app takes to answer a key press.

Runs the real app headless (``App.run_test``), starts a sweep from the keyboard on the built-in
sample, and while it runs sends a key every ``--every`` seconds straight to the driver (as a
terminal would). Each key is bound to an action that stamps the time it ran and asks for a
refresh; the latency is key sent -> action ran (``handled``) and key sent -> the next screen
update after it (``painted``). Prints p50 / p95 / max for both, and the sweep's throughput.

    python bench/ui_latency.py [--n 200] [--batch 100] [--keys 60] [--threads N]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from probe import options, report, send_many, stamp, threads_line  # noqa: E402

from tui.app import AdvTUI  # noqa: E402
from tui.widgets.preview import SamplePreview  # noqa: E402


class ProbeApp(AdvTUI):
    """The real app; the sample preview's down key also stamps when it ran and when it showed."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.handled: list[float] = []
        self.painted: list[float] = []

    def on_mount(self) -> None:
        stamp(self, self.query_one(SamplePreview), "action_sample")


async def measure(args) -> None:
    app = ProbeApp(device="cpu")
    async with app.run_test(size=(120, 40)) as pilot:
        while app.engine_device is None:
            await pilot.pause(0.05)
        pane = app.query_one("AttackLab")
        pane.form.set_text("n", str(args.n))
        pane.form.set_text("batch", str(args.batch))
        await pilot.press("ctrl+r")
        while pane.status.state not in ("running",):
            await pilot.pause(0.05)
        while not pane.preview.sets:  # something to browse
            await pilot.pause(0.05)
        pane.preview.focus()
        await pilot.pause()
        triples = await send_many(app, "down", None, args.keys, args.every, lambda: pane.running)
        while pane.running:
            await pilot.pause(0.1)
        await pilot.pause(0.3)
    result = pane.state.result
    total = sum(p.n for p in result.points) if result else 0
    print(threads_line(app))
    print(
        f"sweep: {len(result.points) if result else 0} points, {total} attacked images "
        f"in {result.seconds:.1f} s ({total / max(result.seconds, 1e-9):.0f} img/s)"
    )
    report("sample preview", triples)


def main() -> None:
    def add(parser) -> None:
        parser.add_argument("--n", type=int, default=200)
        parser.add_argument("--batch", type=int, default=100)
        parser.add_argument("--keys", type=int, default=300)

    asyncio.run(measure(options(__doc__, add)))


if __name__ == "__main__":
    main()
