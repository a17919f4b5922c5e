"""The shell: first paint without torch, header, tabs, help, palette, 80x24, clean quit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.tui.conftest import engine_ready, fill_form, lab, wait_until
from tui.panes import PANES

REPO = Path(__file__).resolve().parents[2]


def test_importing_the_app_and_panes_does_not_import_torch():
    code = (
        "import sys, tui.app, tui.panes.attack_lab, tui.screens.help, tui.screens.train;"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


async def test_header_says_when_the_engine_is_ready_and_which_device(app):
    async with app.run_test(size=(80, 24)) as pilot:
        assert "loading engine" in app.sub_title or app.engine_device is not None
        await engine_ready(pilot)
        assert app.sub_title.startswith("CPU") and app.sub_title.endswith("engine ready")


async def test_tabs_are_the_registered_panes_and_function_keys_switch(app):
    async with app.run_test(size=(80, 24)) as pilot:
        tabs = app.query_one("#tabs")
        assert [p.id for p in tabs.query("TabPane")] == [p.id for p in PANES]
        await pilot.press("f3")
        assert tabs.active == "embeddings"
        assert app.query_one("#embeddings .pane").__class__.__name__ == "EmbeddingsPane"
        await pilot.press("f2")
        assert tabs.active == "attack-lab"


async def test_help_screen_lists_every_key_from_the_bindings(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        screen = app.screen
        assert type(screen).__name__ == "HelpScreen"
        descriptions = {d for _, d in screen.key_lines()}
        for expected in ("Run", "Cancel", "Export", "Pixels", "Form", "Quit", "Help"):
            assert expected in descriptions
        keys = dict((d, k) for k, d in screen.key_lines())
        assert keys["Quit"] == "q / ^q" and keys["Run"] == "^r" and keys["Cancel"] == "esc"
        assert keys["Pause/resume"] == "^o"  # every job pauses, the sweep too
        # our words only: no framework docstring ("The base class for screens.")
        helps = {s.title: s.help for s in screen.sections}
        assert "Focus and text" in helps and helps["Focus and text"] == ""
        assert not any("base class" in h for h in helps.values())
        assert "Sample preview" in helps
        await pilot.press("escape")
        assert type(app.screen).__name__ != "HelpScreen"


async def test_question_mark_opens_help_outside_text_fields(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        await pilot.press("f3")  # the Embeddings tab: no text field there
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"


async def test_command_palette_runs_actions_by_name(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        await pilot.press("ctrl+p", *"export")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app._notifications, 10)
        assert any("nothing to export yet" in n.message for n in app._notifications)


async def test_80x24_shows_form_status_and_plot_and_the_rest_scrolls_into_view(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await engine_ready(pilot)
        screen = app.screen.region

        def visible(selector: str) -> bool:
            region = app.query_one(selector).region
            return region.area > 0 and screen.contains_region(region)

        for selector in ("#dataset", "#attacks", "#eps", "#n", "#seed", "#sweep-status", "#plots"):
            assert visible(selector), selector
        footer = app.query_one("Footer")
        assert footer.region.y == 23
        for selector in ("#preview", "#results", "#log"):
            widget = app.query_one(selector)
            widget.scroll_visible(animate=False)
            await pilot.pause()
            assert widget.region.area > 0 and widget.region.y < 23, selector


async def test_quit_mid_sweep_cancels_it_and_the_run_record_is_written(app, isolated_dirs):
    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        await fill_form(pilot, {"n": "200", "batch": "20", "eps": "0:0.01:0.0005"})
        await pilot.press("ctrl+r")
        pane = lab(app)
        await wait_until(pilot, lambda: len(pane.state.points) >= 1)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert type(app.screen).__name__ == "QuitScreen"  # asked once: a sweep runs
        await pilot.press("n")  # stay: the sweep goes on
        assert app.is_running and pane.running and not pane.token.cancelled
        await pilot.press("ctrl+q", "y")
        await wait_until(pilot, lambda: not app.is_running, 60)
    runs = list((isolated_dirs / "runs" / "sweep").iterdir())
    assert len(runs) == 1
    summary = json.loads((runs[0] / "summary.json").read_text())
    assert summary["cancelled"] is True and summary["status"] == "cancelled"
    assert summary["reason"] == "the app was quit"
    assert json.loads((runs[0] / "points.json").read_text())
