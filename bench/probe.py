"""What the key-latency benches share: stamping when a key was handled and painted, sending
keys to the driver as a terminal would, percentiles and the report, the common options."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from textual import events


def stamp(app: Any, obj: Any, method: str) -> None:
    """Wrap ``obj.method`` so each call stamps ``app.handled`` and, after the next screen
    update, ``app.painted``."""
    original = getattr(obj, method)

    def stamped(*args: Any) -> None:
        app.handled.append(time.perf_counter())
        original(*args)
        app.call_after_refresh(lambda: app.painted.append(time.perf_counter()))

    setattr(obj, method, stamped)


async def send(app: Any, key: str, char: str | None, every: float) -> tuple | None:
    """One key to the driver; its (sent, handled, painted) once painted (2 s at most)."""
    n = len(app.handled)
    sent = time.perf_counter()
    message = events.Key(key, char)
    message.set_sender(app)
    app._driver.send_message(message)
    await asyncio.sleep(every)
    while len(app.painted) <= n and time.perf_counter() - sent < 2:
        await asyncio.sleep(0.005)
    return (sent, app.handled[n], app.painted[n]) if len(app.painted) > n else None


async def send_many(
    app: Any, key: str, char: str | None, count: int, every: float, going: Callable[[], bool],
    before: Callable[[int], None] | None = None,
) -> list[tuple]:  # fmt: skip
    """``count`` keys while ``going()``; ``before(i)`` runs ahead of each (to reset a field)."""
    out = []
    for i in range(count):
        if not going():
            break
        if before is not None:
            before(i)
        triple = await send(app, key, char, every)
        if triple is not None:
            out.append(triple)
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def report(name: str, triples: list[tuple]) -> None:
    handled = [(h - s) * 1000 for s, h, _ in triples]
    painted = [(p - s) * 1000 for s, _, p in triples]
    for what, vals in (("key -> handled", handled), ("key -> painted", painted)):
        if vals:
            print(
                f"{name:<17} {what}: n={len(vals)} p50 {statistics.median(vals):.1f} ms  "
                f"p95 {pct(vals, 0.95):.1f} ms  max {max(vals):.1f} ms"
            )


def options(doc: str, add: Callable[[argparse.ArgumentParser], None]) -> argparse.Namespace:
    """The bench's options (``add`` adds its own), with torch threads and a scratch runs dir."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    add(parser)
    parser.add_argument("--every", type=float, default=0.1, help="seconds between keys")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default cores-1)")
    args = parser.parse_args()
    if args.threads:
        os.environ["ADVTUI_TORCH_THREADS"] = str(args.threads)
    os.environ.setdefault("ADVTUI_RUNS", "/tmp/advtui-bench-runs")
    return args


def threads_line(app: Any) -> str:
    threads = os.environ.get("ADVTUI_TORCH_THREADS", "auto (cores - 1)")
    return f"device {app.engine_device}; torch threads {threads}"
