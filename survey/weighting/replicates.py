"""Replicate weights that include the weighting, and their export for R / Stata.

:func:`replicate_weighting` replays the weighting chain a design records
(``design.meta["weighting_steps"]``, written by every function of :mod:`survey.weighting.api`)
inside each replicate of a JK1 / JKn / bootstrap design; :func:`export_replicate_weights` writes
the replicate weights with a README giving the ``svrepdesign`` / ``svyset`` calls that
reproduce this package's standard errors.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import WeightingError
from .api import base_weights, calibrate, nonresponse_adjust, poststratify, rake, trim

__all__ = ["replicate_weighting", "export_replicate_weights"]

_STEP_FUNCS = {"rake": rake, "poststratify": poststratify, "calibrate": calibrate, "trim": trim,
               "nonresponse_adjust": nonresponse_adjust}


def replicate_weighting(design: Any, method: str = "auto", replicates: int = 50, *,
                        seed: Any = None, mse: bool = False) -> Any:
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
    steps = tuple(design.meta.get("weighting_steps", ()))
    if design.is_replicate:
        raise WeightingError("replicate_weighting: the design already has replicate weights "
                             "(weighting steps applied to it already re-weight every column)")
    base = design.meta.get("weighting_base")
    start = design if base is None else design._with_weights(base)
    rep = start.replicate(method, replicates, seed=seed, mse=mse)
    prev = design.weighting_report
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
    del prev
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
