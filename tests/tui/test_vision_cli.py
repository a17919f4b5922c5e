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


SHIPPED_FILE = str(Path(__file__).resolve().parents[2] / "assets" / "smallcnn_cifar10.pt")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sweep", "--eps", "0,abc"], "--eps has 'abc', which is not a number"),
        (["sweep", "--attack", "oneshot,bogus"], "--attack has unknown 'bogus'"),
        (["sweep", "--dataset", "mnist2"], "--dataset must be one of sample, cifar10"),
        (
            ["sweep", "--dataset", "imagefolder", "--data-dir", "/nonexistent"],
            "--data-dir must be an existing file or folder, got '/nonexistent'",
        ),
        (["sweep", "--weights", "/nonexistent.pt"], "--weights must be an existing file"),
        (["sweep", "--device", "tpu"], "--device must be one of auto, cpu"),
        (["sweep", "--steps", "0"], "--steps must be at least 1, got 0"),
        (["sweep", "--target", "3"], "--target needs an attack with a targeted mode"),
        (["train-model", "--epochs", "0"], "--epochs must be between 1 and 10000, got 0"),
        (["sweep", "--model", "smallcnn,smallcnn"], "--model names 'smallcnn' twice"),
        (
            ["sweep", "--model", "smallcnn,resnet18", "--weights", SHIPPED_FILE],
            "--weights belongs to one model, but --model names 2",
        ),
        (["train-model", "--eps", "0"], "--eps must be one size in (0, 1], e.g. 8/255, got '0'"),
        (["train-model", "--adversarial", "trades"], "--adversarial must be one of none, fgsm-rs"),
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
    for name in ("apgd-ce", "apgd-t", "fab-t", "square", "autoattack", "n_queries=5000"):
        assert name in out, name


def test_cli_parsing_does_not_import_torch():
    """`advtui --help` and the app's first paint must not wait for torch."""
    import subprocess
    import sys

    code = "import sys, tui.cli; tui.cli.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_root_device_reaches_every_job_and_a_subcommand_device_wins(tmp_path, capsys):
    from engine.vision.events import SweepConfig, TrainConfig
    from tui.cli import build_parser
    from tui.options import config_from_args
    from tui.words_cli import train_config

    parse = build_parser().parse_args
    assert config_from_args(SweepConfig, parse(["--device", "cpu", "sweep"])).device == "cpu"
    assert config_from_args(TrainConfig, parse(["--device", "cpu", "train-model"])).device == "cpu"
    assert train_config(parse(["--device", "cpu", "words", "train"])).device == "cpu"
    args = parse(["--device", "auto", "sweep", "--device", "cpu"])
    assert config_from_args(SweepConfig, args).device == "cpu"
    assert config_from_args(SweepConfig, parse(["sweep"])).device == "auto"
    # end to end: the run records the device it was asked to use
    out = str(tmp_path / "runs")
    argv = ["--device", "cpu", "sweep", "--n", "10", "--batch", "10", "--eps", "0", "--out", out]
    assert main(argv) == 0
    run = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert json.loads((run / "config.json").read_text())["device"] == "cpu"


def test_sigint_mid_sweep_stops_after_the_batch_in_flight(tmp_path, monkeypatch, capfd):
    """The signal lands while the 3rd batch is attacked: that batch finishes, no other starts,
    the finished point is kept and the command exits 130."""
    import dataclasses
    import os
    import signal

    from engine.vision.attacks import REGISTRY

    spec = REGISTRY["fgsm"]
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the first batch of the second point
            os.kill(os.getpid(), signal.SIGINT)
        return spec.run(*args, **kwargs)

    monkeypatch.setitem(REGISTRY, "fgsm", dataclasses.replace(spec, run=counting))
    out = str(tmp_path / "runs")
    argv = ["sweep", "--attack", "fgsm", "--n", "40", "--batch", "20", "--eps", "0,0.01,0.02"]
    assert main([*argv, "--out", out]) == 130
    assert len(calls) == 3  # 2 batches per point: the interrupted point stopped after 1
    captured = capfd.readouterr()  # the notice goes straight to the descriptor
    assert "cancelling" in captured.err
    run = Path(captured.out.strip().splitlines()[-1])
    rows = json.loads((run / "points.json").read_text())
    assert [r["budget"] for r in rows] == [0.0]
    assert json.loads((run / "summary.json").read_text())["cancelled"] is True


def test_ctrl_c_in_a_real_process_exits_130_without_a_traceback(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "runs"
    argv = [sys.executable, "-m", "tui.cli", "--device", "cpu", "sweep", "--n", "1000",
            "--batch", "50", "--attack", "pgd", "--eps", "0,0.001,0.002,0.005,0.01,0.02",
            "--out", str(out)]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    pipe = subprocess.PIPE
    proc = subprocess.Popen(argv, stdout=pipe, stderr=pipe, text=True, env=env)
    for line in proc.stderr:  # wait for the first finished point
        if "acc" in line and "success" in line:
            break
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert "cancelling" in stderr and "Traceback" not in stderr
    run = Path(stdout.strip().splitlines()[-1])
    rows = json.loads((run / "points.json").read_text())
    assert 1 <= len(rows) < 6
