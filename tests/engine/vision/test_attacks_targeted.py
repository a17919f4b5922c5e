"""Targeted mode: a class index, least-likely or random; success means reaching the target."""

from __future__ import annotations

import pytest
import torch

from engine.errors import UsageError
from engine.vision.attacks import get_attack
from engine.vision.attacks.onepixel import flatten_pixels, paint
from engine.vision.attacks.targets import resolve_target
from engine.vision.targeting import parse_target

TARGETED = ["fgsm", "bim", "pgd", "pgd-l2", "mifgsm", "pgd-l0"]  # onepixel: its own test below


def budget_for(name: str, target) -> float:
    """Budgets where the tiny model can be pushed to a given class (least-likely is far)."""
    far = target == "least-likely"
    if name == "pgd-l0":  # at 20 pixels the margin over the bar was 0.05 on some models; at 40
        return 40  # it is 0.30 (random target) and 0.52 (class 3), min of 14 runs on 7 models
    if name == "pgd-l2":
        return 3.0 if far else 1.0
    return (0.1 if far else 16 / 255) if name == "fgsm" else (32 / 255 if far else 8 / 255)


def params_for(name: str, target) -> dict:
    return {"steps": 20} if target == "least-likely" and name != "fgsm" else {}


CASES = (
    [(name, target) for name in TARGETED for target in ("random", 3)]
    # one sign step, or a few pixels, rarely reach the class the model likes least
    + [(name, "least-likely") for name in TARGETED if name not in ("fgsm", "pgd-l0")]
)


@pytest.mark.parametrize("name, target", CASES)
def test_targeted_reaches_the_target_more_often_than_chance(tiny_model, sample_batch, name, target):
    x, _ = sample_batch
    with torch.no_grad():
        logits = tiny_model(x)
    y = logits.argmax(1)
    keep = y != 3  # images already of class 3 have nothing to do when the target is 3
    x, y, logits = x[keep], y[keep], logits[keep]
    torch.manual_seed(0)
    tgt = resolve_target(target, logits, y)
    torch.manual_seed(0)
    spec = get_attack(name)
    targeted = spec.run(
        tiny_model, x, y, budget_for(name, target), target=target, **params_for(name, target)
    )
    torch.manual_seed(0)
    plain = spec.run(tiny_model, x, y, budget_for(name, target), **params_for(name, target))
    hit = (targeted.pred == tgt).float().mean().item()
    by_chance = (plain.pred == tgt).float().mean().item()  # untargeted, same images and budget
    if get_attack(name).axis == "eps":
        assert hit > max(0.5, by_chance + 0.3), (hit, by_chance)
    else:  # a few pixels move the tiny model less; chance of a given other class is 1/9
        assert hit > max(1 / 9, by_chance + 0.08), (hit, by_chance)


ONEPIXEL = {"budget": 40, "steps": 20, "popsize": 40}


def random_pixels(images: torch.Tensor, k: int) -> torch.Tensor:
    """The baseline: each image with k pixels at random places set to random colours."""
    n, c, h, w = images.shape
    size = torch.tensor([h, w], dtype=images.dtype)
    cand = torch.cat([torch.rand(n, k, 2) * size, torch.rand(n, k, c)], dim=2)
    return paint(flatten_pixels(images), cand, h, w).contiguous()


def onepixel_against_random_pixels(model, x, target, seed: int) -> dict[str, float]:
    """Targeted onepixel and the random-pixel baseline on the same images and pixel budget:
    both hit rates, and per image whether the attack gave the target a higher log-probability."""
    with torch.no_grad():
        logits = model(x)
    y = logits.argmax(1)
    keep = y != 3  # images already of class 3 have nothing to do when the target is 3
    x, y, logits = x[keep], y[keep], logits[keep]
    torch.manual_seed(seed)
    tgt = resolve_target(target, logits, y)
    params = {k: v for k, v in ONEPIXEL.items() if k != "budget"}
    torch.manual_seed(seed)  # the attack draws the same random targets again
    res = get_attack("onepixel").run(model, x, y, ONEPIXEL["budget"], target=target, **params)
    base = random_pixels(x, ONEPIXEL["budget"])
    with torch.no_grad():
        lp_attack = model(res.adv).log_softmax(1).gather(1, tgt[:, None])
        base_logits = model(base)
    lp_base = base_logits.log_softmax(1).gather(1, tgt[:, None])
    return {
        "hit": (res.pred == tgt).float().mean().item(),
        "base_hit": (base_logits.argmax(1) == tgt).float().mean().item(),
        "wins": (lp_attack > lp_base).float().mean().item(),
        "gain": (lp_attack - lp_base).mean().item(),
    }


