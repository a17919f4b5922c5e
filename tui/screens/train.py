"""The offer to train a model that has no weights yet, and the training itself, in a modal.

The sweep raised ``ModelMissing``: this screen says so and shows the training form (built
from ``TrainConfig``, set to the missing model); ctrl+r trains it with the engine's
``train_classifier`` through the same :class:`JobPane` as every other job (progress, pause,
cancel, live loss / test-accuracy curves). It closes with True once the model is cached (the
Attack lab then reruns the sweep), or False when declined or cancelled.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static
from textual_plotext import PlotextPlot

from engine.fields import show
from tui import messages as m
from tui.panes.job_pane import JobPane
from tui.widgets.log import LogPane
from tui.widgets.status import JobStatus
from tui.widgets.train_form import TrainForm

# the training job's metrics, as the plot names them (robust: PGD-10 on held-out images,
# adversarial training only)
CURVES = {"loss": "loss", "test_acc": "test acc", "robust_acc": "robust acc (PGD-10)"}


class TrainPane(JobPane):
    """The training form, then the job's status, curves and log."""

    HELP_TITLE = "Train a model"
    HELP = "Train the missing model: ctrl+r trains, ctrl+o pauses, esc cancels or closes."
    JOB = "train"
    PROGRESS_JOBS = ("train",)
    IDLE_MESSAGE = "no training is running"
    BINDINGS = [Binding("ctrl+r", "run", "Train")]

    def __init__(self, values: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.values = values
        self.series: dict[str, list[tuple[float, float]]] = {}  # metric name -> points
        self.result: Any = None

    def compose(self) -> ComposeResult:
        yield TrainForm(id="train-form")
        with Vertical(id="train-main"):
            yield JobStatus(id="train-status")
            yield PlotextPlot(id="train-plot")
            yield LogPane(id="train-log")

    @property
    def form(self) -> TrainForm:
        return self.query_one(TrainForm)

    @property
    def status(self) -> JobStatus:
        return self.query_one("#train-status", JobStatus)

    def on_mount(self) -> None:
        for name, value in self.values.items():
            self.form.set_text(name, show(value))
        self._replot()

    def action_run(self) -> None:
        if self.running:
            return
        config = self.read_form()
        if config is not None:
            self.start_job(config)

    def action_cancel(self) -> None:
        """esc: cancel the training when one runs, else decline and close."""
        if self.running:
            self.cancel_job()
        else:
            self.screen.dismiss(False)

    def on_job_metric(self, msg: m.JobMetric) -> None:
        self.series.setdefault(msg.name, []).append((msg.step, msg.value))
        self._replot()

    def on_job_finished(self, msg: m.JobFinished) -> None:
        self.release()
        self.result = msg.result
        if msg.cancelled:
            self.app.notify("training cancelled; no model saved", severity="warning")
        else:
            self.app.notify(f"model trained: test accuracy {msg.result.test_accuracy:.1%}")
        self.screen.dismiss(not msg.cancelled)

    def on_job_failed(self, msg: m.JobFailed) -> None:
        self.job_failed(msg)

    def _replot(self) -> None:
        plt = self.query_one(PlotextPlot).plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("training: loss (left), clean and robust accuracy (right)")
        plt.xlabel("epoch")
        for name, label in CURVES.items():
            points = self.series.get(name)
            if points:
                xs, ys = [s for s, _ in points], [v for _, v in points]
                side = {} if name == "loss" else {"yside": "right", "marker": "dot"}
                plt.plot(xs, ys, label=label, **side)
        self.query_one(PlotextPlot).refresh()


class TrainScreen(ModalScreen[bool]):
    """Offer, then run, the training of ``arch`` on ``dataset``'s training split."""

    HELP = "Train a missing model: ctrl+r trains, esc declines (or cancels a running training)."
    BINDINGS = [Binding("escape", "close", "Cancel / close")]

    def __init__(self, arch: str, dataset: str, data_dir: str | None, seed: int = 0) -> None:
        super().__init__()
        self.arch, self.dataset = arch, dataset
        self.values = {"arch": arch, "dataset": dataset, "data_dir": data_dir, "seed": seed}

    def compose(self) -> ComposeResult:
        with Vertical(id="train-box"):
            yield Static(
                f"No trained [b]{self.arch}[/] for [b]{self.dataset}[/] yet. Train it now on "
                f"the {self.dataset} training split? It is cached afterwards. [b]ctrl+r[/] "
                "trains, [b]esc[/] declines.",
                id="train-question",
            )
            yield TrainPane(self.values, id="train-pane")

    @property
    def pane(self) -> TrainPane:
        return self.query_one(TrainPane)

    def action_close(self) -> None:
        if self.pane.running:
            self.pane.cancel_job()
            return
        self.dismiss(False)
