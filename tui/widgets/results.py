"""The sweep's numbers as a table: one row per finished (attack, budget), in arrival order,
with the cells the CLI prints (``tui.render.sweep_cells``)."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from tui.render import SWEEP_COLUMNS, sweep_cells


class ResultsTable(DataTable):
    """Budget, accuracy and success per attack, iterations, perturbation sizes, PSNR, SSIM, time."""

    HELP = "Sweep results: one row per finished budget; arrows move, the table scrolls."

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns(*SWEEP_COLUMNS)

    def reset(self) -> None:
        self.clear()

    def add_point(self, point: Any) -> None:
        self.add_row(*sweep_cells(point))
        self.move_cursor(row=self.row_count - 1)

    def rows_text(self) -> list[tuple[str, ...]]:
        return [tuple(str(c) for c in self.get_row_at(i)) for i in range(self.row_count)]
