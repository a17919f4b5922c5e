"""Skip-gram with negative sampling (Mikolov et al. 2013, "Distributed Representations of Words
and Phrases and their Compositionality", https://arxiv.org/abs/1310.4546), as word2vec does it.

- frequent words are subsampled with word2vec's keep probability, redrawn every epoch;
- each centre word gets a reduced window ``b`` drawn uniformly from ``1..window`` (so near
  context words count more); with ``line_starts`` windows stop at line ends, as gensim's do;
- negatives come from the unigram distribution raised to 0.75;
- the learning rate decays linearly from ``lr`` to ``lr * 1e-4`` over all epochs.

One update covers a batch of centre words: all scores are taken from the weights as they were
when the batch began, then all updates are added (batch-synchronous, so the result does not
depend on the order of the work or the number of threads). Negatives are shared by small groups
of pairs, and a row met many times in one batch (``the``, ``and``) has its summed update scaled
down to at most ``row_cap`` single updates, which stands in for the sequential updates of the C
code. The defaults (``batch`` 512 centre words, ``row_cap`` 40, ``lr`` 0.03) are the ones that best
matched or beat gensim on analogies, WordSim353 and SimLex-999 together (docs/benchmarks.md).

Two implementations of one batch:

- ``torch``: tensor operations, gradients written out by hand (one sigmoid per score, negatives
  as one batched matrix product, ``index_add_`` into the touched rows); runs on any device;
- ``numba`` (:mod:`engine.words.sgns_numba`): the same arithmetic as compiled loops, one pass
  per pair, no intermediate tensors, a span of batches (``span`` centre words) per call; the CPU
  default where numba imports. On a CPU the torch version issues about ninety small operations
  per batch, and their fixed costs and memory traffic, not the arithmetic, set its speed.
  It draws a span's reduced windows, then its negatives, so a span of one batch trains on the
  torch path's pairs and negatives.

Each epoch's randomness comes from a generator seeded by ``(seed, epoch)``, so resuming from a
checkpoint reproduces an uninterrupted run exactly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import torch

from engine.errors import UsageError
from engine.memory import BatchSize, is_oom
from engine.words.vocab import keep_probabilities

MIN_LR_FRACTION = 1e-4
KERNELS = ("auto", "numba", "torch")
SPAN = 16384  # centre words per numba call: Python once per ~10 ms, progress and cancel too


def epoch_seed(seed: int, epoch: int, stream: int = 0) -> int:
    """A 63-bit seed for one epoch's generator (independent streams per epoch, and per process
    of a distributed run: ``stream`` is its rank, 0 alone giving one process's draws)."""
    entropy = [seed, epoch, stream] if stream else [seed, epoch]
    return int(np.random.SeedSequence(entropy).generate_state(2, np.uint64)[0] >> 1)


def pick_kernel(kernel: str, device: torch.device) -> str:
    """``numba`` on a CPU where numba imports, else ``torch`` (the only one for a GPU)."""
    if kernel not in KERNELS:
        raise UsageError(f"unknown sgns kernel {kernel!r}; choose one of {', '.join(KERNELS)}")
    if kernel == "torch" or (kernel == "auto" and device.type != "cpu"):
        return "torch"
    if device.type != "cpu":
        raise UsageError(f"the numba kernel runs on the CPU, not on {device.type}")
    try:
        import engine.words.sgns_numba  # noqa: F401
    except (ImportError, OSError) as exc:
        if kernel == "numba":
            raise UsageError(f"the numba kernel is not available here ({exc})") from None
        return "torch"
    return "numba"


def line_numbers(line_starts: np.ndarray, length: int) -> np.ndarray:
    """The line number of each of ``length`` tokens, from the offsets where lines start."""
    starts = np.asarray(line_starts, dtype=np.int64)
    marks = np.bincount(starts[(starts > 0) & (starts < length)], minlength=length)
    return np.cumsum(marks[:length]).astype(np.int32)


class SGNSTrainer:
    """Trains SGNS input/output vectors on an int32 id array; same interface as SoftmaxTrainer.

    ``batch`` is the number of centre words per update (each brings about ``window + 1`` pairs).
    ``on_batch(words, loss)`` gets the corpus words the batch covered (before subsampling, so
    the counts add up to :attr:`words_per_epoch`) and the batch's mean loss per pair.
    ``line_starts`` (offsets in ``ids`` where lines begin) keeps context windows inside a line,
    as gensim's are; without it the ids are one stream. ``kernel`` picks the implementation of
    a batch: ``numba`` (compiled loops, CPU), ``torch`` (tensor operations, any device) or
    ``auto`` (numba on a CPU where it imports); ``span`` is how many centre words (whole
    batches) the numba kernel trains per call, ``on_batch`` hearing of its batches after it.
    ``stream`` (a rank) gives a process of a distributed run its own subsampling and negatives
    over its shard, from the same initial vectors as the others.
    """

    model_name = "sgns"

    def __init__(
        self,
        vocab_size: int,
        ids: np.ndarray,
        counts: np.ndarray,
        *,
        dim: int = 100,
        window: int = 5,
        negative: int = 5,
        sample: float = 1e-3,
        lr: float = 0.03,
        batch: int = 512,
        epochs: int = 5,
        seed: int = 0,
        device: torch.device | str = "cpu",
        group: int = 32,
        row_cap: int = 40,
        line_starts: np.ndarray | None = None,
        kernel: str = "auto",
        stream: int = 0,
        span: int = SPAN,
    ) -> None:
        self.device = torch.device(device)
        self.vocab_size = vocab_size
        self.dim, self.window, self.negative = dim, window, negative
        self.lr, self.batch, self.epochs, self.seed = lr, batch, epochs, seed
        self.group, self.row_cap = group, row_cap
        self.stream = stream  # this process's draws (its rank); the initial vectors are shared
        self.kernel = pick_kernel(kernel, self.device)
        self.words_per_epoch = int(len(ids))
        self.ids = torch.from_numpy(np.asarray(ids, dtype=np.int32)).to(self.device)
        self.line = None
        if line_starts is not None:
            self.line = torch.from_numpy(line_numbers(line_starts, len(ids))).to(self.device)
        keep = keep_probabilities(counts, sample)
        self.keep = torch.tensor(keep, dtype=torch.float32, device=self.device)
        noise = np.asarray(counts, dtype=np.float64) ** 0.75
        self.noise_cdf = torch.tensor(np.cumsum(noise / noise.sum()), device=self.device).float()
        # log P(c | w) = v_in . v_out + log(k P_noise(c)) at SGNS's optimum (Levy & Goldberg
        # 2014, with word2vec's smoothed noise); pairs were drawn from the subsampled corpus,
        # so a context word's keep probability is divided back out
        prior = np.log(noise / noise.sum()) - np.log(np.maximum(keep, 1e-12))
        self.log_prior = torch.tensor(prior, dtype=torch.float32, device=self.device)
        self.noise_cdf[-1] = 1.0
        self._noise_cdf_np = self.noise_cdf.cpu().numpy()
        init = torch.Generator().manual_seed(epoch_seed(seed, 1 << 30))
        w_in = (torch.rand(vocab_size, dim, generator=init) - 0.5) / dim
        self.w_in = w_in.to(self.device)
        self.w_out = torch.zeros(vocab_size, dim, device=self.device)
        offsets = torch.cat([torch.arange(-window, 0), torch.arange(1, window + 1)])
        self._offsets = offsets.to(self.device)
        self.span = span  # centre words per call of the numba kernel (whole batches)
        self._kernel = None  # the numba kernel's buffers, made on first use
        self.epoch = 0  # epochs finished
        self._position: tuple | None = None  # inside an epoch: where the next batch starts
        self.oom: BatchSize | None = None  # halves the batch on out-of-memory (the job's)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ random draws

    def _reach(self, centres: int, gen: torch.Generator) -> torch.Tensor:
        """Each centre's reduced window, uniform in ``1..window`` (word2vec's dynamic window)."""
        return torch.randint(1, self.window + 1, (centres, 1), generator=gen, device=self.device)

    def _negatives(self, groups: int, gen: torch.Generator) -> torch.Tensor:
        """``negative`` ids per group of pairs, drawn from the unigram^0.75 distribution."""
        draw = torch.rand(groups * self.negative, generator=gen, device=self.device)
        return torch.searchsorted(self.noise_cdf, draw).clamp_(max=self.vocab_size - 1)

    # ------------------------------------------------------------------ training, torch

    def _pairs(self, kept: torch.Tensor, start: int, stop: int, gen: torch.Generator, line=None):
        """(centre, context) ids for centres ``kept[start:stop]`` with dynamic windows."""
        pos = torch.arange(start, stop, device=self.device)
        reach = self._reach(stop - start, gen)
        other = pos.unsqueeze(1) + self._offsets  # [C, 2w] positions of the context words
        ok = (self._offsets.abs() <= reach) & (other >= 0) & (other < len(kept))
        if line is not None:  # windows stop at line ends
            ok &= line[other.clamp(0, len(kept) - 1)] == line[pos].unsqueeze(1)
        # offset-major order: consecutive pairs (which share negatives) have different centres
        col, row = ok.t().nonzero(as_tuple=True)
        return kept[pos[row]].long(), kept[other[row, col]].long()

    def _row_scale(self, rows: torch.Tensor) -> torch.Tensor:
        """Per-occurrence factor that caps a row's summed update at ``row_cap`` updates."""
        seen = torch.bincount(rows, minlength=self.vocab_size)
        return self.row_cap / seen[rows].clamp(min=self.row_cap).float()

    def _step(self, u: torch.Tensor, v: torch.Tensor, lr: float, gen: torch.Generator) -> float:
        """One SGNS update on pairs ``(u, v)`` with tensor operations; the mean loss per pair."""
        b, k, g, d = len(u), self.negative, self.group, self.dim
        groups = -(-b // g)
        ones = torch.ones(b, device=u.device)
        su, sv = (self._row_scale(u), self._row_scale(v)) if self.row_cap else (ones, ones)
        pad = groups * g - b
        if pad:  # repeat a few pairs so the batch splits into whole groups; mask them out
            again = torch.arange(pad, device=u.device) % b
            u, v = torch.cat([u, u[again]]), torch.cat([v, v[again]])
            su = torch.cat([su, torch.zeros(pad, device=u.device)])
            sv = torch.cat([sv, torch.zeros(pad, device=u.device)])
        neg = self._negatives(groups, gen)
        with self._lock:
            h = self.w_in.index_select(0, u)  # [B, D]
            o = self.w_out.index_select(0, v)  # [B, D]
            nv = self.w_out.index_select(0, neg).view(groups, k, d)  # [G, K, D]
            sp = torch.sigmoid((h * o).sum(1))  # [B]
            hg = h.view(groups, g, d)
            sn = torch.sigmoid(torch.bmm(hg, nv.transpose(1, 2)))  # [G, g, K]
            # -log(sp * prod(1 - sn)): one log per pair instead of one per score
            likelihood = sp.view(groups, g) * (1.0 - sn).prod(-1)
            loss = -torch.log(likelihood.flatten()[:b].clamp_min(1e-30)).sum().item()
            gp = (1.0 - sp).mul_(lr)  # d/d(score) of log sigmoid(score), times lr
            gn = sn.mul_(-lr)  # d/d(score) of log sigmoid(-score), times lr
            if pad:  # padded pairs: no negative update (su, sv are 0 there already)
                gn.view(-1, k)[b:] = 0
            # the row cap scales the coefficients, not the [B, D] gradients
            gn_h = gn * su.view(groups, g, 1)
            grad_h = torch.baddbmm(((gp * su).unsqueeze(1) * o).view(groups, g, d), gn_h, nv)
            self.w_in.index_add_(0, u, grad_h.view(-1, d))
            self.w_out.index_add_(0, v, (gp * sv).unsqueeze(1) * h)
            self.w_out.index_add_(0, neg, torch.bmm(gn.transpose(1, 2), hg).view(-1, d))
        return loss / b

    def _batch_torch(self, kept, line, start: int, stop: int, lrs: np.ndarray, gen) -> tuple:
        """One batch: its mean loss per pair and its pair count (as one-element arrays)."""
        u, v = self._pairs(kept, start, stop, gen, line)
        loss = self._step(u, v, float(lrs[0]), gen) if len(u) else 0.0
        return np.array([loss]), np.array([len(u)])

    # ------------------------------------------------------------------ training, numba

    def _padded(self) -> tuple[np.ndarray, np.ndarray]:
        """The vectors with rows padded to whole cache lines, for the numba kernel; ``w_in`` and
        ``w_out`` become (or stay) ``[vocab, dim]`` views of them."""
        from engine.words.sgns_numba import padded

        self.w_in, w_in = padded(self.w_in, self._kernel.width)
        self.w_out, w_out = padded(self.w_out, self._kernel.width)
        return w_in, w_out

    def _span_numba(self, kept, line, start: int, stop: int, lrs: np.ndarray, gen) -> tuple:
        """The batches of ``kept[start:stop]`` in one compiled call: reaches for the span, then
        negatives for all its groups (a span of one batch draws what the torch path does)."""
        if self._kernel is None:
            from engine.words.sgns_numba import SpanKernel, padded_width

            self._kernel = SpanKernel(
                self.vocab_size, padded_width(self.dim), self.negative, self.group, self.row_cap
            )
        kernel = self._kernel
        reach = self._reach(stop - start, gen).numpy()
        pairs = kernel.pairs(kept, line, start, stop, self.batch, reach, self.window)
        groups = int((-(-pairs // self.group)).sum())
        draw = torch.rand(groups * self.negative, generator=gen).numpy()
        neg = np.minimum(np.searchsorted(self._noise_cdf_np, draw), self.vocab_size - 1)
        threads = torch.get_num_threads()
        with self._lock:
            w_in, w_out = self._padded()
            losses = kernel.train(w_in, w_out, kept, start, stop, self.batch, neg, lrs, threads)
        return losses / np.maximum(pairs, 1), pairs

    def _chunk(self, start: int) -> int:
        """Where the next call's centres end: a span for numba, a batch for torch."""
        if self.kernel == "numba":
            return start + max(1, self.span // self.batch) * self.batch
        return start + self.batch

    def train_epoch(self, on_batch: Callable[[int, float], None]) -> dict[str, float]:
        """One pass over the ids; ``on_batch`` may raise ``Cancelled`` between updates.

        The numba kernel trains a span of batches per call, then ``on_batch`` hears of each of
        them. After every call the position in the epoch (next centre, generator state, sums)
        is kept first, so a state saved on cancel continues exactly where it stopped.
        """
        epoch = self.epoch
        gen = torch.Generator(device=self.device).manual_seed(
            epoch_seed(self.seed, epoch, self.stream)
        )
        draw = torch.rand(len(self.ids), generator=gen, device=self.device)
        where = torch.nonzero(draw < self.keep[self.ids.long()]).squeeze(1)
        kept = self.ids[where]
        line = None if self.line is None else self.line[where]
        chunk_fn = self._batch_torch
        if self.kernel == "numba":
            chunk_fn = self._span_numba
            kept, line = kept.numpy(), (np.zeros(0, np.int32) if line is None else line.numpy())
        # corpus words before each kept centre's batch ends (the last batch: the whole epoch)
        raw_ends = np.append(where.cpu().numpy()[1:], self.words_per_epoch)
        total_words = self.epochs * self.words_per_epoch
        done_before = epoch * self.words_per_epoch
        first, raw_done, loss_sum, pairs_sum = 0, 0, 0.0, 0
        if self._position is not None:  # resuming inside this epoch
            first, raw_done, loss_sum, pairs_sum, gen_state = self._position
            gen.set_state(gen_state)
        start = first
        while start < len(kept):
            stop = min(self._chunk(start), len(kept))
            ends = raw_ends[np.minimum(np.arange(start, stop, self.batch) + self.batch, stop) - 1]
            before = np.concatenate([[raw_done], ends[:-1]])
            lrs = self.lr * np.maximum(MIN_LR_FRACTION, 1.0 - (done_before + before) / total_words)
            losses, pairs = self._update(chunk_fn, kept, line, start, stop, lrs, gen)
            if pairs is None:  # out of memory: the batch was halved, try it again
                continue
            start = stop
            loss_sum += float((losses * pairs).sum())
            pairs_sum += int(pairs.sum())
            self._position = (stop, int(ends[-1]), loss_sum, pairs_sum, gen.get_state())
            for words, loss in zip(np.diff(ends, prepend=raw_done), losses, strict=True):
                on_batch(int(words), float(loss))
            raw_done = int(ends[-1])
        if not len(kept) and self.words_per_epoch:
            on_batch(self.words_per_epoch, 0.0)
        self.epoch = epoch + 1
        self._position = None
        return {"loss": loss_sum / max(pairs_sum, 1), "pairs": float(pairs_sum)}

    def _update(self, chunk_fn, kept, line, start: int, stop: int, lrs, gen):
        """One call's update: ``(losses, pairs)`` per batch, or ``(0, None)`` when memory ran
        out and the batch was halved (``oom``, set by the job, says so in its log); the
        generator is put back so the retried halves draw what an uninterrupted run would."""
        state = gen.get_state()
        try:
            return chunk_fn(kept, line, start, stop, lrs, gen)
        except Exception as exc:  # noqa: BLE001 - only out-of-memory is retried
            if self.oom is None or not is_oom(exc):
                raise
            gen.set_state(state)
            self.oom.halve(exc)
            self.batch = self.oom.size
            return 0.0, None

    @property
    def words_done_in_epoch(self) -> int:
        """Corpus words of the current epoch already trained (0 between epochs)."""
        return 0 if self._position is None else int(self._position[1])

    # ------------------------------------------------------------------ results, state

    def vectors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """CPU copies of the input and output vectors (safe while training in another thread)."""
        with self._lock:
            return tuple(  # type: ignore[return-value]
                w.detach().to("cpu", copy=True, memory_format=torch.contiguous_format)
                for w in (self.w_in, self.w_out)
            )

    @torch.no_grad()
    def guess_context(self, ids: torch.Tensor, k: int) -> torch.Tensor:
        """The ``k`` likeliest context words of each centre id by the model's own estimate of
        ``log P(c | w)``: ``v_in . v_out`` plus the context word's log prior (see above;
        ``v_in . v_out`` alone is a PMI and ranks rare words first)."""
        from engine.words.models import top_words

        w_in, w_out, prior = self.w_in, self.w_out, self.log_prior
        with self._lock:
            return top_words(
                lambda rows: w_in[rows] @ w_out.T + prior, ids.to(self.device), k, self.vocab_size
            )

    def embeddings(self, words: list[str], counts=None, name: str = ""):
        from engine.words.vectors import sgns_embeddings

        return sgns_embeddings(*self.vectors(), words, counts, name)

    def _meta(self) -> dict:
        return {
            "vocab_size": self.vocab_size,
            "dim": self.dim,
            "words_per_epoch": self.words_per_epoch,
        }

    def state_dict(self) -> dict:
        """Weights, finished epochs and (mid-epoch) the position; ``weights_only`` loadable."""
        w_in, w_out = self.vectors()
        state = {"model": "sgns", **self._meta(), "w_in": w_in, "w_out": w_out, "epoch": self.epoch}
        if self._position is not None:
            start, raw_done, loss_sum, pairs_sum, gen_state = self._position
            state["position"] = {
                "start": start, "raw_done": raw_done, "loss_sum": loss_sum,
                "pairs_sum": pairs_sum, "generator": gen_state.cpu(),
            }  # fmt: skip
        return state

    def load_state_dict(self, state: dict) -> None:
        for key, value in self._meta().items():
            if key in state and state[key] != value:
                raise UsageError(f"checkpoint has {key} {state[key]!r}, this run has {value!r}")
        with self._lock:
            self.w_in.copy_(state["w_in"].to(self.device))
            self.w_out.copy_(state["w_out"].to(self.device))
            self.epoch = int(state["epoch"])
            pos = state.get("position")
            self._position = None
            if pos is not None:
                self._position = (
                    int(pos["start"]), int(pos["raw_done"]), float(pos["loss_sum"]),
                    int(pos["pairs_sum"]), pos["generator"],
                )  # fmt: skip
