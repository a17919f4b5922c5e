"""The sweep job on real images: points, rules, cancel, run record, and the seed's result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import UsageError
from engine.jobs import CancelToken, Finished
from engine.vision.events import Samples, SweepConfig, SweepPoint, SweepStarted
from engine.vision.sweep import run_sweep


def test_sweep_emits_points_samples_and_writes_the_record(tiny_model):
    events = []
    cfg = SweepConfig(attacks=("oneshot", "iterated"), eps="0,0.01,0.05", n=60, batch=25, samples=4)
    result = run_sweep(cfg, events.append, model=tiny_model)
    points = [e for e in events if isinstance(e, SweepPoint)]
    assert [(p.attack, p.budget) for p in points] == [
        ("oneshot", 0.0),
        ("oneshot", 0.01),
        ("oneshot", 0.05),
        ("iterated", 0.0),
        ("iterated", 0.01),
        ("iterated", 0.05),
    ]
    started = next(e for e in events if isinstance(e, SweepStarted))
    assert started.n == 60 and started.budgets["iterated"] == (0.0, 0.01, 0.05)
    for p in points:
        if p.budget == 0:
            assert p.accuracy == pytest.approx(result.clean_accuracy)
            assert p.linf == 0 and p.ssim == 1.0
        assert 0 <= p.success_rate <= 1
    samples = [e for e in events if isinstance(e, Samples)]
    assert len(samples) == 6 and samples[0].original.shape == (4, 3, 32, 32)
    assert isinstance(events[-1], Finished) and not events[-1].cancelled
    run = Path(result.run_dir)
    for name in (
        "config.json",
        "points.csv",
        "points.json",
        "summary.json",
        "curve.png",
        "samples-oneshot.png",
        "samples-iterated.png",
    ):
        assert (run / name).is_file(), name
    rows = json.loads((run / "points.json").read_text())
    assert [r["accuracy"] for r in rows] == [p.accuracy for p in points]


def test_cancel_keeps_finished_points(tiny_model):
    cancel = CancelToken()
    seen = []

    def emit(event):
        seen.append(event)
        if (
            isinstance(event, SweepPoint)
            and len([e for e in seen if isinstance(e, SweepPoint)]) == 2
        ):
            cancel.cancel()

    cfg = SweepConfig(attacks=("iterated",), eps="0,0.01,0.02,0.05", n=40, batch=20)
    result = run_sweep(cfg, emit, cancel, model=tiny_model)
    assert result.cancelled and [p.budget for p in result.points] == [0.0, 0.01]
    rows = json.loads((Path(result.run_dir) / "points.json").read_text())
    assert len(rows) == 2
    assert json.loads((Path(result.run_dir) / "summary.json").read_text())["cancelled"] is True


def test_bad_config_fails_before_any_work(tiny_model):
    with pytest.raises(UsageError, match="attacks has unknown 'nope'"):
        run_sweep(SweepConfig(attacks=("oneshot", "nope")), model=tiny_model)
    with pytest.raises(UsageError, match="eps has 'x', which is not a number"):
        run_sweep(SweepConfig(eps="0,x"), model=tiny_model)


def test_plausibility_threshold_is_largest_budget_above_the_bar():
    from engine.vision.events import plausibility_threshold

    def pt(b, s):
        return SweepPoint("a", "eps", b, 1, 0, 0, 0, 0, 0, 0, 0, s, 0)

    pts = [pt(0, 1.0), pt(0.01, 0.95), pt(0.02, 0.85), pt(0.05, 0.6), pt(0.1, 0.9)]
    assert plausibility_threshold(pts, 0.8) == 0.02
    assert plausibility_threshold(pts, 0.99) == 0
    assert plausibility_threshold([pt(0.01, 0.5)], 0.8) is None


def test_seed_result_on_shipped_model_and_sample():
    """The seed's Part 1 on the 1000 shipped CIFAR-10 test images (100 per class) with the
    shipped smallcnn: iterated below oneshot at every eps > 0, <= 1% by eps 0.1."""
    cfg = SweepConfig(eps="0,0.001,0.002,0.005,0.01,0.02,0.05,0.1", n=1000, batch=250)
    result = run_sweep(cfg)
    assert result.clean_accuracy >= 0.78
    one = {p.budget: p.accuracy for p in result.curve("oneshot")}
    it = {p.budget: p.accuracy for p in result.curve("iterated")}
    assert one[0.0] == it[0.0] == pytest.approx(result.clean_accuracy)
    for eps in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1):
        assert it[eps] < one[eps], eps
    assert it[0.1] <= 0.01


def test_several_models_are_swept_side_by_side_with_a_model_column():
    """Names and files together: the shipped weights by name and by file give two curves
    with the same numbers, a model column, and previews per model."""
    from assets import asset_path

    file = str(asset_path("smallcnn_cifar10.pt"))
    cfg = SweepConfig(
        model=("smallcnn", file), attacks=("fgsm",), eps="0,8/255", n=20, batch=20, samples=2
    )
    events = []
    result = run_sweep(cfg, events.append)
    started = next(e for e in events if isinstance(e, SweepStarted))
    assert started.models == ("smallcnn", "smallcnn_cifar10")
    assert [(p.model, p.budget) for p in result.points] == [
        (m, b) for m in started.models for b in (0.0, 8 / 255)
    ]
    by_name, by_file = result.curve("fgsm", "smallcnn"), result.curve("fgsm", "smallcnn_cifar10")
    assert [p.accuracy for p in by_name] == [p.accuracy for p in by_file]
    assert list(result.curves()) == ["smallcnn fgsm", "smallcnn_cifar10 fgsm"]
    assert result.clean == {m: by_name[0].accuracy for m in started.models}
    assert {s.model for s in events if isinstance(s, Samples)} == set(started.models)
    run = Path(result.run_dir)
    header = (run / "points.csv").read_text().splitlines()[0].split(",")
    assert header[0] == "model" and "flags" in header
    assert (run / "samples-smallcnn-fgsm.png").is_file()
    assert (run / "samples-smallcnn_cifar10-fgsm.png").is_file()


def test_weights_belong_to_one_model():
    from assets import asset_path
    from engine.fields import validate

    file = str(asset_path("smallcnn_cifar10.pt"))
    validate(SweepConfig(model=("smallcnn",), weights=file))
    with pytest.raises(UsageError, match="weights belongs to one model"):
        validate(SweepConfig(model=("smallcnn", "resnet18"), weights=file))
