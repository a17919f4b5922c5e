"""The evaluation files a training run scores each epoch: the user's, or the shipped ones.

Two small public sets ship gzip-compressed in ``assets/`` so a fresh machine with no network
scores its vectors: word2vec's ``questions-words`` analogies (Mikolov et al. 2013, Apache-2.0,
19,544 questions) and WordSim353 (Finkelstein et al. 2002, 353 pairs, freely distributed by
its authors; gensim ships the same file). ``auto`` (the default) uses a shipped set only when
the run's vocabulary covers enough of it, because a score over a sliver of the questions does
not compare with published ones: the tinyshakespeare vocabulary answers 3.4% of the analogy
questions, a 4-million-word English corpus 54%. Whether used or not, the coverage is said.
Torch-free: reading the files and counting the covered items needs no vectors.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from assets import asset_path

AUTO = "auto"
OFF = ("", "none", "off")
SHIPPED = {
    "analogies": asset_path("questions-words.txt.gz"),
    "pairs": asset_path("wordsim353.tsv.gz"),
}
TITLES = {"analogies": "questions-words", "pairs": "wordsim353"}
# ``auto`` scores a shipped set only when the vocabulary covers at least this share of its
# items, and this many of them (the analogy search looks at the 30,000 most frequent words).
MIN_SHARE = {"analogies": 0.10, "pairs": 0.25}
MIN_ITEMS = {"analogies": 100, "pairs": 30}
RESTRICT = 30_000


def resolve(kind: str, value: str | None) -> str | None:
    """The file a ``kind`` field (analogies or pairs) names: ``auto`` is the shipped set,
    empty / none / off is no file, anything else is the user's path."""
    if value is None or value.strip().lower() in OFF:
        return None
    if value.strip().lower() == AUTO:
        return str(SHIPPED[kind])
    return value


def is_auto(value: str | None) -> bool:
    return value is not None and value.strip().lower() == AUTO


def check_value(value: str) -> str | None:
    """A field's check: auto, off, or an existing file."""
    if value.strip().lower() in (AUTO, *OFF):
        return None
    if not Path(value).expanduser().is_file():
        return f"must be auto, none or an existing file, got {value!r}"
    return None


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
