"""A placeholder for a pane that has not landed yet."""

from __future__ import annotations

from textual.widgets import Static


class Coming(Static):
    """Says what the pane will do; replaced by the real pane in ``tui.panes.PANES``."""

    def __init__(self, what: str = "", **kwargs) -> None:
        super().__init__(f"Coming soon.\n\n{what}", classes="coming", **kwargs)
