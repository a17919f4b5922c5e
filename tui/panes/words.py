"""The Words console: type a query, read the answer as tables; history, completion, help.

The query language is the engine's (``engine.words.commands``: ``parse_query``/``run_query``,
shared with ``advtui words query``); this pane adds what needs the app around it: ``eval``
(the evaluation files set in the Embeddings form, or ``--analogies``/``--pairs``), ``load
PATH`` (a run folder, checkpoint or word2vec text file) and ``compare WORD`` (the predicted
context words of a fresh untrained model of the same kind next to the trained one).

Answers come from a :class:`ModelSource`: the model being trained (each query takes a fresh
``WordsJob.snapshot()``), the last finished run, or a loaded file; the header says which.
Queries run one at a time on a worker thread, in the order typed, so a 70k-word vocabulary
never holds up a key press; malformed lines are refused on the spot with their usage line.
"""

from __future__ import annotations

import shlex
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label

from engine.errors import UsageError
from tui import messages as m
from tui.bridge import Bridge, run_job
from tui.widgets.answers import AnswerLog
from tui.widgets.console_input import ConsoleInput

# the pane's own commands, next to the engine's (engine.words.commands.USAGE)
APP_USAGE: dict[str, str] = {
    "eval": "usage: eval [--analogies FILE] [--pairs FILE]  (files from the Embeddings form "
    "by default)",
    "load": "usage: load PATH  (a run folder, checkpoint.pt or word2vec text file)",
    "compare": "usage: compare WORD [K]  (untrained vs trained predicted context words)",
}
COMMANDS = (
    "near",
    "sim",
    "analogy",
    "odd",
    "context",
    "word",
    "help",
    *APP_USAGE,
)
NO_MODEL = "no model yet: train one in the Embeddings tab (F3), or load PATH"


@dataclass
class ModelSource:
    """Where answers come from. ``get`` runs on a worker thread; ``live`` sources (a model in
    training) are asked again for every query, the others once."""

    label: str
    get: Callable[[], Any]
    live: bool = False
    config: Any = None  # the WordsConfig it was trained with (for compare), when known


def untrained_like(emb: Any, config: Any) -> Any:
    """A fresh, untrained model of ``config.model``'s kind over ``emb``'s vocabulary.

    Same shape and seed as the trained run, no training step: what the seed showed as the
    'before' of its SkipGram. Classic/CBOW predict context words through their untrained head;
    SGNS's output vectors start at zero, so its untrained context scores are all 0.5.
    """
    import numpy as np
    import torch

    words = list(emb.words)
    if config.model == "sgns":
        from engine.words.sgns import SGNSTrainer

        trainer = SGNSTrainer(
            len(words),
            np.zeros(1, dtype=np.int32),
            np.ones(len(words), dtype=np.int64),
            dim=emb.dim,
            seed=config.seed,
        )
        return trainer.embeddings(words, name="sgns (untrained)")
    from engine.words.models import SoftmaxTrainer

    window = int(config.window)
    trainer = SoftmaxTrainer(
        config.model,
        len(words),
        np.zeros(2 * window + 1, dtype=np.int64),
        dim=emb.dim,
        context_size=window,
        hidden=int(config.hidden),
        lr=1e-3,
        batch=1,
        device="cpu",
        generator=torch.Generator().manual_seed(int(config.seed)),
    )
    return trainer.embeddings(words)


def checkpoint_config(path: str) -> Any:
    """The training config stored in our checkpoint (or a run folder's), else None."""
    from pathlib import Path
    from types import SimpleNamespace

    p = Path(path).expanduser()
    p = p / "checkpoint.pt" if p.is_dir() else p
    if p.suffix not in (".pt", ".pth", ".ckpt") or not p.is_file():
        return None
    try:
        from engine.words.checkpoint import load_checkpoint

        config = load_checkpoint(p).get("config") or {}
    except Exception:
        return None
    needed = ("model", "window", "hidden", "seed")
    return SimpleNamespace(**config) if all(k in config for k in needed) else None


def parse_eval(args: list[str], defaults: dict[str, str | None]) -> dict[str, str | None]:
    """``eval [--analogies F] [--pairs F]`` -> the two paths (form defaults fill the gaps)."""
    out = dict(defaults)
    i = 0
    while i < len(args):
        flag = args[i]
        if flag not in ("--analogies", "--pairs") or i + 1 >= len(args):
            raise UsageError(APP_USAGE["eval"])
        out[flag[2:]] = args[i + 1]
        i += 2
    if not out.get("analogies") and not out.get("pairs"):
        raise UsageError(
            "no evaluation files: set analogies/pairs in the Embeddings form, or "
            + APP_USAGE["eval"].removeprefix("usage: ")
        )
    return out