@pytest.mark.parametrize("target", ["random", 3])
def test_targeted_onepixel_beats_random_pixels_of_the_same_budget(tiny_model, sample_batch, target):
    """Paired by image against the same number of random pixels; about 3 s here.

    Measured on this case (45 images, 40 pixels, 20 steps of 40 candidates) over the test's
    tiny model x 10 seeds and 6 retrained variants of it (1 or 2 threads, small weight noise,
    standing in for other CPUs' numerics) x 3 seeds, 31 runs, min/max (median of the 21
    variant runs): target random: wins 0.953/1.000 (1.000), gain 0.881/1.156 (1.023) nats,
    hit 0.133/0.311 (0.244) against the baseline's 0.022/0.089 (0.044), gap at least 0.087;
    target 3: wins 0.935/1.000 (0.978), gain 0.737/0.945 (0.850), hit 0.130/0.304 (0.200)
    against 0.000/0.044 (0.022), gap at least 0.111. The bars, wins 0.75 and gain 0.3 nats,
    sit 3 and 2 times the measured range below the lowest run; the hit rate (45 images, so
    0.022 an image) is only asked to beat the baseline's by 2 images.
    """
    x, _ = sample_batch
    r = onepixel_against_random_pixels(tiny_model, x, target, seed=0)
    assert r["wins"] > 0.75 and r["gain"] > 0.3, r
    assert r["hit"] > r["base_hit"] + 0.04, r


def test_targets_are_fixed_from_the_clean_image():
    logits = torch.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]])
    labels = torch.tensor([0, 1])
    assert resolve_target(None, logits, labels) is None
    assert resolve_target("least-likely", logits, labels).tolist() == [1, 2]
    assert resolve_target("2", logits, labels).tolist() == [2, 2]
    torch.manual_seed(0)
    rand = resolve_target("random", logits.repeat(500, 1), labels.repeat(500))
    assert (rand != labels.repeat(500)).all()  # never the true label
    assert set(rand.tolist()) == {0, 1, 2}
    with pytest.raises(UsageError, match="out of range"):
        resolve_target(7, logits, labels)


@pytest.mark.parametrize(
    "text, value",
    [
        ("3", 3),
        ("least-likely", "least-likely"),
        ("random", "random"),
        ("none", None),
        (None, None),
    ],
)
def test_parse_target(text, value):
    assert parse_target(text) == value


@pytest.mark.parametrize("bad", ["bogus", "-1", "1.5"])
def test_parse_target_rejects_bad_values(bad):
    with pytest.raises(UsageError, match="target"):
        parse_target(bad)


def test_images_already_of_the_target_class_are_left_alone(tiny_model, sample_batch):
    x, _ = sample_batch
    with torch.no_grad():
        y = tiny_model(x).argmax(1)
    target = int(y[0])
    res = get_attack("bim").run(tiny_model, x, y, 8 / 255, target=target)
    same = y == target
    assert torch.equal(res.adv[same], x[same])
    assert (res.iterations[same] == 0).all() and (res.iterations[~same] == 10).all()


def test_targeted_early_stop_stops_on_the_target_not_on_any_mistake(tiny_model, sample_batch):
    x, _ = sample_batch
    with torch.no_grad():
        logits = tiny_model(x)
    y = logits.argmax(1)
    res = get_attack("bim").run(tiny_model, x, y, 16 / 255, target="least-likely", early_stop=True)
    reached = res.pred == logits.argmin(1)
    assert reached.any()
    assert (res.iterations[~reached] == 10).all()  # misclassified but not at target: went on
    assert (res.iterations[reached] < 10).any()
