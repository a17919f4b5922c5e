"""``advtui words``: train word embeddings, query them, evaluate and export them headless.

Parsing imports no torch (``advtui --help`` stays instant); each action imports the engine
when it runs. Queries use :mod:`engine.words.commands`, the same language as the app's
console, so ``advtui words query run/ "analogy man woman king"`` answers what the app would.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from engine.words.events import MODELS, EvalConfig, WordsConfig, defaults_for
from tui import format as fmt
from tui import render
from tui.console import console, print_table, run_in_console
from tui.options import OneLineParser, add_command, config_from_args, resume_base
from tui.render import epoch_table
from tui.vision_cli import INTERRUPTED

WORDS_EXAMPLE = """examples:
  advtui words train                                  # sgns on the built-in corpus
  advtui words train --model classic --epochs 3       # the seed's softmax SkipGram
  advtui words train --corpus ~/text/ --dim 100 --analogies questions-words.txt
  advtui words query RUN "lion" "sim his her" "near lion 5" "analogy man woman king"
  advtui words eval RUN --analogies questions-words.txt --pairs wordsim353.tsv
  advtui words export RUN --format projector --out proj/
  advtui words map RUN king 15 --out king.png         # king and its 15 neighbours (PCA)

RUN is a run folder (printed by train), a checkpoint .pt or a word2vec text file.
"""

QUERY_HELP = """queries (one per argument; quote the ones with spaces):
  lion                     predicted context words and nearest neighbours
  near lion [K]            the K nearest words by cosine
  sim his her              cosine similarity
  analogy man woman king   man is to woman as king is to ?  (also man:woman::king:?)
  odd cat dog lion car     the word that does not belong
  context lion [K]         the words the model predicts around lion
  map lion [K]             lion and its K nearest words on a plane (PCA), with labels
