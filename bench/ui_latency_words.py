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

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events  # noqa: E402
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
            self._stamp(field)

    def _stamp(self, field: Input) -> None:
        original = field.insert_text_at_cursor

        def stamped(text: str) -> None:
            self.handled.append(time.perf_counter())
            original(text)
            self.call_after_refresh(lambda: self.painted.append(time.perf_counter()))

        field.insert_text_at_cursor = stamped


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def type_keys(app: ProbeApp, field: Input, args: argparse.Namespace, running) -> list:
    """Send ``args.keys`` letters to the focused ``field``; (sent, handled, painted) triples."""
    field.focus()
    await asyncio.sleep(0.2)
    driver = app._driver
    out = []
    for i in range(args.keys):
        if not running():
            break
        if i % 20 == 0:
            field.value = ""  # keep the line short, as a user would
            await asyncio.sleep(args.every)
        n = len(app.handled)
        sent = time.perf_counter()
        key = events.Key("a", "a")
        key.set_sender(app)
        driver.send_message(key)
        await asyncio.sleep(args.every)
        while len(app.painted) <= n and time.perf_counter() - sent < 2:
            await asyncio.sleep(0.005)
        if len(app.painted) > n:
            out.append((sent, app.handled[n], app.painted[n]))
    return out


def report(name: str, triples: list) -> None:
    handled = [(h - s) * 1000 for s, h, _ in triples]
    painted = [(p - s) * 1000 for s, _, p in triples]
    for what, vals in (("key -> handled", handled), ("key -> painted", painted)):
        if vals:
            print(
                f"{name:<17} {what}: n={len(vals)} p50 {statistics.median(vals):.1f} ms  "
                f"p95 {pct(vals, 0.95):.1f} ms  max {max(vals):.1f} ms"
            )


async def measure(args: argparse.Namespace) -> None:
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
        form.field("corpus").value = "builtin"
        form.field("epochs").value = str(args.epochs)
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
        form_keys = await type_keys(app, form.field("seed"), args, lambda: pane.running)
        form.field("seed").value = "0"
        still_training = pane.running
        if pane.running:
            await pilot.press("escape")
        while pane.running:
            await pilot.pause(0.1)
        await pilot.pause(0.3)
    run = pane.runs[-1]
    threads = os.environ.get("ADVTUI_TORCH_THREADS", "auto (cores - 1)")
    print(f"device {app.engine_device}; torch threads {threads}")
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=150, help="letters per tab")
    parser.add_argument("--every", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default cores-1)")
    args = parser.parse_args()
    if args.threads:
        os.environ["ADVTUI_TORCH_THREADS"] = str(args.threads)
    os.environ.setdefault("ADVTUI_RUNS", "/tmp/advtui-bench-runs")
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
