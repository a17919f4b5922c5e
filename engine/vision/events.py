"""The vision jobs' configs, events and results, torch-free so the UI can import and match on
them before the engine loads.

Each config field is declared once (:func:`engine.fields.option`): the CLI options, the app's
forms and the validation all come from here. Rules that need the attack registry (known
names, targeted modes) import it lazily; only a running job or a submitted form asks them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from engine.errors import UsageError
from engine.fields import (
    FieldError,
    at_least,
    at_most,
    between,
    existing_path,
    mention,
    option,
    positive,
    rule,
)
from engine.jobs import (
    Result,
    device_option,
    out_option,
    procs_option,
    resume_option,
    seed_option,
)
from engine.vision.field_rules import (
    attacks_reason,
    budget_reason,
    model_label,
    models_reason,
    radius_reason,
    save_reason,
    target_reason,
    weights_reason,
)
from engine.vision.targeting import parse_target

DATASETS = ("sample", "cifar10", "imagefolder")
ADVERSARIAL = ("none", "fgsm-rs", "pgd")
TRAIN_DATASETS = ("cifar10", "imagefolder")  # ``sample`` is test images only
DEFAULT_EPS = "0,0.001,0.002,0.005,0.01,0.02,0.05,0.1"
DEFAULT_PIXELS = "0,1,2,5,10,20"
STAT_KEYS = ("linf", "l2", "l0", "psnr", "ssim")


# --------------------------------------------------------------------------- configs


def data_dir_option() -> Any:
    """``data_dir``, the same for every job that reads images."""
    return option(
        None,
        "an existing dataset copy: cifar-10-batches-py or an ImageFolder tree",
        label="data dir",
        placeholder="cifar10/imagefolder copy",
        check=existing_path(),
    )


@dataclass(frozen=True)
class SweepConfig:
    """A sweep: which images, which model, which attacks at which budgets."""

    dataset: str = option(
        "sample",
        "sample (built in, offline), cifar10 (downloaded, or a copy in data_dir), or "
        "imagefolder (data_dir with train/ and test/ class folders)",
        choices=DATASETS,
    )
    attacks: tuple[str, ...] = option(
        ("oneshot", "iterated"),
        "attacks, comma-separated (`advtui attacks` lists them)",
        flag="--attack",
        check=rule(attacks_reason, ("no-such-attack",)),
    )
    data_dir: str | None = data_dir_option()
    model: tuple[str, ...] = option(
        ("smallcnn",),
        "models, comma-separated, each swept with every attack: smallcnn, smallcnn-robust "
        "(shipped), resnet18, or files (TorchScript, torch.export, or a state_dict of a known "
        "architecture)",
        label="models",
        placeholder="smallcnn,smallcnn-robust",
        check=rule(models_reason, ()),
    )
    weights: str | None = option(
        None,
        "a state_dict file for the one architecture named in model (loaded with "
        "weights_only=True); with several models, name each file in model instead",
        placeholder="state_dict file (optional)",
        check=rule(weights_reason, "/nonexistent/advtui"),
    )
    eps: str = option(
        DEFAULT_EPS,
        "eps budgets for the eps attacks: 0,0.01 | start:stop:step | 8/255",
        placeholder="0,0.01 or 0:0.1:0.01",
        check=rule(budget_reason(False), "0,x"),
    )
    pixels: str = option(
        DEFAULT_PIXELS,
        "L0 budgets in pixels for the pixel attacks: 0,1,5",
        placeholder="0,1,5,10",
        check=rule(budget_reason(True), "0,1.5"),
    )
    n: int = option(
        1000,
        "images to attack, class-balanced (the app starts lighter: a CPU answers in seconds)",
        label="N",
        app=200,
        check=(at_least(1), at_most(10_000_000)),
    )
    batch: int = option(250, "images per batch", app=100, check=(at_least(1), at_most(1_000_000)))
    steps: int | None = option(
        None,
        "steps of the iterative attacks (empty: each attack's own default)",
        placeholder="attack default",
        check=(at_least(1), at_most(100_000)),
    )
    target: str | None = option(
        None,
        "targeted mode for the attacks that have one: a class index, least-likely or random "
        "(empty: untargeted; accuracy counts any mistake)",
        placeholder="untargeted",
        check=rule(target_reason, "sideways"),
    )
    seed: int = seed_option()
    device: str = device_option()
    procs: int = procs_option()
    samples: int = option(
        8, "images kept per point for the previews", label="previews", check=between(0, 64)
    )
    ssim_bar: float = option(
        0.95,
        "plausibility bar: the threshold is the largest budget whose mean SSIM stays above it",
        label="SSIM bar",
        check=between(0, 1),
    )
    steps_check: bool = option(
        True,
        "gradient-masking check: re-run each gradient attack of at most 20 steps with 5x the "
        "steps on 64 images per point, and flag the point when that helps a lot",
        label="steps check",
    )
    train_missing: bool = option(
        False,
        "train the model first when no trained weights exist",
        flag="--train",
        form=False,
    )
    out: str | None = out_option()
    resume: str | None = resume_option("only its missing points are run")

    # settings a resumed sweep may change: they change how fast, not what it finds (``batch``
    # is not one: the images are attacked in blocks of it, each block with its own seed)
    RESUME_FREE: ClassVar[tuple[str, ...]] = (
        "device", "procs", "out", "resume", "train_missing",
    )  # fmt: skip

    def check(self) -> None:
        """Rules across fields (after each field passed its own)."""
        if self.weights and len(self.model) > 1:
            raise FieldError(
                "weights",
                f"belongs to one model, but {mention('model')} names {len(self.model)}; "
                "give each state_dict file in the model list instead",
            )
        if parse_target(self.target) is None:
            return
        from engine.vision.attacks import REGISTRY

        if not any("target" in REGISTRY[a].params for a in self.attacks):
            targeted = ", ".join(n for n, s in REGISTRY.items() if "target" in s.params)
            raise FieldError("target", f"needs an attack with a targeted mode ({targeted})")


@dataclass(frozen=True)
class TrainConfig:
    """Training a victim classifier on a dataset's training split."""

    dataset: str = option(
        "cifar10", "the dataset whose training split to learn", choices=TRAIN_DATASETS
    )
    data_dir: str | None = data_dir_option()
    arch: str = option(
        "smallcnn", "architecture to train", flag="--model", label="model",
        choices=("smallcnn", "resnet18"),
    )  # fmt: skip
    epochs: int = option(14, "passes over the training split", check=between(1, 10_000))
    batch: int = option(256, "images per step", check=between(1, 100_000))
    lr: float = option(
        0.2, "peak learning rate (warm-up, then linear decay)", check=(positive(), at_most(100))
    )
    weight_decay: float = option(5e-4, "L2 weight decay", label="decay", check=between(0, 1))
    label_smoothing: float = option(
        0.0, "label smoothing of the cross-entropy", label="smoothing", check=between(0, 0.99)
    )
    adversarial: str = option(
        "none",
        "adversarial training: none, fgsm-rs (FGSM from a random start, Wong 2020) or pgd "
        "(PGD-AT, Madry 2018); robust accuracy is watched on held-out training images",
        choices=ADVERSARIAL,
    )
    eps: str = option(
        "8/255",
        "L-inf radius of the training attack, in [0, 1] pixel units (adversarial only)",
        check=rule(radius_reason, "2"),
    )
    attack_steps: int = option(
        7, "PGD steps per training batch (pgd only; Madry et al.: 7)", check=between(1, 1000)
    )
    attack_alpha: str | None = option(
        None,
        "step size of the training attack (empty: 1.25 eps for fgsm-rs, 2.5 eps / steps for pgd)",
        placeholder="paper default",
        check=rule(radius_reason, "2"),
    )
    seed: int = seed_option()
    device: str = device_option()
    procs: int = procs_option()
    save: str | None = option(
        None,
        "also copy the trained state_dict (and its card) to this file",
        form=False,
        check=rule(save_reason, "/nonexistent/advtui/model.pt"),
    )
    out: str | None = out_option()
    resume: str | None = resume_option("training continues after its last finished epoch")

    # settings a resumed training may change without changing the model it trains
    RESUME_FREE: ClassVar[tuple[str, ...]] = ("device", "procs", "out", "resume", "save")

    def cache_key(self) -> str:
        """Names the cached checkpoint: every setting that changes the weights' kind."""
        key = f"{self.dataset}-{self.arch}-s{self.seed}-e{self.epochs}"
        if self.adversarial == "none":
            return key
        from engine.vision.budgets import parse_budgets

        key += f"-{self.adversarial}{parse_budgets(self.eps)[0] * 255:.4g}"
        if self.adversarial == "pgd":
            key += f"x{self.attack_steps}"
        if self.attack_alpha:
            key += f"a{parse_budgets(self.attack_alpha)[0] * 255:.4g}"
        return key


