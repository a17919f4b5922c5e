"""Gradient-masking flags: each rule on made-up points, then real sweeps: a model whose output
goes through a step function is flagged, the shipped models are not."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

from engine.vision.events import SweepConfig, SweepPoint
from engine.vision.masking import masking_flags
from engine.vision.sweep import run_sweep


def pt(attack, budget, acc, model="m", n=1000, axis="eps", **kw) -> SweepPoint:
    return SweepPoint(attack, axis, budget, n, acc, 0, 0, 0, 0, 0, 0, 1, 0, model, **kw)


def test_black_box_beating_the_white_box_ones_is_flagged_on_the_black_box_point():
    points = [pt("pgd", 0.03, 0.40), pt("apgd-ce", 0.03, 0.38), pt("square", 0.03, 0.30)]
    assert masking_flags(points) == {("m", "square", 0.03): ("black box",)}
    close = [pt("pgd", 0.03, 0.40), pt("square", 0.03, 0.39)]  # within noise: no flag
    assert masking_flags(close) == {}
    other_model = [pt("pgd", 0.03, 0.40, "a"), pt("square", 0.03, 0.10, "b")]
    assert masking_flags(other_model) == {}  # models are compared with themselves only
    fgsm_only = [pt("fgsm", 0.03, 0.40), pt("square", 0.03, 0.10)]
    assert masking_flags(fgsm_only) == {}  # a one-step attack is no fair white box


def test_accuracy_rising_with_the_budget_is_flagged_except_for_one_step_attacks():
    curve = [pt("pgd", 0, 0.9), pt("pgd", 0.01, 0.3), pt("pgd", 0.02, 0.35), pt("pgd", 0.05, 0.3)]
    assert masking_flags(curve) == {("m", "pgd", 0.02): ("rises",)}
    fgsm = [pt("fgsm", 0.05, 0.02), pt("fgsm", 0.1, 0.05)]  # FGSM overshoots, as it does
    assert masking_flags(fgsm) == {}


def test_more_steps_helping_a_lot_is_flagged():
    helped = pt("pgd", 0.03, 0.5, check_n=100, check_acc=0.5, check_more=0.3)
    barely = pt("pgd", 0.02, 0.6, check_n=100, check_acc=0.6, check_more=0.57)
    assert masking_flags([barely, helped]) == {("m", "pgd", 0.03): ("steps",)}


class StepOutput(nn.Module):
    """A classifier whose logits go through a staircase (floor): the same predictions as the
    model inside, and a zero gradient almost everywhere: textbook gradient masking."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.inner(x)
        return torch.floor(z * 8) / 8


def shipped(name: str) -> nn.Module:
    from engine.vision.zoo import resolve_model

    return resolve_model(SweepConfig(model=(name,)), name=name)


@pytest.fixture
def fewer_queries(monkeypatch):
    """Square at 2,000 queries (not 5,000) so the sweeps below take seconds."""
    from engine.vision.attacks import REGISTRY

    spec = REGISTRY["square"]
    monkeypatch.setitem(
        REGISTRY, "square", dataclasses.replace(spec, params={**spec.params, "n_queries": 2000})
    )


SWEEP = {"attacks": ("pgd", "apgd-ce", "square"), "eps": "0,2/255,8/255", "n": 100, "batch": 100}


def test_a_step_function_model_raises_the_flag(fewer_queries):
    masked = StepOutput(shipped("smallcnn"))
    result = run_sweep(SweepConfig(**SWEEP), model=masked)
    flags = result.flags()
    assert ("smallcnn", "square", 8 / 255) in flags, result.points
    assert "black box" in flags[("smallcnn", "square", 8 / 255)]
    pgd = {p.budget: p.accuracy for p in result.curve("pgd")}
    square = {p.budget: p.accuracy for p in result.curve("square")}
    assert square[8 / 255] < pgd[8 / 255] - 0.3  # the gradients hid most of the damage


@pytest.mark.parametrize("name", ["smallcnn", "smallcnn-robust"])
def test_the_shipped_models_raise_no_flag(fewer_queries, name):
    result = run_sweep(SweepConfig(**SWEEP, model=(name,)))
    assert result.flags() == {}, [p for p in result.points if p.budget]
    checked = [p for p in result.points if p.check_n]  # the steps check ran on pgd
    assert checked and all(p.attack == "pgd" and not math.isnan(p.check_more) for p in checked)
