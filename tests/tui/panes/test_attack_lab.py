"""The Attack lab driven from the keyboard: a real sweep, cancel, errors, export, training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

import engine.vision.sweep as engine_sweep
from engine.errors import EngineError
from engine.fields import spec_of
from engine.vision.events import SweepConfig
from engine.vision.sweep import run_sweep
from tests.tui.conftest import (
    engine_ready,
    fill_form,
    focus_field,
    lab,
    run_sweep_keys,
    wait_until,
)
from tui.render import sweep_cells
from tui.widgets.preview import PreviewGrid


def rendered(renderable, width: int = 120) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


async def test_sweep_shows_the_engines_numbers_in_table_plot_and_previews(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await run_sweep_keys(pilot)
        pane = lab(app)
        result = pane.state.result
        assert result is not None and not result.cancelled, [
            str(n.message) for n in app._notifications
        ]
        assert [(p.attack, p.budget) for p in result.points] == [
            (a, b) for a in ("oneshot", "iterated") for b in (0.0, 0.02, 0.1)
        ]
        # the same sweep run headless gives the same numbers (same seed, same threads)
        config = SweepConfig(n=40, batch=20, eps="0,0.02,0.1", device="cpu", out=None)
        headless = run_sweep(config)
        assert [p.accuracy for p in headless.points] == [p.accuracy for p in result.points]
        # table: one row per point, formatted from the engine's SweepPoint
        assert pane.table.rows_text() == [sweep_cells(p) for p in result.points]
        # plot: one curve per attack, the (budget, accuracy) points in order, thresholds marked
        assert pane.plots.series() == {
            a: [(p.budget, p.accuracy) for p in result.curve(a)] for a in result.config.attacks
        }
        (plot,) = pane.plots.plots().values()
        assert plot.xlabel == "epsilon"
        assert plot.thresholds == result.thresholds()
        # previews: the newest budget shows; up/down walk its samples, left walks budgets back
        last = result.samples[-1]
        await focus_field(pilot, "preview")
        for i in range(3):
            true, pred, ok = pane.preview.labels()
            assert (true, pred) == (last.classes[last.labels[i]], last.classes[last.preds[i]])
            assert ok == bool(last.labels[i] == last.preds[i])
            text = rendered(PreviewGrid(pane.preview.current, pane.preview.sample))
            assert f"true {true}" in text and f"pred {pred}" in text
            await pilot.press("down")
        await pilot.press("left")
        current = pane.preview.current
        assert (current.attack, current.budget) == (result.samples[-2].attack, 0.02)
        # the log says where the run folder is; export says it again
        assert any(str(result.run_dir) in line for line in pane.log_pane.plain)
        await pilot.press("ctrl+s")
        assert (Path(result.run_dir) / "points.json").is_file()


async def test_two_models_side_by_side_at_80x24(app):
    """Several models in the form's model field: one curve per (model, attack), the model in
    the table's first column, previews titled by model."""
    models = "smallcnn,smallcnn-robust"
    async with app.run_test(size=(80, 24)) as pilot:
        await run_sweep_keys(pilot, {"model": models, "n": "20", "batch": "20", "eps": "0,8/255"})
        pane = lab(app)
        result = pane.state.result
        assert result is not None and not result.cancelled, [
            str(n.message) for n in app._notifications
        ]
        labels = [f"{m} {a}" for m in models.split(",") for a in ("oneshot", "iterated")]
        assert list(pane.plots.series()) == labels
        assert pane.plots.series() == {
            label: [(p.budget, p.accuracy) for p in curve]
            for label, curve in result.curves().items()
        }
        assert [row[0] for row in pane.table.rows_text()] == [p.model for p in result.points]
        assert pane.preview.title_text().startswith("smallcnn-robust iterated")
        assert result.clean["smallcnn"] != result.clean["smallcnn-robust"]


