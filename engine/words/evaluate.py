"""Intrinsic evaluation: analogy accuracy (word2vec's questions-words) and word-pair Spearman.

Both follow gensim's ``KeyedVectors.evaluate_word_analogies`` / ``evaluate_word_pairs``
(case-insensitive, the first vocabulary entry of a word wins, out-of-vocabulary questions
skipped and counted) so numbers are comparable with published ones, but every chunk of
analogy questions is one matrix product instead of one ``most_similar`` call per question.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import UsageError
from engine.files import read_bytes
from engine.jobs import CancelToken, Emit, Frame, Log, PauseToken, ignore
from engine.words.events import EvalConfig, EvalResult, Score

if TYPE_CHECKING:
    from engine.words.query import Embeddings

# scores of one chunk: at most this many floats (32 MiB), whatever the vocabulary size
_CHUNK_FLOATS = 1 << 23


@dataclass(frozen=True)
class SectionScore:
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True)
class AnalogyScore:
    """Accuracies are fractions in 0..1 (0.0 where a group has no usable question)."""

    overall: float
    semantic: float
    syntactic: float
    correct: int
    total: int  # questions answered (all words in the restricted vocabulary)
    skipped: int  # questions with a word outside it
    sections: dict[str, SectionScore] = field(default_factory=dict)
    semantic_total: int = 0
    syntactic_total: int = 0

    def summary(self) -> str:
        return (
            f"analogies {self.overall:.1%} ({self.correct}/{self.total}; semantic "
            f"{self.semantic:.1%}, syntactic {self.syntactic:.1%}; {self.skipped} skipped)"
        )


@dataclass(frozen=True)
class PairsScore:
    """Spearman (and Pearson) correlation of cosine vs human scores; NaN when under 2 pairs."""

    spearman: float
    used: int
    skipped: int
    pearson: float = math.nan

    def summary(self) -> str:
        rho = "n/a" if math.isnan(self.spearman) else f"{self.spearman:.3f}"
        return f"spearman {rho} ({self.used} pairs, {self.skipped} skipped)"


# --------------------------------------------------------------------------- files


def _read_lines(path: str | os.PathLike[str], what: str) -> list[str]:
    """The file's lines, or a one-line ``UsageError`` for a missing, binary or empty file."""
    p, data = read_bytes(path, f"{what} file")
    if b"\0" in data[:4096]:
        raise UsageError(f"{what} file {p} is binary, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{what} file {p} is not UTF-8 text") from None
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise UsageError(f"{what} file {p} is empty")
    return lines


def _lookup(emb: Embeddings, restrict: int | None) -> tuple[dict[str, int], np.ndarray]:
    """Lower-cased word -> first row among the first ``restrict`` rows, and each row's canon."""
    words = emb.words if restrict is None else emb.words[:restrict]
    first: dict[str, int] = {}
    canon = np.empty(len(words), dtype=np.int64)
    for i, w in enumerate(words):
        canon[i] = first.setdefault(w.lower(), i)
    return first, canon


# --------------------------------------------------------------------------- analogies