class WordsPane(Vertical):
    """Query word vectors: neighbours, analogies, odd one out, predicted context words."""

    HELP_TITLE = "Words"
    HELP = "Type a word or a command (help lists them); answers scroll above the line."
    BINDINGS = [
        Binding("ctrl+l", "clear", "Clear answers"),
        Binding("ctrl+u", "focus_input", "Query line", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source: ModelSource | None = None
        self._cached: Any = None  # the Embeddings of a non-live source, once fetched
        self._queue: deque[tuple[str, Callable[[], Any]]] = deque()
        self._busy: str | None = None  # the line being answered
        self.answered = 0  # queries finished (answers and errors), for tests and benches

    def compose(self) -> ComposeResult:
        yield Label(NO_MODEL, id="words-source")
        yield AnswerLog(id="words-out", min_width=20)  # wrap at the pane's width
        yield ConsoleInput(
            COMMANDS,
            placeholder="a word, or help  (tab completes, up/down: history)",
            id="words-input",
            compact=True,
            select_on_focus=False,
        )

    # ------------------------------------------------------------------ named parts

    @property
    def input(self) -> ConsoleInput:
        return self.query_one(ConsoleInput)

    @property
    def out(self) -> AnswerLog:
        return self.query_one(AnswerLog)

    @property
    def header(self) -> Label:
        return self.query_one("#words-source", Label)

    @property
    def busy(self) -> bool:
        return self._busy is not None or bool(self._queue)

    def on_show(self) -> None:
        """Coming to this tab: the query line takes the keys."""
        self.input.focus()

    def action_focus_input(self) -> None:
        self.input.focus()

    def action_clear(self) -> None:
        self.out.clear()

    # ------------------------------------------------------------------ the model

    def use(self, source: ModelSource | None) -> None:
        """Answer from ``source`` from now on (the Embeddings pane calls this on a new run)."""
        self.source = source
        self._cached = None
        if source is None:
            self.header.update(NO_MODEL)
            self.input.set_vocabulary([])
            return
        self.header.update(f"answering from: {source.label}")
        self._submit("", self._fetch_vocabulary)

    def _embeddings(self) -> Any:
        """The model to answer from (worker thread): a fresh snapshot while it trains."""
        source = self.source
        if source is None:
            raise UsageError(NO_MODEL)
        if source.live:
            return source.get()
        if self._cached is None:
            self._cached = source.get()
        return self._cached

    def _fetch_vocabulary(self) -> None:
        emb = self._embeddings()
        words = list(emb.words)
        label = f"{self.source.label} · {len(words):,} words x {emb.dim}" if self.source else ""
        self.app.call_from_thread(self._vocabulary_ready, words, label)
        return None

    def _vocabulary_ready(self, words: list[str], label: str) -> None:
        self.input.set_vocabulary(words)
        if label:
            self.header.update(f"answering from: {label}")

    # ------------------------------------------------------------------ input

    def on_input_submitted(self, event: ConsoleInput.Submitted) -> None:
        event.stop()
        line = event.value.strip()
        self.input.remember(line)
        self.input.value = ""
        if not line:
            return
        self.out.echo(line)
        try:
            self._dispatch(line)
        except UsageError as exc:
            self.out.add(str(exc), "warning")
            self.answered += 1

    def on_console_input_candidates(self, msg: ConsoleInput.Candidates) -> None:
        more = " ..." if msg.more else ""
        self.out.add(f"{msg.prefix}: " + "  ".join(msg.words) + more)

    def _dispatch(self, line: str) -> None:
        """Check the line now (usage errors answer at once); queue the work it asks for."""
        from engine.words import commands

        try:
            tokens = shlex.split(line)
        except ValueError:
            tokens = line.split()
        head, args = tokens[0].lower(), tokens[1:]
        if head == "help" and not args:
            lines = [*commands.HELP_LINES, *(u.removeprefix("usage: ") for u in APP_USAGE.values())]
            self.out.answer(
                commands.QueryAnswer(commands.Query("help"), "commands", "\n".join(lines))
            )
            self.answered += 1
        elif head == "load":
            if len(args) != 1:
                raise UsageError(APP_USAGE["load"])
            self._submit(line, lambda: self._load(args[0]))
        elif head == "eval":
            paths = parse_eval(args, self._form_eval_paths())
            self._submit(line, lambda: self._evaluate(paths))
        elif head == "compare":
            if len(args) not in (1, 2):
                raise UsageError(APP_USAGE["compare"])
            k = commands._parse_k("context", args[1]) if len(args) == 2 else commands.DEFAULT_K
            self._submit(line, lambda: self._compare(args[0].lower(), k))
        else:
            query = commands.parse_query(line)
            if self.source is None:
                raise UsageError(NO_MODEL)
            self._submit(line, lambda: commands.run_query(self._embeddings(), query))

    def _form_eval_paths(self) -> dict[str, str | None]:
        try:
            form = self.app.query_one("EmbeddingsPane").form
        except Exception:
            return {"analogies": None, "pairs": None}
        return {name: form.field(name).value.strip() or None for name in ("analogies", "pairs")}

    # ------------------------------------------------------------------ the work (threads)

    def _load(self, path: str) -> Any:
        from engine.words.formats import load_any

        emb = load_any(path)
        source = ModelSource(f"loaded {path}", lambda: emb, config=checkpoint_config(path))
        self.app.call_from_thread(self.use, source)
        return f"loaded {len(emb):,} words x {emb.dim} from {path}"

    def _evaluate(self, paths: dict[str, str | None]) -> Any:
        from engine.words.commands import AnswerTable, Query, QueryAnswer
        from engine.words.evaluate import evaluate_analogies, evaluate_pairs

        emb = self._embeddings()
        rows: list[tuple[str, float]] = []
        lines = []
        if paths.get("analogies"):
            score = evaluate_analogies(emb, paths["analogies"])
            rows += [
                ("analogies", score.overall),
                ("semantic", score.semantic),
                ("syntactic", score.syntactic),
            ]
            lines.append(score.summary())
        if paths.get("pairs"):
            pairs = evaluate_pairs(emb, paths["pairs"])
            rows.append(("spearman", pairs.spearman))
            lines.append(pairs.summary())
        table = AnswerTable("scores", ("measure", "value"), tuple(rows))
        return QueryAnswer(Query("eval"), "evaluation", "\n".join(lines), (table,))

    def _compare(self, word: str, k: int) -> Any:
        from engine.words.commands import AnswerTable, Query, QueryAnswer

        source = self.source
        emb = self._embeddings()
        if source is None or source.config is None:
            raise UsageError(
                "compare needs a model trained here (its kind and seed); loaded vectors have none"
            )
        trained = emb.context(word, k)  # unknown words fail here, before any work
        fresh = untrained_like(emb, source.config).context(word, k)
        return QueryAnswer(
            Query("compare", (word,), k),
            f"{word}: predicted context words, untrained vs trained {source.config.model}",
            "",
            (
                AnswerTable("untrained", ("word", "p"), tuple(fresh)),
                AnswerTable("trained", ("word", "p"), tuple(trained)),
            ),
        )

    # ------------------------------------------------------------------ the queue

    def _submit(self, line: str, fn: Callable[[], Any]) -> None:
        self._queue.append((line, fn))
        self._pump()

    def _pump(self) -> None:
        if self._busy is not None or not self._queue:
            return
        line, fn = self._queue.popleft()
        self._busy = line
        self._run(fn)

    @work(thread=True, group="query", exit_on_error=False)
    def _run(self, fn: Callable[[], Any]) -> None:
        run_job(Bridge(self, "query"), lambda emit: fn())

    def on_job_finished(self, msg: m.JobFinished) -> None:
        if msg.job != "query":
            return
        msg.stop()  # one query is no reason for the app's garbage-collection pass
        line, self._busy = self._busy, None
        if msg.result is not None:
            if isinstance(msg.result, str):
                self.out.add(msg.result)
            else:
                self.out.answer(msg.result)
        if line:
            self.answered += 1
        self._pump()

    def on_job_failed(self, msg: m.JobFailed) -> None:
        if msg.job != "query":
            return
        msg.stop()
        line, self._busy = self._busy, None
        if isinstance(msg.error, UsageError):
            self.out.add(msg.message, "warning")
        else:  # an engine failure: say it loudly, keep the console
            self.out.add(f"{msg.title}: {msg.message}", "error")
            self.notify(msg.message, title=msg.title, severity="error", timeout=8)
        if line:
            self.answered += 1
        self._pump()
