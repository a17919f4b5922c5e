"""Skip-gram with negative sampling (Mikolov et al. 2013, "Distributed Representations of Words
and Phrases and their Compositionality", https://arxiv.org/abs/1310.4546), as word2vec does it.

- frequent words are subsampled with word2vec's keep probability, redrawn every epoch;
- each centre word gets a reduced window ``b`` drawn uniformly from ``1..window`` (so near
  context words count more);
- negatives come from the unigram distribution raised to 0.75;
- the learning rate decays linearly from ``lr`` to ``lr * 1e-4`` over all epochs.

Why it is fast without autograd: pairs are generated vectorised for a whole batch of centre
words, the gradients of ``log sigmoid(u.v) + sum log sigmoid(-u.n)`` are written out by hand
(one sigmoid per score), negatives are shared by small groups of pairs so they become one
batched matrix product, and updates go straight into the two matrices with ``index_add_`` (only
the touched rows). A row met many times in one batch (``the``, ``and``) has its summed update
scaled down to at most ``row_cap`` single updates, which stands in for the sequential updates
of the C code. Each epoch's randomness comes from a generator seeded by ``(seed, epoch)``, so
resuming from a checkpoint reproduces an uninterrupted run exactly.
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


def epoch_seed(seed: int, epoch: int) -> int:
    """A 63-bit seed for one epoch's generator (independent streams per epoch)."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(2, np.uint64)[0] >> 1)


