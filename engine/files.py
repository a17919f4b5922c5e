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


def archive_reason(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be a TorchScript or ``torch.export`` archive (both are zip files),
    or None when it may be one; read from its first and last bytes, torch-free."""
    import zipfile

    p = Path(path).expanduser()
    try:
        ok = zipfile.is_zipfile(p)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None if ok else "is not a TorchScript or torch.export archive (those are zip files)"


def checkpoint_reason(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be a ``torch.save`` file (a zip archive, or a legacy pickle that
    starts with the pickle protocol byte), or None when it may be one."""
    p = Path(path).expanduser()
    try:
        with p.open("rb") as fh:
            head = fh.read(2)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if head[:1] == b"\x80" or archive_reason(p) is None:
        return None
    return "is not a PyTorch checkpoint (a torch.save file is a zip archive)"
