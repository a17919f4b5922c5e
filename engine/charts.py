"""PNG pictures for headless use: several runs' curves overlaid, and a word map.

matplotlib's Agg backend, so they draw over SSH with no display. The terminal draws the same
data itself (``tui/widgets/curves.py``, ``tui/render.py``); these are for reports and slides.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.run_index import Overlay
from engine.words.events import WordMap


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def overlay_png(data: Overlay, path: str | os.PathLike[str]) -> Path:
    """One line per run (colour by run, legend by name); a sweep's budgets on a symlog axis
    when they span decades, as the sweep's own curve does."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for label, pts in data.series.items():
        ax.plot([x for x, _ in pts], [y for _, y in pts], "o-", label=label, ms=3)
    budgets = [x for pts in data.series.values() for x, _ in pts if x > 0]
    if data.kind == "sweep" and budgets and max(budgets) / min(budgets) > 30:
        ax.set_xscale("symlog", linthresh=min(budgets))
        ax.set_xlim(left=0)
    ax.set_xlabel(data.xlabel)
    ax.set_ylabel(data.metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"{len(data.series)} curves: {data.metric} by {data.xlabel}", fontsize=10)
    fig.tight_layout()
    out = Path(path).expanduser()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def word_map_png(word_map: WordMap, path: str | os.PathLike[str], title: str = "") -> Path:
    """The words as labelled points (the highlighted ones in bold, larger)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    for word, (x, y) in zip(word_map.words, word_map.xy, strict=True):
        lit = word in word_map.highlight
        ax.scatter([x], [y], s=40 if lit else 14, color="tab:orange" if lit else "tab:blue")
        ax.annotate(word, (x, y), xytext=(4, 3), textcoords="offset points",
                    fontsize=10 if lit else 8, fontweight="bold" if lit else "normal")  # fmt: skip
    kept = word_map.explained
    note = "" if kept != kept else f" ({kept:.0%} of the variance)"
    ax.set_title(title or f"PCA of {len(word_map.words)} word vectors{note}", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    out = Path(path).expanduser()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
