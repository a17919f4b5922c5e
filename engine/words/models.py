"""The softmax word models: the seed's ``classic`` SkipGram, its ``cbow`` twin, and their trainer.

``classic`` (the seed's Part 2 SkipGram, Mikolov et al. 2013, "Efficient Estimation of Word
Representations in Vector Space", https://arxiv.org/abs/1301.3781, with a hidden layer) maps a
centre word to ``2c`` distributions over the vocabulary, one per context position:
``embedding(V, dim) -> Linear(dim, hidden) -> ReLU -> Linear(hidden, 2c*V)``, one log-softmax
per position. (The seed's code applied a single log-softmax over all ``2c*V`` outputs and then
reshaped; here each position is its own distribution, as the task describes.) The loss of one
example is the NLL averaged over its ``2c`` positions; a batch's loss is the mean over its
examples, so a mini-batch gradient is exactly the mean of the per-example gradients.

``cbow`` is the matching continuous bag of words: the mean of the ``2c`` context embeddings goes
through the same head to one softmax over the vocabulary that predicts the centre word. The seed
says SkipGram "is much more difficult to train than the CBoW"; training both side by side shows
it (``bench/classic_seed.py``).

Training examples are every position with a full window (``c`` words on each side), the
seed's data. The epoch metric is the seed's accuracy: for ``classic`` the top word of each
position (``2c`` predictions) is matched against the true context words as multisets; for
``cbow`` it is top-1 accuracy on the centre word. Both are computed batched.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import UsageError
from engine.memory import BatchSize, is_oom

MODELS = ("classic", "cbow")
OPTIMIZERS = ("adam", "sgd")

# Elements of the [B, 2c, V] logit block one evaluation chunk may hold (~64 MB in float32).
_EVAL_ELEMENTS = 16_000_000


class _SoftmaxModel(nn.Module):
    """Embedding -> Linear -> ReLU -> Linear to ``outputs`` logits: the layers both softmax
    models share (their state dicts name them the same, so checkpoints read either)."""

    def __init__(
        self, vocab_size: int, dim: int, context_size: int, hidden: int, outputs: int
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.context_size = context_size
        self.positions = 2 * context_size
        self.embeddings = nn.Embedding(vocab_size, dim)
        self.linear1 = nn.Linear(dim, hidden)
        self.linear2 = nn.Linear(hidden, outputs)


class ClassicSkipGram(_SoftmaxModel):
    """The seed's SkipGram: a centre word -> ``2c`` distributions over the vocabulary.

    ``forward(centres[B]) -> log_probs[B, 2c, V]`` (one log-softmax per context position).
    """

    def __init__(self, vocab_size: int, dim: int, context_size: int, hidden: int = 512) -> None:
        super().__init__(vocab_size, dim, context_size, hidden, 2 * context_size * vocab_size)

    def logits(self, centres: torch.Tensor) -> torch.Tensor:
        """Unnormalised scores ``[B, 2c, V]`` of the context words of each centre word."""
        h = F.relu(self.linear1(self.embeddings(centres)))
        return self.linear2(h).view(-1, self.positions, self.vocab_size)

    def forward(self, centres: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.logits(centres), dim=-1)

    def loss(self, centres: torch.Tensor, contexts: torch.Tensor) -> torch.Tensor:
        """Mean over examples of the NLL averaged over the 2c positions (``contexts[B, 2c]``)."""
        logits = self.logits(centres)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), contexts.reshape(-1))

    @torch.no_grad()
    def predict(self, centres: torch.Tensor) -> torch.Tensor:
        """The top word of each context position: ``[B, 2c]`` ids."""
        return self.logits(centres).argmax(dim=-1)

    @torch.no_grad()
    def context_scores(self, ids: torch.Tensor) -> torch.Tensor:
        """``[n, V]`` log-probability that a context slot (any of the ``2c``) holds each word.

        The union of the per-position predictions as a mixture: ``log mean_p P_p(w | centre)``.
        It is a proper distribution over the vocabulary, so a softmax of it gives it back.
        """
        log_probs = self.forward(ids)
        return torch.logsumexp(log_probs, dim=1) - math.log(self.positions)


class CBOW(_SoftmaxModel):
    """Continuous bag of words: mean of the ``2c`` context embeddings -> the centre word.

    ``forward(contexts[B, 2c]) -> log_probs[B, V]``. Same head as :class:`ClassicSkipGram`
    (Linear -> ReLU -> Linear) with a single softmax over the vocabulary.
    """

    def __init__(self, vocab_size: int, dim: int, context_size: int, hidden: int = 512) -> None:
        super().__init__(vocab_size, dim, context_size, hidden, vocab_size)

    def head(self, mean: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, V]`` from a context mean ``[B, dim]``."""
        return self.linear2(F.relu(self.linear1(mean)))

    def logits(self, contexts: torch.Tensor) -> torch.Tensor:
        return self.head(self.embeddings(contexts).mean(dim=1))

    def forward(self, contexts: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.logits(contexts), dim=-1)

    def loss(self, centres: torch.Tensor, contexts: torch.Tensor) -> torch.Tensor:
        """Mean over examples of the NLL of the centre word given its context."""
        return F.cross_entropy(self.logits(contexts), centres)

    @torch.no_grad()
    def predict(self, contexts: torch.Tensor) -> torch.Tensor:
        """The top centre word for each context: ``[B]`` ids."""
        return self.logits(contexts).argmax(dim=-1)

    @torch.no_grad()
    def context_scores(self, ids: torch.Tensor) -> torch.Tensor:
        """``[n, V]`` log-probabilities of words seen next to each word.

        CBOW has no context predictor of its own, so the word alone is fed as the context mean
        (a window made of that one word): the head then scores the words that are centred on
        such a window, i.e. the words that occur around it. It is the model's own answer to
        "what goes with this word", not an extra trained part.
        """
        return F.log_softmax(self.head(self.embeddings(ids)), dim=-1)


def multiset_hits(predicted: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per row, the size of the multiset intersection of ``predicted`` and ``targets`` ``[B, K]``.

    The seed's check (each true word found among the predictions counts once and removes that
    prediction), vectorised: the ``r``-th occurrence of a target value is matched iff that value
    is predicted more than ``r`` times, which sums to ``min(count_true, count_pred)`` per value.
    """
    k = targets.shape[1]
    same = targets[:, :, None] == targets[:, None, :]  # [B, K, K]
    earlier = torch.ones(k, k, dtype=torch.bool, device=targets.device).tril(-1)
    rank = (same & earlier).sum(dim=2)  # how many earlier positions hold the same word
    found = (targets[:, :, None] == predicted[:, None, :]).sum(dim=2)
    return (found > rank).sum(dim=1)


def top_words(scores: Callable[[torch.Tensor], torch.Tensor], ids: torch.Tensor, k: int,
              vocab_size: int, budget: int = 1 << 24) -> torch.Tensor:  # fmt: skip
    """The ``k`` best-scored words for each id, ``scores(chunk) -> [n, V]`` a chunk at a time
    (at most ``budget`` scores held at once, whatever the vocabulary)."""
    chunk = max(1, budget // max(vocab_size, 1))
    k = min(k, vocab_size)
    parts = [scores(ids[i : i + chunk]).topk(k, dim=1).indices for i in range(0, len(ids), chunk)]
    return torch.cat(parts) if parts else torch.zeros(0, k, dtype=torch.long)


def windows(ids: np.ndarray, context_size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(centres[N], contexts[N, 2c])`` for every position with ``c`` words on both sides."""
    c = context_size
    w = np.lib.stride_tricks.sliding_window_view(np.asarray(ids), 2 * c + 1)
    return w[:, c].copy(), np.concatenate([w[:, :c], w[:, c + 1 :]], axis=1)


def _to_cpu(obj):
    """A deep copy of a nested state with every tensor cloned to the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _build(name: str, vocab_size: int, dim: int, context_size: int, hidden: int) -> nn.Module:
    cls = ClassicSkipGram if name == "classic" else CBOW
    return cls(vocab_size, dim, context_size, hidden)


def model_from_state(state: dict) -> nn.Module:
    """The softmax model a :meth:`SoftmaxTrainer.state_dict` holds, in float32 on the CPU."""
    if state.get("model_name") not in MODELS:
        raise UsageError("unknown model in checkpoint")
    model = _build(
        state["model_name"], state["vocab_size"], state["dim"], state["context_size"],
        state["hidden"],
    )  # fmt: skip
    model.load_state_dict({k: v.float() for k, v in state["model"].items()})
    return model.eval()


def _checked_args(
    model_name: str, optimizer: str, vocab_size: int, ids: np.ndarray, dim: int,
    context_size: int, hidden: int, lr: float, batch: int,
) -> np.ndarray:  # fmt: skip
    """The trainer's arguments checked (for callers other than the words job, which validated
    its config already); returns ``ids`` as an array."""
    if model_name not in MODELS:
        raise UsageError(f"unknown model {model_name!r}; choose one of {', '.join(MODELS)}")
    if optimizer not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {optimizer!r}; choose adam or sgd")
    for label, value in (
        ("dim", dim),
        ("context size", context_size),
        ("hidden", hidden),
        ("batch", batch),
        ("vocabulary size", vocab_size),
    ):
        if value < 1:
            raise UsageError(f"{label} must be at least 1, got {value}")
    if not lr > 0:
        raise UsageError(f"learning rate must be positive, got {lr}")
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2 * context_size + 1:
        raise UsageError(
            f"the corpus has {ids.size} words; context size {context_size} needs at least "
            f"{2 * context_size + 1}"
        )
    if ids.min() < 0 or ids.max() >= vocab_size:
        raise UsageError(f"word ids must lie in 0..{vocab_size - 1}")
    return ids


class SoftmaxTrainer:
    """Trains ``classic`` or ``cbow`` on an id array with shuffled mini-batches.

    Adam (default) or SGD. Adam because it is the fastest we measured on the seed's setup
    (first 2,000 tinyshakespeare words, context 2, dim 20, hidden 512, 2 CPU cores): lr 0.01,
    batch 64 reached 43% context accuracy in 15 epochs (3.3 s); the best SGD tried (lr 0.5,
    batch 16) took 66 epochs (18 s), and seed-like SGD (lr 0.001, one example a step) was at
    12% after 40 s. Randomness (initial weights, shuffles) comes only from ``generator``,
    so a run is reproducible and :meth:`state_dict` / :meth:`load_state_dict` continue a run
    exactly. Works on any torch device; ``generator`` is a CPU generator.
    """

    def __init__(
        self,
        model_name: str,
        vocab_size: int,
        ids: np.ndarray,
        *,
        dim: int,
        context_size: int,
        hidden: int,
        lr: float,
        batch: int,
        device: torch.device | str,
        generator: torch.Generator,
        optimizer: str = "adam",
        dtype: torch.dtype = torch.float32,
        eval_examples: int | None = None,
    ) -> None:
        ids = _checked_args(model_name, optimizer, vocab_size, ids, dim, context_size, hidden, lr,
                            batch)  # fmt: skip
        self.model_name = model_name
        self.vocab_size = vocab_size
        self.dim, self.context_size, self.hidden = dim, context_size, hidden
        self.lr, self.batch, self.optimizer_name = lr, batch, optimizer
        self.device = torch.device(device)
        self.generator = generator
        self.epoch = 0
        self.oom: BatchSize | None = None  # splits a step on out-of-memory (the job's)

        centres, contexts = windows(ids, context_size)
        self.centres = torch.as_tensor(centres, dtype=torch.long).to(self.device)
        self.contexts = torch.as_tensor(contexts, dtype=torch.long).to(self.device)
        self.words_per_epoch = int(self.centres.shape[0])
        # The epoch accuracy reads every example (the seed's metric) unless ``eval_examples``
        # caps it to that many evenly spaced ones: on a whole book the full pass costs about
        # as much as a training epoch.
        n = self.words_per_epoch
        self.eval_rows: torch.Tensor | None = None
        if eval_examples is not None and eval_examples < n:
            spaced = torch.linspace(0, n - 1, max(1, eval_examples)).round().long().unique()
            self.eval_rows = spaced.to(self.device)

        # Initial weights drawn from ``generator`` only (the global RNG is left untouched).
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = _build(model_name, vocab_size, dim, context_size, hidden)
        self.model = model.to(device=self.device, dtype=dtype)
        if optimizer == "adam":
            self.optimizer: torch.optim.Optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        else:
            self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)

    # ------------------------------------------------------------------ training

    def step(self, rows: torch.Tensor) -> float:
        """One optimizer step on the examples ``rows``; returns the batch's mean loss. Out of
        memory (``oom`` set by the job), the step is redone in parts whose gradients add up
        to the whole batch's."""
        while True:
            try:
                return self._step(rows, self.oom.size if self.oom else len(rows))
            except Exception as exc:  # noqa: BLE001 - only out-of-memory is retried
                if self.oom is None or not is_oom(exc):
                    raise
                self.optimizer.zero_grad(set_to_none=True)
                self.oom.halve(exc)

    def _step(self, rows: torch.Tensor, size: int) -> float:
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        if size >= len(rows):  # the usual case: one part
            loss = self.model.loss(self.centres[rows], self.contexts[rows])
            loss.backward()
            self.optimizer.step()
            return float(loss.detach())
        total = 0.0
        for i in range(0, len(rows), size):
            part = rows[i : i + size]
            loss = self.model.loss(self.centres[part], self.contexts[part])
            (loss * (len(part) / len(rows))).backward()
            total += float(loss.detach()) * len(part)
        self.optimizer.step()
        return total / len(rows)

    def train_epoch(self, on_batch: Callable[[int, float], None]) -> dict[str, float]:
        """One shuffled pass; ``on_batch(words, loss)`` after every step (may raise Cancelled)."""
        order = torch.randperm(self.words_per_epoch, generator=self.generator).to(self.device)
        total = 0.0
        for start in range(0, self.words_per_epoch, self.batch):
            rows = order[start : start + self.batch]
            loss = self.step(rows)
            total += loss * rows.shape[0]
            on_batch(int(rows.shape[0]), loss)
        self.epoch += 1
        return {"loss": total / self.words_per_epoch, "accuracy": self.accuracy()}

    @torch.no_grad()
    def accuracy(self) -> float:
        """The seed's accuracy over the training examples (see the module docstring)."""
        self.model.eval()
        all_centres, all_contexts = self.centres, self.contexts
        if self.eval_rows is not None:
            all_centres, all_contexts = all_centres[self.eval_rows], all_contexts[self.eval_rows]
        n = int(all_centres.shape[0])
        per_row = 2 * self.context_size * self.vocab_size if self.model_name == "classic" else 1
        chunk = max(1, _EVAL_ELEMENTS // max(per_row, self.vocab_size))
        hits = torch.zeros((), dtype=torch.long, device=self.device)
        for start in range(0, n, chunk):
            centres = all_centres[start : start + chunk]
            contexts = all_contexts[start : start + chunk]
            if self.model_name == "classic":
                hits += multiset_hits(self.model.predict(centres), contexts).sum()
            else:
                hits += (self.model.predict(contexts) == centres).sum()
        denom = n * (2 * self.context_size if self.model_name == "classic" else 1)
        return int(hits) / denom

    @torch.no_grad()
    def guess_context(self, ids: torch.Tensor, k: int) -> torch.Tensor:
        """The predicted context words of each centre id (``engine.words.heldout``):
        ``classic`` the top word of each of its ``2c`` positions, ``cbow`` its ``k`` best."""
        self.model.eval()
        ids = ids.to(self.device)
        if self.model_name == "classic":
            chunk = max(1, _EVAL_ELEMENTS // (self.model.positions * self.vocab_size))
            parts = [self.model.predict(ids[i : i + chunk]) for i in range(0, len(ids), chunk)]
            return torch.cat(parts)
        return top_words(self.model.context_scores, ids, k, self.vocab_size)

    # ------------------------------------------------------------------ queries

    def cpu_model(self) -> nn.Module:
        """A float32 CPU copy of the model in eval mode (safe to use while training goes on)."""
        copy = _build(self.model_name, self.vocab_size, self.dim, self.context_size, self.hidden)
        copy.load_state_dict(
            {k: v.detach().to("cpu", torch.float32) for k, v in self.model.state_dict().items()}
        )
        return copy.eval()

    def predict_context(self, ids: torch.Tensor) -> torch.Tensor:
        """``classic``: the ``2c`` top words per centre id ``[n, 2c]``; ``cbow``: ``[n, 1]``."""
        model = self.model
        ids = torch.as_tensor(ids, dtype=torch.long, device=self.device)
        model.eval()
        with torch.no_grad():
            if self.model_name == "classic":
                return model.predict(ids)
            return model.context_scores(ids).argmax(dim=-1, keepdim=True)

    def embeddings(self, words: list[str], counts: Any = None, name: str = ""):
        """An :class:`~engine.words.query.Embeddings` copy with this model's context predictor."""
        from engine.words.vectors import softmax_embeddings

        if len(words) != self.vocab_size:
            raise UsageError(f"{len(words)} words given for a vocabulary of {self.vocab_size}")
        return softmax_embeddings(self.cpu_model(), words, counts, name or self.model_name)

    # ------------------------------------------------------------------ state

    def _meta(self) -> dict:
        return {
            "model_name": self.model_name,
            "vocab_size": self.vocab_size,
            "dim": self.dim,
            "context_size": self.context_size,
            "hidden": self.hidden,
            "optimizer": self.optimizer_name,
            "words_per_epoch": self.words_per_epoch,
        }

    def state_dict(self) -> dict:
        """Weights, optimizer state, generator state and epoch (``weights_only`` loadable)."""
        return {
            **self._meta(),
            "lr": self.lr,
            "batch": self.batch,
            "epoch": self.epoch,
            "model": {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()},
            "optim": _to_cpu(self.optimizer.state_dict()),
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue exactly where ``state`` left off; a different model shape is a UsageError."""
        mine = self._meta()
        for key, value in mine.items():
            if key in state and state[key] != value:
                raise UsageError(f"checkpoint has {key} {state[key]!r}, this run has {value!r}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optim"])
        self.generator.set_state(state["generator"])
        self.epoch = int(state.get("epoch", 0))
