"""SGNS over several processes against one: speed and quality at equal epochs.

Runs the words job (``train_words``, so exactly what ``advtui words train --procs N`` runs) on
english-mix with each process count and seed asked, and prints per run: words/s (the whole
corpus's words per epoch over the epoch's training seconds, averages included, evaluation
not), the wall time, the last epoch's analogy accuracy and WordSim353 Spearman, and the bytes
one average moves per rank (``2 x vocab x dim x 4``) against the words trained between two.

Run it alone: ``flock /tmp/advtui-cpu.lock .venv/bin/python bench/words_procs.py``;
``--json PATH`` writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.words import DATA, cpu_summary  # noqa: E402
from engine.jobs import Log  # noqa: E402
from engine.words.events import EpochEnd, WordsConfig  # noqa: E402
from engine.words.train import train_words  # noqa: E402


def one_run(config: WordsConfig) -> dict:
    """One training run: its speed, wall time, last epoch's scores and averaging log."""
    events: list = []
    start = time.perf_counter()
    train_words(config, events.append)
    wall = time.perf_counter() - start
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    last = epochs[-1].metrics
    return {
        "procs": config.procs,
        "seed": config.seed,
        "average_every": config.average_every,
        "words_per_s": statistics.mean(e.words_per_s for e in epochs),
        "wall_s": wall,
        "analogy": last.get("analogy", float("nan")),
        "wordsim": last.get("wordsim", float("nan")),
        "loss": epochs[-1].loss,
        "log": [e.message for e in events if isinstance(e, Log) and "vocabulary" in e.message],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", default=str(DATA / "text" / "english-mix.txt"))
    p.add_argument("--max-words", type=int, default=None)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--procs", default="1,2", help="process counts, comma separated")
    p.add_argument("--seeds", default="0", help="seeds, comma separated")
    p.add_argument("--every", default="8", help="average_every values, comma separated")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    print(cpu_summary(), flush=True)
    base = WordsConfig(
        corpus=args.corpus, max_words=args.max_words, epochs=args.epochs, heldout=0.0,
        analogies=str(DATA / "eval" / "questions-words.txt"),
        pairs=str(DATA / "eval" / "wordsim353.tsv"), out=tempfile.mkdtemp(),
    )  # fmt: skip
    rows = []
    for procs in map(int, args.procs.split(",")):
        for every in map(int, args.every.split(",") if procs > 1 else ["8"]):
            for seed in map(int, args.seeds.split(",")):
                row = one_run(replace(base, procs=procs, seed=seed, average_every=every))
                rows.append(row)
                print(
                    f"procs {procs} every {every:>4} seed {seed}: "
                    f"{row['words_per_s']:>9,.0f} words/s  wall {row['wall_s']:6.1f} s  "
                    f"analogy {row['analogy']:.4f}  wordsim {row['wordsim']:.4f}  "
                    f"loss {row['loss']:.4f}  {' '.join(row['log'])}",
                    flush=True,
                )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
