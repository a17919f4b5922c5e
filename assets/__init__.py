"""Run-time files shipped with advtui (stylesheet, offline sample data, weights, word lists)."""

from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent


def asset_path(name: str) -> Path:
    """The path of a shipped asset file."""
    return ASSETS_DIR / name
