"""Parse budget lists as users type them: ``0,0.001,0.01``, ``0:0.1:0.01`` or ``2/255,8/255``.

A range ``start:stop:step`` includes ``stop`` when the steps land on it (within rounding), as
people mean when they write ``0:0.1:0.01``. Values come back sorted and de-duplicated.
"""

from __future__ import annotations

import math
from fractions import Fraction

from engine.errors import UsageError


def _number(text: str) -> float:
    text = text.strip()
    try:
        value = float(Fraction(text)) if "/" in text else float(text)
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"not a number in budget list: {text!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"budget must be finite, got {text!r}")
    return value


def parse_budgets(text: str, integer: bool = False) -> list[float]:
    """Budgets from ``text``; ``integer`` for pixel counts. Errors are one-line UsageErrors."""
    text = (text or "").strip()
    if not text:
        raise UsageError("empty budget list; e.g. 0,0.001,0.01 or 0:0.1:0.01")
    values: list[float] = []
    for part in text.split(","):
        if not part.strip():
            continue
        if ":" in part:
            pieces = part.split(":")
            if len(pieces) != 3:
                raise UsageError(f"a range is start:stop:step, got {part.strip()!r}")
            start, stop, step = (_number(p) for p in pieces)
            if step <= 0 or stop < start:
                raise UsageError(f"range {part.strip()!r} needs step > 0 and stop >= start")
            count = math.floor((stop - start) / step + 1e-9) + 1
            if count > 1000:
                raise UsageError(f"range {part.strip()!r} has {count} budgets; 1000 at most")
            values += [round(start + i * step, 12) for i in range(count)]
        else:
            values.append(_number(part))
    if any(v < 0 for v in values):
        raise UsageError("budgets must be >= 0")
    if integer:
        if any(v != int(v) for v in values):
            raise UsageError("pixel budgets are whole numbers, e.g. 0,1,5,10")
        values = [float(int(v)) for v in values]
    return sorted(set(values))
