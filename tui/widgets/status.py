"""A job's progress on one line: a bar, done/total, units per second and the ETA."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label, ProgressBar

from tui import format as fmt


class JobStatus(Horizontal):
    """Shows the latest ``JobProgress`` and a short state word (idle, running, done...)."""

    state: reactive[str] = reactive("idle", init=False)

    def compose(self) -> ComposeResult:
        yield Label("idle", classes="job-state")
        yield ProgressBar(total=1, show_eta=False, classes="job-bar")
        yield Label("", classes="job-rate")

    def watch_state(self, state: str) -> None:
        self.query_one(".job-state", Label).update(state, layout=False)

    def start(self, what: str) -> None:
        self.state = what
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one(".job-rate", Label).update("")

    def progress(self, msg: Any) -> None:
        self.query_one(ProgressBar).update(total=max(msg.total, 1), progress=msg.done)
        self.query_one(".job-rate", Label).update(
            f"{msg.done}/{msg.total}  {fmt.rate(msg.rate, msg.unit)}  {fmt.eta(msg.eta)}",
            layout=False,  # fixed-size labels: a progress tick must not re-run the layout
        )

    def finish(self, state: str, seconds: float | None = None) -> None:
        self.state = state
        bar = self.query_one(ProgressBar)
        if bar.total is None:
            bar.update(total=1, progress=0)
        if seconds is not None:
            self.query_one(".job-rate", Label).update(f"in {fmt.seconds(seconds)}", layout=False)
