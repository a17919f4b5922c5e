"""Events a words training job emits beyond the generic ones in :mod:`engine.jobs`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TrainingStarted:
    """The vocabulary is built and the model exists: ``snapshot()`` works from now on."""

    model: str
    vocab_size: int
    total_words: int  # words one epoch streams (after min_count, before subsampling)
    epochs: int
    device: str = "cpu"


@dataclass(frozen=True)
class EpochEnd:
    """One epoch finished: its mean loss and the epoch metrics (``accuracy``, ``wordsim``...)."""

    model: str
    epoch: int  # 1-based
    loss: float
    seconds: float
    words_per_s: float
    metrics: dict[str, float] = field(default_factory=dict)
