"""The evaluation attacks (APGD-CE, APGD-T, FAB-T, Square, AutoAttack): their rules, their
shortcuts, and their agreement with torchattacks on the same images and seed."""

from __future__ import annotations

import pytest
import torch

from engine.vision.attacks import get_attack
from engine.vision.attacks.fab import project_linf

torchattacks = pytest.importorskip("torchattacks")

QUICK = {  # few steps and queries: the rules do not depend on them
    "apgd-ce": {"steps": 10},
    "apgd-t": {"steps": 5, "n_targets": 3},
    "fab-t": {"steps": 5, "n_targets": 3},
    "square": {"n_queries": 50},
    "autoattack": {"steps": 5, "n_targets": 2, "n_queries": 50},
}


@pytest.mark.parametrize("name", list(QUICK))
@pytest.mark.parametrize("eps", [2 / 255, 8 / 255])
def test_results_stay_in_the_eps_box_and_report_their_own_predictions(
    tiny_model, sample_batch, name, eps
):
    x, y = sample_batch
    torch.manual_seed(0)
    res = get_attack(name).run(tiny_model, x, y, eps, **QUICK[name])
    dist = (res.adv - x).abs().flatten(1).amax(1)
    assert (dist <= eps + 1e-6).all(), dist.max()
    assert res.adv.min() >= 0 and res.adv.max() <= 1
    with torch.no_grad():
        assert torch.equal(tiny_model(res.adv).argmax(1), res.pred)
        clean_ok = tiny_model(x).argmax(1) == y
    assert (res.iterations[~clean_ok] == 0).all()  # wrong already: left alone
    assert (res.iterations[clean_ok] > 0).all()
    assert (res.pred == y).float().mean() < clean_ok.float().mean()  # it fooled some


@pytest.mark.parametrize("name", ["apgd-ce", "apgd-t"])
def test_early_stop_saves_steps_and_changes_no_verdict(tiny_model, images_500, name):
    x, y = images_500
    params = QUICK[name]
    torch.manual_seed(0)
    fast = get_attack(name).run(tiny_model, x, y, 2 / 255, **params)
    torch.manual_seed(0)
    full = get_attack(name).run(tiny_model, x, y, 2 / 255, early_stop=False, **params)
    assert torch.equal(fast.pred == y, full.pred == y)
    assert fast.iterations.sum() < full.iterations.sum()


def test_autoattack_is_the_worst_case_of_its_components(tiny_model, images_500):
    """Its first component sees the same samples from the same random state, so no sample
    robust under AutoAttack is fooled by APGD-CE alone; later ones only remove samples."""
    x, y = images_500
    p = QUICK["autoattack"]
    torch.manual_seed(0)
    aa = get_attack("autoattack").run(tiny_model, x, y, 1 / 255, **p)
    torch.manual_seed(0)
    ce = get_attack("apgd-ce").run(tiny_model, x, y, 1 / 255, steps=p["steps"])
    robust = aa.pred == y
    assert (ce.pred[robust] == y[robust]).all()
    assert robust.sum() < (ce.pred == y).sum()  # the other three fooled more


def test_linf_projection_equals_the_reference_sort_based_one():
    from torchattacks.attacks.fab import projection_linf

    gen = torch.Generator().manual_seed(0)
    t = torch.rand(300, 3072, generator=gen)
    w = torch.randn(300, 3072, generator=gen) ** 3  # heavy tails, as input gradients have
    b = (w * t).sum(1) - torch.rand(300, generator=gen) * (w.abs() * 0.05).sum(1)
    b[:20] = 1e6  # out of reach: the far corner
    w[20:30, :100] = 0  # coordinates the plane does not see stay put
    ref, ours = projection_linf(t, w, b), project_linf(t, w, b)
    assert (ref - ours).abs().max() <= 1e-5
    assert (ours[20:30, :100] == 0).all()


# --------------------------------------------------------------------------- torchattacks


@pytest.fixture(scope="module")
def images_500():
    from engine.vision.data import load_sample

    data = load_sample().balanced(500)
    return data.floats(slice(0, 500)), data.labels


def theirs_accuracy(model, adv, y) -> float:
    with torch.no_grad():
        return (model(adv).argmax(1) == y).float().mean().item()


REFERENCE = {  # torchattacks' class for each of ours, at its defaults (10 steps)
    "apgd-ce": (lambda m, e: torchattacks.APGD(m, eps=e, seed=0), {"steps": 10}),
    "apgd-t": (lambda m, e: torchattacks.APGDT(m, eps=e, seed=0), {"steps": 10}),
    "fab-t": (
        lambda m, e: torchattacks.FAB(m, eps=e, seed=0, multi_targeted=True),
        {"steps": 10},
    ),
    "square": (
        lambda m, e: torchattacks.Square(m, eps=e, seed=0, n_queries=300),
        {"n_queries": 300},
    ),
}


@pytest.mark.parametrize("name", list(REFERENCE))
@pytest.mark.parametrize("eps", [1 / 255, 4 / 255])
def test_agrees_with_torchattacks_on_a_small_model(tiny_model, images_500, name, eps):
    x, y = images_500[0][:200], images_500[1][:200]
    make, params = REFERENCE[name]
    torch.manual_seed(0)
    ours = get_attack(name).run(tiny_model, x, y, eps, **params)
    theirs = make(tiny_model, eps)(x, y)
    ours_acc = (ours.pred == y).float().mean().item()
    assert ours_acc < theirs_accuracy(tiny_model, x, y) - 0.03  # not two no-ops
    assert abs(ours_acc - theirs_accuracy(tiny_model, theirs, y)) <= 0.005


def shipped(name: str):
    from engine.vision.events import SweepConfig
    from engine.vision.zoo import resolve_model

    return resolve_model(SweepConfig(model=(name,)), name=name).eval()


@pytest.mark.parametrize("model_name", ["smallcnn", "smallcnn-robust"])
def test_agrees_with_torchattacks_on_the_shipped_models_at_8_255(images_500, model_name):
    """APGD, APGDT, FAB (multi-targeted), Square and AutoAttack against ours, at torchattacks'
    step counts, on 100 sample images (Square's query budget cut to 1000 to keep CI short;
    docs/benchmarks.md has bench/attacks.py's figures on CIFAR-10 test images)."""
    model = shipped(model_name)
    x, y = images_500[0][:100], images_500[1][:100]
    eps = 8 / 255
    atk = torchattacks.AutoAttack(model, eps=eps, seed=0, n_classes=10)
    atk._autoattack.attacks[3].n_queries = 1000
    cases = {
        "autoattack": (atk, {"steps": 10, "n_queries": 1000}),
        "apgd-ce": (torchattacks.APGD(model, eps=eps, seed=0), {"steps": 10}),
        "apgd-t": (torchattacks.APGDT(model, eps=eps, seed=0), {"steps": 10}),
        "square": (
            torchattacks.Square(model, eps=eps, seed=0, n_queries=1000),
            {"n_queries": 1000},
        ),
    }
    for name, (reference, params) in cases.items():
        torch.manual_seed(0)
        ours = (get_attack(name).run(model, x, y, eps, **params).pred == y).float().mean().item()
        theirs = theirs_accuracy(model, reference(x, y), y)
        assert abs(ours - theirs) <= 0.005, (name, ours, theirs)
