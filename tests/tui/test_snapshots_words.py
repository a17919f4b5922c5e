"""Snapshots of the Embeddings pane after training classic then cbow on a tiny corpus, and of
the Words console after a few queries on a small word2vec file, at 80x24 and 120x40.

Deterministic: fixed seeds, one torch thread, the clock-dependent readouts frozen through
``tui.format`` and the engine's words-per-second in its log lines masked.
"""

from __future__ import annotations

import re

import pytest
from textual.widgets import Input

from tests.tui.conftest import engine_ready
from tests.tui.panes.test_embeddings import open_embeddings, train, write_corpus
from tests.tui.panes.test_words import ask, make_vectors
from tests.tui.test_snapshots import frozen  # noqa: F401  (the fixture)
from tui.app import AdvTUI
from tui.widgets.log import LogPane

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


@pytest.fixture
def steady_logs(monkeypatch):
    """Mask the engine's throughput in log lines (``12,345 words/s`` -> ``<rate> words/s``)."""
    add = LogPane.add

    def masked(self, message: str, level: str = "info") -> None:
        add(self, re.sub(r"[\d,.]+ words/s", "<rate> words/s", message), level)

    monkeypatch.setattr(LogPane, "add", masked)


@pytest.fixture
def here(tmp_path, monkeypatch):
    write_corpus(tmp_path)
    make_vectors(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def steady_cursors(app) -> None:
    """A blinking cursor would be caught on or off by chance: keep it on."""
    for field in app.query(Input):
        field.cursor_blink = False


async def after_two_runs(pilot) -> None:
    steady_cursors(pilot.app)
    await open_embeddings(pilot)
    await train(pilot, "classic", {"corpus": "tiny.txt", "epochs": "2"})
    await train(pilot, "cbow", {"epochs": "2"})
    pilot.app.clear_notifications()
    await pilot.pause(0.5)  # the curves redraw on their timer


async def after_queries(pilot) -> None:
    steady_cursors(pilot.app)
    await engine_ready(pilot)
    await pilot.press("f4")
    await pilot.pause()
    for line in ("load vectors.txt", "near king 5", "sim king queen", "kingg", "near"):
        await ask(pilot, line)
    await pilot.press(*"analogy man wo", "tab")
    pilot.app.clear_notifications()
    await pilot.pause(0.2)


@SIZES
def test_embeddings_after_classic_then_cbow(snap_compare, frozen, steady_logs, here, size):  # noqa: F811
    assert snap_compare(AdvTUI(device="cpu"), terminal_size=size, run_before=after_two_runs)


@SIZES
def test_words_console_after_queries(snap_compare, frozen, steady_logs, here, size):  # noqa: F811
    assert snap_compare(AdvTUI(device="cpu"), terminal_size=size, run_before=after_queries)
