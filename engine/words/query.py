"""Queries on trained word vectors: similarity, neighbours, analogies, odd one out, context.

Every query is one matrix product against the unit-normalised vectors (computed once and
cached), then ``topk``: fast enough for 70k-word vocabularies on a CPU. Words are lower-cased
like the tokenizer; unknown words raise :class:`UnknownWord` with close vocabulary words.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from engine.errors import UsageError

if TYPE_CHECKING:
    import torch

ContextFn = Callable[["torch.Tensor"], "torch.Tensor"]

# difflib is O(candidates); these caps keep suggest() in the low milliseconds on 70k words.
_SUGGEST_CANDIDATES = 4000


class UnknownWord(UsageError):
    """A query word is not in the vocabulary; ``suggestions`` are close vocabulary words."""

    def __init__(self, word: str, suggestions: Sequence[str] = ()) -> None:
        self.word = word
        self.suggestions = list(suggestions)
        message = f"unknown word {word!r}"
        if self.suggestions:
            message += "; closest in the vocabulary: " + ", ".join(self.suggestions)
        else:
            message += " (not in the vocabulary)"
        super().__init__(message)


def _close(word: str, pool: Sequence[str], n: int, cutoff: float) -> list[str]:
    """difflib's close matches, ties kept in ``pool`` order (frequency order for a vocabulary)."""
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word)
    scored = []
    for rank, candidate in enumerate(pool):
        matcher.set_seq1(candidate)
        if (
            matcher.real_quick_ratio() >= cutoff
            and matcher.quick_ratio() >= cutoff
            and (score := matcher.ratio()) >= cutoff
        ):
            scored.append((-score, rank, candidate))
    scored.sort()
    return [candidate for _, _, candidate in scored[:n]]


def normalize_word(word: str) -> str:
    """The form a query word is looked up in: stripped and lower-cased like the tokenizer."""
    return word.strip().lower()


