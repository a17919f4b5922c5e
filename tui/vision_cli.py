"""Headless attack-side subcommands: ``sweep``, ``train-model`` and ``attacks``.

The options come from the jobs' config declarations (``tui/options.py``). Parsing stays free
of torch so ``advtui --help`` and the app start fast; each command imports the engine when it
runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from engine.vision.events import SweepConfig, SweepPoint, TrainConfig
from tui.console import console, print_table, run_in_console
from tui.options import add_command, config_from_args, resume_base
from tui.render import sweep_table

SWEEP_EXAMPLE = """examples:
  advtui sweep                                   # built-in sample, shipped smallcnn, seed attacks
  advtui sweep --dataset cifar10 --data-dir ~/data/cifar10 --n 1000 \\
      --attack oneshot,iterated --eps 0,0.001,0.002,0.005,0.01,0.02,0.05,0.1
  advtui sweep --attack fgsm,pgd --eps 0:8/255:1/255
  advtui sweep --attack pgd --eps 8/255 --target least-likely --steps 20
  advtui sweep --attack pgd-l0,onepixel --pixels 0,1,5,20 --n 200
  advtui sweep --model smallcnn,smallcnn-robust --attack pgd,autoattack --eps 0,2/255,8/255

Each attack's parameters and defaults (steps, step size alpha, ...) follow its paper or
torchattacks; `advtui attacks` lists them. eps budgets are in [0, 1] pixel units (L-inf, or
the L2 radius for pgd-l2); pixel budgets count changed locations (all channels of a pixel).
Ctrl-C stops after the current batch and keeps the finished points (exit 130).
"""

INTERRUPTED = 130  # the shell's code for a job stopped by Ctrl-C


def add_vision_parsers(sub: Any) -> None:
    add_command(
        sub, "sweep", cmd_sweep, "robust accuracy of a classifier over attack budgets",
        "Attack N class-balanced test images at each budget; write CSV/JSON/PNGs.",
        SweepConfig, SWEEP_EXAMPLE,
    )  # fmt: skip
    add_command(
        sub, "train-model", cmd_train, "train a victim classifier and cache it",
        "Train on the training split, evaluate on the test split each epoch.", TrainConfig,
    )  # fmt: skip
    add_command(sub, "attacks", cmd_attacks, "list the attacks, their budget axis and defaults")


def cmd_sweep(args: argparse.Namespace) -> int:
    base = resume_base(SweepConfig, args, "sweep")
    config = config_from_args(SweepConfig, args, base=base)
    from engine.vision.sweep import run_sweep

    several = len(config.model) > 1

    def point_line(p: SweepPoint) -> None:
        console.print(
            (f"  {p.model}" if several else "")
            + f"  {p.attack:>9} {p.budget:<8g} acc {p.accuracy:.3f}  success {p.success_rate:.3f}"
            f"  SSIM {p.ssim:.3f}"
        )

    result = run_in_console(run_sweep, config, "sweep", {SweepPoint: point_line})
    if result.run_dir is None:
        console.print("cancelled before the first point; no run folder")
        return INTERRUPTED
    print_table(sweep_table(result))
    console.print(f"run folder: {result.run_dir}", soft_wrap=True)
    if result.cancelled:
        console.print(f"finish it with: advtui sweep --resume {result.run_dir}", soft_wrap=True)
    print(result.run_dir)
    return INTERRUPTED if result.cancelled else 0


def cmd_train(args: argparse.Namespace) -> int:
    base = resume_base(TrainConfig, args, "train")
    config = config_from_args(TrainConfig, args, base=base)
    from engine.vision.train import train_classifier

    result = run_in_console(train_classifier, config, f"train {config.arch}")
    if result.cancelled:
        console.print(f"cancelled after {result.epochs_done} epoch(s); nothing cached")
        if result.run_dir:
            console.print(
                f"continue it with: advtui train-model --resume {result.run_dir}", soft_wrap=True
            )
            print(result.run_dir)
        return INTERRUPTED
    console.print(
        f"test accuracy {result.test_accuracy:.2%} after {result.epochs_done} epochs "
        f"in {result.seconds:.0f} s; checkpoint {result.checkpoint}"
    )
    if result.robust is not None:
        r = result.robust
        console.print(
            f"kept epoch {r['kept_epoch']}: held-out clean {r['heldout_clean_accuracy']:.2%}, "
            f"PGD-10 {r['heldout_robust_accuracy']:.2%} ({r['heldout_images']} images)"
        )
        if r["catastrophic_overfitting"]:
            console.print(
                f"catastrophic overfitting at epoch {r['catastrophic_overfitting']['epoch']}: "
                "training stopped early"
            )
    if config.save:
        console.print(f"saved {config.save}")
    console.print(f"run folder: {result.run_dir}", soft_wrap=True)
    print(result.run_dir)
    return 0


def _param(value: Any) -> str:
    """A default as people write it: 2/255 rather than 0.00784313725490196."""
    if isinstance(value, float) and not value.is_integer():
        ticks = value * 255
        if abs(ticks - round(ticks)) < 1e-9 and (value < 0.1 or ticks >= 1e4):
            return f"{round(ticks)}/255"
        return f"{value:g}"
    return str(value)


def cmd_attacks(_args: argparse.Namespace) -> int:
    from engine.vision.attacks import REGISTRY

    table = Table(header_style="bold")
    for col in ("attack", "axis", "defaults", "what it does"):
        table.add_column(col)
    for spec in REGISTRY.values():
        defaults = ", ".join(f"{k}={_param(v)}" for k, v in spec.params.items()) or "-"
        table.add_row(spec.name, spec.axis, defaults, spec.summary)
    Console().print(table)
    return 0
