"""Adversarial training: the training attack, the held-out robustness watch, catastrophic
overfitting, and what the cache key and the model card record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from engine.errors import UsageError
from engine.jobs import Log, Metric
from engine.vision.adversarial import RobustWatch, attack_settings, sign_ascent, split_heldout
from engine.vision.events import TrainConfig
from engine.vision.train import train_classifier


@pytest.mark.parametrize("steps", [1, 5])
def test_the_training_attack_stays_in_the_box_and_leaves_parameter_gradients_alone(
    tiny_model, sample_batch, steps
):
    x, y = sample_batch
    model = tiny_model.train()
    eps = 8 / 255
    adv = sign_ascent(model, x, y, eps, 1.25 * eps, steps, torch.Generator().manual_seed(0))
    assert (adv - x).abs().max() <= eps + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    assert all(p.grad is None for p in model.parameters())
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy
        assert loss(model(adv), y) > loss(model(x), y)  # it ascends


def test_papers_step_sizes_and_the_cache_key():
    fgsm = TrainConfig(adversarial="fgsm-rs")
    assert attack_settings(fgsm) == pytest.approx((8 / 255, 10 / 255, 1))  # Wong: 1.25 eps
    pgd = TrainConfig(adversarial="pgd", eps="4/255", attack_steps=5)
    assert attack_settings(pgd) == pytest.approx((4 / 255, 2 / 255, 5))  # Madry: 2.5 eps / k
    keys = {
        TrainConfig().cache_key(),
        fgsm.cache_key(),
        pgd.cache_key(),
        TrainConfig(adversarial="pgd", attack_steps=3).cache_key(),
        TrainConfig(adversarial="fgsm-rs", attack_alpha="16/255").cache_key(),
    }
    assert len(keys) == 5 and "fgsm-rs8" in fgsm.cache_key()


def test_bad_radius_is_refused_by_the_engine():
    from engine.fields import validate

    with pytest.raises(UsageError, match="eps must be one size in"):
        validate(TrainConfig(eps="0"))
    with pytest.raises(UsageError, match="attack_alpha has 'x'"):
        validate(TrainConfig(attack_alpha="x"))


def test_heldout_images_are_set_aside_from_training(small_folder):
    from engine.vision.data import load_dataset

    train = load_dataset("imagefolder", "train", str(small_folder))
    rest, held = split_heldout(train, seed=0)
    assert len(rest) + len(held) == len(train) and len(held) == len(train) // 10
    pixels = {bytes(img.numpy()) for img in rest.images}
    assert not any(bytes(img.numpy()) in pixels for img in held.images)


class FakeWatch(RobustWatch):
    """A watch whose measurements are scripted: (clean, robust) per epoch."""

    script: list[tuple[float, float]] = []

    def measure(self, model):
        return self.script.pop(0)


def test_collapse_is_caught_training_stops_and_the_best_robust_epoch_is_kept(
    small_folder, monkeypatch
):
    """Catastrophic overfitting (Wong et al.): robust accuracy falls by more than 20 points
    within an epoch. Training stops there and keeps the best robust epoch's weights."""
    import engine.vision.train as train_module

    FakeWatch.script = [(0.30, 0.20), (0.40, 0.30), (0.60, 0.05), (0.6, 0.05)]
    monkeypatch.setattr(train_module, "RobustWatch", FakeWatch)
    saved = {}
    real_restore = RobustWatch.restore

    def restore(self, model):
        saved["state"] = {k: v.clone() for k, v in self.best_state.items()}
        return real_restore(self, model)

    monkeypatch.setattr(FakeWatch, "restore", restore)
    events = []
    cfg = TrainConfig(
        dataset="imagefolder", data_dir=str(small_folder), adversarial="fgsm-rs", epochs=4,
        batch=64,
    )  # fmt: skip
    result = train_classifier(cfg, events.append)
    assert result.epochs_done == 3  # stopped at the collapse, not at epoch 4
    robust = result.robust
    assert robust["kept_epoch"] == 2 and robust["catastrophic_overfitting"]["epoch"] == 3
    warn = [e for e in events if isinstance(e, Log) and e.level == "warning"]
    assert warn and "catastrophic overfitting at epoch 3" in warn[0].message
    kept = result.model.state_dict()
    assert all(torch.equal(kept[k], v) for k, v in saved["state"].items())
    card = json.loads(Path(result.checkpoint).with_suffix(".json").read_text())
    assert card["robust"]["catastrophic_overfitting"]["epoch"] == 3
    assert card["config"]["adversarial"] == "fgsm-rs" and "--adversarial fgsm-rs" in card["command"]


def test_adversarial_training_reports_clean_and_robust_accuracy_each_epoch(small_folder):
    events = []
    cfg = TrainConfig(
        dataset="imagefolder", data_dir=str(small_folder), adversarial="pgd", attack_steps=2,
        epochs=2, batch=64,
    )  # fmt: skip
    result = train_classifier(cfg, events.append)
    metrics = [e for e in events if isinstance(e, Metric)]
    for name in ("test_acc", "heldout_clean_acc", "robust_acc"):
        assert [m.step for m in metrics if m.name == name] == [1, 2], name
    rows = result.robust["epochs"]
    assert all(0 <= r["heldout_robust_acc"] <= r["heldout_clean_acc"] + 0.2 for r in rows)
    assert "pgd8x2" in Path(result.checkpoint).name


def test_a_sweep_of_an_architecture_ignores_adversarially_trained_checkpoints(small_folder):
    from engine.vision.zoo import cached_weights

    cfg = TrainConfig(
        dataset="imagefolder", data_dir=str(small_folder), adversarial="fgsm-rs", epochs=1,
    )  # fmt: skip
    train_classifier(cfg)
    assert cached_weights("imagefolder", "smallcnn") is None
