import json
import math
from dataclasses import dataclass

from engine.runs import RunRecord, list_runs, runs_root


@dataclass(frozen=True)
class Cfg:
    name: str = "x"
    eps: tuple[float, ...] = (0.0, 0.1)


def test_record_writes_config_rows_and_lists_newest_first(tmp_path):
    a = RunRecord("sweep", "first run", tmp_path)
    a.write_config(Cfg())
    csv_path, json_path = a.write_rows(
        "points", [{"b": 0.1, "acc": 0.5}, {"b": 0.2, "psnr": math.inf}]
    )
    assert csv_path.read_text().splitlines()[0] == "b,acc,psnr"
    assert json.loads(json_path.read_text())[1]["psnr"] is None  # inf is not JSON
    assert json.loads(a.file("config.json").read_text()) == {"name": "x", "eps": [0.0, 0.1]}
    b = RunRecord("sweep", "first run", tmp_path)
    b.write_config(Cfg())
    assert b.path != a.path and b.path.parent == a.path.parent
    assert list_runs(tmp_path, "sweep")[0] == b.path
    assert set(list_runs(tmp_path)) == {a.path, b.path}


def test_runs_root_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("ADVTUI_RUNS", str(tmp_path / "elsewhere"))
    assert runs_root() == tmp_path / "elsewhere"
    assert runs_root(tmp_path) == tmp_path


def test_rows_are_appended_and_a_torn_last_line_is_not_a_row(tmp_path):
    record = RunRecord("sweep", "x", tmp_path)
    record.append_row("points", {"budget": 0.0, "acc": 0.9})
    record.append_row("points", {"budget": 0.1, "acc": math.inf})
    with open(record.file("points.jsonl"), "a") as fh:
        fh.write('{"budget": 0.2, "ac')  # a kill in the middle of an append
    assert record.read_rows("points") == [{"budget": 0.0, "acc": 0.9}, {"budget": 0.1, "acc": None}]
    assert record.file("points.csv").read_text().splitlines() == ["budget,acc", "0.0,0.9", "0.1,"]


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    import pytest

    from engine.runs import RecordError, atomic_path

    target = tmp_path / "summary.json"
    target.write_text("old")
    with pytest.raises(RecordError, match="summary.json"), atomic_path(target) as tmp:
        tmp.write_text("half of the ne")
        raise OSError(28, "No space left on device")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_status_goes_running_then_ends_with_a_reason_and_a_reopen_keeps_it(tmp_path):
    record = RunRecord("sweep", "x", tmp_path)
    record.start(Cfg(), points_total=3)
    summary = json.loads(record.file("summary.json").read_text())
    assert summary["status"] == "running" and summary["kind"] == "sweep" and summary["pid"]
    record.end("failed", "cannot write points.csv: No space left on device")
    (record.path / ".points.csv.123.tmp").write_text("torn")
    again = RunRecord.reopen(record.path, "sweep")
    assert again.summary["status"] == "failed" and again.summary["points_total"] == 3
    assert not list(record.path.glob("*.tmp"))  # what a crash left mid-write is gone
    again.start(Cfg())
    summary = json.loads(record.file("summary.json").read_text())
    assert summary["status"] == "running" and "reason" not in summary and summary["starts"] == 2


def test_a_run_folder_is_read_back_only_as_its_own_kind(tmp_path):
    import pytest

    from engine.errors import UsageError
    from engine.runs import differences, run_folder, saved_config
    from engine.vision.events import SweepConfig

    record = RunRecord("sweep", "x", tmp_path)
    record.start(SweepConfig(n=30))
    assert run_folder(record.file("points.csv"), "sweep") == record.path
    with pytest.raises(UsageError, match="is a 'sweep' run, not a 'words' run"):
        run_folder(record.path, "words")
    with pytest.raises(UsageError, match="not a run folder"):
        run_folder(tmp_path, "sweep")
    saved = saved_config(SweepConfig, record.path, "sweep")
    assert saved == SweepConfig(n=30)
    changed = SweepConfig(n=40, batch=10)
    assert differences(saved, changed, SweepConfig.RESUME_FREE) == [
        "`n` 30 -> 40",
        "`batch` 250 -> 10",  # blocks of the batch are seeded each: other blocks, other draws
    ]
    assert differences(saved, SweepConfig(n=30, procs=2), SweepConfig.RESUME_FREE) == []
    record.file("config.json").write_text('{"n": "thirty"}')
    with pytest.raises(UsageError, match="config.json"):
        saved_config(SweepConfig, record.path, "sweep")
