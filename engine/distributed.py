"""Jobs over several processes with PyTorch's own stack: ``torch.distributed`` (gloo on CPUs,
nccl with one GPU per rank) under its elastic launcher.

Two ways in, one job code:

- ``procs > 1`` in a job's config: :func:`launch` starts that many ranks on this machine with
  ``torch.distributed.launcher.elastic_launch`` (the API behind ``torchrun``); the caller's
  ``emit``, cancel and pause reach them through a queue and shared events.
- ``torchrun --nnodes M --nproc-per-node N -m tui.cli sweep ...``: every rank runs the command
  and :func:`join` finds the group in the environment.

A job sees its group as :class:`Peers`: its shard of the data, one ``all_reduce`` of its sums
per finished point that also agrees on stopping (so no rank waits for one that left), and
rank 0 writes the records and speaks for the job. Collectives time out after
``ADVTUI_DIST_TIMEOUT`` seconds (default 120), so a rank that hangs or dies ends the job with
one line instead of a hang, and the launcher stops every rank it started.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import queue as queue_mod
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from importlib import import_module
from typing import Any

import torch
import torch.distributed as dist

from engine.errors import EngineError, UsageError
from engine.jobs import CancelToken, Emit, PauseToken, Progress, Result, ignore, rank_device

TIMEOUT_S = float(os.environ.get("ADVTUI_DIST_TIMEOUT", "120"))


# --------------------------------------------------------------------------- the group


@dataclasses.dataclass(frozen=True)
class Peers:
    """This process's place in its group (rank 0 of 1 outside any group)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def main(self) -> bool:
        return self.rank == 0

    def shard(self, n: int) -> torch.Tensor:
        """This rank's share of ``n`` items: every ``world``-th from its rank. Data kept in an
        interleaved class-balanced order stays balanced; shards differ by one item at most."""
        return torch.arange(self.rank, n, self.world)

    def reduce(self, values: Sequence[float], stopped: bool = False) -> tuple[list[float], bool]:
        """The sums of ``values`` over the ranks, and whether any rank stopped (one collective,
        in float64 so counts and sums add up exactly as they would in one process)."""
        if self.world == 1:
            return list(values), stopped
        device = f"cuda:{self.local_rank}" if self.backend == "nccl" else "cpu"
        t = torch.tensor([*values, float(stopped)], dtype=torch.float64, device=device)
        dist.all_reduce(t)
        out = t.tolist()
        return out[:-1], out[-1] > 0

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank (a vocabulary built once)."""
        if self.world == 1:
            return obj
        box = [obj if self.main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def peers() -> Peers:
    """The group this process is in now."""
    if not (dist.is_available() and dist.is_initialized()):
        return Peers()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return Peers(dist.get_rank(), dist.get_world_size(), local, dist.get_backend())


def join(device: str = "auto") -> Peers:
    """Join the group a launcher describes in the environment (``RANK``, ``WORLD_SIZE``...);
    a single process, or one already in its group, is left as it is."""
    if dist.is_initialized() or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return peers()
    gpus = torch.cuda.is_available() and (device == "auto" or device.startswith("cuda"))
    if gpus:
        torch.cuda.set_device(rank_device(device))
    backend = "nccl" if gpus else "gloo"
    _share_cores()
    dist.init_process_group(backend, timeout=timedelta(seconds=TIMEOUT_S))
    return peers()


def leave() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


# --------------------------------------------------------------------------- jobs


def distributable(job: Callable[..., Result]) -> Callable[..., Result]:
    """Make a job run on ``config.procs`` local ranks when asked to (and join a launcher's
    group when started by one). The job itself reads its :func:`peers`."""
    path = f"{job.__module__}:{job.__qualname__}"

    @functools.wraps(job)
    def run(
        config: Any,
        emit: Emit = ignore,
        cancel: CancelToken | None = None,
        pause: PauseToken | None = None,
        **kwargs: Any,
    ) -> Result:
        procs = getattr(config, "procs", 1)
        if procs > 1 and not dist.is_initialized() and "RANK" not in os.environ:
            from engine.fields import validate

            validate(config)  # bad input: one line before any process starts
            if any(v is not None for v in kwargs.values()):
                raise UsageError(f"procs {procs}: each process loads its own model and data")
            return launch(path, config, procs, emit, cancel, pause)
        join(getattr(config, "device", "auto"))
        return job(config, emit, cancel, pause, **kwargs)

    return run


def launch(
    function: str,
    config: Any,
    procs: int,
    emit: Emit = ignore,
    cancel: CancelToken | None = None,
    pause: PauseToken | None = None,
) -> Result:
    """Run ``function`` (``"module:name"``, a job) on ``procs`` ranks of this machine and return
    rank 0's result. Ranks stop with the caller's cancel, wait with its pause, and report
    through its ``emit`` (progress summed over the ranks)."""
    import torch.multiprocessing as mp
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    # the launcher logs its own progress and, off the main thread (the app's worker), that it
    # cannot install signal handlers; the job's events say what matters
    logging.getLogger("torch.distributed.elastic").setLevel(logging.ERROR)
    ctx = mp.get_context("spawn")
    _start_resource_tracker()  # before the queue's locks register with it
    relay = Relay(ctx, emit, cancel or CancelToken(), pause, procs)
    settings = LaunchConfig(
        min_nodes=1, max_nodes=1, nproc_per_node=procs, run_id=uuid.uuid4().hex,
        rdzv_backend="c10d", rdzv_endpoint="localhost:0", max_restarts=0,
        monitor_interval=0.1, start_method="spawn",
    )  # fmt: skip
    relay.start()
    try:
        results = elastic_launch(settings, _rank_main)(
            function, config, relay.events, relay.stop, relay.running
        )
    except ChildFailedError as exc:
        raise relay.failure(exc) from None
    finally:
        relay.close()
    return results[0]


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with the process's real stderr: inside the app
    ``sys.stderr`` is Textual's capture, whose descriptor the tracker cannot pass on."""
    import sys
    from multiprocessing import resource_tracker

    shown, sys.stderr = sys.stderr, sys.__stderr__
    try:
        resource_tracker.ensure_running()
    finally:
        sys.stderr = shown


