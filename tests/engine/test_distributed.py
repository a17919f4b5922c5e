"""engine.distributed on gloo: launched ranks add up like one process, stop together on a
cancel, and a rank that dies or hangs ends the job with one line and no process left."""

from __future__ import annotations

import time

import pytest

from engine.errors import EngineError
from engine.jobs import CancelToken, Progress
from tests.engine.dist_jobs import SumConfig, children, expected, sum_squares


@pytest.mark.parametrize("procs", [1, 2, 3])
def test_ranks_add_up_exactly_like_one_process(procs):
    events = []
    result = sum_squares(SumConfig(n=1001, batch=50, procs=procs), events.append)
    assert result.world == procs and result.total == expected(1001) and result.count == 1001
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress and progress[-1].done == 1001 and progress[-1].total == 1001
    assert not children()


def test_cancel_reaches_every_rank_and_leaves_no_process():
    cancel = CancelToken()
    events = []

    def emit(event):
        events.append(event)
        if isinstance(event, Progress) and event.done >= 200:
            cancel.cancel()

    result = sum_squares(SumConfig(n=4000, batch=20, nap=0.05, procs=2), emit, cancel)
    assert result.cancelled and 0 < result.count < 4000
    assert not children()


@pytest.mark.parametrize("fault", ["crash", "hang"])
def test_a_rank_that_dies_or_hangs_ends_the_job_in_bounded_time(fault, monkeypatch):
    monkeypatch.setenv("ADVTUI_DIST_TIMEOUT", "5")
    start = time.monotonic()
    with pytest.raises(EngineError) as err:
        sum_squares(SumConfig(n=4000, batch=100, procs=2, fault=fault))
    assert "rank" in str(err.value) and "\n" not in str(err.value)
    assert time.monotonic() - start < 60
    assert not children()
