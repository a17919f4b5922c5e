"""Error types the front ends know how to show: one line, no traceback.

``UsageError`` is bad input from the user (a budget list that does not parse, an unknown name, an
unreadable path): the CLI exits 2. ``EngineError`` is a failure while working: the CLI exits 1.
The app shows both as a notification and keeps running.
"""

from __future__ import annotations


class EngineError(Exception):
    """A failure the user should read as one line."""

    title = "Engine error"


class UsageError(EngineError):
    """The user's input cannot be used as given; the message says what to change."""

    title = "Bad input"


class DataUnavailable(UsageError):
    """A dataset cannot be had here (no network, no local copy); the message says what to try."""

    title = "Data unavailable"


def one_line(error: BaseException) -> str:
    """An error as one line: its own first line, or its type when it says nothing."""
    text = str(error).strip()
    first = text.splitlines()[0].strip() if text else ""
    if isinstance(error, EngineError):
        return first or type(error).__name__
    return f"{type(error).__name__}: {first}".rstrip(": ")
