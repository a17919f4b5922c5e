"""Classifier training on a small real ImageFolder: events, cache, cancel, augmentation."""

from __future__ import annotations

from pathlib import Path

import torch

from engine.jobs import CancelToken, Metric, Progress
from engine.vision.events import ModelMissing, TrainConfig
from engine.vision.model_cache import checkpoint_path
from engine.vision.models import load_model
from engine.vision.train import augment, train_classifier
from engine.vision.zoo import resolve_model


def test_training_emits_events_and_caches_a_loadable_checkpoint(small_folder):
    events = []
    cfg = TrainConfig(dataset="imagefolder", data_dir=str(small_folder), epochs=2, batch=64)
    result = train_classifier(cfg, events.append)
    assert result.epochs_done == 2 and not result.cancelled
    accs = [e.value for e in events if isinstance(e, Metric) and e.name == "test_acc"]
    assert len(accs) == 2 and all(0 <= a <= 1 for a in accs)
    assert any(isinstance(e, Progress) for e in events)
    assert result.checkpoint == str(checkpoint_path(cfg)) and Path(result.checkpoint).is_file()
    model = load_model("smallcnn", result.checkpoint)  # weights_only=True path
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, 10)


def test_same_seed_gives_same_weights(small_folder):
    cfg = TrainConfig(dataset="imagefolder", data_dir=str(small_folder), epochs=1, batch=100)
    a = train_classifier(cfg).model.state_dict()
    b = train_classifier(cfg).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_cancel_stops_without_a_checkpoint(small_folder):
    cancel = CancelToken()
    cancel.cancel()
    cfg = TrainConfig(dataset="imagefolder", data_dir=str(small_folder), epochs=3, batch=64)
    result = train_classifier(cfg, cancel=cancel)
    assert result.cancelled and result.epochs_done == 0 and result.checkpoint is None


def test_augment_translates_and_flips_without_changing_the_content_range():
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8)
    out = augment(x, gen)
    assert out.shape == x.shape and out.dtype == torch.uint8
    assert not torch.equal(out, x)


def test_missing_model_says_how_to_train_it(small_folder):
    from engine.vision.events import SweepConfig

    cfg = SweepConfig(dataset="imagefolder", data_dir=str(small_folder), model=("resnet18",))
    try:
        resolve_model(cfg)
    except ModelMissing as exc:
        assert "no trained resnet18 for imagefolder yet" in str(exc)
        assert "`train_missing`" in str(exc)  # a field the front ends name their own way
    else:
        raise AssertionError("expected ModelMissing")
