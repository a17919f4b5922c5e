"""The three word models on one measure: held-out context accuracy (the seed's multiset count of
true context words among the predicted ones, on the last 10% of the words, never trained on).

Two corpora: the first 2,000 words of tinyshakespeare (the seed's setting) and the whole
built-in corpus (tinyshakespeare, ~200k words). The data settings are the same for all three
models so their numbers compare: window 2 (the seed's c, so 4 predictions a word),
``heldout`` 0.1, and per corpus one vocabulary rule (2,000 words: ``min_count`` 1; whole
corpus: ``min_count`` 5, ``max_vocab`` 3000). Everything else is each model's own default
(``advtui words train --model M``), except more epochs on the 2,000 words (20), where an epoch
is a fraction of a second. Each row is what this command trains::

    advtui words train --model M --window 2 --max-words 2000 --min-count 1 --max-vocab '' \
        --epochs 20
    advtui words train --model M --window 2 --max-words '' --min-count 5 --max-vocab 3000

Run it alone: ``flock /tmp/advtui-cpu.lock .venv/bin/python bench/context_accuracy.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.words import cpu_summary  # noqa: E402
from engine.words.events import WordsConfig, defaults_for  # noqa: E402
from engine.words.train import train_words  # noqa: E402

MODELS = ("classic", "cbow", "sgns")
CORPORA = {  # name -> the settings that differ from the model's defaults
    "first-2000": dict(max_words=2000, min_count=1, max_vocab=None, epochs=20),
    "whole": dict(max_words=None, min_count=5, max_vocab=3000),
}


def config(model: str, settings: dict, out: str) -> WordsConfig:
    base = defaults_for(model)
    return dataclasses.replace(base, window=2, heldout=0.1, out=out, **settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="first-2000,whole", help="first-2000 and/or whole")
    args = parser.parse_args(argv)
    import torch

    print(f"held-out context accuracy, window 2; {cpu_summary()}; torch {torch.__version__}")
    print(f"{'corpus':<22} {'model':<8} {'context_acc':>11} {'held-out windows':>17} "
          f"{'epochs':>6} {'seconds':>8}")  # fmt: skip
    with tempfile.TemporaryDirectory() as out:
        for corpus in args.corpora.split(","):
            for model in MODELS:
                c = config(model, CORPORA[corpus], out)
                events: list = []
                start = time.perf_counter()
                result = train_words(c, events.append)
                seconds = time.perf_counter() - start
                last = result.history[-1].metrics
                held = next(e for e in events if "windows of" in getattr(e, "message", ""))
                windows = held.message.split("context accuracy on ")[1].split(" ")[0]
                print(f"{corpus:<22} {model:<8} {last['context_acc']:>11.4f} {windows:>17} "
                      f"{c.epochs:>6} {seconds:>8.1f}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