class Embeddings:
    """Word vectors with their vocabulary and, optionally, a context predictor.

    ``vectors`` is ``[V, D]`` float32 on the CPU (the caller copies it when the source keeps
    training). ``context_fn(ids) -> [n, V]`` scores the context words of each centre word
    (log-probabilities or logits); for SGNS pass ``out_vectors`` instead and the scores are
    ``sigmoid(v_in . v_out)``.
    """

    def __init__(
        self,
        words: list[str],
        vectors: torch.Tensor,
        *,
        counts=None,
        out_vectors: torch.Tensor | None = None,
        context_fn: ContextFn | None = None,
        name: str = "",
    ) -> None:
        import torch

        vectors = torch.as_tensor(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise UsageError(
                f"vectors must be [V, D] with V = {len(words)} words, got {tuple(vectors.shape)}"
            )
        if len(words) == 0:
            raise UsageError("an embedding needs at least one word")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise UsageError("the vocabulary has duplicate words")
        self.vectors = vectors.detach().to(device="cpu", dtype=torch.float32)
        self.counts = counts
        self.out_vectors = (
            None
            if out_vectors is None
            else torch.as_tensor(out_vectors).detach().to(device="cpu", dtype=torch.float32)
        )
        if self.out_vectors is not None and self.out_vectors.shape != self.vectors.shape:
            raise UsageError("out_vectors must have the same shape as vectors")
        self.context_fn = context_fn
        self.name = name
        self._unit: torch.Tensor | None = None
        self._by_initial: dict[str, list[str]] | None = None

    # ------------------------------------------------------------------ basics

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and (
            normalize_word(word) in self.index or word.strip() in self.index
        )

    def __repr__(self) -> str:
        return f"Embeddings({self.name or 'unnamed'}: {len(self)} words x {self.dim})"

    @property
    def unit(self) -> torch.Tensor:
        """The unit-normalised vectors (zero vectors stay zero), computed once."""
        if self._unit is None:
            import torch

            norms = self.vectors.norm(dim=1, keepdim=True)
            self._unit = self.vectors / torch.where(norms > 0, norms, torch.ones_like(norms))
        return self._unit

    def id(self, word: str) -> int:
        """The row of ``word``; raises :class:`UnknownWord` with suggestions."""
        key = normalize_word(word)
        found = self.index.get(key)
        if found is None:  # vectors from elsewhere may keep capitals ("Paris")
            found = self.index.get(word.strip())
        if found is None:
            raise UnknownWord(key, self.suggest(key, 3))
        return found

    def ids(self, words: Iterable[str]) -> list[int]:
        return [self.id(w) for w in words]

    def suggest(self, word: str, n: int = 5) -> list[str]:
        """Vocabulary words spelled like ``word`` (difflib on a prefiltered candidate list).

        Candidates share the first letter and have a similar length, capped to the most
        frequent ones, so a 70k vocabulary answers in milliseconds.
        """
        key = normalize_word(word)
        if not key:
            return []
        if self._by_initial is None:
            groups: dict[str, list[str]] = {}
            for w in self.words:  # words are in frequency order: groups keep it
                if w:
                    groups.setdefault(w[0], []).append(w)
            self._by_initial = groups
        span = max(2, len(key) // 3)
        pool = [w for w in self._by_initial.get(key[0], ()) if abs(len(w) - len(key)) <= span][
            :_SUGGEST_CANDIDATES
        ]
        found = _close(key, pool, n, 0.6)
        if len(found) < n:  # a wrong first letter: a stricter look at the most frequent words
            rest = [w for w in self.words[:_SUGGEST_CANDIDATES] if w not in found]
            found += _close(key, rest, n - len(found), 0.75)
        return found

    # ------------------------------------------------------------------ queries

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        ia, ib = self.id(a), self.id(b)
        return float(self.unit[ia] @ self.unit[ib])

    def _top(
        self, query, k: int, exclude: Sequence[Sequence[int]]
    ) -> list[list[tuple[str, float]]]:
        """Top ``k`` words by cosine for each row of ``query`` [n, D] (unit rows not needed)."""
        import torch

        query = torch.as_tensor(query, dtype=torch.float32)
        if query.ndim == 1:
            query = query[None]
        qn = query.norm(dim=1, keepdim=True)
        query = query / torch.where(qn > 0, qn, torch.ones_like(qn))
        scores = query @ self.unit.T  # [n, V]
        for row, ids in enumerate(exclude):
            if ids:
                scores[row, list(ids)] = float("-inf")
        k = max(0, min(k, len(self) - min((len(e) for e in exclude), default=0)))
        if k == 0:
            return [[] for _ in range(query.shape[0])]
        values, idx = scores.topk(k, dim=1)
        out = []
        for vals, ids in zip(values.tolist(), idx.tolist(), strict=True):
            out.append(
                [(self.words[i], v) for i, v in zip(ids, vals, strict=True) if v != float("-inf")]
            )
        return out

    def neighbours(self, word: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` nearest words by cosine, the word itself excluded."""
        i = self.id(word)
        return self._top(self.unit[i], k, [[i]])[0]

    def analogy(self, a: str, b: str, c: str, k: int = 5) -> list[tuple[str, float]]:
        """``a`` is to ``b`` as ``c`` is to ?: nearest to unit(b) - unit(a) + unit(c) (3CosAdd).

        The three input words are excluded, like gensim's ``most_similar``.
        """
        ia, ib, ic = self.id(a), self.id(b), self.id(c)
        u = self.unit
        return self._top(u[ib] - u[ia] + u[ic], k, [[ia, ib, ic]])[0]

    def odd_one_out(self, words: list[str]) -> tuple[str, list[tuple[str, float]]]:
        """The word least similar to the mean of the unit vectors (gensim's ``doesnt_match``).

        Returns the odd word and every word's cosine to that mean, in input order.
        """
        import torch

        if len(words) < 3:
            raise UsageError("odd one out needs at least 3 words")
        ids = self.ids(words)
        u = self.unit[ids]
        mean = u.mean(dim=0)
        norm = mean.norm()
        mean = mean / norm if norm > 0 else mean
        sims = (u @ mean).tolist()
        scored = [(self.words[i], s) for i, s in zip(ids, sims, strict=True)]
        odd = scored[int(torch.tensor(sims).argmin())][0]
        return odd, scored

    def has_context(self) -> bool:
        return self.context_fn is not None or self.out_vectors is not None

    def context(self, word: str, k: int = 10) -> list[tuple[str, float]]:
        """Words the model predicts around ``word``, best first, with probabilities.

        Classic/CBOW (``context_fn`` log-probabilities or logits): softmax over the vocabulary.
        SGNS (``out_vectors``): ``sigmoid(v_in . v_out)``, the model's own context score.
        """
        import torch

        i = self.id(word)
        if self.out_vectors is not None and self.context_fn is None:
            scores = torch.sigmoid(self.out_vectors @ self.vectors[i])
        elif self.context_fn is not None:
            with torch.no_grad():
                logits = self.context_fn(torch.tensor([i], dtype=torch.long))
            logits = torch.as_tensor(logits, dtype=torch.float32).reshape(-1)
            if logits.shape[0] != len(self):
                raise UsageError(f"context scores have {logits.shape[0]} words, not {len(self)}")
            scores = torch.softmax(logits, dim=0)
        else:
            raise UsageError(
                "these vectors have no context predictor (word2vec files only have input vectors)"
            )
        k = max(0, min(k, len(self)))
        values, idx = scores.topk(k)
        return [(self.words[j], v) for j, v in zip(idx.tolist(), values.tolist(), strict=True)]
