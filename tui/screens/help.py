"""The help screen: every key, section by section, generated from the bindings (``tui.keys``)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keys import GENERIC, Section, collect


def help_table(sections: list[Section]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for section in sections:
        table.add_row(Text(section.title, style="bold underline"), Text(section.help, style="dim"))
        for key in section.keys:
            table.add_row(key.keys, key.description)
        table.add_row("", "")
    table.add_row(Text("Everywhere", style="bold underline"), "")
    for keys, what in GENERIC:
        table.add_row(keys, what)
    return table


class HelpScreen(ModalScreen[None]):
    """Lists the keys of the screen it was opened over; esc, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close help")]

    def __init__(self, over: Any) -> None:
        super().__init__()
        self.sections = collect(over.app, over)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Keys"
            box.border_subtitle = "esc closes"
            yield Static(help_table(self.sections), id="help-table")

    def key_lines(self) -> list[tuple[str, str]]:
        return [(k.keys, k.description) for s in self.sections for k in s.keys]

    def action_close(self) -> None:
        self.dismiss(None)
