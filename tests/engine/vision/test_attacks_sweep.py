"""The new attacks in sweeps: pixel budgets on their own axis, targeted mode from the config."""

from __future__ import annotations

import pytest

from engine.errors import UsageError
from engine.vision.events import SweepConfig, SweepStarted
from engine.vision.sweep import run_sweep


def test_sweep_runs_eps_and_pixel_attacks_on_their_own_axes(tiny_model):
    events = []
    cfg = SweepConfig(
        attacks=("fgsm", "pgd", "pgd-l0"), eps="0,8/255", pixels="0,3", n=40, batch=20, steps=3
    )
    result = run_sweep(cfg, events.append, model=tiny_model)
    started = next(e for e in events if isinstance(e, SweepStarted))
    assert started.axes == {"fgsm": "eps", "pgd": "eps", "pgd-l0": "pixels"}
    assert started.budgets["pgd-l0"] == (0.0, 3.0)
    by = {(p.attack, p.budget): p for p in result.points}
    for attack in ("fgsm", "pgd", "pgd-l0"):
        assert by[(attack, 0.0)].accuracy == pytest.approx(result.clean_accuracy)
        assert by[(attack, 0.0)].mean_iterations == 0
    assert by[("pgd-l0", 3.0)].l0 <= 3 and by[("pgd-l0", 3.0)].axis == "pixels"
    assert by[("pgd", 8 / 255)].linf <= 8 / 255 + 1e-6
    assert by[("fgsm", 8 / 255)].mean_iterations == pytest.approx(result.clean_accuracy)
    # --steps reaches pgd (3 steps for each attacked image), not fgsm's single step
    assert by[("pgd", 8 / 255)].mean_iterations == pytest.approx(3 * result.clean_accuracy)
    assert by[("pgd", 8 / 255)].accuracy < result.clean_accuracy


def test_sweep_target_reaches_the_attacks_that_take_one(tiny_model):
    base = dict(attacks=("bim", "iterated"), eps="16/255", n=40, batch=40)
    plain = run_sweep(SweepConfig(**base), model=tiny_model)
    aimed = run_sweep(SweepConfig(**base, target="least-likely"), model=tiny_model)
    acc = {(r.config.target, p.attack): p.accuracy for r in (plain, aimed) for p in r.points}
    assert acc[(None, "iterated")] == acc[("least-likely", "iterated")]  # no target param
    assert acc[(None, "bim")] != acc[("least-likely", "bim")]  # a different attack now


@pytest.mark.parametrize(
    "target, attacks, message",
    [
        ("bogus", ("pgd",), "target must be a class index, least-likely or random"),
        ("3", ("oneshot", "iterated"), "target needs an attack with a targeted mode"),
    ],
)
def test_bad_target_fails_before_any_work(tiny_model, target, attacks, message):
    with pytest.raises(UsageError, match=message):
        run_sweep(SweepConfig(attacks=attacks, target=target), model=tiny_model)
