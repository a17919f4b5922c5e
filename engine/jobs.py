"""The job contract every long computation follows: one call shape, events, cancel and pause.

Every long job (sweep, train a classifier, train word vectors, evaluate them) is a function
``run(config, emit, cancel, pause) -> Result``. It reports through ``emit`` (called from the
worker thread, so a UI marshals to its own thread) with the small frozen event dataclasses
below, calls its :class:`Gate` between batches (which waits while paused and raises
:class:`Cancelled` once cancelled), catches :class:`Cancelled` once at its top, and returns what
it finished. Configs, events and results are torch-free (``engine/*/events.py``), so the UI
imports and matches on them before torch has loaded. :mod:`engine.catalog` names every job.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from engine.errors import EngineError, UsageError, one_line
from engine.fields import between, existing_path, option, path_name, rule, shown

if TYPE_CHECKING:  # torch is imported lazily so UIs can use the events before it loads
    import torch

    from engine.runs import RunRecord

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


ResultT = TypeVar("ResultT", bound="Result", covariant=True)
R = TypeVar("R", bound="Result")


@dataclass(kw_only=True)
class Result:
    """What every job returns: its run folder (None if it never made one), whether it was
    cancelled (then it holds what finished), and its wall time."""

    run_dir: str | None = None
    cancelled: bool = False
    seconds: float = 0.0


# --------------------------------------------------------------------------- cancel


class Cancelled(Exception):
    """Raised inside a job when it should stop at once; jobs catch it and return partials."""


class CancelToken:
    """Thread-safe flag a UI sets and a job polls between batches; ``reason`` says who asked
    (it ends up in the run folder's summary). ``event`` may be a shared ``multiprocessing``
    event, so one cancel reaches every rank of a distributed job."""

    def __init__(self, event: Any = None) -> None:
        self._event = event if event is not None else threading.Event()
        self.reason = ""

    def cancel(self, reason: str = "cancelled by the user") -> None:
        if not self._event.is_set():
            self.reason = reason
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

    def __init__(self, running: Any = None) -> None:
        """``running``: a shared ``multiprocessing`` event (set = running) for many ranks."""
        if running is None:
            running = threading.Event()
            running.set()
        self._running = running

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


class Gate:
    """What a job calls between batches: waits while paused, raises :class:`Cancelled` once
    cancelled. Paused time is left out of ``meter``'s rate and counted in :attr:`paused`."""

    def __init__(
        self,
        cancel: CancelToken | None = None,
        pause: PauseToken | None = None,
        meter: RateMeter | None = None,
    ) -> None:
        self.cancel = cancel or CancelToken()
        self.pause = pause
        self.meter = meter
        self.paused = 0.0

    def __call__(self) -> None:
        if self.pause is not None:
            waited = self.pause.wait(self.cancel)
            if waited:
                self.paused += waited
                if self.meter is not None:
                    self.meter.exclude(waited)
        self.cancel.check()


class Frame:
    """What every job does around its work, written once: validate the config, make the
    :class:`Gate`, keep the clock, turn a cancel into ``result.cancelled`` (the one cancel
    idiom), keep the run folder's status, and emit :class:`Finished` last::

        frame = Frame("sweep", config, emit, cancel, pause)
        result = SweepResult(config=config)
        with frame.stoppable(result, "sweep cancelled; finished points kept"):
            record = frame.open(RunRecord(...))  # status "running", before the first batch
            ...  # frame.gate() between batches
        return frame.finish(result, write_records)  # status "finished" or "cancelled"

    Anything raised inside ``stoppable`` or by ``finish``'s writer marks the run ``failed``
    with the error's one line before it goes on up.
    """

    def __init__(
        self,
        job: str,
        config: Any,
        emit: Emit,
        cancel: CancelToken | None = None,
        pause: PauseToken | None = None,
    ) -> None:
        from engine.fields import validate

        validate(config)
        self.job, self.config, self.emit = job, config, emit
        self.gate = Gate(cancel, pause)
        self.start = time.perf_counter()
        self.record: RunRecord | None = None

    @property
    def cancel(self) -> CancelToken:
        return self.gate.cancel

    def open(self, record: RunRecord, **fields: Any) -> RunRecord:
        """Make ``record`` this job's run folder: its config and the status ``running`` are
        written now, before the first batch."""
        self.record = record
        record.start(self.config, **fields)
        return record

    @contextmanager
    def stoppable(self, result: Result, message: str) -> Iterator[None]:
        """Run the block; a :class:`Cancelled` from it marks ``result`` cancelled and says so,
        any other exception marks the run folder failed and goes on up."""
        try:
            yield
        except Cancelled:
            result.cancelled = True
            self.emit(Log(message, "warning"))
        except BaseException as exc:
            self.fail(exc)
            raise

    def fail(self, error: BaseException) -> None:
        """Write why the job stopped into its run folder (if it has one yet), best effort: a
        full disk may refuse this too, and the error on its way up says so anyway."""
        if self.record is None or self.record.summary.get("status") != "running":
            return
        if isinstance(error, KeyboardInterrupt):
            status, reason = "cancelled", "aborted: interrupted twice; the point in flight is lost"
        else:
            status, reason = "failed", one_line(error)
        try:
            self.record.end(status, reason, seconds=time.perf_counter() - self.start)
        except (EngineError, OSError):
            pass

    def finish(self, result: R, write: Callable[[R], Any] | None = None) -> R:
        """Stamp the wall time, let ``write`` record the result (its return value, a path, is
        the run folder), end the run folder's status, and emit :class:`Finished`."""
        result.seconds = time.perf_counter() - self.start
        try:
            if write is not None:
                result.run_dir = str(write(result))
            if self.record is not None:
                status = "cancelled" if result.cancelled else "finished"
                reason = self.cancel.reason if result.cancelled else None
                self.record.end(status, reason, seconds=result.seconds)
                result.run_dir = str(self.record.path)
        except BaseException as exc:
            self.fail(exc)
            raise
        self.emit(Finished(self.job, result.cancelled, result.seconds, result.run_dir))
        return result


ConfigT = TypeVar("ConfigT", contravariant=True)


class Job(Protocol[ConfigT, ResultT]):
    """The one shape of a long job."""

    def __call__(
        self,
        config: ConfigT,
        emit: Emit = ...,
        cancel: CancelToken | None = ...,
        pause: PauseToken | None = ...,
    ) -> ResultT: ...


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
    _skipped: int = 0

    def add(self, n: int, force: bool = False) -> None:
        self.done += n
        now = time.perf_counter()
        if force or now - self._last >= self.every or self.done >= self.total:
            self._last = now
            self.emit(Progress(self.job, self.done, self.total, self.rate, self.unit))

    def skip(self, n: int) -> None:
        """Count ``n`` units done by an earlier run (a resumed one), left out of the rate."""
        self.done += n
        self._skipped += n

    def exclude(self, seconds: float) -> None:
        """Leave ``seconds`` (a pause) out of the rate and the elapsed time."""
        self._start += seconds

    @property
    def rate(self) -> float:
        elapsed = time.perf_counter() - self._start
        return (self.done - self._skipped) / elapsed if elapsed > 0 else 0.0

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start


# --------------------------------------------------------------------------- device, seed

DEVICES = ("auto", "cpu", "cuda", "mps")
DEVICE_HELP = (
    "auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N, mps, or cuda:0,1,2,3 (one GPU per "
    "process when procs > 1)"
)


def device_option() -> Any:
    """The ``device`` field every job declares (the app sets it from its own --device)."""
    return option("auto", DEVICE_HELP, form=False, check=rule(_device_name, "gpu"))


SEED_MAX = 2**32 - 1  # what every generator in use (torch, numpy) takes


def seed_option() -> Any:
    """The ``seed`` field every job declares: the same seed and device give the same numbers."""
    return option(
        0,
        "random seed: the same seed and device give the same numbers",
        check=between(0, SEED_MAX),
    )


def out_option() -> Any:
    """The ``out`` field: where run folders go (the app uses the default)."""
    return option(
        None,
        "runs folder (default: $ADVTUI_RUNS or the user data dir)",
        form=False,
        check=path_name(),
    )


def resume_option(what: str) -> Any:
    """The ``resume`` field: continue an earlier run folder of this job (``what`` it keeps)."""
    return option(
        None,
        f"continue this run folder: {what} (its settings are the defaults)",
        placeholder="run folder to continue",
        check=existing_path(),
    )


def _device_name(name: str) -> str | None:
    ids = name[5:].split(",") if name.startswith("cuda:") else []
    if name in DEVICES or (ids and all(i.isdigit() for i in ids)):
        return None
    return f"must be one of {', '.join(DEVICES)}, cuda:N or cuda:N,M,..., got {shown(name)}"


def procs_option() -> Any:
    """The ``procs`` field of the jobs that run over several processes (engine.distributed)."""
    return option(
        1,
        "processes on this machine (torch.distributed ranks: gloo on CPU, one GPU each with "
        "cuda); under torchrun the group it starts instead",
        check=between(1, 256),
    )


def rank_device(name: str) -> str:
    """The device of this process: a list ``cuda:0,1,2,3`` gives its entry for the local rank
    (round robin), and ``auto``/``cuda`` in a group of several the GPU of the local rank."""
    import os

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if name.startswith("cuda:") and "," in name:
        ids = name[5:].split(",")
        return f"cuda:{ids[local % len(ids)]}"
    if name in ("auto", "cuda") and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        import torch

        if torch.cuda.is_available():
            return f"cuda:{local % max(torch.cuda.device_count(), 1)}"
    return name


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; an explicit device that is absent is an error."""
    import torch

    reason = _device_name(name)
    if reason:
        raise UsageError(f"device {reason}")
    name = rank_device(name)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("device 'cuda' asked for but CUDA is not available here; use cpu")
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise UsageError("device 'mps' asked for but MPS is not available here; use cpu")
    return torch.device(name)


def device_label(device: torch.device) -> str:
    """A short human name for the device: the GPU's name, or 'CPU (N threads)'."""
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    n = torch.get_num_threads()
    return f"CPU ({n} thread{'s' if n != 1 else ''})"


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python and torch globally; return a CPU generator for job-local randomness."""
    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen
