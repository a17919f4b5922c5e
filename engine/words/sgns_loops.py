"""One phase of one SGNS batch, for a share of its pairs or columns, as compiled loops (numba).

The batch-synchronous update takes every score from the weights as they were when the batch
began, then adds every update, so it splits into two phases that threads can share without
changing a single sum (:mod:`engine.words.sgns_numba` runs them over a span of batches):

- :func:`scores` (split by centre words): scores, loss, gradient coefficients, and each centre
  word's input-vector step, summed in a per-centre buffer (pairs in a fixed order, so the sums
  are the same however the centres are split);
- :func:`apply` (split by columns): the output-vector updates, which read the input vectors,
  then the input-vector updates; a thread writes, and reads back, only its own columns.

Each does in one pass over a pair what the torch path does in a dozen tensor operations.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

JIT = {"nogil": True, "cache": True, "error_model": "numpy"}  # numpy: no branch per division


@nb.njit(inline="always", fastmath=True, error_model="numpy")
def _sigmoid(x):
    """1 / (1 + exp(-x)) without a libm call, so a loop of them vectorises: exp(y) for
    ``|y| <= 30/64`` by its Taylor series to degree 10 (relative error below 1e-11), squared six
    times; ``|x|`` is clamped at 30, where the float32 result is 0 or 1 to within 1e-13."""
    y = -x * (1.0 / 64.0)
    y = 0.46875 if y > 0.46875 else y
    y = -0.46875 if y < -0.46875 else y
    e = 1.0
    for i in range(10, 0, -1):  # Horner: 1 + y(1 + y/2(1 + y/3(...)))
        e = 1.0 + y * e * (1.0 / i)
    for _ in range(6):
        e *= e
    return 1.0 / (1.0 + e)


# One pair's dot products and input-vector step for any number of negatives. Five (the default)
# are written out in :func:`scores` instead: one pass over the row with six sums, then one pass
# adding six scaled rows, where these loops make six passes each; that takes a third off the
# scores phase.


@nb.njit(inline="always", fastmath=True, **JIT)
def _dots(h, o, w_out, negs, out):
    """``out[0] = h.o``, ``out[1 + j] = -h.n_j`` for the negative rows ``negs``."""
    t = np.float32(0.0)
    for d in range(len(h)):
        t += h[d] * o[d]
    out[0] = t
    for j in range(len(negs)):
        n = w_out[negs[j]]
        t = np.float32(0.0)
        for d in range(len(h)):
            t += h[d] * n[d]
        out[j + 1] = -t


@nb.njit(inline="always", fastmath=True, **JIT)
def _step(row, o, w_out, negs, gp, gn, su):
    """``row += su * (gp * o + sum_j gn[j] * n_j)``: a pair's input-vector step."""
    a = np.float32(gp * su)
    for d in range(len(row)):
        row[d] += a * o[d]
    for j in range(len(negs)):
        c = np.float32(gn[j] * su)
        n = w_out[negs[j]]
        for d in range(len(row)):
            row[d] += c * n[d]


@nb.njit(inline="always", fastmath=True, **JIT)
def _loss(sc, m, k):
    """``-sum log(sp * prod(1 - sn))`` over the ``m`` pairs whose sigmoids are in ``sc``; one log
    per 8 pairs (a product of their likelihoods, each clamped at 1e-30)."""
    loss = 0.0
    product = 1.0
    for q in range(m):
        likelihood = sc[q, 0]
        for j in range(k):
            likelihood *= sc[q, j + 1]
        product *= max(likelihood, 1e-30)
        if q % 8 == 7 or q == m - 1:
            loss -= math.log(product)
            product = 1.0
    return loss


