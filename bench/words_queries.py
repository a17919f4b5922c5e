"""Query, evaluation and file speed on a word2vec-sized vocabulary (70k words x 100 dims).

The vocabulary is the built-in corpus's words, the evaluation files' words (when
``../shared/data/eval`` is here) and made-up words to reach ``--vocab``; vectors are random, so
only the timings mean something. Prints, best of ``--repeats``:

- ``suggest`` (the unknown-word message) per word, against plain ``difflib.get_close_matches``
  over the whole vocabulary;
- ``neighbours`` / ``analogy`` per query (one matmul + topk over the cached unit vectors);
- ``evaluate_analogies`` on questions-words.txt (restrict 30000), questions per second, and
  gensim's ``evaluate_word_analogies`` on the first ``--gensim-questions`` of them;
- ``save_word2vec`` / ``load_word2vec`` of the whole set.

Run it alone: ``flock /tmp/advtui-cpu.lock python bench/words_queries.py``.
"""

from __future__ import annotations

import argparse
import difflib
import random
import string
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EVAL = ROOT.parent / "shared" / "data" / "eval"


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def vocabulary(size: int) -> list[str]:
    from collections import Counter

    from engine.words.corpus import BUILTIN, open_corpus

    counts: Counter[str] = Counter()
    for tokens in open_corpus(BUILTIN).lines():
        counts.update(tokens)
    words = [w for w, _ in counts.most_common()]
    if EVAL.is_dir():
        extra = (EVAL / "questions-words.txt").read_text("utf-8").lower().split()
        extra += (EVAL / "wordsim353.tsv").read_text("utf-8").lower().split()
        seen = set(words)
        for w in extra:
            if w not in seen and w.isalpha():
                seen.add(w)
                words.insert(len(words) // 3, w)  # eval words among the frequent ones
    rng = random.Random(0)
    seen = set(words)
    while len(words) < size:
        w = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 12)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vocab", type=int, default=70000)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gensim-questions", type=int, default=2000)
    args = parser.parse_args()

    import torch

    from engine.words.evaluate import evaluate_analogies
    from engine.words.formats import load_word2vec, save_word2vec
    from engine.words.query import Embeddings

    torch.manual_seed(0)
    words = vocabulary(args.vocab)
    emb = Embeddings(words, torch.randn(len(words), args.dim))
    print(f"{len(emb):,} words x {emb.dim}, torch threads {torch.get_num_threads()}")
    emb.unit  # noqa: B018  (the cached normalisation, built once)

    typos = ["lyon", "peopel", "beautifull", "xqzt", "kingg", "wiht", "goverment", "qeen"]
    t = best(lambda: [emb.suggest(w, 3) for w in typos], args.repeats) / len(typos)
    t_plain = best(lambda: [difflib.get_close_matches(w, words, 3) for w in typos[:2]], 1) / 2
    print(
        f"suggest:          {t * 1e3:8.2f} ms/word  "
        f"(difflib over all words: {t_plain * 1e3:.0f} ms)"
    )
    print("  e.g.", {w: emb.suggest(w, 3) for w in typos[:4]})

    probe = words[100]
    t = best(lambda: [emb.neighbours(probe, 10) for _ in range(20)], args.repeats) / 20
    print(f"neighbours:       {t * 1e3:8.2f} ms/query")
    a, b, c = words[10], words[20], words[30]
    t = best(lambda: [emb.analogy(a, b, c, 5) for _ in range(20)], args.repeats) / 20
    print(f"analogy:          {t * 1e3:8.2f} ms/query")

    questions = EVAL / "questions-words.txt"
    if questions.is_file():
        score = evaluate_analogies(emb, questions)
        t = best(lambda: evaluate_analogies(emb, questions), args.repeats)
        print(
            f"evaluate_analogies: {t:6.2f} s for {score.total:,} questions "
            f"({score.total / t:,.0f} q/s; {score.skipped:,} skipped)"
        )
        try:
            from gensim.models import KeyedVectors
        except ImportError:
            print("gensim not installed: no comparison")
        else:
            kv = KeyedVectors(args.dim)
            kv.add_vectors(words, emb.vectors.numpy())
            lines = questions.read_text("utf-8").splitlines()[: args.gensim_questions]
            with tempfile.TemporaryDirectory() as tmp:
                sub = Path(tmp) / "q.txt"
                sub.write_text("\n".join(lines) + "\n", "utf-8")
                ours = evaluate_analogies(emb, sub)
                start = time.perf_counter()
                _, sections = kv.evaluate_word_analogies(str(sub), restrict_vocab=30000)
                tg = time.perf_counter() - start
                to = best(lambda: evaluate_analogies(emb, sub), args.repeats)
                n = len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
                print(
                    f"  first {len(lines)} lines: ours {to:.3f} s, gensim {tg:.2f} s "
                    f"({n} questions; same correct: "
                    f"{ours.correct == len(sections[-1]['correct'])})"
                )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.txt"
        t = best(lambda: save_word2vec(emb, path), 1)
        size = path.stat().st_size / 1e6
        print(f"save_word2vec:    {t:8.2f} s ({size:.0f} MB text)")
        t = best(lambda: load_word2vec(path), 1)
        print(f"load_word2vec:    {t:8.2f} s")
        t = best(lambda: save_word2vec(emb, Path(tmp) / "v.bin", binary=True), 1)
        print(f"save (binary):    {t:8.2f} s")
        t = best(lambda: load_word2vec(Path(tmp) / "v.bin"), 1)
        print(f"load (binary):    {t:8.2f} s")


if __name__ == "__main__":
    main()
