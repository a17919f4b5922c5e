"""Our SGNS against gensim's Word2Vec: speed and quality with the same settings and corpus.

Both train skip-gram with negative sampling on the same token stream (our tokenizer) with the
same settings (defaults: dim 100, window 5, negative 5, min_count 5, sample 1e-3, 5 epochs,
2 threads). Printed per model:

- ``words/s``: effective training speed = in-vocabulary corpus words (after min_count, before
  subsampling) x epochs / seconds spent in training; the same definition for both.
- ``wall s``: reading + tokenising + vocabulary + training.
- analogy accuracy on questions-words (``restrict_vocab`` 30000, as gensim's
  ``evaluate_word_analogies``), WordSim353 and SimLex-999 Spearman, all scored by
  ``engine.words.evaluate`` (gensim's vectors wrapped in an ``Embeddings``), plus gensim's own
  ``evaluate_word_analogies`` / ``evaluate_word_pairs`` on both as a cross-check.

Measured here (2-core AMD EPYC, no GPU, torch 2.14.1, gensim 4.4.0, numba 0.68.1, english-mix
3.79M words in vocabulary, 5 epochs, ``--seeds 0,1,2``, means): ours (numba kernel, batch 512,
row_cap 40, lr 0.03) 1.60M words/s on 1 thread and 2.11M on 2; gensim 397k on 1 worker and 759k
on 2 (4.0x and 2.8x); analogy 11.99% vs 11.72% (1 worker) and 11.91% (2), WordSim353 0.467 vs
0.348-0.350, SimLex-999 0.240 vs 0.246-0.247. docs/benchmarks.md has the profile and the options
measured. ``--within-lines`` keeps our windows inside a line, as gensim's always are.

Run it alone: ``flock /tmp/advtui-cpu.lock .venv/bin/python bench/words.py --seeds 0,1,2``;
``--json PATH`` writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.words.corpus import open_corpus  # noqa: E402
from engine.words.evaluate import evaluate_analogies, evaluate_pairs  # noqa: E402
from engine.words.query import Embeddings  # noqa: E402
from engine.words.sgns import SGNSTrainer  # noqa: E402
from engine.words.vocab import build_and_encode_lines  # noqa: E402


def _data_dir() -> Path:
    """``shared/data`` beside the checkout or above it (a git worktree sits deeper)."""
    for base in REPO.parents:
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return REPO.parent / "shared" / "data"


DATA = _data_dir()
VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16",
                "avx_vnni", "avx512_vnni", "amx_tile", "neon", "asimd", "sve")  # fmt: skip


def cpu_summary() -> str:
    """CPU model, core count and vector extensions, so runs on different machines differ."""
    model, flags = "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key in ("model name", "Model name") and model == "unknown CPU":
                model = value.strip()
            elif key in ("flags", "Features") and not flags:
                flags = set(value.split())
    except OSError:
        pass
    ext = " ".join(f for f in VECTOR_FLAGS if f in flags) or "unknown"
    cores = len(os.sched_getaffinity(0))
    capability = torch.backends.cpu.get_cpu_capability()
    return f"cpu: {model}, {cores} cores usable; extensions: {ext}; torch kernels: {capability}"


def scores(emb: Embeddings, kv, args) -> dict[str, float]:
    """Our evaluation code on ``emb``; gensim's own on ``kv`` (the same vectors)."""
    analogy = evaluate_analogies(emb, args.analogies, restrict_vocab=30000)
    out = {
        "analogy": analogy.overall,
        "analogy_semantic": analogy.semantic,
        "analogy_syntactic": analogy.syntactic,
        "wordsim353": evaluate_pairs(emb, args.wordsim).spearman,
        "simlex999": evaluate_pairs(emb, args.simlex).spearman,
    }
    logging.disable(logging.WARNING)
    out["gensim_analogy"] = float(kv.evaluate_word_analogies(args.analogies, 30000)[0])
    out["gensim_wordsim353"] = float(kv.evaluate_word_pairs(args.wordsim)[1][0])
    out["gensim_simlex999"] = float(kv.evaluate_word_pairs(args.simlex)[1][0])
    return out


def mean_row(found: list[dict]) -> dict:
    """The runs' numbers averaged (the first run's for what is not a number)."""
    row = dict(found[0])
    for key, value in row.items():
        if isinstance(value, float):
            row[key] = float(np.mean([r[key] for r in found]))
    return row


def keyed(words: list[str], vectors: np.ndarray):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, vectors)
    return kv


def run_ours(args) -> tuple[dict, Embeddings]:
    start = time.perf_counter()
    lines = open_corpus(args.corpus).lines()
    vocab, ids, starts = build_and_encode_lines(lines, min_count=args.min_count)
    read = time.perf_counter() - start
    tuned = {k: getattr(args, k) for k in ("batch", "lr", "group", "row_cap")}
    trainer = SGNSTrainer(
        len(vocab), ids, vocab.counts, dim=args.dim, window=args.window,
        negative=args.negative, sample=args.sample, epochs=args.epochs, seed=args.seed,
        line_starts=starts if args.within_lines else None, kernel=args.kernel,
        **{k: v for k, v in tuned.items() if v is not None},
    )  # fmt: skip
    t0 = time.perf_counter()
    for _ in range(args.epochs):
        trainer.train_epoch(lambda words, loss: None)
    train = time.perf_counter() - t0
    emb = trainer.embeddings(vocab.words, counts=vocab.counts, name="ours")
    row = {
        "vocab": len(vocab),
        "corpus_words": vocab.total,
        "train_s": train,
        "wall_s": time.perf_counter() - start,
        "read_s": read,
        "words_per_s": vocab.total * args.epochs / train,
        "kernel": trainer.kernel, "batch": trainer.batch, "row_cap": trainer.row_cap,
    }  # fmt: skip
    return row, emb


