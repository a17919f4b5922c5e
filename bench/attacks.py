"""Attack speed, side by side: our batched attacks against one-image loops and torchattacks.

On the shipped smallcnn and the same N class-balanced CIFAR-10 test images (100 per class for
N = 1000), prints:

(a) ``iterated`` (batched, masked early stop) against a one-image-at-a-time loop of the seed's
    algorithm (per image: skip if already wrong; then forward, least likely target, backward,
    raw-gradient step, clamp, forward again to check), written here fresh: img/s and the ratio;
(b) the cost of one attack step relative to one plain forward + backward of the same batch, as
    the marginal time of 10 more steps on a batch where every sample stays active; the plain
    pass is measured twice: backward to the input (what an attack needs) and backward to the
    parameters (a training step's backward);
(c) PGD-10 at eps 8/255 ours against ``torchattacks.PGD`` on the same model, images and seed,
    batch 250: img/s and robust accuracy side by side, and the ratio.

Timings take a warm-up run, then ``--repeats`` rounds that alternate ours and the reference, so
drift on a shared machine hits both; each figure is the best (``--stat min``, the default: the
least disturbed run) or the median of its runs. Run it alone:
``flock /tmp/advtui-cpu.lock python bench/attacks.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.jobs import pick_device  # noqa: E402
from engine.vision.attacks import get_attack  # noqa: E402
from engine.vision.attacks.base import prepare  # noqa: E402
from engine.vision.data import load_dataset  # noqa: E402
from engine.vision.models import load_model  # noqa: E402

SHARED_TAR = REPO.parent / "shared/data/images/cifar10-jpg.tar.gz"


# --------------------------------------------------------------------------- set-up


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.add_argument("--n", type=int, default=1000, help="class-balanced test images (1000)")
    p.add_argument("--batch", type=int, default=250, help="batch size of our attacks (250)")
    p.add_argument(
        "--data-dir",
        default=None,
        help="CIFAR-10 ImageFolder copy (test/ inside); "
        "default: extract the shared JPEG copy's test split to a temp dir",
    )
    p.add_argument(
        "--weights",
        default=str(REPO / "assets/smallcnn_cifar10.pt"),
        help="smallcnn state_dict (default: the shipped one)",
    )
    p.add_argument("--eps", type=float, default=0.005, help="eps for (a), iterated (0.005)")
    p.add_argument(
        "--ref-n",
        type=int,
        default=None,
        help="images for the one-image reference of (a) (default: all --n)",
    )
    p.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (5)")
    p.add_argument("--stat", choices=tuple(STAT), default="min", help="min (default) or median")
    p.add_argument(
        "--pgd-eps",
        default="8/255,2/255",
        help="eps values for (c) (8/255, where both reach 0%%, and 2/255)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip", default="", help="parts to skip, e.g. a or a,b")
    return p.parse_args(argv)


def load_images(data_dir: str | None, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first n/10 test images of each class, as uint8 [N, 3, 32, 32] and labels."""
    if data_dir is not None:
        return _balanced(load_dataset("imagefolder", "test", data_dir), n)
    with tempfile.TemporaryDirectory(prefix="advtui-bench-") as tmp:
        with tarfile.open(SHARED_TAR) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("test/")]
            tar.extractall(tmp, members=members, filter="data")
        return _balanced(load_dataset("imagefolder", "test", tmp), n)


