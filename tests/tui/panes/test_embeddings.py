"""The Embeddings pane driven from the keyboard: training runs, their curves, pause, cancel,
save, bad input and engine errors."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from tests.tui.conftest import engine_ready, wait_until

WORDS = (
    "the king and the queen rule the land . a man and a woman walk to the palace . "
    "the prince and the princess ride a horse . the dog and the cat sleep in the house . "
    "a boy and a girl read a book . the queen speaks to the king in the palace . "
).split()

# a run of a second or two on a CPU: the classic/cbow defaults on a tiny corpus, two epochs
TINY = {"epochs": "2"}


def write_corpus(folder: Path, n_words: int = 600, seed: int = 0) -> Path:
    """A few hundred words of shuffled simple sentences (a fixed vocabulary of ~30 words)."""
    rng = random.Random(seed)
    sentences = " ".join(WORDS).split(" . ")
    lines = [rng.choice(sentences) + " ." for _ in range(n_words // 8)]
    path = folder / "tiny.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path, monkeypatch) -> str:
    """The tiny corpus as a short relative path (each typed character costs the test time)."""
    write_corpus(tmp_path)
    monkeypatch.chdir(tmp_path)
    return "tiny.txt"


def pane(app):
    return app.query_one("EmbeddingsPane")


async def go_to(pilot, field_id: str) -> None:
    """Tab or shift+tab, whichever is shorter, until ``#field_id`` has focus (as a user would)."""
    chain = pilot.app.screen.focus_chain
    target = next(i for i, w in enumerate(chain) if w.id == field_id)
    here = chain.index(pilot.app.focused) if pilot.app.focused in chain else 0
    forward, back = (target - here) % len(chain), (here - target) % len(chain)
    await pilot.press(*(["tab"] * forward if forward <= back else ["shift+tab"] * back))
    assert pilot.app.focused is not None and pilot.app.focused.id == field_id


async def fill_form(pilot, values: dict[str, str]) -> None:
    """Replace each field's text by keys: go to it, clear it (home, ctrl+k), type."""
    for field_id, text in values.items():
        await go_to(pilot, field_id)
        await pilot.press("home", "ctrl+k", *text)
        assert pilot.app.focused.value == text


async def choose(pilot, select_id: str, value: str) -> None:
    """Pick ``value`` in a Select by keys: open it, go to the top, walk down, enter."""
    await go_to(pilot, select_id)
    select = pilot.app.focused
    options = [v for _, v in select._options]
    await pilot.press("enter", "home", *["down"] * options.index(value), "enter")
    await pilot.pause()
    assert str(select.value) == value


async def open_embeddings(pilot) -> None:
    await engine_ready(pilot)
    await pilot.press("f3")
    await pilot.pause()


async def start(pilot, model: str, values: dict[str, str]) -> None:
    """Choose the model, fill the form, ctrl+r, wait until the run trains."""
    p = pane(pilot.app)
    await choose(pilot, "model", model)
    await fill_form(pilot, values)
    n = len(p.runs)
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: len(p.runs) > n, 10)
    await wait_until(pilot, lambda: p.runs[-1].started is not None or not p.running, 300)


async def train(pilot, model: str, values: dict[str, str]) -> None:
    """Train one model from the keyboard and wait for the run to end."""
    p = pane(pilot.app)
    await start(pilot, model, values)
    await wait_until(pilot, lambda: not p.running, 300)
    await pilot.pause(0.3)