def read_analogies(path: str | os.PathLike[str]) -> list[tuple[str, list[tuple[str, ...]]]]:
    """Sections of a questions-words file: ``[(name, [(a, b, c, d), ...]), ...]``, lower-cased."""
    sections: list[tuple[str, list[tuple[str, ...]]]] = []
    for n, raw in enumerate(_read_lines(path, "analogy"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(":"):
            sections.append((line.lstrip(":").strip() or f"section {len(sections) + 1}", []))
            continue
        words = line.lower().split()
        if len(words) != 4:
            raise UsageError(
                f"{path}:{n}: an analogy line needs 4 words (a b c d), got {len(words)}: "
                f"{line[:60]!r}"
            )
        if not sections:
            sections.append(("questions", []))
        sections[-1][1].append(tuple(words))
    if not any(qs for _, qs in sections):
        raise UsageError(f"analogy file {path} holds no questions")
    return sections


def evaluate_analogies(
    emb: Embeddings, path: str | os.PathLike[str], restrict_vocab: int = 30000
) -> AnalogyScore:
    """Accuracy on a questions-words file (3CosAdd, inputs excluded, answers in the top words).

    Questions with any word outside the first ``restrict_vocab`` words are skipped (counted).
    Sections whose name starts with ``gram`` are syntactic, the others semantic.
    """
    import torch

    sections = read_analogies(path)
    first, canon = _lookup(emb, restrict_vocab)
    restrict = len(canon)
    canon_t = torch.from_numpy(canon)
    identity = bool((canon == np.arange(restrict)).all())
    unit = emb.unit
    unit_r = unit[:restrict]
    chunk = max(1, _CHUNK_FLOATS // max(restrict, 1))

    scores: dict[str, SectionScore] = {}
    skipped = 0
    for name, questions in sections:
        ids = [[first.get(w, -1) for w in q] for q in questions]
        usable = [row for row in ids if min(row) >= 0]
        skipped += len(ids) - len(usable)
        correct = 0
        q_all = torch.tensor(usable, dtype=torch.long).reshape(-1, 4)
        for start in range(0, q_all.shape[0], chunk):
            q = q_all[start : start + chunk]
            query = unit[q[:, 1]] - unit[q[:, 0]] + unit[q[:, 2]]
            query = query / query.norm(dim=1, keepdim=True).clamp_min(1e-12)
            sims = query @ unit_r.T
            if identity:
                sims.scatter_(1, q[:, :3], float("-inf"))
            else:  # case variants of an input word are inputs too (as in gensim)
                for j in range(3):
                    sims.masked_fill_(canon_t[None, :] == q[:, j : j + 1], float("-inf"))
            predicted = canon_t[sims.argmax(dim=1)]
            correct += int((predicted == q[:, 3]).sum())
        previous = scores.get(name, SectionScore(0, 0))
        scores[name] = SectionScore(previous.correct + correct, previous.total + len(usable))

    def group(syntactic: bool) -> SectionScore:
        parts = [s for n, s in scores.items() if n.lower().startswith("gram") == syntactic]
        return SectionScore(sum(s.correct for s in parts), sum(s.total for s in parts))

    total = SectionScore(
        sum(s.correct for s in scores.values()), sum(s.total for s in scores.values())
    )
    return AnalogyScore(
        overall=total.accuracy,
        semantic=group(False).accuracy,
        syntactic=group(True).accuracy,
        correct=total.correct,
        total=total.total,
        skipped=skipped,
        sections=scores,
        semantic_total=group(False).total,
        syntactic_total=group(True).total,
    )


# --------------------------------------------------------------------------- word pairs


def read_pairs(path: str | os.PathLike[str]) -> list[tuple[str, str, float]]:
    """``(word1, word2, score)`` from a WordSim353 / SimLex-999 style file (tab-separated).

    Lines starting with ``#`` are comments; a first line whose score is not a number (a header
    such as ``Word 1<TAB>Word 2<TAB>Human (mean)``) is skipped.
    """
    pairs: list[tuple[str, str, float]] = []
    seen_data = False
    for n, raw in enumerate(_read_lines(path, "word-pairs"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")] if "\t" in line else line.split()
        score = None
        if len(fields) >= 3:
            try:
                score = float(fields[2])
            except ValueError:
                score = None
        if score is None or not math.isfinite(score):
            if not seen_data:
                seen_data = True  # a header line
                continue
            raise UsageError(
                f"{path}:{n}: a word-pairs line needs WORD1<TAB>WORD2<TAB>SCORE: {line[:60]!r}"
            )
        seen_data = True
        pairs.append((fields[0].lower(), fields[1].lower(), score))
    if not pairs:
        raise UsageError(f"word-pairs file {path} holds no pairs")
    return pairs


def rankdata(values) -> np.ndarray:
    """Ranks from 1, ties get their average rank (as ``scipy.stats.rankdata``)."""
    x = np.asarray(values, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(x))
    xs = x[order]
    starts = np.r_[True, xs[1:] != xs[:-1]]
    dense = starts.cumsum()[inverse]
    bounds = np.r_[np.nonzero(starts)[0], len(x)]
    return 0.5 * (bounds[dense] + bounds[dense - 1] + 1)


def pearson(x, y) -> float:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) < 2:
        return math.nan
    xc, yc = x - x.mean(), y - y.mean()
    denom = math.sqrt(float(xc @ xc) * float(yc @ yc))
    return float(xc @ yc) / denom if denom > 0 else math.nan


def spearman(x, y) -> float:
    """Spearman's rho: the Pearson correlation of the (tie-averaged) ranks."""
    return pearson(rankdata(x), rankdata(y))


def evaluate_pairs(
    emb: Embeddings, path: str | os.PathLike[str], restrict_vocab: int | None = None
) -> PairsScore:
    """Spearman of cosine similarity vs the human scores, pairs with unknown words skipped."""
    import torch

    pairs = read_pairs(path)
    first, _ = _lookup(emb, restrict_vocab)
    ids = [(first.get(a, -1), first.get(b, -1), s) for a, b, s in pairs]
    usable = [row for row in ids if min(row[0], row[1]) >= 0]
    if not usable:
        return PairsScore(math.nan, 0, len(pairs))
    a = torch.tensor([r[0] for r in usable])
    b = torch.tensor([r[1] for r in usable])
    model = (emb.unit[a] * emb.unit[b]).sum(dim=1).double().numpy()
    gold = np.array([r[2] for r in usable])
    return PairsScore(
        spearman(gold, model), len(usable), len(pairs) - len(usable), pearson(gold, model)
    )


# --------------------------------------------------------------------------- the job


def evaluate_vectors(
    config: EvalConfig,
    emit: Emit = ignore,
    cancel: CancelToken | None = None,
    pause: PauseToken | None = None,
) -> EvalResult:
    """The evaluation job: every file of ``config`` scored on its vectors, one after another
    (pause and cancel between files), the scores written to an ``eval`` run folder."""
    from engine.runs import RunRecord
    from engine.words.formats import load_any

    frame = Frame("eval", config, emit, cancel, pause)
    emb = load_any(config.model)
    result = EvalResult(name=emb.name, shape=(len(emb), emb.dim))
    record = frame.open(RunRecord("eval", f"{emb.name or 'vectors'}", config.out))
    jobs = [(p, True) for p in config.analogies] + [(p, False) for p in config.pairs]
    with frame.stoppable(result, "evaluation cancelled; the files scored so far are kept"):
        for path, analogies in jobs:
            frame.gate()
            emit(Log(f"scoring {Path(path).name}"))
            scores = _scores(emb, path, analogies, config.restrict)
            for score in scores:  # on disk as each file is scored
                record.append_row("scores", asdict(score))
            result.scores += scores

    def write(result: EvalResult) -> Path:
        record.write_rows("scores", [asdict(s) for s in result.scores])
        return record.path

    return frame.finish(result, write)


def _scores(emb: Embeddings, path: str, analogies: bool, restrict: int) -> list[Score]:
    name = Path(path).name
    if not analogies:
        p = evaluate_pairs(emb, path)
        return [Score(name, "spearman", p.spearman, p.used, p.skipped)]
    s = evaluate_analogies(emb, path, restrict_vocab=restrict)
    return [
        Score(name, "analogy", s.overall, s.total, s.skipped),
        Score(name, "semantic", s.semantic, s.semantic_total, 0),
        Score(name, "syntactic", s.syntactic, s.syntactic_total, 0),
    ]
