"""Our attacks against torchattacks on the same tiny model, images and seed."""

from __future__ import annotations

import pytest
import torch

from engine.vision.attacks import get_attack

torchattacks = pytest.importorskip("torchattacks")

EPS = [2 / 255, 8 / 255]


@pytest.fixture(scope="module")
def images_500():
    """500 real CIFAR-10 images of the shipped sample (50 per class), floats in [0, 1]."""
    from engine.vision.data import load_sample

    data = load_sample().balanced(500)
    return data.floats(slice(0, 500)), data.labels


def robust_accuracy(model, adv, labels) -> float:
    with torch.no_grad():
        return (model(adv).argmax(1) == labels).float().mean().item()


def test_fgsm_images_equal_torchattacks(tiny_model, images_500):
    x, _ = images_500
    with torch.no_grad():
        y = tiny_model(x).argmax(1)  # every image correctly classified: every image attacked
    for eps in EPS:
        ours = get_attack("fgsm").run(tiny_model, x, y, eps)
        theirs = torchattacks.FGSM(tiny_model, eps=eps)(x, y)
        assert (ours.adv - theirs).abs().max().item() <= 1e-6
        assert ours.iterations.eq(1).all()


MAKERS = {
    "bim": lambda m, eps: torchattacks.BIM(m, eps=eps, alpha=2 / 255, steps=10),
    "pgd": lambda m, eps: torchattacks.PGD(m, eps=eps, alpha=2 / 255, steps=10),
    "pgd-l2": lambda m, eps: torchattacks.PGDL2(m, eps=eps, alpha=0.2, steps=10),
    "mifgsm": lambda m, eps: torchattacks.MIFGSM(m, eps=eps, alpha=2 / 255, steps=10),
}
CASES = [(name, eps) for name in MAKERS for eps in EPS] + [("pgd-l2", 0.5)]


@pytest.mark.parametrize("name, eps", CASES)
def test_robust_accuracy_matches_torchattacks(tiny_model, images_500, name, eps):
    """Same seed, same random start; 2/255 and 8/255, and an L2 radius of 0.5 for PGD-L2."""
    x, y = images_500
    torch.manual_seed(0)
    ours = get_attack(name).run(tiny_model, x, y, eps)
    torch.manual_seed(0)
    theirs = MAKERS[name](tiny_model, eps)(x, y)
    ours_acc = (ours.pred == y).float().mean().item()
    theirs_acc = robust_accuracy(tiny_model, theirs, y)
    clean_acc = robust_accuracy(tiny_model, x, y)
    if eps == 0.5 or (eps == 8 / 255 and name != "pgd-l2"):
        assert ours_acc < clean_acc - 0.1  # the comparison is not between two no-ops
    assert abs(ours_acc - theirs_acc) <= 0.005, (ours_acc, theirs_acc)


def test_illc_is_bim_towards_the_least_likely_class(tiny_model, images_500):
    x, _ = images_500
    with torch.no_grad():
        y = tiny_model(x).argmax(1)
    ours = get_attack("illc").run(tiny_model, x, y, 8 / 255)
    atk = torchattacks.BIM(tiny_model, eps=8 / 255, alpha=2 / 255, steps=10)
    atk.set_mode_targeted_least_likely(quiet=True)
    theirs = atk(x, y)
    # the same steps up to float rounding (summed vs averaged loss): an element whose gradient
    # is ~0 may take the other sign and then drift, so allow 1% of the images to differ
    same = (ours.adv - theirs).abs().flatten(1).amax(1) <= 1e-5
    assert same.float().mean() >= 0.99
    assert ours.pred.eq(tiny_model(theirs).argmax(1)).float().mean() >= 0.99