async def test_classic_then_cbow_leave_both_curves_and_save_exports_the_vectors(app, corpus):
    from engine.jobs import CancelToken, Metric
    from engine.words.formats import load_word2vec
    from engine.words.train import train_words

    async with app.run_test(size=(120, 40)) as pilot:
        await open_embeddings(pilot)
        p = pane(app)
        await train(pilot, "classic", {"corpus": corpus, **TINY})
        await train(pilot, "cbow", TINY)
        assert [r.label for r in p.runs] == ["classic", "cbow"]
        for run in p.runs:
            assert run.result is not None and not run.result.cancelled
            assert run.config.model == run.label and len(run.result.history) == 2
        # both loss curves stay, each with its own loss windows
        loss = p.loss_plot.series
        assert set(loss) == {"classic", "cbow"}
        assert all(len(points) >= 2 for points in loss.values())
        assert loss["classic"] != loss["cbow"]
        # the epoch plot: each run's held-out context accuracy per epoch, exactly the engine's
        # EpochEnd metrics
        for run in p.runs:
            curve = p.metric_plot.series[f"{run.label} context_acc"]
            assert curve == [(e.epoch, e.metrics["context_acc"]) for e in run.result.history]
        assert p.status.state == "done" and p.status.meter.fraction == 1.0
        # ctrl+s: word2vec text and projector TSV of the last run, and where they went
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any("saved word2vec" in x for x in p.log_pane.plain), 30)
        line = next(x for x in p.log_pane.plain if "saved word2vec" in x)
        folder = Path(line.rsplit(" in ", 1)[1])
        assert folder.parent == Path(p.runs[-1].run_dir)
        saved = load_word2vec(folder / "vectors.txt")
        assert saved.words == p.runs[-1].result.embeddings.words
        assert (folder / "vectors.tsv").is_file() and (folder / "metadata.tsv").is_file()
        assert any(str(folder) in n.message for n in app._notifications)
        shown = list(loss["classic"])
        config = p.runs[0].config
    # the classic run headless: same seed, same threads -> the very loss windows on the plot
    events: list = []
    train_words(dataclasses.replace(config), events.append, CancelToken())
    engine = [(float(e.step), float(e.value)) for e in events if isinstance(e, Metric)]
    assert shown == engine


async def test_pause_resume_and_quit_while_paused(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await open_embeddings(pilot)
        p = pane(app)
        # sgns on the built-in corpus, many epochs: it trains until we stop it
        await start(pilot, "sgns", {"epochs": "50"})
        await wait_until(pilot, lambda: p.status.meter.fraction > 0, 60)
        await pilot.press("ctrl+o")
        assert p.status.state == "paused" and p.pause_token.paused
        await pilot.pause(0.5)  # let the batch in flight land
        before = p.status.meter.fraction
        await pilot.pause(0.6)
        assert p.status.meter.fraction == before  # paused: no progress
        await pilot.press("ctrl+o")
        assert p.status.state == "running" and not p.pause_token.paused
        await wait_until(pilot, lambda: p.status.meter.fraction > before, 30)
        # paused again, then q (outside a text field): the app cancels the run and quits
        await pilot.press("ctrl+o")
        token = p.token
        await go_to(pilot, "model")
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")  # asked once: a run is training
        await wait_until(pilot, lambda: not app.is_running, 60)
        assert token.cancelled


async def test_bad_input_and_engine_errors_are_shown_and_the_app_keeps_running(
    app, corpus, monkeypatch
):
    from engine.words import train as words_train

    async with app.run_test(size=(80, 24)) as pilot:
        await open_embeddings(pilot)
        p = pane(app)
        # a corpus that is not there: one line under the field as soon as it is left
        await fill_form(pilot, {"corpus": "nowhere.txt"})
        await pilot.press("tab")
        shown = p.form.error_text("corpus")
        assert shown.startswith("corpus 'nowhere.txt' not found") and "\n" not in shown
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert p.runs == [] and any(n.message == shown for n in app._notifications)
        # a malformed number: the field is named, nothing runs
        await fill_form(pilot, {"corpus": corpus, "epochs": "x"})
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert p.runs == [] and p.form.error_text("corpus") == ""
        assert p.form.error_text("epochs") == "epochs must be a whole number, got 'x'"

        # the engine raising: the log and a notification say so, the app carries on
        def broken(config, emit, cancel, pause=None):
            raise RuntimeError("the words engine broke")

        monkeypatch.setattr(words_train, "train_words", broken)
        await fill_form(pilot, {"epochs": "1"})
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: p.status.state == "failed", 30)
        assert any("the words engine broke" in line for line in p.log_pane.plain)
        assert any("the words engine broke" in n.message for n in app._notifications)
        assert app.is_running and not p.running
        await pilot.press("f4")  # the rest of the app still answers
        assert app.query_one("#tabs").active == "words"
