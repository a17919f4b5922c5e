"""Small jobs the distributed tests launch in spawned ranks (importable by module path)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.distributed import distributable, peers
from engine.fields import option
from engine.jobs import CancelToken, Emit, Frame, PauseToken, RateMeter, Result, ignore


@dataclass(frozen=True)
class SumConfig:
    n: int = option(1000, "numbers to add")
    batch: int = option(100, "numbers per batch")
    nap: float = option(0.0, "seconds to sleep per batch (to cancel mid-way)")
    fault: str = option("", "none, crash (rank 1 exits) or hang (rank 1 sleeps)")
    procs: int = option(1, "ranks")
    device: str = option("cpu", "device")


@dataclass(kw_only=True)
class SumResult(Result):
    total: float = 0.0
    count: float = 0.0
    world: int = 1


@distributable
def sum_squares(
    config: SumConfig,
    emit: Emit = ignore,
    cancel: CancelToken | None = None,
    pause: PauseToken | None = None,
) -> SumResult:
    """Sum of i*i for i < n, in batches over the ranks' shards, one reduce at the end."""
    frame = Frame("sum", config, emit, cancel, pause)
    group = peers()
    mine = group.shard(config.n).double()
    frame.gate.meter = RateMeter("sum", len(mine), emit, unit="n")
    result = SumResult(world=group.world)
    stopped = False
    with frame.stoppable(result, "cancelled"):
        partial, count = 0.0, 0
        for i in range(0, len(mine), config.batch):
            try:
                frame.gate()
            except Exception:
                stopped = True
                break
            _fault(config.fault, group.rank, i)
            part = mine[i : i + config.batch]
            partial, count = partial + float((part**2).sum()), count + len(part)
            frame.gate.meter.add(len(part))
            time.sleep(config.nap)
        (result.total, result.count), result.cancelled = group.reduce(
            [partial, float(count)], stopped
        )
    return frame.finish(result)


def _fault(fault: str, rank: int, i: int) -> None:
    if rank != 1 or i == 0:
        return
    if fault == "crash":
        os._exit(3)
    if fault == "hang":
        time.sleep(600)


def expected(n: int) -> float:
    return float((torch.arange(n, dtype=torch.float64) ** 2).sum())


def children() -> list[int]:
    """Processes whose parent is this one (the ranks a launcher left behind, if any), but for
    multiprocessing's resource tracker: one helper per parent that ends with the parent."""
    me = str(os.getpid())
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            cmdline = (stat.parent / "cmdline").read_bytes()
            if b"resource_tracker" not in cmdline:
                out.append(int(stat.parent.name))
    return out
