"""The Words console's output: each query's answer as Rich tables in a scrolling log.

Answers arrive as the engine's plain data (``engine.words.commands.QueryAnswer``: a title, a
summary line and ``(word, score)`` tables), drawn by ``tui.render.answer`` as the CLI draws
them: tables side by side (context words next to neighbours, untrained next to trained),
stacked when the log is too narrow. Plain copies of every line are kept (``plain``), and the
answers themselves (``answers``), so tests read what was shown.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from tui import render
from tui.widgets.log import LogPane


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
        self.write(render.answer(answer, width))
