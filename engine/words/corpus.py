"""Corpora: the built-in text, a text file or a folder of ``.txt`` files, streamed line by line.

A corpus is never read whole: files are decoded in 1 MiB chunks and handed out one tokenised
line at a time (an overlong line is cut at whitespace), so a corpus larger than memory trains.
:func:`open_corpus` checks what it can up front (the path exists, the folder has ``.txt`` files,
no file is empty, binary or non-UTF-8 at its start); a bad byte found later while streaming
still raises a one-line :class:`UsageError`, before the job writes anything.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import assets
from engine.errors import UsageError
from engine.files import check_path, kind

BUILTIN = "builtin"
_ASSETS = Path(assets.__file__).resolve().parent
BUILTIN_PATH = _ASSETS / "tinyshakespeare.txt.gz"
STOPWORDS_PATH = _ASSETS / "stopwords.txt"

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CHUNK = 1 << 20  # characters decoded per read
_MAX_LINE = 1 << 20  # a line longer than this is cut at whitespace
_SNIFF = 1 << 16  # bytes checked up front for NUL bytes and UTF-8
MAX_TOKEN = 100  # longest word kept (word2vec's MAX_STRING)


def tokenize(line: str) -> list[str]:
    """Lower-case word tokens: letters/digits, with an optional ``'s``-style suffix kept on.
    Tokens over ``MAX_TOKEN`` characters are no words (a base64 blob, a run of digits) and are
    dropped, as word2vec drops them, so they cannot fill the vocabulary."""
    return [t for t in _TOKEN.findall(line.lower()) if len(t) <= MAX_TOKEN]


@cache
def load_stopwords() -> frozenset[str]:
    """The stop-word list shipped in ``assets/stopwords.txt`` (``#`` lines are comments)."""
    text = STOPWORDS_PATH.read_text(encoding="utf-8")
    return frozenset(
        w.strip().lower() for w in text.splitlines() if w.strip() and not w.startswith("#")
    )


def _sniff(path: Path) -> bool:
    """Refuse a binary or non-UTF-8 file from its first bytes; False when it is empty."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                head = fh.read(_SNIFF)
        else:
            with path.open("rb") as fh:
                head = fh.read(_SNIFF)
    except (OSError, EOFError) as exc:  # EOFError: a gzip cut short
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise UsageError(f"cannot read corpus file {path}: {reason}") from None
    if not head.strip():
        return False
    if b"\x00" in head:
        raise UsageError(f"corpus file {path} looks binary (NUL bytes); give a UTF-8 text file")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a multi-byte character cut by the sniff limit
            raise UsageError(
                f"corpus file {path} is not UTF-8 text (bad byte at offset {exc.start})"
            ) from None
    return True


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="strict", newline=None)
    return path.open("r", encoding="utf-8", errors="strict", newline=None)


def _stream_lines(path: Path) -> Iterator[str]:
    """Lines of one file, read in chunks; overlong lines are cut at the last whitespace."""
    tail = ""
    try:
        with _open_text(path) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                if "\x00" in chunk:
                    raise UsageError(f"corpus file {path} contains NUL bytes (binary?)")
                parts = (tail + chunk).split("\n")
                tail = parts.pop()
                yield from parts
                if len(tail) > _MAX_LINE:
                    cut = max(tail.rfind(" "), tail.rfind("\t"))
                    cut = cut if cut > 0 else len(tail)
                    yield tail[:cut]
                    tail = tail[cut:]
    except UnicodeDecodeError as exc:
        raise UsageError(f"corpus file {path} is not UTF-8 text ({exc.reason})") from None
    except (OSError, EOFError) as exc:
        raise UsageError(f"cannot read corpus file {path}: {exc}") from None
    if tail:
        yield tail


class Corpus:
    """A validated corpus: ``name`` for titles, ``paths`` read in order, streamed on demand."""

    def __init__(self, name: str, paths: list[Path]) -> None:
        self.name = name
        self.paths = paths

    def lines(self) -> Iterator[list[str]]:
        """Tokenised lines, one at a time, over every file in order (empty lines skipped)."""
        for path in self.paths:
            for line in _stream_lines(path):
                tokens = tokenize(line)
                if tokens:
                    yield tokens

    def __iter__(self) -> Iterator[list[str]]:
        return self.lines()

    def __repr__(self) -> str:
        return f"Corpus({self.name!r}, {len(self.paths)} file(s))"


def open_corpus(source: str) -> Corpus:
    """``"builtin"`` (Tiny Shakespeare, shipped), a UTF-8 text file, or a folder of ``.txt``."""
    if source == BUILTIN:
        return Corpus("tinyshakespeare", [BUILTIN_PATH])
    if not source.strip():
        raise UsageError("corpus must name builtin, a UTF-8 text file or a folder of them")
    path = check_path(source, "corpus")
    if kind(path) is None:
        raise UsageError(f"corpus {source!r} not found (give 'builtin', a .txt file or a folder)")
    if path.is_dir():
        paths = sorted(p for p in path.rglob("*.txt") if p.is_file())
        if not paths:
            raise UsageError(f"corpus folder {source!r} has no .txt files")
    else:
        paths = [path]
    paths = [p for p in paths if _sniff(p)]
    if not paths:
        raise UsageError(f"corpus {source!r} is empty")
    return Corpus(path.stem if path.is_file() else path.name, paths)
