"""The app under the same faults: resized to 40x12 and back mid-job, resuming a run folder
from the Attack lab and the Embeddings forms, SIGTERM while a job runs.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from engine.jobs import CancelToken
from tests.faults.conftest import only_run, rows, summary, tally
from tests.tui.conftest import engine_ready, fill_form, lab, wait_until
from tui.app import AdvTUI

SIZES = [(40, 12), (80, 24), (40, 12), (25, 8), (120, 40)]


async def resize_through(pilot, sizes=SIZES) -> None:
    for width, height in sizes:
        await pilot.resize_terminal(width, height)
        await pilot.pause(0.1)


def errors(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


async def test_resized_to_40x12_and_back_mid_sweep_the_app_and_the_sweep_go_on(isolated_dirs):
    app = AdvTUI(device="cpu", quit_timeout=60)
    async with app.run_test(size=(120, 40)) as pilot:
        await engine_ready(pilot)
        await fill_form(pilot, {"n": "60", "batch": "20", "eps": "0:0.01:0.001"})
        await pilot.press("ctrl+r")
        pane = lab(app)
        await wait_until(pilot, lambda: len(pane.state.points) >= 1)
        await resize_through(pilot)
        await pilot.press("f3")  # the Embeddings tab at 40x12 too
        await resize_through(pilot, [(40, 12), (120, 40)])
        await pilot.press("f2")
        await wait_until(pilot, lambda: pane.state.result is not None, 300)
        crash = not app.is_running or bool(errors(app)) or pane.status.state != "done"
        tally("app resized to 40x12 and back mid-sweep", len(SIZES) + 2, 0, int(crash))
        assert not crash, errors(app)
        assert len(pane.state.points) == 2 * 11
    run = only_run(isolated_dirs / "runs", "sweep")
    assert summary(run)["status"] == "finished" and len(rows(run, "points")) == 22


async def test_resized_to_40x12_and_back_mid_training_the_embeddings_go_on(isolated_dirs):
    app = AdvTUI(device="cpu", quit_timeout=60)
    async with app.run_test(size=(120, 40)) as pilot:
        await engine_ready(pilot)
        await pilot.press("f3")
        pane = app.query_one("EmbeddingsPane")
        pane.form.set_text("epochs", "3")
        pane.form.set_text("max_words", "60000")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: pane.current and pane.current.started, 120)
        await resize_through(pilot)
        await wait_until(pilot, lambda: not pane.running, 300)
        crash = not app.is_running or bool(errors(app)) or pane.status.state != "done"
        tally("app resized to 40x12 and back mid-training", len(SIZES), 0, int(crash))
        assert not crash, errors(app)


async def test_the_attack_lab_resumes_a_run_folder_and_fills_its_form(isolated_dirs):
    """A sweep cancelled after two points (as a crash would leave it), resumed from the
    form: the form shows the run's settings and only the missing points are computed."""
    from engine.vision.events import SweepConfig, SweepPoint
    from engine.vision.sweep import run_sweep

    cancel = CancelToken()
    done: list = []

    def emit(event) -> None:
        if isinstance(event, SweepPoint):
            done.append(event)
            if len(done) == 2:
                cancel.cancel()

    config = SweepConfig(n=30, batch=15, attacks=("fgsm",), eps="0,0.01,0.02,0.03", seed=3)
    first = run_sweep(config, emit, cancel)
    assert first.cancelled and len(first.points) == 2
    app = AdvTUI(device="cpu", quit_timeout=60)
    async with app.run_test(size=(120, 40)) as pilot:
        await engine_ready(pilot)
        pane = lab(app)
        await fill_form(pilot, {"resume": first.run_dir})
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: pane.state.result is not None, 300)
        form = pane.form
        assert form.text("n") == "30" and form.text("eps") == "0,0.01,0.02,0.03"
        assert form.text("attacks") == "fgsm" and form.text("seed") == "3"
        assert any("2 of 4 points already done" in line for line in pane.log_pane.plain)
        assert len(pane.state.points) == 4 and pane.status.state == "done"
    run = Path(first.run_dir)
    assert [r["budget"] for r in rows(run, "points")] == [0.0, 0.01, 0.02, 0.03]
    assert summary(run)["status"] == "finished" and summary(run)["starts"] == 2


async def test_the_embeddings_pane_resumes_a_run_folder(isolated_dirs):
    from engine.words.events import EpochEnd, defaults_for
    from engine.words.train import train_words

    cancel = CancelToken()

    def emit(event) -> None:
        if isinstance(event, EpochEnd):
            cancel.cancel()

    config = defaults_for("sgns")
    config = type(config)(**{**config.__dict__, "epochs": 3, "max_words": 40_000, "dim": 16})
    first = train_words(config, emit, cancel)
    assert first.cancelled and len(first.history) == 1
    app = AdvTUI(device="cpu", quit_timeout=60)
    async with app.run_test(size=(120, 40)) as pilot:
        await engine_ready(pilot)
        await pilot.press("f3")
        pane = app.query_one("EmbeddingsPane")
        pane.form.set_text("resume", first.run_dir)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: pane.current and pane.current.result is not None, 300)
        assert pane.form.text("dim") == "16" and pane.form.text("max_words") == "40000"
        assert [e.epoch for e in pane.current.epochs] == [2, 3]
        resumed = Path(pane.current.run_dir)
    epochs = json.loads((resumed / "epochs.json").read_text())
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert summary(resumed)["status"] == "finished"


async def test_sigterm_while_a_job_runs_quits_like_a_confirmed_quit(isolated_dirs):
    app = AdvTUI(device="cpu", quit_timeout=60)
    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        await fill_form(pilot, {"n": "200", "batch": "20", "eps": "0:0.01:0.0005"})
        await pilot.press("ctrl+r")
        pane = lab(app)
        await wait_until(pilot, lambda: len(pane.state.points) >= 1)
        os.kill(os.getpid(), signal.SIGTERM)
        await wait_until(pilot, lambda: not app.is_running, 60)
    run = only_run(isolated_dirs / "runs", "sweep")
    state = summary(run)
    crash = state["status"] != "cancelled" or state["reason"] != "terminated (SIGTERM)"
    tally("SIGTERM to the app mid-sweep", 1, len(pane.state.points) - len(rows(run, "points")),
          int(crash))  # fmt: skip
    assert not crash, state
