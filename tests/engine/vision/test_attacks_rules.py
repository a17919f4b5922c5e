"""Every attack keeps the rules of DESIGN.md: its budget, the [0, 1] box, iterations, batching."""

from __future__ import annotations

import pytest
import torch

from engine.vision.attacks import REGISTRY, get_attack
from engine.vision.attacks.balls import l0_project
from engine.vision.metrics import l0_pixels

LINF = ["fgsm", "bim", "pgd", "illc", "mifgsm"]
ITERATIVE = ["bim", "pgd", "pgd-l2", "illc", "mifgsm"]
FAST_DE = {"steps": 3, "popsize": 8}  # enough generations to move, small enough to be quick


def own_labels(model, x):
    """The model's own predictions, so that every image is attacked."""
    with torch.no_grad():
        return model(x).argmax(1)


@pytest.mark.parametrize("name", LINF)
@pytest.mark.parametrize("eps", [1 / 255, 8 / 255, 0.1])
def test_linf_results_stay_within_eps_and_in_range(tiny_model, sample_batch, name, eps):
    x, y = sample_batch
    torch.manual_seed(0)
    res = get_attack(name).run(tiny_model, x, y, eps)
    dist = (res.adv - x).abs().flatten(1).amax(1)
    assert (dist <= eps + 1e-6).all(), dist.max()
    assert res.adv.min() >= 0 and res.adv.max() <= 1
    attacked = res.iterations > 0
    assert attacked.any() and (dist[attacked] > eps / 2).all()  # it did use the budget


@pytest.mark.parametrize("eps", [0.1, 0.5, 2.0])
def test_pgd_l2_stays_in_the_l2_ball(tiny_model, sample_batch, eps):
    x, y = sample_batch
    torch.manual_seed(0)
    res = get_attack("pgd-l2").run(tiny_model, x, y, eps)
    dist = (res.adv - x).flatten(1).norm(dim=1)
    assert (dist <= eps * (1 + 1e-5)).all(), dist.max()
    assert res.adv.min() >= 0 and res.adv.max() <= 1


@pytest.mark.parametrize("name, params", [("pgd-l0", {}), ("onepixel", FAST_DE)])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_l0_results_change_at_most_k_pixels(tiny_model, sample_batch, name, params, k):
    x, y = sample_batch
    x, y = x[:24], own_labels(tiny_model, x[:24])
    torch.manual_seed(0)
    res = get_attack(name).run(tiny_model, x, y, k, **params)
    changed = l0_pixels(res.adv - x)
    assert (changed <= k).all(), changed  # every sample, not on average
    assert (changed > 0).all()  # each image was attacked and changed
    assert res.adv.min() >= 0 and res.adv.max() <= 1
    assert get_attack(name).axis == "pixels"


def test_l0_projection_keeps_the_k_most_useful_pixels():
    x0 = torch.full((1, 3, 4, 4), 0.5)
    x = x0.clone()
    x[0, :, 0, 0] = 0.9  # change 0.4 on 3 channels
    x[0, 0, 1, 1] = 5.0  # huge, but the box keeps only 0.5 of it on 1 channel
    x[0, :, 2, 2] = 0.6  # small on 3 channels
    x[0, 1, 3, 3] = 0.55  # tiny
    out = l0_project(x, x0, 2)
    assert l0_pixels(out - x0).item() == 2
    assert torch.equal(out[0, :, 0, 0], x[0, :, 0, 0])
    assert out[0, 0, 1, 1].item() == 1.0  # clamped to the box, kept
    assert torch.equal(out[0, :, 2, 2], x0[0, :, 2, 2])  # dropped: back to the clean pixel


@pytest.mark.parametrize("name", list(REGISTRY))
def test_budget_zero_is_the_clean_image(tiny_model, sample_batch, name):
    x, y = sample_batch
    res = get_attack(name).run(tiny_model, x, y, 0)
    assert torch.equal(res.adv, x)
    assert torch.equal(res.pred, own_labels(tiny_model, x))
    assert int(res.iterations.sum()) == 0


