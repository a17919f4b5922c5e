"""The Embeddings pane: train classic SkipGram, CBOW or SGNS and watch loss and metrics live.

The form on the left sets up a ``WordsConfig``; ctrl+r starts a ``WordsJob`` in a thread
worker whose events come back through a :class:`Bridge`: progress (words/s, ETA) to the status
line, ``Metric("loss")`` to the loss plot, ``EpochEnd`` metrics (the held-out context accuracy
every model has, the evaluation scores) to the epoch plot, ``WordMap`` to the live word map,
lines and errors to the log. A words run opened from the Runs tab (``ShowRun``) joins the
curves, and the Words console answers from its vectors. Every run keeps its curves, labelled
by model, so training classic and then cbow shows both on the same plots (the seed's
comparison). While a run trains, the Words console answers from its snapshots; when it ends,
from its final vectors. ctrl+s exports the run: word2vec text and TensorBoard projector TSV.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll

from engine.words.events import EpochEnd, TrainingStarted, WordMap
from tui import format as fmt
from tui import messages as m
from tui.bridge import Bridge, run_job
from tui.panes.job_pane import JobPane
from tui.render import epoch_table
from tui.widgets.curves import CurvePlot
from tui.widgets.log import LogPane
from tui.widgets.status import JobStatus
from tui.widgets.word_map import WordMapView
from tui.widgets.words_form import WordsForm

# EpochEnd metrics drawn on the epoch plot: the held-out context accuracy every model has, and
# the evaluation scores; the rest (loss, the softmax models' training accuracy, pair counts)
# are in the log and the epoch table
EPOCH_METRICS = ("context_acc", "analogy", "wordsim", "simlex")


@dataclass
class Run:
    """One training run: its label on the plots, config, epochs so far and the result."""

    label: str
    config: Any
    started: TrainingStarted | None = None
    epochs: list[Any] = field(default_factory=list)  # EpochEnd events
    result: Any = None  # WordsResult
    run_dir: str | None = None
    failed: bool = False


class EmbeddingsPane(JobPane):
    """Train word embeddings and compare models on live loss and metric curves."""

    HELP_TITLE = "Embeddings"
    HELP = "Set up a training run on the left, train, watch the curves; runs stay for comparison."
    JOB = "words"
    PROGRESS_JOBS = ("words",)
    IDLE_MESSAGE = "no model is training"
    CANCELLING_MESSAGE = "cancelling: training stops after the current batch"
    BINDINGS = [Binding("ctrl+r", "run", "Train"), Binding("ctrl+s", "save", "Save vectors")]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runs: list[Run] = []

    def compose(self) -> ComposeResult:
        yield WordsForm(id="words-form")
        with VerticalScroll(id="emb-main"):
            yield JobStatus(id="train-status")
            with Horizontal(id="emb-plots"):
                yield CurvePlot("loss", "step", id="loss-plot", classes="curve-plot")
                yield CurvePlot("epoch metrics", "epoch", id="metric-plot", classes="curve-plot")
            yield WordMapView(id="emb-map")
            yield LogPane(id="emb-log", min_width=20)  # wrap at the pane's width

    # ------------------------------------------------------------------ named parts

    @property
    def form(self) -> WordsForm:
        return self.query_one(WordsForm)

    @property
    def status(self) -> JobStatus:
        return self.query_one("#train-status", JobStatus)

    @property
    def loss_plot(self) -> CurvePlot:
        return self.query_one("#loss-plot", CurvePlot)

    @property
    def metric_plot(self) -> CurvePlot:
        return self.query_one("#metric-plot", CurvePlot)

    @property
    def log_pane(self) -> LogPane:
        return self.query_one("#emb-log", LogPane)

    @property
    def word_map(self) -> WordMapView:
        return self.query_one(WordMapView)

    @property
    def current(self) -> Run | None:
        return self.runs[-1] if self.runs else None

    def on_show(self) -> None:
        """Coming to this tab: focus the model choice (keys reach the pane, ? still helps)."""
        focused = self.app.focused
        if focused is None or self not in focused.ancestors:
            self.form.query_one("#model").focus()

    # ------------------------------------------------------------------ actions

    def action_run(self) -> None:
        if self.running:
            self.notify("a model is training; esc cancels it", severity="warning")
            return
        config = self.read_form()
        if config is None:
            return
        label = self._label(config.model)
        self.runs.append(Run(label, config))
        self.loss_plot.start(label)
        self.log_pane.add(f"{label}: training on {config.corpus}")
        self.start_job(config)

    def _label(self, model: str) -> str:
        n = sum(1 for r in self.runs if r.label.split(" ")[0] == model)
        return model if n == 0 else f"{model} #{n + 1}"

    def action_save(self) -> None:
        run = self.current
        if run is None or (run.result is None and run.started is None):
            self.notify("nothing to save yet; ctrl+r trains a model", severity="warning")
            return
        self._export(run)

    # ------------------------------------------------------------------ workers

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, run: Run) -> None:
        """Write word2vec text and projector TSV next to the run (or a fresh folder)."""

        def export(emit: Any) -> str:
            from engine.runs import runs_root
            from engine.words.formats import save_projector, save_word2vec

            if run.result is not None:
                emb = run.result.embeddings
            else:  # still training: the weights as they are now
                emb = run.started.snapshot()
            if run.run_dir:
                folder = Path(run.run_dir) / "export"
            else:
                stamp = time.strftime("%Y%m%d-%H%M%S")
                folder = runs_root() / "words" / f"{stamp}-{run.label.replace(' #', '-')}-export"
            folder.mkdir(parents=True, exist_ok=True)
            w2v = save_word2vec(emb, folder / "vectors.txt")
            save_projector(emb, folder)
            return str(Path(w2v).parent)

        run_job(Bridge(self, "export"), export)

    # ------------------------------------------------------------------ engine messages

    def on_job_metric(self, msg: m.JobMetric) -> None:
        run = self.current
        if run is None or msg.job != "words":
            return
        if msg.name == "loss":
            self.loss_plot.add(run.label, msg.step, msg.value)

    def on_job_event(self, msg: m.JobEvent) -> None:
        run, event = self.current, msg.event
        if run is None:
            return
        if isinstance(event, TrainingStarted):
            run.started = event
            self.status.state = "running"
            self._answer_from(run, live=True)
        elif isinstance(event, WordMap):
            self.word_map.show(event)
        elif isinstance(event, EpochEnd):
            run.epochs.append(event)
            self._plot_epoch(run, event)

    def _plot_epoch(self, run: Run, event: EpochEnd) -> None:
        for name, value in event.metrics.items():
            if name in EPOCH_METRICS:
                self.metric_plot.add(f"{run.label} {name}", event.epoch, value)

    # ------------------------------------------------------------------ a run from the Runs tab

    def on_show_run(self, msg: m.ShowRun) -> None:
        """A words run folder: its epoch curves beside the others, its epoch table in the log,
        and (once read on a thread) its vectors for the Words console and the map."""
        from engine.run_index import epochs, read_config
        from engine.words.events import WordsConfig

        path = Path(msg.path)
        fields = EpochEnd.__dataclass_fields__
        try:
            history = [
                EpochEnd(**{k: v for k, v in e.items() if k in fields}) for e in epochs(path)
            ]
        except (TypeError, ValueError) as exc:
            self.show_error("Open failed", f"{msg.name}: its epochs cannot be read ({exc!r})")
            return
        taken = {r.label for r in self.runs}
        label = msg.name if msg.name not in taken else f"{msg.name} #{len(self.runs) + 1}"
        run = Run(label, read_config(path, WordsConfig), epochs=history, run_dir=msg.path)
        self.runs.append(run)
        for event in history:
            self._plot_epoch(run, event)
        self.log_pane.add(f"opened {msg.name}: {len(history)} epoch(s) from {msg.path}")
        if history:
            self.log_pane.write(epoch_table(history))
        self._open_vectors(run)

    @work(thread=True, group="export", exit_on_error=False)
    def _open_vectors(self, run: Run) -> None:
        def read(emit: Any) -> tuple[Run, Any, Any]:
            from engine.words.corpus import load_stopwords
            from engine.words.formats import load_any
            from engine.words.projection import frequent_words, project

            emb = load_any(run.run_dir)
            words = frequent_words(emb.words, load_stopwords())
            return run, emb, project(emb, words, epoch=len(run.epochs))

        run_job(Bridge(self, "open"), read)

    def _opened(self, msg: m.JobFinished) -> None:
        msg.stop()  # reading a run changes no run folder
        run, emb, word_map = msg.result
        self.word_map.show(word_map)
        self.post_message(m.ModelSource(run.label, lambda: emb, False, run.config))

    def on_job_finished(self, msg: m.JobFinished) -> None:
        if msg.job == "open":
            self._opened(msg)
            return
        if msg.job == "export":
            self.log_pane.add(f"saved word2vec text and projector TSV in {msg.result}")
            self.notify(f"word2vec + projector TSV in {msg.result}", title="Saved")
            return
        if msg.job != "words":
            return
        self.release()
        run = self.current
        if run is None:
            return
        run.result, run.run_dir = msg.result, msg.run_dir
        n = len(run.epochs)
        if msg.cancelled:
            self.status.finish("cancelled", msg.seconds)
            self.notify(f"{run.label}: cancelled after {n} epoch(s)", severity="warning")
        else:
            self.status.finish("done", msg.seconds)
            self.notify(f"{run.label}: trained, {n} epoch(s); the Words tab (F4) queries it")
        self.log_pane.add(f"run folder: {fmt.run_dir(msg.run_dir)}")
        if msg.result is not None:
            self._answer_from(run, live=False)

    def on_job_failed(self, msg: m.JobFailed) -> None:
        if msg.job in ("export", "open"):
            self.show_error("Save failed" if msg.job == "export" else "Open failed", msg.message)
            return
        if msg.job != "words":
            return
        if self.current is not None:
            self.current.failed = True
        self.job_failed(msg)

    def _answer_from(self, run: Run, live: bool) -> None:
        """Tell the app the Words console may answer from this run: its snapshots now, its
        final vectors later (the app hands the message to the panes that listen)."""
        from tui.messages import ModelSource

        if live and run.started is not None and run.started.snapshot is not None:
            source = ModelSource(f"{run.label} (training)", run.started.snapshot, True, run.config)
        elif run.result is not None and run.result.embeddings is not None:
            emb = run.result.embeddings
            source = ModelSource(run.label, lambda: emb, False, run.config)
        else:
            return
        self.post_message(source)
