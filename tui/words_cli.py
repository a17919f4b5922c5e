"""``advtui words``: train word embeddings, query them, evaluate and export them headless.

Parsing imports no torch (``advtui --help`` stays instant); each action imports the engine
when it runs. Queries use :mod:`engine.words.commands`, the same language as the app's
console, so ``advtui words query run/ "analogy man woman king"`` answers what the app would.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from tui import format as fmt
from tui.console import ConsoleEvents, console
from tui.vision_cli import measure_width

WORDS_EXAMPLE = """examples:
  advtui words train                                  # sgns on the built-in corpus
  advtui words train --model classic --epochs 3       # the seed's softmax SkipGram
  advtui words train --corpus ~/text/ --dim 100 --analogies questions-words.txt
  advtui words query RUN "lion" "sim his her" "near lion 5" "analogy man woman king"
  advtui words eval RUN --analogies questions-words.txt --pairs wordsim353.tsv
  advtui words export RUN --format projector --out proj/

RUN is a run folder (printed by train), a checkpoint .pt or a word2vec text file.
"""

QUERY_HELP = """queries (one per argument; quote the ones with spaces):
  lion                     predicted context words and nearest neighbours
  near lion [K]            the K nearest words by cosine
  sim his her              cosine similarity
  analogy man woman king   man is to woman as king is to ?  (also man:woman::king:?)
  odd cat dog lion car     the word that does not belong
  context lion [K]         the words the model predicts around lion
"""

# (flag, dest, type, help) for the training options whose defaults come from defaults_for()
_TRAIN_OPTIONS: list[tuple[str, str, Any, str]] = [
    ("--dim", "dim", int, "vector size"),
    ("--window", "window", int, "sgns: max dynamic window; classic/cbow: context size"),
    ("--negative", "negative", int, "sgns negative samples per pair"),
    ("--min-count", "min_count", int, "drop words seen fewer times"),
    ("--max-vocab", "max_vocab", int, "keep at most this many words (most frequent)"),
    ("--sample", "sample", float, "subsampling threshold for frequent words (0: off)"),
    ("--max-words", "max_words", int, "use only the first N words of the corpus"),
    ("--epochs", "epochs", int, "passes over the corpus"),
    ("--batch", "batch", int, "batch size (pairs or centre words)"),
    ("--lr", "lr", float, "learning rate"),
    ("--hidden", "hidden", int, "classic/cbow hidden layer width"),
    ("--seed", "seed", int, "random seed"),
    ("--threads", "threads", int, "torch CPU threads"),
]


class _OneLineParser(argparse.ArgumentParser):
    """Bad options give one line (and exit 2), like every other bad input of ``advtui``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"advtui: error: {message} (see: {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def _need_action(_args: argparse.Namespace) -> int:
    from engine.errors import UsageError

    raise UsageError("choose an action: advtui words train | query | eval | export (or --help)")


