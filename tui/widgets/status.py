"""A job's progress on one line: state, a bar, done/total, units per second and the ETA.

Every part has a fixed width and redraws without a layout pass: progress ticks arrive up to
ten times a second while a job runs, and a layout of the whole screen per tick would cost the
keyboard its quick answers.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.progress_bar import ProgressBar
from rich.table import Table
from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Label

from tui import format as fmt


class Meter(Widget):
    """A bar and a percentage; ``fraction`` None means 'working, amount unknown'."""

    fraction: reactive[float | None] = reactive(0.0, layout=False)

    def render(self) -> RenderResult:
        width = max(self.size.width - 5, 4)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=width)
        grid.add_column(width=4, justify="right")
        if self.fraction is None:
            grid.add_row(ProgressBar(total=None, width=width, pulse=False), "")
        else:
            done = min(max(self.fraction, 0.0), 1.0)
            grid.add_row(ProgressBar(total=1.0, completed=done, width=width), f"{done:.0%}")
        return Group(grid)


class JobStatus(Horizontal):
    """Shows the latest ``JobProgress`` and a short state word (idle, running, done...)."""

    state: reactive[str] = reactive("idle", init=False)

    def compose(self) -> ComposeResult:
        yield Label("idle", classes="job-state")
        yield Meter(classes="job-bar")
        yield Label("", classes="job-rate")

    @property
    def meter(self) -> Meter:
        return self.query_one(Meter)

    def _rate(self, text: str) -> None:
        self.query_one(".job-rate", Label).update(text, layout=False)

    def watch_state(self, state: str) -> None:
        self.query_one(".job-state", Label).update(state, layout=False)

    def start(self, what: str) -> None:
        self.state = what
        self.meter.fraction = None
        self._rate("")

    def progress(self, msg: Any) -> None:
        self.meter.fraction = msg.done / msg.total if msg.total else 0.0
        self._rate(f"{msg.done}/{msg.total}  {fmt.rate(msg.rate, msg.unit)}  {fmt.eta(msg.eta)}")

    def finish(self, state: str, seconds: float | None = None) -> None:
        self.state = state
        if self.meter.fraction is None:
            self.meter.fraction = 0.0
        if seconds is not None:
            self._rate(f"in {fmt.seconds(seconds)}")
