"""The words query language, shared by ``advtui words query`` and the app's query console.

One line is one query::

    lion                     context words the model predicts + nearest neighbours
    near lion [K]            the K nearest words (cosine)
    sim his her              cosine similarity of two words
    analogy man woman king   man is to woman as king is to ?   (also: man:woman::king:?)
    odd cat dog lion car     the word that does not belong
    context lion [K]         only the predicted context words
    map lion [K]             lion and its K nearest words on a plane (PCA), with labels
    compare lion [K]         predicted context words, untrained vs trained (a model trained
                             here or a checkpoint: its kind and seed are known)
    eval [--analogies F] [--pairs F]   analogy accuracy / word-pair Spearman (F: a file; the
                             files the model was trained with by default)
    load PATH                answer from a run folder, checkpoint or word2vec file
    word near                the bare-word query for a word that is also a command name
    help                     this list

:func:`parse_query` turns text into a :class:`Query` (a malformed command raises a
``UsageError`` whose message is the command's one-line usage); :func:`run_query` answers it as
plain data (:class:`QueryAnswer`: a summary line and tables of ``(word, score)`` rows) that
``tui/render.py`` draws with Rich for the CLI and the app alike. ``load`` changes where the
answers come from, so the front end carries it out; every other query is answered here.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import UsageError
from engine.words.events import WordMap

if TYPE_CHECKING:
    from engine.words.query import Embeddings

DEFAULT_K = 10
MAX_K = 1000

USAGE: dict[str, str] = {
    "word": "usage: WORD  (predicted context words and nearest neighbours)",
    "near": "usage: near WORD [K]  (the K nearest words, default 10)",
    "sim": "usage: sim A B  (cosine similarity of two words)",
    "analogy": "usage: analogy A B C [K]  (A is to B as C is to ?)",
    "odd": "usage: odd A B C [D ...]  (which word does not belong)",
    "context": "usage: context WORD [K]  (words the model predicts around WORD)",
    "map": "usage: map WORD [K]  (WORD and its K nearest words on a plane, PCA)",
    "compare": "usage: compare WORD [K]  (untrained vs trained predicted context words)",
    "eval": "usage: eval [--analogies FILE] [--pairs FILE]  (the training files by default)",
    "load": "usage: load PATH  (a run folder, checkpoint.pt or word2vec file)",
    "help": "usage: help  (list the commands)",
}

ALIASES: dict[str, str] = {
    "near": "near",
    "nearest": "near",
    "neighbours": "near",
    "neighbors": "near",
    "nn": "near",
    "sim": "sim",
    "similarity": "sim",
    "analogy": "analogy",
    "odd": "odd",
    "context": "context",
    "ctx": "context",
    "word": "word",
    "compare": "compare",
    "map": "map",
    "eval": "eval",
    "load": "load",
    "help": "help",
    "?": "help",
}

HELP_LINES: tuple[str, ...] = tuple(u.removeprefix("usage: ") for u in USAGE.values()) + (
    "A:B::C:?  (analogy shorthand)",
)

_ANALOGY_SHORT = re.compile(r"^\s*(\S+?)\s*:\s*(\S+?)\s*::\s*(\S+?)\s*(?::\s*\??)?\s*$")


@dataclass(frozen=True)
class Query:
    """A parsed query: ``kind`` is word | near | sim | analogy | odd | context | map |
    compare | eval | load | help. ``files`` holds eval's ``(flag, path)`` pairs and load's path."""

    kind: str
    words: tuple[str, ...] = ()
    k: int = DEFAULT_K
    text: str = ""
    files: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AnswerTable:
    """One table of an answer: ``rows`` are ``(word, score)`` pairs, best first."""

    title: str
    columns: tuple[str, str]
    rows: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class QueryAnswer:
    """What a query returns: a one-line ``summary``, zero or more tables, and for ``map`` the
    words' places on the plane (``tui.render`` draws them)."""

    query: Query
    title: str
    summary: str = ""
    tables: tuple[AnswerTable, ...] = field(default_factory=tuple)
    map: WordMap | None = None

    def lines(self) -> list[str]:
        """A plain-text rendering (for logs and simple consoles)."""
        out = [self.title] + ([self.summary] if self.summary else [])
        if self.map is not None:
            out.append("map (x, y):")
            out += [
                f"  {w:<20} {x:8.4f} {y:8.4f}"
                for w, (x, y) in zip(self.map.words, self.map.xy, strict=True)
            ]
        for table in self.tables:
            out.append(f"{table.title}:")
            out += [f"  {word:<20} {score:8.4f}" for word, score in table.rows]
        return out


