"""The advtui App: header, one tab per pane, footer, help, command palette, engine loading.

Thin on purpose: panes do the work. The first paint never waits for torch: this module and the
panes import no torch, and :meth:`AdvTUI.load_engine` imports it on a thread after mount, then
the header says which device the engine found. Quitting cancels running jobs, waits for them
to stop at their next batch (they write their run records) and then exits; with a job
running it asks once first. SIGTERM quits the same way, without asking.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import threading
import time
from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, TabbedContent, TabPane

from assets import asset_path
from tui.bridge import describe_error
from tui.commands import ActionsProvider
from tui.messages import (
    EngineFailed,
    EngineReady,
    ModelSource,
    OpenRun,
    RunsChanged,
    ShowRun,
    UseModel,
)
from tui.panes import PANES
from tui.screens.quit import QuitScreen


def torch_threads() -> int:
    """Threads for torch while the app runs: all cores but one, so the UI keeps one."""
    env = os.environ.get("ADVTUI_TORCH_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, (os.cpu_count() or 1) - 1)


def settle_garbage() -> None:
    """Collect now, then freeze what is left out of the collector's full scans.

    Torch, the engine, matplotlib and the widgets stay loaded for good; left in the scans they
    made each full collection stall the UI for 100-400 ms in the middle of a sweep. Full
    collections are also made rarer (threshold 10 -> ``FULL_GC_EVERY``); young objects are
    still collected as usual, and this runs again whenever a job ends.
    """
    gc.collect()
    gc.freeze()
    gen0, gen1, _ = gc.get_threshold()
    gc.set_threshold(gen0, gen1, FULL_GC_EVERY)


FULL_GC_EVERY = int(os.environ.get("ADVTUI_FULL_GC_EVERY", "100"))


class AdvTUI(App[None]):
    """Adversarial attacks and word embeddings, in the terminal."""

    TITLE = "advtui"
    CSS_PATH = str(asset_path("app.tcss"))
    COMMANDS = App.COMMANDS | {ActionsProvider}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]
    HELP = "Anywhere: switch tabs, help, quit."
    AUTO_FOCUS = "#dataset"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
        Binding("question_mark,f1", "help", "Help"),
        *(
            Binding(f"f{i + 2}", f"show_tab('{p.id}')", f"Go to {p.title}", show=False)
            for i, p in enumerate(PANES)
        ),
    ]

    def __init__(
        self, device: str = "auto", graphics: str | None = None, quit_timeout: float = 30.0
    ) -> None:
        super().__init__()
        self.device_name = device
        self.graphics = graphics  # "kitty", "sixel" or None (see tui.terminal_images)
        self.quit_timeout = quit_timeout
        self.cancel_tokens: set[Any] = set()
        self.engine_device: str | None = None
        self.engine_seconds: float | None = None
        self._quitting = False

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            for spec in PANES:
                with TabPane(spec.title, id=spec.id):
                    yield spec.widget_class()(classes="pane")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"device {self.device_name} · loading engine..."
        if threading.current_thread() is threading.main_thread():
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._on_sigterm)
        # after the first frame: importing torch holds the GIL and would delay the paint
        self.call_after_refresh(self.load_engine)
        if os.environ.get("ADVTUI_FIRST_PAINT"):  # bench/first_paint.py
            self.call_after_refresh(self._first_painted)

    def _first_painted(self) -> None:
        """Record when the first frame was written (wall clock), then leave."""
        with open(os.environ["ADVTUI_FIRST_PAINT"], "w", encoding="utf-8") as fh:
            fh.write(f"{time.time()}\n")
        self.exit()

    # ------------------------------------------------------------------ engine

    @work(thread=True, group="engine", exit_on_error=False)
    def load_engine(self) -> None:
        """Import torch and the engine, pick the device, and let each pane gather its data."""
        start = time.perf_counter()
        try:
            import torch

            torch.set_num_threads(torch_threads())
            from engine.jobs import device_label, pick_device

            label = device_label(pick_device(self.device_name))
            extras = {}
            for spec in PANES:
                loader = getattr(spec.widget_class(), "load_engine", None)
                if loader is not None:
                    extras[spec.id] = loader()
        except Exception as exc:
            self.post_message(EngineFailed(*describe_error(exc)))
            return
        self.post_message(EngineReady(label, time.perf_counter() - start, extras))

    def on_engine_ready(self, msg: EngineReady) -> None:
        settle_garbage()
        self.engine_device, self.engine_seconds = msg.device, msg.seconds
        self.sub_title = f"{msg.device} · engine ready"
        for spec in PANES:
            if spec.id in msg.extras:
                pane = self.query_one(f"#{spec.id} .pane")
                pane.engine_ready(msg.extras[spec.id])

    def on_job_finished(self) -> None:
        settle_garbage()
        for pane in self.query(".pane"):  # a job wrote or changed a run folder
            pane.post_message(RunsChanged())

    def on_open_run(self, msg: OpenRun) -> None:
        """The Runs tab opens a run: the pane that made it shows it, and comes to the front."""
        spec = next((p for p in PANES if msg.kind in p.kinds), None)
        if spec is None:
            self.notify(f"{msg.kind} runs open in the Runs tab only", severity="warning")
            return
        self.query_one(f"#{spec.id} .pane").post_message(ShowRun(msg.path, msg.kind, msg.name))
        self.action_show_tab(spec.id)

    def on_model_source(self, msg: ModelSource) -> None:
        """A pane offers a model to answer from: every pane that answers queries hears of it."""
        for pane in self.query(".pane"):
            pane.post_message(UseModel(msg))

    def on_engine_failed(self, msg: EngineFailed) -> None:
        self.sub_title = f"engine failed: {msg.title}"
        self.notify(msg.message, title=msg.title, severity="error", timeout=15)

    # ------------------------------------------------------------------ actions

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def busy_workers(self) -> list[Any]:
        return [w for w in self.workers if w.group == "job" and w.is_running]

    async def action_quit(self) -> None:
        """Quit; with a job running, ask once first (the job would stop after its batch)."""
        if self._quitting or isinstance(self.screen, QuitScreen):
            return
        busy = self.busy_workers()
        if not busy:
            await self.stop_jobs_and_exit()
            return

        async def answered(quit_: bool | None) -> None:
            if quit_:
                await self.stop_jobs_and_exit()

        await self.push_screen(QuitScreen(len(busy)), answered)

    async def stop_jobs_and_exit(self, reason: str = "the app was quit") -> None:
        """Cancel every job, give them time to finish their batch and write their records."""
        if self._quitting:
            return
        self._quitting = True
        for token in list(self.cancel_tokens):
            token.cancel(reason)
        busy = self.busy_workers()
        if busy:
            self.notify("stopping: jobs finish their batch and write their run records")
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(w.wait() for w in busy), return_exceptions=True),
                    self.quit_timeout,
                )
            except asyncio.TimeoutError:
                pass
        self.exit()

    def _on_sigterm(self) -> None:
        """SIGTERM (a session closed, a job scheduler): as a confirmed quit."""
        self.run_worker(self.stop_jobs_and_exit("terminated (SIGTERM)"), group="quit")