class SGNSTrainer:
    """Trains SGNS input/output vectors on an int32 id array; same interface as SoftmaxTrainer.

    ``batch`` is the number of centre words per update (each brings about ``window + 1`` pairs).
    ``on_batch(words, loss)`` gets the corpus words the batch covered (before subsampling, so
    the counts add up to :attr:`words_per_epoch`) and the batch's mean loss per pair.
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
        lr: float = 0.025,
        batch: int = 1024,
        epochs: int = 5,
        seed: int = 0,
        device: torch.device | str = "cpu",
        group: int = 32,
        row_cap: int = 32,
    ) -> None:
        self.device = torch.device(device)
        self.vocab_size = vocab_size
        self.dim, self.window, self.negative = dim, window, negative
        self.lr, self.batch, self.epochs, self.seed = lr, batch, epochs, seed
        self.group, self.row_cap = group, row_cap
        self.words_per_epoch = int(len(ids))
        self.ids = torch.from_numpy(np.asarray(ids, dtype=np.int32)).to(self.device)
        keep = keep_probabilities(counts, sample)
        self.keep = torch.tensor(keep, dtype=torch.float32, device=self.device)
        noise = np.asarray(counts, dtype=np.float64) ** 0.75
        self.noise_cdf = torch.tensor(np.cumsum(noise / noise.sum()), device=self.device).float()
        self.noise_cdf[-1] = 1.0
        init = torch.Generator().manual_seed(epoch_seed(seed, 1 << 30))
        w_in = (torch.rand(vocab_size, dim, generator=init) - 0.5) / dim
        self.w_in = w_in.to(self.device)
        self.w_out = torch.zeros(vocab_size, dim, device=self.device)
        self.epoch = 0  # epochs finished
        self._position: tuple | None = None  # inside an epoch: where the next batch starts
        self.oom: BatchSize | None = None  # halves the batch on out-of-memory (the job's)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ training

    def _pairs(self, kept: torch.Tensor, start: int, stop: int, gen: torch.Generator):
        """(centre, context) ids for centres ``kept[start:stop]`` with dynamic windows."""
        pos = torch.arange(start, stop, device=self.device)
        reach = torch.randint(
            1, self.window + 1, (stop - start, 1), generator=gen, device=self.device
        )
        w = self.window
        offsets = torch.cat([torch.arange(-w, 0), torch.arange(1, w + 1)]).to(self.device)
        other = pos.unsqueeze(1) + offsets  # [C, 2w] positions of the context words
        ok = (offsets.abs() <= reach) & (other >= 0) & (other < len(kept))
        # offset-major order: consecutive pairs (which share negatives) have different centres
        col, row = ok.t().nonzero(as_tuple=True)
        return kept[pos[row]].long(), kept[other[row, col]].long()

    def _row_scale(self, rows: torch.Tensor) -> torch.Tensor:
        """Per-occurrence factor that caps a row's summed update at ``row_cap`` updates."""
        seen = torch.bincount(rows, minlength=self.vocab_size)
        return self.row_cap / seen[rows].clamp(min=self.row_cap).float()

    def _step(self, u: torch.Tensor, v: torch.Tensor, lr: float, gen: torch.Generator) -> float:
        """One SGNS update on pairs ``(u, v)``; returns the mean loss per pair."""
        b, k, g, d = len(u), self.negative, self.group, self.dim
        groups = -(-b // g)
        pad = groups * g - b
        if pad:  # repeat a few pairs so the batch splits into whole groups; mask them out
            again = torch.arange(pad, device=u.device) % b
            u = torch.cat([u, u[again]])
            v = torch.cat([v, v[again]])
        draw = torch.rand(groups * k, generator=gen, device=self.device)
        neg = torch.searchsorted(self.noise_cdf, draw).clamp_(max=self.vocab_size - 1)
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
            if pad:
                gp[b:] = 0
                gn.view(-1, k)[b:] = 0
            gp_o = gp
            if self.row_cap:  # scale the coefficients, not the [B, D] gradients
                su = self._row_scale(u)
                gp_o = gp * self._row_scale(v)
                gp = gp * su
                gn_h = gn * su.view(groups, g, 1)
            else:
                gn_h = gn
            grad_h = torch.baddbmm((gp.unsqueeze(1) * o).view(groups, g, d), gn_h, nv).view(-1, d)
            grad_o = gp_o.unsqueeze(1) * h
            grad_n = torch.bmm(gn.transpose(1, 2), hg).view(-1, d)  # [G*K, D]
            self.w_in.index_add_(0, u, grad_h)
            self.w_out.index_add_(0, v, grad_o)
            self.w_out.index_add_(0, neg, grad_n)
        return loss / b

    def train_epoch(self, on_batch: Callable[[int, float], None]) -> dict[str, float]:
        """One pass over the ids; ``on_batch`` may raise ``Cancelled`` between updates.

        After every batch the position in the epoch (next centre, generator state, sums) is
        kept, so a state saved on cancel continues mid-epoch exactly where it stopped.
        """
        epoch = self.epoch
        gen = torch.Generator(device=self.device).manual_seed(epoch_seed(self.seed, epoch))
        draw = torch.rand(len(self.ids), generator=gen, device=self.device)
        where = torch.nonzero(draw < self.keep[self.ids.long()]).squeeze(1)
        kept = self.ids[where]
        total_words = self.epochs * self.words_per_epoch
        done_before = epoch * self.words_per_epoch
        first, raw_done, loss_sum, pairs_sum = 0, 0, 0.0, 0
        if self._position is not None:  # resuming inside this epoch
            first, raw_done, loss_sum, pairs_sum, gen_state = self._position
            gen.set_state(gen_state)
        start = first
        while start < len(kept):
            stop = min(start + self.batch, len(kept))
            raw_end = self.words_per_epoch if stop == len(kept) else int(where[stop])
            progress = (done_before + raw_done) / total_words
            lr = self.lr * max(MIN_LR_FRACTION, 1.0 - progress)
            loss, u = self._update(kept, start, stop, lr, gen)
            if u is None:  # out of memory: the batch was halved, try it again
                continue
            start = stop
            loss_sum += loss * len(u)
            pairs_sum += len(u)
            words, raw_done = raw_end - raw_done, raw_end
            self._position = (stop, raw_done, loss_sum, pairs_sum, gen.get_state())
            on_batch(words, loss)
        if not len(kept) and self.words_per_epoch:
            on_batch(self.words_per_epoch, 0.0)
        self.epoch = epoch + 1
        self._position = None
        return {"loss": loss_sum / max(pairs_sum, 1), "pairs": float(pairs_sum)}

    def _update(self, kept: torch.Tensor, start: int, stop: int, lr: float, gen):
        """One batch's pairs and update: ``(loss, pairs)``, or ``(0, None)`` when memory ran
        out and the batch was halved (``oom``, set by the job, says so in its log)."""
        try:
            u, v = self._pairs(kept, start, stop, gen)
            return (self._step(u, v, lr, gen) if len(u) else 0.0), u
        except Exception as exc:  # noqa: BLE001 - only out-of-memory is retried
            if self.oom is None or not is_oom(exc):
                raise
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
            return self.w_in.detach().to("cpu", copy=True), self.w_out.detach().to("cpu", copy=True)

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
