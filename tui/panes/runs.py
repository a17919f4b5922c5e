"""The Runs tab: every run folder, vision and words, to find, open, compare, rename, delete.

The list comes from :mod:`engine.run_index` (the same as ``advtui runs list``), read on the
engine-loading thread after the app's first paint, again whenever a job ends (a run made in
the app shows up without a key press) and when the tab is shown after a run folder was made,
renamed or removed elsewhere (the CLI); ctrl+r reads it anyway.
The highlighted run's curves and table show below the list; enter opens it in the pane that
made it (a sweep in the Attack lab, a words run in the Embeddings tab, whose Words console
then answers from it).
space marks runs and c overlays their curves, one colour per run, the legend by name; m
picks the curve when runs have several. Nothing here imports torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Label, Static

from engine.errors import UsageError
from engine.run_index import RunInfo, curves, overlay, rows, x_label
from tui import messages as m
from tui import render
from tui.widgets.curves import CurvePlot

# (title, width): fixed widths, so 500 rows are laid out without measuring 3,500 cells; the
# first five fit 80 columns
COLUMNS = (("", 1), ("date", 16), ("kind", 5), ("status", 9), ("headline", 22), ("name", 40),
           ("settings", 48))  # fmt: skip
MARK = "\u2713"
FIRST_ROWS, MORE_ROWS = 60, 120  # rows added before the first paint, then per frame
PREVIEW_DELAY = 0.05  # seconds: the preview is drawn after the list
LOSSES = ("loss", "train_loss")
PREVIEW_COLUMNS = (
    "attack",
    "budget",
    "acc",
    "success",
    "L-inf",
    "SSIM",
)  # a sweep's, beside its plot


def preview_series(series: dict[str, list]) -> dict[str, list]:
    """A run's curves as its preview plots them: the losses only when nothing else is there
    (they dwarf accuracies)."""
    kept = {k: v for k, v in series.items() if k not in LOSSES}
    return kept or series


class RunsTable(DataTable):
    """The runs list: one row per run folder; enter opens the highlighted run."""

    HELP = "Runs list: arrows move; enter opens the run in the pane that made it."
    BINDINGS = [Binding("enter", "select_cursor", "Open")]


class RunsPane(Vertical):
    """Find runs again: filter, open one in its pane, overlay several, rename, delete."""

    HELP_TITLE = "Runs"
    HELP = "Every run folder, newest first: the highlighted run's curves and table below."
    BINDINGS = [
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("m", "metric", "Metric"),
        Binding("n", "rename", "Rename"),
        Binding("delete,d", "delete", "Delete"),
        Binding("slash", "filter", "Filter"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runs: list[RunInfo] = []
        self.shown: list[RunInfo] = []
        self.marked: list[str] = []  # run folder paths, in the order marked
        self.comparing = False
        self.metric: str | None = None
        self.loaded = 0  # lists read so far (tests and the bench wait on it)
        self._filled = 0  # rows of ``shown`` in the table so far
        self._generation = 0  # one per fill, so a fill left unfinished stops
        self._seen: Any = None  # the runs folders' signature when they were last read

    def compose(self) -> ComposeResult:
        with Horizontal(id="runs-bar"):
            yield Input(placeholder="/ filter: kind, name, model, status...", id="runs-filter",
                        compact=True)  # fmt: skip
            yield Label("", id="runs-count")
        yield RunsTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="runs-detail"):
            yield CurvePlot("", "", id="runs-plot")
            with VerticalScroll(id="runs-info-box"):
                yield Static("", id="runs-info")

    # ------------------------------------------------------------------ named parts

    @property
    def table(self) -> DataTable:
        return self.query_one("#runs-table", DataTable)

    @property
    def plot(self) -> CurvePlot:
        return self.query_one("#runs-plot", CurvePlot)

    @property
    def info(self) -> Static:
        return self.query_one("#runs-info", Static)

    @property
    def filter(self) -> Input:
        return self.query_one("#runs-filter", Input)

    @property
    def current(self) -> RunInfo | None:
        row = self.table.cursor_row
        return self.shown[row] if self.shown and 0 <= row < len(self.shown) else None

    def on_mount(self) -> None:
        for title, width in COLUMNS:
            self.table.add_column(title, width=width)

    @staticmethod
    def load_engine() -> tuple[Any, list[RunInfo]]:
        """Runs on the engine-loading thread, after the first paint: the folders read once, so
        the tab shows them as soon as it is opened."""
        from engine.run_index import list_runs, signature

        try:
            return signature(), list_runs()
        except OSError:  # the engine is fine; the tab reads the folders again when shown
            return None, []

    def engine_ready(self, data: tuple[Any, list[RunInfo]]) -> None:
        if not self.loaded and data[0] is not None:
            self._seen, found = data
            self._fill(found)

    def on_show(self) -> None:
        """Coming to the tab: the list takes the keys; the folders are read again if one was
        made, renamed or removed since (the app's own jobs say so; ctrl+r reads them anyway)."""
        from engine.run_index import signature

        self.table.focus()
        if not self.loaded or signature() != self._seen:
            self.reload()

    # ------------------------------------------------------------------ the list

    @work(thread=True, group="runs", exclusive=True, exit_on_error=False)
    def reload(self) -> None:
        """Read every run folder (a thread: 500 folders are a few thousand small files)."""
        from engine.run_index import list_runs, signature

        try:
            self._seen = signature()
            found = list_runs()
        except OSError as exc:
            self.app.call_from_thread(self.notify, str(exc), title="Runs", severity="error")
            return
        self.app.call_from_thread(self._fill, found)

    def _fill(self, found: list[RunInfo]) -> None:
        here = self.current.path if self.current else None
        self.runs = found
        paths = {str(r.path) for r in found}
        self.marked = [p for p in self.marked if p in paths]
        self._apply_filter(here)
        self.loaded += 1

    def _apply_filter(self, keep: Path | None = None) -> None:
        text = self.filter.value
        self.shown = [r for r in self.runs if r.matches(text)] if text.strip() else list(self.runs)
        self.table.clear()
        self._filled = 0
        self._generation += 1
        self._more(keep, self._generation)
        self._count()

    def _more(self, keep: Path | None, generation: int) -> None:
        """Add the next rows: on screen, a screenful first, so the list paints at once, then the
        rest a chunk per frame (a row's cells are measured as it is added: 3,500 cells take
        ~0.2 s); off screen, all at once. The highlighted run's preview comes after the list."""
        if generation != self._generation:  # filtered or read again since: that one fills
            return
        start = self._filled
        step = (FIRST_ROWS if not start else MORE_ROWS) if self.is_on_screen else len(self.shown)
        stop = min(len(self.shown), start + step)
        self.table.add_rows(self._cells(r) for r in self.shown[start:stop])
        self._filled = stop
        for i, run in enumerate(self.shown[start:stop], start):
            if run.path == keep:
                self.table.move_cursor(row=i)
        if stop < len(self.shown):
            self.call_after_refresh(self._more, keep, generation)
        if not start and not self.comparing:
            self.set_timer(PREVIEW_DELAY, self._preview_current)

    def _cells(self, run: RunInfo) -> tuple[Any, ...]:
        cells = render.run_cells(run)  # the reason of a failure is in the details below
        status = Text(run.status, style=render.STATUS_STYLE.get(run.status, "dim"))
        mark = MARK if str(run.path) in self.marked else ""
        return (mark, cells[0], cells[1], status, cells[5], cells[2], cells[3])

    def _count(self) -> None:
        shown, total = len(self.shown), len(self.runs)
        text = f"{total} runs" if shown == total else f"{shown} of {total} runs"
        if self.marked:
            text += f" \u00b7 {len(self.marked)} marked"
        self.query_one("#runs-count", Label).update(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input is self.filter:
            self._apply_filter(self.current.path if self.current else None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input is self.filter:
            event.stop()
            self.table.focus()

    def on_runs_changed(self, _msg: m.RunsChanged) -> None:
        self.reload()

    # ------------------------------------------------------------------ the highlighted run

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if not self.comparing:
            self._preview(self.current)

    def _preview_current(self) -> None:
        if not self.comparing:
            self._preview(self.current)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def _preview(self, run: RunInfo | None) -> None:
        """The run's curves in the plot, its settings and table beside them."""
        if run is None:
            self.plot.show("no runs yet" if not self.runs else "", "", {})
            self.info.update(
                Text("no run folders here yet: every job writes one" if not self.runs else "")
            )
            return
        try:
            series = preview_series(curves(run.path, run.kind))
            details = self._details(run)
        except (KeyError, TypeError, ValueError) as exc:  # a folder edited by hand: say so
            series, details = {}, Text(f"{run.id}: cannot read its rows ({exc!r})", style="red")
        self.plot.show(f"{run.name}", x_label(run.kind), series)
        self.info.update(details)

    def _details(self, run: RunInfo) -> Group:
        lines = [
            Text(f"{run.name}", style="bold"),
            Text(
                f"{run.kind} \u00b7 {run.date} \u00b7 {run.status}"
                + (f": {run.reason}" if run.reason else "")
            ),
            Text(run.settings, style="dim"),
        ]
        found = rows(run.path, run.kind)
        parts: list[Any] = [*lines]
        if found:
            parts.append(render.rows_table(run.kind, found, PREVIEW_COLUMNS))
        pictures = sorted(p.name for p in run.path.glob("*.png"))
        if pictures:
            parts.append(Text("pictures: " + ", ".join(pictures), style="dim"))
        return Group(*parts)

    # ------------------------------------------------------------------ actions

    def action_open(self) -> None:
        run = self.current
        if run is None:
            self.notify("no run to open", severity="warning")
            return
        self.post_message(m.OpenRun(str(run.path), run.kind, run.name))

    def action_mark(self) -> None:
        run = self.current
        if run is None:
            return
        key = str(run.path)
        if key in self.marked:
            self.marked.remove(key)
        else:
            self.marked.append(key)
        row = self.table.cursor_row
        self.table.update_cell_at((row, 0), MARK if key in self.marked else "")
        self._count()
        if row + 1 < len(self.shown):
            self.table.move_cursor(row=row + 1)
        if self.comparing:
            self._overlay()

    def action_compare(self) -> None:
        """Overlay the marked runs' curves (again: back to the highlighted run)."""
        if self.comparing:
            self.comparing = False
            self._preview(self.current)
            return
        if not self.marked:
            self.notify("mark runs with space first, then c overlays their curves")
            return
        self.comparing = True
        self._overlay()

    def action_metric(self) -> None:
        """The next curve the marked runs share (words and classifier runs)."""
        picked = [r for r in self.runs if str(r.path) in self.marked]
        if not self.comparing or not picked:
            self.notify("c compares the marked runs first; m then picks their curve")
            return
        shared = [n for n in curves(picked[0].path, picked[0].kind)
                  if all(n in curves(r.path, r.kind) for r in picked[1:])]  # fmt: skip
        if len(shared) > 1:
            at = shared.index(self.metric) if self.metric in shared else 0
            self.metric = shared[(at + 1) % len(shared)]
            self._overlay()

    def _overlay(self) -> None:
        by_path = {str(r.path): r for r in self.runs}
        picked = [by_path[p] for p in self.marked if p in by_path]
        try:
            data = overlay(picked, self.metric if picked and picked[0].kind != "sweep" else None)
        except (UsageError, KeyError, TypeError, ValueError) as exc:
            self.comparing = False
            self.notify(str(exc), title="Compare", severity="warning")
            return
        self.metric = data.metric if data.kind != "sweep" else self.metric
        self.plot.show(f"{data.metric} of {len(picked)} runs", data.xlabel, data.series)
        listing = [Text(f"comparing {len(picked)} runs (c: back, m: next curve)", style="bold")]
        listing += [Text(f"{r.name}  {r.date}  {r.headline}") for r in picked]
        self.info.update(Group(*listing))

    def action_filter(self) -> None:
        self.filter.focus()

    def action_reload(self) -> None:
        self.reload()

    def action_rename(self) -> None:
        from tui.screens.ask import NameScreen

        run = self.current
        if run is None:
            return

        def done(name: str | None) -> None:
            if name and name != run.name:
                self._change(lambda: self._renamed(run, name))

        self.app.push_screen(NameScreen(f"New name for {run.id}:", run.name), done)

    def action_delete(self) -> None:
        from tui.screens.ask import ConfirmScreen

        run = self.current
        if run is None:
            return
        warning = " It is still running." if run.status == "running" else ""
        question = f"Delete run {run.id} and every file in it?{warning}\n{run.path}"

        def done(yes: bool | None) -> None:
            if yes:
                self._change(lambda: self._deleted(run))

        self.app.push_screen(ConfirmScreen(question), done)

    def _renamed(self, run: RunInfo, name: str) -> str:
        from engine.run_index import rename_run

        return f"renamed to {rename_run(run.path, name).name}"

    def _deleted(self, run: RunInfo) -> str:
        from engine.run_index import delete_run

        delete_run(run.path)
        self.marked = [p for p in self.marked if p != str(run.path)]
        return f"deleted {run.id}"

    def _change(self, change: Any) -> None:
        """Carry out a rename or delete; say what happened (or why not), then read again."""
        try:
            self.notify(change(), title="Runs")
        except (UsageError, OSError) as exc:
            self.notify(str(exc), title="Runs", severity="error")
        self.reload()
