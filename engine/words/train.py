"""The words training job: corpus -> vocabulary -> trainer epochs -> run record.

``WordsJob(config).run(emit, cancel, pause)`` follows the job contract of :mod:`engine.jobs`:
everything that can be wrong with the input (path, encoding, empty vocabulary, a checkpoint that
does not match) is found before the run folder is created; then ``TrainingStarted``, throttled
``Progress`` in words, a smoothed ``Metric("loss")`` per window of steps, ``EpochEnd`` with the
trainer's and the evaluation metrics, and ``Finished`` last. A checkpoint is written atomically
at every epoch end and on cancel; ``config.resume`` continues at the next epoch, and because
every epoch draws from its own ``(seed, epoch)`` stream the result equals an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import UsageError
from engine.jobs import (
    Cancelled,
    CancelToken,
    Emit,
    Finished,
    Log,
    Metric,
    PauseToken,
    RateMeter,
    device_label,
    pick_device,
)
from engine.runs import RunRecord
from engine.words.checkpoint import load_checkpoint, save_checkpoint
from engine.words.corpus import load_stopwords, open_corpus
from engine.words.events import EpochEnd, TrainingStarted
from engine.words.vocab import Vocab, build_and_encode

MODELS = ("sgns", "classic", "cbow")
# Settings a resumed run must share with its checkpoint (the rest may change).
_RESUME_KEYS = (
    "corpus", "model", "dim", "window", "negative", "min_count", "max_vocab", "sample",
    "stopwords", "max_words", "batch", "lr", "hidden", "seed",
)  # fmt: skip


@dataclass
class WordsConfig:
    corpus: str = "builtin"
    model: str = "sgns"  # classic | cbow | sgns
    dim: int = 100
    window: int = 5  # sgns: max dynamic window; classic/cbow: context size
    negative: int = 5
    min_count: int = 5
    max_vocab: int | None = None
    sample: float = 1e-3
    stopwords: bool = False
    max_words: int | None = None
    epochs: int = 5
    batch: int | None = None  # sgns: centre words per update; classic/cbow: examples
    lr: float | None = None
    hidden: int = 512
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    analogies: str | None = None  # evaluated after each epoch
    pairs: str | None = None
    out: str | None = None
    resume: str | None = None


# Per-model defaults for batch and lr when the config leaves them None.
BATCH = {"sgns": 1024, "classic": 256, "cbow": 256}
LR = {"sgns": 0.025, "classic": 1e-3, "cbow": 1e-3}


def defaults_for(model: str) -> WordsConfig:
    """Presets that train on the built-in corpus in well under a minute on two CPU cores."""
    if model == "sgns":
        return WordsConfig(model="sgns", dim=100, window=5, min_count=5, epochs=5)
    if model in ("classic", "cbow"):
        return WordsConfig(
            model=model, dim=50, window=2, min_count=5, max_vocab=3000, sample=0.0,
            max_words=50_000, epochs=3, batch=BATCH[model], lr=LR[model], hidden=256,
        )  # fmt: skip
    raise UsageError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


@dataclass
class WordsResult:
    """What a run produced; ``embeddings`` is None only when cancelled before training began."""

    embeddings: Any  # engine.words.query.Embeddings | None
    history: list[EpochEnd] = field(default_factory=list)
    run_dir: str | None = None
    checkpoint: str | None = None
    cancelled: bool = False
    seconds: float = 0.0


def _validate(config: WordsConfig) -> None:
    if config.model not in MODELS:
        raise UsageError(f"unknown model {config.model!r}; choose one of {', '.join(MODELS)}")
    for name in ("dim", "window", "epochs", "min_count", "hidden"):
        if getattr(config, name) < 1:
            raise UsageError(f"{name} must be at least 1, got {getattr(config, name)}")
    if config.model == "sgns" and config.negative < 1:
        raise UsageError(f"negative must be at least 1, got {config.negative}")
    if config.sample < 0:
        raise UsageError(f"sample must be 0 (off) or positive, got {config.sample}")
    if config.batch is not None and config.batch < 1:
        raise UsageError(f"batch must be at least 1, got {config.batch}")
    if config.lr is not None and not config.lr > 0:
        raise UsageError(f"lr must be positive, got {config.lr}")
    if config.threads is not None and config.threads < 1:
        raise UsageError(f"threads must be at least 1, got {config.threads}")
    for name in ("analogies", "pairs"):
        path = getattr(config, name)
        if path is not None and not Path(path).expanduser().is_file():
            raise UsageError(f"{name} file {path!r} not found")


def _history_from(payload: list) -> list[EpochEnd]:
    return [EpochEnd(**h) for h in payload]


class WordsJob:
    """One training run; :meth:`snapshot` may be called from another thread once started."""

    def __init__(self, config: WordsConfig) -> None:
        self.config = config
        self.vocab: Vocab | None = None
        self.trainer: Any = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ setup

    def _make_trainer(self, vocab: Vocab, ids: np.ndarray, device):
        c = self.config
        batch = c.batch or self._default_batch(device)
        lr = c.lr or LR[c.model]
        if c.model == "sgns":
            from engine.words.sgns import SGNSTrainer

            if len(ids) < 2:
                raise UsageError(f"the corpus has {len(ids)} word(s) in the vocabulary; need 2+")
            return SGNSTrainer(
                len(vocab), ids, vocab.counts, dim=c.dim, window=c.window, negative=c.negative,
                sample=c.sample, lr=lr, batch=batch, epochs=c.epochs, seed=c.seed, device=device,
            )  # fmt: skip
        import torch

        from engine.words.models import SoftmaxTrainer

        gen = torch.Generator().manual_seed(c.seed)
        return SoftmaxTrainer(
            c.model, len(vocab), ids, dim=c.dim, context_size=c.window, hidden=c.hidden,
            lr=lr, batch=batch, device=device, generator=gen,
        )  # fmt: skip

    def _default_batch(self, device) -> int:
        """SGNS on a GPU takes bigger batches (the CPU size is tuned for cache, not a GPU)."""
        if self.config.model == "sgns" and getattr(device, "type", "cpu") != "cpu":
            return 8 * BATCH["sgns"]
        return BATCH[self.config.model]

    def _resume_payload(self) -> dict | None:
        c = self.config
        if not c.resume:
            return None
        payload = load_checkpoint(c.resume)
        saved = payload["config"]
        for key in _RESUME_KEYS:
            if saved.get(key) != getattr(c, key):
                raise UsageError(
                    f"cannot resume: checkpoint has {key}={saved.get(key)!r}, "
                    f"this run has {key}={getattr(c, key)!r}"
                )
        if payload["epoch"] >= c.epochs:
            raise UsageError(
                f"cannot resume: the checkpoint already has {payload['epoch']} of "
                f"{c.epochs} epochs; ask for more epochs"
            )
        return payload

    # ------------------------------------------------------------------ queries

    def snapshot(self):
        """A copy of the current vectors as an ``Embeddings`` (thread-safe)."""
        with self._lock:
            trainer, vocab = self.trainer, self.vocab
        if trainer is None or vocab is None:
            raise UsageError("training has not started yet; no vectors to show")
        return self._embeddings(trainer, vocab)

    def _embeddings(self, trainer, vocab: Vocab):
        if self.config.model == "sgns":
            return trainer.embeddings(vocab.words, counts=vocab.counts, name=self.config.model)
        emb = trainer.embeddings(vocab.words)
        emb.name = self.config.model
        return emb

    def _evaluate(self, emb) -> dict[str, float]:
        c = self.config
        from engine.words.evaluate import evaluate_analogies, evaluate_pairs

        metrics: dict[str, float] = {}
        if c.analogies:
            metrics["analogy"] = float(evaluate_analogies(emb, c.analogies).overall)
        if c.pairs:
            key = "simlex" if "simlex" in Path(c.pairs).name.lower() else "wordsim"
            metrics[key] = float(evaluate_pairs(emb, c.pairs).spearman)
        return metrics

    # ------------------------------------------------------------------ run

    def run(self, emit: Emit, cancel: CancelToken, pause: PauseToken | None = None) -> WordsResult:
        import torch

        c = self.config
        start = time.perf_counter()
        _validate(c)
        payload = self._resume_payload()
        device = pick_device(c.device)
        if c.threads:
            torch.set_num_threads(c.threads)
        corpus = open_corpus(c.corpus)
        emit(Log(f"reading corpus {corpus.name} ({len(corpus.paths)} file(s))"))
        stop = load_stopwords() if c.stopwords else None

        def lines():  # cancellable while reading a big corpus
            for i, tokens in enumerate(corpus.lines()):
                if not i & 4095 and cancel.cancelled:
                    raise Cancelled
                yield tokens

        try:
            vocab, ids = build_and_encode(lines(), c.min_count, c.max_vocab, stop, c.max_words)
        except Cancelled:
            seconds = time.perf_counter() - start
            emit(Log("cancelled while reading the corpus; nothing trained", "warning"))
            emit(Finished("words", True, seconds, None))
            return WordsResult(None, [], None, None, True, seconds)
        if payload is not None and list(payload["words"]) != vocab.words:
            raise UsageError(
                "cannot resume: the corpus gives a different vocabulary than the checkpoint"
            )
        trainer = self._make_trainer(vocab, ids, device)
        history: list[EpochEnd] = []
        first = 0
        if payload is not None:
            trainer.load_state_dict(payload["trainer"])
            history = _history_from(payload["history"])
            first = int(payload["epoch"])

        record = RunRecord("words", f"{c.model}-{corpus.name}", root=c.out)
        record.write_config(c)
        ckpt = record.file("checkpoint.pt")
        with self._lock:
            self.vocab, self.trainer = vocab, trainer
        wpe = trainer.words_per_epoch
        emit(TrainingStarted(c.model, len(vocab), wpe, c.epochs, device_label(device)))
        emit(Log(f"vocabulary {len(vocab):,} words, {len(ids):,} corpus words; device {device}"))
        if payload is not None:
            emit(Log(f"resumed from {c.resume} after epoch {first}"))

        meter = RateMeter("words", wpe * c.epochs, emit, unit="words")
        meter.done = wpe * first + int(getattr(trainer, "words_done_in_epoch", 0))
        batch = c.batch or self._default_batch(device)
        window = max(1, round(wpe / batch / 40))
        step = first * max(1, -(-wpe // batch))
        losses: list[float] = []
        paused = 0.0

        def on_batch(words: int, loss: float) -> None:
            nonlocal step, paused
            if pause is not None:
                waited = pause.wait(cancel)
                if waited:
                    paused += waited
                    meter.exclude(waited)  # rates exclude paused time
            cancel.check()
            step += 1
            losses.append(loss)
            if len(losses) >= window:
                emit(Metric("loss", step, float(np.mean(losses))))
                losses.clear()
            meter.add(words)

        cancelled = False
        done_epochs = first
        for epoch in range(first, c.epochs):
            t0, p0 = time.perf_counter(), paused
            try:
                metrics = dict(trainer.train_epoch(on_batch))
            except Cancelled:
                cancelled = True
                break
            seconds = time.perf_counter() - t0 - (paused - p0)
            done_epochs = epoch + 1
            if c.analogies or c.pairs:  # a copy of the vectors only when something scores it
                metrics.update(self._evaluate(self._embeddings(trainer, vocab)))
            end = EpochEnd(
                c.model, epoch + 1, float(metrics.get("loss", float("nan"))), seconds,
                wpe / seconds if seconds > 0 else 0.0, metrics,
            )  # fmt: skip
            history.append(end)
            emit(end)
            shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
            emit(Log(f"epoch {epoch + 1}/{c.epochs}: {shown} ({end.words_per_s:,.0f} words/s)"))
            record.write_rows("epochs", [dataclasses.asdict(h) for h in history])
            save_checkpoint(
                ckpt, config=c, vocab=vocab, trainer_state=trainer.state_dict(),
                epoch=done_epochs, history=history,
            )  # fmt: skip

        if cancelled:
            save_checkpoint(
                ckpt, config=c, vocab=vocab, trainer_state=trainer.state_dict(),
                epoch=done_epochs, history=history,
            )  # fmt: skip
            if history:
                record.write_rows("epochs", [dataclasses.asdict(h) for h in history])
            emit(Log(f"cancelled after {done_epochs} full epoch(s); checkpoint kept", "warning"))
        emb = self._embeddings(trainer, vocab)
        self._save_vectors(emb, record.file("vectors.txt"))
        seconds = time.perf_counter() - start
        emit(Finished("words", cancelled, seconds, str(record.path)))
        return WordsResult(emb, history, str(record.path), str(ckpt), cancelled, seconds)

    @staticmethod
    def _save_vectors(emb, path: Path) -> None:
        from engine.words.formats import save_word2vec

        save_word2vec(emb, path)