def _balanced(data, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    data = data.balanced(n)
    return data.images, data.labels


def timeit(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


STAT = {"min": min, "median": statistics.median}


def alternate(runs: dict[str, Callable[[], object]], args, device) -> dict[str, float]:
    """Seconds of each run (min or median): one warm-up each, then alternating rounds."""
    for fn in runs.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.repeats):
        for k, fn in runs.items():
            times[k].append(timeit(fn, device))
    return {k: STAT[args.stat](v) for k, v in times.items()}


# --------------------------------------------------------------------------- (a) seed loop


def seed_loop_one_image(
    model: nn.Module, image: torch.Tensor, label: int, eps: float, steps: int
) -> tuple[torch.Tensor, int]:
    """The seed's iterated attack on one image ``[1, C, H, W]``, as its notebook ran it.

    Skip an image the model already gets wrong; otherwise up to ``steps`` times: forward,
    target = least likely class, backward of its NLL to the input, ``x - eps * grad`` clamped
    to [0, 1], then a second forward to check the new label; stop once it differs.
    """
    with torch.no_grad():
        pred = int(model(image).argmax(1))
    if pred != label:
        return image, pred
    x = image
    for _ in range(steps):
        leaf = x.detach().requires_grad_(True)
        logp = F.log_softmax(model(leaf), dim=1)
        loss = F.nll_loss(logp, logp.argmin(1))
        (grad,) = torch.autograd.grad(loss, leaf)
        x = (leaf.detach() - eps * grad).clamp(0.0, 1.0)
        with torch.no_grad():
            pred = int(model(x).argmax(1))
        if pred != label:
            break
    return x, pred


def part_a(model, x, y, args, device) -> None:
    run = get_attack("iterated").run
    b = args.batch
    ref_n = args.ref_n or len(y)
    out: dict[str, torch.Tensor] = {}

    def ours() -> None:
        res = [
            run(model, x[i : i + b], y[i : i + b], args.eps, steps=10) for i in range(0, len(y), b)
        ]
        out["pred"] = torch.cat([r.pred for r in res])
        out["iters"] = torch.cat([r.iterations for r in res]).float()

    def reference() -> None:
        out["ref"] = torch.tensor(
            [
                seed_loop_one_image(model, x[i : i + 1], int(y[i]), args.eps, 10)[1]
                for i in range(ref_n)
            ]
        )

    t = alternate({"ours": ours, "ref": reference}, args, device)
    ours_ips, ref_ips = len(y) / t["ours"], ref_n / t["ref"]
    agree = (out["pred"][:ref_n].cpu() == out["ref"]).float().mean().item()
    acc_ours = (out["pred"] == y).float().mean().item()
    acc_ref = (out["ref"] == y[:ref_n].cpu()).float().mean().item()
    print(f"\n(a) iterated at eps {args.eps:g}, 10 steps max, early stop per sample")
    print(f"    ours, batched ({b}/batch), {len(y)} images: {ours_ips:8.1f} img/s ", end="")
    steps = out["iters"].mean()
    print(f"({t['ours']:.2f} s, robust acc {acc_ours:.3f}, mean steps {steps:.2f})")
    print(f"    seed loop, one image at a time, {ref_n}: {ref_ips:8.1f} img/s ", end="")
    print(f"({t['ref']:.2f} s, robust acc {acc_ref:.3f})")
    print(f"    ratio ours / one-image loop     : {ours_ips / ref_ips:8.2f}x   (want >= 3x)")
    print(f"    same final prediction on {agree:.1%} of the {ref_n} images")


# --------------------------------------------------------------------------- (b) step cost


def part_b(model, x, y, args, device) -> None:
    with torch.no_grad():
        ok = model(x).argmax(1) == y
    xb, yb = x[ok][: args.batch], y[ok][: args.batch]  # all correct: every sample attacked
    run_iter, run_pgd = get_attack("iterated").run, get_attack("pgd").run
    tiny = 1e-7  # moves nothing far enough to fool: every sample takes every step

    def fwd_bwd_input() -> None:
        leaf = xb.detach().requires_grad_(True)
        loss = F.cross_entropy(model(leaf), yb, reduction="sum")
        torch.autograd.grad(loss, leaf)

    def fwd_bwd_params() -> None:
        for p in model.parameters():
            p.requires_grad_(True)
        loss = F.cross_entropy(model(xb), yb, reduction="sum")
        loss.backward()
        for p in model.parameters():
            p.grad = None
        prepare(model)

    def steps(fn, k: int) -> Callable[[], object]:
        def go() -> None:
            res = fn(model, xb, yb, tiny, steps=k)
            assert int(res.iterations.min()) == k, "a sample stopped early"

        return go

    t = alternate(
        {
            "in": fwd_bwd_input,
            "par": fwd_bwd_params,
            "it1": steps(run_iter, 1),
            "it11": steps(run_iter, 11),
            "pgd1": steps(run_pgd, 1),
            "pgd11": steps(run_pgd, 11),
        },
        args,
        device,
    )
    it_step = (t["it11"] - t["it1"]) / 10
    pgd_step = (t["pgd11"] - t["pgd1"]) / 10
    print(f"\n(b) one attack step vs one forward+backward, batch of {len(yb)} (all attacked)")
    print(f"    forward + backward to the input      : {t['in'] * 1e3:8.1f} ms")
    print(f"    forward + backward to the parameters : {t['par'] * 1e3:8.1f} ms")
    for name, step in (("iterated", it_step), ("pgd", pgd_step)):
        print(
            f"    one {name:<8} step ((11 - 1 steps) / 10): {step * 1e3:8.1f} ms  = "
            f"{step / t['in']:.3f}x input-backward, {step / t['par']:.3f}x param-backward"
            "   (want <= 1.05x)"
        )


# --------------------------------------------------------------------------- (c) PGD


def part_c(model, x, y, args, device) -> None:
    for eps_text in args.pgd_eps.split(","):
        pgd_vs_torchattacks(model, x, y, eps_text, args, device)


def pgd_vs_torchattacks(model, x, y, eps_text: str, args, device) -> None:
    import torchattacks

    b, n, eps = args.batch, len(y), float(Fraction(eps_text))
    run = get_attack("pgd").run
    atk = torchattacks.PGD(model, eps=eps, alpha=2 / 255, steps=10, random_start=True)
    out: dict[str, torch.Tensor] = {}

    def ours() -> None:
        torch.manual_seed(args.seed)
        preds = [run(model, x[i : i + b], y[i : i + b], eps).pred for i in range(0, n, b)]
        out["ours"] = torch.cat(preds)

    def theirs() -> None:
        torch.manual_seed(args.seed)
        out["adv"] = torch.cat([atk(x[i : i + b], y[i : i + b]) for i in range(0, n, b)])

    def theirs_eval() -> None:
        theirs()
        with torch.no_grad():
            preds = [model(out["adv"][i : i + b]).argmax(1) for i in range(0, n, b)]
        out["theirs"] = torch.cat(preds)

    t = alternate({"ours": ours, "theirs": theirs, "eval": theirs_eval}, args, device)
    acc_ours = (out["ours"] == y).float().mean().item()
    acc_theirs = (out["theirs"] == y).float().mean().item()
    print(f"\n(c) PGD-10, eps {eps_text}, alpha 2/255, random start, batch {b}, {n} images")
    print(f"    ours                           : {n / t['ours']:8.1f} img/s  ", end="")
    print(f"robust acc {acc_ours:.3f}")
    print(f"    torchattacks.PGD, attack only  : {n / t['theirs']:8.1f} img/s")
    print(f"    torchattacks.PGD + predictions : {n / t['eval']:8.1f} img/s  ", end="")
    print(f"robust acc {acc_theirs:.3f}")
    print(
        f"    ratio ours / torchattacks      : {t['theirs'] / t['ours']:.3f}x attack only, ", end=""
    )
    print(f"{t['eval'] / t['ours']:.3f}x with predictions   (want >= 1.05x)")
    diff = abs(acc_ours - acc_theirs) * 100
    print(f"    robust accuracy difference     : {diff:.2f} points   (want <= 0.5)")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(cores or 1)
    device = pick_device(args.device)
    images, labels = load_images(args.data_dir, args.n)
    model = prepare(load_model("smallcnn", args.weights).to(device))
    x = images.to(device).float().div_(255)
    if device.type == "cpu":  # as the sweep does
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    y = labels.to(device)
    with torch.no_grad():
        clean = (model(x).argmax(1) == y).float().mean().item()
    print(
        f"advtui attack bench: smallcnn ({Path(args.weights).name}), {len(y)} CIFAR-10 test "
        f"images (balanced), clean acc {clean:.3f}"
    )
    print(
        f"device {device}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"{args.stat} of {args.repeats} runs after a warm-up"
    )
    skip = set(args.skip.split(","))
    if "a" not in skip:
        part_a(model, x, y, args, device)
    if "b" not in skip:
        part_b(model, x, y, args, device)
    if "c" not in skip:
        part_c(model, x, y, args, device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
