"""The log pane: what jobs say, warnings, and every error the engine raised (with its title)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

LEVEL_STYLE = {"info": "dim", "warning": "yellow", "error": "bold red"}


class LogPane(RichLog):
    """A RichLog that keeps plain copies of its lines, so tests and exports can read them."""

    HELP = "Log: job messages and engine errors."

    def __init__(self, **kwargs) -> None:
        super().__init__(wrap=True, markup=False, max_lines=500, **kwargs)
        self.plain: list[str] = []

    def add(self, message: str, level: str = "info") -> None:
        self.plain.append(message)
        self.write(Text(message, style=LEVEL_STYLE.get(level, "")))
