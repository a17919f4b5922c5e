"""Tiny corpora for the words tests: planted co-occurrence pairs, written to temp files."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

# Each pair always appears together; filler words appear everywhere.
PAIRS = [("cat", "kitten"), ("dog", "puppy"), ("king", "queen"), ("sun", "moon"),
         ("bread", "butter"), ("salt", "pepper")]  # fmt: skip
FILLER = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "tau", "rho"]


def planted_lines(n: int = 1500, seed: int = 0) -> list[str]:
    """Sentences of filler around one planted pair, so each pair's words share contexts."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        a, b = rng.choice(PAIRS)
        left = rng.sample(FILLER, 2)
        right = rng.sample(FILLER, 2)
        words = [*left, a, b, *right] if rng.random() < 0.5 else [*left, b, a, *right]
        lines.append(" ".join(words))
    return lines


@pytest.fixture
def planted_file(tmp_path) -> Path:
    path = tmp_path / "planted.txt"
    path.write_text("\n".join(planted_lines()) + "\n", encoding="utf-8")
    return path
