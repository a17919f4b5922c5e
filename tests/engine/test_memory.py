import pytest
import torch

from engine.errors import EngineError
from engine.jobs import Log
from engine.memory import BatchSize, is_oom


def test_out_of_memory_is_told_from_other_errors():
    assert is_oom(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert is_oom(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to ..."))
    assert is_oom(MemoryError())
    assert not is_oom(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    assert not is_oom(ValueError("out of memory"))  # only the errors memory raises


def test_the_batch_halves_says_so_and_gives_up_at_one():
    said = []
    size = BatchSize(5, said.append)
    for expected in (2, 1):
        size.halve(MemoryError())
        assert size.size == expected
    assert [e.message for e in said if isinstance(e, Log)] == [
        "out of memory with a batch of 5 images: retrying it with 2",
        "out of memory with a batch of 2 images: retrying it with 1",
    ]
    with pytest.raises(EngineError, match="even with a batch of 1"):
        size.halve(MemoryError())
