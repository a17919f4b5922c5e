"""The seed's SkipGram, reproduced and timed: classic vs CBOW, then classic on a whole book.

The seed (Part 2) trained a SkipGram (context 2, dim 20, hidden 512) one example per step and
needed 825 epochs to reach 47.38% context accuracy. On the first ``--words`` words of
tinyshakespeare (min_count 1) this prints:

(a) ``classic`` as the seed ran it (same shape), trained with our batched trainer: epochs and
    seconds to the seed's 47.38% and to 90% of the best accuracy any model of this kind can
    reach on these words (the *ceiling*: the model sees only the centre word, so for each centre
    word the best it can do is one fixed multiset of 2c predictions); plus a seed-like run
    (SGD, lr 0.001, one example a step) for a fixed time, and the predicted context words of a
    few frequent words, untrained vs trained;
(b) ``cbow`` on the same words, epochs and seconds to the same targets, side by side;
(c) ``classic`` on the whole file (min_count 5, context 2): words/s and the accuracy reached
    after ``--full-seconds`` of training (measured on evenly spaced examples).

Run it alone: ``flock /tmp/advtui-cpu.lock .venv/bin/python bench/classic_seed.py``;
``--json PATH`` writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.jobs import Cancelled  # noqa: E402
from engine.words.models import SoftmaxTrainer, windows  # noqa: E402

try:
    from engine.words.corpus import tokenize  # noqa: E402
except ImportError:  # helper W1's tokenizer not landed yet: the same pattern, locally
    _TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

    def tokenize(line: str) -> list[str]:
        return _TOKEN.findall(line.lower())


DATA = REPO.parent / "shared" / "data" / "text" / "tinyshakespeare.txt"
SEED_ACCURACY = 0.4738  # the seed's 47.38% after 825 one-example-per-step epochs
SEED_EPOCHS = 825
PROBES = ("the", "my", "lord", "king", "citizen", "marcius", "good", "you")


def read_tokens(path: Path, limit: int | None) -> list[str]:
    out: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            out += tokenize(line)
            if limit is not None and len(out) >= limit:
                return out[:limit]
    return out


def encode(tokens: list[str], min_count: int) -> tuple[list[str], np.ndarray]:
    """Words by count (ties: first seen) and the ids of the kept tokens."""
    counts = Counter(tokens)
    words = [w for w, n in counts.most_common() if n >= min_count]
    index = {w: i for i, w in enumerate(words)}
    return words, np.array([index[t] for t in tokens if t in index], dtype=np.int32)


def ceiling(ids: np.ndarray, context_size: int) -> float:
    """The best seed accuracy any centre-word-only predictor of 2c words can reach on ``ids``.

    Per centre word, the k-th copy of a predicted word v gains the number of its windows that
    hold v at least k times; gains fall with k, so the top 2c gains are the optimum.
    """
    centres, contexts = windows(ids, context_size)
    k = 2 * context_size
    gains: dict[int, Counter] = defaultdict(Counter)
    for centre, row in zip(centres.tolist(), contexts.tolist(), strict=True):
        for v, n in Counter(row).items():
            for copy in range(1, n + 1):
                gains[centre][(v, copy)] += 1
    best = sum(sum(sorted(g.values(), reverse=True)[:k]) for g in gains.values())
    return best / (k * len(centres))


def trainer(model: str, words: list[str], ids: np.ndarray, **kw) -> SoftmaxTrainer:
    args = dict(dim=20, context_size=2, hidden=512, lr=0.01, batch=64, device="cpu")
    args.update(kw)
    seed = args.pop("seed", 0)
    return SoftmaxTrainer(
        model, len(words), ids, generator=torch.Generator().manual_seed(seed), **args
    )


def until(t: SoftmaxTrainer, targets: dict[str, float], max_epochs: int, max_s: float) -> dict:
    """Train whole epochs until every target is met or a limit is hit; record first crossings."""
    reached: dict[str, dict] = {}
    history = []
    start = time.perf_counter()
    for epoch in range(1, max_epochs + 1):
        metrics = t.train_epoch(lambda n, loss: None)
        seconds = time.perf_counter() - start
        history.append({"epoch": epoch, "seconds": round(seconds, 3), **metrics})
        for name, value in targets.items():
            if name not in reached and metrics["accuracy"] >= value:
                reached[name] = {"epochs": epoch, "seconds": round(seconds, 2)}
        if len(reached) == len(targets) or seconds > max_s:
            break
    return {
        "reached": reached,
        "epochs": len(history),
        "seconds": round(time.perf_counter() - start, 2),
        "best_accuracy": max(h["accuracy"] for h in history),
        "final": history[-1],
    }


def predicted(t: SoftmaxTrainer, words: list[str], probes: list[str]) -> dict[str, list[str]]:
    """Classic: the top word of each of the 2c positions; CBOW: its context() top 2c words."""
    index = {w: i for i, w in enumerate(words)}
    ids = torch.tensor([index[w] for w in probes])
    if t.model_name == "classic":
        rows = t.predict_context(ids).tolist()
    else:
        k = 2 * t.context_size
        rows = t.model.context_scores(ids.to(t.device)).topk(k, dim=1).indices.tolist()
    return {w: [words[i] for i in row] for w, row in zip(probes, rows, strict=True)}


def part_small(args) -> dict:
    tokens = read_tokens(args.data, args.words)
    words, ids = encode(tokens, 1)
    top = ceiling(ids, 2)
    targets = {"seed 47.38%": SEED_ACCURACY, "90% of ceiling": 0.90 * top}
    probes = [w for w in PROBES if w in words][:5]
    out: dict = {"words": len(ids), "vocab": len(words), "ceiling": top, "probes": probes}

    cls = trainer("classic", words, ids, lr=args.lr, batch=args.batch)
    untrained = predicted(cls, words, probes)
    out["classic"] = until(cls, targets, args.max_epochs, args.max_seconds)
    out["classic"]["untrained_context"] = untrained
    out["classic"]["trained_context"] = predicted(cls, words, probes)

    cb = trainer("cbow", words, ids, lr=args.lr, batch=args.batch)
    out["cbow"] = until(cb, targets, args.max_epochs, args.max_seconds)
    out["cbow"]["trained_context"] = predicted(cb, words, probes)

    seedlike = trainer("classic", words, ids, optimizer="sgd", lr=0.001, batch=1)
    run = until(seedlike, targets, 10**6, args.sgd_seconds)
    out["seedlike"] = {**run, "s_per_epoch": run["seconds"] / run["epochs"]}
    return out


def part_full(args) -> dict:
    tokens = read_tokens(args.data, None)
    words, ids = encode(tokens, args.min_count)
    t = trainer(
        "classic",
        words,
        ids,
        lr=args.full_lr,
        batch=args.full_batch,
        eval_examples=args.eval_examples,
    )
    before = t.accuracy()
    done = 0
    budget = args.full_seconds
    start = time.perf_counter()

    def on_batch(n: int, loss: float) -> None:
        nonlocal done
        done += n
        if time.perf_counter() - start > budget:
            raise Cancelled

    epochs = 0
    try:
        while True:  # an epoch's own accuracy pass is included in the time, as in training
            t.train_epoch(on_batch)
            epochs += 1
    except Cancelled:
        pass
    seconds = time.perf_counter() - start
    tic = time.perf_counter()
    after = t.accuracy()
    eval_s = time.perf_counter() - tic
    probes = [w for w in PROBES if w in words][:5]
    return {
        "tokens": len(tokens),
        "words": len(ids),
        "vocab": len(words),
        "examples": t.words_per_epoch,
        "eval_examples": int(len(t.eval_rows)) if t.eval_rows is not None else t.words_per_epoch,
        "seconds": round(seconds, 1),
        "words_trained": done,
        "epochs_done": done / t.words_per_epoch,
        "words_per_s": done / seconds,
        "accuracy_before": before,
        "accuracy_after": after,
        "eval_seconds": round(eval_s, 1),
        "context": predicted(t, words, probes),
    }


def fmt_reach(run: dict, name: str) -> str:
    r = run["reached"].get(name)
    if r is None:
        return f"not in {run['epochs']} ep / {run['seconds']:.0f} s"
    return f"{r['epochs']} ep / {r['seconds']:.1f} s"


def report(small: dict | None, full: dict | None, args) -> None:
    if small:
        s = small
        print(
            f"\n(a)+(b) first {args.words} words of {args.data.name}: {s['words']} tokens, "
            f"V={s['vocab']}, context 2, dim 20, hidden 512; Adam lr {args.lr}, batch "
            f"{args.batch}; torch {torch.__version__}, {torch.get_num_threads()} threads"
        )
        print(f"ceiling (best any centre-word-only predictor can do here): {s['ceiling']:.2%}")
        print(f"{'run':<34}{'to 47.38%':>22}{'to 90% ceil':>22}{'best acc':>10}")
        rows = [
            ("seed (its own text, 1 ex/step)", f"{SEED_EPOCHS} ep / ?", "-", SEED_ACCURACY),
            ("classic, ours (batched Adam)", None, None, s["classic"]["best_accuracy"]),
            ("cbow, ours (batched Adam)", None, None, s["cbow"]["best_accuracy"]),
            (
                f"classic, SGD 0.001 batch 1, {args.sgd_seconds:.0f} s",
                None,
                None,
                s["seedlike"]["best_accuracy"],
            ),
        ]
        keys = [None, "classic", "cbow", "seedlike"]
        for (label, a, b, best), key in zip(rows, keys, strict=True):
            if key:
                a = fmt_reach(s[key], "seed 47.38%")
                b = fmt_reach(s[key], "90% of ceiling")
            print(f"{label:<34}{a:>22}{b:>22}{best:>10.2%}")
        print(f"seed-like SGD: {s['seedlike']['s_per_epoch']:.2f} s per epoch here")
        if s["ceiling"] < SEED_ACCURACY:
            print(
                "the seed's 47.38% lies above this text's ceiling, so no model of this shape "
                "reaches it here (the seed trained on another text)"
            )
        print("\npredicted context words (classic: top word of each position; cbow: top 4)")
        for w in s["probes"]:
            print(f"  {w:<10} untrained {s['classic']['untrained_context'][w]}")
            print(f"  {'':<10} classic   {s['classic']['trained_context'][w]}")
            print(f"  {'':<10} cbow      {s['cbow']['trained_context'][w]}")
    if full:
        f = full
        print(
            f"\n(c) classic on all of {args.data.name}: {f['tokens']} tokens, min_count "
            f"{args.min_count} -> {f['words']} words, V={f['vocab']}, context 2, dim 20, "
            f"hidden 512; Adam lr {args.full_lr}, batch {args.full_batch}"
        )
        print(
            f"  trained {f['seconds']:.0f} s: {f['words_trained']} words "
            f"({f['epochs_done']:.2f} epochs), {f['words_per_s']:.0f} words/s"
        )
        print(
            f"  accuracy on {f['eval_examples']} evenly spaced examples: "
            f"{f['accuracy_before']:.2%} untrained -> {f['accuracy_after']:.2%} "
            f"(that pass took {f['eval_seconds']:.1f} s)"
        )
        for w, ctx in f["context"].items():
            print(f"  {w:<10} {ctx}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--words", type=int, default=2000)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--max-epochs", type=int, default=200)
    p.add_argument("--max-seconds", type=float, default=30.0)
    p.add_argument("--sgd-seconds", type=float, default=15.0)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--full-seconds", type=float, default=90.0)
    p.add_argument("--full-lr", type=float, default=0.003)
    p.add_argument("--full-batch", type=int, default=256)
    p.add_argument("--eval-examples", type=int, default=20000)
    p.add_argument("--skip-full", action="store_true")
    p.add_argument("--only-full", action="store_true")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    if not args.data.is_file():
        sys.exit(f"no corpus at {args.data}")
    small = None if args.only_full else part_small(args)
    report(small, None, args)
    full = None if args.skip_full else part_full(args)
    report(None, full, args)
    if args.json:
        args.json.write_text(json.dumps({"small": small, "full": full}, indent=1))
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
