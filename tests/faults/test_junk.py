"""Junk in every field: every CLI option and every form field of every job, given an empty
value, ``nan``, ``inf``, ``-1``, ``1e309``, a 40-digit number, 10,000 characters, control
characters or non-ASCII text, gets one line and runs nothing.

The cases come from the declarations (``engine.fields.specs``), so a new field is covered with
no edit here. A few junk values are real values of some fields, and those run: an empty
optional field means its default, and ``out`` / ``save`` take any name a folder or a file may
have (``nan`` and ``ünïcødé✓`` are good names); :func:`accepted` lists exactly these.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import UsageError
from engine.fields import Spec, specs
from engine.vision.events import SweepConfig, TrainConfig
from engine.words.events import EvalConfig, WordsConfig
from tests.faults.conftest import tally
from tests.tui.conftest import engine_ready
from tui.cli import main

JUNK = {
    "empty": "",
    "nan": "nan",
    "inf": "inf",
    "-1": "-1",
    "1e309": "1e309",
    "huge integer": "9" * 40,
    "10,000 characters": "x" * 10_000,
    "a 300-character name": "y" * 300,
    "control characters": "a\x1b[2Jb\x07",
    "non-ASCII": "ünïcødé✓",
}
COMMANDS = {
    SweepConfig: ["sweep"],
    TrainConfig: ["train-model"],
    WordsConfig: ["words", "train"],
    EvalConfig: ["words", "eval"],
}
NAMES = ("out", "save")  # a new file or folder: any name is a name


def accepted(spec: Spec, junk: str) -> bool:
    """The junk values that are real values of ``spec``'s field."""
    if junk == "":  # "not set": an optional field's None, or an empty list where allowed
        return spec.optional or (spec.kind is tuple and not any(c(()) for c in spec.option.checks))
    return spec.name in NAMES and junk in ("nan", "inf", "-1", "1e309", "9" * 40, "ünïcødé✓")


class Ran(BaseException):
    """The command got as far as starting its job: its config passed every check."""


@pytest.fixture
def no_jobs(monkeypatch):
    def stop(job, config, *args, **kwargs):
        raise Ran(config)

    for module in ("tui.vision_cli", "tui.words_cli"):
        monkeypatch.setattr(f"{module}.run_in_console", stop)


@pytest.fixture
def files(tmp_path) -> dict[str, str]:
    vectors = tmp_path / "v.txt"
    vectors.write_text("3 2\nking 1 0\nqueen 0 1\nman 1 1\n", encoding="utf-8")
    pairs = tmp_path / "p.tsv"
    pairs.write_text("king\tqueen\t5\nking\tman\t3\n", encoding="utf-8")
    return {"vectors": str(vectors), "pairs": str(pairs)}


def cli_cases() -> list:
    return [
        pytest.param(cls, spec, junk, id=f"{COMMANDS[cls][-1]} {spec.flag} {name}")
        for cls in COMMANDS
        for spec in specs(cls)
        if spec.option.cli
        for name, junk in JUNK.items()
    ]


def argv_for(cls: type, spec: Spec, junk: str, files: dict[str, str]) -> list[str]:
    command = ["--device", "cpu", *COMMANDS[cls]]
    if cls is EvalConfig:
        if not spec.flag.startswith("-"):
            return [*command, junk, "--pairs", files["pairs"]]
        command += [files["vectors"], "--pairs", files["pairs"]]
    return [*command, f"{spec.flag}={junk}"]


@pytest.mark.parametrize(("cls", "spec", "junk"), cli_cases())
def test_junk_in_every_cli_option_is_one_line_and_runs_nothing(
    cls, spec, junk, files, no_jobs, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)  # an accepted name must not land in the checkout
    try:
        code = main(argv_for(cls, spec, junk, files))
    except Ran:
        code = None
    except SystemExit as exc:  # argparse's own refusal (a value for an on/off flag)
        code = exc.code
    err = capsys.readouterr().err.strip()
    if code is None:
        ok = accepted(spec, junk)
    else:
        lines = err.splitlines()
        ok = code == 2 and len(lines) == 1 and lines[0].startswith("advtui: error: ")
        ok = ok and len(lines[0]) < 600 and "\x1b" not in err and not accepted(spec, junk)
    tally("junk in a CLI option", 1, 0, int(not ok))
    assert ok, (code, err)


