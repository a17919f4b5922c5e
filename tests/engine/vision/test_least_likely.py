"""The seed's attacks: batched equals one-at-a-time, the rules of DESIGN.md, and the cost."""

from __future__ import annotations

import pytest
import torch

from engine.vision.attacks import get_attack


@pytest.mark.parametrize("name", ["oneshot", "iterated"])
@pytest.mark.parametrize("eps", [0.01, 0.05])
def test_batched_equals_one_image_at_a_time(tiny_model, sample_batch, name, eps):
    """In float64, so the only difference left would be samples leaking into each other
    (a mean instead of a sum, batch statistics); float32 differs by conv rounding alone."""
    tiny_model = tiny_model.double()
    x, y = sample_batch
    x = x.double()
    # label every image with the model's own prediction so all of them are attacked
    with torch.no_grad():
        y = tiny_model(x).argmax(1)
    run = get_attack(name).run
    batched = run(tiny_model, x, y, eps)
    for i in range(len(y)):
        single = run(tiny_model, x[i : i + 1], y[i : i + 1], eps)
        assert single.pred.item() == batched.pred[i].item()
        assert single.iterations.item() == batched.iterations[i].item()
        torch.testing.assert_close(single.adv[0], batched.adv[i], atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["oneshot", "iterated"])
def test_eps_zero_is_clean_accuracy_and_leaves_images(tiny_model, sample_batch, name):
    x, y = sample_batch
    res = get_attack(name).run(tiny_model, x, y, 0.0)
    with torch.no_grad():
        clean = tiny_model(x).argmax(1)
    assert torch.equal(res.pred, clean)
    assert torch.equal(res.adv, x)
    assert int(res.iterations.sum()) == 0


def test_misclassified_images_stay_unperturbed(tiny_model, sample_batch):
    x, y = sample_batch
    with torch.no_grad():
        pred = tiny_model(x).argmax(1)
    wrong_labels = (pred + 1) % 10  # every image is "already wrong"
    res = get_attack("iterated").run(tiny_model, x, wrong_labels, 0.1)
    assert torch.equal(res.adv, x)
    assert int(res.iterations.sum()) == 0


def test_iterated_stops_each_sample_when_fooled_and_stays_in_range(tiny_model, sample_batch):
    x, _ = sample_batch
    with torch.no_grad():
        y = tiny_model(x).argmax(1)
    res = get_attack("iterated").run(tiny_model, x, y, 0.05, steps=10)
    assert res.adv.min() >= 0 and res.adv.max() <= 1
    fooled = res.pred != y
    # a fooled sample stopped at its first misclassifying step; a survivor used all 10
    assert (res.iterations[~fooled] == 10).all()
    assert (res.iterations[fooled] >= 1).all() and (res.iterations[fooled] <= 10).all()
    # replaying a fooled sample with one step fewer must leave it correctly classified
    i = int(torch.nonzero(fooled & (res.iterations > 1))[0])
    steps = int(res.iterations[i])
    before = get_attack("iterated").run(
        tiny_model, x[i : i + 1], y[i : i + 1], 0.05, steps=steps - 1
    )
    assert before.pred.item() == y[i].item()


def test_oneshot_moves_towards_least_likely_class(tiny_model, sample_batch):
    x, _ = sample_batch
    with torch.no_grad():
        logits = tiny_model(x)
    y = logits.argmax(1)
    target = logits.argmin(1)
    res = get_attack("oneshot").run(tiny_model, x, y, 0.01)
    with torch.no_grad():
        after = torch.log_softmax(tiny_model(res.adv), 1).gather(1, target[:, None])
    before = torch.log_softmax(logits, 1).gather(1, target[:, None])
    assert (after > before).float().mean() > 0.9


def test_one_forward_and_backward_per_iteration(tiny_model, sample_batch):
    """Each step costs one forward over the still-active samples; one last forward checks."""
    x, _ = sample_batch
    with torch.no_grad():
        y = tiny_model(x).argmax(1)
    seen: list[int] = []
    hook = tiny_model.register_forward_hook(lambda m, i, o: seen.append(i[0].shape[0]))
    try:
        res = get_attack("iterated").run(tiny_model, x, y, 0.02, steps=5)
    finally:
        hook.remove()
    # forward k sees exactly the samples that took step k+1 (or the final check)
    expected = [len(y)] + [int((res.iterations >= k).sum()) for k in range(1, 6)]
    expected = [n for n in expected if n > 0]
    # a forward at step k runs only if some sample is still active after step k-1
    assert seen == expected[: len(seen)]
    assert len(seen) <= 6


def test_unknown_attack_is_a_usage_error():
    from engine.errors import UsageError

    with pytest.raises(UsageError, match="unknown attack 'nope'"):
        get_attack("nope")
