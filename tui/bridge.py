"""Engine events -> Textual messages, from the worker thread to the app thread, throttled.

A job calls its ``emit`` on the worker thread; :class:`Bridge` is that ``emit``. It turns each
engine event into a message from :mod:`tui.messages` and posts it to a widget with
``post_message`` (thread-safe, non-blocking: the job never waits for the UI). ``Progress``
events are coalesced: at most one per ``interval`` seconds reaches the UI, the latest one wins,
and a held-back one is flushed before any other event and at the end, so bursts cannot flood
the message queue while the bar never ends stale.

:func:`run_job` runs a job function inside a worker with its bridge: it posts ``JobFinished``
with the job's return value, or ``JobFailed`` with a one-line title and message when it raises.
Nothing here imports torch at import time (the engine's event types are torch-free).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from textual.message_pump import MessagePump

from engine.jobs import Finished, Log, Metric, Progress, Result
from tui import messages as m


class Bridge:
    """An engine ``emit`` that posts messages to ``target``; call it from any thread."""

    def __init__(
        self,
        target: MessagePump,
        job: str,
        interval: float = 0.1,
        transform: Callable[[Any], Any] | None = None,
    ) -> None:
        self.target = target
        self.job = job
        self.interval = interval
        self.transform = transform
        self.posted = 0
        self.coalesced = 0
        self._lock = threading.Lock()
        self._pending: Any = None
        self._last = 0.0

    def __call__(self, event: Any) -> None:
        if isinstance(event, Progress):
            self._progress(event)
            return
        self.flush()
        match event:
            case Log():
                self._post(m.JobLog(self.job, event.message, event.level))
            case Metric():
                self._post(m.JobMetric(self.job, event.name, event.step, event.value))
            case Finished():
                pass  # the job's return value says the same, and more (see finish)
            case _:
                if self.transform is not None:
                    event = self.transform(event)
                self._post(m.JobEvent(self.job, event))

    def _progress(self, event: Any) -> None:
        now = time.monotonic()
        with self._lock:
            due = now - self._last >= self.interval or event.done >= event.total
            if not due:
                if self._pending is not None:
                    self.coalesced += 1
                self._pending = event
                return
            self._pending = None
            self._last = now
        self._post_progress(event)

    def flush(self) -> None:
        """Post the held-back progress event, if any."""
        with self._lock:
            event, self._pending = self._pending, None
            if event is not None:
                self._last = time.monotonic()
        if event is not None:
            self._post_progress(event)

    def _post_progress(self, e: Any) -> None:
        self._post(m.JobProgress(self.job, e.done, e.total, e.rate, e.unit, e.eta))

    def _post(self, message: Any) -> None:
        self.posted += 1
        self.target.post_message(message)

    # ------------------------------------------------------------------ end of a job

    def finish(self, result: Any) -> None:
        """The job returned: a job's :class:`Result`, or a plain value (a query's answer)."""
        self.flush()
        if isinstance(result, Result):
            done = m.JobFinished(self.job, result.cancelled, result.seconds, result.run_dir, result)
        else:
            done = m.JobFinished(self.job, False, 0.0, None, result)
        self._post(done)

    def fail(self, error: BaseException) -> None:
        self.flush()
        title, message = describe_error(error)
        self._post(m.JobFailed(self.job, title, message, error))


def describe_error(error: BaseException) -> tuple[str, str]:
    """A title and a one-line message: the engine's own for EngineError, the type otherwise."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    title = getattr(error, "title", None)
    if isinstance(title, str) and title:
        return title, text or error.__class__.__name__
    return "Unexpected error", f"{error.__class__.__name__}: {text}".rstrip(": ")


def job_nice() -> int:
    """How much to lower a job thread's CPU priority (``ADVTUI_JOB_NICE``, default 5)."""
    value = os.environ.get("ADVTUI_JOB_NICE", "5")
    return int(value) if value.lstrip("-").isdigit() else 5


def lower_priority(nice: int) -> None:
    """Make this thread yield the CPU to the UI thread when they compete (Linux: per thread)."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(19, nice))
    except OSError:
        pass


def run_job(bridge: Bridge, job: Callable[[Bridge], Any]) -> Any:
    """Run ``job(emit)`` on this (worker) thread, at a lower CPU priority than the UI so keys
    stay quick while it computes; report its end through ``bridge``."""
    lower_priority(job_nice())
    try:
        result = job(bridge)
    except Exception as exc:  # the app never dies on an engine error: it shows it
        bridge.fail(exc)
        return None
    bridge.finish(result)
    return result
