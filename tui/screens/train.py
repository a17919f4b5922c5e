"""The offer to train a model that has no weights yet, and the training itself, in a modal.

The sweep raised ``ModelMissing``: this screen says so, and on ``y`` trains the model with the
engine's ``train_classifier`` in a thread worker, showing its own progress bar and live
loss / test-accuracy curves. It closes with True once the checkpoint is cached (the Attack lab
then reruns the sweep), or False when declined or cancelled.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static
from textual_plotext import PlotextPlot

from tui import messages as m
from tui.bridge import Bridge, run_job
from tui.widgets.log import LogPane
from tui.widgets.status import JobStatus


class TrainScreen(ModalScreen[bool]):
    """Offer, then run, the training of ``arch`` on ``dataset``'s training split."""

    HELP = "Train a missing model: y trains, n or esc declines (or cancels a running training)."
    BINDINGS = [
        Binding("y", "train", "Train"),
        Binding("n", "close", "Not now"),
        Binding("escape", "close", "Cancel"),
    ]

    def __init__(self, arch: str, dataset: str, data_dir: str | None, seed: int = 0) -> None:
        super().__init__()
        self.arch, self.dataset, self.data_dir, self.seed = arch, dataset, data_dir, seed
        self.token: Any = None
        self.loss: list[tuple[float, float]] = []
        self.accuracy: list[tuple[float, float]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="train-box"):
            yield Static(
                f"No trained [b]{self.arch}[/] for [b]{self.dataset}[/] yet.\n"
                f"Train it now on the {self.dataset} training split? "
                "It is cached afterwards. [b]y[/] trains, [b]n[/] declines.",
                id="train-question",
            )
            yield JobStatus(id="train-status")
            yield PlotextPlot(id="train-plot")
            yield LogPane(id="train-log")

    def on_mount(self) -> None:
        self._replot()

    def action_train(self) -> None:
        if self.token is not None:
            return
        from engine.jobs import CancelToken

        self.token = CancelToken()
        self.app.cancel_tokens.add(self.token)
        self.query_one(JobStatus).start("training")
        self._train(self.token)

    def action_close(self) -> None:
        if self.token is not None:
            self.token.cancel()
            self.query_one(LogPane).add("cancelling after the current batch", "warning")
            return
        self.dismiss(False)

    @work(thread=True, group="job", exit_on_error=False)
    def _train(self, token: Any) -> None:
        from engine.vision import train as engine_train

        config = engine_train.TrainConfig(
            dataset=self.dataset,
            data_dir=self.data_dir,
            arch=self.arch,
            seed=self.seed,
            device=self.app.device_name,
        )
        run_job(
            Bridge(self, "train"), lambda emit: engine_train.train_classifier(config, emit, token)
        )

    # ------------------------------------------------------------------ engine messages

    def on_job_progress(self, msg: m.JobProgress) -> None:
        self.query_one(JobStatus).progress(msg)

    def on_job_log(self, msg: m.JobLog) -> None:
        self.query_one(LogPane).add(msg.message, msg.level)

    def on_job_metric(self, msg: m.JobMetric) -> None:
        (self.loss if msg.name == "loss" else self.accuracy).append((msg.step, msg.value))
        self._replot()

    def on_job_finished(self, msg: m.JobFinished) -> None:
        self._release()
        if msg.cancelled:
            self.notify("training cancelled; no model saved", severity="warning")
            self.dismiss(False)
            return
        acc = getattr(msg.result, "test_accuracy", float("nan"))
        self.notify(f"{self.arch} trained: test accuracy {acc:.1%}")
        self.dismiss(True)

    def on_job_failed(self, msg: m.JobFailed) -> None:
        self._release()
        self.query_one(JobStatus).finish("failed")
        self.query_one(LogPane).add(f"{msg.title}: {msg.message}", "error")
        self.notify(msg.message, title=msg.title, severity="error", timeout=8)

    def _release(self) -> None:
        if self.token is not None:
            self.app.cancel_tokens.discard(self.token)
            self.token = None

    def _replot(self) -> None:
        plt = self.query_one(PlotextPlot).plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("training: loss (left) and test accuracy (right)")
        plt.xlabel("epoch")
        if self.loss:
            plt.plot([s for s, _ in self.loss], [v for _, v in self.loss], label="loss")
        if self.accuracy:
            xs, ys = [s for s, _ in self.accuracy], [v for _, v in self.accuracy]
            plt.plot(xs, ys, label="test acc", yside="right", marker="dot")
        self.query_one(PlotextPlot).refresh()
