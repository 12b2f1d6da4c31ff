"""Calibration objects the variance engine applies to influence values (R's ``postStrata``).

Each object has ``residualize(x)`` for ``x`` an (n, p) array of weighted influence values, doing
exactly what R's ``svyrecvar`` does for the matching entry of ``design$postStrata``:

* :class:`GregCalibration` — ``qr.resid(qr, x / w) * w`` (``calibrate``),
* :class:`PostStratification` — removal of post-stratum means (``postStratify``),
* :class:`RakingCalibration` — ten sweeps of post-stratum mean removal over the margins
  (``rake``).

``spec`` records how the object was made (method, targets, options) so that trimming can
re-calibrate and replicate designs can replay the chain.

Examples
--------
>>> import numpy as np
>>> ps = PostStratification(np.array([0, 0, 1, 1]), np.ones(4), np.full(4, 2.0))
>>> ps.residualize(np.array([[1.0], [3.0], [2.0], [2.0]])).ravel().tolist()
[-1.0, 1.0, 0.0, 0.0]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

__all__ = ["CellIndices", "GregCalibration", "PostStratification", "RakingCalibration"]


def _as2d(x: np.ndarray) -> tuple[np.ndarray, bool]:
    x = np.asarray(x, dtype=float)
    return (x[:, None], True) if x.ndim == 1 else (x, False)


def _safe_div(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w[:, None] != 0, x / np.where(w == 0, 1.0, w)[:, None], 0.0)


def _indicator(idx: np.ndarray, k: int) -> sp.csr_matrix:
    """Sparse ``k x n`` cell indicator (one per unit)."""
    n = len(idx)
    return sp.csr_matrix((np.ones(n), (np.asarray(idx, dtype=np.int64), np.arange(n))),
                         shape=(k, n))


def _group_sum(idx: np.ndarray, z: np.ndarray, k: int) -> np.ndarray:
    return np.asarray(_indicator(idx, k) @ z) if z.shape[1] else np.zeros((k, 0))


@dataclass(eq=False)
class GregCalibration:
    """Residualisation after ``calibrate``: ``qr.resid(qr(mm * sqrt(w0)), x / w) * w``.

    ``w = g * sqrt(w0)``; rank is decided as R's LINPACK ``qr`` does (tol 1e-7).
    """

    a: np.ndarray                 # mm * sqrt(w0), (n, p)
    w: np.ndarray                 # g * sqrt(w0), (n,)
    spec: dict = field(default_factory=dict)
    kind: str = "greg"
    _q: Any = field(default=None, repr=False)

    def _basis(self) -> np.ndarray:
        if self._q is None:
            q, r, piv = sla.qr(self.a, mode="economic", pivoting=True)
            d = np.abs(np.diag(r))
            rank = int(np.sum(d > 1e-7 * (d[0] if d.size else 1.0)))
            self._q = q[:, :rank]
        return self._q

    def residualize(self, x: np.ndarray) -> np.ndarray:
        x, flat = _as2d(x)
        z = _safe_div(x, self.w)
        q = self._basis()
        out = (z - q @ (q.T @ z)) * self.w[:, None]
        return out[:, 0] if flat else out

    def linear_form(self) -> tuple[Any, Any, Any, np.ndarray]:
        """``(A, L, R, zero)`` with ``residualize(x) = x - A (L R x)`` on rows where ``w != 0``
        and ``0`` on the ``zero`` rows (``L`` is None: ``B = R``; see :mod:`survey.calspace`)."""
        q, w = self._basis(), np.asarray(self.w, dtype=float)
        winv = np.divide(1.0, w, out=np.zeros_like(w), where=w != 0)
        return w[:, None] * q, None, (q * winv[:, None]).T, w == 0


@dataclass(eq=False)
class PostStratification:
    """Residualisation after ``postStratify``: weighted post-stratum means removed."""

    index: np.ndarray             # post-stratum of each unit (0..K-1)
    oldw: np.ndarray              # weights before
    psw: np.ndarray               # weights after
    spec: dict = field(default_factory=dict)
    kind: str = "poststratify"

    def residualize(self, x: np.ndarray) -> np.ndarray:
        x, flat = _as2d(x)
        psw = np.where((self.psw == 0) & (self.oldw == 0), 1.0, self.psw)
        k = int(self.index.max()) + 1
        num = _group_sum(self.index, _safe_div(x * self.oldw[:, None], psw), k)
        den = np.bincount(self.index, weights=self.oldw, minlength=k)
        with np.errstate(divide="ignore", invalid="ignore"):
            means = np.where(den[:, None] > 0, num / den[:, None], 0.0)
        out = x - means[self.index] * psw[:, None]
        return out[:, 0] if flat else out

    def linear_form(self) -> tuple[Any, Any, Any, None]:
        """``(A, L, R, None)`` with ``residualize(x) = x - A (L R x)``: ``A = diag(psw) S``,
        ``R = diag(1/den) S' diag(oldw/psw)`` (``S`` the post-stratum indicators)."""
        psw = np.where((self.psw == 0) & (self.oldw == 0), 1.0, self.psw)
        k = int(self.index.max()) + 1
        S = _indicator(self.index, k)
        den = np.bincount(self.index, weights=self.oldw, minlength=k)
        dinv = np.divide(1.0, den, out=np.zeros_like(den), where=den > 0)
        coef = np.divide(self.oldw, psw, out=np.zeros_like(psw), where=psw != 0)
        return (sp.diags(psw) @ S.T).tocsr(), None, (sp.diags(dinv) @ S @ sp.diags(coef)).tocsr(), None



