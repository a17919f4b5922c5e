"""Reading a user's file whole, with the one-line errors every reader gives."""

from __future__ import annotations

import os
from pathlib import Path

from engine.errors import UsageError


def read_bytes(path: str | os.PathLike[str], what: str) -> tuple[Path, bytes]:
    """The file's path and bytes; a missing or unreadable file is a one-line ``UsageError``
    naming ``what`` it should have been ("analogy file", "word-vector file")."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise UsageError(f"{what} not found: {p}")
    try:
        return p, p.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {p}: {exc.strerror or exc}") from None
