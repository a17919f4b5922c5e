"""What every pane that runs one engine job at a time shares: reading its form into a config,
starting the job (``engine.catalog``) on a worker thread with a cancel and a pause token,
pause/resume, cancel, the status line, the log, the error display and the form toggle.

Textual calls a message handler of every class in the MRO, so a subclass must not define the
handlers this base defines (``on_job_progress``, ``on_job_log``); it narrows them with
``PROGRESS_JOBS`` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import work
from textual.binding import Binding
from textual.containers import Horizontal

from engine.catalog import JOBS
from engine.errors import EngineError, UsageError
from engine.fields import FieldError, check_text, render_mentions
from engine.jobs import CancelToken, PauseToken
from tui import messages as m
from tui.bridge import Bridge, run_job
from tui.widgets.config_form import ConfigForm
from tui.widgets.log import LogPane
from tui.widgets.status import JobStatus


class JobPane(Horizontal):
    """A form, a job's status and log; subclasses name ``JOB``, ``status`` and ``form``."""

    JOB = ""  # the engine.catalog name of the job this pane runs
    BINDINGS = [
        Binding("ctrl+r", "run", "Run"),
        Binding("ctrl+o", "pause", "Pause/resume"),
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+b", "toggle_form", "Form"),
    ]
    PROGRESS_JOBS: tuple[str, ...] = ()  # the job names whose progress moves the status; () = all
    IDLE_MESSAGE = "nothing is running"
    CANCELLING_MESSAGE = "cancelling: the job stops after the current batch"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token: CancelToken | None = None
        self.pause_token: PauseToken | None = None

    @property
    def status(self) -> JobStatus:
        raise NotImplementedError

    @property
    def form(self) -> ConfigForm:
        raise NotImplementedError

    @property
    def log_pane(self) -> LogPane:
        return self.query_one(LogPane)

    @property
    def running(self) -> bool:
        return self.token is not None

    # ------------------------------------------------------------------ starting

    def read_form(self, **values: Any) -> Any:
        """The form as a validated config (device from the app), or None after showing why."""
        if getattr(self.app, "engine_device", None) is None:
            self.notify("the engine is still loading; try again in a moment", severity="warning")
            return None
        try:
            self.fill_resumed()
            return self.form.config(device=self.app.device_name, **values)
        except EngineError as exc:
            self.show_error(exc.title, str(exc))
            return None

    def fill_resumed(self) -> None:
        """With a run folder in the ``resume`` field: its settings go into the form first (they
        are what the resumed run continues; only device-like settings may change)."""
        if not any(s.name == "resume" for s in self.form.specs):
            return
        from engine.runs import saved_config

        try:
            path = check_text(self.form.CONFIG, "resume", self.form.text("resume"))
        except FieldError as exc:
            self.form.show_error("resume", exc.reason)
            raise UsageError(f"{self.form.label_of('resume')} {exc.reason}") from None
        if not path:
            return
        folder = Path(path).expanduser()
        folder = folder if folder.is_dir() else folder.parent
        if not (folder / "config.json").is_file() and Path(path).is_file():
            return  # a bare checkpoint file: the engine checks it against the form
        self.form.fill_from(saved_config(self.form.CONFIG, path, self.JOB))
        self.log_pane.add(f"resuming {folder.name}: the form shows its settings")

    def start_job(self, config: Any, transform: Callable[[Any], Any] | None = None) -> None:
        """Run this pane's job on ``config`` in a worker; quitting the app cancels it."""
        self.token, self.pause_token = CancelToken(), PauseToken()
        self.app.cancel_tokens.add(self.token)
        self.status.start("starting")
        self._run(config, self.token, self.pause_token, transform)

    @work(thread=True, group="job", exit_on_error=False)
    def _run(self, config: Any, token: CancelToken, pause: PauseToken, transform: Any) -> None:
        job = JOBS[self.JOB].run()
        bridge = Bridge(self, self.JOB, transform=transform)
        run_job(bridge, lambda emit: job(config, emit, token, pause))

    def release(self) -> None:
        """The job's worker has ended (finished or failed): a new one may start."""
        if self.token is not None:
            self.app.cancel_tokens.discard(self.token)
        self.token = self.pause_token = None

    def on_unmount(self) -> None:
        """Leaving for any reason (quit, a test failing): the job stops at its next batch."""
        if self.token is not None:
            self.token.cancel()

    # ------------------------------------------------------------------ control

    def action_run(self) -> None:
        """Read the form and start the job (each pane says what else to prepare)."""
        raise NotImplementedError

    def action_pause(self) -> None:
        self.toggle_pause()

    def action_cancel(self) -> None:
        self.cancel_job()

    def cancel_job(self) -> None:
        if self.token is None:
            self.notify(self.IDLE_MESSAGE)
            return
        self.token.cancel()
        self.status.state = "cancelling"
        self.log_pane.add(self.CANCELLING_MESSAGE, "warning")

    def toggle_pause(self) -> None:
        if self.pause_token is None:
            self.notify(self.IDLE_MESSAGE)
            return
        if self.pause_token.paused:
            self.pause_token.resume()
            self.status.state = "running"
            self.log_pane.add("resumed")
        else:
            self.pause_token.pause()
            self.status.state = "paused"
            self.log_pane.add("paused: ctrl+o resumes, esc cancels")

    def action_toggle_form(self) -> None:
        self.form.display = not self.form.display

    # ------------------------------------------------------------------ engine messages

    def on_job_progress(self, msg: m.JobProgress) -> None:
        if self.PROGRESS_JOBS and msg.job not in self.PROGRESS_JOBS:
            return
        if self.status.state in ("starting", "loading"):
            self.status.state = "running"
        self.status.progress(msg)

    def on_job_log(self, msg: m.JobLog) -> None:
        self.log_pane.add(msg.message, msg.level)

    def job_failed(self, msg: m.JobFailed) -> None:
        """The job raised: free the pane, and show the engine's message (under its field when
        it names one)."""
        self.release()
        self.status.finish("failed")
        error = msg.error
        labels = {s.name: s.label for s in self.form.specs}
        if isinstance(error, FieldError):
            reason = render_mentions(error.reason, labels)
            self.form.show_error(error.field, reason)
            message = f"{self.form.label_of(error.field)} {reason}"
        else:
            message = render_mentions(msg.message, labels)
        self.show_error(msg.title, message)

    def show_error(self, title: str, message: str) -> None:
        """Every error lands in the log and in a notification; the app carries on."""
        self.log_pane.add(f"{title}: {message}", "error")
        self.notify(message, title=title, severity="error", timeout=8)
