"""The app's tabs, in order (F2, F3, ...). Adding a pane is one line here.

``widget`` is ``"module:Class"``, imported when the app composes (pane modules must not import
torch at import time). A pane class may define ``load_engine()`` (a static method run on the
engine-loading thread, after torch is in) and ``engine_ready(data)`` (called on the UI thread
with what ``load_engine`` returned).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class PaneSpec:
    """A tab: its id, title, widget, and the run kinds it opens (``advtui runs`` kinds)."""

    id: str
    title: str
    widget: str
    kinds: tuple[str, ...] = ()

    def widget_class(self) -> type[Any]:
        module, _, name = self.widget.partition(":")
        return getattr(import_module(module), name)


PANES: tuple[PaneSpec, ...] = (
    PaneSpec("attack-lab", "Attack lab", "tui.panes.attack_lab:AttackLab", ("sweep",)),
    PaneSpec("embeddings", "Embeddings", "tui.panes.embeddings:EmbeddingsPane", ("words",)),
    PaneSpec("words", "Words", "tui.panes.words:WordsPane"),
    PaneSpec("runs", "Runs", "tui.panes.runs:RunsPane"),
)
