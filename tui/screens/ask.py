"""Small questions in a modal: yes or no before something is lost, and a name to type."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class ConfirmScreen(ModalScreen[bool]):
    """Asks a yes/no question; y confirms, n or esc keeps things as they are."""

    HELP_TITLE = "Confirm"
    HELP = "y: yes, n or esc: no."
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="ask-box"):
            yield Label(self.question, classes="ask-question")
            yield Label("y: yes   n / esc: no", classes="ask-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class NameScreen(ModalScreen[str | None]):
    """Asks for a name (enter keeps it, esc leaves it unchanged)."""

    HELP_TITLE = "Name"
    HELP = "Type the name; enter keeps it, esc cancels."
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.question, self.value = question, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="ask-box"):
            yield Label(self.question, classes="ask-question")
            yield Input(self.value, id="ask-name", compact=True)
            yield Label("enter: rename   esc: cancel", classes="ask-keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