# --------------------------------------------------------------------------- events


class ModelMissing(UsageError):
    """No trained weights exist for this architecture and dataset yet (the app offers to
    train them; the CLI says how)."""

    title = "Model not trained yet"

    def __init__(self, arch: str, dataset: str) -> None:
        self.arch, self.dataset = arch, dataset
        super().__init__(
            f"no trained {arch} for {dataset} yet; train it first, or set "
            f"{mention('train_missing')} to train it as part of this job"
        )


@dataclass(frozen=True)
class SweepStarted:
    """Sent once the data and models are ready: what the sweep will cover.

    ``clean_accuracy`` is the first model's; ``clean`` has every model's, by label."""

    attacks: tuple[str, ...]
    axes: dict[str, str]
    budgets: dict[str, tuple[float, ...]]
    classes: tuple[str, ...]
    n: int
    clean_accuracy: float
    device: str
    models: tuple[str, ...] = ("",)
    clean: dict[str, float] = field(default_factory=dict)

    def curves(self) -> list[tuple[str, str]]:
        """Every (model, attack) curve the sweep draws, in the order it runs them."""
        return [(m, a) for m in self.models for a in self.attacks]

    def label(self, model: str, attack: str) -> str:
        return curve_label(model, attack, self.models)


def curve_label(model: str, attack: str, models: tuple[str, ...]) -> str:
    """A curve's name: the attack, prefixed by the model when several models are swept."""
    return attack if len(models) <= 1 else f"{model} {attack}"


