"""Snapshots of the Runs tab (two words runs marked and overlaid, beside the list of five runs
in four states) and of a ``map`` answer in the Words console, at 80x24 and 120x40.

Deterministic: the run folders are written by hand with fixed names (their dates come from
the names) and numbers (``tests/runfolders.py``); the vectors are seeded; clock-dependent
readouts frozen through ``tui.format`` as in the other snapshot tests.
"""

from __future__ import annotations

import pytest

from tests.runfolders import fixture_runs
from tests.tui.conftest import engine_ready, wait_until
from tests.tui.panes.test_words import ask
from tests.tui.test_snapshots import frozen  # noqa: F401  (the fixture)
from tests.tui.test_snapshots_words import here, steady_cursors, steady_logs  # noqa: F401
from tui.app import AdvTUI

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


@pytest.fixture
def folders(tmp_path):
    return fixture_runs(tmp_path / "runs")  # ADVTUI_RUNS points there (tests/conftest.py)


async def runs_compared(pilot) -> None:
    steady_cursors(pilot.app)
    await engine_ready(pilot)
    await pilot.press("f5")
    runs = pilot.app.query_one("RunsPane")
    await wait_until(pilot, lambda: runs.table.row_count == 5, 30)
    # newest first: failed classic, cbow, sgns, cancelled sweep, sweep; mark cbow and sgns
    await pilot.press("down", "space", "space", "up", "c")
    pilot.app.clear_notifications()
    await pilot.pause(0.5)  # the plot redraws on its timer


async def map_answered(pilot) -> None:
    steady_cursors(pilot.app)
    await engine_ready(pilot)
    await pilot.press("f4")
    await pilot.pause()
    for line in ("load vectors.txt", "map king 6"):
        await ask(pilot, line)
    pilot.app.clear_notifications()
    await pilot.pause(0.2)


@SIZES
def test_runs_tab_with_two_runs_overlaid(snap_compare, frozen, folders, size):  # noqa: F811
    assert snap_compare(AdvTUI(device="cpu"), terminal_size=size, run_before=runs_compared)


@SIZES
def test_words_console_map_answer(snap_compare, frozen, steady_logs, here, size):  # noqa: F811
    assert snap_compare(AdvTUI(device="cpu"), terminal_size=size, run_before=map_answered)
