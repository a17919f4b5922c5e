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
    """Title, summary and tables of a ``QueryAnswer``; tables side by side where they fit; a
    ``map`` answer's plane beside its table, or above it when narrow."""
    parts: list[RenderableType] = [Text(answer.title, style="bold")]
    if answer.summary:
        parts.append(Text(answer.summary))
    tables: list[RenderableType] = [answer_table(t) for t in answer.tables]
    if answer.map is not None:
        beside = width >= MAP_MIN_WIDTH + TABLE_ROOM
        map_width = min(MAP_MAX_WIDTH, width - TABLE_ROOM if beside else width)
        plane = word_map(answer.map, map_width, map_height(map_width))
        if not beside:
            parts.append(plane)
        else:
            tables = [plane, *tables]
    fits = len(tables) * (TABLE_WIDTH + 2) <= width
    if (len(tables) > 1) if answer.map is not None else (tables and fits):
        grid = Table.grid(padding=(0, 3))
        for _ in tables:
            grid.add_column(no_wrap=True)
        grid.add_row(*tables)
        parts.append(grid)
    else:
        parts.extend(tables)
    return Group(*parts)


# --------------------------------------------------------------------------- word maps

MAP_MIN_WIDTH = 36
MAP_MAX_WIDTH = 72
TABLE_ROOM = 38  # an answer table at its widest (35 cells) and the gap before it
DOT, HIGHLIGHT_DOT = "+", "*"  # ASCII: bullets are two cells wide in some terminals and fonts
DOTS = (DOT, HIGHLIGHT_DOT)


def map_height(width: int) -> int:
    """Rows for a map ``width`` cells wide: cells are about twice as tall as wide."""
    return max(7, min(16, width // 3))


def _place(grid: list[list[Any]], row: int, col: int, text: str, style: str) -> bool:
    """Write ``text`` at (row, col) if its cells are free and inside, and it does not run into
    another label (a dot may touch it); say whether it was written."""
    cells = grid[row]
    end = col + len(text)
    if col < 0 or end > len(cells) or any(c is not None for c in cells[col:end]):
        return False
    for edge in (col - 1, end):
        if 0 <= edge < len(cells) and cells[edge] is not None and cells[edge][0] not in DOTS:
            return False
    for i, ch in enumerate(text):
        cells[col + i] = (ch, style)
    return True


def word_map(word_map: Any, width: int = 60, height: int = 16) -> Text:
    """A ``WordMap`` drawn as text: a dot per word, its label beside it where there is room
    (right, else left; the highlighted words first, then in the map's order). A frame marks the
    plane; the axes are the two principal components (their units mean nothing)."""
    inner_w, inner_h = max(8, width - 2), max(3, height - 2)
    grid: list[list[Any]] = [[None] * inner_w for _ in range(inner_h)]
    xs = [x for x, _ in word_map.xy] or [0.0]
    ys = [y for _, y in word_map.xy] or [0.0]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    spot = []
    for x, y in word_map.xy:
        col = round((x - x0) / (x1 - x0) * (inner_w - 1)) if x1 > x0 else inner_w // 2
        row = round((y1 - y) / (y1 - y0) * (inner_h - 1)) if y1 > y0 else inner_h // 2
        spot.append((row, col))
    order = sorted(range(len(spot)), key=lambda i: word_map.words[i] not in word_map.highlight)
    for i in order:  # dots first, so labels never cover a dot
        row, col = spot[i]
        lit = word_map.words[i] in word_map.highlight
        grid[row][col] = (HIGHLIGHT_DOT if lit else DOT, "bold yellow" if lit else "cyan")
    for i in order:
        row, col = spot[i]
        label = word_map.words[i]
        style = "bold yellow" if label in word_map.highlight else ""
        tries = [(row, col + 1), (row, col - len(label))]
        tries += [
            (r, c)
            for r in (row - 1, row + 1)
            if 0 <= r < inner_h
            for c in (col, col - len(label) + 1)
        ]
        any(_place(grid, r, c, label, style) for r, c in tries)
    return _framed(grid)


def _framed(grid: list[list[Any]]) -> Text:
    """The grid inside a thin frame, as one Text."""
    width = len(grid[0])
    out = Text("\u250c" + "\u2500" * width + "\u2510\n", style="dim", no_wrap=True)
    for cells in grid:
        out.append("\u2502", style="dim")
        for cell in cells:
            out.append(" ") if cell is None else out.append(cell[0], style=cell[1])
        out.append("\u2502\n", style="dim")
    out.append("\u2514" + "\u2500" * width + "\u2518", style="dim")
    return out


# --------------------------------------------------------------------------- runs

RUN_COLUMNS = ("date", "kind", "name", "settings", "status", "headline")
STATUS_STYLE = {"finished": "green", "cancelled": "yellow", "failed": "red", "running": "cyan"}


def run_cells(run: Any) -> tuple[str, ...]:
    """A ``RunInfo`` as the cells of one row of the runs list."""
    status = run.status + (f": {run.reason}" if run.reason else "")
    return (run.date, run.kind, run.name, run.settings, status, run.headline)


def runs_table(runs: list[Any]) -> Table:
    """The runs list, newest first (``advtui runs list``)."""
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for col in RUN_COLUMNS:
        table.add_column(col, no_wrap=col in ("date", "kind", "status"))
    for run in runs:
        cells = run_cells(run)
        table.add_row(
            *cells[:4], Text(cells[4], style=STATUS_STYLE.get(run.status, "dim")), cells[5]
        )
    return table


def rows_table(
    kind: str, rows: list[dict[str, Any]], columns: tuple[str, ...] = SWEEP_COLUMNS
) -> Table:
    """A run's rows as its own pane shows them: a sweep's points (``columns`` of them), a words
    run's epochs, or the columns as they are (classifier epochs, evaluation scores)."""
    if kind == "sweep":
        from engine.vision.events import SweepPoint

        names = SweepPoint.__dataclass_fields__
        table = Table(header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        keep = [i for i, col in enumerate(SWEEP_COLUMNS) if col in columns]
        for i in keep:
            col = SWEEP_COLUMNS[i]
            table.add_column(col, justify="left" if col == "attack" else "right", no_wrap=True)
        for row in rows:
            cells = sweep_cells(SweepPoint(**{k: v for k, v in row.items() if k in names}))
            table.add_row(*(cells[i] for i in keep))
        return table
    if kind == "words":
        from engine.words.events import EpochEnd

        names = EpochEnd.__dataclass_fields__
        return epoch_table([EpochEnd(**{k: v for k, v in r.items() if k in names}) for r in rows])
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    for col in columns:
        table.add_column(col, justify="right", no_wrap=True)
    for r in rows:
        table.add_row(
            *(
                _metric(v) if isinstance(v, float) else str(v)
                for v in (r.get(c, "") for c in columns)
            )
        )
    return table
