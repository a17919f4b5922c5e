"""How numbers read on screen. Widgets call these through the module (``fmt.seconds(x)``) so a
snapshot test can freeze the ones that depend on the clock (time, rate, ETA, run folders)."""

from __future__ import annotations

import math


def budget(value: float) -> str:
    """``0.001`` as ``0.001``, a pixel count ``5.0`` as ``5``."""
    if value == int(value) and value >= 1:
        return str(int(value))
    return f"{value:g}"


def ratio(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def number(value: float, spec: str = ".3f") -> str:
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    return format(value, spec)


def seconds(value: float) -> str:
    """Elapsed or remaining time: ``0.4s``, ``12s``, ``3:05``."""
    if value is None or math.isnan(value):
        return "-"
    if value < 10:
        return f"{value:.1f}s"
    if value < 60:
        return f"{value:.0f}s"
    minutes, secs = divmod(int(round(value)), 60)
    return f"{minutes}:{secs:02d}"


def rate(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}/s" if value > 0 else f"- {unit}/s"


def eta(value: float | None) -> str:
    return "ETA -" if value is None else f"ETA {seconds(value)}"


def run_dir(path: str | None) -> str:
    return path or "(none)"