def parse_k(command: str, token: str) -> int:
    try:
        k = int(token)
    except ValueError:
        raise UsageError(USAGE[command]) from None
    if not 1 <= k <= MAX_K:
        raise UsageError(f"K must be between 1 and {MAX_K}; " + USAGE[command])
    return k


def parse_query(text: str) -> Query:
    """Parse one query line; a malformed one raises ``UsageError`` with its one-line usage."""
    text = text.strip()
    if not text:
        raise UsageError("empty query; type a word, or 'help' for the commands")
    if "::" in text:
        short = _ANALOGY_SHORT.match(text)
        if short is None:
            raise UsageError(USAGE["analogy"] + "; or A:B::C:?")
        return Query("analogy", tuple(w.lower() for w in short.groups()), 5, text)
    raw = _split(text)
    if raw[0].lower() in ("load", "eval"):
        return _parse_files(raw[0].lower(), raw[1:], text)
    tokens = text.lower().split()
    head, args = tokens[0], tokens[1:]
    command = ALIASES.get(head)
    if command is None:
        if args:
            raise UsageError(
                f"unknown command {head!r}; commands: near, sim, analogy, odd, context, map, "
                "compare, eval, load, help "
                "(or a single word)"
            )
        return Query("word", (head,), DEFAULT_K, text)
    if command == "help":
        if args:
            raise UsageError(USAGE["help"])
        return Query("help", (), DEFAULT_K, text)
    if command in ("word", "near", "context", "compare", "map"):
        if len(args) not in (1, 2):
            raise UsageError(USAGE[command])
        k = parse_k(command, args[1]) if len(args) == 2 else DEFAULT_K
        return Query(command, (args[0],), k, text)
    if command == "sim":
        if len(args) != 2:
            raise UsageError(USAGE["sim"])
        return Query("sim", tuple(args), DEFAULT_K, text)
    if command == "analogy":
        if len(args) not in (3, 4):
            raise UsageError(USAGE["analogy"])
        k = parse_k("analogy", args[3]) if len(args) == 4 else 5
        return Query("analogy", tuple(args[:3]), k, text)
    # odd
    if len(args) < 3:
        raise UsageError(USAGE["odd"])
    return Query("odd", tuple(args), DEFAULT_K, text)


def help_answer(query: Query | None = None) -> QueryAnswer:
    """The list of commands (needs no model)."""
    return QueryAnswer(query or Query("help"), "commands", "\n".join(HELP_LINES))


def _split(text: str) -> list[str]:
    """Shell-like words (a quoted path may hold spaces); plain whitespace split if unbalanced."""
    try:
        return shlex.split(text) or [text]
    except ValueError:
        return text.split()


def _parse_files(command: str, args: list[str], text: str) -> Query:
    """``load PATH`` and ``eval [--analogies F] [--pairs F]``: paths keep their case."""
    if command == "load":
        if len(args) != 1:
            raise UsageError(USAGE["load"])
        return Query("load", (), DEFAULT_K, text, (("path", args[0]),))
    files = []
    for i in range(0, len(args), 2):
        flag = args[i]
        if flag not in ("--analogies", "--pairs") or i + 1 >= len(args):
            raise UsageError(USAGE["eval"])
        files.append((flag[2:], args[i + 1]))
    return Query("eval", (), DEFAULT_K, text, tuple(files))


def run_query(
    emb: Embeddings,
    query: Query | str,
    *,
    config: Any = None,
    files: Mapping[str, str | None] | None = None,
) -> QueryAnswer:
    """Answer ``query`` on ``emb``; unknown words raise ``UnknownWord`` (a ``UsageError``).

    ``config`` (the model's training config) lets ``compare`` build the untrained model of
    the same kind and seed; ``files`` are the evaluation files ``eval`` uses when it names
    none. ``load`` is the caller's to carry out (it changes ``emb``)."""
    if isinstance(query, str):
        query = parse_query(query)
    if query.kind == "help":
        return help_answer(query)
    if query.kind == "compare":
        return _compare(emb, query, config)
    if query.kind == "eval":
        return _evaluate(emb, query, files or {})
    if query.kind == "load":
        raise UsageError("load changes the model; the console or CLI carries it out")
    return _ANSWERS[query.kind](emb, query)


COSINE = ("word", "cosine")


def _sim(emb: Embeddings, q: Query) -> QueryAnswer:
    a, b = q.words
    value = emb.similarity(a, b)
    return QueryAnswer(q, f"similarity {a} {b}", f"cosine({a}, {b}) = {value:.4f}")


def _near(emb: Embeddings, q: Query) -> QueryAnswer:
    rows = tuple(emb.neighbours(q.words[0], q.k))
    return QueryAnswer(
        q, f"nearest to {q.words[0]}", "", (AnswerTable("nearest words", COSINE, rows),)
    )


