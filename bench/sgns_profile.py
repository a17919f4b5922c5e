"""Where one SGNS batch spends its time: operator counts, fixed cost per batch, cost per word.

Three measurements on the same encoded corpus, for each thread count asked:

1. ``torch.profiler`` over a stretch of batches: top-level operators per batch (the ops the
   Python loop issues; nested ones are not counted twice) and each operator's self CPU time.
2. Wall time per batch at several batch sizes, one batch per call of the kernel, without the
   profiler. A straight line ``t(batch) = fixed + per_word * batch`` fitted to batches up to
   1,024 (above that the torch version's intermediates leave the cache and the line bends)
   splits the time into the cost that does not depend on the batch's size (dispatch,
   allocation, thread wake-ups: the per-call overhead) and the cost of the arithmetic and
   memory traffic itself.
3. The batch in use with the trainer's own span (the numba kernel trains a span of batches per
   call): wall time per batch, words/s, and the share of the fixed cost, ``fixed`` spread over
   the span's batches, in it.

Run it alone: ``flock /tmp/advtui-cpu.lock .venv/bin/python bench/sgns_profile.py``.
``--kernel torch`` forces the torch implementation where a fused kernel exists.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.words import DATA, cpu_summary  # noqa: E402
from engine.words.corpus import open_corpus  # noqa: E402
from engine.words.sgns import SGNSTrainer  # noqa: E402
from engine.words.vocab import build_and_encode  # noqa: E402


class Enough(Exception):
    """Raised from ``on_batch`` to stop an epoch after the batches wanted."""


def make_trainer(vocab, ids, args, batch: int, span: int | None = None) -> SGNSTrainer:
    """A trainer; ``span`` centre words per kernel call (default: the trainer's own)."""
    extra = {} if args.kernel == "auto" else {"kernel": args.kernel}
    if span is not None:
        extra["span"] = span
    return SGNSTrainer(len(vocab), ids, vocab.counts, batch=batch, seed=0, **extra)


def per_call(trainer: SGNSTrainer) -> int:
    """Batches the trainer trains per call (``on_batch`` hears of them together after it)."""
    return max(1, trainer.span // trainer.batch) if trainer.kernel == "numba" else 1


def timed_batches(trainer: SGNSTrainer, batches: int) -> tuple[float, int]:
    """Seconds per batch and corpus words per batch over whole calls worth about ``batches``
    batches, after a first call (which may compile)."""
    calls = per_call(trainer)
    warm, n = calls, max(1, batches // calls) * calls
    marks: list[tuple[float, int]] = []

    def on_batch(words: int, loss: float) -> None:
        marks.append((time.perf_counter(), words))
        if len(marks) == warm + n:
            raise Enough

    try:
        trainer.train_epoch(on_batch)
    except Enough:
        pass
    span = marks[-1][0] - marks[warm - 1][0]
    words = sum(w for _, w in marks[warm:])
    n = len(marks) - warm
    return span / n, words // n


def profile_ops(trainer: SGNSTrainer, batches: int) -> tuple[float, list[tuple[str, int, float]]]:
    """Top-level operators per batch and (name, calls per batch, self ms per batch), by time.

    The profiler starts after the first call, so the epoch's set-up (subsampling the whole
    corpus) is not spread over the batches measured, and covers whole calls.
    """
    from torch.profiler import ProfilerActivity, profile

    prof = profile(activities=[ProfilerActivity.CPU])
    calls = per_call(trainer)
    batches = max(1, batches // calls) * calls
    count = [0]

    def on_batch(words: int, loss: float) -> None:
        count[0] += 1
        if count[0] == calls:
            prof.start()
        if count[0] == calls + batches:
            prof.stop()
            raise Enough

    try:
        trainer.train_epoch(on_batch)
    except Enough:
        pass
    events = prof.events()
    top = Counter(e.name for e in events if e.cpu_parent is None and e.name.startswith("aten::"))
    self_us: Counter = Counter()
    calls: Counter = Counter()
    for e in events:
        self_us[e.name] += e.self_cpu_time_total
        calls[e.name] += 1
    ranked = sorted(self_us, key=self_us.get, reverse=True)[:12]
    rows = [(n, calls[n] / batches, self_us[n] / batches / 1e3) for n in ranked]
    return sum(top.values()) / batches, rows


def measure(vocab, ids, args, threads: int) -> dict:
    torch.set_num_threads(threads)
    trainer = make_trainer(vocab, ids, args, args.batch)
    ops, rows = profile_ops(trainer, args.profile_batches)
    sizes = sorted({64, 256, 1024, 4096, 16384, args.batch})
    points = []
    for size in sizes:  # one batch per call
        n = max(8, min(400, 400_000 // size))
        sec, words = timed_batches(make_trainer(vocab, ids, args, size, span=size), n)
        points.append({"batch": size, "ms": sec * 1e3, "words": words, "words_per_s": words / sec})
    small = [p for p in points if p["batch"] <= 1024]  # before intermediates leave the cache
    x = np.array([p["batch"] for p in small], float)
    y = np.array([p["ms"] for p in small])
    per_centre, fixed = np.polyfit(x, y, 1)
    calls = per_call(trainer)
    sec, words = timed_batches(make_trainer(vocab, ids, args, args.batch), 400)
    return {
        "threads": threads, "ops_per_batch": ops, "top_self_ms": rows, "points": points,
        "fixed_ms": fixed, "per_centre_us": per_centre * 1e3, "batches_per_call": calls,
        "ms_per_batch": sec * 1e3, "fixed_share": fixed / calls / (sec * 1e3),
        "words_per_s": words / sec,
    }  # fmt: skip


def report(result: dict, batch: int) -> None:
    print(f"\n== {result['threads']} thread(s), batch {batch}")
    print(f"top-level torch ops per batch: {result['ops_per_batch']:.1f}")
    print("self CPU time per batch (profiled): " + ", ".join(
        f"{name} x{calls:.2g} {ms:.4f} ms" for name, calls, ms in result["top_self_ms"]
    ))  # fmt: skip
    for p in result["points"]:
        print(
            f"  batch {p['batch']:>6}: {p['ms']:8.3f} ms/batch, {p['words']:>6} corpus words,"
            f" {p['words_per_s']:>12,.0f} words/s"
        )
    print(
        f"fit: fixed {result['fixed_ms']:.3f} ms per call + {result['per_centre_us']:.3f} us"
        f" per centre word; batch {batch}, {result['batches_per_call']} batches per call:"
        f" {result['ms_per_batch']:.3f} ms/batch, fixed share {result['fixed_share']:.1%},"
        f" {result['words_per_s']:,.0f} words/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(DATA / "text" / "english-mix.txt"))
    parser.add_argument("--batch", type=int, default=None, help="batch to profile (default: ours)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--kernel", default="auto", help="auto, or a kernel name of SGNSTrainer")
    parser.add_argument("--profile-batches", type=int, default=128, help="whole calls' worth")
    parser.add_argument("--json", help="write the numbers to this file")
    args = parser.parse_args()
    if args.batch is None:
        args.batch = SGNSTrainer.__init__.__kwdefaults__["batch"]
    print(cpu_summary())
    vocab, ids = build_and_encode(open_corpus(args.corpus).lines(), min_count=5)
    results = [measure(vocab, ids, args, int(t)) for t in args.threads.split(",")]
    for result in results:
        report(result, args.batch)
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=2))


if __name__ == "__main__":
    main()
