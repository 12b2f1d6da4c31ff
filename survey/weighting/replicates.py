"""Replicate weights that include the weighting, and their export for R / Stata.

:func:`replicate_weighting` replays the weighting chain a design records
(``design.meta["weighting_steps"]``, written by every function of :mod:`survey.weighting.api`)
inside each replicate of a JK1 / JKn / bootstrap design; :func:`export_replicate_weights` writes
the replicate weights with a README giving the ``svrepdesign`` / ``svyset`` calls that
reproduce this package's standard errors.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError, WeightingError
from ..validation import Integer, check
from ..variance import Replicates, replicate_estimates, replicate_vcov
from .api import base_weights, calibrate, nonresponse_adjust, poststratify, rake, trim

__all__ = ["replicate_weighting", "export_replicate_weights", "replicate_blocks",
           "stream_replicate_estimates", "mean_statistic", "StreamedReplicates"]

_STEP_FUNCS = {"rake": rake, "poststratify": poststratify, "calibrate": calibrate, "trim": trim,
               "nonresponse_adjust": nonresponse_adjust}


def replicate_weighting(design: Any, method: str = "auto", replicates: int = 50, *,
                        seed: Any = None, mse: bool = False, block: int | None = 64) -> Any:
    """Replicate weights that include the weighting: replay the chain inside each replicate.

    The weighting steps recorded on ``design`` (rake / poststratify / calibrate / trim /
    nonresponse adjustment) are re-run from the base weights on a replicate design
    (``design.replicate(method, replicates)``: JK1, JKn = delete one station within its
    stratum, or the Rao–Wu rescaling bootstrap), so every replicate column is re-weighted.
    The full-sample weights come out unchanged.

    Parameters
    ----------
    design : SurveyDesign
    method : str, default "auto"
        ``"jk1"``, ``"jkn"``, ``"bootstrap"`` (``"auto"``: JKn with strata, else JK1).
    replicates : int, default 50
        Number of bootstrap replicates (ignored by the jackknives).
    seed, mse
        Random state of the bootstrap; centre at the full-sample estimate.
    block : int or None, default 64
        Re-weight the replicate columns ``block`` at a time (the same weights as all at once:
        every column converges on its own): the peak memory is the ``n x R`` result plus
        temporaries of ``n x block``, not several ``n x R`` copies.  ``None``: all at once.
        To keep only the replicate *estimates* (never ``n x R``) use
        :func:`stream_replicate_estimates`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"s": list("mfmfmf"), "c": [1, 1, 2, 2, 3, 3], "w": [1.0] * 6})
    >>> d = rake(SurveyDesign(df, weights="w", psu="c"), {"s": {"m": 6, "f": 4}})
    >>> r = replicate_weighting(d, "jk1")
    >>> np.allclose(r.repweights[:, 0][[2, 4]].sum(), 6), np.allclose(r.weights, d.weights)
    (True, True)
    """
    if block is None:
        steps, start = _chain(design, "replicate_weighting")
        return _replay(start.replicate(method, replicates, seed=seed, mse=mse), steps, design)
    mult, rep = _plan(design, method, replicates, block, seed, mse, "replicate_weighting")
    W = np.empty((design.n_rows, rep.rscales.size))
    out = None
    for sl, out in _blocks(design, mult, rep, block):
        W[:, sl] = out.repweights
    return out._with_replicates(dataclasses.replace(rep, W=W))


def _chain(design: Any, fn: str) -> tuple[tuple, Any]:
    """The recorded weighting steps and the design they start from (base weights)."""
    if design.is_replicate:
        raise WeightingError(f"{fn}: the design already has replicate weights "
                             "(weighting steps applied to it already re-weight every column)")
    base = design.meta.get("weighting_base")
    start = design if base is None else design._with_weights(base)
    return tuple(design.meta.get("weighting_steps", ())), start


def _replay(rep: Any, steps: tuple, design: Any) -> Any:
    """Re-run the weighting *steps* on the replicate design *rep*; check the full sample."""
    out = rep
    for name, args in steps:
        if name == "base_weights":
            out = base_weights(out, **args)
            continue
        fn = _STEP_FUNCS[name]
        args = dict(args)
        if name == "poststratify":
            out = fn(out, args.pop("variables"), args.pop("totals"), **args)
        else:
            out = fn(out, args.pop("targets"), **args) if "targets" in args else fn(out, **args)
    if not np.allclose(out.weights, design.weights, rtol=1e-9, atol=0):
        raise WeightingError("replicate_weighting: replaying the weighting chain did not "
                             "reproduce the full-sample weights")
    return out


def export_replicate_weights(design: Any, path: str | Path, *, id_column: str = "rid",
                             prefix: str = "repw", format: str | None = None) -> Path:
    """Write id, final weight and replicate weights, plus a README with the R/Stata/SPSS calls.

    ``format`` is taken from the suffix (``.csv``, ``.parquet``, ``.dta``, ``.sav``).  The
    README (``<path>.README.md``) gives ``svrepdesign`` / ``svyset`` calls with the scale and
    rscales that reproduce this package's standard errors.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"rid": list("abcd"), "c": [1, 1, 2, 2], "w": [1.0] * 4})
    >>> r = SurveyDesign(df, weights="w", psu="c").replicate("jk1")
    >>> p = export_replicate_weights(r, pathlib.Path(tempfile.mkdtemp()) / "w.csv")
    >>> pd.read_csv(p).columns.tolist()
    ['rid', 'weight', 'repw1', 'repw2']
    """
    if not design.is_replicate:
        raise WeightingError("export_replicate_weights: the design has no replicate weights; "
                             "call replicate_weighting(design, ...) first")
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".") or "csv").lower()
    data = design.data
    W = np.asarray(design.repweights, float)
    R = W.shape[1]
    out = pd.DataFrame({id_column: data[id_column].to_numpy() if id_column in data.columns
                        else np.arange(1, len(data) + 1)})
    out["weight"] = np.asarray(design.weights, float)
    out = pd.concat([out, pd.DataFrame(W, columns=[f"{prefix}{j + 1}" for j in range(R)])],
                    axis=1)
    if fmt == "csv":
        from ..io.safe import write_csv  # respondent ids are text from the export
        write_csv(out, path, index=False, float_format="%.17g")
    elif fmt == "parquet":
        out.to_parquet(path, index=False)
    elif fmt in ("dta", "sav"):
        import pyreadstat
        (pyreadstat.write_dta if fmt == "dta" else pyreadstat.write_sav)(out, str(path))
    else:
        raise WeightingError(f"export_replicate_weights: format {fmt!r}; use csv, parquet, dta "
                             "or sav")
    rep = design.replicates
    rs = np.asarray(rep.rscales, float)
    rtype = {"jk1": "JK1", "jkn": "JKn", "bootstrap": "bootstrap"}.get(rep.type, "other")
    rs_same = np.allclose(rs, rs[0])
    mult_s = (f", multiplier({rep.scale * rs[0]:.17g})" if "jk" in rep.type and rs_same else "")
    r_rs = f"{rs[0]:.17g}" if rs_same else "rscales  # the column rscales in the README table"
    stata = {"jk1": "jkrweight", "jkn": "jkrweight", "bootstrap": "bsrweight"}.get(rep.type,
                                                                                  "sdrweight")
    readme = f"""# Replicate weights: {path.name}

