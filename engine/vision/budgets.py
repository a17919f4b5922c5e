"""Parse budget lists as users type them: ``0,0.001,0.01``, ``0:0.1:0.01`` or ``2/255,8/255``.

A range ``start:stop:step`` includes ``stop`` when the steps land on it (within rounding), as
people mean when they write ``0:0.1:0.01``. Values come back sorted and de-duplicated.
"""

from __future__ import annotations

import math
from fractions import Fraction

from engine.errors import UsageError

MAX_EPS = 1000.0  # far past any image's L-inf (1) or L2 (sqrt of its size) extent
MAX_PIXELS = 1_000_000  # pixels changed: more than a 1000x1000 image has


def _number(text: str) -> float:
    text = text.strip()
    try:
        value = float(Fraction(text)) if "/" in text else float(text)
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"has {text!r}, which is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"has {text!r}, which is not finite")
    return value


def parse_budgets(text: str, integer: bool = False) -> list[float]:
    """Budgets from ``text``; ``integer`` for pixel counts. Errors are one-line UsageErrors that
    read after the field's name (``eps has 'x', which is not a number``)."""
    text = (text or "").strip()
    if not text:
        raise UsageError("is an empty budget list; e.g. 0,0.001,0.01 or 0:0.1:0.01")
    values: list[float] = []
    for part in text.split(","):
        if not part.strip():
            continue
        if ":" in part:
            pieces = part.split(":")
            if len(pieces) != 3:
                raise UsageError(f"has range {part.strip()!r}; a range is start:stop:step")
            start, stop, step = (_number(p) for p in pieces)
            if step <= 0 or stop < start:
                raise UsageError(f"has range {part.strip()!r}; it needs step > 0 and stop >= start")
            count = math.floor((stop - start) / step + 1e-9) + 1
            if count > 1000:
                raise UsageError(f"has range {part.strip()!r} of {count} budgets; 1000 at most")
            values += [round(start + i * step, 12) for i in range(count)]
        else:
            values.append(_number(part))
    if any(v < 0 for v in values):
        raise UsageError("has a negative budget; budgets must be >= 0")
    limit = MAX_PIXELS if integer else MAX_EPS
    if any(v > limit for v in values):
        raise UsageError(f"has a budget over {limit:g}; budgets must be at most {limit:g}")
    if integer:
        if any(v != int(v) for v in values):
            raise UsageError("must hold whole numbers of pixels, e.g. 0,1,5,10")
        values = [float(int(v)) for v in values]
    return sorted(set(values))
