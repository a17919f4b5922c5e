"""The bridge: events become messages, progress bursts are coalesced, errors become one line."""

from __future__ import annotations

from engine.errors import UsageError
from engine.jobs import Finished, Log, Metric, Progress, Result
from tui import messages as m
from tui.bridge import Bridge, describe_error, run_job


class SweepPointLike:
    """A job-specific event the bridge does not know by name."""


class Sink:
    """Stands in for a widget: records what would be posted."""

    def __init__(self) -> None:
        self.messages: list = []

    def post_message(self, message) -> bool:
        self.messages.append(message)
        return True


def test_a_burst_of_progress_reaches_the_ui_as_a_few_messages_ending_at_the_last():
    sink = Sink()
    bridge = Bridge(sink, "sweep", interval=10.0)
    for done in range(1, 1001):
        bridge(Progress("sweep", done, 2000, 50.0, "img"))
    bridge.flush()
    progress = [x for x in sink.messages if isinstance(x, m.JobProgress)]
    assert len(progress) == 2  # the first at once, the held-back latest on flush
    assert progress[-1].done == 1000 and progress[-1].eta == 1000 / 50.0
    assert bridge.coalesced == 998


def test_held_back_progress_is_flushed_before_the_next_event_and_the_last_always_goes():
    sink = Sink()
    bridge = Bridge(sink, "sweep", interval=10.0)
    bridge(Progress("sweep", 1, 3, 1.0))
    bridge(Progress("sweep", 2, 3, 1.0))
    bridge(Log("a point finished"))
    bridge(Progress("sweep", 3, 3, 1.0))  # done == total: never held back
    kinds = [(type(x).__name__, getattr(x, "done", None)) for x in sink.messages]
    assert kinds == [("JobProgress", 1), ("JobProgress", 2), ("JobLog", None), ("JobProgress", 3)]


def test_events_map_to_messages_and_job_specific_ones_ride_in_job_event():
    sink = Sink()
    bridge = Bridge(sink, "train", transform=lambda e: ("seen", e))
    bridge(Metric("loss", 1.0, 0.5))
    bridge(Log("careful", "warning"))
    bridge(SweepPointLike())  # any job-specific event
    bridge(Finished("train", False, 2.0, "/runs/x"))  # the result says it again, and more
    run_job(bridge, lambda emit: Result(run_dir="/runs/x", seconds=2.0))
    metric, log, event, finished = sink.messages
    assert metric == m.JobMetric("train", "loss", 1.0, 0.5)
    assert log == m.JobLog("train", "careful", "warning")
    assert isinstance(event, m.JobEvent) and event.event[0] == "seen"
    assert finished.run_dir == "/runs/x" and finished.seconds == 2.0 and not finished.cancelled


def test_a_failing_job_posts_one_line_with_the_engines_title():
    sink = Sink()

    def job(emit):
        raise UsageError("eps has 'abc', which is not a number")

    assert run_job(Bridge(sink, "sweep"), job) is None
    (failed,) = sink.messages
    assert (failed.title, failed.message) == ("Bad input", "eps has 'abc', which is not a number")
    assert describe_error(RuntimeError("boom\nsecond line")) == (
        "Unexpected error",
        "RuntimeError: boom",
    )
