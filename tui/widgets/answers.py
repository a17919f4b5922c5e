"""The Words console's output: each query's answer as Rich tables in a scrolling log.

Answers arrive as the engine's plain data (``engine.words.commands.QueryAnswer``: a title, a
summary line and ``(word, score)`` tables); this module only draws them. Tables sit side by
side (context words next to neighbours, untrained next to trained) and stack when the log is
too narrow. Plain copies of every line are kept (``plain``), and the answers themselves
(``answers``), so tests read what was shown.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tui.widgets.log import LogPane

TABLE_WIDTH = 30  # a (word, score) table: word 20 cells, score 7, borders


def answer_table(table: Any) -> Table:
    """One ``AnswerTable`` as a Rich table: rank, word, score."""
    out = Table(
        title=table.title,
        title_style="bold",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
        box=None,
        header_style="dim",
        min_width=TABLE_WIDTH - 4,
    )
    out.add_column("#", style="dim", justify="right", width=2)
    out.add_column(table.columns[0], style="cyan", max_width=20, no_wrap=True, overflow="ellipsis")
    out.add_column(table.columns[1], justify="right", width=7)
    for rank, (word, score) in enumerate(table.rows, 1):
        out.add_row(str(rank), word, f"{score:.3f}")
    return out


def render_answer(answer: Any, width: int = 80) -> RenderableType:
    """Title, summary and tables of a ``QueryAnswer``, tables side by side where they fit."""
    parts: list[RenderableType] = [Text(answer.title, style="bold")]
    if answer.summary:
        parts.append(Text(answer.summary))
    tables = [answer_table(t) for t in answer.tables]
    if tables and len(tables) * (TABLE_WIDTH + 2) <= width:
        grid = Table.grid(padding=(0, 3))
        for _ in tables:
            grid.add_column()
        grid.add_row(*tables)
        parts.append(grid)
    else:
        parts.extend(tables)
    return Group(*parts)


class AnswerLog(LogPane):
    """The console's scrollback: echoed queries, answers, usage hints and errors."""

    HELP = "Answers: the console's scrollback."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answers: list[Any] = []

    def echo(self, line: str) -> None:
        self.plain.append(f"> {line}")
        self.write(Text(f"> {line}", style="bold green"))

    def answer(self, answer: Any) -> None:
        self.answers.append(answer)
        self.plain.extend(answer.lines())
        width = self.scrollable_content_region.width or 80
        self.write(render_answer(answer, width))