def test_an_accepted_odd_name_really_runs(tmp_path, monkeypatch, capsys):
    """``--out ünïcødé✓`` is a folder name like any other: the sweep runs and writes there."""
    monkeypatch.chdir(tmp_path)
    argv = ["--device", "cpu", "sweep", "--n", "10", "--batch", "10", "--attack", "fgsm",
            "--eps", "0", "--out", "ünïcødé✓"]  # fmt: skip
    assert main(argv) == 0
    run = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert run.parent.parent == Path("ünïcødé✓") or run.parent.parent.name == "ünïcødé✓"


@pytest.mark.parametrize(
    "argv",
    [
        ["words", "query", "{junk}", "king"],
        ["words", "query", "{vectors}", "{junk}"],
        ["words", "export", "{junk}", "--out", "x.txt"],
        ["words", "export", "{vectors}", "--format", "{junk}", "--out", "x.txt"],
        ["words", "export", "{vectors}", "--out", "{junk}"],
    ],
    ids=["query MODEL", "query QUERY", "export MODEL", "export --format", "export --out"],
)
def test_junk_in_the_query_and_export_arguments_is_one_line(
    argv, files, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    for name, junk in JUNK.items():
        args = [a.format(junk=junk, vectors=files["vectors"]) for a in argv]
        code = main(args)
        err = capsys.readouterr().err.strip().splitlines()
        fine = (
            code == 0
            and argv[-1] == "{junk}"
            and name in ("nan", "-1", "inf", "1e309", "non-ASCII", "huge integer")
        )
        ok = fine or (code == 2 and len(err) == 1 and err[0].startswith("advtui: error: "))
        tally("junk in a query or export argument", 1, 0, int(not ok))
        assert ok, (name, code, err)


# --------------------------------------------------------------------------- the forms


def form_cases(form) -> list[Spec]:
    """The text inputs of a form that are showing (dropdowns hold no junk)."""
    from textual.widgets import Input

    return [
        s for s in form.specs
        if isinstance(form.query_one(f"#{s.name}"), Input) and form.shown(s)
    ]  # fmt: skip


def check_form(pane, form) -> int:
    """Each junk value in each text field: the form refuses it with one line under the
    field and the pane starts nothing (or it is a real value of that field)."""
    seen = 0
    for spec in form_cases(form):
        good = form.text(spec.name)
        for junk in JUNK.values():
            form.set_text(spec.name, junk)
            try:
                form.config(device="cpu")
                ok = accepted(spec, junk)
            except UsageError as exc:
                shown = form.error_text(spec.name)
                ok = "\n" not in str(exc) and len(str(exc)) < 600 and "\x1b" not in str(exc)
                ok = ok and not accepted(spec, junk) and shown.startswith(spec.label)
                pane.action_run()
                ok = ok and not pane.running
            tally("junk in a form field", 1, 0, int(not ok))
            assert ok, (spec.name, junk[:40])
            seen += 1
        form.set_text(spec.name, good)
    form.config(device="cpu")
    return seen


async def test_junk_in_every_form_field_is_one_line_and_starts_nothing(tmp_path, monkeypatch):
    from tui.app import AdvTUI
    from tui.screens.train import TrainScreen

    monkeypatch.chdir(tmp_path)
    app = AdvTUI(device="cpu")
    async with app.run_test(size=(120, 40)) as pilot:
        await engine_ready(pilot)
        lab = app.query_one("AttackLab")
        assert check_form(lab, lab.form) >= 9 * len(JUNK)
        emb = app.query_one("EmbeddingsPane")
        for model in ("sgns", "classic"):
            emb.form.query_one("#model").value = model
            await pilot.pause()
            assert check_form(emb, emb.form) >= 9 * len(JUNK)
        app.push_screen(TrainScreen("smallcnn", "cifar10", None))
        await pilot.pause()
        train = app.screen.pane
        assert check_form(train, train.form) >= 5 * len(JUNK)
