"""The SGNS update as compiled loops (numba), for the CPU, a span of batches per call.

The torch implementation in :mod:`engine.words.sgns` spends most of a CPU batch issuing about
ninety small tensor operations and streaming their intermediates through memory; the loops of
:mod:`engine.words.sgns_loops` do the same arithmetic in one pass over each pair, as gensim does
with Cython, and one call here trains a whole span of batches (about 16k centre words), so
Python runs once per span, not per batch. Each batch is the two phases of
:mod:`engine.words.sgns_loops`, with a hand-off between threads after each.

Rows are padded to a whole number of 64-byte cache lines (:func:`padded_width`): two threads
writing the two halves of one row would otherwise share the line in the middle and pass it
back and forth on every update (false sharing), which made a second thread slower than none.
Padding columns are zero and stay zero (every update is a sum of products with them).

Threads: numba's ``prange`` on its OpenMP (or TBB) layer, whose hand-off costs about a
microsecond; without one of those (only the ``workqueue`` layer, which must not be entered from
two threads at once) the serial loop runs. Pairs come from :func:`span_pairs` in the torch
path's order (offset-major within a batch), so a span of one batch trains on the pairs and
negatives the torch path draws.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from engine.words.sgns_loops import JIT as _JIT
from engine.words.sgns_loops import apply, scores

LINE_FLOATS = 16  # float32 values in a 64-byte cache line


def padded_width(dim: int) -> int:
    """Row length in floats: ``dim`` rounded up to whole cache lines."""
    return -(-dim // LINE_FLOATS) * LINE_FLOATS


@nb.njit(**_JIT)
def span_pairs(kept, line, first, stop, batch, reach, window, u, v, slot, bounds):
    """Pairs of the batches ``kept[first:stop]`` (``batch`` centres each); how many batches.

    Offset-major order within a batch (all offset -w pairs, then -w+1, ...), as the torch path;
    a context must be within the centre's ``reach`` and, when ``line`` is not empty, on its
    line. ``slot`` is the centre's place in its batch; batch ``b``'s pairs are
    ``bounds[b]:bounds[b + 1]``.
    """
    n = len(kept)
    by_line = len(line) > 0
    count = 0
    batches = 0
    for c0 in range(first, stop, batch):
        c1 = min(c0 + batch, stop)
        bounds[batches] = count
        batches += 1
        for o in range(-window, window + 1):
            if o == 0:
                continue
            a = abs(o)
            for c in range(c0, c1):
                j = c + o
                if a <= reach[c - first] and 0 <= j < n and (not by_line or line[j] == line[c]):
                    u[count] = kept[c]
                    v[count] = kept[j]
                    slot[count] = c - c0
                    count += 1
    bounds[batches] = count
    return batches


@nb.njit(**_JIT)
def row_scales(rows, lo, hi, seen, cap, out):
    """``out[p] = cap / max(cap, times rows[p] occurs in lo:hi)``; ``seen`` is zero before/after."""
    for p in range(lo, hi):
        seen[rows[p]] += 1
    for p in range(lo, hi):
        out[p] = cap / max(seen[rows[p]], cap)
    for p in range(lo, hi):
        seen[rows[p]] = 0


@nb.njit(**_JIT)
def _batch_start(b, first, stop, batch, bounds, row_cap, buffers):
    """Batch ``b``'s first centre, its centre count and its pair range; its row-cap scales."""
    u, v, _, su, sv, _, _, _, seen, _, _, _ = buffers
    p0, p1 = bounds[b], bounds[b + 1]
    c0 = first + b * batch
    if row_cap > 0:
        row_scales(u, p0, p1, seen, row_cap, su)
        row_scales(v, p0, p1, seen, row_cap, sv)
    return c0, min(batch, stop - c0), p0, p1


