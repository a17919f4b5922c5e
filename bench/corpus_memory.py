"""Peak memory of reading a corpus that is one 100 MB line: it must stay bounded.

The words job reads a corpus in one streaming pass (``engine.words.train._read``: decode in
1 MiB chunks, cut an overlong line at whitespace, tokenise, count and encode). This bench makes
a corpus of ``--mb`` megabytes with no newline at all (the words of ``--source`` joined by
spaces, or the built-in corpus when none is given), reads it in a fresh child process the way
the job does, and prints the CPU, the child's resident memory after its imports (the
baseline), its peak (``ru_maxrss``), the difference, and what the pass found. The bar: under
200 MB above the baseline for 100 MB of text.

Run it alone (it is I/O and CPU bound for about a minute)::

    flock /tmp/advtui-cpu.lock .venv/bin/python bench/corpus_memory.py \
        --source ../shared/data/text/english-mix.txt
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, time
from engine.jobs import CancelToken
from engine.words.events import WordsConfig
from engine.words.train import _read

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")

base = rss_mb()
t0 = time.perf_counter()
vocab, ids, _ = _read(WordsConfig(corpus=sys.argv[1], min_count=5), lambda e: None, CancelToken())
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"baseline_mb": base, "peak_mb": peak, "seconds": seconds,
                  "vocab": len(vocab), "words": int(len(ids))}))
"""


def cpu_name() -> str:
    """The CPU's model name and core count (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {_cores()} cores"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cores() -> int:
    import os

    return os.cpu_count() or 1


def source_words(source: Path | None) -> bytes:
    """The text to repeat, with every line end turned into a space."""
    if source is None:
        from engine.words.corpus import BUILTIN_PATH

        data = gzip.decompress(BUILTIN_PATH.read_bytes())
    else:
        data = source.read_bytes()
    return data.replace(b"\r", b" ").replace(b"\n", b" ")


def make_corpus(path: Path, megabytes: int, source: Path | None) -> int:
    """Write ``megabytes`` MB of words and no newline to ``path``; its size in bytes."""
    text, size, target = source_words(source), 0, megabytes * 1_000_000
    with path.open("wb") as fh:
        while size < target:
            piece = text[: target - size]
            fh.write(piece)
            size += len(piece)
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100, help="corpus size in MB (default 100)")
    parser.add_argument("--source", type=Path, help="text whose words fill it (default builtin)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "one-line.txt"
        size = make_corpus(corpus, args.mb, args.source)
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(corpus)], cwd=REPO, capture_output=True,
            text=True, check=True,
        )  # fmt: skip
    found = json.loads(out.stdout.strip().splitlines()[-1])
    above = found["peak_mb"] - found["baseline_mb"]
    print(f"CPU: {cpu_name()}; Python {platform.python_version()}")
    print(f"corpus: {size / 1e6:.0f} MB, one line, words of {args.source or 'builtin'}")
    print(
        f"read in {found['seconds']:.1f} s: {found['words']:,} words kept, "
        f"vocabulary {found['vocab']:,}"
    )
    print(
        f"RSS baseline {found['baseline_mb']:.0f} MB, peak {found['peak_mb']:.0f} MB: "
        f"{above:.0f} MB above the baseline (bar: 200 MB) -> {'ok' if above < 200 else 'OVER'}"
    )


if __name__ == "__main__":
    main()
