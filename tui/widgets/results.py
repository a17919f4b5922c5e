"""The sweep's numbers as a table: one row per finished (attack, budget), in arrival order."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from tui import format as fmt

COLUMNS = ("attack", "budget", "acc", "success", "iters", "L-inf", "L2", "L0", "SSIM", "time")


def point_row(p: Any) -> tuple[str, ...]:
    """A ``SweepPoint`` as the strings of one table row (the tests compare these)."""
    return (
        p.attack,
        fmt.budget(p.budget),
        fmt.ratio(p.accuracy),
        fmt.ratio(p.success_rate),
        fmt.number(p.mean_iterations, ".2f"),
        fmt.number(p.linf, ".4f"),
        fmt.number(p.l2, ".3f"),
        fmt.number(p.l0, ".1f"),
        fmt.number(p.ssim, ".3f"),
        fmt.seconds(p.seconds),
    )


class ResultsTable(DataTable):
    """Budget, accuracy and success per attack, iterations, perturbation sizes, SSIM, time."""

    HELP = "Sweep results: one row per finished budget; arrows move, the table scrolls."

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns(*COLUMNS)

    def reset(self) -> None:
        self.clear()

    def add_point(self, point: Any) -> None:
        self.add_row(*point_row(point))
        self.move_cursor(row=self.row_count - 1)

    def rows_text(self) -> list[tuple[str, ...]]:
        return [tuple(str(c) for c in self.get_row_at(i)) for i in range(self.row_count)]