"""


def _need_action(_args: argparse.Namespace) -> int:
    from engine.errors import UsageError

    raise UsageError(
        "choose an action: advtui words train | query | eval | export | map (or --help)"
    )


def add_words_parser(sub: Any) -> None:
    words = add_command(
        sub, "words", _need_action,
        "train word embeddings (classic SkipGram, CBOW, SGNS) and query them",
        "Word embeddings: train, query, eval, export.", epilog=WORDS_EXAMPLE,
    )  # fmt: skip
    actions = words.add_subparsers(
        dest="words_command", metavar="ACTION", parser_class=OneLineParser
    )

    add_command(
        actions, "train", cmd_train, "train embeddings on a corpus; prints the run folder",
        "Train on a corpus; defaults depend on --model (they train on the built-in corpus in "
        "well under a minute). Writes a run folder with config, epochs, checkpoint.pt and "
        "vectors.txt.", WordsConfig,
    )  # fmt: skip
    query = add_command(
        actions, "query", cmd_query,
        "ask trained vectors: neighbours, similarity, analogies, odd one out",
        "Answer queries on a run folder, checkpoint or word2vec file.", epilog=QUERY_HELP,
    )  # fmt: skip
    query.add_argument("model", metavar="MODEL", help="run folder, checkpoint .pt, word2vec file")
    query.add_argument("queries", metavar="QUERY", nargs="+", help="a query (see below)")
    add_command(
        actions, "eval", cmd_eval, "analogy accuracy and word-pair Spearman",
        "Score vectors on analogy questions and/or word-pair similarity files.", EvalConfig,
    )  # fmt: skip
    export = add_command(
        actions, "export", cmd_export, "write word2vec text or TensorBoard projector files",
        "word2vec: one text file; projector: vectors.tsv + metadata.tsv in a folder (load them "
        "at https://projector.tensorflow.org).",
    )  # fmt: skip
    export.add_argument("model", metavar="MODEL", help="run folder, checkpoint .pt, word2vec file")
    export.add_argument("--format", default="word2vec", help="word2vec (default) or projector")
    export.add_argument("--out", required=True, help="file (word2vec) or folder (projector)")
    word_map = add_command(
        actions, "map", cmd_map, "a word and its neighbours on a plane (PCA), as a PNG",
        "Project WORD and its K nearest words to 2-D (PCA of the unit vectors) and draw them; "
        "without --out the map is drawn in the terminal.",
    )  # fmt: skip
    word_map.add_argument(
        "model", metavar="MODEL", help="run folder, checkpoint .pt, word2vec file"
    )
    word_map.add_argument("word", metavar="WORD")
    word_map.add_argument("k", metavar="K", nargs="?", default="10", help="neighbours (default 10)")
    word_map.add_argument("--out", help="the PNG to write")


# --------------------------------------------------------------------------- train


def train_config(args: argparse.Namespace) -> WordsConfig:
    """The model's presets first (when the model is known), or the settings of the run that
    ``--resume`` continues; then what the user typed."""
    model = str(getattr(args, "model", "sgns")).strip().lower()
    base = defaults_for(model) if model in MODELS else WordsConfig()
    base = resume_base(WordsConfig, args, "words", fallback=base)
    return config_from_args(WordsConfig, args, base=base)


def cmd_train(args: argparse.Namespace) -> int:
    config = train_config(args)  # checks every option before the training code loads
    from engine.words.train import train_words

    result = run_in_console(train_words, config, config.model)
    if result.history:
        print_table(epoch_table(result.history))
    state = "cancelled" if result.cancelled else "done"
    console.print(
        f"{state} in {fmt.seconds(result.seconds)}; run folder: {result.run_dir}", soft_wrap=True
    )
    if result.cancelled and result.run_dir:
        console.print(
            f"continue it with: advtui words train --resume {result.run_dir}", soft_wrap=True
        )
    if result.run_dir:
        print(result.run_dir)
    return INTERRUPTED if result.cancelled else 0


def model_path(ref: str) -> str:
    """A path as given, or the run folder whose name holds ``ref`` (``advtui runs list``)."""
    from engine.files import kind

    if kind(ref) is not None or "/" in ref:
        return ref
    from engine.errors import UsageError
    from engine.run_index import find_run

    try:
        return str(find_run(ref))
    except UsageError:  # not a run either: the loader says what is wrong with the path
        return ref


def cmd_query(args: argparse.Namespace) -> int:
    from engine.words.checkpoint import training_config
    from engine.words.commands import parse_query, run_query
    from engine.words.formats import load_any

    queries = [parse_query(q) for q in args.queries]  # a typo fails before the model loads
    path = model_path(args.model)
    emb = load_any(path)
    config = training_config(path)
    files = config.eval_files() if config else {}
    out = Console()
    for n, q in enumerate(queries):
        if q.kind == "load":
            emb = load_any(q.files[0][1])
            config = training_config(q.files[0][1])
            out.print(f"loaded {len(emb):,} words x {emb.dim} from {q.files[0][1]}")
            continue
        if n:
            out.print()
        out.print(render.answer(run_query(emb, q, config=config, files=files), out.width))
    return 0


# --------------------------------------------------------------------------- eval, export


def cmd_eval(args: argparse.Namespace) -> int:
    config = config_from_args(EvalConfig, args)
    from engine.words.evaluate import evaluate_vectors

    result = run_in_console(evaluate_vectors, config, "eval")
    rows, cols = result.shape
    table = Table(
        title=f"{result.name}: {rows:,} words x {cols}",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    for col in ("file", "metric", "score", "used", "skipped"):
        table.add_column(col, justify="left" if col in ("file", "metric") else "right")
    for s in result.scores:
        if s.metric == "spearman":
            value = fmt.number(s.value)
        else:
            value = f"{s.value:.2%}" if s.used else "-"
        name = s.file if s.metric in ("analogy", "spearman") else ""
        label = s.metric if s.metric in ("analogy", "spearman") else f"  {s.metric}"
        skipped = str(s.skipped) if s.metric in ("analogy", "spearman") else ""
        table.add_row(name, label, value, str(s.used), skipped)
    Console().print(table)
    return INTERRUPTED if result.cancelled else 0


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


def cmd_map(args: argparse.Namespace) -> int:
    from engine.words.commands import parse_query, run_query
    from engine.words.formats import load_any

    query = parse_query(f"map {args.word} {args.k}")  # a bad K fails before the model loads
    answer = run_query(load_any(model_path(args.model)), query)
    if not args.out:
        out = Console()
        out.print(render.answer(answer, out.width))
        return 0
    from engine.charts import word_map_png

    print(word_map_png(answer.map, args.out, f"{answer.title}: {answer.summary}"))
    return 0
