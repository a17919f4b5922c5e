"""How results read, written once for the CLI and the app: a sweep row, a sweep's table, an
epoch table, and a words query answer. The CLI prints these Rich renderables; the app's widgets
show the same cells and renderables."""

from __future__ import annotations

import math
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tui import format as fmt

SWEEP_COLUMNS = (
    "model", "attack", "budget", "acc", "masking", "success", "iters", "L-inf", "L2", "L0",
    "PSNR", "SSIM", "time",
)  # fmt: skip
MASKING = SWEEP_COLUMNS.index("masking")
TABLE_WIDTH = 30  # one (word, score) answer table: word 20 cells, score 7, borders


def sweep_cells(p: Any, flags: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A ``SweepPoint`` as the strings of one row (pixel budgets read ``5 px``), with its
    gradient-masking flags (``engine.vision.masking``)."""
    return (
        p.model,
        p.attack,
        fmt.budget(p.budget) + (" px" if p.axis == "pixels" else ""),
        fmt.ratio(p.accuracy),
        masking_cell(flags),
        fmt.ratio(p.success_rate),
        fmt.number(p.mean_iterations, ".2f"),
        fmt.number(p.linf, ".4f"),
        fmt.number(p.l2, ".3f"),
        fmt.number(p.l0, ".1f"),
        fmt.number(p.psnr, ".1f"),
        fmt.number(p.ssim, ".3f"),
        fmt.seconds(p.seconds),
    )


def masking_cell(flags: tuple[str, ...]) -> str:
    """The flags of a point, marked so they stand out in a column of blanks."""
    return "! " + ", ".join(flags) if flags else ""


def masking_lines(flags: dict[tuple[str, str, float], tuple[str, ...]]) -> list[str]:
    """One line per flagged point, saying what the flag means (under the CLI's table)."""
    from engine.vision.masking import FLAG_TEXT

    return [
        f"gradient masking? {model} {attack} at {fmt.budget(budget)}: "
        + "; ".join(FLAG_TEXT[f] for f in found)
        for (model, attack, budget), found in flags.items()
    ]


def thresholds_line(thresholds: dict[str, float | None], bar: float) -> str:
    notes = [f"{a}: {'none' if t is None else f'{t:g}'}" for a, t in thresholds.items()]
    return f"plausibility threshold (mean SSIM >= {bar:g}): " + ", ".join(notes)


def sweep_table(result: Any) -> Table:
    """A sweep's points, never ellipsised (each column as wide as its widest cell)."""
    clean = result.clean or {"": result.clean_accuracy}
    title = ", ".join(f"{m} {a:.2%}".strip() for m, a in clean.items())
    table = Table(
        title=f"clean accuracy {title}",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0, 0, 1),
    )
    flags = result.flags()
    rows = [sweep_cells(p, flags.get((p.model, p.attack, p.budget), ())) for p in result.points]
    for i, col in enumerate(SWEEP_COLUMNS):
        width = max([len(col)] + [len(row[i]) for row in rows])
        justify = "left" if col in ("model", "attack", "masking") else "right"
        table.add_column(col, justify=justify, no_wrap=True, min_width=width)
    for row in rows:
        table.add_row(*row)
    lines = [thresholds_line(result.thresholds(), result.config.ssim_bar), *masking_lines(flags)]
    table.caption = "\n".join(lines)
    return table


def _metric(value: float) -> str:
    """Counts (pairs seen) as integers, scores with three decimals."""
    if math.isfinite(value) and value == int(value) and abs(value) >= 1000:
        return f"{value:,.0f}"
    return fmt.number(value, ".3f")


def epoch_table(history: list[Any]) -> Table:
    """One row per ``EpochEnd``: loss, time, speed and the epoch metrics."""
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    metrics: list[str] = []
    for e in history:
        metrics += [k for k in e.metrics if k not in metrics and k != "loss"]
    for col in ("epoch", "loss", "time", "words/s", *metrics):
        table.add_column(col, justify="right", no_wrap=True)
    for e in history:
        values = [e.metrics.get(k, math.nan) for k in metrics]
        table.add_row(
            str(e.epoch),
            fmt.number(e.loss, ".4f"),
            fmt.seconds(e.seconds),
            f"{e.words_per_s:,.0f}",
            *[_metric(v) for v in values],
        )
    return table


def answer_table(table: Any) -> Table:
    """One ``AnswerTable`` of a query answer: rank, word, score."""
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
        out.add_row(str(rank), word, fmt.number(score, ".3f"))
    return out


def answer(answer: Any, width: int = 80) -> RenderableType:
    """Title, summary and tables of a ``QueryAnswer``; tables side by side where they fit."""
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
