"""Reading a user's file whole, with the one-line errors every reader gives."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from engine.errors import UsageError


def read_bytes(path: str | os.PathLike[str], what: str) -> tuple[Path, bytes]:
    """The file's path and bytes; a missing or unreadable file is a one-line ``UsageError``
    naming ``what`` it should have been ("analogy file", "word-vector file"). A gzip file is
    unpacked (the shipped evaluation sets are stored that way)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise UsageError(f"{what} not found: {p}")
    try:
        data = p.read_bytes()
        return p, gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    except (OSError, EOFError) as exc:
        raise UsageError(
            f"cannot read {what} {p}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
