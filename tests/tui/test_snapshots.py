"""Snapshots of the Attack lab after a keyboard-driven sweep, at 80x24 and 120x40.

Deterministic: fixed seed, one torch thread, and the clock-dependent readouts (times, rates,
ETA, the run folder's timestamped path) frozen through ``tui.format``.
"""

from __future__ import annotations

import pytest

from tests.tui.conftest import focus_field, run_sweep_keys
from tui import format as fmt
from tui.app import AdvTUI


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setenv("ADVTUI_TORCH_THREADS", "1")
    monkeypatch.setattr(fmt, "seconds", lambda value: "<t>")
    monkeypatch.setattr(fmt, "rate", lambda value, unit: f"<rate> {unit}/s")
    monkeypatch.setattr(fmt, "eta", lambda value: "ETA <t>")
    monkeypatch.setattr(fmt, "run_dir", lambda path: "<run folder>")


async def after_sweep(pilot) -> None:
    await run_sweep_keys(pilot, {"n": "40", "batch": "20", "eps": "0,0.01,0.02,0.05,0.1"})
    await focus_field(pilot, "preview")
    pilot.app.clear_notifications()
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_attack_lab_after_a_sweep(snap_compare, frozen, size):
    assert snap_compare(AdvTUI(device="cpu"), terminal_size=size, run_before=after_sweep)
