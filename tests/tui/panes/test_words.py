"""The Words console driven from the keyboard: answers equal the engine's, history, completion,
usage hints, unknown words, engine errors, load, eval and compare."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.words.commands import run_query
from tests.tui.conftest import engine_ready, wait_until
from tests.tui.panes.test_embeddings import open_embeddings, pane, start, write_corpus

VOCAB = ["king", "queen", "man", "woman", "prince", "princess", "palace", "horse", "house", "dog",
         "cat", "boy", "girl", "book", "kingdom", "kings"]  # fmt: skip


def make_vectors(folder: Path) -> Path:
    """A small word2vec text file with seeded random vectors (no training needed)."""
    import torch

    from engine.words.formats import save_word2vec
    from engine.words.query import Embeddings

    gen = torch.Generator().manual_seed(0)
    emb = Embeddings(VOCAB, torch.randn(len(VOCAB), 8, generator=gen))
    return save_word2vec(emb, folder / "vectors.txt")


@pytest.fixture
def corpus(tmp_path, monkeypatch) -> str:
    write_corpus(tmp_path)
    monkeypatch.chdir(tmp_path)
    return "tiny.txt"


@pytest.fixture
def vectors(tmp_path, monkeypatch) -> Path:
    """The file, as a short relative path (typing a long one costs the test seconds)."""
    make_vectors(tmp_path)
    monkeypatch.chdir(tmp_path)
    return Path("vectors.txt")


def console(app):
    return app.query_one("WordsPane")


async def ask(pilot, line: str) -> None:
    """Type a line into the console and press enter; wait until it is answered."""
    words = console(pilot.app)
    before = words.answered
    await pilot.press(*line, "enter")
    await wait_until(pilot, lambda: words.answered > before and not words.busy, 30)
    await pilot.pause()


async def open_console(pilot) -> None:
    await engine_ready(pilot)
    await pilot.press("f4")
    await pilot.pause()
    assert pilot.app.focused is console(pilot.app).input


async def test_console_answers_hints_and_errors_on_a_loaded_file(app, vectors, monkeypatch):
    from engine.words.formats import load_word2vec
    from engine.words.query import Embeddings

    async with app.run_test(size=(100, 30)) as pilot:
        await open_console(pilot)
        words = console(app)
        out = words.out
        # before any model: what to do about it; help lists the engine's and the pane's commands
        await ask(pilot, "king")
        assert out.plain[-1].startswith("no model yet")
        await ask(pilot, "help")
        shown = "\n".join(out.plain)
        assert "near WORD [K]  (the K nearest words, default 10)" in shown
        assert "compare WORD [K]  (untrained vs trained predicted context words)" in shown
        await ask(pilot, f"load {vectors}")
        assert out.plain[-1] == f"loaded {len(VOCAB)} words x 8 from {vectors}"
        assert f"loaded {vectors} · {len(VOCAB)} words x 8" in str(words.header.render())
        # answers are the engine's, on the same vectors
        direct = load_word2vec(vectors)
        queries = ["near king 5", "sim king queen", "analogy man woman king", "odd king queen dog"]
        for q in queries:
            await ask(pilot, q)
        assert out.answers[-4:] == [run_query(direct, q) for q in queries]
        assert "> near king 5" in out.plain
        await ask(pilot, "prince")  # plain word2vec vectors: neighbours, and why no context
        assert out.answers[-1] == run_query(direct, "prince")
        assert "no context predictor" in out.answers[-1].summary
        # malformed lines get their one-line usage; unknown words get suggestions
        cases = {
            "near": "usage: near WORD [K]",
            "sim king": "usage: sim A B",
            "frob king": "unknown command 'frob'",
            "compare": "usage: compare WORD [K]",
            "eval": "no evaluation files",
            "kingg": "unknown word 'kingg'; closest in the vocabulary: king",
            "compare king": "compare needs a model trained here",
            "load nope": "no such file or folder",
        }
        for line, expected in cases.items():
            await ask(pilot, line)
            assert expected in out.plain[-1] and "\n" not in out.plain[-1], (line, out.plain[-1])
        assert not app._notifications  # usage problems stay in the console
        # an engine failure: a red line and a notification; the console keeps answering

        def broken(self, word, k=10):
            raise RuntimeError("neighbours exploded")

        monkeypatch.setattr(Embeddings, "neighbours", broken)
        await ask(pilot, "near king")
        assert out.plain[-1] == "Unexpected error: RuntimeError: neighbours exploded"
        assert any("neighbours exploded" in n.message for n in app._notifications)
        monkeypatch.undo()
        await ask(pilot, "sim king queen")
        assert out.plain[-1].startswith("cosine(king, queen)")


async def test_history_and_tab_completion(app, vectors):
    async with app.run_test(size=(80, 24)) as pilot:
        await open_console(pilot)
        words = console(app)
        field = words.input
        await ask(pilot, f"load {vectors}")
        await wait_until(pilot, lambda: field.vocabulary, 10)
        # history: up walks back, down forward to the draft being typed
        await ask(pilot, "sim king queen")
        await ask(pilot, "near king")
        await pilot.press(*"dra", "up")
        assert field.value == "near king"
        await pilot.press("up")
        assert field.value == "sim king queen"
        await pilot.press("up", "up")  # the oldest (the load line) stays
        assert field.value == f"load {vectors}"
        await pilot.press("down", "down")
        assert field.value == "near king"
        await pilot.press("down")
        assert field.value == "dra"
        await pilot.press("ctrl+u", "up", "enter")  # run again from the history
        await wait_until(pilot, lambda: not words.busy, 10)
        assert words.out.plain.count("> near king") == 2
        # completion: one match completes, several extend to their common prefix and are listed
        await pilot.press(*"sim que", "tab")
        assert field.value == "sim queen "
        await pilot.press("ctrl+u", *"ho", "tab")
        assert field.value == "ho" and words.out.plain[-1] == "ho: horse  house"
        await pilot.press("r", "tab")
        assert field.value == "horse "
        await pilot.press("ctrl+u", *"anal", "tab")  # a command name
        assert field.value == "analogy "
        await pilot.press("m", "tab", *"wo", "tab", *"ki", "tab")
        assert field.value == "analogy man woman king"  # king, kingdom, kings share 'king'
        await pilot.press("ctrl+u", "tab")  # nothing to complete: tab moves focus on
        assert app.focused is not field


async def test_queries_answer_from_the_model_in_training_then_from_its_result(app, corpus):
    """Paused mid-run, answers equal direct calls on a snapshot of the weights; compare puts a
    fresh untrained model next to the trained one; once the run ends, its final vectors."""
    async with app.run_test(size=(100, 30)) as pilot:
        await open_embeddings(pilot)
        p = pane(app)
        await start(pilot, "classic", {"corpus": corpus, "epochs": "500"})
        # generous bounds: a busy 2-core machine may take long to reach the first epoch's end
        await wait_until(pilot, lambda: p.runs[-1].epochs, 300)
        await pilot.press("ctrl+o")
        await pilot.pause(0.5)  # the batch in flight lands, then the job waits
        started = p.runs[-1].started
        await pilot.press("f4")
        await pilot.pause()
        words = console(app)
        assert "classic (training)" in str(words.header.render())
        await wait_until(pilot, lambda: "king" in words.input.vocabulary, 10)
        snapshot = started.snapshot()
        for q in ("near queen 5", "king"):
            await ask(pilot, q)
            assert words.out.answers[-1] == run_query(snapshot, q)
        assert words.out.answers[-1].tables[0].title == "predicted context words"
        await ask(pilot, "compare king 5")
        untrained, trained = words.out.answers[-1].tables
        assert list(trained.rows) == snapshot.context("king", 5)
        assert len(untrained.rows) == 5 and list(untrained.rows) != list(trained.rows)
        # cancel the run (esc): the console answers from what it finished with
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("escape")
        await wait_until(pilot, lambda: not p.running, 300)
        assert p.runs[-1].result.cancelled and p.status.state == "cancelled"
        final = p.runs[-1].result.embeddings
        await pilot.press("f4")
        await pilot.pause()
        assert "(training)" not in str(words.header.render())
        await ask(pilot, "near queen 5")
        assert words.out.answers[-1] == run_query(final, "near queen 5")
