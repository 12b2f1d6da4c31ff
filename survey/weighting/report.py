"""WeightingReport: the diagnostics of a weighting chain (shown in the quality report).

Examples
--------
>>> import numpy as np, pandas as pd
>>> r = WeightingReport(method="rake", weights_before=np.ones(4), weights_after=np.array([1., 1, 2, 2]))
>>> round(r.kish_deff, 4), round(r.effective_n, 2)
(1.1111, 3.6)
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import WeightingError

__all__ = ["WeightingReport", "kish_deff"]


def kish_deff(w: np.ndarray) -> float:
    """Kish's design effect due to unequal weights, ``n Σw² / (Σw)²``.

    Examples
    --------
    >>> kish_deff(np.array([1.0, 1.0, 1.0]))
    1.0
    """
    w = np.asarray(w, float)
    w = w[w > 0]
    return float(len(w) * np.sum(w ** 2) / np.sum(w) ** 2) if len(w) else float("nan")


@dataclass(eq=False)
class WeightingReport:
    """Diagnostics of one weighting step (and the steps before it, in ``steps``).

    Every weighting method (``rake``, ``calibrate``, ``poststratify``, ``trim``, ...) attaches
    one to the design it returns as ``design.weighting_report``.  Tidy accessors:
    :meth:`margins`, :meth:`trace`, :meth:`weights_summary`, :meth:`kish`,
    :meth:`composition`, :meth:`asmd`, :meth:`discrepancy`, :meth:`steps_frame`; it prints a
    short summary (and an HTML one in JupyterLab).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"sex": list("mmff"), "age": list("yoyo"), "w": [1.0, 2, 1, 1]})
    >>> d = SurveyDesign(df, weights="w").rake({"sex": {"m": 60, "f": 40}, "age": {"y": 50, "o": 50}})
    >>> r = d.weighting_report
    >>> r.converged, r.max_rel_error < 1e-8, round(r.kish_deff, 3)
    (True, True, 1.067)
    >>> r.margins()[["margin", "level", "target", "achieved", "n"]].round(6)
      margin level  target  achieved  n
    0    sex     m    60.0      60.0  2
    1    sex     f    40.0      40.0  2
    2    age     y    50.0      50.0  2
    3    age     o    50.0      50.0  2
    >>> r.kish()[["domain", "n"]].to_dict("records")
    [{'domain': 'overall', 'n': 4}]
    """

    method: str
    weights_before: np.ndarray
    weights_after: np.ndarray
    options: dict = field(default_factory=dict)
    converged: bool = True
    iterations: int = 0
    trace_values: list = field(default_factory=list)
    margin_table: pd.DataFrame | None = None
    numeric_table: pd.DataFrame | None = None
    discrepancy_table: pd.DataFrame | None = None
    sources: dict = field(default_factory=dict)
    population: dict = field(default_factory=dict)
    trimmed_mass: float = 0.0
    n_trimmed: int = 0
    domains: pd.DataFrame | None = None     # margin / group variables, for kish(by=)
    previous: "WeightingReport | None" = None
    notes: list = field(default_factory=list)

    # -- scalars -------------------------------------------------------------------------------
    @property
    def kish_deff(self) -> float:
        """Kish design effect due to weighting (final weights)."""
        return kish_deff(self.weights_after)

    @property
    def effective_n(self) -> float:
        """Effective sample size ``n / deff_Kish``."""
        return float(np.sum(self.weights_after > 0) / self.kish_deff)

    @property
    def max_rel_error(self) -> float:
        """Largest |achieved/target − 1| over all margins (categorical and numeric)."""
        vals = []
        for t in (self.margin_table, self.numeric_table):
            if t is not None and len(t):
                vals.append(float(t["rel_error"].abs().max()))
        return max(vals) if vals else 0.0

    # -- tidy frames ---------------------------------------------------------------------------
    def margins(self) -> pd.DataFrame:
        """Achieved vs target per margin level (with unweighted n and weighted before)."""
        frames = [t for t in (self.margin_table, self.numeric_table) if t is not None]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def trace(self) -> pd.DataFrame:
        """Convergence trace: max relative margin error per iteration."""
        return pd.DataFrame({"iteration": np.arange(len(self.trace_values)),
                             "max_rel_error": self.trace_values})

    def weights_summary(self) -> pd.DataFrame:
        """Weight distribution before and after: min, quantiles, max, max/min, Kish deff, n_eff."""
        rows = {}
        for name, w in (("before", self.weights_before), ("after", self.weights_after)):
            w = np.asarray(w, float)
            wp = w[w > 0]
            q = np.quantile(wp, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) if len(wp) else [np.nan] * 7
            d = kish_deff(w)
            rows[name] = {"n": int(len(wp)), "sum": float(w.sum()), "min": float(wp.min()),
                          "p01": q[0], "p05": q[1], "p25": q[2], "median": q[3], "p75": q[4],
                          "p95": q[5], "p99": q[6], "max": float(wp.max()),
                          "max_min_ratio": float(wp.max() / wp.min()) if wp.min() > 0 else np.inf,
                          "cv": float(wp.std() / wp.mean()), "kish_deff": d,
                          "effective_n": len(wp) / d}
        return pd.DataFrame(rows).T

    def kish(self, by: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Kish design effect and effective n, overall or by domain(s) (margin/group variables).

        Examples
        --------
        >>> r = WeightingReport("x", np.ones(4), np.array([1., 1, 2, 2]),
        ...                     domains=pd.DataFrame({"g": ["a", "a", "b", "b"]}))
        >>> r.kish("g")["kish_deff"].tolist()
        [1.0, 1.0]
        """
        w = np.asarray(self.weights_after, float)
        if by is None:
            return pd.DataFrame([{"domain": "overall", "n": int((w > 0).sum()),
                                  "kish_deff": self.kish_deff, "effective_n": self.effective_n}])
        by = [by] if isinstance(by, str) else list(by)
        if self.domains is None or any(b not in self.domains.columns for b in by):
            have = [] if self.domains is None else list(self.domains.columns)
            raise WeightingError(f"kish(by={by}): domain variable not kept in the report; "
                                 f"available: {have}")
        rows = []
        for key, idx in self.domains.groupby(by, observed=True, sort=True).indices.items():
            wd = w[idx]
            d = kish_deff(wd)
            rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))),
                         "n": int((wd > 0).sum()), "kish_deff": d,
                         "effective_n": (wd > 0).sum() / d})
        return pd.DataFrame(rows)

    def composition(self) -> pd.DataFrame:
        """Unweighted vs weighted (before/after) sample shares next to the population share."""
        t = self.margin_table
        if t is None or not len(t):
            return pd.DataFrame()
        out = t[["margin", "level"]].copy()
        g = t.groupby("margin", sort=False)
        out["population_pct"] = 100 * t["target"] / g["target"].transform("sum")
        out["unweighted_pct"] = 100 * t["n"] / g["n"].transform("sum")
        out["weighted_before_pct"] = 100 * t["before"] / g["before"].transform("sum")
        out["weighted_after_pct"] = 100 * t["achieved"] / g["achieved"].transform("sum")
        return out.reset_index(drop=True)

    def asmd(self) -> pd.DataFrame:
        """Absolute standardised mean differences to the population, before and after.

        For a level with population share p: |p̂ − p| / sqrt(p (1 − p)); per margin the
        largest over its levels; for a numeric variable |x̄_w − X/N| / s_w.
        """
        rows = []
        c = self.composition()
        if len(c):
            p = c["population_pct"] / 100
            sd = np.sqrt(np.clip(p * (1 - p), 1e-12, None))
            c = c.assign(unweighted=(c["unweighted_pct"] / 100 - p).abs() / sd,
                         before=(c["weighted_before_pct"] / 100 - p).abs() / sd,
                         after=(c["weighted_after_pct"] / 100 - p).abs() / sd)
            for m, gdf in c.groupby("margin", sort=False):
                rows.append({"variable": m, "asmd_unweighted": gdf["unweighted"].max(),
                             "asmd_before": gdf["before"].max(), "asmd_after": gdf["after"].max()})
        if self.numeric_table is not None:
            for r in self.numeric_table.itertuples():
                rows.append({"variable": r.margin, "asmd_unweighted": r.asmd_unweighted,
                             "asmd_before": r.asmd_before, "asmd_after": r.asmd_after})
        return pd.DataFrame(rows)

    def discrepancy(self) -> pd.DataFrame:
        """Totals of the margins as published, the control total, and the rescaling factors."""
        return (self.discrepancy_table if self.discrepancy_table is not None
                else pd.DataFrame())

    def steps_frame(self) -> pd.DataFrame:
        """One row per step of the weighting chain (oldest first)."""
        chain, r = [], self
        while r is not None:
            chain.append(r)
            r = r.previous
        return pd.DataFrame([{"method": r.method, "converged": r.converged,
                              "iterations": r.iterations, "max_rel_error": r.max_rel_error,
                              "kish_deff": r.kish_deff, "trimmed_mass": r.trimmed_mass,
                              "options": r.options} for r in reversed(chain)])

    def sources_frame(self) -> pd.DataFrame:
        """Where each margin's population figures came from (empty without ``population.yml``)."""
        return pd.DataFrame([{"margin": k if isinstance(k, str) else " × ".join(k), **v}
                             for k, v in self.sources.items()])

    # -- display -------------------------------------------------------------------------------
    def __repr__(self) -> str:
        ws = self.weights_summary()
        a = ws.loc["after"]
        lines = [f"WeightingReport: {self.method}"
                 + (f" ({'; '.join(f'{k}={v}' for k, v in self.options.items())})"
                    if self.options else ""),
                 f"  converged: {self.converged} in {self.iterations} iterations; "
                 f"max relative margin error {self.max_rel_error:.2e}",
                 f"  weights: n={int(a['n'])}, sum={a['sum']:,.1f}, min={a['min']:.4g}, "
                 f"median={a['median']:.4g}, max={a['max']:.4g}, max/min={a['max_min_ratio']:.3g}",
                 f"  Kish deff {self.kish_deff:.3f} (before {kish_deff(self.weights_before):.3f}); "
                 f"effective n {self.effective_n:,.1f}"]
        if self.n_trimmed:
            lines.append(f"  trimmed: {self.n_trimmed} weights, mass {self.trimmed_mass:,.2f} "
                         "redistributed")
        d = self.discrepancy()
        if len(d) and (d["rel_diff"].abs() > 1e-9).any():
            lines.append("  margin totals rescaled to the control total "
                         f"{d['control_total'].iloc[0]:,.0f}: "
                         + ", ".join(f"{r.margin} {r.rel_diff:+.2%}" for r in d.itertuples()))
        am = self.asmd()
        if len(am):
            lines.append("  ASMD before → after: " + ", ".join(
                f"{r.variable} {r.asmd_before:.3f}→{r.asmd_after:.3f}" for r in am.itertuples()))
        for n in self.notes:
            lines.append(f"  note: {n}")
        if self.previous is not None:
            lines.append(f"  after: {' → '.join(self.steps_frame()['method'][:-1])}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = html.escape(repr(self)).replace("\n", "<br>")
        parts = [f"<div><p style='font-family:monospace'>{head}</p>"]
        m = self.margins()
        if len(m):
            parts.append("<details open><summary>achieved vs target</summary>"
                         + m.to_html(index=False, float_format=lambda x: f"{x:,.4g}") + "</details>")
        parts.append("<details><summary>weight distribution</summary>"
                     + self.weights_summary().to_html(float_format=lambda x: f"{x:,.4g}")
                     + "</details>")
        c = self.composition()
        if len(c):
            parts.append("<details><summary>sample composition vs population (%)</summary>"
                         + c.to_html(index=False, float_format=lambda x: f"{x:.1f}")
                         + "</details>")
        parts.append("</div>")
        return "".join(parts)
