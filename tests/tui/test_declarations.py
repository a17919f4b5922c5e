"""Each config field declared once: for every field of every job, the CLI option and the form
input exist, show the declared default, and refuse a bad value with the engine's own message.

The cases are generated from the declarations (``engine.fields.specs``), so a field added,
removed or changed in a config class is checked here with no edit to this file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from engine.fields import Spec, parse, show, specs
from engine.vision.events import SweepConfig, TrainConfig
from engine.words.events import EvalConfig, WordsConfig
from tests.tui.conftest import engine_ready, lab
from tui.cli import build_parser, main

COMMANDS = {
    SweepConfig: ["sweep"],
    TrainConfig: ["train-model"],
    WordsConfig: ["words", "train"],
    EvalConfig: ["words", "eval"],
}
W2V = "3 2\nking 1 0\nqueen 0 1\nman 1 1\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    vectors = tmp_path / "v.txt"
    vectors.write_text(W2V, encoding="utf-8")
    pairs = tmp_path / "p.tsv"
    pairs.write_text("king\tqueen\t5\nking\tman\t3\nqueen\tman\t1\n", encoding="utf-8")
    return {"vectors": str(vectors), "pairs": str(pairs)}


def base_argv(cls: type, files: dict[str, str]) -> list[str]:
    """The command, plus what it needs to be valid apart from the field under test."""
    if cls is EvalConfig:
        return [*COMMANDS[cls], files["vectors"], "--pairs", files["pairs"]]
    return list(COMMANDS[cls])


def bad_values(spec: Spec) -> list[tuple[object, str]]:
    """(bad value, the engine's reason) for the field's type and each of its declared checks."""
    cases: list[tuple[object, str]] = []
    if spec.kind in (int, float):
        word = "a whole number" if spec.kind is int else "a number"
        cases.append(("x", f"must be {word}, got 'x'"))
    if spec.option.choices:
        choices = ", ".join(spec.option.choices)
        cases.append(("nope", f"must be one of {choices}, got 'nope'"))
    for check in spec.option.checks:
        reason = check(check.bad)
        assert reason, f"{spec.name}: the declared bad value passes its own check"
        cases.append((check.bad, reason))
    return cases


def cli_cases() -> list:
    out = []
    for cls in COMMANDS:
        for spec in specs(cls):
            if not spec.option.cli:
                continue
            for bad, reason in bad_values(spec):
                out.append(pytest.param(cls, spec, bad, reason, id=f"{cls.__name__}.{spec.name}"))
    return out


def subparser(argv: list[str]) -> argparse.ArgumentParser:
    parser = build_parser()
    for word in argv:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[word]
    return parser


@pytest.mark.parametrize("cls", list(COMMANDS))
def test_every_cli_field_has_its_option_with_the_declared_help_and_default(cls):
    parser = subparser(COMMANDS[cls])
    actions = {a.dest: a for a in parser._actions}
    for spec in specs(cls):
        if not spec.option.cli:
            assert spec.name not in actions
            continue
        action = actions[spec.name]
        flag = spec.flag
        assert (action.option_strings[0] if action.option_strings else action.metavar) == flag
        assert spec.option.help.replace("%", "%%") in action.help
        if spec.default not in (None, "", (), False):
            assert f"(default {show(spec.default)}" in action.help


@pytest.mark.parametrize(("cls", "spec", "bad", "reason"), cli_cases())
def test_every_cli_option_refuses_a_bad_value_with_the_engines_message(
    cls, spec, bad, reason, files, capsys
):
    argv = base_argv(cls, files)
    if not spec.flag.startswith("-"):  # positional: replaces the valid one
        argv = [*COMMANDS[cls], show(bad), "--pairs", files["pairs"]]
    elif spec.kind is tuple and spec.option.sep is None:
        for item in bad:
            argv += [spec.flag, str(item)]
    else:
        argv += [f"{spec.flag}={show(bad)}"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"advtui: error: {spec.flag} {reason}"


# --------------------------------------------------------------------------- the forms


def form_fields(form) -> list[Spec]:
    """The text inputs of a form (dropdowns and checklists cannot hold a bad value)."""
    return [s for s in form.specs if not s.option.choices and s.name not in form.CHECKLISTS]


async def check_form(pilot, form, preset: str | None = None) -> int:
    """Defaults as declared, then each bad value refused under its field; returns fields seen."""
    seen = 0
    for spec in form.specs:
        if preset is not None and not spec.used(preset):
            continue
        default = spec.option.presets.get(preset, spec.app_default) if preset else spec.app_default
        if preset is not None and spec.name == "model":
            default = preset  # the field that picks the preset
        if spec.name not in form.CHECKLISTS:
            assert form.text(spec.name) == show(default), spec.name
        seen += 1
    for spec in form_fields(form):
        if preset is not None and not spec.used(preset):
            continue
        good = form.text(spec.name)
        for bad, reason in bad_values(spec):
            form.set_text(spec.name, show(bad))
            with pytest.raises(Exception) as err:
                form.config()
            assert str(err.value) == f"{spec.label} {reason}"
            assert form.error_text(spec.name) == f"{spec.label} {reason}"
        form.set_text(spec.name, good)
    form.config()  # back to valid
    return seen


async def test_every_form_field_has_its_input_default_and_validation(app):
    from tui.screens.train import TrainScreen

    async with app.run_test(size=(120, 40)) as pilot:
        await engine_ready(pilot)
        sweep = lab(app).form
        assert await check_form(pilot, sweep) == sum(s.option.form for s in specs(SweepConfig))
        words = app.query_one("EmbeddingsPane").form
        shown = set()
        for model in ("sgns", "classic"):
            words.query_one("#model").value = model
            await pilot.pause()
            await check_form(pilot, words, preset=model)
            shown |= {s.name for s in words.specs if s.used(model)}
        assert shown == {s.name for s in specs(WordsConfig) if s.option.form}
        app.push_screen(TrainScreen("smallcnn", "cifar10", None))
        await pilot.pause()
        train = app.screen.pane.form
        assert await check_form(pilot, train) == sum(s.option.form for s in specs(TrainConfig))


def test_the_form_and_the_cli_read_text_the_same_way():
    """Both go through engine.fields.parse: the same text gives the same value."""
    spec = next(s for s in specs(SweepConfig) if s.name == "attacks")
    assert parse(spec, " fgsm, pgd ,") == ("fgsm", "pgd")