@pytest.mark.parametrize("name", [n for n in REGISTRY if n not in ("oneshot", "iterated")])
def test_misclassified_images_are_left_alone(tiny_model, sample_batch, name):
    x, _ = sample_batch
    wrong = (own_labels(tiny_model, x) + 1) % 10
    params = FAST_DE if name == "onepixel" else {}
    budget = 3 if get_attack(name).axis == "pixels" else 8 / 255
    res = get_attack(name).run(tiny_model, x, wrong, budget, **params)
    assert torch.equal(res.adv, x)
    assert int(res.iterations.sum()) == 0


@pytest.mark.parametrize("name", ITERATIVE)
def test_without_early_stop_every_attacked_sample_takes_all_steps(tiny_model, sample_batch, name):
    x, y = sample_batch
    torch.manual_seed(0)
    res = get_attack(name).run(tiny_model, x, y, 8 / 255, steps=4)
    correct = own_labels(tiny_model, x) == y
    assert (res.iterations[correct] == 4).all()
    assert (res.iterations[~correct] == 0).all()


@pytest.mark.parametrize("name", ITERATIVE)
def test_early_stop_keeps_each_sample_at_its_first_success(tiny_model, sample_batch, name):
    x, _ = sample_batch
    with torch.no_grad():
        logits = tiny_model(x)
    y = logits.argmax(1)
    eps = {"pgd-l2": 0.5, "illc": 16 / 255}.get(name, 4 / 255)
    torch.manual_seed(0)
    full = get_attack(name).run(tiny_model, x, y, eps, steps=10)
    torch.manual_seed(0)
    res = get_attack(name).run(tiny_model, x, y, eps, steps=10, early_stop=True)

    def success(r):  # illc succeeds on reaching the clean least-likely class
        return r.pred == logits.argmin(1) if name == "illc" else r.pred != y

    won = success(res)
    assert won.any() and (res.iterations[~won] == 10).all()
    assert (res.iterations[won] >= 1).all() and (res.iterations <= 10).all()
    assert res.iterations.sum() < full.iterations.sum()
    # stopping early never loses a success the full run had at its end (give or take one
    # sample whose step-by-step path differs by float rounding)
    assert won.sum() >= success(full).sum() - 1
    with torch.no_grad():
        assert torch.equal(tiny_model(res.adv).argmax(1), res.pred)


DETERMINISTIC = [
    ("fgsm", {}),
    ("bim", {}),
    ("illc", {}),
    ("mifgsm", {}),
    ("pgd", {"random_start": False}),
    ("pgd-l2", {"random_start": False}),
    ("pgd-l0", {"random_start": False}),
]


@pytest.mark.parametrize("name, params", DETERMINISTIC)
def test_batched_equals_one_image_at_a_time(tiny_model, sample_batch, name, params):
    """In float64 (as the seed attacks' test): float32 conv rounding differs between batch
    sizes, and a sign step turns a rounding-level gradient difference into 2 * alpha."""
    tiny_model = tiny_model.double()
    x, y = sample_batch
    x = x.double()
    budget = {"pgd-l2": 0.5, "pgd-l0": 5}.get(name, 4 / 255)
    run = get_attack(name).run
    batched = run(tiny_model, x, y, budget, **params)
    for i in range(len(y)):
        single = run(tiny_model, x[i : i + 1], y[i : i + 1], budget, **params)
        assert single.pred.item() == batched.pred[i].item()
        assert single.iterations.item() == batched.iterations[i].item()
        torch.testing.assert_close(single.adv[0], batched.adv[i], atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["pgd", "pgd-l2", "pgd-l0", "onepixel"])
def test_random_attacks_repeat_with_the_seed(tiny_model, sample_batch, name):
    x, y = sample_batch
    x, y = x[:16], y[:16]
    params = FAST_DE if name == "onepixel" else {}
    budget = {"pgd-l2": 0.5, "pgd-l0": 3, "onepixel": 3}.get(name, 4 / 255)
    runs = []
    for seed in (0, 0, 1):
        torch.manual_seed(seed)
        runs.append(get_attack(name).run(tiny_model, x, y, budget, **params).adv)
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])


def test_pixel_budget_must_be_whole(tiny_model, sample_batch):
    from engine.errors import UsageError

    x, y = sample_batch
    with pytest.raises(UsageError, match="whole number"):
        get_attack("pgd-l0").run(tiny_model, x, y, 2.5)
