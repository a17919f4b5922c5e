"""The Runs tab and the new curves, driven from the keyboard: the default sgns run draws its
held-out accuracy and word map; runs made by the CLI and by the app are listed, one opens in
its pane, two overlay (series equal to their CSV files), one is deleted after confirmation."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

from engine.run_index import list_runs
from tests.tui.conftest import engine_ready, wait_until
from tests.tui.panes.test_embeddings import corpus, open_embeddings, pane, start, train  # noqa: F401
from tui.cli import main


def runs_pane(app):
    return app.query_one("RunsPane")


async def test_default_sgns_draws_its_accuracy_curve_and_word_map(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await open_embeddings(pilot)
        p = pane(app)
        await start(pilot, "sgns", {})  # every setting at its default, the built-in corpus
        await wait_until(pilot, lambda: not p.running, 300)
        await pilot.pause(0.3)
        run = p.runs[-1]
        assert run.result is not None and not run.result.cancelled
        assert len(run.epochs) == run.config.epochs == 5
        curve = p.metric_plot.series["sgns context_acc"]
        assert curve == [(e.epoch, e.metrics["context_acc"]) for e in run.epochs]
        assert curve == [(e.epoch, e.metrics["context_acc"]) for e in run.result.history]
        assert all(0 < acc < 1 for _, acc in curve)
        shown = p.word_map.word_map
        assert shown is not None and shown.epoch == 5 and len(shown.words) >= 10
        assert p.word_map.title().startswith("word map \u00b7 sgns \u00b7 epoch 5")


def epochs_csv(folder: Path, metric: str) -> list[tuple[float, float]]:
    """A words run's curve read from its epochs.csv (the metrics column is a dict)."""
    with (folder / "epochs.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    return [(float(r["epoch"]), float(ast.literal_eval(r["metrics"])[metric])) for r in rows]


def points_csv(folder: Path) -> dict[str, list[tuple[float, float]]]:
    with (folder / "points.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    out: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        out.setdefault(r["attack"], []).append((float(r["budget"]), float(r["accuracy"])))
    return out


async def go_to_run(pilot, folder: Path) -> None:
    """Move the list's cursor to the run in ``folder`` with the arrow keys."""
    runs = runs_pane(pilot.app)
    target = next(i for i, r in enumerate(runs.shown) if r.path == folder)
    await pilot.press(*["up"] * len(runs.shown), *["down"] * target)
    assert runs.current.path == folder


async def test_runs_from_the_cli_and_the_app_listed_opened_compared_deleted(app, corpus):  # noqa: F811
    assert main(["words", "train", "--corpus", corpus, "--model", "classic", "--epochs", "2"]) == 0
    assert main(["sweep", "--n", "20", "--batch", "20", "--eps", "0,0.05", "--attack", "fgsm"]) == 0
    async with app.run_test(size=(120, 40)) as pilot:
        await engine_ready(pilot)
        await pilot.press("f5")
        runs = runs_pane(app)
        await wait_until(pilot, lambda: runs.table.row_count == 2, 30)
        await pilot.press("f3")
        await train(pilot, "cbow", {"corpus": corpus, "epochs": "2"})
        await wait_until(pilot, lambda: len(runs.runs) == 3, 30)  # listed once the job ended
        await pilot.press("f5")
        await pilot.pause()
        folders = {f"{r.kind}:{','.join(r.config['model'])}" if r.kind == "sweep"
                   else f"{r.kind}:{r.config['model']}": r.path for r in list_runs()}  # fmt: skip
        assert sorted(r.kind for r in runs.shown) == ["sweep", "words", "words"]
        assert runs.table.row_count == 3
        # open the sweep: the Attack lab shows its points, as its points.csv has them
        await go_to_run(pilot, folders["sweep:smallcnn"])
        await pilot.press("enter")
        await pilot.pause(0.3)
        lab = app.query_one("AttackLab")
        assert app.query_one("#tabs").active == "attack-lab"
        assert lab.plots.series() == points_csv(folders["sweep:smallcnn"])
        assert lab.table.row_count == 2
        # back to the runs; mark both words runs and overlay them
        await pilot.press("f5")
        await pilot.pause()
        for key in ("words:classic", "words:cbow"):
            await go_to_run(pilot, folders[key])
            await pilot.press("space")
        await pilot.press("c")
        await pilot.pause()
        series = runs.plot.series
        assert series == {
            "classic-tiny": epochs_csv(folders["words:classic"], "context_acc"),
            "cbow-tiny": epochs_csv(folders["words:cbow"], "context_acc"),
        }
        # delete the classic run: asked first; n keeps it, y deletes it
        await go_to_run(pilot, folders["words:classic"])
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert folders["words:classic"].is_dir()
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await wait_until(pilot, lambda: runs.table.row_count == 2, 10)
        assert not folders["words:classic"].exists()
        assert {r.path for r in runs.shown} == {folders["sweep:smallcnn"], folders["words:cbow"]}
        assert runs.marked == [str(folders["words:cbow"])]


async def test_a_words_run_opens_in_the_embeddings_tab_and_answers_queries(app, corpus):  # noqa: F811
    assert main(["words", "train", "--corpus", corpus, "--model", "cbow", "--epochs", "2"]) == 0
    folder = list_runs()[0].path
    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        await pilot.press("f5")
        runs = runs_pane(app)
        await wait_until(pilot, lambda: runs.table.row_count == 1, 30)
        await pilot.press("enter")
        p = pane(app)
        await wait_until(pilot, lambda: p.word_map.word_map is not None, 30)
        assert app.query_one("#tabs").active == "embeddings"
        assert p.metric_plot.series["cbow-tiny context_acc"] == epochs_csv(folder, "context_acc")
        words = app.query_one("WordsPane")
        await wait_until(pilot, lambda: words.source is not None, 10)
        assert words.source.label == "cbow-tiny" and words.source.config.model == "cbow"


async def test_filter_rename_and_a_broken_folder_never_stop_the_app(app, tmp_path):
    from tests.runfolders import fixture_runs

    made = fixture_runs(tmp_path / "runs")
    (made["sweep"] / "points.csv").write_text("attack,budget\nfgsm,oops\n", encoding="utf-8")
    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        await pilot.press("f5")
        runs = runs_pane(app)
        await wait_until(pilot, lambda: runs.table.row_count == 5, 30)
        await pilot.press("slash", *"sweep", "enter")
        await wait_until(pilot, lambda: runs.table.row_count == 2, 10)
        assert {r.kind for r in runs.shown} == {"sweep"} and app.focused is runs.table
        await go_to_run(pilot, made["sweep"])  # its points cannot be read: said, not raised
        await pilot.pause(0.2)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert any("cannot be read" in line for line in app.query_one("AttackLab").log_pane.plain)
        await pilot.press("f5")
        await go_to_run(pilot, made["cancelled"])
        await pilot.press("n", "ctrl+u", *"fgsm baseline", "enter")
        renamed = made["cancelled"].with_name("20261102-100000-fgsm-baseline")
        await wait_until(pilot, lambda: renamed.is_dir(), 10)
        assert not made["cancelled"].exists()
        await wait_until(pilot, lambda: any(r.name == "fgsm-baseline" for r in runs.shown), 10)
