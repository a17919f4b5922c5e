"""The words query language, shared by ``advtui words query`` and the app's query console.

One line is one query::

    lion                     context words the model predicts + nearest neighbours
    near lion [K]            the K nearest words (cosine)
    sim his her              cosine similarity of two words
    analogy man woman king   man is to woman as king is to ?   (also: man:woman::king:?)
    odd cat dog lion car     the word that does not belong
    context lion [K]         only the predicted context words
    word near                the bare-word query for a word that is also a command name
    help                     this list

:func:`parse_query` turns text into a :class:`Query` (a malformed command raises a
``UsageError`` whose message is the command's one-line usage); :func:`run_query` answers it as
plain data (:class:`QueryAnswer`: a summary line and tables of ``(word, score)`` rows) that the
CLI renders with Rich and the app renders in its own widgets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.errors import UsageError

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
    "help": "help",
    "?": "help",
}

HELP_LINES: tuple[str, ...] = tuple(u.removeprefix("usage: ") for u in USAGE.values()) + (
    "A:B::C:?  (analogy shorthand)",
)

_ANALOGY_SHORT = re.compile(r"^\s*(\S+?)\s*:\s*(\S+?)\s*::\s*(\S+?)\s*(?::\s*\??)?\s*$")


@dataclass(frozen=True)
class Query:
    """A parsed query: ``kind`` is word | near | sim | analogy | odd | context | help."""

    kind: str
    words: tuple[str, ...] = ()
    k: int = DEFAULT_K
    text: str = ""


@dataclass(frozen=True)
class AnswerTable:
    """One table of an answer: ``rows`` are ``(word, score)`` pairs, best first."""

    title: str
    columns: tuple[str, str]
    rows: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class QueryAnswer:
    """What a query returns: a one-line ``summary`` and zero or more tables."""

    query: Query
    title: str
    summary: str = ""
    tables: tuple[AnswerTable, ...] = field(default_factory=tuple)

    def lines(self) -> list[str]:
        """A plain-text rendering (for logs and simple consoles)."""
        out = [self.title] + ([self.summary] if self.summary else [])
        for table in self.tables:
            out.append(f"{table.title}:")
            out += [f"  {word:<20} {score:8.4f}" for word, score in table.rows]
        return out


def _parse_k(command: str, token: str) -> int:
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
    tokens = text.lower().split()
    head, args = tokens[0], tokens[1:]
    command = ALIASES.get(head)
    if command is None:
        if args:
            raise UsageError(
                f"unknown command {head!r}; commands: near, sim, analogy, odd, context, help "
                "(or a single word)"
            )
        return Query("word", (head,), DEFAULT_K, text)
    if command == "help":
        if args:
            raise UsageError(USAGE["help"])
        return Query("help", (), DEFAULT_K, text)
    if command in ("word", "near", "context"):
        if len(args) not in (1, 2):
            raise UsageError(USAGE[command])
        k = _parse_k(command, args[1]) if len(args) == 2 else DEFAULT_K
        return Query(command, (args[0],), k, text)
    if command == "sim":
        if len(args) != 2:
            raise UsageError(USAGE["sim"])
        return Query("sim", tuple(args), DEFAULT_K, text)
    if command == "analogy":
        if len(args) not in (3, 4):
            raise UsageError(USAGE["analogy"])
        k = _parse_k("analogy", args[3]) if len(args) == 4 else 5
        return Query("analogy", tuple(args[:3]), k, text)
    # odd
    if len(args) < 3:
        raise UsageError(USAGE["odd"])
    return Query("odd", tuple(args), DEFAULT_K, text)


def run_query(emb: Embeddings, query: Query | str) -> QueryAnswer:
    """Answer ``query`` on ``emb``; unknown words raise ``UnknownWord`` (a ``UsageError``)."""
    if isinstance(query, str):
        query = parse_query(query)
    kind, words, k = query.kind, query.words, query.k
    cos = ("word", "cosine")
    if kind == "help":
        return QueryAnswer(query, "commands", "\n".join(HELP_LINES))
    if kind == "sim":
        a, b = words
        value = emb.similarity(a, b)
        return QueryAnswer(query, f"similarity {a} {b}", f"cosine({a}, {b}) = {value:.4f}")
    if kind == "near":
        rows = emb.neighbours(words[0], k)
        return QueryAnswer(
            query, f"nearest to {words[0]}", "", (AnswerTable("nearest words", cos, tuple(rows)),)
        )
    if kind == "analogy":
        a, b, c = words
        rows = emb.analogy(a, b, c, k)
        summary = f"{a} : {b} :: {c} : {rows[0][0]}" if rows else "no answer"
        return QueryAnswer(
            query,
            f"{a} is to {b} as {c} is to ?",
            summary,
            (AnswerTable("answers", cos, tuple(rows)),),
        )
    if kind == "odd":
        odd, scores = emb.odd_one_out(list(words))
        ranked = tuple(sorted(scores, key=lambda r: r[1]))
        return QueryAnswer(
            query,
            "odd one out: " + " ".join(words),
            f"odd one out: {odd}",
            (AnswerTable("cosine to the group's mean", cos, ranked),),
        )
    if kind == "context":
        rows = emb.context(words[0], k)
        return QueryAnswer(
            query,
            f"context of {words[0]}",
            "",
            (AnswerTable("predicted context words", ("word", "p"), tuple(rows)),),
        )
    # a bare word: what the model predicts around it (when it can), and its neighbours
    word = words[0]
    emb.id(word)  # unknown words fail before any table
    tables = []
    summary = ""
    if emb.has_context():
        tables.append(
            AnswerTable("predicted context words", ("word", "p"), tuple(emb.context(word, k)))
        )
    else:
        summary = "no context predictor in these vectors (word2vec files hold input vectors only)"
    tables.append(AnswerTable("nearest words", cos, tuple(emb.neighbours(word, k))))
    return QueryAnswer(query, word, summary, tuple(tables))