@nb.njit(fastmath=True, **JIT)
def scores(w_in, w_out, u, v, slot, p0, p1, neg, g_first, group, lr, su, s_lo, s_hi,
           gp, gn, acc, sc, sel):  # fmt: skip
    """Pairs ``p0:p1`` whose centre slot is in ``s_lo:s_hi``: coefficients ``gp``/``gn``, the
    input-vector steps summed into ``acc[slot]``; the loss sum.

    ``gp[p] = lr * (1 - sigmoid(u.v))``, ``gn[p, j] = -lr * sigmoid(u.n_j)``; a pair's input
    step is scaled by ``su[p]`` (the row cap). Negatives are shared by the ``group`` pairs from
    ``g_first``'s group on; ``sc``/``sel`` are this thread's scratch.
    """
    width = w_in.shape[1]
    k = gn.shape[1]
    loss = 0.0
    for g0 in range(p0, p1, group):
        gi = g_first + (g0 - p0) // group
        m = 0
        for p in range(g0, min(g0 + group, p1)):
            if s_lo <= slot[p] < s_hi:
                sel[m] = p
                m += 1
        if m == 0:
            continue
        negs = neg[gi * k : gi * k + k]
        n0 = n1 = n2 = n3 = n4 = w_out[0]
        if k == 5:
            n0, n1, n2 = w_out[negs[0]], w_out[negs[1]], w_out[negs[2]]
            n3, n4 = w_out[negs[3]], w_out[negs[4]]
        for q in range(m):  # scores: sc[q, 0] = u.v, sc[q, 1 + j] = -u.n_j
            p = sel[q]
            h, o = w_in[u[p]], w_out[v[p]]
            if k != 5:
                _dots(h, o, w_out, negs, sc[q])
                continue
            t0 = t1 = t2 = t3 = t4 = t5 = np.float32(0.0)
            for d in range(width):
                x = h[d]
                t0 += x * o[d]
                t1 += x * n0[d]
                t2 += x * n1[d]
                t3 += x * n2[d]
                t4 += x * n3[d]
                t5 += x * n4[d]
            sc[q, 0], sc[q, 1], sc[q, 2], sc[q, 3], sc[q, 4], sc[q, 5] = t0, -t1, -t2, -t3, -t4, -t5
        flat = sc.reshape(-1)
        for i in range(m * (k + 1)):  # sigmoid(u.v) and 1 - sigmoid(u.n_j), in one loop
            flat[i] = _sigmoid(flat[i])
        loss += _loss(sc, m, k)
        for q in range(m):
            p = sel[q]
            gp[p] = (1.0 - sc[q, 0]) * lr
            for j in range(k):
                gn[p, j] = -(1.0 - sc[q, j + 1]) * lr
            row, o, scale = acc[slot[p]], w_out[v[p]], su[p]
            if k != 5:
                _step(row, o, w_out, negs, gp[p], gn[p], scale)
                continue
            a = np.float32(gp[p] * scale)
            c0, c1 = np.float32(gn[p, 0] * scale), np.float32(gn[p, 1] * scale)
            c2, c3 = np.float32(gn[p, 2] * scale), np.float32(gn[p, 3] * scale)
            c4 = np.float32(gn[p, 4] * scale)
            for d in range(width):
                row[d] += a * o[d] + c0 * n0[d] + c1 * n1[d] + c2 * n2[d] + c3 * n3[d] + c4 * n4[d]
    return loss


@nb.njit(fastmath=True, **JIT)
def apply(w_in, w_out, kept, c0, centres, u, v, p0, p1, neg, g_first, group, gp, gn, sv, acc,
          c_lo, c_hi, tmp):  # fmt: skip
    """Columns ``c_lo:c_hi`` of pairs ``p0:p1``: output-vector updates (reading the input
    vectors), then each centre's summed input-vector step, which clears ``acc``.

    Rows are sliced to the columns first: indexing a whole row with ``d`` from an unknown
    ``c_lo`` costs a negative-index check per element and runs four times slower.
    """
    k = gn.shape[1]
    width = c_hi - c_lo
    for p in range(p0, p1):
        a = np.float32(gp[p] * sv[p])
        h = w_in[u[p], c_lo:c_hi]
        o = w_out[v[p], c_lo:c_hi]
        for d in range(width):
            o[d] += a * h[d]
    for g0 in range(p0, p1, group):  # a negative's step summed over its group, added once
        gi = g_first + (g0 - p0) // group
        for j in range(k):
            for d in range(width):
                tmp[j, d] = 0
        for p in range(g0, min(g0 + group, p1)):
            h = w_in[u[p], c_lo:c_hi]
            for j in range(k):
                c = gn[p, j]
                for d in range(width):
                    tmp[j, d] += c * h[d]
        for j in range(k):
            n = w_out[neg[gi * k + j], c_lo:c_hi]
            for d in range(width):
                n[d] += tmp[j, d]
    for s in range(centres):
        h = w_in[kept[c0 + s], c_lo:c_hi]
        row = acc[s, c_lo:c_hi]
        for d in range(width):
            h[d] += row[d]
            row[d] = 0
