"""Asked once when quitting while a job runs: quit (the job stops after its batch and writes
its run folder) or stay."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class QuitScreen(ModalScreen[bool]):
    """Quit with a job running?"""

    HELP = "A job is running: y quits (it stops after its batch and keeps its run folder)."
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Quit"),
        Binding("n,escape", "answer(False)", "Stay"),
    ]

    def __init__(self, jobs: int) -> None:
        super().__init__()
        self.jobs = jobs

    def compose(self) -> ComposeResult:
        what = "A job is running" if self.jobs == 1 else f"{self.jobs} jobs are running"
        with Vertical(id="quit-box"):
            yield Static(
                f"{what}. Quit anyway? It stops after its current batch and writes its run "
                "folder (resume it later from there).\n\n[b]y[/b] quit    [b]n[/b] / esc stay",
                id="quit-question",
            )

    def action_answer(self, quit_: bool) -> None:
        self.dismiss(quit_)
