"""Show engine events on a plain terminal: a Rich progress bar and log lines.

Headless subcommands pass :class:`ConsoleEvents` as the job's ``emit``; the same events feed the
app's widgets, so the CLI and the app report a job the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from engine.errors import UsageError
from engine.jobs import CancelToken, Log, Metric
from engine.jobs import Progress as ProgressEvent
from tui.options import cli_error

console = Console(stderr=True)
CANCELLING = b"\ncancelling: the job stops after this batch (again: abort)\n"


class ConsoleEvents:
    """An ``emit`` callable that drives a Rich progress bar; use as a context manager.

    ``extra`` maps job-specific event types (a sweep point, an epoch) to handlers; the latest
    ``loss`` metric shows beside the description.
    """

    def __init__(self, description: str, extra: dict[type, Any] | None = None) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task(description, total=None, rate="")
        self.description = description
        self.extra = extra or {}

        self.started = False

    def __enter__(self) -> ConsoleEvents:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            self.progress.stop()

    def __call__(self, event: Any) -> None:
        if isinstance(event, ProgressEvent):
            if not self.started:  # start lazily: a job that fails at once prints one line
                self.progress.start()
                self.started = True
            self.progress.update(
                self.task,
                total=event.total,
                completed=event.done,
                rate=f"{event.rate:,.0f} {event.unit}/s",
            )
        elif isinstance(event, Log):
            style = {"warning": "yellow", "error": "red"}.get(event.level, "dim")
            self.progress.console.print(f"[{style}]{event.message}[/]")
        elif isinstance(event, Metric) and event.name == "loss":
            text = f"{self.description} loss {event.value:.3f}"
            self.progress.update(self.task, description=text)
        else:
            handler = self.extra.get(type(event))
            if handler:
                handler(event)


def run_in_console(
    job: Callable[..., Any], config: Any, description: str, extra: dict[type, Any] | None = None
) -> Any:
    """Run ``job(config, emit, cancel)`` with a progress bar; return its result.

    The first Ctrl-C (or SIGTERM) cancels: the job stops at its next batch and returns what it
    finished, with ``cancelled`` set. A second one aborts at once. Engine messages come back
    with the CLI's flags in place of config field names."""
    cancel = CancelToken()

    def on_signal(signum: int, _frame: Any) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel(f"interrupted ({signal.Signals(signum).name})")
        # straight to the file descriptor: Rich's buffer is not safe to re-enter from a
        # signal handler that interrupted one of its own writes (the line was lost then)
        with contextlib.suppress(OSError, ValueError):
            os.write(sys.stderr.fileno(), CANCELLING)

    caught = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, on_signal) for s in caught}
    try:
        with ConsoleEvents(description, extra) as events:
            return job(config, events, cancel)
    except UsageError as exc:
        raise cli_error(exc, type(config)) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def measure_width(renderable: RenderableType) -> int:
    """The columns ``renderable`` needs to print without wrapping or cropping."""
    options = console.options.update(width=10_000)
    return Measurement.get(console, options, renderable).maximum


def print_table(table: RenderableType) -> None:
    """On a terminal, as wide as it is; a pipe or a log file gets the whole table, never one
    cropped to 80 columns."""
    if console.is_terminal:
        console.print(table)
    else:
        Console(stderr=True, width=max(console.width, measure_width(table))).print(table)
