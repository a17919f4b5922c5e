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
