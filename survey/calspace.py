"""Calibrated PSU totals in cell space: ``C_s r(x)`` without forming the residuals ``r(x)``.

Every calibration of :mod:`survey.weighting.calobj` is linear, ``r(x) = x - A (B x)`` with ``A``
an ``n x Q`` operator (sparse margin-cell indicators for rake/poststratify, ``n x rank`` dense
for greg) and ``B = L R`` a ``Q x n`` one.  The variance only needs the PSU totals of the
residuals at each variance stage, ``C_s r(x) = C_s x - (C_s A) (B x)``; ``C_s A``
(``clusters x Q``) depends on the design only and is computed once.  A chain of calibrations
``r_k(...r_1(x))`` (trimming and replicate replays make chains) composes with the small cross
terms ``B_j A_i``: ``u_j = B_j x - sum_{i<j} (B_j A_i) u_i`` and
``C_s r(x) = C_s x - sum_j (C_s A_j) u_j``.  Nothing ``n x p`` is formed, and ``x`` may cover
only some rows (a compact domain: ``B_j`` restricted to those columns), so a domain of ``m``
respondents costs ``O(m)``.

Greg residualisation returns ``0`` (not ``x``) on rows of zero calibration weight; the cell-space
form is used only when the values entering such a row are zero (checked), else the chain is
applied to the full rows (:meth:`CalibrationChain.psu_totals` falls back; same numbers).

Examples
--------
>>> import numpy as np
>>> from survey.weighting.calobj import PostStratification
>>> from survey.variance import build_stages
>>> st = build_stages(4, [np.array([1, 1, 2, 2])], [], [])[0]
>>> ps = PostStratification(np.array([0, 1, 0, 1]), np.ones(4), np.full(4, 2.0))
>>> x = np.array([[1.0], [3.0], [2.0], [2.0]])
>>> chain = CalibrationChain((ps,), st, 4)
>>> chain.psu_totals(x, st)[0].ravel().tolist()
[0.0, 0.0]
>>> (st[0].cl_indicator(4) @ ps.residualize(x)).ravel().tolist()
[0.0, 0.0]
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["CalibrationChain"]


def _dense(M: Any) -> np.ndarray:
    return M.toarray() if sp.issparse(M) else np.asarray(M, dtype=float)


class CalibrationChain:
    """The calibrations of a design in cell space, for its (full-row) variance stages.

    Parameters
    ----------
    calibrations : sequence
        The design's calibration objects, in the order they were applied.
    stages : sequence of survey.variance.Stage
        The full design's variance stages (cluster codes over all ``n`` rows).
    n : int
        Rows of the full design.
    """

    def __init__(self, calibrations: Sequence[Any], stages: Sequence[Any], n: int) -> None:
        self.calibrations = tuple(calibrations)
        self.stages = tuple(stages)
        self.n = int(n)
        self._ops: dict[str, Any] | None = None

    def _build(self) -> dict[str, Any]:
        if self._ops is not None:
            return self._ops
        forms, linear = [], True
        zero = np.zeros(self.n, dtype=bool)
        for cal in self.calibrations:
            lf = getattr(cal, "linear_form", None)
            f = lf() if lf is not None else False
            if f is False:
                linear = False
                break
            if f is None:  # an identity (no margins)
                continue
            A, L, R, z = f
            if z is not None and z.any():
                # rows this greg zeroes must receive exactly zero from every earlier step
                for A0, *_ in forms:
                    if np.abs(_dense(A0[z])).max(initial=0.0) != 0:
                        linear = False
                zero |= z
            forms.append((A, L, R))
        ops: dict[str, Any] = {"linear": linear, "forms": forms, "zero": zero if zero.any() else None}
        if linear:
            n = self.n
            ops["CA"] = [[_dense(s.cl_indicator(n) @ A) for A, _, _ in forms] for s in self.stages]
            cross = []
            for j, (_, L, R) in enumerate(forms):
                row = []
                for i in range(j):
                    M = _dense(R @ forms[i][0])
                    row.append(M if L is None else L @ M)
                cross.append(row)
            ops["cross"] = cross
        self._ops = ops
        return ops

    def restricted(self, rows: np.ndarray, cache: dict) -> list:
        """``R_j[:, rows]`` of every calibration (cached in ``cache``, one per domain)."""
        hit = cache.get("R")
        if hit is None:
            ops = self._build()
            if "csc" not in ops:  # column slicing of CSC costs O(rows), not O(n)
                ops["csc"] = [R.tocsc() if sp.issparse(R) else R for _, _, R in ops["forms"]]
            hit = cache["R"] = [R[:, rows].tocsr() if sp.issparse(R) else np.ascontiguousarray(R[:, rows])
                                for R in ops["csc"]]
        return hit

    def psu_totals(self, x: Any, stages: Sequence[Any], rows: np.ndarray | None = None,
                   cache: dict | None = None) -> list[np.ndarray]:
        """``[C_s r(x)]`` for the variance stages: ``x`` (``m x p``, dense or sparse) covers
        ``rows`` of the full design (all rows when None), ``stages`` are the design's stages
        over those rows (the full design's cluster numbering)."""
        ops = self._build()
        m = x.shape[0]
        zero = ops["zero"]
        if zero is not None:
            zl = zero if rows is None else zero[rows]
            if zl.any() and np.abs(_dense(x[np.flatnonzero(zl)])).max(initial=0.0) != 0:
                return self._dense_totals(x, rows)
        if not ops["linear"]:
            return self._dense_totals(x, rows)
        Rs = ([R for _, _, R in ops["forms"]] if rows is None
              else self.restricted(rows, {} if cache is None else cache))
        us: list[np.ndarray] = []
        for j, ((_, L, _), R) in enumerate(zip(ops["forms"], Rs)):
            b = _dense(R @ x)
            if L is not None:
                b = L @ b
            for i in range(j):
                b = b - ops["cross"][j][i] @ us[i]
            us.append(b)
        out = []
        for s, CA in zip(stages, ops["CA"]):
            T = _dense(s.cl_indicator(m) @ x)
            for C, u in zip(CA, us):
                T -= C @ u
            out.append(T)
        return out

    def _dense_totals(self, x: Any, rows: np.ndarray | None) -> list[np.ndarray]:
        """The reference path: residualise the full rows, then sum by PSU."""
        X = np.zeros((self.n, x.shape[1]))
        X[slice(None) if rows is None else rows] = _dense(x)
        for cal in self.calibrations:
            X = np.asarray(cal.residualize(X), dtype=float)
        return [_dense(s.cl_indicator(self.n) @ X) for s in self.stages]
