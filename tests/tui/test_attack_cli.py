"""The CLI side of the attack families: --target, pixel attacks, the attack listing."""

from __future__ import annotations

import json
from pathlib import Path

from tui import format as fmt
from tui.cli import main


def test_sweep_with_target_and_pixel_attack(tmp_path, capsys):
    argv = ["sweep", "--n", "20", "--batch", "20", "--attack", "pgd,pgd-l0", "--eps", "0,8/255"]
    argv += ["--pixels", "0,2", "--steps", "2", "--target", "random", "--out", str(tmp_path)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "2 px" in captured.err  # the table says which budgets are pixel counts
    assert "…" not in captured.err  # no number is cut short at 80 columns
    lines = [line.split() for line in captured.err.splitlines() if line.startswith("smallcnn")]
    table = [cells for cells in lines if cells[1] in ("pgd", "pgd-l0")]
    run = Path(captured.out.strip().splitlines()[-1])
    config = json.loads((run / "config.json").read_text())
    assert config["target"] == "random"
    rows = json.loads((run / "points.json").read_text())
    # no column cropped away: the last one (seconds) is printed whole for every row
    assert [line[-1] for line in table] == [fmt.seconds(r["seconds"]) for r in rows]
    assert [(r["attack"], r["axis"], r["budget"]) for r in rows] == [
        ("pgd", "eps", 0.0),
        ("pgd", "eps", 8 / 255),
        ("pgd-l0", "pixels", 0.0),
        ("pgd-l0", "pixels", 2.0),
    ]


def test_bad_target_exits_2_with_one_line(capsys):
    assert main(["sweep", "--attack", "pgd", "--target", "nowhere"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--target must be a class index, least-likely or random, got 'nowhere'" in err
    assert len(err.splitlines()) == 1


def test_attacks_lists_every_family_with_readable_defaults(capsys):
    assert main(["attacks"]) == 0
    out = capsys.readouterr().out
    for name in ("fgsm", "bim", "pgd", "pgd-l2", "illc", "mifgsm", "pgd-l0", "onepixel"):
        assert name in out
    assert "alpha=2/255" in out and "pixels" in out
