"""Help is data: every key the app answers to, read from the widgets' own ``BINDINGS``.

The help screen and the command palette both call :func:`collect`, so neither can drift from
the keys. Each section is one of our widgets on the active screen (library widgets' own keys,
like an input's cursor keys, are summed up in one line instead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from textual.binding import Binding
from textual.dom import DOMNode

GENERIC = (
    ("tab / shift+tab", "move between fields and panels"),
    ("ctrl+p", "command palette: every action by name"),
    ("space / enter", "toggle an attack / open a dropdown"),
)


@dataclass(frozen=True)
class Key:
    """One binding of one widget: what to press, what it does, and how to run it."""

    keys: str
    description: str
    action: str
    owner: DOMNode = field(compare=False)


@dataclass
class Section:
    title: str
    help: str
    keys: list[Key]


def _bindings(node: DOMNode) -> list[Binding]:
    """The node's class-level bindings (its ``tui`` ancestors' too) that have a description."""
    out: dict[tuple[str, str], Binding] = {}
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("tui.") and cls is not type(node):
            continue
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
            if binding.description:
                out.setdefault((binding.key, binding.action), binding)
    return list(out.values())


def collect(app: Any, screen: Any | None = None) -> list[Section]:
    """Sections for the app, then each of our widgets on ``screen`` that has bindings."""
    screen = screen or app.screen
    nodes: list[DOMNode] = [app, screen]
    nodes += [
        w for w in screen.walk_children(with_self=False) if type(w).__module__.startswith("tui.")
    ]
    sections: list[Section] = []
    seen: set[type] = set()
    for node in nodes:
        if type(node) in seen:
            continue
        seen.add(type(node))
        grouped: dict[str, list[str]] = {}
        first: dict[str, Binding] = {}
        for binding in _bindings(node):
            grouped.setdefault(binding.action, []).append(app.get_key_display(binding))
            first.setdefault(binding.action, binding)
        if not grouped:
            continue
        keys = [
            Key(" / ".join(dict.fromkeys(grouped[a])), first[a].description, a, node)
            for a in grouped
        ]
        sections.append(Section(_title(app, node), _help(node), keys))
    return sections


def _ours(node: DOMNode) -> bool:
    return type(node).__module__.startswith("tui.")


def _title(app: Any, node: DOMNode) -> str:
    """``HELP_TITLE``, else the class name in words ("SamplePreview" -> "Sample preview")."""
    if node is app:
        return "App"
    if not _ours(node):
        return "Focus and text"  # the framework's screen keys, without its docstring
    title = getattr(node, "HELP_TITLE", "")
    if title:
        return title
    words = re.findall(r"[A-Z][a-z0-9]*", type(node).__name__) or [type(node).__name__]
    return " ".join([words[0], *(w.lower() for w in words[1:])])


def _help(node: DOMNode) -> str:
    """Our ``HELP`` line, else the first line of our docstring; never the framework's."""
    if not _ours(node):
        return ""
    return getattr(node, "HELP", "") or (type(node).__doc__ or "").strip().splitlines()[0]
