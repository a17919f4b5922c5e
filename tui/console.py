"""Show engine events on a plain terminal: a Rich progress bar and log lines.

Headless subcommands pass :class:`ConsoleEvents` as the job's ``emit``; the same events feed the
app's widgets, so the CLI and the app report a job the same way.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from engine.jobs import Log
from engine.jobs import Progress as ProgressEvent

console = Console(stderr=True)


class ConsoleEvents:
    """An ``emit`` callable that drives a Rich progress bar; use as a context manager.

    ``extra`` maps job-specific event types (a sweep point, an epoch) to handlers.
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
        else:
            handler = self.extra.get(type(event))
            if handler:
                handler(event)
