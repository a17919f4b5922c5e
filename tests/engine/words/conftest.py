"""Tiny corpora for the words tests: planted co-occurrence pairs, written to temp files."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

# Each pair: two words used interchangeably in the same topic; filler words appear everywhere.
PAIRS = [("cat", "kitten"), ("dog", "puppy"), ("king", "queen"), ("sun", "moon"),
         ("bread", "butter"), ("salt", "pepper")]  # fmt: skip
FILLER = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "tau", "rho"]


def planted_lines(n: int = 1500, seed: int = 0) -> list[str]:
    """Sentences of one pair's topic words plus one of the pair's two words and some filler.

    The two words of a pair never meet but share all their contexts (their topic words), so
    a skip-gram model must place them next to each other (second-order similarity).
    """
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        i = rng.randrange(len(PAIRS))
        words = [rng.choice(PAIRS[i]), *[f"{PAIRS[i][0]}topic{j}" for j in range(3)]]
        words += rng.sample(FILLER, 2)
        rng.shuffle(words)
        lines.append(" ".join(words))
    return lines


@pytest.fixture
def planted_file(tmp_path) -> Path:
    path = tmp_path / "planted.txt"
    path.write_text("\n".join(planted_lines()) + "\n", encoding="utf-8")
    return path
