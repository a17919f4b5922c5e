"""What a words training run measures and shows after every epoch, apart from its loss.

- ``context_acc``: the seed's context accuracy on the held-out end of the corpus
  (:mod:`engine.words.heldout`), for every model;
- ``analogy`` / ``wordsim`` / ``simlex``: the evaluation files, the user's or the shipped
  ones when the vocabulary covers enough of them (:mod:`engine.words.evalsets`), with the
  coverage said once at the start;
- a :class:`~engine.words.events.WordMap` of a fixed set of frequent words (epoch 0 before
  training), so the Embeddings tab shows the words sorting themselves as the model trains.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.jobs import Emit, Log
from engine.words.corpus import load_stopwords
from engine.words.coverage import coverage
from engine.words.evalsets import is_auto
from engine.words.events import WordMap, WordsConfig
from engine.words.heldout import HeldOut
from engine.words.projection import frequent_words, project
from engine.words.vocab import Vocab


class EpochWatch:
    """The per-epoch measures of one run: built once its vocabulary and held-out slice exist."""

    def __init__(self, config: WordsConfig, vocab: Vocab, held_ids: np.ndarray) -> None:
        self.config, self.vocab = config, vocab
        self.held = HeldOut(held_ids, config.window)
        self.held_words = len(held_ids)
        files = config.eval_files()
        self.coverage = [
            coverage(kind, path, vocab.words, is_auto(getattr(config, kind)))
            for kind, path in files.items()
            if path
        ]
        self.files = {c.kind: c.path for c in self.coverage if c.enough}
        self.map_words = frequent_words(vocab.words, load_stopwords())
        self.last_map: WordMap | None = None

    def announce(self, emit: Emit) -> None:
        """Say what is measured each epoch: the held-out slice and each file's coverage."""
        c = self.config
        if len(self.held):
            emit(Log(
                f"held out: the last {c.heldout:.0%} of the corpus ({self.held_words:,} words); "
                f"context accuracy on {len(self.held):,} windows of {c.window} words each side"
            ))  # fmt: skip
        elif c.heldout > 0:
            emit(Log("held-out slice too short for a context window: no context accuracy"))
        for cov in self.coverage:
            emit(Log(cov.line()))

    def measure(self, trainer: Any, emb: Any) -> dict[str, float]:
        """The epoch's metrics beyond the trainer's own (``emb``: the vectors as they are)."""
        from engine.words.evaluate import evaluate_analogies, evaluate_pairs

        metrics: dict[str, float] = {}
        if len(self.held):
            metrics["context_acc"] = self.held.accuracy(trainer.guess_context)
        if "analogies" in self.files:
            metrics["analogy"] = float(evaluate_analogies(emb, self.files["analogies"]).overall)
        if "pairs" in self.files:
            key = "simlex" if "simlex" in Path(self.files["pairs"]).name.lower() else "wordsim"
            metrics[key] = float(evaluate_pairs(emb, self.files["pairs"]).spearman)
        return metrics

    def map(self, emb: Any, epoch: int) -> WordMap:
        """The live map's words placed from ``emb``, turned to match the previous frame."""
        self.last_map = project(emb, self.map_words, self.last_map, epoch=epoch)
        return self.last_map