def _analogy(emb: Embeddings, q: Query) -> QueryAnswer:
    a, b, c = q.words
    rows = emb.analogy(a, b, c, q.k)
    summary = f"{a} : {b} :: {c} : {rows[0][0]}" if rows else "no answer"
    table = AnswerTable("answers", COSINE, tuple(rows))
    return QueryAnswer(q, f"{a} is to {b} as {c} is to ?", summary, (table,))


def _odd(emb: Embeddings, q: Query) -> QueryAnswer:
    odd, scores = emb.odd_one_out(list(q.words))
    ranked = tuple(sorted(scores, key=lambda r: r[1]))
    table = AnswerTable("cosine to the group's mean", COSINE, ranked)
    return QueryAnswer(q, "odd one out: " + " ".join(q.words), f"odd one out: {odd}", (table,))


def _context(emb: Embeddings, q: Query) -> QueryAnswer:
    rows = tuple(emb.context(q.words[0], q.k))
    table = AnswerTable("predicted context words", ("word", "p"), rows)
    return QueryAnswer(q, f"context of {q.words[0]}", "", (table,))


def _map(emb: Embeddings, q: Query) -> QueryAnswer:
    """The word and its neighbours projected to 2-D, and the neighbours as a table."""
    from engine.words.projection import neighbourhood

    word_map, near = neighbourhood(emb, q.words[0], q.k)
    kept = (
        ""
        if word_map.explained != word_map.explained
        else f" ({word_map.explained:.0%} of the variance)"
    )
    summary = f"PCA of {len(word_map.words)} unit vectors to 2 axes{kept}"
    table = AnswerTable("nearest words", COSINE, tuple(near))
    return QueryAnswer(q, f"map of {word_map.words[0]}", summary, (table,), word_map)


def _word(emb: Embeddings, q: Query) -> QueryAnswer:
    """A bare word: what the model predicts around it (when it can), and its neighbours."""
    word, k = q.words[0], q.k
    emb.id(word)  # unknown words fail before any table
    tables = []
    summary = ""
    if emb.has_context():
        rows = tuple(emb.context(word, k))
        tables.append(AnswerTable("predicted context words", ("word", "p"), rows))
    else:
        summary = "no context predictor in these vectors (word2vec files hold input vectors only)"
    tables.append(AnswerTable("nearest words", COSINE, tuple(emb.neighbours(word, k))))
    return QueryAnswer(q, word, summary, tuple(tables))


_ANSWERS = {
    "sim": _sim,
    "near": _near,
    "analogy": _analogy,
    "odd": _odd,
    "context": _context,
    "map": _map,
    "word": _word,
}


def _compare(emb: Embeddings, query: Query, config: Any) -> QueryAnswer:
    """Predicted context words of the untrained model of the same kind and seed, and ours."""
    from engine.words.train import untrained_like

    if config is None:
        raise UsageError(
            "compare needs a model trained here or a checkpoint (its kind and seed); "
            "word2vec files have neither"
        )
    word, k = query.words[0], query.k
    trained = emb.context(word, k)  # unknown words fail here, before any work
    fresh = untrained_like(emb, config).context(word, k)
    return QueryAnswer(
        query,
        f"{word}: predicted context words, untrained vs trained {config.model}",
        "",
        (
            AnswerTable("untrained", ("word", "p"), tuple(fresh)),
            AnswerTable("trained", ("word", "p"), tuple(trained)),
        ),
    )


def _evaluate(emb: Embeddings, query: Query, defaults: Mapping[str, str | None]) -> QueryAnswer:
    """Analogy accuracy and Spearman on the named files, or on the training files."""
    from engine.words.evaluate import evaluate_analogies, evaluate_pairs

    chosen = dict(query.files) or {k: v for k, v in defaults.items() if v}
    if not chosen:
        raise UsageError(
            "no evaluation files: the model was trained without any; "
            + USAGE["eval"].removeprefix("usage: ")
        )
    rows: list[tuple[str, float]] = []
    lines = []
    if chosen.get("analogies"):
        score = evaluate_analogies(emb, chosen["analogies"])
        rows += [
            ("analogies", score.overall),
            ("semantic", score.semantic),
            ("syntactic", score.syntactic),
        ]
        lines.append(score.summary())
    if chosen.get("pairs"):
        pairs = evaluate_pairs(emb, chosen["pairs"])
        rows.append(("spearman", pairs.spearman))
        lines.append(pairs.summary())
    table = AnswerTable("scores", ("measure", "value"), tuple(rows))
    return QueryAnswer(query, "evaluation", "\n".join(lines), (table,))
