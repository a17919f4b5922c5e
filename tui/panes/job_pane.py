"""What every pane that runs one engine job at a time shares: its cancel token, the status line,
the log, the error display and the form toggle.

Textual calls a message handler of every class in the MRO, so a subclass must not define the
handlers this base defines (``on_job_progress``, ``on_job_log``); it narrows them with
``PROGRESS_JOBS`` instead.
"""

from __future__ import annotations

from typing import Any

from textual.containers import Horizontal

from tui import messages as m
from tui.widgets.log import LogPane
from tui.widgets.status import JobStatus


class JobPane(Horizontal):
    """A form on the left, a job's status/log on the right; subclasses name ``status``/``form``."""

    PROGRESS_JOBS: tuple[str, ...] = ()  # the job names whose progress moves the status; () = all
    IDLE_MESSAGE = "nothing is running"
    CANCELLING_MESSAGE = "cancelling: the job stops after the current batch"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token: Any = None  # the running job's CancelToken

    @property
    def status(self) -> JobStatus:
        raise NotImplementedError

    @property
    def form(self) -> Any:
        raise NotImplementedError

    @property
    def log_pane(self) -> LogPane:
        return self.query_one(LogPane)

    @property
    def running(self) -> bool:
        return self.token is not None

    def start_token(self) -> Any:
        """A fresh cancel token, registered with the app so quitting cancels the job."""
        from engine.jobs import CancelToken  # torch-free

        self.token = CancelToken()
        self.app.cancel_tokens.add(self.token)
        return self.token

    def _release(self) -> None:
        """The job's worker has ended (finished or failed): a new one may start."""
        if self.token is not None:
            self.app.cancel_tokens.discard(self.token)
            self.token = None

    def cancel_job(self) -> None:
        if not self.running:
            self.notify(self.IDLE_MESSAGE)
            return
        self.token.cancel()
        self.status.state = "cancelling"
        self.log_pane.add(self.CANCELLING_MESSAGE, "warning")

    def action_toggle_form(self) -> None:
        self.form.display = not self.form.display

    def on_job_progress(self, msg: m.JobProgress) -> None:
        if self.PROGRESS_JOBS and msg.job not in self.PROGRESS_JOBS:
            return
        if self.status.state in ("starting", "loading"):
            self.status.state = "running"
        self.status.progress(msg)

    def on_job_log(self, msg: m.JobLog) -> None:
        self.log_pane.add(msg.message, msg.level)

    def show_error(self, title: str, message: str) -> None:
        """Every error lands in the log and in a notification; the app carries on."""
        self.log_pane.add(f"{title}: {message}", "error")
        self.notify(message, title=title, severity="error", timeout=8)
