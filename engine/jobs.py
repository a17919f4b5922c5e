"""The job contract every long computation follows: events, cancel token, device, seeding.

A job is a plain function ``job(config, emit, cancel) -> result``. It reports through ``emit``
(called from the worker thread, so the UI must marshal to its own thread) with the small frozen
event dataclasses below, checks ``cancel`` between batches and, when cancelled, returns what it
finished. Nothing here imports a UI toolkit: the CLI, the Textual app and notebooks share it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import UsageError

if TYPE_CHECKING:  # torch is imported lazily so UIs can use the events before it loads
    import torch

# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` units (images, words, batches) at ``rate`` units per second."""

    job: str
    done: int
    total: int
    rate: float
    unit: str = "items"

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate, or None while the rate is unknown."""
        if self.rate <= 0:
            return None
        return max(self.total - self.done, 0) / self.rate


@dataclass(frozen=True)
class Log:
    """A line for the user: what the job is doing, or a warning."""

    message: str
    level: str = "info"


@dataclass(frozen=True)
class Metric:
    """A named scalar at a step (an epoch's accuracy, a window's loss)."""

    name: str
    step: float
    value: float


@dataclass(frozen=True)
class Finished:
    """The job ended; ``cancelled`` says whether it stopped early. ``run_dir`` may be None."""

    job: str
    cancelled: bool
    seconds: float
    run_dir: str | None = None


Event = Any  # any frozen dataclass above, or a job-specific one (SweepPoint, Samples, ...)
Emit = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """An ``emit`` for callers who do not want events."""


# --------------------------------------------------------------------------- cancel


class Cancelled(Exception):
    """Raised inside a job when it should stop at once; jobs catch it and return partials."""


class CancelToken:
    """Thread-safe flag a UI sets and a job polls between batches."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if cancellation was asked for."""
        if self._event.is_set():
            raise Cancelled


class PauseToken:
    """Thread-safe pause switch: a job calls :meth:`wait` between batches and blocks while paused.

    ``wait`` wakes up on resume or on cancel (it raises :class:`Cancelled` then), so a paused job
    can always be cancelled and the app can always quit.
    """

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait(self, cancel: CancelToken | None = None, poll: float = 0.1) -> float:
        """Block while paused; return the seconds spent waiting (so rates can exclude them)."""
        if self._running.is_set():
            return 0.0
        start = time.perf_counter()
        while not self._running.wait(poll):
            if cancel is not None:
                cancel.check()
        if cancel is not None:
            cancel.check()
        return time.perf_counter() - start


# --------------------------------------------------------------------------- rate meter


@dataclass
class RateMeter:
    """Counts units and emits throttled :class:`Progress` events (at most every ``every`` s)."""

    job: str
    total: int
    emit: Emit
    unit: str = "items"
    every: float = 0.2
    done: int = 0
    _start: float = field(default_factory=time.perf_counter)
    _last: float = 0.0

    def add(self, n: int, force: bool = False) -> None:
        self.done += n
        now = time.perf_counter()
        if force or now - self._last >= self.every or self.done >= self.total:
            self._last = now
            self.emit(Progress(self.job, self.done, self.total, self.rate, self.unit))

    def exclude(self, seconds: float) -> None:
        """Leave ``seconds`` (a pause) out of the rate and the elapsed time."""
        self._start += seconds

    @property
    def rate(self) -> float:
        elapsed = time.perf_counter() - self._start
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start


# --------------------------------------------------------------------------- device, seed

DEVICES = ("auto", "cpu", "cuda", "mps")


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; an explicit device that is absent is an error."""
    import torch

    if name not in DEVICES and not name.startswith("cuda:"):
        raise UsageError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("device 'cuda' asked for but CUDA is not available here; use --device cpu")
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise UsageError("device 'mps' asked for but MPS is not available here; use --device cpu")
    return torch.device(name)


def device_label(device: torch.device) -> str:
    """A short human name for the device: the GPU's name, or 'CPU (N threads)'."""
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python and torch globally; return a CPU generator for job-local randomness."""
    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen
