"""The words training job: corpus -> vocabulary -> trainer epochs -> run record.

``train_words(config, emit, cancel, pause)`` follows the job contract of :mod:`engine.jobs`:
everything that can be wrong with the input (path, encoding, empty vocabulary, a checkpoint
that does not match) is found before the run folder is created; then ``TrainingStarted``
(whose ``snapshot`` answers queries from another thread while the model trains), throttled
``Progress`` in words, a smoothed ``Metric("loss")`` per window of steps, ``EpochEnd`` with the
trainer's and the evaluation metrics, and ``Finished`` last. A checkpoint is written atomically
at every epoch end and on cancel; ``config.resume`` continues at the next epoch, and because
every epoch draws from its own ``(seed, epoch)`` stream the result equals an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from engine.distributed import Peers, distributable, peers
from engine.errors import EngineError, UsageError
from engine.jobs import (
    Cancelled,
    CancelToken,
    Emit,
    Frame,
    Log,
    Metric,
    PauseToken,
    RateMeter,
    device_label,
    ignore,
    pick_device,
)
from engine.memory import BatchSize
from engine.runs import RunRecord, writable_root
from engine.words.averaging import Averaging, virtual_steps
from engine.words.checkpoint import load_checkpoint, save_checkpoint
from engine.words.corpus import load_stopwords, open_corpus
from engine.words.events import (
    EpochEnd,
    TrainingStarted,
    WordsConfig,
    WordsResult,
    defaults_for,
)
from engine.words.heldout import split, train_lines
from engine.words.vocab import Vocab, build_and_encode_lines, keep_probabilities
from engine.words.watch import EpochWatch

__all__ = ["train_words", "defaults_for"]

SGNS_BATCH = {"cpu": 512, "gpu": 8192}  # centre words per update (a GPU wants bigger ones)
# Settings a resumed run must share with its checkpoint (the rest may change).
_RESUME_KEYS = (
    "corpus", "model", "dim", "window", "negative", "min_count", "max_vocab", "sample",
    "stopwords", "max_words", "batch", "lr", "hidden", "seed", "heldout", "within_lines",
    "kernel",
)  # fmt: skip
# What a checkpoint written before a setting existed had instead (it trained on everything).
_BEFORE = {"heldout": 0.0}


class Live:
    """The model in training, for :meth:`snapshot` calls from other threads."""

    def __init__(self, config: WordsConfig, vocab: Vocab, trainer: Any) -> None:
        self.config, self.vocab, self.trainer = config, vocab, trainer
        self._lock = threading.Lock()

    def snapshot(self):
        """A copy of the current vectors as an ``Embeddings`` (thread-safe)."""
        with self._lock:
            return self.trainer.embeddings(
                self.vocab.words, counts=self.vocab.counts, name=self.config.model
            )


def batch_size(config: WordsConfig, device: Any) -> int:
    """``batch``, or the model's own (SGNS: bigger on a GPU than the CPU's cache-sized one)."""
    if config.batch is not None:
        return config.batch
    return SGNS_BATCH["cpu" if getattr(device, "type", "cpu") == "cpu" else "gpu"]


def make_trainer(
    config: WordsConfig,
    vocab: Vocab,
    ids: np.ndarray,
    device: Any,
    starts: Any = None,
    stream: int = 0,
) -> Any:
    """The trainer of ``config.model`` over the encoded corpus ``ids`` (``starts``: where its
    lines begin, for windows that stay inside a line; ``stream``: a rank's own draws)."""
    c, batch, lr = config, batch_size(config, device), config.learning_rate()
    if c.model == "sgns":
        from engine.words.sgns import SGNSTrainer

        if len(ids) < 2:
            raise UsageError(f"the corpus has {len(ids)} word(s) in the vocabulary; need 2+")
        return SGNSTrainer(
            len(vocab), ids, vocab.counts, dim=c.dim, window=c.window, negative=c.negative,
            sample=c.sample, lr=lr, batch=batch, epochs=c.epochs, seed=c.seed, device=device,
            line_starts=starts if c.within_lines else None, kernel=c.kernel, stream=stream,
        )  # fmt: skip
    import torch

    from engine.words.models import SoftmaxTrainer

    gen = torch.Generator().manual_seed(c.seed)
    return SoftmaxTrainer(
        c.model, len(vocab), ids, dim=c.dim, context_size=c.window, hidden=c.hidden,
        lr=lr, batch=batch, device=device, generator=gen,
    )  # fmt: skip


def untrained_like(emb: Any, config: WordsConfig):
    """A fresh, untrained model of ``config.model``'s kind over ``emb``'s vocabulary.

    Same shape and seed as the trained run, no training step: what the seed showed as the
    'before' of its SkipGram. Classic/CBOW predict context words through their untrained head;
    SGNS's output vectors start at zero, so its untrained context scores are all 0.5.
    """
    words = list(emb.words)
    vocab = Vocab(words, np.ones(len(words), dtype=np.int64))
    ids = np.zeros(2 * config.window + 1, dtype=np.int32)
    fresh = dataclasses.replace(config, dim=emb.dim, device="cpu", batch=1)
    trainer = make_trainer(fresh, vocab, ids, "cpu")
    return trainer.embeddings(words, name=f"{config.model} (untrained)")


def _resume_payload(config: WordsConfig) -> dict | None:
    """The checkpoint to continue, checked against this run's settings."""
    if not config.resume:
        return None
    path = Path(config.resume).expanduser()
    payload = load_checkpoint(path / "checkpoint.pt" if path.is_dir() else path)
    saved = payload["config"]
    for key in _RESUME_KEYS:
        if saved.get(key, _BEFORE.get(key)) != getattr(config, key):
            raise UsageError(
                f"cannot resume: the checkpoint has {key}={saved.get(key, _BEFORE.get(key))!r}, "
                f"this run has {key}={getattr(config, key)!r}"
            )
    if payload["epoch"] >= config.epochs:
        raise UsageError(
            f"cannot resume: the checkpoint already has {payload['epoch']} of "
            f"{config.epochs} epochs; ask for more epochs"
        )
    return payload


def _read(config: WordsConfig, emit: Emit, cancel: CancelToken) -> tuple[Vocab, Any, Any]:
    """Vocabulary, encoded ids and where each line starts, in one streaming pass (cancellable
    on a big corpus)."""
    corpus = open_corpus(config.corpus)
    emit(Log(f"reading corpus {corpus.name} ({len(corpus.paths)} file(s))"))
    stop = load_stopwords() if config.stopwords else None

    def lines():
        for i, tokens in enumerate(corpus.lines()):
            if not i & 4095:
                cancel.check()
            yield tokens

    c = config
    return build_and_encode_lines(lines(), c.min_count, c.max_vocab, stop, c.max_words)


def _read_together(
    config: WordsConfig, emit: Emit, cancel: CancelToken, group: Peers
) -> tuple[Vocab, Any, Any]:
    """:func:`_read` on every rank (the same corpus gives the same vocabulary and ids: no
    rank idles in a collective while another reads, and no copy of the ids crosses between
    processes); one reduce checks they agree and whether any rank was cancelled meanwhile."""
    if group.world == 1:
        return _read(config, emit, cancel)
    stopped, mine = False, [0.0, 0.0, 0.0]
    try:
        vocab, ids, starts = _read(config, emit if group.main else ignore, cancel)
        mine = [float(len(vocab)), float(len(ids)), float(zlib.crc32(ids.tobytes()))]
    except Cancelled:
        stopped = True
    sums, stop = group.reduce(mine, stopped)
    if stop:
        raise Cancelled()
    if any(total != value * group.world for total, value in zip(sums, mine, strict=True)):
        raise EngineError("the processes read different corpora (is the path the same?)")
    return vocab, ids, starts


def shard(ids: np.ndarray, starts: Any, group: Peers) -> tuple[np.ndarray, Any]:
    """This rank's contiguous share of the training ids, and the line starts inside it."""
    n = len(ids)
    lo, hi = n * group.rank // group.world, n * (group.rank + 1) // group.world
    if starts is None:
        return ids[lo:hi], None
    starts = np.asarray(starts)
    return ids[lo:hi], starts[(starts >= lo) & (starts < hi)] - lo


def _threads(config: WordsConfig) -> None:
    """``threads`` when given (a process of a group has its share of the cores already:
    :func:`engine.distributed.join`)."""
    import torch

    if config.threads:
        torch.set_num_threads(config.threads)


@distributable
def train_words(
    config: WordsConfig,
    emit: Emit = ignore,
    cancel: CancelToken | None = None,
    pause: PauseToken | None = None,
) -> WordsResult:
    """Train word vectors as ``config`` says; returns what finished, also when cancelled.

    With ``procs`` > 1 (sgns only; or under torchrun) each process trains on its shard of the
    corpus and the vectors are averaged every ``average_every`` batches
    (:mod:`engine.words.averaging`); the first process writes the run folder, evaluates and
    speaks for the job."""
    frame = Frame("words", config, emit, cancel, pause)
    group = peers()
    payload = _resume_payload(config)
    if group.main:
        writable_root("words", config.out)
    device = pick_device(config.device)
    _threads(config)
    result = WordsResult()
    with frame.stoppable(result, "cancelled while reading the corpus; nothing trained"):
        vocab, ids, starts = _read_together(config, emit, frame.cancel, group)
    if result.cancelled:
        return frame.finish(result)
    if payload is not None and list(payload["words"]) != vocab.words:
        raise UsageError(
            "cannot resume: the corpus gives a different vocabulary than the checkpoint"
        )
    train_ids, held_ids = split(ids, config.heldout)
    trainer, averaging = _trainer(config, vocab, train_ids, starts, device, group)
    watch = EpochWatch(config, vocab, held_ids) if group.main else None
    run = _Run(config, vocab, trainer, emit, frame, watch, averaging, len(train_ids))
    with frame.stoppable(result, "training cancelled; the checkpoint keeps what it finished"):
        run.begin(payload, device)
        run.train()
    return frame.finish(result, run.write if group.main else None)


def _trainer(
    config: WordsConfig, vocab: Vocab, train_ids: np.ndarray, starts: Any, device: Any,
    group: Peers,
) -> tuple[Any, Averaging | None]:  # fmt: skip
    """The trainer of this process's shard, and (several processes) its averaging."""
    starts = train_lines(starts, len(train_ids))
    if group.world == 1:
        return make_trainer(config, vocab, train_ids, device, starts), None
    ids, starts = shard(train_ids, starts, group)
    trainer = make_trainer(config, vocab, ids, device, starts, stream=group.rank)
    keep = keep_probabilities(vocab.counts, config.sample)
    steps = virtual_steps(keep, train_ids, group.world, batch_size(config, trainer.device))
    return trainer, Averaging(trainer, group, config.average_every, steps)


class _Run:
    """One training run from its first epoch (or its resumed one) to its records."""

    def __init__(
        self, config: WordsConfig, vocab: Vocab, trainer: Any, emit: Emit, frame: Frame,
        watch: EpochWatch | None, averaging: Averaging | None, words_per_epoch: int,
    ) -> None:  # fmt: skip
        self.config, self.vocab, self.trainer = config, vocab, trainer
        self.emit, self.frame, self.gate, self.watch = emit, frame, frame.gate, watch
        self.averaging = averaging  # several processes: the vectors averaged over them
        self.words_per_epoch = words_per_epoch  # all processes' (trainer: this one's shard)
        unit = "centre words" if config.model == "sgns" else "examples"
        trainer.oom = BatchSize(batch_size(config, trainer.device), emit, unit, trainer.device)
        self.history: list[EpochEnd] = []
        self.first = 0
        self.losses: list[float] = []
        self.step = 0

    def begin(self, payload: dict | None, device: Any) -> None:
        """Restore a checkpoint, make the run folder, announce the run, start the meter."""
        c, trainer = self.config, self.trainer
        if payload is not None:
            trainer.load_state_dict(self._shared_state(payload["trainer"], loading=True))
            self.history = [EpochEnd(**h) for h in payload["history"]]
            self.first = int(payload["epoch"])
        if self.watch is not None:
            self._announce(payload, device)
        meter = RateMeter("words", trainer.words_per_epoch * c.epochs, self.emit, unit="words")
        meter.done = trainer.words_per_epoch * self.first
        meter.done += int(getattr(trainer, "words_done_in_epoch", 0))
        self.gate.meter = meter  # this process's words (a launcher adds up its processes')
        batch = batch_size(c, device)
        wpe = trainer.words_per_epoch
        self.window = max(1, round(wpe / batch / 40))
        self.step = self.first * max(1, -(-wpe // batch))

    def _announce(self, payload: dict | None, device: Any) -> None:
        """The first process's run folder, its start events and the map before training."""
        c, trainer = self.config, self.trainer
        record = RunRecord("words", f"{c.model}-{open_corpus(c.corpus).name}", root=c.out)
        self.record = self.frame.open(record, epochs_total=c.epochs, epochs_done=self.first)
        if self.history:  # a resumed run's folder starts with the epochs it continues
            self.record.write_rows("epochs", [dataclasses.asdict(h) for h in self.history])
        wpe = self.words_per_epoch
        live = Live(c, self.vocab, trainer)
        label = device_label(device)
        if self.averaging is not None:
            a = self.averaging
            label += f", {a.group.world} processes averaging every {c.average_every} batches"
        self.emit(TrainingStarted(c.model, len(self.vocab), wpe, c.epochs, label, live.snapshot))
        self.emit(Log(f"vocabulary {len(self.vocab):,} words, {wpe:,} corpus words; {label}"))
        if payload is not None:
            self.emit(Log(f"resumed from {c.resume} after epoch {self.first}"))
        self.watch.announce(self.emit)
        if not self.first:
            self.emit(self.watch.map(self._vectors(), 0))

    def on_batch(self, words: int, loss: float) -> None:
        """After every trainer step: pause/cancel, the loss window, progress, the averages
        (a cancel in one of several processes waits for the next average, which stops all)."""
        try:
            self.gate()
        except Cancelled:
            if self.averaging is None:
                raise
            self.averaging.stopping = True
        self.step += 1
        self.losses.append(loss)
        if len(self.losses) >= self.window:
            self.emit(Metric("loss", self.step, float(np.mean(self.losses))))
            self.losses.clear()
        if self.gate.meter is not None:
            self.gate.meter.add(words)
        if self.averaging is not None:
            self.averaging.after_batch()

    def train(self) -> None:
        """The epochs left (a cancel raises :class:`Cancelled` out of here)."""
        for epoch in range(self.first + 1, self.config.epochs + 1):
            t0, paused = time.perf_counter(), self.gate.paused
            metrics = dict(self.trainer.train_epoch(self.on_batch))
            if self.averaging is not None:
                metrics = self.averaging.epoch_end(metrics)
            seconds = time.perf_counter() - t0 - (self.gate.paused - paused)
            if self.watch is not None:
                self._epoch_end(epoch, metrics, seconds)

    def _vectors(self) -> Any:
        """A copy of the vectors as they are now (for the scores and the map)."""
        vocab = self.vocab
        return self.trainer.embeddings(vocab.words, counts=vocab.counts, name=self.config.model)

    def _epoch_end(self, epoch: int, metrics: dict[str, float], seconds: float) -> None:
        c, wpe = self.config, self.words_per_epoch
        emb = self._vectors()
        metrics.update(self.watch.measure(self.trainer, emb))
        loss = float(metrics.get("loss", float("nan")))
        end = EpochEnd(
            c.model, epoch, loss, seconds, wpe / seconds if seconds > 0 else 0.0, metrics
        )
        self.history.append(end)
        # on disk before anyone hears of it: the checkpoint first (a row on disk means its
        # epoch is kept), then the row, the table and the summary
        self._save(epoch)
        self.record.append_row("epochs", dataclasses.asdict(end))
        self.record.write_json("epochs.json", [dataclasses.asdict(h) for h in self.history])
        self.record.update(epochs_done=epoch)
        self.emit(end)
        shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
        self.emit(Log(f"epoch {epoch}/{c.epochs}: {shown} ({end.words_per_s:,.0f} words/s)"))
        self.emit(self.watch.map(emb, epoch))

    def _save(self, epochs_done: int) -> None:
        """The checkpoint (atomic), so a crash keeps every finished epoch."""
        save_checkpoint(
            self.record.file("checkpoint.pt"), config=self.config, vocab=self.vocab,
            trainer_state=self._shared_state(self.trainer.state_dict()), epoch=epochs_done,
            history=self.history,
        )  # fmt: skip

    def _shared_state(self, state: dict, loading: bool = False) -> dict:
        """With several processes, the trainer's state as one process's: the whole corpus's
        words per epoch, and no position inside an epoch (that of one shard means nothing to
        another count of processes; a resumed run starts the epoch again)."""
        if self.averaging is None:
            return state
        if loading and "position" in state:
            self.emit(Log("resuming mid-epoch with several processes: the epoch starts again"))
        wpe = self.words_per_epoch
        if loading and state.get("words_per_epoch", wpe) == wpe:  # as the shard's trainer has it
            wpe = self.trainer.words_per_epoch
        elif loading:
            wpe = state["words_per_epoch"]  # which the trainer refuses
        return {k: v for k, v in state.items() if k != "position"} | {"words_per_epoch": wpe}

    def write(self, result: WordsResult) -> Path:
        """On cancel, keep the checkpoint too; then the vectors as word2vec text."""
        from engine.words.formats import save_word2vec

        if result.cancelled:
            self._save(len(self.history))
        if self.history:
            self.record.write_rows("epochs", [dataclasses.asdict(h) for h in self.history])
        c, vocab = self.config, self.vocab
        result.embeddings = self.trainer.embeddings(vocab.words, counts=vocab.counts, name=c.model)
        result.history = self.history
        result.checkpoint = str(self.record.file("checkpoint.pt"))
        save_word2vec(result.embeddings, self.record.file("vectors.txt"))
        return self.record.path
