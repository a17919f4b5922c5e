"""Out of memory: tell it from other errors, halve the batch and try that batch again.

A sweep or a training sized for one GPU may meet a smaller one, or a GPU shared with other
jobs: rather than lose the run, a job that runs out of memory (CUDA or CPU) halves its batch,
says so in the log, and retries the batch it was on. Only a batch of one that still does not
fit is an error. Torch-free until a cache is freed.
"""

from __future__ import annotations

import sys
from typing import Any

from engine.errors import EngineError
from engine.jobs import Emit, Log

_CPU_OOM = ("can't allocate memory", "not enough memory", "out of memory")


def is_oom(error: BaseException) -> bool:
    """Whether ``error`` says memory ran out (torch's OutOfMemoryError, the CPU allocator's
    RuntimeError, or Python's MemoryError)."""
    if isinstance(error, MemoryError):
        return True
    torch = sys.modules.get("torch")  # a torch error can only come once torch is loaded
    if torch is not None and isinstance(error, getattr(torch, "OutOfMemoryError", ())):
        return True
    return isinstance(error, RuntimeError) and any(s in str(error) for s in _CPU_OOM)


def free_cached(device: Any) -> None:
    """Give the CUDA caching allocator's free blocks back, so the smaller batch can use them."""
    if getattr(device, "type", "") == "cuda":
        import torch

        torch.cuda.empty_cache()


class BatchSize:
    """The batch a job uses now: halved on each out-of-memory error, never below one."""

    def __init__(self, size: int, emit: Emit, unit: str = "images", device: Any = None) -> None:
        self.size, self.emit, self.unit, self.device = size, emit, unit, device
        self.halvings = 0

    def halve(self, error: BaseException) -> None:
        """Called with the error of a batch that did not fit: halve, or give up at one."""
        free_cached(self.device)
        if self.size <= 1:
            raise EngineError(f"out of memory even with a batch of 1 ({error})") from None
        old, self.size = self.size, self.size // 2
        self.halvings += 1
        self.emit(
            Log(f"out of memory with a batch of {old} {self.unit}: retrying it with {self.size}",
                "warning")
        )  # fmt: skip
