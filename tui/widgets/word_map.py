"""The Embeddings tab's live word map: a fixed set of frequent words placed by PCA after every
epoch (``engine.words.events.WordMap``), drawn by ``tui.render.word_map`` as the Words
console draws a ``map`` answer. Watching it, one sees the words sort themselves: names with
names, verbs with verbs, as the model trains."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from tui import render

WAITING = "word map: the most frequent words, placed anew after every epoch (train to see it)"


class WordMapView(Static):
    """The last ``WordMap`` received, redrawn to the widget's size."""

    HELP = "Word map: frequent words by PCA of their vectors, redrawn every epoch."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(WAITING, **kwargs)
        self.word_map: Any = None

    def show(self, word_map: Any) -> None:
        self.word_map = word_map
        self._draw()

    def clear(self) -> None:
        self.word_map = None
        self.update(WAITING)

    def on_resize(self) -> None:
        self._draw()

    def title(self) -> str:
        w = self.word_map
        kept = "" if w.explained != w.explained else f", {w.explained:.0%} of the variance"
        when = "before training" if w.epoch == 0 else f"epoch {w.epoch}"
        return f"word map \u00b7 {w.model} \u00b7 {when} ({len(w.words)} words{kept})"

    def _draw(self) -> None:
        if self.word_map is None:
            return
        width = max(self.size.width, 20)
        height = max(self.size.height - 1, 5)
        self.update(
            Group(Text(self.title(), style="bold"), render.word_map(self.word_map, width, height))
        )
