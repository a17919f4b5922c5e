"""Headless attack-side subcommands: ``sweep``, ``train-model`` and ``attacks``.

Parsing stays free of torch so ``advtui --help`` and the app start fast; each command imports
the engine when it runs.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from tui.console import ConsoleEvents, console

SWEEP_EXAMPLE = """examples:
  advtui sweep                                   # built-in sample, shipped smallcnn, seed attacks
  advtui sweep --dataset cifar10 --data-dir ~/data/cifar10 --n 1000 \\
      --attack oneshot,iterated --eps 0,0.001,0.002,0.005,0.01,0.02,0.05,0.1
  advtui sweep --attack fgsm,pgd --eps 0:8/255:1/255
  advtui sweep --attack pgd --eps 8/255 --target least-likely --steps 20
  advtui sweep --attack pgd-l0,onepixel --pixels 0,1,5,20 --n 200

Each attack's parameters and defaults (steps, step size alpha, ...) follow its paper or
torchattacks; `advtui attacks` lists them. eps budgets are in [0, 1] pixel units (L-inf, or
the L2 radius for pgd-l2); pixel budgets count changed locations (all channels of a pixel).
"""


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default=None, help="sample (built in), cifar10, imagefolder")
    p.add_argument("--data-dir", default=None, help="existing dataset copy (see README)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, mps")
    p.add_argument("--out", default=None, help="runs folder (default: the user data dir)")


def add_vision_parsers(sub: Any) -> None:
    sweep = sub.add_parser(
        "sweep",
        help="robust accuracy of a classifier over attack budgets",
        description="Attack N class-balanced test images at each budget; write CSV/JSON/PNGs.",
        epilog=SWEEP_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(sweep)
    sweep.add_argument(
        "--model",
        default="smallcnn",
        help="smallcnn, resnet18, or a torch.export .pt2 / TorchScript file",
    )
    sweep.add_argument("--weights", default=None, help="state_dict file for --model (weights_only)")
    sweep.add_argument(
        "--attack",
        default="oneshot,iterated",
        help="comma-separated names (`advtui attacks` lists them)",
    )
    sweep.add_argument("--eps", default=None, help="eps budgets: 0,0.01 | start:stop:step | 8/255")
    sweep.add_argument(
        "--pixels", default=None, help="L0 budgets in pixels for pixel attacks: 0,1,5"
    )
    sweep.add_argument("--n", type=int, default=1000, help="images to attack (class-balanced)")
    sweep.add_argument("--batch", type=int, default=250, help="images per batch")
    sweep.add_argument("--steps", type=int, default=None, help="override iterative attacks' steps")
    sweep.add_argument(
        "--target",
        default=None,
        metavar="CLASS|least-likely|random",
        help="targeted mode for the attacks that have one (fgsm, bim, pgd, pgd-l2, mifgsm, "
        "pgd-l0, onepixel): push each image to a class index, to its clean least likely class, "
        "or to a random other class (default: untargeted; accuracy counts any mistake)",
    )
    sweep.add_argument(
        "--ssim-bar", type=float, default=0.95, help="plausibility bar on mean SSIM (0.95)"
    )
    sweep.add_argument("--train", action="store_true", help="train the model if none is cached")
    sweep.set_defaults(func=cmd_sweep)

    train = sub.add_parser(
        "train-model",
        help="train a victim classifier and cache it",
        description="Train on the training split, evaluate on the test split each epoch.",
    )
    add_common(train)
    train.add_argument("--model", default="smallcnn", help="smallcnn or resnet18")
    train.add_argument("--epochs", type=int, default=14)
    train.add_argument("--batch", type=int, default=256)
    train.add_argument("--lr", type=float, default=0.2)
    train.add_argument("--save", default=None, help="also copy the state_dict to this file")
    train.set_defaults(func=cmd_train)

    attacks = sub.add_parser("attacks", help="list the attacks, their budget axis and defaults")
    attacks.set_defaults(func=cmd_attacks)


def _fmt(v: float, spec: str = ".3f") -> str:
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    return format(v, spec)


def measure_width(console: Console, renderable: Any) -> int:
    """The columns ``renderable`` needs to print without wrapping or cropping."""
    return Measurement.get(console, console.options.update(width=10_000), renderable).maximum


def results_table(result: Any) -> Table:
    """The sweep's points as a Rich table, with each attack's plausibility threshold."""
    table = Table(
        title=f"clean accuracy {result.clean_accuracy:.2%}",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0, 0, 1),
    )
    header = ("attack", "budget", "acc", "success", "iters", "L-inf", "L2", "L0", "PSNR", "SSIM")
    rows = [
        (
            p.attack,
            f"{p.budget:g}" + (" px" if p.axis == "pixels" else ""),
            f"{p.accuracy:.3f}",
            f"{p.success_rate:.3f}",
            f"{p.mean_iterations:.2f}",
            f"{p.linf:.4f}",
            f"{p.l2:.3f}",
            f"{p.l0:.1f}",
            _fmt(p.psnr, ".1f"),
            f"{p.ssim:.3f}",
            f"{p.seconds:.1f}",
        )
        for p in result.points
    ]
    for i, col in enumerate((*header, "s")):
        # never ellipsised: each column is as wide as its widest cell (about 75 columns in all)
        width = max([len(col)] + [len(row[i]) for row in rows])
        justify = "left" if col == "attack" else "right"
        table.add_column(col, justify=justify, no_wrap=True, min_width=width)
    for row in rows:
        table.add_row(*row)
    bar = result.config.ssim_bar
    notes = [f"{a}: {'none' if t is None else f'{t:g}'}" for a, t in result.thresholds().items()]
    table.caption = f"plausibility threshold (mean SSIM >= {bar}): " + ", ".join(notes)
    return table


def cmd_sweep(args: argparse.Namespace) -> int:
    from engine.jobs import CancelToken
    from engine.vision.sweep import DEFAULT_EPS, DEFAULT_PIXELS, SweepConfig, SweepPoint, run_sweep

    config = SweepConfig(
        dataset=args.dataset or "sample",
        data_dir=args.data_dir,
        model=args.model,
        weights=args.weights,
        attacks=tuple(a.strip() for a in args.attack.split(",") if a.strip()),
        eps=args.eps or DEFAULT_EPS,
        pixels=args.pixels or DEFAULT_PIXELS,
        n=args.n,
        batch=args.batch,
        steps=args.steps,
        target=args.target,
        seed=args.seed,
        device=args.device,
        ssim_bar=args.ssim_bar,
        train_missing=args.train,
        out=args.out,
    )

    def point_line(p: SweepPoint) -> None:
        events.progress.console.print(
            f"  {p.attack:>9} {p.budget:<8g} acc {p.accuracy:.3f}  success {p.success_rate:.3f}"
            f"  SSIM {p.ssim:.3f}"
        )

    cancel = CancelToken()
    with ConsoleEvents("sweep", {SweepPoint: point_line}) as events:
        try:
            result = run_sweep(config, events, cancel)
        except KeyboardInterrupt:
            cancel.cancel()
            raise
    table = results_table(result)
    # a pipe or a log file gets the whole table, never one cropped to 80 columns
    if console.is_terminal:
        console.print(table)
    else:
        Console(stderr=True, width=max(console.width, measure_width(console, table))).print(table)
    console.print(f"run folder: {result.run_dir}")
    print(result.run_dir)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    import shutil
    from pathlib import Path

    from engine.vision.train import TrainConfig, train_classifier

    config = TrainConfig(
        dataset=args.dataset or "cifar10",
        data_dir=args.data_dir,
        arch=args.model,
        epochs=args.epochs,
        batch=args.batch,
        lr=args.lr,
        seed=args.seed,
        device=args.device,
        out=args.out,
    )
    with ConsoleEvents(f"train {args.model}") as events:
        result = train_classifier(config, events)
    console.print(
        f"test accuracy {result.test_accuracy:.2%} after {result.epochs_done} epochs "
        f"in {result.seconds:.0f} s; checkpoint {result.checkpoint}"
    )
    if args.save and result.checkpoint:
        shutil.copyfile(result.checkpoint, args.save)
        shutil.copyfile(
            result.checkpoint.with_suffix(".json"), Path(args.save).with_suffix(".json")
        )
        console.print(f"saved {args.save}")
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
