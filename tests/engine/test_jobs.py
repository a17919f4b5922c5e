import pytest

from engine.errors import UsageError
from engine.jobs import Cancelled, CancelToken, Progress, RateMeter, pick_device, seed_everything


def test_progress_eta_and_fraction():
    p = Progress("sweep", 25, 100, 5.0)
    assert p.fraction == 0.25 and p.eta == 15.0
    assert Progress("sweep", 0, 100, 0.0).eta is None


def test_rate_meter_throttles_but_always_reports_the_end():
    events = []
    meter = RateMeter("job", 1000, events.append, every=60.0)
    for _ in range(10):
        meter.add(100)
    assert len(events) == 2  # the first add, then the one that completes
    assert events[-1].done == 1000


def test_cancel_token():
    token = CancelToken()
    token.check()
    token.cancel()
    assert token.cancelled
    with pytest.raises(Cancelled):
        token.check()


def test_devices():
    assert pick_device("cpu").type == "cpu"
    with pytest.raises(UsageError, match="device must be one of"):
        pick_device("tpu")


def test_seed_gives_the_same_numbers():
    import torch

    seed_everything(3)
    a = torch.rand(3)
    seed_everything(3)
    assert torch.equal(a, torch.rand(3))


def test_pause_token_blocks_until_resumed_and_cancel_wakes_it():
    import threading

    from engine.jobs import Cancelled, CancelToken, PauseToken

    pause, cancel = PauseToken(), CancelToken()
    assert pause.wait(cancel) == 0.0
    pause.pause()
    assert pause.paused
    threading.Timer(0.2, pause.resume).start()
    assert pause.wait(cancel) >= 0.15
    pause.pause()
    threading.Timer(0.2, cancel.cancel).start()
    try:
        pause.wait(cancel)
    except Cancelled:
        pass
    else:
        raise AssertionError("a cancelled pause must raise Cancelled")


def test_frame_marks_the_run_folder_running_then_failed_with_the_error_line(tmp_path):
    import json

    import pytest

    from engine.jobs import Frame, Result
    from engine.runs import RunRecord
    from engine.vision.events import SweepConfig

    frame = Frame("sweep", SweepConfig(), lambda e: None)
    result = Result()
    with pytest.raises(RuntimeError), frame.stoppable(result, "cancelled"):
        record = frame.open(RunRecord("sweep", "x", tmp_path))
        assert json.loads(record.file("summary.json").read_text())["status"] == "running"
        raise RuntimeError("boom\nsecond line")
    summary = json.loads(record.file("summary.json").read_text())
    assert summary["status"] == "failed" and summary["reason"] == "RuntimeError: boom"


def test_frame_ends_a_cancelled_run_with_the_tokens_reason(tmp_path):
    import json

    from engine.jobs import CancelToken, Frame, Result
    from engine.runs import RunRecord
    from engine.vision.events import SweepConfig

    cancel = CancelToken()
    frame = Frame("sweep", SweepConfig(), lambda e: None, cancel)
    result = Result()
    with frame.stoppable(result, "cancelled"):
        record = frame.open(RunRecord("sweep", "x", tmp_path))
        cancel.cancel("interrupted (SIGTERM)")
        frame.gate()
    frame.finish(result)
    summary = json.loads(record.file("summary.json").read_text())
    assert summary["status"] == "cancelled" and summary["reason"] == "interrupted (SIGTERM)"
    assert result.run_dir == str(record.path)
