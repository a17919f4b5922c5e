"""How much of an evaluation set a vocabulary covers, and whether ``auto`` scores it then.

Counting the covered items reads the file, not the vectors, so a run says before its first
epoch which sets it will score and on what share of their items (see
:mod:`engine.words.evalsets` for the shipped sets and the thresholds).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from engine.words.evalsets import MIN_ITEMS, MIN_SHARE, RESTRICT, TITLES


@dataclass(frozen=True)
class Coverage:
    """How many of a set's items (questions, pairs) have all their words in the vocabulary."""

    kind: str
    path: str
    covered: int
    total: int
    auto: bool = False

    @property
    def share(self) -> float:
        return self.covered / self.total if self.total else 0.0

    @property
    def enough(self) -> bool:
        """Whether ``auto`` scores it (a file the user named is always scored)."""
        if not self.auto:
            return self.covered > 0
        return self.share >= MIN_SHARE[self.kind] and self.covered >= MIN_ITEMS[self.kind]

    @property
    def name(self) -> str:
        return f"{TITLES[self.kind]} (shipped)" if self.auto else Path(self.path).name

    def line(self) -> str:
        """One line for the log: the coverage, and whether the set is scored each epoch."""
        unit = "questions" if self.kind == "analogies" else "pairs"
        head = (
            f"{self.name}: {self.covered:,} of {self.total:,} {unit} in the vocabulary "
            f"({self.share:.1%})"
        )
        if self.enough:
            return head + "; scored every epoch"
        if self.auto:
            floor = f"{MIN_SHARE[self.kind]:.0%} and {MIN_ITEMS[self.kind]} {unit}"
            return head + f"; under {floor}: not scored (name the file to score it anyway)"
        return head + "; nothing to score"


def coverage(kind: str, path: str, vocabulary: Collection[str], auto: bool = False) -> Coverage:
    """Count the items of ``path`` whose words are all among the first words of ``vocabulary``
    (lower-cased, as the scorers look them up)."""
    from engine.words.evaluate import read_analogies, read_pairs

    words = list(vocabulary)[:RESTRICT] if kind == "analogies" else vocabulary
    known = {w.lower() for w in words}
    if kind == "analogies":
        items = [q for _, section in read_analogies(path) for q in section]
    else:
        items = [(a, b) for a, b, _ in read_pairs(path)]
    covered = sum(all(w in known for w in item) for item in items)
    return Coverage(kind, str(path), covered, len(items), auto)
