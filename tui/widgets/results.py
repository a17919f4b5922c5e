"""The sweep's numbers as a table: one row per finished (attack, budget), in arrival order,
with the cells the CLI prints (``tui.render.sweep_cells``)."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from tui.render import SWEEP_COLUMNS, masking_cell, sweep_cells


class ResultsTable(DataTable):
    """Model, attack, budget, accuracy, masking flags, success, iterations, perturbation sizes,
    PSNR, SSIM, time."""

    HELP = "Sweep results: one row per finished budget; arrows move, the table scrolls."

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for col in SWEEP_COLUMNS:
            self.add_column(col, key=col)

    def reset(self) -> None:
        self.clear()

    def add_point(self, point: Any, flags: dict | None = None) -> None:
        """A row for the point; the masking column of every row follows ``flags`` (a new
        point can raise a flag on an earlier one)."""
        self.add_row(*sweep_cells(point), key=_key(point))
        self.move_cursor(row=self.row_count - 1)
        if flags is not None:
            self.set_flags(flags)

    def set_flags(self, flags: dict) -> None:
        for row_key in list(self.rows):
            cell = masking_cell(flags.get(_unkey(str(row_key.value)), ()))
            if self.get_cell(row_key, "masking") != cell:
                self.update_cell(row_key, "masking", cell)

    def rows_text(self) -> list[tuple[str, ...]]:
        return [tuple(str(c) for c in self.get_row_at(i)) for i in range(self.row_count)]


def _key(point: Any) -> str:
    return f"{point.model}\t{point.attack}\t{point.budget!r}"


def _unkey(key: str) -> tuple[str, str, float]:
    model, attack, budget = key.split("\t")
    return model, attack, float(budget)
