"""Reading run folders back: listing with status and headline (today's files and crash-safe
ones), curves equal to the files, overlays, finding, renaming and deleting."""

from __future__ import annotations

import csv
import json

import pytest

from engine.errors import UsageError
from engine.run_index import (
    curves,
    delete_run,
    find_run,
    list_runs,
    overlay,
    rename_run,
    run_info,
)
from tests.runfolders import fixture_runs, incremental_sweep, sweep, words


@pytest.fixture
def root(tmp_path):
    return tmp_path / "runs"


def test_listing_newest_first_with_status_settings_and_headline(root):
    made = fixture_runs(root)
    (root / "words" / "20261106-000000-broken").mkdir(parents=True)  # no config: not a run
    runs = list_runs(root)
    assert [r.path for r in runs] == [
        made[k] for k in ("failed", "cbow", "sgns", "cancelled", "sweep")
    ]
    by = {r.path: r for r in runs}
    assert (by[made["failed"]].status, by[made["failed"]].reason) == ("failed", "out of memory")
    assert by[made["cancelled"]].status == "cancelled" and by[made["sweep"]].status == "finished"
    assert by[made["sgns"]].status == "finished"
    assert by[made["sweep"]].headline == "iterated 0.050 at 0.1"
    assert by[made["cbow"]].headline == "context_acc 0.130"
    assert by[made["sweep"]].settings == "sample smallcnn oneshot+iterated n=40"
    assert by[made["sgns"]].date == "2026-11-03 11:00"
    assert [r.kind for r in list_runs(root, "sweep")] == ["sweep", "sweep"]
    assert [r.path for r in list_runs(root, text="cbow finished")] == [made["cbow"]]


def test_a_words_run_with_fewer_epochs_than_asked_was_cancelled(root):
    folder = words(root, "20261101-000000", "sgns-x", [0.1], epochs=5)
    assert run_info(folder).status == "cancelled"
    assert (
        run_info(words(root, "20261101-000001", "sgns-y", [0.1], finished=False)).status
        == "unknown"
    )


def test_crash_safe_records_are_read_too(root):
    folder = incremental_sweep(root, "20261101-000000", "sample-fgsm")
    info = run_info(folder)
    assert info.status == "running" and info.headline == "fgsm 0.300 at 0.01"
    assert curves(folder) == {"fgsm": [(0.0, 0.6), (0.01, 0.3)]}  # the cut last line dropped


def test_curves_equal_the_csv_files(root):
    made = fixture_runs(root)
    with (made["sweep"] / "points.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    expected = {}
    for r in rows:
        expected.setdefault(r["attack"], []).append((float(r["budget"]), float(r["accuracy"])))
    assert curves(made["sweep"]) == expected
    history = json.loads((made["sgns"] / "epochs.json").read_text())
    assert curves(made["sgns"])["context_acc"] == [
        (e["epoch"], e["metrics"]["context_acc"]) for e in history
    ]


def test_overlay_one_curve_per_run_labelled_by_name(root):
    made = fixture_runs(root)
    again = words(root, "20261107-000000", "sgns-tinyshakespeare", [0.2, 0.21])
    data = overlay([run_info(made["sgns"]), run_info(made["cbow"]), run_info(again)])
    assert data.metric == "context_acc" and data.xlabel == "epoch"
    assert list(data.series) == [
        "sgns-tinyshakespeare 11-03 11:00:00", "cbow-tinyshakespeare",
        "sgns-tinyshakespeare 11-07 00:00:00",
    ]  # fmt: skip
    sweeps = overlay([run_info(made["sweep"]), run_info(made["cancelled"])])
    assert set(sweeps.series) == {
        "sample-smallcnn-oneshot+iterated oneshot", "sample-smallcnn-oneshot+iterated iterated",
        "sample-smallcnn-fgsm",
    }  # fmt: skip
    with pytest.raises(UsageError, match="one kind"):
        overlay([run_info(made["sweep"]), run_info(made["sgns"])])


def test_find_by_a_unique_piece_of_the_name(root):
    made = fixture_runs(root)
    assert find_run("cbow", root) == made["cbow"]
    assert find_run(str(made["sgns"]), root) == made["sgns"]
    with pytest.raises(UsageError, match="2 runs match"):
        find_run("smallcnn", root)
    with pytest.raises(UsageError, match="no run folder matches"):
        find_run("nothing", root)


def test_rename_keeps_the_timestamp_and_delete_removes_the_folder(root):
    made = fixture_runs(root)
    renamed = rename_run(made["cbow"], "my baseline", root)
    assert renamed.name == "20261104-120000-my-baseline" and renamed.is_dir()
    assert not made["cbow"].exists() and run_info(renamed).name == "my-baseline"
    delete_run(renamed, root)
    assert not renamed.exists() and len(list_runs(root)) == 4
    running = incremental_sweep(root, "20261101-000000", "live")
    with pytest.raises(UsageError, match="still running"):
        rename_run(running, "other", root)
    outside = sweep(root.parent / "elsewhere", "20261101-000000", "x", {"fgsm": [(0.0, 0.5)]})
    with pytest.raises(UsageError, match="not a run folder under"):
        delete_run(outside, root)
    assert outside.is_dir()


def test_a_folder_with_unreadable_files_is_listed_not_raised(root):
    made = fixture_runs(root)
    (made["sweep"] / "points.csv").write_text("attack,budget\nfgsm,oops\n", encoding="utf-8")
    info = run_info(made["sweep"])
    assert (info.status, info.reason, info.headline) == ("unknown", "unreadable files", "")
    assert len(list_runs(root)) == 5


def test_signature_changes_when_a_run_is_made_or_removed(root):
    from engine.run_index import signature

    made = fixture_runs(root)
    before = signature(root)
    assert before == signature(root)
    delete_run(made["cbow"], root)
    after = signature(root)
    assert after != before
    words(root, "20261201-000000", "new", [0.1])
    assert signature(root) != after
