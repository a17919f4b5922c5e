"""A one-line query input with history (up/down) and tab completion from a vocabulary.

Completion works on the word under the cursor's end: the first word completes from the command
names and the vocabulary, later words from the vocabulary alone. One match completes it (and
adds a space); several extend it to their longest common prefix and post :class:`Candidates`
so the console can list them. The vocabulary is kept sorted, so a prefix is two bisections
however large it is. With nothing to complete, tab moves focus on as usual.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass
from typing import Any

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

MAX_CANDIDATES = 12


def prefix_matches(sorted_words: list[str], prefix: str, limit: int) -> list[str]:
    """Up to ``limit`` words of ``sorted_words`` starting with ``prefix`` (plus one, to tell
    'exactly limit' from 'more')."""
    lo = bisect.bisect_left(sorted_words, prefix)
    out = []
    for word in sorted_words[lo : lo + limit + 1]:
        if not word.startswith(prefix):
            break
        out.append(word)
    return out


class ConsoleInput(Input):
    """The Words console's input line."""

    HELP = "Query line: enter runs it, up/down walk the history, tab completes a word."
    BINDINGS = [
        Binding("up", "history(-1)", "Previous query"),
        Binding("down", "history(1)", "Next query"),
        Binding("tab", "complete", "Complete word"),
    ]

    @dataclass
    class Candidates(Message):
        """Several completions for ``prefix`` (``more`` when the list was cut short)."""

        prefix: str
        words: list[str]
        more: bool

    def __init__(self, commands: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = sorted(commands)
        self.vocabulary: list[str] = []  # sorted
        self.history: list[str] = []
        self._pos = 0  # index into history; len(history) = the line being typed
        self._draft = ""

    # ------------------------------------------------------------------ history

    def remember(self, line: str) -> None:
        """Add a submitted line (not twice in a row) and go back to an empty draft."""
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
        self._pos = len(self.history)
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._pos == len(self.history):
            self._draft = self.value
        pos = min(max(self._pos + step, 0), len(self.history))
        if pos == self._pos:
            return
        self._pos = pos
        self.value = self.history[pos] if pos < len(self.history) else self._draft
        self.cursor_position = len(self.value)

    # ------------------------------------------------------------------ completion

    def set_vocabulary(self, words: list[str]) -> None:
        self.vocabulary = sorted(words)

    def action_complete(self) -> None:
        head = self.value[: self.cursor_position]
        start = len(head) - len(head.split(" ")[-1])
        prefix = head[start:].lower()
        if not prefix:
            self.screen.focus_next()
            return
        first = not head[:start].strip()
        pool = prefix_matches(self.vocabulary, prefix, MAX_CANDIDATES)
        if first:
            pool = sorted({*prefix_matches(self.commands, prefix, MAX_CANDIDATES), *pool})
        if not pool:
            self.app.bell()
            return
        more = len(pool) > MAX_CANDIDATES
        pool = pool[:MAX_CANDIDATES]
        if len(pool) == 1:
            completed = pool[0] + " "
        else:
            completed = os.path.commonprefix(pool)
            self.post_message(self.Candidates(prefix, pool, more))
        tail = self.value[self.cursor_position :]
        self.value = head[:start] + completed + tail
        self.cursor_position = start + len(completed)