def add_words_parser(sub: Any) -> None:
    words = sub.add_parser(
        "words",
        help="train word embeddings (classic SkipGram, CBOW, SGNS) and query them",
        description="Word embeddings: train, query, eval, export.",
        epilog=WORDS_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    words.set_defaults(func=_need_action)
    words.error = _OneLineParser.error.__get__(words)  # type: ignore[method-assign]
    actions = words.add_subparsers(
        dest="words_command", metavar="ACTION", parser_class=_OneLineParser
    )

    train = actions.add_parser(
        "train",
        help="train embeddings on a corpus; prints the run folder",
        description="Train on a corpus; defaults depend on --model (they train on the built-in "
        "corpus in well under a minute). Writes a run folder with config, epochs, "
        "checkpoint.pt and vectors.txt.",
    )
    train.add_argument("--corpus", default=None, help="builtin, a UTF-8 text file or a folder")
    train.add_argument("--model", default="sgns", help="classic, cbow or sgns (default sgns)")
    for flag, dest, kind, text in _TRAIN_OPTIONS:
        train.add_argument(flag, dest=dest, type=kind, default=None, help=text)
    train.add_argument(
        "--stopwords",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="drop common English stop words",
    )
    train.add_argument("--analogies", default=None, help="questions-words file, scored per epoch")
    train.add_argument("--pairs", default=None, help="WordSim353/SimLex file, scored per epoch")
    train.add_argument("--out", default=None, help="runs folder (default: the user data dir)")
    train.add_argument("--resume", default=None, metavar="CKPT", help="continue a checkpoint")
    train.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, mps")
    train.set_defaults(func=cmd_train)

    query = actions.add_parser(
        "query",
        help="ask trained vectors: neighbours, similarity, analogies, odd one out",
        description="Answer queries on a run folder, checkpoint or word2vec file.",
        epilog=QUERY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    query.add_argument("model", metavar="MODEL", help="run folder, checkpoint .pt, word2vec file")
    query.add_argument("queries", metavar="QUERY", nargs="+", help="a query (see below)")
    query.set_defaults(func=cmd_query)

    ev = actions.add_parser(
        "eval",
        help="analogy accuracy and word-pair Spearman",
        description="Score vectors on analogy questions and/or word-pair similarity files.",
    )
    ev.add_argument("model", metavar="MODEL", help="run folder, checkpoint .pt, word2vec file")
    ev.add_argument("--analogies", action="append", default=[], help="questions-words file")
    ev.add_argument("--pairs", action="append", default=[], help="WordSim353/SimLex-999 file")
    ev.add_argument(
        "--restrict", type=int, default=30000, help="analogies: only the N most frequent words"
    )
    ev.set_defaults(func=cmd_eval)

    export = actions.add_parser(
        "export",
        help="write word2vec text or TensorBoard projector files",
        description="word2vec: one text file; projector: vectors.tsv + metadata.tsv in a folder "
        "(load them at https://projector.tensorflow.org).",
    )
    export.add_argument("model", metavar="MODEL", help="run folder, checkpoint .pt, word2vec file")
    export.add_argument("--format", default="word2vec", help="word2vec (default) or projector")
    export.add_argument("--out", required=True, help="file (word2vec) or folder (projector)")
    export.set_defaults(func=cmd_export)


# --------------------------------------------------------------------------- train


def _config(args: argparse.Namespace):
    from dataclasses import replace

    from engine.errors import UsageError

    model = args.model.strip().lower()
    if model not in ("classic", "cbow", "sgns"):
        raise UsageError(f"unknown model {args.model!r}; choose classic, cbow or sgns")
    from engine.words import train

    config = train.defaults_for(model)
    changes = {dest: getattr(args, dest) for _, dest, _, _ in _TRAIN_OPTIONS}
    changes.update(
        corpus=args.corpus,
        stopwords=args.stopwords,
        analogies=args.analogies,
        pairs=args.pairs,
        out=args.out,
        resume=args.resume,
        device=args.device,
    )
    return replace(config, **{k: v for k, v in changes.items() if v is not None})


def _metric(value: float) -> str:
    """Counts (pairs seen) as integers, scores with three decimals."""
    if math.isfinite(value) and value == int(value) and abs(value) >= 1000:
        return f"{value:,.0f}"
    return fmt.number(value, ".3f")


def epoch_table(history: list[Any]) -> Table:
    """One row per epoch: loss, time, speed and the epoch metrics."""
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    metrics: list[str] = []
    for e in history:
        metrics += [k for k in e.metrics if k not in metrics and k != "loss"]
    for col in ("epoch", "loss", "time", "words/s", *metrics):
        table.add_column(col, justify="right", no_wrap=True)
    for e in history:
        values = [e.metrics.get(k, math.nan) for k in metrics]
        table.add_row(
            str(e.epoch),
            fmt.number(e.loss, ".4f"),
            fmt.seconds(e.seconds),
            f"{e.words_per_s:,.0f}",
            *[_metric(v) for v in values],
        )
    return table


def cmd_train(args: argparse.Namespace) -> int:
    from engine.jobs import CancelToken, Metric

    config = _config(args)  # checks --model before the training code loads
    from engine.words import train

    job = train.WordsJob(config)
    label = config.model

    def metric(m: Metric) -> None:
        if m.name == "loss":
            events.progress.update(events.task, description=f"{label} loss {m.value:.3f}")

    cancel = CancelToken()
    handlers = {Metric: metric}  # the job's own Log lines report the vocabulary and epochs
    with ConsoleEvents(label, handlers) as events:
        try:
            result = job.run(events, cancel)
        except KeyboardInterrupt:
            cancel.cancel()
            raise
    if result.history:
        table = epoch_table(result.history)
        if console.is_terminal:
            console.print(table)
        else:
            Console(stderr=True, width=max(console.width, measure_width(console, table))).print(
                table
            )
    state = "cancelled" if result.cancelled else "done"
    console.print(f"{state} in {fmt.seconds(result.seconds)}; run folder: {result.run_dir}")
    if result.run_dir:
        print(result.run_dir)
    return 0


# --------------------------------------------------------------------------- query


def answer_renderables(answer: Any) -> list[Any]:
    """A query answer as Rich renderables: a title, the summary, one table per part."""
    from rich.columns import Columns
    from rich.text import Text

    parts: list[Any] = [Text(answer.title, style="bold")]
    if answer.summary:
        parts.append(Text(answer.summary))
    tables = []
    for t in answer.tables:
        table = Table(
            title=t.title,
            header_style="bold",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            min_width=len(t.title),
        )
        table.add_column(t.columns[0], no_wrap=True)
        table.add_column(t.columns[1], justify="right", no_wrap=True)
        for word, score in t.rows:
            table.add_row(word, f"{score:.4f}")
        tables.append(table)
    if tables:
        parts.append(Columns(tables, padding=(0, 4)))
    return parts


def cmd_query(args: argparse.Namespace) -> int:
    from engine.words.commands import parse_query, run_query
    from engine.words.formats import load_any

    queries = [parse_query(q) for q in args.queries]  # a typo fails before the model loads
    emb = load_any(args.model)
    out = Console()
    for n, q in enumerate(queries):
        answer = run_query(emb, q)
        if n:
            out.print()
        for part in answer_renderables(answer):
            out.print(part)
    return 0


# --------------------------------------------------------------------------- eval, export


def cmd_eval(args: argparse.Namespace) -> int:
    from engine.errors import UsageError
    from engine.words.evaluate import evaluate_analogies, evaluate_pairs
    from engine.words.formats import load_any

    if not args.analogies and not args.pairs:
        raise UsageError("give --analogies FILE and/or --pairs FILE")
    if args.restrict < 1:
        raise UsageError("--restrict must be at least 1")
    emb = load_any(args.model)
    table = Table(
        title=f"{emb.name}: {len(emb):,} words x {emb.dim}",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    for col in ("file", "metric", "score", "used", "skipped"):
        table.add_column(col, justify="left" if col in ("file", "metric") else "right")
    for path in args.analogies:
        s = evaluate_analogies(emb, path, restrict_vocab=args.restrict)
        name = str(path).rsplit("/", 1)[-1]
        table.add_row(name, "analogy accuracy", f"{s.overall:.2%}", str(s.total), str(s.skipped))
        for group, value, used in (
            ("semantic", s.semantic, s.semantic_total),
            ("syntactic", s.syntactic, s.syntactic_total),
        ):
            table.add_row("", f"  {group}", f"{value:.2%}" if used else "-", str(used), "")
    for path in args.pairs:
        p = evaluate_pairs(emb, path)
        name = str(path).rsplit("/", 1)[-1]
        table.add_row(name, "spearman", fmt.number(p.spearman), str(p.used), str(p.skipped))
    Console().print(table)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from engine.errors import UsageError
    from engine.words.formats import load_any, save_projector, save_word2vec

    kind = args.format.strip().lower()
    if kind not in ("word2vec", "projector"):
        raise UsageError(f"unknown format {args.format!r}; choose word2vec or projector")
    emb = load_any(args.model)
    if kind == "word2vec":
        print(save_word2vec(emb, args.out))
    else:
        for path in save_projector(emb, args.out):
            print(path)
    return 0
