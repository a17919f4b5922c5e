"""Training curves (textual-plotext): one curve per run and metric, kept across runs.

Training two models one after the other leaves both curves on the same plot, each labelled by
its run ("classic", "cbow"), as the seed compared SkipGram with CBOW. Points arrive many times
a second while a model trains, so the plot redraws on a timer (at most ``FPS`` times a
second, only when something changed) and thins each curve to a few points per column: a
repaint stays a few milliseconds however long the run.
"""

from __future__ import annotations

from typing import Any

from textual_plotext import PlotextPlot

from tui.widgets.plots import COLORS

FPS = 4


def thin(points: list[tuple[float, float]], keep: int) -> list[tuple[float, float]]:
    """At most ``keep`` points, evenly spaced, the last one always kept."""
    if len(points) <= keep or keep < 2:
        return points
    step = (len(points) - 1) / (keep - 1)
    return [points[round(i * step)] for i in range(keep)]


class CurvePlot(PlotextPlot):
    """Named curves against a step axis; ``series`` holds every point added, by label."""

    def __init__(
        self,
        title: str,
        xlabel: str,
        ylim: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.xlabel = xlabel
        self.ylim = ylim
        self.series: dict[str, list[tuple[float, float]]] = {}
        self._dirty = True

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(1 / FPS, self._flush)
        self.replot()

    # ------------------------------------------------------------------ data

    def add(self, label: str, x: float, y: float) -> None:
        self.series.setdefault(label, []).append((float(x), float(y)))
        self._dirty = True

    def start(self, label: str) -> None:
        """An (empty) curve for a run that has just begun: it gets its colour now."""
        self.series.setdefault(label, [])
        self._dirty = True

    def clear(self) -> None:
        self.series.clear()
        self._dirty = True

    def show(self, title: str, xlabel: str, series: dict[str, list[tuple[float, float]]]) -> None:
        """Replace every curve (a run opened from the Runs tab, an overlay of several)."""
        self.title, self.xlabel = title, xlabel
        self.series = {label: list(points) for label, points in series.items()}
        self._dirty = True

    # ------------------------------------------------------------------ drawing

    def _flush(self) -> None:
        if self._dirty:
            self.replot()

    def replot(self) -> None:
        self._dirty = False
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        plt.xlabel(self.xlabel)
        if self.ylim is not None:
            plt.ylim(*self.ylim)
        keep = max(self.size.width, 40)
        for k, (label, points) in enumerate(self.series.items()):
            if not points:
                continue
            pts = thin(points, keep)
            marker = "dot" if len(points) < 3 else "braille"
            plt.plot(
                [x for x, _ in pts],
                [y for _, y in pts],
                label=label,
                color=COLORS[k % len(COLORS)],
                marker=marker,
            )
        self.refresh()

    def on_resize(self) -> None:
        self.replot()
