"""Every message the app passes around, as tiny dataclasses (Posting's ``messages.py`` shape).

The bridge turns engine events into the ``Job*`` messages on the app thread; panes handle them
with ``on_job_progress`` and friends. Engine objects (a ``SweepPoint``, a ``PreviewSet``) ride
inside :class:`JobEvent` unchanged, so a new job type needs no new message here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class EngineReady(Message):
    """The engine (torch and the vision modules) finished loading in the background.

    ``extras`` holds, by pane id, what each pane's ``load_engine()`` returned."""

    device: str
    seconds: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class EngineFailed(Message):
    """The engine could not load (bad ``--device``, broken install): say why, keep the UI."""

    title: str
    message: str


@dataclass
class JobProgress(Message):
    """Latest progress of a job; the bridge coalesces bursts into one of these per tick."""

    job: str
    done: int
    total: int
    rate: float
    unit: str
    eta: float | None


@dataclass
class JobLog(Message):
    """A line for the log pane (``level``: info, warning or error)."""

    job: str
    message: str
    level: str = "info"


@dataclass
class JobMetric(Message):
    """A named scalar at a step (training loss, test accuracy)."""

    job: str
    name: str
    step: float
    value: float


@dataclass
class JobEvent(Message):
    """Any job-specific engine event (sweep start, a finished point, preview samples)."""

    job: str
    event: Any


@dataclass
class JobFinished(Message):
    """The job returned; ``result`` is what it returned (partial when ``cancelled``)."""

    job: str
    cancelled: bool
    seconds: float
    run_dir: str | None
    result: Any = None


@dataclass
class JobFailed(Message):
    """The job raised. ``title`` and ``message`` are one line each, ready for a notification."""

    job: str
    title: str
    message: str
    error: BaseException | None = None


@dataclass
class ModelSource(Message):
    """A model the Words console can answer from, offered by the pane that trained it (this
    message bubbles up to the app, which hands every pane a :class:`UseModel`).

    ``get`` runs on a worker thread; a ``live`` source (a model in training) is asked again
    for every query, the others once. ``config`` is the training config, when known."""

    label: str
    get: Callable[[], Any]
    live: bool = False
    config: Any = None


@dataclass
class UseModel(Message, bubble=False):
    """The app to each pane: answer from ``source`` from now on (panes that answer queries)."""

    source: ModelSource


@dataclass
class OpenRun(Message):
    """The Runs tab asks for a run folder to be shown in the pane that made it (this bubbles
    to the app, which hands the pane whose ``kinds`` hold ``kind`` a :class:`ShowRun`)."""

    path: str
    kind: str
    name: str


@dataclass
class ShowRun(Message, bubble=False):
    """The app to a pane: show this run folder's curves, table and samples."""

    path: str
    kind: str
    name: str


@dataclass
class RunsChanged(Message, bubble=False):
    """The app to the Runs tab: a job ended, so a run folder was written or changed."""
