"""SGNS over several processes: post-local SGD (Lin et al. 2020, "Don't Use Large Mini-Batches,
Use Local SGD", https://arxiv.org/abs/1808.07217) with PyTorch's ``PeriodicModelAverager``.

Each rank trains its own copy of the input and output vectors on its contiguous shard of the
corpus, and every ``average_every`` batches the copies are averaged over the ranks (one
``all_reduce`` of ``2 x vocab x dim`` floats), and once more at the end of each epoch, so every
rank holds the same vectors before the evaluation.

The ranks' shards are subsampled on their own, so they hold slightly different numbers of
batches; the averages are therefore paced by the share of the shard done, not the batch count:
an epoch is ``steps`` "virtual batches" for every rank (the expected subsampled words of a
shard over the batch size), and a rank passes the averager one step per ``1/steps`` of its
shard. Every rank thus calls the averager the same number of times and the collectives pair up.

The average is scaled back to the sum of the ranks' updates since the last one
(``anchor + world x (mean - anchor)``): a word that one shard alone met keeps its whole step,
as in one process, instead of half of it. The plain mean halves the learning rate of the rare
words: on english-mix's first 1M words, 2 epochs, 2 processes averaging every 64 batches,
WordSim353 fell from 0.19 (summed; one process 0.16-0.18) to 0.11, analogies from 1.3% to 1.0%.

A cancel seen by one rank rides in the averaged buffer as a flag, so every rank stops at the
same average and none waits for another in a collective.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from engine.distributed import Peers
from engine.jobs import Cancelled


def virtual_steps(keep: np.ndarray, ids: np.ndarray, world: int, batch: int) -> int:
    """Averager steps per epoch: a shard's expected subsampled words over the batch size."""
    expected = float(np.sum(keep[ids], dtype=np.float64))
    return max(1, int(expected // max(world * batch, 1)))


class Averaging:
    """The averages of one rank's trainer (nothing at all in a single process)."""

    def __init__(self, trainer: Any, group: Peers, every: int, steps: int, summed: bool = True):
        from torch.distributed.algorithms.model_averaging.averagers import (
            PeriodicModelAverager,
        )

        self.trainer, self.group, self.steps, self.summed = trainer, group, steps, summed
        self.stopping = False  # this rank saw a cancel; the next average tells the others
        self.done = 0  # averager steps taken in this epoch
        self.averages = 0
        self.flag = torch.zeros(1, device=trainer.device)
        self.anchor: list[torch.Tensor] = []
        if group.world > 1:
            with warnings.catch_warnings():  # period 1 is allowed; its advice is for DDP
                warnings.simplefilter("ignore")
                self.averager = PeriodicModelAverager(period=every, warmup_steps=0)
            self.anchor = [trainer.w_in.clone(), trainer.w_out.clone()]

    @property
    def bytes_per_average(self) -> int:
        """What one rank sends and receives per average (the vectors and the flag, float32)."""
        t = self.trainer
        return (t.w_in.numel() + t.w_out.numel() + 1) * 4

    def after_batch(self) -> None:
        """The averager steps due after a batch (none in a single process)."""
        if self.group.world == 1:
            return
        t = self.trainer
        due = min(self.steps, self.steps * t.words_done_in_epoch // max(t.words_per_epoch, 1))
        while self.done < due:
            self._step()

    def epoch_end(self, metrics: dict[str, float]) -> dict[str, float]:
        """The epoch's last steps, its loss over all ranks, and one more average, so every rank
        evaluates and saves the same vectors; raises Cancelled when any rank stopped."""
        if self.group.world == 1:
            return metrics
        while self.done < self.steps:
            self._step()
        self.done = 0
        pairs = metrics.get("pairs", 0.0)
        (loss, pairs), stop = self.group.reduce([metrics["loss"] * pairs, pairs], self.stopping)
        if stop:
            raise Cancelled()
        self._average()
        return {**metrics, "loss": loss / max(pairs, 1.0), "pairs": pairs}

    def _step(self) -> None:
        """One averager step: the averager averages on every ``period``-th."""
        a = self.averager
        due = a.step >= a.warmup_steps and (a.step - a.warmup_steps) % a.period == 0
        self.done += 1
        if due:
            self._average(a.average_parameters)  # which counts the step
        else:
            a.step += 1

    def _average(self, average: Any = None) -> None:
        """All ranks' vectors averaged (by ``average``, the averager's call; at an epoch's end
        its all_reduce alone), then scaled back to the sum of their updates; raises Cancelled
        when any rank stopped."""
        from torch.distributed.algorithms.model_averaging import utils

        t, world = self.trainer, self.group.world
        self.flag.fill_(float(self.stopping))
        with t._lock:
            params = [t.w_in, t.w_out, self.flag]
            if average is None:
                utils.average_parameters(iter(params), None)
            else:
                average([{"params": _marked(params)}])
            if self.summed:
                for w, anchor in zip((t.w_in, t.w_out), self.anchor, strict=True):
                    w.sub_(anchor).mul_(world).add_(anchor)
                    anchor.copy_(w)
        self.averages += 1
        if float(self.flag) > 0:
            raise Cancelled()


def _marked(params: list[torch.Tensor]) -> list[torch.Tensor]:
    """The averager takes an optimizer's parameter groups and skips the parameters without a
    gradient; plain tensors updated in place get a zero-strided stand-in (no memory)."""
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros((), dtype=p.dtype, device=p.device).expand(p.shape)
    return params
