"""Words on a plane, as TensorBoard's embedding projector shows them, for a terminal.

A PCA of the unit vectors (cosine geometry, the one every query uses): centre them, keep the
two directions of largest variance. PCA is exact, fast on a few dozen words and the same on
every run; t-SNE and UMAP would need a package we do not ship (neither scikit-learn nor
umap-learn is a dependency). A live map redrawn every epoch is turned to match the previous
frame (orthogonal Procrustes: a rotation or mirror, no stretch), so words move only because
the model moved them, not because PCA's axes flipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from engine.errors import UsageError
from engine.words.events import WordMap

if TYPE_CHECKING:
    from engine.words.query import Embeddings

MAP_WORDS = 24  # words on the Embeddings tab's live map


def pca_2d(vectors: torch.Tensor) -> tuple[torch.Tensor, float]:
    """``[n, 2]`` coordinates of the rows of ``vectors`` on their two principal axes, and the
    share of the variance they keep (NaN when the rows do not vary)."""
    x = vectors.double()
    x = x - x.mean(dim=0, keepdim=True)
    if x.shape[0] < 2:
        return torch.zeros(x.shape[0], 2, dtype=torch.float64), float("nan")
    u, s, _ = torch.linalg.svd(x, full_matrices=False)
    xy = u[:, :2] * s[:2]
    if xy.shape[1] < 2:  # one-dimensional vectors: the second axis is flat
        xy = torch.cat([xy, torch.zeros_like(xy)], dim=1)
    total = float((s**2).sum())
    explained = float((s[:2] ** 2).sum()) / total if total > 0 else float("nan")
    # a fixed sign per axis (its largest coordinate positive), so the same vectors always
    # give the same picture
    signs = torch.sign(xy.gather(0, xy.abs().argmax(dim=0, keepdim=True)))
    return xy * torch.where(signs == 0, torch.ones_like(signs), signs), explained


def align(xy: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
    """``xy`` turned (rotation or mirror) to lie closest to ``previous`` (same words, same
    order): the orthogonal Procrustes solution ``R = U V^T`` of ``xy^T previous = U S V^T``."""
    u, _, vt = torch.linalg.svd(xy.T @ previous)
    return xy @ (u @ vt)


def project(emb: Embeddings, words: Sequence[str], previous: WordMap | None = None,
            highlight: Sequence[str] = (), epoch: int = 0) -> WordMap:  # fmt: skip
    """``words`` (known to ``emb``) placed by :func:`pca_2d`, turned to match ``previous``."""
    ids = emb.ids(words)
    xy, explained = pca_2d(emb.unit[ids])
    if previous is not None and tuple(previous.words) == tuple(emb.words[i] for i in ids):
        xy = align(xy, torch.tensor(previous.xy, dtype=torch.float64))
    return WordMap(
        tuple(emb.words[i] for i in ids),
        tuple((float(a), float(b)) for a, b in xy.tolist()),
        explained,
        tuple(highlight),
        epoch,
        emb.name,
    )


def neighbourhood(emb: Embeddings, word: str, k: int) -> tuple[WordMap, list[tuple[str, float]]]:
    """``word`` and its ``k`` nearest words on a map, and the neighbours with their cosines."""
    if len(emb) < 3:
        raise UsageError("a map needs at least 3 words in the vocabulary")
    near = emb.neighbours(word, k)
    centre = emb.words[emb.id(word)]
    return project(emb, [centre, *(w for w, _ in near)], highlight=[centre]), near


def frequent_words(
    words: Sequence[str], stopwords: frozenset[str], n: int = MAP_WORDS
) -> list[str]:
    """The ``n`` most frequent words that are not stop words (``words`` is in frequency order);
    the most frequent ones when too few are left."""
    content = [w for w in words if w not in stopwords and len(w) > 1][:n]
    return content if len(content) >= min(n, 3) else list(words[:n])