async def test_cancel_mid_run_keeps_the_finished_points(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        # the iterated attack at small eps runs all its steps: slow enough to stop midway
        await fill_form(pilot, {"n": "200", "batch": "20", "eps": "0,0.0005,0.001,0.002"})
        await pilot.press("ctrl+r")
        pane = lab(app)
        await wait_until(pilot, lambda: len(pane.state.points) >= 1)
        await pilot.press("escape")
        await wait_until(pilot, lambda: pane.state.result is not None and not pane.running)
        result = pane.state.result
        assert result.cancelled
        assert 1 <= len(result.points) < 8
        assert pane.table.rows_text() == [sweep_cells(p) for p in result.points]
        assert sum(len(v) for v in pane.plots.series().values()) == len(result.points)
        assert pane.status.state == "cancelled"
        rows = json.loads((Path(result.run_dir) / "points.json").read_text())
        assert len(rows) == len(result.points)


@pytest.mark.parametrize(
    "error, shown",
    [
        (EngineError("disk full while writing the run"), "Engine error: disk full"),
        (RuntimeError("CUDA out of memory"), "Unexpected error: RuntimeError: CUDA out of memory"),
    ],
)
async def test_an_engine_exception_is_shown_and_the_app_keeps_running(
    app, monkeypatch, error, shown
):
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(engine_sweep, "run_sweep", broken)
    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        await pilot.press("ctrl+r")
        pane = lab(app)
        await wait_until(pilot, lambda: pane.status.state == "failed" and not pane.running)
        assert any(shown in line for line in pane.log_pane.plain), pane.log_pane.plain
        assert any(str(error) in n.message for n in app._notifications)
        # still alive: the next sweep runs (the real engine again)
        monkeypatch.undo()
        await run_sweep_keys(pilot, {"n": "20", "batch": "20", "eps": "0,0.1"})
        assert len(pane.state.result.points) == 4


async def test_bad_form_input_is_shown_under_the_field_and_runs_nothing(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        await fill_form(pilot, {"eps": "0,abc"})
        await pilot.press("ctrl+r")
        pane = lab(app)
        await pilot.pause()
        message = "eps has 'abc', which is not a number"
        assert pane.form.error_text("eps") == message
        assert any(n.message == message for n in app._notifications)
        assert not pane.running and pane.state.result is None
        await fill_form(pilot, {"eps": "0,0.1", "n": ""})
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert pane.form.error_text("eps") == ""
        assert pane.form.error_text("n") == "N is empty; type a whole number"
        assert not pane.running


async def test_export_before_any_sweep_says_so(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        await pilot.press("ctrl+s")
        assert any("nothing to export yet" in n.message for n in app._notifications)


async def test_missing_model_offers_training_then_sweeps(app, monkeypatch, tmp_path):
    """No weights anywhere -> modal offer -> ctrl+r trains (a stand-in trainer) -> the sweep
    reruns."""
    import shutil

    import engine.vision.train as engine_train
    import engine.vision.zoo as zoo
    from assets import asset_path
    from engine.jobs import Finished, Metric, Progress
    from engine.vision.model_cache import checkpoint_path

    monkeypatch.setattr(zoo, "shipped_weights", lambda dataset, arch: None)

    def fake_train(config, emit, cancel, pause):
        for step in range(1, 4):
            emit(Progress("train", step, 3, 100.0, "img"))
            emit(Metric("loss", step, 2.0 / step))
            emit(Metric("test_acc", step, 0.3 * step))
        path = checkpoint_path(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(asset_path("smallcnn_cifar10.pt"), path)
        emit(Finished("train", False, 0.1, None))
        return engine_train.TrainResult(
            model=None, test_accuracy=0.9, epochs_done=3, seconds=0.1, checkpoint=str(path)
        )

    monkeypatch.setattr(engine_train, "train_classifier", fake_train)
    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        await fill_form(pilot, {"n": "20", "batch": "20", "eps": "0,0.1"})
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "TrainScreen")
        screen = app.screen
        assert "No trained smallcnn for cifar10" in str(
            screen.query_one("#train-question").render()
        )
        train = screen.pane
        assert train.form.text("arch") == "smallcnn" and train.form.text("dataset") == "cifar10"
        await pilot.press("ctrl+r")
        pane = lab(app)
        await wait_until(pilot, lambda: pane.state.result is not None and not pane.running)
        assert train.series["loss"] == [(1, 2.0), (2, 1.0), (3, 2.0 / 3)]
        assert [v for _, v in train.series["test_acc"]] == pytest.approx([0.3, 0.6, 0.9])
        assert len(pane.state.result.points) == 4


async def test_pixel_toggle_without_terminal_support_keeps_half_blocks(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await run_sweep_keys(pilot, {"n": "10", "batch": "10", "eps": "0"})
        pane = lab(app)
        await pilot.press("ctrl+t")
        assert pane.preview.pixels is False
        assert any("half-blocks stay" in n.message for n in app._notifications)


async def test_pixel_toggle_with_support_draws_images_and_back(monkeypatch):
    from tui.app import AdvTUI

    app = AdvTUI(device="cpu", graphics="kitty")
    async with app.run_test(size=(120, 40)) as pilot:
        await run_sweep_keys(pilot, {"n": "10", "batch": "10", "eps": "0,0.1"})
        pane = lab(app)
        await pilot.press("ctrl+t")
        await pilot.pause(0.2)
        assert pane.preview.pixels is True
        assert pane.preview.query(".pixel-image")
        await pilot.press("ctrl+t")
        assert pane.preview.pixels is False


async def test_first_run_defaults_are_the_declared_app_defaults(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        config = lab(app).form.config()
        assert config.dataset == "sample" and config.model == ("smallcnn",)
        assert config.attacks == SweepConfig().attacks
        assert config.eps == SweepConfig().eps
        assert config.n == spec_of(SweepConfig, "n").app_default < SweepConfig().n


async def test_procs_2_runs_one_job_over_two_processes_and_cancel_reaches_both(app):
    from tests.engine.dist_jobs import children

    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        small = {"n": "40", "batch": "10", "eps": "0,0.02,0.1", "procs": "2"}
        await run_sweep_keys(pilot, small)
        pane = lab(app)
        result = pane.state.result
        assert result is not None and not result.cancelled, [
            str(n.message) for n in app._notifications
        ]
        alone = run_sweep(SweepConfig(n=40, batch=10, eps="0,0.02,0.1", device="cpu"))
        assert [p.accuracy for p in result.points] == [p.accuracy for p in alone.points]
        assert pane.table.rows_text() == [sweep_cells(p) for p in result.points]
        assert not children()
        # cancel while both processes attack: every rank stops, the finished points stay
        await fill_form(pilot, {"n": "200", "batch": "20", "eps": "0,0.0005,0.001,0.002"})
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(pane.state.points) >= 1, timeout=180)
        await pilot.press("escape")
        await wait_until(pilot, lambda: pane.state.result is not None and not pane.running)
        assert pane.state.result.cancelled and 1 <= len(pane.state.result.points) < 8
        assert not children()
