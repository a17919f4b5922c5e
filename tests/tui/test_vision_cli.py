"""The headless attack commands: a real sweep, its files, and one-line errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.cli import main


def test_sweep_command_writes_the_run_folder(tmp_path, capsys):
    out = tmp_path / "runs"
    code = main(["sweep", "--n", "30", "--batch", "15", "--eps", "0,0.02", "--out", str(out)])
    assert code == 0
    run = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert run.parent.parent == out
    rows = json.loads((run / "points.json").read_text())
    assert [(r["attack"], r["budget"]) for r in rows] == [
        ("oneshot", 0.0),
        ("oneshot", 0.02),
        ("iterated", 0.0),
        ("iterated", 0.02),
    ]
    assert (run / "curve.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sweep", "--eps", "0,abc"], "not a number in budget list"),
        (["sweep", "--attack", "oneshot,bogus"], "unknown attack 'bogus'"),
        (["sweep", "--dataset", "mnist2"], "unknown dataset 'mnist2'"),
        (["sweep", "--dataset", "imagefolder", "--data-dir", "/nonexistent"], "not found"),
        (["sweep", "--weights", "/nonexistent.pt"], "--weights not found"),
        (["sweep", "--device", "tpu"], "unknown device"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_attacks_lists_the_registry(capsys):
    assert main(["attacks"]) == 0
    out = capsys.readouterr().out
    assert "oneshot" in out and "iterated" in out and "steps=10" in out


def test_cli_parsing_does_not_import_torch():
    """`advtui --help` and the app's first paint must not wait for torch."""
    import subprocess
    import sys

    code = "import sys, tui.cli; tui.cli.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
