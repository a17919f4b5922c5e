"""``advtui runs`` and ``advtui words map``: list, show, compare to a PNG, rename, delete (asks,
or --yes), and a word map in the terminal or as a PNG; one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runfolders import fixture_runs
from tui.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def runs(tmp_path) -> dict[str, Path]:
    return fixture_runs(tmp_path / "runs")  # ADVTUI_RUNS points there (tests/conftest.py)


def test_list_every_run_and_filter(runs, capsys):
    assert main(["runs", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("sample-smallcnn-oneshot+iterated", "cbow-tinyshakespeare", "out of memory"):
        assert name in out
    assert out.index("classic-tinyshakespeare") < out.index("sample-smallcnn-fgsm")  # newest first
    assert main(["runs", "list", "--kind", "words", "--filter", "cbow"]) == 0
    out = capsys.readouterr().out
    assert "cbow-tinyshakespeare" in out and "sgns-tinyshakespeare" not in out


def test_show_a_run_by_a_piece_of_its_name(runs, capsys):
    assert main(["runs", "show", "oneshot"]) == 0
    out = capsys.readouterr().out
    assert "finished" in out and "iterated 0.050 at 0.1" in out
    assert "curves: oneshot, iterated" in out or "curves: iterated, oneshot" in out
    assert main(["runs", "show", "smallcnn"]) == 2
    assert "2 runs match" in capsys.readouterr().err


def test_compare_writes_a_png(runs, tmp_path, capsys):
    out = tmp_path / "compare.png"
    assert main(["runs", "compare", "sgns", "cbow", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(PNG)
    assert main(["runs", "compare", "sgns", "oneshot", "--out", str(out)]) == 2
    assert "one kind" in capsys.readouterr().err


def test_rename_and_delete(runs, capsys, monkeypatch):
    assert main(["runs", "rename", "cbow", "baseline"]) == 0
    assert Path(capsys.readouterr().out.strip()).name == "20261104-120000-baseline"
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["runs", "delete", "baseline"]) == 2  # no terminal to ask on: needs --yes
    assert (runs["cbow"].parent / "20261104-120000-baseline").is_dir()
    assert main(["runs", "delete", "baseline", "--yes"]) == 0
    assert not (runs["cbow"].parent / "20261104-120000-baseline").exists()


def test_delete_asks_first(runs, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["runs", "delete", "cbow"]) == 0
    assert "kept" in capsys.readouterr().out and runs["cbow"].is_dir()
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert main(["runs", "delete", "cbow"]) == 0 and not runs["cbow"].exists()


W2V = "6 3\nman 1 0 0\nwoman 0 1 0\nking 1 0 1\nqueen 0 1 1\nboy 1 0 -1\ngirl 0 1 -1\n"


def test_words_map_in_the_terminal_and_as_a_png(tmp_path, capsys):
    vectors = tmp_path / "toy.txt"
    vectors.write_text(W2V, encoding="utf-8")
    assert main(["words", "map", str(vectors), "king", "3"]) == 0
    out = capsys.readouterr().out
    assert "map of king" in out and "*king" in out and "\u2510" in out
    png = tmp_path / "king.png"
    assert main(["words", "map", str(vectors), "king", "3", "--out", str(png)]) == 0
    assert png.read_bytes().startswith(PNG)
    assert main(["words", "map", str(vectors), "kingg"]) == 2
    assert "unknown word 'kingg'" in capsys.readouterr().err
