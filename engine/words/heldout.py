"""The seed's context accuracy on words the model never trained on, for every model alike.

The seed judged its SkipGram by how many of a word's true context words are among the words
the model predicts, counted as multisets, on its training text. Here the end of the corpus
(``heldout``, 10% by default) is kept out of training and the same count is made on it after
every epoch, so ``classic``, ``cbow`` and ``sgns`` are compared on one measure and a model
that memorises its text does not look better than it is.

The predictions of one centre word: ``classic`` gives the top word of each of its ``2c``
positions (the seed's own, repeats allowed); ``cbow`` and ``sgns`` have one score per
vocabulary word (``cbow``'s head fed the word alone, ``sgns``'s ``sigmoid(v_in . v_out)``),
so their ``2c`` predictions are the ``2c`` best words. ``c`` is the run's ``window``. The
predictions depend on the centre word only, so they are computed once per distinct word.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from engine.words.models import multiset_hits, windows

# Windows scored per epoch at most (evenly spaced): ~0.3% standard error, a fraction of an
# epoch's time on a book-sized corpus.
MAX_EXAMPLES = 10_000

Guess = Callable[[torch.Tensor, int], torch.Tensor]  # (distinct centre ids [u], k) -> [u, k]


def split(ids: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """``(train, held_out)``: the last ``fraction`` of the encoded corpus is held out."""
    n = len(ids)
    held = int(round(n * fraction)) if fraction > 0 else 0
    return ids[: n - held], ids[n - held :]


def train_lines(starts: np.ndarray | None, n_train: int) -> np.ndarray | None:
    """Where lines begin in the training part of a :func:`split` corpus (``starts``: offsets
    in the whole id array, or None); the line cut by the split ends where training does."""
    if starts is None:
        return None
    starts = np.asarray(starts)
    return starts[starts < n_train]


class HeldOut:
    """The held-out windows (every position with ``c`` words each side, capped evenly)."""

    def __init__(self, ids: np.ndarray, context_size: int, limit: int = MAX_EXAMPLES) -> None:
        self.context_size = context_size
        if len(ids) < 2 * context_size + 1:
            self.centres = torch.zeros(0, dtype=torch.long)
            self.contexts = torch.zeros(0, 2 * context_size, dtype=torch.long)
            return
        centres, contexts = windows(ids, context_size)
        if len(centres) > limit:
            rows = np.unique(np.linspace(0, len(centres) - 1, limit).round().astype(np.int64))
            centres, contexts = centres[rows], contexts[rows]
        self.centres = torch.as_tensor(centres, dtype=torch.long)
        self.contexts = torch.as_tensor(contexts, dtype=torch.long)

    def __len__(self) -> int:
        return int(self.centres.shape[0])

    @torch.no_grad()
    def accuracy(self, guess: Guess) -> float:
        """Share of the true context words found among the predicted ones (as multisets)."""
        if not len(self):
            return float("nan")
        k = 2 * self.context_size
        distinct, inverse = torch.unique(self.centres, return_inverse=True)
        predicted = guess(distinct, k).cpu()[inverse]
        hits = multiset_hits(predicted, self.contexts)
        return float(hits.sum()) / (len(self) * k)
