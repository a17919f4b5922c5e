"""A PGD-10 sweep over several processes against one process, on this machine's CPUs.

The sweep job shares its images among ranks (``procs``, torch.distributed on gloo, launched by
torch's elastic launcher) and adds up each point in one collective. This script runs the same
sweep (smallcnn, PGD-10 at two budgets, ``--n`` CIFAR-10 test images from ../shared/data) as

- 1 process x 1 thread,
- 1 process x 2 threads (torch's intra-op parallelism),
- 2 processes x 1 thread each (``procs 2``; ranks split the cores),

and prints images per second of the attack phase (the points' own seconds: rank 0's point
ends when every rank's part has been added up) and of the whole job, start-up included, with
the ratios. Run it alone: ``flock /tmp/advtui-cpu.lock .venv/bin/python bench/distributed.py``.
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.words import cpu_summary  # noqa: E402
from engine.vision.events import SweepConfig  # noqa: E402
from engine.vision.sweep import run_sweep  # noqa: E402

SHARED_TAR = REPO.parent / "shared/data/images/cifar10-jpg.tar.gz"


def extract_test(tmp: str) -> str:
    with tarfile.open(SHARED_TAR) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("test/")]
        tar.extractall(tmp, members=members, filter="data")
    return tmp


def timed(config: SweepConfig, threads: int) -> tuple[float, float, list[float]]:
    """(attack-phase img/s, whole-job img/s, accuracies) of one run."""
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    result = run_sweep(config)
    wall = time.perf_counter() - t0
    images = config.n * len(result.points)
    attack = sum(p.seconds for p in result.points)
    return images / attack, images / wall, [p.accuracy for p in result.points]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="test images (1000)")
    p.add_argument("--batch", type=int, default=125, help="images per block (125)")
    p.add_argument("--repeats", type=int, default=2, help="runs of each setting; best kept")
    args = p.parse_args(argv)
    print(cpu_summary())
    print(f"torch {torch.__version__}; PGD-10 sweep, smallcnn, eps 2/255 and 8/255, n {args.n}")
    with tempfile.TemporaryDirectory(prefix="advtui-bench-") as tmp:
        base = SweepConfig(
            dataset="imagefolder", data_dir=extract_test(tmp), attacks=("pgd",),
            model=(str(REPO / "assets" / "smallcnn_cifar10.pt"),),
            eps="2/255,8/255", n=args.n, batch=args.batch, steps=10, steps_check=False,
            samples=0, device="cpu", out=str(Path(tmp) / "runs"),
        )  # fmt: skip
        settings = {
            "1 process x 1 thread": (replace(base, procs=1), 1),
            "1 process x 2 threads": (replace(base, procs=1), 2),
            "2 processes x 1 thread": (replace(base, procs=2), 1),
        }
        best: dict[str, tuple[float, float]] = {}
        accuracy: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            for name, (config, threads) in settings.items():
                attack, whole, accuracy[name] = timed(config, threads)
                old = best.get(name, (0.0, 0.0))
                best[name] = (max(old[0], attack), max(old[1], whole))
    one = best["1 process x 1 thread"]
    print(f"\n{'setting':<24} {'attack img/s':>13} {'ratio':>6} {'job img/s':>10} {'ratio':>6}")
    for name, (attack, whole) in best.items():
        print(f"{name:<24} {attack:>13.1f} {attack / one[0]:>5.2f}x {whole:>10.1f} "
              f"{whole / one[1]:>5.2f}x")  # fmt: skip
    same = len({tuple(a) for a in accuracy.values()}) == 1
    print(f"\naccuracies equal across settings: {same} ({accuracy['1 process x 1 thread']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