@nb.njit(**_JIT)
def _cut(total, t, threads, align):
    """Where thread ``t``'s part of ``0:total`` starts, rounded to ``align`` (``total`` when
    ``t == threads``); thread ``t`` takes ``_cut(.., t, ..):_cut(.., t + 1, ..)``."""
    if t >= threads:
        return total
    return min(total, (total * t // threads + align // 2) // align * align)


@nb.njit(**_JIT)
def train_serial(w_in, w_out, kept, first, stop, batch, batches, bounds, neg, group, lrs, row_cap,
                 buffers, losses):  # fmt: skip
    """The span's batches one after the other on this thread; the number of groups used."""
    u, v, slot, su, sv, gp, gn, acc, seen, sc, sel, tmp = buffers
    g_first = 0
    for b in range(batches):
        c0, centres, p0, p1 = _batch_start(b, first, stop, batch, bounds, row_cap, buffers)
        losses[b] = scores(w_in, w_out, u, v, slot, p0, p1, neg, g_first, group, lrs[b], su,
                           0, centres, gp, gn, acc, sc[0], sel[0])  # fmt: skip
        apply(w_in, w_out, kept, c0, centres, u, v, p0, p1, neg, g_first, group, gp, gn, sv, acc,
              0, w_in.shape[1], tmp[0])  # fmt: skip
        g_first += (p1 - p0 + group - 1) // group
    return g_first


@nb.njit(parallel=True, **_JIT)
def train_parallel(w_in, w_out, kept, first, stop, batch, batches, bounds, neg, group, lrs,
                   row_cap, buffers, losses, threads):  # fmt: skip
    """The span's batches, each phase split over ``threads`` (two hand-offs per batch)."""
    u, v, slot, su, sv, gp, gn, acc, seen, sc, sel, tmp = buffers
    width = w_in.shape[1]
    part = np.zeros(threads)
    g_first = 0
    for b in range(batches):
        c0, centres, p0, p1 = _batch_start(b, first, stop, batch, bounds, row_cap, buffers)
        for t in nb.prange(threads):
            lo, hi = _cut(centres, t, threads, 1), _cut(centres, t + 1, threads, 1)
            part[t] = scores(w_in, w_out, u, v, slot, p0, p1, neg, g_first, group, lrs[b], su,
                             lo, hi, gp, gn, acc, sc[t], sel[t])  # fmt: skip
        for t in nb.prange(threads):
            lo, hi = _cut(width, t, threads, LINE_FLOATS), _cut(width, t + 1, threads, LINE_FLOATS)
            if hi > lo:
                apply(w_in, w_out, kept, c0, centres, u, v, p0, p1, neg, g_first, group, gp, gn,
                      sv, acc, lo, hi, tmp[t])  # fmt: skip
        losses[b] = part.sum()
        g_first += (p1 - p0 + group - 1) // group
    return g_first


@nb.njit(parallel=True, **_JIT)
def _probe(out):
    for t in nb.prange(len(out)):
        out[t] = t


_parallel: bool | None = None


def parallel_available() -> bool:
    """Whether a thread-safe parallel layer (OpenMP or TBB) runs here; tried once."""
    global _parallel
    if _parallel is None:
        import os

        if "NUMBA_THREADING_LAYER" not in os.environ:
            nb.config.THREADING_LAYER = "threadsafe"
        try:
            _probe(np.zeros(2))
            _parallel = nb.threading_layer() in ("omp", "tbb")
        except (ValueError, RuntimeError, ImportError, OSError):
            _parallel = False
    return _parallel


def padded(w, width: int):
    """``w`` (a ``[rows, dim]`` float32 CPU tensor) and its rows as ``width`` floats each, the
    padding zero: ``(w, array)`` when ``w`` already is a view of such rows (64-byte aligned),
    else ``(a new view, array)`` over a padded copy. Loading a state copies into ``w``; the
    distributed averaging may give it other data, so the check runs before every call."""
    import torch

    rows, dim = w.shape
    room = w.untyped_storage().nbytes() >= (w.storage_offset() + rows * width) * w.element_size()
    if not (w.stride() == (width, 1) and w.data_ptr() % 64 == 0 and room):
        store = torch.zeros(rows, width)
        store[:, :dim] = w
        w = store[:, :dim]
    return w, w.as_strided((rows, width), (width, 1)).numpy()


class SpanKernel:
    """Buffers for a span's pairs, coefficients and per-centre steps; trains one span a call.

    Threads: as many as asked (``torch.get_num_threads()`` in the trainer), where a parallel
    layer exists (:func:`parallel_available`).
    """

    def __init__(self, vocab_size: int, width: int, negative: int, group: int, row_cap: int):
        self.width, self.negative, self.group, self.row_cap = width, negative, group, row_cap
        self.seen = np.zeros(vocab_size, dtype=np.int32)
        self.batches = 0
        self._pairs = self._centres = self._threads = 0

    def _room(self, pairs: int, centres: int, threads: int) -> None:
        """Buffers for ``pairs`` pairs, batches of ``centres`` and ``threads`` threads."""
        if pairs > self._pairs:
            self._pairs = pairs
            self.u, self.v, self.slot = (np.empty(pairs, np.int32) for _ in range(3))
            self.su, self.sv = np.ones(pairs, np.float32), np.ones(pairs, np.float32)
            self.gp = np.empty(pairs, np.float32)
            self.gn = np.empty((pairs, self.negative), np.float32)
        if centres > self._centres:
            self._centres = centres
            self.acc = np.zeros((centres, self.width), np.float32)
        if threads > self._threads:
            self._threads = threads
            self.sc = np.empty((threads, self.group, self.negative + 1))
            self.sel = np.empty((threads, self.group), np.int64)
            self.tmp = np.empty((threads, self.negative, self.width), np.float32)

    def pairs(self, kept, line, first: int, stop: int, batch: int, reach, window: int):
        """Make the span's pairs; the pair count of each of its batches (an array)."""
        batches = -(-(stop - first) // batch)
        self._room((stop - first) * 2 * window, min(batch, stop - first), 1)
        self.bounds = np.empty(batches + 1, np.int64)
        self.batches = span_pairs(kept, line, first, stop, batch, reach.reshape(-1), window,
                                  self.u, self.v, self.slot, self.bounds)  # fmt: skip
        return np.diff(self.bounds)

    def train(self, w_in, w_out, kept, first: int, stop: int, batch: int, neg, lrs,
              threads: int) -> np.ndarray:  # fmt: skip
        """Update the padded ``w_in``/``w_out`` in place; each batch's summed loss."""
        threads = max(1, threads)
        if threads > 1 and not parallel_available():
            threads = 1
        self._room(0, 0, threads)
        buffers = (self.u, self.v, self.slot, self.su, self.sv, self.gp, self.gn, self.acc,
                   self.seen, self.sc, self.sel, self.tmp)  # fmt: skip
        losses = np.zeros(self.batches)
        args = (w_in, w_out, kept, first, stop, batch, self.batches, self.bounds,
                neg.astype(np.int32, copy=False), self.group, np.asarray(lrs, np.float64),
                self.row_cap, buffers, losses)  # fmt: skip
        if threads == 1:
            train_serial(*args)
        else:
            nb.set_num_threads(min(threads, nb.config.NUMBA_NUM_THREADS))
            train_parallel(*args, threads)
        return losses
