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
    batch 250: img/s and robust accuracy side by side, and the ratio;
(d) APGD-CE (100 steps, as the paper) ours against ``torchattacks.APGD`` set to the same steps,
    on each model of ``--eval-models`` (default: the shipped smallcnn and smallcnn-robust);
(e) the AutoAttack ensemble (APGD-CE, APGD-T, FAB-T, Square) ours against
    ``torchattacks.AutoAttack`` with the same steps (``--aa-steps``: 10, as torchattacks ships
    it, or 100, as the paper) and queries, on the same models: img/s and robust accuracy;
(f) APGD-T, FAB-T (multi-targeted) and Square, ours against torchattacks' APGDT, FAB and
    Square at torchattacks' settings (10 steps, ``--aa-queries``), robust accuracy only.

Timings take a warm-up round, then ``--repeats`` rounds in which ours and the reference take
turns batch by batch, so a change of load on a shared machine hits both; each figure is the
best round (``--stat min``, the default: the least disturbed) or the median round. Run it alone:
``flock /tmp/advtui-cpu.lock python bench/attacks.py``.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from functools import partial
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
    p.add_argument(
        "--eval-models",
        default="smallcnn,smallcnn-robust",
        help="models for (d) and (e), as a sweep names them (smallcnn,smallcnn-robust)",
    )
    p.add_argument("--eval-n", type=int, default=1000, help="images for (d) and (e) (1000)")
    p.add_argument("--apgd-steps", type=int, default=100, help="APGD-CE steps in (d) (100)")
    p.add_argument("--aa-steps", type=int, default=10, help="AutoAttack steps in (e) (10)")
    p.add_argument("--aa-queries", type=int, default=5000, help="Square queries in (e) (5000)")
    p.add_argument(
        "--eval-repeats", type=int, default=1, help="timed rounds for (d) and (e), no warm-up"
    )
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


