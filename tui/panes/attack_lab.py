"""The Attack lab: a sweep form on the left, the sweep's live results on the right.

The sweep runs in a thread worker; its engine events come back through a :class:`Bridge` as
messages to this pane, which hands each to the widget that shows it: progress to the status
line, points to the plot and the table, samples to the preview, lines and errors to the log.
Nothing here imports torch at module import time: the engine is imported inside the workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll

from engine.vision.events import (
    ModelMissing,
    Samples,
    SweepPoint,
    SweepResult,
    SweepStarted,
    plausibility_threshold,
)
from engine.vision.masking import masking_flags
from tui import format as fmt
from tui import messages as m
from tui.bridge import Bridge, run_job
from tui.panes.job_pane import JobPane
from tui.widgets.log import LogPane
from tui.widgets.plots import PlotPanel
from tui.widgets.preview import PreviewSet, SamplePreview
from tui.widgets.results import ResultsTable
from tui.widgets.status import JobStatus
from tui.widgets.sweep_form import SweepForm


@dataclass
class SweepState:
    """The sweep on show: its config, the events so far, and the result once it returned."""

    config: Any = None
    started: Any = None
    axes: dict[str, str] = field(default_factory=dict)
    models: tuple[str, ...] = ()
    points: list[Any] = field(default_factory=list)
    samples: list[Any] = field(default_factory=list)  # the engine's Samples, for export
    result: Any = None
    run_dir: str | None = None


class AttackLab(JobPane):
    """Sweep attacks over budgets and watch accuracy fall, sample by sample."""

    HELP_TITLE = "Attack lab"
    HELP = "Set up a sweep on the left, run it, browse the results on the right."
    JOB = "sweep"
    PROGRESS_JOBS = ("sweep",)
    IDLE_MESSAGE = "no sweep is running"
    CANCELLING_MESSAGE = "cancelling: the sweep stops after the current batch"
    BINDINGS = [Binding("ctrl+s", "export", "Export"), Binding("ctrl+t", "toggle_pixels", "Pixels")]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = SweepState()

    def compose(self) -> ComposeResult:
        yield SweepForm(id="form")
        with VerticalScroll(id="lab-main"):
            yield JobStatus(id="sweep-status")
            with Vertical(id="lab-top"):
                yield PlotPanel(id="plots")
                yield SamplePreview(id="preview")
            yield ResultsTable(id="results")
            yield LogPane(id="log")

    # ------------------------------------------------------------------ named parts

    @property
    def form(self) -> SweepForm:
        return self.query_one(SweepForm)

    @property
    def status(self) -> JobStatus:
        return self.query_one("#sweep-status", JobStatus)

    @property
    def plots(self) -> PlotPanel:
        return self.query_one(PlotPanel)

    @property
    def preview(self) -> SamplePreview:
        return self.query_one(SamplePreview)

    @property
    def table(self) -> ResultsTable:
        return self.query_one(ResultsTable)

    # ------------------------------------------------------------------ engine loading

    @staticmethod
    def load_engine() -> list[tuple[str, str]]:
        """Runs on the engine-loading thread: the registry's attacks and their budget axes.

        Also imports what the first sweep would import late (matplotlib for the run record),
        so it is loaded off the UI's path and frozen out of the garbage collector's scans."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401

        import engine.vision.sweep  # noqa: F401
        from engine.vision.attacks import REGISTRY

        return [(name, spec.axis) for name, spec in REGISTRY.items()]

    def engine_ready(self, attacks: list[tuple[str, str]]) -> None:
        self.form.engine_ready(attacks)

    # ------------------------------------------------------------------ actions

    def action_run(self, train_missing: bool = False) -> None:
        if self.running:
            self.notify("a sweep is running; esc cancels it", severity="warning")
            return
        config = self.read_form(train_missing=train_missing)
        if config is None:
            return
        self.state = SweepState(config=config)
        self.table.reset()
        self.preview.clear()
        models = ", ".join(config.model)
        self.log_pane.add(f"sweep: {', '.join(config.attacks)} on {config.dataset}, {models}")
        self.start_job(config, self._transform)

    def _transform(self, event: Any) -> Any:
        """On the worker thread: samples become preview images before they reach the UI."""
        from tui.widgets.halfblock import preview_from_samples

        if isinstance(event, SweepStarted):
            self.state.axes = dict(event.axes)
            self.state.models = event.models
        elif isinstance(event, Samples):
            self.state.samples.append(event)
            pset = preview_from_samples(event, self.state.axes.get(event.attack, "eps"))
            return replace(pset, model=event.model) if len(self.state.models) > 1 else pset
        return event

    def action_export(self) -> None:
        s = self.state
        if s.run_dir:
            self.notify(f"run folder: {fmt.run_dir(s.run_dir)}", title="Exported")
            self.log_pane.add(f"run folder: {fmt.run_dir(s.run_dir)}")
        elif self.running:
            self.notify("the sweep writes its run folder when it ends", severity="warning")
        elif not s.points:
            self.notify("nothing to export yet; ctrl+r runs a sweep", severity="warning")
        else:
            self._export_partial()

    def action_toggle_pixels(self) -> None:
        support = getattr(self.app, "graphics", None)
        if not support:
            self.preview.pixels = False
            self.notify(
                "this terminal did not answer as Kitty or Sixel capable; half-blocks stay "
                "(ADVTUI_IMAGES=kitty or sixel forces a try)",
                title="True-pixel images",
            )
            return
        self.preview.pixels = not self.preview.pixels

    # ------------------------------------------------------------------ workers

    @work(thread=True, group="job", exit_on_error=False)
    def _export_partial(self) -> None:
        """Write the run folder of a sweep that failed before writing its own."""
        from engine.vision.report import write_sweep_record

        s = self.state
        result = SweepResult(
            config=s.config, points=list(s.points), samples=list(s.samples), cancelled=True
        )
        if s.started is not None:
            result.clean_accuracy = s.started.clean_accuracy
        run_job(Bridge(self, "export"), lambda emit: str(write_sweep_record(result)))

    # ------------------------------------------------------------------ engine messages

    async def on_job_event(self, msg: m.JobEvent) -> None:
        event = msg.event
        if isinstance(event, SweepStarted):
            self.state.started = event
            self.status.state = "running"
            await self.plots.start(event)
        elif isinstance(event, SweepPoint):
            self.state.points.append(event)
            flags = masking_flags(self.state.points)
            self.table.add_point(event, flags)
            self.plots.add_point(event)
            self.plots.set_flags(self.state.points, flags)
            self._update_thresholds()
        elif isinstance(event, PreviewSet):
            self.preview.add(event)

    def _update_thresholds(self) -> None:
        s = self.state
        if s.started is None or s.config is None:
            return
        thresholds = {
            s.started.label(m, a): plausibility_threshold(
                [p for p in s.points if p.attack == a and p.model == m], s.config.ssim_bar
            )
            for m, a in s.started.curves()
        }
        self.plots.set_thresholds(s.started.axes, thresholds)

    # ------------------------------------------------------------------ a run from the Runs tab

    async def on_show_run(self, msg: m.ShowRun) -> None:
        """A sweep's run folder: its curves, thresholds and table as they were; its sample
        pictures are named in the log (the folder keeps PNGs, not the images to browse)."""
        if self.running:
            self.notify("a sweep is running; open the run when it has finished", severity="warning")
            return
        from engine.run_index import points, read_config
        from engine.vision.events import SweepConfig

        path = Path(msg.path)
        fields = SweepPoint.__dataclass_fields__
        rows = [{k: v for k, v in r.items() if k in fields} for r in points(path)]
        try:
            pts = [SweepPoint(**{**r, "n": int(r["n"])}) for r in rows]
        except (KeyError, TypeError, ValueError) as exc:
            self.show_error("Open failed", f"{msg.name}: its points cannot be read ({exc!r})")
            return
        axes = {p.attack: p.axis for p in pts}
        budgets = {a: tuple(sorted({p.budget for p in pts if p.attack == a})) for a in axes}
        config = read_config(path, SweepConfig)
        self.state = SweepState(config=config, axes=axes, points=pts, run_dir=msg.path)
        self.table.reset()
        self.preview.clear()
        models = tuple(dict.fromkeys(p.model for p in pts)) or ("",)
        clean = {p.model: p.accuracy for p in pts if p.budget == 0}
        n = pts[0].n if pts else 0
        started = SweepStarted(
            tuple(axes), axes, budgets, (), n, clean.get(models[0], 0.0), "", models, clean
        )
        await self.plots.start(started)
        for point in pts:
            self.table.add_point(point)
            self.plots.add_point(point)
        bar = config.ssim_bar
        thresholds = {
            a: plausibility_threshold([p for p in pts if p.attack == a], bar) for a in axes
        }
        self.plots.set_thresholds(axes, thresholds)
        self.log_pane.add(f"opened {msg.name}: {len(pts)} points from {msg.path}")
        for picture in sorted(path.glob("samples-*.png")):
            self.log_pane.add(f"samples: {picture}")

    def on_job_finished(self, msg: m.JobFinished) -> None:
        if msg.job == "export":
            self.state.run_dir = msg.result
            self.action_export()
            return
        self.release()
        self.state.result = msg.result
        self.state.run_dir = msg.run_dir
        n = len(self.state.points)
        if msg.cancelled:
            self.status.finish("cancelled", msg.seconds)
            self.notify(f"sweep cancelled; {n} finished points kept", severity="warning")
        else:
            self.status.finish("done", msg.seconds)
            self.notify(f"sweep finished: {n} points; ctrl+s shows the run folder")
        self.log_pane.add(f"run folder: {fmt.run_dir(msg.run_dir)}")

    def on_job_failed(self, msg: m.JobFailed) -> None:
        if msg.job == "export":
            self.show_error("Export failed", msg.message)
            return
        if isinstance(msg.error, ModelMissing):
            self.release()
            self.status.finish("failed")
            self.log_pane.add(msg.message, "warning")
            self._offer_training(msg.error)
            return
        self.job_failed(msg)

    def _offer_training(self, error: Any) -> None:
        from tui.screens.train import TrainScreen

        config = self.state.config

        def done(trained: bool | None) -> None:
            if trained:
                self.log_pane.add("model trained; running the sweep again")
                self.action_run()

        self.app.push_screen(
            TrainScreen(
                arch=error.arch,
                dataset=error.dataset,
                data_dir=None if config is None or config.dataset == "sample" else config.data_dir,
                seed=config.seed if config is not None else 0,
            ),
            done,
        )