@dataclass(frozen=True)
class SweepPoint:
    """One finished (attack, budget): the numbers of a row in the results table."""

    attack: str
    axis: str
    budget: float
    n: int
    accuracy: float
    success_rate: float
    mean_iterations: float
    linf: float
    l2: float
    l0: float
    psnr: float
    ssim: float
    seconds: float
    model: str = ""
    # the "more steps" check of gradient masking (engine.vision.masking): on ``check_n``
    # images, accuracy with the attack's steps and with more steps (nan: not checked)
    check_n: int = 0
    check_acc: float = math.nan
    check_more: float = math.nan

    def row(self) -> dict[str, float | str | int]:
        """The point as a record row, the model first."""
        keys = ("model", *(k for k in self.__dataclass_fields__ if k != "model"))
        return {k: getattr(self, k) for k in keys}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SweepPoint:
        """A point read back from a run folder (JSON keeps an infinite PSNR as null)."""
        values = {}
        for name in cls.__dataclass_fields__:
            if name not in row:  # a column added since (the dataclass default), or torn
                continue
            value = row[name]
            if value is None:
                value = math.inf if name == "psnr" else math.nan
            values[name] = value
        return cls(**values)


@dataclass(frozen=True)
class Samples:
    """The first few evaluation images at one (attack, budget), for half-block previews.

    Tensors (``[k, C, H, W]`` floats in [0, 1] and ``[k]`` labels, on the CPU) ride along
    untyped here so this module stays torch-free."""

    attack: str
    budget: float
    original: Any
    adversarial: Any
    labels: Any
    preds: Any
    classes: tuple[str, ...]
    model: str = ""


# --------------------------------------------------------------------------- results


def plausibility_threshold(points: list[SweepPoint], bar: float) -> float | None:
    """The largest budget up to which mean SSIM stays >= ``bar`` at every budget; None if none."""
    best = None
    for p in sorted(points, key=lambda p: p.budget):
        if math.isnan(p.ssim) or p.ssim < bar:
            break
        best = p.budget
    return best


@dataclass(kw_only=True)
class SweepResult(Result):
    """The points finished (all of them unless cancelled), their samples and the clean accuracy."""

    config: SweepConfig
    points: list[SweepPoint] = field(default_factory=list)
    samples: list[Samples] = field(default_factory=list)
    clean_accuracy: float = float("nan")
    clean: dict[str, float] = field(default_factory=dict)  # by model label

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(model_label(m) for m in self.config.model)

    def curve(self, attack: str, model: str | None = None) -> list[SweepPoint]:
        """An attack's points (of one model, or of the first model when none is named)."""
        model = self.models[0] if model is None else model
        return [p for p in self.points if p.attack == attack and p.model in (model, "")]

    def curves(self) -> dict[str, list[SweepPoint]]:
        """Every (model, attack) curve by its label, in sweep order."""
        return {
            curve_label(m, a, self.models): self.curve(a, m)
            for m in self.models
            for a in self.config.attacks
        }

    def thresholds(self, bar: float | None = None) -> dict[str, float | None]:
        """Per curve: the plausibility threshold (see :func:`plausibility_threshold`)."""
        bar = self.config.ssim_bar if bar is None else bar
        return {label: plausibility_threshold(pts, bar) for label, pts in self.curves().items()}

    def flags(self) -> dict[tuple[str, str, float], tuple[str, ...]]:
        """Gradient-masking flags by (model, attack, budget) (:mod:`engine.vision.masking`)."""
        from engine.vision.masking import masking_flags

        return masking_flags(self.points)


@dataclass(kw_only=True)
class TrainResult(Result):
    """The trained model (an ``nn.Module``), its last test accuracy and where it was cached."""

    model: Any
    test_accuracy: float
    epochs_done: int
    checkpoint: str | None = None
    robust: dict[str, Any] | None = None  # adversarial training: held-out robustness summary
