"""True-pixel images are only asked for where the terminal may speak Kitty graphics or Sixel."""

from __future__ import annotations

from tui import terminal_images
from tui.terminal_images import likely_capable, probe


def test_only_capable_looking_terminals_are_asked():
    assert likely_capable({"TERM": "xterm-kitty"})
    assert likely_capable({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"})
    assert likely_capable({"TERM": "foot"})
    assert not likely_capable({"TERM": "xterm-256color"})
    assert not likely_capable({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"})


def test_probe_is_none_when_turned_off_or_unlikely(monkeypatch):
    monkeypatch.setenv("ADVTUI_IMAGES", "off")
    assert probe() is None
    monkeypatch.delenv("ADVTUI_IMAGES")
    monkeypatch.setattr(terminal_images, "likely_capable", lambda env=None: False)
    assert probe() is None


def test_probe_without_a_terminal_falls_back_to_half_blocks(monkeypatch):
    monkeypatch.setenv("ADVTUI_IMAGES", "kitty")  # forced, but pytest's stdout is no terminal
    assert probe() is None
