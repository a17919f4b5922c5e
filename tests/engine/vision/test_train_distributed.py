"""Classifier training over two processes (DDP on gloo): one job, one run folder, the model
of the first process cached; adversarial training too; a cancel stops both."""

from __future__ import annotations

import json
from pathlib import Path

from engine.jobs import CancelToken, Metric, Progress
from engine.vision.events import TrainConfig
from engine.vision.models import load_model
from engine.vision.train import train_classifier
from tests.engine.dist_jobs import children


def test_two_processes_train_one_model_with_one_record(small_folder, tmp_path):
    events: list = []
    cfg = TrainConfig(
        dataset="imagefolder", data_dir=str(small_folder), epochs=2, batch=64, procs=2,
        out=str(tmp_path), adversarial="fgsm-rs",
    )  # fmt: skip
    result = train_classifier(cfg, events.append)
    assert result.epochs_done == 2 and not result.cancelled
    accs = [e.value for e in events if isinstance(e, Metric) and e.name == "test_acc"]
    assert len(accs) == 2 and all(0 <= a <= 1 for a in accs)  # from the first process alone
    assert [e.name for e in events if isinstance(e, Metric)].count("robust_acc") == 2
    progress = [e for e in events if isinstance(e, Progress)]
    n = progress[-1].total // 2
    assert progress[-1].done == progress[-1].total == 2 * n  # both processes' images
    (run,) = (tmp_path / "train").iterdir()
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
    assert json.loads((run / "summary.json").read_text())["status"] == "finished"
    model = load_model("smallcnn", result.checkpoint)
    state = result.model.state_dict()
    assert all((model.state_dict()[k] == state[k]).all() for k in state)
    assert not children()


def test_a_cancel_stops_both_processes_and_keeps_the_finished_epochs(small_folder, tmp_path):
    cancel = CancelToken()

    def emit(event):
        if isinstance(event, Metric) and event.name == "test_acc":
            cancel.cancel()  # after the first epoch

    cfg = TrainConfig(
        dataset="imagefolder", data_dir=str(small_folder), epochs=6, batch=32, procs=2,
        out=str(tmp_path),
    )  # fmt: skip
    result = train_classifier(cfg, emit, cancel)
    assert result.cancelled and 1 <= result.epochs_done < 6
    (run,) = Path(tmp_path, "train").iterdir()
    assert json.loads((run / "summary.json").read_text())["status"] == "cancelled"
    assert (run / "checkpoint.pt").is_file()
    assert not children()
