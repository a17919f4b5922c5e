"""Key latency while SGNS trains: how long the app takes to answer a key press.

Runs the real app headless (``App.run_test``), starts sgns on the built-in corpus from the
Embeddings pane (enough epochs to train through the whole measurement) and, while it trains,
types letters every ``--every`` seconds straight to the driver (as a terminal would): first
into the Words console's query line, then into a field of the Embeddings form while the loss
curve redraws beside it. Each letter stamps when the input inserted it (``handled``) and the
next screen update after that (``painted``). Prints p50 / p95 / max for both, per tab, and
the training throughput.

    python bench/ui_latency_words.py [--keys 150] [--every 0.1] [--epochs 100] [--threads N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from probe import options, report, send_many, stamp, threads_line  # noqa: E402
from textual.widgets import Input  # noqa: E402

from tui.app import AdvTUI  # noqa: E402


class ProbeApp(AdvTUI):
    """The real app; every input's letters also stamp when they were inserted and shown."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.handled: list[float] = []
        self.painted: list[float] = []

    def on_mount(self) -> None:
        for field in self.query(Input):
            stamp(self, field, "insert_text_at_cursor")


async def type_keys(app: ProbeApp, field: Input, args, running) -> list:
    """Send ``args.keys`` letters to ``field``, clearing it every 20 as a user would."""
    field.focus()
    await asyncio.sleep(0.2)

    def clear(i: int) -> None:
        if i % 20 == 0:
            field.value = ""

    return await send_many(app, "a", "a", args.keys, args.every, running, clear)


async def measure(args) -> None:
    app = ProbeApp(device="cpu")
    async with app.run_test(size=(120, 40)) as pilot:
        while app.engine_device is None:
            await pilot.pause(0.05)
        await pilot.press("f3")
        await pilot.pause()
        pane = app.query_one("EmbeddingsPane")
        form = pane.form
        form.query_one("#model").value = "sgns"
        await pilot.pause()
        form.set_text("corpus", "builtin")
        form.set_text("epochs", str(args.epochs))
        await pilot.press("ctrl+r")
        while pane.status.state != "running" or not pane.loss_plot.series.get("sgns"):
            if not pane.running and pane.status.state == "failed":
                raise SystemExit("training failed: " + pane.log_pane.plain[-1])
            await pilot.pause(0.05)
        await pilot.press("f4")
        await pilot.pause(0.3)
        words = app.query_one("WordsPane")
        console = await type_keys(app, words.input, args, lambda: pane.running)
        await pilot.press("f3")
        await pilot.pause(0.3)
        form_keys = await type_keys(app, form.query_one("#seed"), args, lambda: pane.running)
        form.set_text("seed", "0")
        still_training = pane.running
        if pane.running:
            await pilot.press("escape")
        while pane.running:
            await pilot.pause(0.1)
        await pilot.pause(0.3)
    run = pane.runs[-1]
    print(threads_line(app))
    rates = [e.words_per_s for e in run.epochs]
    print(
        f"sgns on builtin: {len(run.epochs)} epoch(s) done, "
        f"{statistics.median(rates) if rates else 0:,.0f} words/s (median epoch); trained "
        f"through the whole measurement: {still_training}"
    )
    report("Words console", console)
    report("Embeddings form", form_keys)
    report("both", console + form_keys)


def main() -> None:
    def add(parser) -> None:
        parser.add_argument("--keys", type=int, default=150, help="letters per tab")
        parser.add_argument("--epochs", type=int, default=100)

    asyncio.run(measure(options(__doc__, add)))


if __name__ == "__main__":
    main()