class CellIndices:
    """Per-respondent margin-cell indices of a raking, built on first use.

    Holds the respondents' cell ids (``n``) and each margin's index per cell (a few hundred
    values); ``self[k]`` expands margin ``k`` to respondents only when the variance needs it,
    so raking itself never forms one ``n``-sized array per margin.

    Examples
    --------
    >>> import numpy as np
    >>> ix = CellIndices(np.array([0, 1, 1, 2]), [np.array([0, 0, 1]), np.array([1, 0, 0])])
    >>> len(ix), ix[0].tolist(), [a.tolist() for a in ix][1]
    (2, [0, 0, 0, 1], [1, 0, 0, 0])
    """

    def __init__(self, cell: np.ndarray, per_cell: list) -> None:
        self.cell = cell
        self.per_cell = list(per_cell)
        self._rows: dict = {}

    def __len__(self) -> int:
        return len(self.per_cell)

    def __getitem__(self, k: int) -> np.ndarray:
        if k not in self._rows:
            self._rows[k] = self.per_cell[k][self.cell]
        return self._rows[k]

    def __iter__(self):
        return (self[k] for k in range(len(self)))

    def __getstate__(self) -> dict:
        return {"cell": self.cell, "per_cell": self.per_cell}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["cell"], state["per_cell"])


@dataclass(eq=False)
class RakingCalibration:
    """Residualisation after ``rake``: R's ten sweeps of unweighted cell-mean removal of
    ``x / w`` over the margins (``x - w * ave(x / w, margin)``).

    Every sweep only subtracts cell means, so the result is ``x - w * (S @ c)`` with ``S`` the
    ``n x Q`` indicator matrix of all margin cells and ``c`` a ``Q x p`` coefficient matrix
    that is linear in ``b = S' (x / w)``: ``c = M b``.  ``M`` (``Q x Q``) is obtained once per
    object by running R's ten Gauss–Seidel sweeps on the cell-count cross-product (the same
    arithmetic as R, in cell space instead of unit space) and cached; each call is then two
    sparse products.  Units with zero weight keep ``x`` and add nothing to the cell sums,
    but count in the cell sizes, exactly as the sweeps over ``x / w`` (0 there) do.
    """

    indices: Any                  # one (n,) cell index per margin (a list or CellIndices)
    w: np.ndarray                 # final raked weights
    spec: dict = field(default_factory=dict)
    kind: str = "rake"
    sweeps: int = 10
    _op: Any = field(default=None, repr=False)

    def _operator(self) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
        """``(S' diag(1/w), diag(w) S, M)``: the stacked cell indicators with the weights
        folded in (``1/w`` read as 0 where ``w == 0``) and the cell-space sweep operator."""
        if self._op is None:
            w = np.asarray(self.w, dtype=float)
            blocks, sl, start = [], [], 0
            for idx in self.indices:
                k = int(np.max(idx)) + 1 if len(idx) else 0
                blocks.append(_indicator(idx, k))
                sl.append(slice(start, start + k))
                start += k
            St = sp.vstack(blocks, format="csr")                       # (Q, n)
            cnt = np.asarray(St.sum(axis=1)).ravel()                    # cell sizes, all units
            nz = w != 0
            G = (St @ sp.diags(nz.astype(float)) @ St.T).toarray()     # nonzero-w units only
            Q = St.shape[0]
            b = np.eye(Q)
            c = np.zeros((Q, Q))
            for _ in range(self.sweeps):
                for s in sl:
                    c[s] += (b[s] - G[s] @ c) / np.maximum(cnt[s], 1)[:, None]
            winv = np.divide(1.0, w, out=np.zeros_like(w), where=nz)
            self._op = ((St @ sp.diags(winv)).tocsr(), (sp.diags(w) @ St.T).tocsr(), c)
        return self._op

    def residualize(self, x: np.ndarray) -> np.ndarray:
        x, flat = _as2d(x)
        if not self.indices or x.shape[1] == 0:
            return x[:, 0] if flat else x
        Stw, Sw, M = self._operator()
        out = np.asarray(Sw @ (M @ np.asarray(Stw @ x)), dtype=float)
        np.subtract(x, out, out=out)  # x - w * (S c) without a second n x p temporary
        return out[:, 0] if flat else out

    def linear_form(self) -> tuple[Any, Any, Any, None]:
        """``(A, L, R, None)`` with ``residualize(x) = x - A (L R x)``: ``A = diag(w) S``,
        ``L = M``, ``R = S' diag(1/w)`` (``S`` the stacked margin-cell indicators)."""
        if not self.indices:
            return None
        Stw, Sw, M = self._operator()
        return Sw, M, Stw, None
