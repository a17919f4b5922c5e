"""Keyboard-only helpers for driving the app in tests (``App.run_test`` + ``Pilot``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from tui.app import AdvTUI

SMALL = {"n": "40", "batch": "20", "eps": "0,0.02,0.1"}  # a sweep of seconds on a CPU


async def wait_until(pilot: Pilot, cond: Callable[[], object], timeout: float = 120.0) -> None:
    """Let the app run until ``cond()`` is true (the engine works on its own thread)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {cond}")
        await pilot.pause(0.05)


async def engine_ready(pilot: Pilot) -> None:
    await wait_until(pilot, lambda: pilot.app.engine_device is not None, 60)
    await pilot.pause()


async def focus_field(pilot: Pilot, field_id: str, limit: int = 40) -> None:
    """Tab (forwards only, as a user would) until the widget ``#field_id`` has focus."""
    for _ in range(limit):
        focused = pilot.app.focused
        if focused is not None and focused.id == field_id:
            return
        await pilot.press("tab")
    raise AssertionError(f"could not tab to #{field_id}")


async def type_into(pilot: Pilot, field_id: str, text: str) -> None:
    """Replace an input's text by keys: go to it, clear it (home, ctrl+k), type."""
    await focus_field(pilot, field_id)
    await pilot.press("home", "ctrl+k", *list(text))
    assert pilot.app.focused.value == text


async def fill_form(pilot: Pilot, values: dict[str, str]) -> None:
    for field_id, text in values.items():
        await type_into(pilot, field_id, text)


def lab(app: AdvTUI):
    return app.query_one("AttackLab")


async def run_sweep_keys(pilot: Pilot, values: dict[str, str] | None = None) -> None:
    """Fill the form, press ctrl+r, wait for the sweep to end."""
    await engine_ready(pilot)
    await fill_form(pilot, values or SMALL)
    await pilot.press("ctrl+r")
    pane = lab(pilot.app)
    await wait_until(pilot, lambda: pane.state.result is not None or pane.status.state == "failed")
    await wait_until(pilot, lambda: not pane.running)
    await pilot.pause()


@pytest.fixture
def app() -> AdvTUI:
    return AdvTUI(device="cpu", quit_timeout=60)


@pytest.fixture(autouse=True)
def _no_leftover_loop():
    yield
    # a failing test may leave the app's worker threads finishing their batch; let them
    asyncio.set_event_loop(None)