{len(out)} respondents, full-sample weight `weight`, {R} replicate weights `{prefix}1`..`{prefix}{R}`
({rep.type}; variance = {rep.scale:.17g} × Σ_r rscales_r (θ_r − θ̄)²{', centred at θ' if rep.mse else ''}).
The replicate weights already include every weighting step (re-run in each replicate).

R:
```r
library(survey)
d <- read.csv("{path.name}")
des <- svrepdesign(data = d, weights = ~weight, repweights = "{prefix}[0-9]+",
                   type = "{rtype if rtype != 'JKn' else 'other'}", scale = {rep.scale:.17g},
                   rscales = {r_rs}, combined.weights = TRUE, mse = {str(rep.mse).upper()})
svymean(~y, des)
```
Stata:
```stata
svyset [pweight=weight], {stata}({prefix}1-{prefix}{R}{mult_s}) vce({'jackknife' if 'jk' in rep.type else ('bootstrap' if rep.type == 'bootstrap' else 'sdr')}){' mse' if rep.mse else ''}
* variance multiplier {rep.scale:.17g}{' — rscales differ by replicate (table below): Stata takes one multiplier, use R for exact SEs' if not rs_same else ''}
```
SPSS (Complex Samples has no replicate weights): use R or Stata with this file.
"""
    if not rs_same:
        readme += "\n| replicate | rscales |\n|---|---|\n" + "\n".join(
            f"| {prefix}{j + 1} | {v:.17g} |" for j, v in enumerate(rs))
    Path(str(path) + ".README.md").write_text(readme, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# replicates in blocks: bounded memory for hundreds of replicates (issue #17)
# ---------------------------------------------------------------------------------------------
def _plan(design: Any, method: str, replicates: int, block: int, seed: Any, mse: bool,
          fn: str) -> tuple[np.ndarray, Replicates]:
    check(fn, "block", block, Integer(1, example=50), error=WeightingError)
    _chain(design, fn)  # refuses replicate designs before anything is drawn
    base = design.meta.get("weighting_base")
    start = design if base is None else design._with_weights(base)
    return start._replicate_plan(method, replicates, seed=seed, mse=mse)


def _blocks(design: Any, mult: np.ndarray, rep: Replicates, block: int
            ) -> Iterator[tuple[slice, Any]]:
    steps, start = _chain(design, "replicate_blocks")
    w0 = np.asarray(start.weights, float)
    cl = start.stages[0].cl
    R = rep.rscales.size
    for j0 in range(0, R, block):
        sl = slice(j0, min(R, j0 + block))
        # the columns w * mult[cl] of design.replicate(...), formed for this block only
        rb = dataclasses.replace(rep, W=w0[:, None] * mult[:, sl][cl], rscales=rep.rscales[sl])
        yield sl, _replay(start._with_replicates(rb), steps, design)


def replicate_blocks(design: Any, method: str = "bootstrap", replicates: int = 500, *,
                     block: int = 50, seed: Any = None, mse: bool = False
                     ) -> Iterator[tuple[slice, Any]]:
    """The replicate designs of :func:`replicate_weighting`, ``block`` columns at a time.

    The PSU multipliers of all ``replicates`` are drawn once (``C x R``: stations, not
    respondents; the same draws as ``design.replicate(method, replicates, seed=seed)``); each
    block's ``n x block`` replicate weights are formed from them and re-weighted by the recorded
    weighting chain.  Every replicate column converges on its own, so block ``j`` holds exactly
    the columns ``j`` of ``replicate_weighting(design, method, replicates, seed=seed)``.  Memory:
    ``O(n x block)`` at a time, never ``n x R``.

    Yields
    ------
    (slice, SurveyDesign)
        The replicate columns of the block, and a replicate design carrying them (its
        ``replicates.rscales`` are the block's; its ``scale`` is that of all ``R`` replicates).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"s": list("mfmfmfmf"), "c": [1, 1, 2, 2, 3, 3, 4, 4], "w": [1.0] * 8})
    >>> d = SurveyDesign(df, weights="w", psu="c").rake({"s": {"m": 6, "f": 4}})
    >>> [(sl.start, sl.stop, b.repweights.shape) for sl, b in replicate_blocks(d, replicates=5,
    ...                                                                  block=2, seed=1)]
    [(0, 2, (8, 2)), (2, 4, (8, 2)), (4, 5, (8, 1))]
    """
    mult, rep = _plan(design, method, replicates, block, seed, mse, "replicate_blocks")
    yield from _blocks(design, mult, rep, block)


@dataclasses.dataclass(frozen=True)
class StreamedReplicates:
    """Replicate estimates of a statistic, computed block by block (no ``n x R`` matrix kept).

    ``theta`` (``p``): full-sample estimate; ``thetas`` (``R x p``): one row per replicate;
    ``replicates``: the :class:`~survey.variance.Replicates` (``scale``, ``rscales``, ``mse``,
    ``type``, ``degf``) with an empty ``W``: the replicate weights were not kept.
    ``labels``: one row per statistic (domain levels and variable), when known.

    Examples
    --------
    >>> import numpy as np
    >>> from survey.variance import Replicates
    >>> rep = Replicates(np.zeros((0, 3)), 0.5, np.ones(3), False, "bootstrap", 2)
    >>> st = StreamedReplicates(np.array([1.0]), np.array([[0.0], [1.0], [2.0]]), rep)
    >>> st.se.tolist()
    [1.0]
    """

    theta: np.ndarray
    thetas: np.ndarray
    replicates: Replicates
    labels: pd.DataFrame | None = None
    blocks: int = 1

    def vcov(self) -> np.ndarray:
        """Covariance of the estimates (R's ``svrVar``: ``scale Σ rscales (θ_r − c)(θ_r − c)'``)."""
        return replicate_vcov(self.replicates, self.theta, self.thetas)

    @property
    def se(self) -> np.ndarray:
        """Standard errors, ``p``."""
        return np.sqrt(np.diag(self.vcov()))

    def frame(self) -> pd.DataFrame:
        """``labels`` with the columns ``estimate`` and ``se``."""
        out = (self.labels.copy() if self.labels is not None
               else pd.DataFrame(index=range(len(self.theta))))
        out["estimate"] = self.theta
        out["se"] = self.se
        return out


def stream_replicate_estimates(design: Any, statistic: Callable[[np.ndarray], np.ndarray] | tuple,
                               method: str = "bootstrap", replicates: int = 500, *,
                               block: int = 50, seed: Any = None, mse: bool = False
                               ) -> StreamedReplicates:
    """Replicate variance with re-weighting per replicate, streamed in blocks of columns.

    Equals ``replicate_weighting(design, method, replicates, seed=seed)`` followed by
    :func:`survey.variance.replicate_estimates` and ``replicate_vcov`` (same seed, same
    estimates and standard errors), but only ``n x block`` replicate weights exist at a time
    and only the ``R x p`` replicate estimates are kept: for 500 bootstrap replicates of a
    45,000-respondent wave, about 20 MB of weights per block of 50 instead of 180 MB (and
    several copies of it while raking).

    Parameters
    ----------
    design : SurveyDesign
        A weighted design (the weighting chain recorded by :mod:`survey.weighting` is replayed
        in every replicate).
    statistic : callable or (callable, labels)
        ``statistic(W)`` takes ``n x k`` weights (column 0 the full sample) and returns
        ``k x p`` estimates, as :func:`survey.variance.replicate_estimates`; or the pair
        returned by :func:`mean_statistic`.
    method, replicates, seed, mse
        As :meth:`SurveyDesign.replicate` (``"bootstrap"``, ``"jk1"``, ``"jkn"``, ``"auto"``).
    block : int
        Replicate columns per block.

    Returns
    -------
    StreamedReplicates

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"s": rng.choice(list("mf"), 200), "c": np.repeat(np.arange(20), 10),
    ...                    "y": rng.normal(size=200), "w": 1.0})
    >>> d = SurveyDesign(df, weights="w", psu="c").rake({"s": {"m": 60, "f": 40}})
    >>> st = stream_replicate_estimates(d, mean_statistic(d, ["y"]), replicates=30, block=8, seed=2)
    >>> full = d.replicate_weighting("bootstrap", 30, seed=2).mean("y")
    >>> bool(np.isclose(st.se[0], full["se"].iloc[0], rtol=1e-12)), st.blocks
    (True, 4)
    """
    labels = None
    if isinstance(statistic, tuple):
        statistic, labels = statistic
    mult, rep = _plan(design, method, replicates, block, seed, mse, "stream_replicate_estimates")
    R = rep.rscales.size
    theta = thetas = None
    nb = 0
    for sl, d in _blocks(design, mult, rep, block):
        th, ths = replicate_estimates(d, statistic)
        if thetas is None:
            theta, thetas = th, np.empty((R, th.size))
        thetas[sl] = ths
        nb += 1
    return StreamedReplicates(theta, thetas, rep, labels, nb)


def mean_statistic(design: Any, variables: str | Sequence[str], by: str | Sequence[str] | None = None
                   ) -> tuple[Callable[[np.ndarray], np.ndarray], pd.DataFrame]:
    """Means of numeric columns (by domain; missing values left out) as a weight function.

    Returns ``(statistic, labels)`` for :func:`stream_replicate_estimates`: ``statistic(W)``
    maps ``n x k`` weights to the ``k x (D q)`` ratios ``Σ w y / Σ w`` of the ``q`` variables
    in the ``D`` domains of ``by`` (rows with ``by`` missing are in no domain), the same
    replicate estimates as ``design.mean(variables, by=by, na_rm=True)``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"g": list("aabb"), "y": [1.0, 3, np.nan, 5]}))
    >>> fn, labels = mean_statistic(d, "y", by="g")
    >>> fn(np.ones((4, 1))).tolist(), labels["g"].tolist()
    ([[2.0, 5.0]], ['a', 'b'])
    """
    import scipy.sparse as sp

    names = [variables] if isinstance(variables, str) else list(variables)
    data = design.data
    n = len(data)
    cols = []
    for v in names:
        if v not in data.columns:
            raise EstimationError(f"mean_statistic: column {v!r} is not in the data; columns "
                                  f"are {list(data.columns)[:20]}")
        x = pd.to_numeric(data[v], errors="coerce").to_numpy(float)
        if np.isnan(x).all() and data[v].notna().any():
            raise EstimationError(f"mean_statistic: column {v!r} is not numeric; give numeric "
                                  "columns (or 0/1 indicators of a category)")
        cols.append(x)
    Y = np.column_stack(cols)
    q = len(names)
    if by is None:
        dom, D = np.zeros(n, dtype=np.int64), 1
        labels = pd.DataFrame({"variable": names})
    else:
        dom, table = design.domain_index(by)
        D = len(table)
        labels = table.loc[table.index.repeat(q)].reset_index(drop=True)
        labels["variable"] = names * D
    valid = ~np.isnan(Y) & (dom >= 0)[:, None]
    i, v = np.nonzero(valid)
    j = dom[i] * q + v
    Ys = sp.csr_matrix((Y[i, v], (i, j)), shape=(n, D * q)).T.tocsr()
    Xs = sp.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, D * q)).T.tocsr()

    def statistic(W: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.asarray(Ys @ W) / np.asarray(Xs @ W)).T

    return statistic, labels