def take_turns(
    work: dict[str, Callable[[int], object]],
    chunks: int,
    args,
    device,
    repeats: int | None = None,
    warmup: bool = True,
) -> dict:
    """Seconds each method needs for all ``chunks`` (batches), min or median over rounds.

    A warm-up round (unless ``warmup`` is off), then ``--repeats`` rounds in which the methods
    take turns on every chunk (the order rotating), so a change of load on a shared machine
    hits all of them alike.
    """
    totals: dict[str, list[float]] = {k: [] for k in work}
    names = list(work)
    repeats = args.repeats if repeats is None else repeats
    for r in range(repeats + 1 if warmup else repeats):
        spent = dict.fromkeys(names, 0.0)
        for i in range(chunks):
            for k in names[i % len(names) :] + names[: i % len(names)]:
                spent[k] += timeit(partial(work[k], i), device)
        if r or not warmup:
            for k in names:
                totals[k].append(spent[k])
    return {k: STAT[args.stat](v) for k, v in totals.items()}


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
    n = len(y)
    ref_n = min(args.ref_n or n, n)
    out: dict[str, dict[int, torch.Tensor]] = {"pred": {}, "iters": {}, "ref": {}}

    def ours(i: int) -> None:
        res = run(model, x[i * b : (i + 1) * b], y[i * b : (i + 1) * b], args.eps, steps=10)
        out["pred"][i], out["iters"][i] = res.pred, res.iterations.float()

    def reference(i: int) -> None:
        rows = range(i * b, min((i + 1) * b, ref_n))
        preds = [seed_loop_one_image(model, x[j : j + 1], int(y[j]), args.eps, 10)[1] for j in rows]
        out["ref"][i] = torch.tensor(preds, dtype=torch.long)

    chunks = -(-n // b)
    t = take_turns({"ours": ours, "ref": reference}, chunks, args, device)
    pred, ref = (torch.cat([out[k][i] for i in range(chunks)]) for k in ("pred", "ref"))
    iters = torch.cat([out["iters"][i] for i in range(chunks)])
    ours_ips, ref_ips = n / t["ours"], ref_n / t["ref"]
    out = {"pred": pred, "ref": ref, "iters": iters}
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

    # ten passes per timing, as long as the ten steps they are compared with (a short run's
    # best time would be luckier on a shared machine than a long one's)
    def fwd_bwd_input(_: int) -> None:
        for _ in range(10):
            leaf = xb.detach().requires_grad_(True)
            loss = F.cross_entropy(model(leaf), yb, reduction="sum")
            torch.autograd.grad(loss, leaf)

    def fwd_bwd_params(_: int) -> None:
        for p in model.parameters():
            p.requires_grad_(True)
        for _ in range(10):
            loss = F.cross_entropy(model(xb), yb, reduction="sum")
            loss.backward()
        for p in model.parameters():
            p.grad = None
        prepare(model)

    def steps(fn, k: int) -> Callable[[int], object]:
        def go(_: int) -> None:
            res = fn(model, xb, yb, tiny, steps=k)
            assert int(res.iterations.min()) == k, "a sample stopped early"

        return go

    t = take_turns(
        {
            "in": fwd_bwd_input,
            "par": fwd_bwd_params,
            "it1": steps(run_iter, 1),
            "it11": steps(run_iter, 11),
            "pgd1": steps(run_pgd, 1),
            "pgd11": steps(run_pgd, 11),
        },
        3,  # three turns per round, so each round sums three of each
        args,
        device,
    )
    t = {k: v / 3 for k, v in t.items()}
    t["in"], t["par"] = t["in"] / 10, t["par"] / 10
    it_step = (t["it11"] - t["it1"]) / 10
    pgd_step = (t["pgd11"] - t["pgd1"]) / 10
    print(f"\n(b) one attack step vs one forward+backward, batch of {len(yb)} (all attacked)")
    print(f"    forward + backward to the input      : {t['in'] * 1e3:8.1f} ms  (10 in a row / 10)")
    print(
        f"    forward + backward to the parameters : {t['par'] * 1e3:8.1f} ms  (10 in a row / 10)"
    )
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
    out: dict[str, dict[int, torch.Tensor]] = {"ours": {}, "adv": {}, "theirs": {}}

    def ours(i: int) -> None:
        torch.manual_seed(args.seed + i)  # the same random start for both, batch by batch
        out["ours"][i] = run(model, x[i * b : (i + 1) * b], y[i * b : (i + 1) * b], eps).pred

    def theirs(i: int) -> None:
        torch.manual_seed(args.seed + i)
        out["adv"][i] = atk(x[i * b : (i + 1) * b], y[i * b : (i + 1) * b])

    def predict(i: int) -> None:  # what torchattacks needs on top to give robust accuracy
        with torch.no_grad():
            out["theirs"][i] = model(out["adv"][i]).argmax(1)

    chunks = -(-n // b)
    t = take_turns({"ours": ours, "theirs": theirs}, chunks, args, device)
    t["eval"] = t["theirs"] + take_turns({"predict": predict}, chunks, args, device)["predict"]
    out = {k: torch.cat([v[i] for i in range(chunks)]) for k, v in out.items()}
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


# --------------------------------------------------------------------------- (d), (e) APGD, AA


def eval_models(args, device) -> dict[str, nn.Module]:
    """The models of ``--eval-models``, found as a sweep finds them, ready for attacks."""
    from engine.vision.events import SweepConfig
    from engine.vision.zoo import resolve_model

    names = tuple(args.eval_models.split(","))
    config = SweepConfig(model=names, device=str(device))
    out = {}
    for name in names:
        model = prepare(resolve_model(config, name=name).to(device))
        out[name] = model.to(memory_format=torch.channels_last) if device.type == "cpu" else model
    return out


def reference_autoattack(model, eps: float, args):
    """torchattacks' AutoAttack (standard) with every component at ``--aa-steps`` steps."""
    import torchattacks

    atk = torchattacks.AutoAttack(model, eps=eps, seed=args.seed, n_classes=10)
    for component in atk._autoattack.attacks:
        if hasattr(component, "steps"):
            component.steps = args.aa_steps
        if hasattr(component, "n_queries"):
            component.n_queries = args.aa_queries
    return atk


def side_by_side(title, model, x, y, ours_fn, theirs_fn, args, device) -> None:
    """Time ``ours_fn(x, y) -> pred`` against ``theirs_fn(x, y) -> images``, batch by batch
    in turns, each batch from the same seed; print img/s, robust accuracy and the ratio."""
    b, n = args.batch, len(y)
    out: dict[str, dict[int, torch.Tensor]] = {"ours": {}, "theirs": {}}

    def ours(i: int) -> None:
        torch.manual_seed(args.seed)
        out["ours"][i] = ours_fn(x[i * b : (i + 1) * b], y[i * b : (i + 1) * b])

    def theirs(i: int) -> None:
        adv = theirs_fn(x[i * b : (i + 1) * b], y[i * b : (i + 1) * b])
        with torch.no_grad():  # torchattacks returns images: robust accuracy costs a forward
            out["theirs"][i] = model(adv).argmax(1)

    chunks = -(-n // b)
    t = take_turns({"ours": ours, "theirs": theirs}, chunks, args, device, args.eval_repeats, False)
    acc = {k: (torch.cat([v[i] for i in range(chunks)]) == y).float().mean().item()
           for k, v in out.items()}  # fmt: skip
    print(f"    {title}")
    print(f"      ours        : {n / t['ours']:8.1f} img/s  robust acc {acc['ours']:.3f}")
    print(f"      torchattacks: {n / t['theirs']:8.1f} img/s  robust acc {acc['theirs']:.3f}")
    print(
        f"      ratio ours / torchattacks: {t['theirs'] / t['ours']:.3f}x (want >= 1.05x), "
        f"accuracy difference {abs(acc['ours'] - acc['theirs']) * 100:.2f} points (want <= 0.5)"
    )


def part_d_e(args, device, parts: set[str]) -> None:
    import torchattacks

    images, labels = load_images(args.data_dir, args.eval_n)
    x = images.to(device).float().div_(255)
    if device.type == "cpu":
        x = x.contiguous(memory_format=torch.channels_last)
    y, eps = labels.to(device), 8 / 255
    for name, model in eval_models(args, device).items():
        with torch.no_grad():
            clean = (model(x).argmax(1) == y).float().mean().item()
        print(f"\n{name}: clean accuracy {clean:.3f} on {len(y)} images, eps 8/255")
        if "d" in parts:
            apgd = torchattacks.APGD(model, eps=eps, steps=args.apgd_steps, seed=args.seed)
            ours = predictions(model, "apgd-ce", eps, steps=args.apgd_steps)
            title = f"(d) APGD-CE, {args.apgd_steps} steps"
            side_by_side(title, model, x, y, ours, apgd, args, device)
        if "e" in parts:
            ours = predictions(model, "autoattack", eps, steps=args.aa_steps,
                               n_queries=args.aa_queries)  # fmt: skip
            title = f"(e) AutoAttack, {args.aa_steps} steps, {args.aa_queries} queries"
            # torchattacks' FAB views input gradients as contiguous: give it the NCHW layout
            plain = copy.deepcopy(model).to(memory_format=torch.contiguous_format)
            ref = reference_autoattack(plain, eps, args)
            theirs = partial(_contiguous, ref)
            side_by_side(title, model, x, y, ours, theirs, args, device)


def _contiguous(attack, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return attack(images.contiguous(), labels)


def part_f(args, device) -> None:
    """Robust accuracy of the other components, ours and torchattacks', on each eval model."""
    import torchattacks

    images, labels = load_images(args.data_dir, args.eval_n)
    x, y, eps = images.to(device).float().div_(255), labels.to(device), 8 / 255
    refs = {
        "apgd-t": (lambda m: torchattacks.APGDT(m, eps=eps, seed=args.seed), {"steps": 10}),
        "fab-t": (
            lambda m: torchattacks.FAB(m, eps=eps, seed=args.seed, multi_targeted=True),
            {"steps": 10},
        ),
        "square": (
            lambda m: torchattacks.Square(m, eps=eps, seed=args.seed, n_queries=args.aa_queries),
            {"n_queries": args.aa_queries},
        ),
    }
    for name, model in eval_models(args, device).items():
        print(f"\n(f) {name}, {len(y)} images, eps 8/255: robust accuracy ours / torchattacks")
        for attack, (make, params) in refs.items():
            ours, theirs = [], []
            for i in range(0, len(y), args.batch):
                xb, yb = x[i : i + args.batch], y[i : i + args.batch]
                torch.manual_seed(args.seed)
                ours.append(get_attack(attack).run(model, xb, yb, eps, **params).pred)
                with torch.no_grad():
                    theirs.append(model(make(model)(xb, yb)).argmax(1))
            a, b = ((torch.cat(v) == y).float().mean().item() for v in (ours, theirs))
            print(f"    {attack:<7} {a:.3f} / {b:.3f}   difference {abs(a - b) * 100:.2f} points")


def predictions(model: nn.Module, name: str, eps: float, **params) -> Callable:
    """Our attack ``name`` as ``f(images, labels) -> predictions on the adversarials``."""
    run = get_attack(name).run
    return lambda x, y: run(model, x, y, eps, **params).pred


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
    if {"d", "e"} - skip:
        part_d_e(args, device, {"d", "e"} - skip)
    if "f" not in skip:
        part_f(args, device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