def run_gensim(args) -> tuple[dict, Embeddings, object]:
    from gensim.models import Word2Vec

    start = time.perf_counter()
    sentences = list(open_corpus(args.corpus).lines())
    model = Word2Vec(
        vector_size=args.dim, window=args.window, negative=args.negative, sg=1, hs=0,
        min_count=args.min_count, sample=args.sample, workers=args.threads, seed=args.seed,
    )  # fmt: skip
    model.build_vocab(sentences)
    read = time.perf_counter() - start
    total = int(sum(model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key))
    t0 = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=args.epochs)
    train = time.perf_counter() - t0
    kv = model.wv
    emb = Embeddings(list(kv.index_to_key), torch.from_numpy(kv.vectors.copy()), name="gensim")
    row = {
        "vocab": len(kv),
        "corpus_words": total,
        "train_s": train,
        "wall_s": time.perf_counter() - start,
        "read_s": read,
        "words_per_s": total * args.epochs / train,
    }
    return row, emb, kv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(DATA / "text" / "english-mix.txt"))
    parser.add_argument("--analogies", default=str(DATA / "eval" / "questions-words.txt"))
    parser.add_argument("--wordsim", default=str(DATA / "eval" / "wordsim353.tsv"))
    parser.add_argument("--simlex", default=str(DATA / "eval" / "simlex999.txt"))
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="torch threads and gensim workers")
    parser.add_argument("--batch", type=int, help="our centre words per update (ours: 512)")
    parser.add_argument("--lr", type=float, help="our starting learning rate (ours: 0.03)")
    parser.add_argument("--group", type=int, help="our pairs sharing negatives (ours: 32)")
    parser.add_argument("--row-cap", type=int, help="our per-batch row update cap (ours: 40)")
    parser.add_argument("--kernel", default="auto", help="ours: auto, numba or torch")
    parser.add_argument(
        "--within-lines", action=argparse.BooleanOptionalAction, default=False,
        help="our context windows stop at line ends (gensim's always do)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds", help="comma-separated seeds: a run of each model per seed, and their means "
        "(gensim's results also vary between runs of one seed when its workers race)",
    )  # fmt: skip
    parser.add_argument("--no-gensim", action="store_true")
    parser.add_argument("--no-ours", action="store_true")
    parser.add_argument("--json", help="write the numbers to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    runs: dict[str, list[dict]] = {}
    for seed in seeds:  # ours and gensim in turn, so a drift in the machine's speed hits both
        args.seed = seed
        if not args.no_ours:
            ours, emb = run_ours(args)
            ours.update(scores(emb, keyed(emb.words, emb.vectors.numpy()), args), seed=seed)
            runs.setdefault("ours (sgns)", []).append(ours)
        if not args.no_gensim:
            theirs, gemb, kv = run_gensim(args)
            theirs.update(scores(gemb, kv, args), seed=seed)
            runs.setdefault("gensim", []).append(theirs)
    rows = {model: mean_row(found) for model, found in runs.items()}

    cols = [
        ("words/s", "words_per_s", "{:,.0f}"), ("train s", "train_s", "{:.1f}"),
        ("wall s", "wall_s", "{:.1f}"), ("vocab", "vocab", "{:,}"),
        ("analogy", "analogy", "{:.2%}"), ("WS353", "wordsim353", "{:.3f}"),
        ("SimLex", "simlex999", "{:.3f}"), ("analogy(g)", "gensim_analogy", "{:.2%}"),
        ("WS353(g)", "gensim_wordsim353", "{:.3f}"), ("SimLex(g)", "gensim_simlex999", "{:.3f}"),
    ]  # fmt: skip
    print(cpu_summary())
    if "ours (sgns)" in rows:
        o = rows["ours (sgns)"]
        print(f"ours: kernel {o['kernel']}, batch {o['batch']}, row_cap {o['row_cap']}, "
              f"windows {'inside lines' if args.within_lines else 'across lines'}")  # fmt: skip
    print(
        f"corpus {Path(args.corpus).name}: dim {args.dim}, window {args.window}, negative "
        f"{args.negative}, min_count {args.min_count}, sample {args.sample}, {args.epochs} epochs,"
        f" {args.threads} threads; words/s = in-vocabulary corpus words x epochs / train s"
    )
    print(f"{'model':<18}" + "".join(f"{name:>12}" for name, _, _ in cols))
    for model, found in runs.items():
        shown = [(f"{model} s{r['seed']}", r) for r in found] if len(found) > 1 else []
        for label, row in shown + [(model + (" mean" if shown else ""), rows[model])]:
            print(f"{label:<18}" + "".join(f"{fmt.format(row[key]):>12}" for _, key, fmt in cols))
    if len(rows) == 2:
        g, o = rows["gensim"], rows["ours (sgns)"]
        print(
            f"ours/gensim{' (means)' if len(seeds) > 1 else ''}: "
            f"speed x{o['words_per_s'] / g['words_per_s']:.2f}, analogy "
            f"{(o['analogy'] - g['analogy']) * 100:+.1f} points, WS353 "
            f"{o['wordsim353'] - g['wordsim353']:+.3f}, "
            f"SimLex {o['simlex999'] - g['simlex999']:+.3f}"
        )
    print("(g) = gensim's own evaluate_word_analogies / evaluate_word_pairs on the same vectors")
    if args.json:
        out = {"args": vars(args), "cpu": cpu_summary(), "rows": rows, "runs": runs}
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
