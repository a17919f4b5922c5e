"""The evaluation files a training run scores each epoch: the user's, or the shipped ones.

Two small public sets ship gzip-compressed in ``assets/`` so a fresh machine with no network
scores its vectors: word2vec's ``questions-words`` analogies (Mikolov et al. 2013, Apache-2.0,
19,544 questions) and WordSim353 (Finkelstein et al. 2002, 353 pairs, freely distributed by
its authors; gensim ships the same file). ``auto`` (the default) uses a shipped set only when
the run's vocabulary covers enough of it, because a score over a sliver of the questions does
not compare with published ones: the tinyshakespeare vocabulary answers 3.4% of the analogy
questions, a 4-million-word English corpus 54%. Whether used or not, the coverage is said
(:mod:`engine.words.coverage`). A torch-free leaf: the words config imports it.
"""

from __future__ import annotations

from assets import asset_path
from engine.fields import shown
from engine.files import kind

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
    if kind(value) != "file":
        return f"must be auto, none or an existing file, got {shown(value)}"
    return None
