"""The SGNS batch update as three compiled loops (numba), for the CPU.

The torch implementation in :mod:`engine.words.sgns` spends most of a CPU batch issuing about
ninety small tensor operations and streaming their intermediates through memory; these loops do
the same arithmetic in one pass over each pair, as gensim does with Cython. The update is the
same batch-synchronous one (all scores from the weights as they were when the batch began, then
all updates), so the result does not depend on how the work is split between threads:

- :func:`scores` (split by negative groups): scores, loss, gradient coefficients, and each
  pair's input-vector gradient into a buffer;
- :func:`apply` (split by columns): the output-vector updates, which read the input vectors,
  then the input-vector updates; a thread only writes, and only reads back, its own columns.

Pairs come from :func:`pairs` in the torch path's order (offset-major), from the same random
draws, so both paths train on the same pairs and negatives.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

_JIT = {"nogil": True, "cache": True}


@nb.njit(**_JIT)
def pairs(kept, line, start, stop, reach, window, u, v):
    """Write the (centre, context) ids for centres ``kept[start:stop]``; return how many.

    Offset-major order (all offset -w pairs, then -w+1, ...), as the torch path; a context
    must be within the centre's ``reach`` and, when ``line`` is not empty, on its line.
    """
    n = len(kept)
    by_line = len(line) > 0
    count = 0
    for o in range(-window, window + 1):
        if o == 0:
            continue
        a = abs(o)
        for c in range(start, stop):
            j = c + o
            if a <= reach[c - start] and 0 <= j < n and (not by_line or line[j] == line[c]):
                u[count] = kept[c]
                v[count] = kept[j]
                count += 1
    return count


@nb.njit(**_JIT)
def row_scales(rows, count, seen, cap, out):
    """``out[p] = cap / max(cap, times rows[p] occurs)``; ``seen`` is all zero before and after."""
    for p in range(count):
        seen[rows[p]] += 1
    for p in range(count):
        out[p] = cap / max(seen[rows[p]], cap)
    for p in range(count):
        seen[rows[p]] = 0


@nb.njit(fastmath=True, **_JIT)
def scores(w_in, w_out, u, v, count, neg, group, lr, su, g_lo, g_hi, gp, gn, gh):
    """Groups ``g_lo:g_hi``: coefficients ``gp``/``gn``, input gradients ``gh``; the loss sum.

    ``gp[p] = lr * (1 - sigmoid(u.v))``, ``gn[p, j] = -lr * sigmoid(u.n_j)``; ``gh[p]`` is
    the input vector's step scaled by ``su[p]`` (the row cap).
    """
    dim = w_in.shape[1]
    k = gn.shape[1]
    loss = 0.0
    for g in range(g_lo, g_hi):
        for p in range(g * group, min(g * group + group, count)):
            h = w_in[u[p]]
            o = w_out[v[p]]
            s = np.float32(0.0)
            for d in range(dim):
                s += h[d] * o[d]
            sp = 1.0 / (1.0 + math.exp(-s))
            likelihood = sp
            gp[p] = (1.0 - sp) * lr
            a = np.float32(gp[p] * su[p])
            row = gh[p]
            for d in range(dim):
                row[d] = a * o[d]
            for j in range(k):
                n = w_out[neg[g * k + j]]
                s = np.float32(0.0)
                for d in range(dim):
                    s += h[d] * n[d]
                sn = 1.0 / (1.0 + math.exp(-s))
                likelihood *= 1.0 - sn
                gn[p, j] = -sn * lr
                c = np.float32(gn[p, j] * su[p])
                for d in range(dim):
                    row[d] += c * n[d]
            loss -= math.log(max(likelihood, 1e-30))
    return loss


@nb.njit(fastmath=True, **_JIT)
def apply(w_in, w_out, u, v, count, neg, group, gp, gn, gh, sv, c_lo, c_hi):
    """Columns ``c_lo:c_hi``: output-vector updates (reading input vectors), then input ones.

    Rows are sliced to the columns first: indexing a whole row with ``d`` from an unknown
    ``c_lo`` costs a negative-index check per element and runs four times slower.
    """
    k = gn.shape[1]
    width = c_hi - c_lo
    acc = np.empty(width, np.float32)
    for p in range(count):
        a = np.float32(gp[p] * sv[p])
        h = w_in[u[p], c_lo:c_hi]
        o = w_out[v[p], c_lo:c_hi]
        for d in range(width):
            o[d] += a * h[d]
    for g in range((count + group - 1) // group):
        for j in range(k):  # a negative's step summed over its group, then added once
            acc[:] = 0
            for p in range(g * group, min(g * group + group, count)):
                c = gn[p, j]
                h = w_in[u[p], c_lo:c_hi]
                for d in range(width):
                    acc[d] += c * h[d]
            n = w_out[neg[g * k + j], c_lo:c_hi]
            for d in range(width):
                n[d] += acc[d]
    for p in range(count):
        h = w_in[u[p], c_lo:c_hi]
        row = gh[p, c_lo:c_hi]
        for d in range(width):
            h[d] += row[d]


def _spans(total: int, parts: int, align: int = 1) -> list[tuple[int, int]]:
    """``parts`` contiguous ranges covering ``0:total``, boundaries rounded to ``align``."""
    cuts = [min(total, round(total * i / parts / align) * align) for i in range(parts + 1)]
    cuts[-1] = total
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


class FusedStep:
    """Buffers for one batch's pairs and gradients, and the batch update split over threads.

    Threads: as many as ``torch.get_num_threads()``; the calling thread does the first share
    and a small pool the rest (the loops release the GIL).
    """

    def __init__(self, vocab_size: int, dim: int, negative: int, group: int, row_cap: int) -> None:
        self.dim, self.negative, self.group, self.row_cap = dim, negative, group, row_cap
        self.seen = np.zeros(vocab_size, dtype=np.int32)
        self.count = 0
        self._grow(1024)

    def _grow(self, size: int) -> None:
        """Room for ``size`` pairs (their ids, coefficients and input-vector gradients)."""
        dim = self.dim
        self.u = np.empty(size, np.int32)
        self.v = np.empty(size, np.int32)
        self.gp = np.empty(size, np.float32)
        self.gn = np.empty((size, self.negative), np.float32)
        self.gh = np.empty((size, dim), np.float32)
        self.su = np.ones(size, np.float32)
        self.sv = np.ones(size, np.float32)

    def negatives(self, cdf: np.ndarray, draw: np.ndarray) -> np.ndarray:
        """``torch.searchsorted(cdf, draw)`` (the same ids), without a torch call per batch."""
        return np.minimum(np.searchsorted(cdf, draw), len(cdf) - 1).astype(np.int32)

    def pairs(self, kept, line, start: int, stop: int, reach, window: int) -> int:
        """Make the batch's pairs in the buffers; how many there are."""
        most = (stop - start) * 2 * window
        if most > len(self.u):
            self._grow(2 * most)
        self.count = pairs(kept, line, start, stop, reach.reshape(-1), window, self.u, self.v)
        return self.count

    def step(self, w_in: np.ndarray, w_out: np.ndarray, neg: np.ndarray, lr: float) -> float:
        """Update ``w_in``/``w_out`` in place with the batch's pairs; the summed loss."""
        import torch

        count, group, dim = self.count, self.group, self.dim
        if self.row_cap:
            row_scales(self.u, count, self.seen, self.row_cap, self.su)
            row_scales(self.v, count, self.seen, self.row_cap, self.sv)
        neg = neg.astype(np.int32, copy=False)
        threads = max(1, torch.get_num_threads())
        groups = (count + group - 1) // group
        args = (w_in, w_out, self.u, self.v, count, neg, group)
        losses = _run([
            (scores, (*args, lr, self.su, lo, hi, self.gp, self.gn, self.gh))
            for lo, hi in _spans(groups, threads)
        ])  # fmt: skip
        _run([
            (apply, (*args, self.gp, self.gn, self.gh, self.sv, lo, hi))
            for lo, hi in _spans(dim, threads, align=16)
        ])  # fmt: skip
        return float(sum(losses))


_pool = None


def _run(calls: list) -> list:
    """Run ``(function, args)`` calls at once: the first here, the others on the pool."""
    global _pool
    if len(calls) == 1:
        fn, args = calls[0]
        return [fn(*args)]
    from concurrent.futures import ThreadPoolExecutor

    if _pool is None or _pool._max_workers < len(calls) - 1:
        _pool = ThreadPoolExecutor(len(calls) - 1, thread_name_prefix="sgns")
    futures = [_pool.submit(fn, *args) for fn, args in calls[1:]]
    fn, args = calls[0]
    return [fn(*args)] + [f.result() for f in futures]
