"""Live accuracy-vs-budget curves (textual-plotext), one plot per budget axis in the sweep.

Each (model, attack) is one curve (named by the attack alone when one model is swept); a point
is added when its budget finishes. Budgets are spaced evenly (the defaults span two decades, so
a linear axis would crush the small ones) and labelled with their values. A vertical line marks
each curve's plausibility threshold: the largest budget whose mean SSIM stays above the bar. A
red ``x`` marks a point with a gradient-masking flag (``engine.vision.masking``).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual_plotext import PlotextPlot

from tui import format as fmt

AXIS_TITLE = {"eps": "epsilon", "pixels": "pixels"}
COLORS = ("cyan", "magenta", "yellow", "green", "red", "blue", "white")


class AccuracyPlot(PlotextPlot):
    """Robust accuracy against budget on one axis ('eps' or 'pixels')."""

    def __init__(self, axis: str, budgets: tuple[float, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis
        self.budgets = list(budgets)
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.thresholds: dict[str, float | None] = {}
        self.ssim_bar = 0.95
        self.clean: float | None = None
        self.flagged: list[tuple[float, float]] = []  # (budget, accuracy) with a masking flag

    @property
    def xlabel(self) -> str:
        return AXIS_TITLE.get(self.axis, self.axis)

    def add_point(self, attack: str, budget: float, accuracy: float) -> None:
        self.series.setdefault(attack, []).append((budget, accuracy))
        if budget not in self.budgets:
            self.budgets = sorted({*self.budgets, budget})
        self.replot()

    def set_threshold(self, attack: str, budget: float | None) -> None:
        if attack in self.thresholds and self.thresholds[attack] == budget:
            return
        self.thresholds[attack] = budget
        self.replot()

    def set_flagged(self, points: list[tuple[float, float]]) -> None:
        if points != self.flagged:
            self.flagged = points
            self.replot()

    def _x(self, budget: float) -> int:
        return self.budgets.index(budget)

    def replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"accuracy vs {self.xlabel}")
        plt.xlabel(self.xlabel)
        plt.ylim(0, 1)
        if self.budgets:
            n = len(self.budgets)
            step = max(1, -(-n * 7 // max(self.size.width - 8, 8)))  # keep labels apart
            ticks = list(range(0, n, step))
            plt.xticks(ticks, [fmt.budget(self.budgets[i]) for i in ticks])
            plt.xlim(-0.2, n - 0.8)
        for k, (attack, points) in enumerate(self.series.items()):
            color = COLORS[k % len(COLORS)]
            if points:
                xs = [self._x(b) for b, _ in points]
                plt.plot(xs, [a for _, a in points], label=attack, color=color, marker="dot")
            threshold = self.thresholds.get(attack)
            if threshold is not None and threshold in self.budgets:
                plt.vline(self._x(threshold), color=color)
        marks = [(b, a) for b, a in self.flagged if b in self.budgets]
        if marks:
            xs, ys = [self._x(b) for b, _ in marks], [a for _, a in marks]
            plt.scatter(xs, ys, marker="x", color="red", label="masking?")
        self.refresh()

    def on_resize(self) -> None:
        self.replot()


class PlotPanel(Horizontal):
    """Holds one :class:`AccuracyPlot` per budget axis of the current sweep."""

    def compose(self) -> ComposeResult:
        yield AccuracyPlot("eps", (), classes="accuracy-plot")

    def plots(self) -> dict[str, AccuracyPlot]:
        return {p.axis: p for p in self.query(AccuracyPlot)}

    async def start(self, started: Any) -> None:
        """Fresh plots for a sweep (``SweepStarted``): one per axis used, each (model, attack)
        an (empty) curve, the models' curves of one attack side by side in the legend."""
        await self.remove_children()
        self.started = started
        by_axis: dict[str, list[str]] = {}
        for attack, axis in started.axes.items():
            by_axis.setdefault(axis, []).append(attack)
        plots = []
        for axis, attacks in by_axis.items():
            plot = AccuracyPlot(axis, started.budgets[attacks[0]], classes="accuracy-plot")
            for model, attack in started.curves():
                if attack in attacks:
                    plot.series[started.label(model, attack)] = []
            plots.append(plot)
        await self.mount_all(plots)
        for plot in plots:
            plot.replot()

    def add_point(self, point: Any) -> None:
        plot = self.plots().get(point.axis)
        if plot is not None:
            plot.add_point(self.started.label(point.model, point.attack), point.budget,
                           point.accuracy)  # fmt: skip

    def set_thresholds(self, axes: dict[str, str], thresholds: dict[str, float | None]) -> None:
        """Thresholds by curve label (``axes`` by attack)."""
        plots = self.plots()
        for model, attack in self.started.curves():
            label = self.started.label(model, attack)
            plot = plots.get(axes.get(attack, "eps"))
            if plot is not None and label in thresholds:
                plot.set_threshold(label, thresholds[label])

    def set_flags(self, points: list[Any], flags: dict) -> None:
        """Mark the points that carry a gradient-masking flag, each on its axis's plot."""
        for axis, plot in self.plots().items():
            plot.set_flagged(
                [(p.budget, p.accuracy) for p in points
                 if p.axis == axis and (p.model, p.attack, p.budget) in flags]
            )  # fmt: skip

    def series(self) -> dict[str, list[tuple[float, float]]]:
        """Every curve on show, by attack: (budget, accuracy) points in arrival order."""
        out: dict[str, list[tuple[float, float]]] = {}
        for plot in self.plots().values():
            out.update({a: list(pts) for a, pts in plot.series.items()})
        return out
