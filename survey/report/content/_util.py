"""Small helpers shared by the content modules (HTML bundles, table ids, estimate tables)."""
from __future__ import annotations

import html
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..tables import PublishedTable, fmt_ci, style_table
from ..display import HTML as H

__all__ = ["Bundle", "H", "esc", "prefix", "est_cells", "publish_estimates", "holm", "no_design"]


class Bundle:
    """Several displayable parts (headings, tables, charts) shown in order by one cell."""

    def __init__(self, parts: Iterable[Any] = ()) -> None:
        self.parts = [p for p in parts if p is not None]

    def add(self, part: Any) -> Any:
        if part is not None:
            self.parts.append(part)
        return part

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for p in self.parts:
            display(p)

    def _repr_html_(self) -> str:  # outside IPython (doctests, tests): the HTML parts only
        return "".join(p._repr_html_() for p in self.parts if hasattr(p, "_repr_html_"))

    def __repr__(self) -> str:
        return "\n".join(repr(p) for p in self.parts)


def esc(x: Any) -> str:
    return html.escape(str(x))


def prefix(ctx: Any) -> str:
    """Table-id prefix of a notebook: Q (quality), T (survey_report), S otherwise."""
    return {"quality": "Q", "survey_report": "T"}.get(ctx.notebook, "S")


def no_design(ctx: Any) -> H | None:
    """A visible box when the wave could not be prepared (no design), else None."""
    if ctx.prepared is not None:
        return None
    msg = ctx.prepare_error or ctx.load_error or "未提供问卷或数据（参数 questionnaire / data）"
    return H(f'<div class="no-data">无法完成清理与加权：{esc(msg)}</div>')


def est_cells(frame: pd.DataFrame, *, proportion: bool, min_cell: int,
              scale: float = 1.0) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Formatted ``estimate (ci)`` strings and the suppressed / unreliable masks of a tidy
    estimate frame (flag columns of :func:`survey.tables.add_flags` are added when absent)."""
    from ...tables import add_flags

    f = frame
    if "flag" not in f.columns or "suppress" not in f.columns:
        if "n_cell" not in f.columns:
            f = f.assign(n_cell=f["n"])
        f = add_flags(f, min_cell=min_cell)
    supp = (f["n_cell"].to_numpy() < min_cell) & (f["n_cell"].to_numpy() > 0) | f["suppress"].to_numpy(bool)
    txt = [fmt_ci(e * scale, lo * scale, hi * scale, proportion=proportion)
           for e, lo, hi in zip(f["estimate"], f["ci_low"], f["ci_high"])]
    return (pd.Series(txt, index=f.index), pd.Series(supp, index=f.index),
            pd.Series(f["flag"].to_numpy(bool) & ~supp, index=f.index))


def holm(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values (family-wise error rate): the report's one rule,
    :func:`survey.multiplicity.adjust_pvalues`.

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    from ...multiplicity import adjust_pvalues

    return adjust_pvalues(p, "holm")


def publish_estimates(ctx: Any, table: pd.DataFrame, table_id: str, title: str, *,
                      supp: pd.DataFrame | None = None, unrel: pd.DataFrame | None = None,
                      notes: list[str] | None = None, formats: dict[str, str] | None = None,
                      index: bool = True) -> PublishedTable:
    """style_table + publish with the notebook's min_cell in the footnote."""
    from ..sections import publish

    mc = int(ctx.params.get("min_cell", 10))
    fm = {c: "text" for c in table.columns if table[c].dtype == object or pd.api.types.is_string_dtype(table[c])}
    fm.update(formats or {})
    t = style_table(table, table_id, title=title, formats=fm, suppressed=supp, unreliable=unrel,
                    notes=list(notes or []), min_cell=mc, index=index)
    return publish(t, ctx)
