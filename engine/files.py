"""Reading a user's file whole, with the one-line errors every reader gives."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from engine.errors import UsageError

MAX_NAME = 255  # bytes in one file or folder name, on the file systems in use


def path_reason(text: str | os.PathLike[str]) -> str | None:
    """Why ``text`` cannot name a path (control characters, which no one can type back; a name
    over 255 bytes, which the system refuses with an error rather than a "no"), or None."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in str(text)):
        return "must not contain control characters"
    for part in Path(text).expanduser().parts:
        if len(os.fsencode(part)) > MAX_NAME:
            return f"has a name over {MAX_NAME} bytes"
    return None


def kind(path: str | os.PathLike[str]) -> str | None:
    """``"file"``, ``"dir"``, ``"other"``, or None when nothing (reachable) is there; never
    raises, whatever the text (``Path.exists`` raises on a name that is too long)."""
    import stat

    try:
        mode = Path(path).expanduser().stat().st_mode
    except (OSError, ValueError):
        return None
    return "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else "other"


def check_path(text: str | os.PathLike[str], what: str) -> Path:
    """``text`` as a path, or a one-line UsageError saying why it cannot be one."""
    reason = path_reason(text)
    if reason:
        raise UsageError(f"{what} {reason}")
    return Path(text).expanduser()


def read_bytes(path: str | os.PathLike[str], what: str) -> tuple[Path, bytes]:
    """The file's path and bytes; a missing or unreadable file is a one-line ``UsageError``
    naming ``what`` it should have been ("analogy file", "word-vector file"). A gzip file is
    unpacked (the shipped evaluation sets are stored that way)."""
    p = check_path(path, what)
    if kind(p) != "file":
        raise UsageError(f"{what} not found: {p}")
    try:
        data = p.read_bytes()
        return p, gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    except (OSError, EOFError, zlib.error) as exc:
        raise UsageError(
            f"cannot read {what} {p}: {getattr(exc, 'strerror', None) or exc}"
        ) from None


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