def _quiet() -> None:
    """A rank writes nothing to the terminal (it would land on the app's screen, or beside
    the CLI's bar): its events and its error reach the launcher through the queue instead.
    ``ADVTUI_RANK_OUTPUT=1`` keeps the output, to debug a rank."""
    if os.environ.get("ADVTUI_RANK_OUTPUT"):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(null, fd)
    os.close(null)


def _share_cores() -> None:
    """The ranks of one machine split its cores (torch would give each rank all of them, and
    the ranks would fight); ``OMP_NUM_THREADS`` set by the user wins, as under torchrun."""
    if os.environ.get("OMP_NUM_THREADS"):
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(max(1, (cores or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))


def _rank_main(function: str, config: Any, events: Any, stop: Any, running: Any) -> Any:
    """One rank: join the group, run the job with tokens backed by the shared events."""
    _quiet()
    module, _, name = function.partition(":")
    job = getattr(import_module(module), name)
    group = join(getattr(config, "device", "auto"))
    emit = RankEmit(events, group.rank)
    try:
        result = job(config, emit, CancelToken(stop), PauseToken(running))
    except BaseException as exc:
        kind = "usage" if isinstance(exc, UsageError) else "engine"
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        events.put(("error", group.rank, kind, text))
        raise
    finally:
        leave()
    return result if group.main else None


class RankEmit:
    """A rank's ``emit``: every rank's progress goes to the launcher, which adds them up; the
    other events come from rank 0 alone. What cannot cross processes stays behind (a live
    model's ``snapshot``)."""

    def __init__(self, events: Any, rank: int) -> None:
        self.events, self.rank = events, rank

    def __call__(self, event: Any) -> None:
        if isinstance(event, Progress):
            self.events.put(("progress", self.rank, event))
        elif self.rank == 0:
            if dataclasses.is_dataclass(event) and getattr(event, "snapshot", None) is not None:
                event = dataclasses.replace(event, snapshot=None)
            self.events.put(("event", self.rank, event))


class Relay:
    """The launcher's side: mirror the caller's cancel and pause into shared events, and turn
    the ranks' messages back into the caller's events (progress summed over ranks)."""

    def __init__(
        self, ctx: Any, emit: Emit, cancel: CancelToken, pause: PauseToken | None, procs: int
    ) -> None:
        self.events, self.stop, self.running = ctx.Queue(), ctx.Event(), ctx.Event()
        self.running.set()
        self.emit, self.cancel, self.pause, self.procs = emit, cancel, pause, procs
        self.progress: dict[int, Progress] = {}
        self.errors: list[tuple[int, str, str]] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="advtui-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self._drain()

    def _pump(self) -> None:
        while not self._closed.is_set():
            if self.cancel.cancelled:
                self.stop.set()
            if self.pause is not None:
                (self.running.clear if self.pause.paused else self.running.set)()
            self._drain(timeout=0.05)

    def _drain(self, timeout: float = 0.0) -> None:
        try:
            while True:
                get = self.events.get
                self._handle(get(timeout=timeout) if timeout else get(block=False))
                timeout = 0.0
        except (queue_mod.Empty, EOFError, OSError):
            return

    def _handle(self, message: tuple) -> None:
        kind, rank, *rest = message
        if kind == "progress":
            self.progress[rank] = rest[0]
            parts = list(self.progress.values())
            total = sum(p.total for p in parts) * self.procs // max(len(parts), 1)
            done, rate = sum(p.done for p in parts), sum(p.rate for p in parts)
            self.emit(Progress(parts[0].job, done, total, rate, parts[0].unit))
        elif kind == "event":
            self.emit(rest[0])
        elif kind == "error":
            self.errors.append((rank, rest[0], rest[1]))

    def failure(self, exc: Exception) -> EngineError:
        """One line for a failed launch: the first rank's own error, or how the rank ended."""
        self._drain()
        if self.errors:
            rank, kind, text = self.errors[0]
            error = UsageError if kind == "usage" else EngineError
            return error(text if kind == "usage" else f"rank {rank}: {text}")
        rank, failure = next(iter(sorted(getattr(exc, "failures", {}).items())), (0, None))
        how = _failure_text(failure)
        return EngineError(f"rank {rank} stopped ({how}); the other ranks were stopped too")


def _failure_text(failure: Any) -> str:
    if failure is None:
        return "unknown cause"
    if failure.signal_name() not in ("", "<N/A>"):
        return f"killed by {failure.signal_name()}"
    return f"exit code {failure.exitcode}"
