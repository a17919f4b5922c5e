"""The Words console: type a query, read the answer as tables; history, completion, help.

The query language is the engine's (``engine.words.commands``: ``parse_query``/``run_query``,
shared with ``advtui words query``): every line goes through ``parse_query``, and only
``load PATH`` (which changes where answers come from) is carried out here. ``eval`` uses the
evaluation files the answering model was trained with unless the line names others, and
``compare`` knows the model's kind and seed from its training config.

Answers come from a :class:`~tui.messages.ModelSource` that the app hands this pane (a
:class:`~tui.messages.UseModel` message): the model being trained (each query takes a fresh
snapshot), the last finished run, or a loaded file; the header says which. Queries run one at
a time on a worker thread, in the order typed, so a 70k-word vocabulary never holds up a key
press; malformed lines are refused on the spot with their usage line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label

from engine.errors import UsageError
from engine.words.commands import ALIASES, Query, help_answer, parse_query
from tui import messages as m
from tui.bridge import Bridge, run_job
from tui.messages import ModelSource
from tui.widgets.answers import AnswerLog
from tui.widgets.console_input import ConsoleInput

COMMANDS = tuple(dict.fromkeys(ALIASES.values()))
NO_MODEL = "no model yet: train one in the Embeddings tab (F3), or load PATH"


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

    def on_use_model(self, msg: m.UseModel) -> None:
        self.use(msg.source)

    def use(self, source: ModelSource | None) -> None:
        """Answer from ``source`` from now on."""
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
        query = parse_query(line)
        if query.kind == "help":
            self.out.answer(help_answer(query))
            self.answered += 1
        elif query.kind == "load":
            path = query.files[0][1]
            self._submit(line, lambda: self._load(path))
        else:
            if self.source is None:
                raise UsageError(NO_MODEL)
            self._submit(line, lambda: self._answer(query))

    # ------------------------------------------------------------------ the work (threads)

    def _answer(self, query: Query) -> Any:
        from engine.words.commands import run_query

        config = self.source.config if self.source is not None else None
        files = config.eval_files() if config else {}
        return run_query(self._embeddings(), query, config=config, files=files)

    def _load(self, path: str) -> Any:
        from engine.words.checkpoint import training_config
        from engine.words.formats import load_any

        emb = load_any(path)
        source = ModelSource(f"loaded {path}", lambda: emb, config=training_config(path))
        self.app.call_from_thread(self.use, source)
        return f"loaded {len(emb):,} words x {emb.dim} from {path}"

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
