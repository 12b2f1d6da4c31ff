"""Labels and words for the priority matrix (:func:`survey.report.content.painpoints.plot_priority`).

:func:`place_labels` puts each item's name beside its point without overlapping another label
or point (a deterministic greedy rule; no extra library); :func:`priority_caption` says what
the four quadrants mean and why the most often chosen problem lands in its quadrant.
"""
from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..format import fmt_pct

__all__ = ["place_labels", "priority_caption"]


def place_labels(ax: Any, x: Any, y: Any, labels: Sequence[str], *, fontsize: float = 7) -> list:
    """Label scatter points without overlaps (a deterministic greedy rule, no extra library).

    Points are labelled from the top of the chart down; each label takes the first of the
    positions around its point — right, left, above, below, then the diagonals, at growing
    distances — whose box overlaps no label placed before, no point and stays inside the axes.
    If none is free, the position with the least overlap is taken.  A label placed away from
    its point gets a thin leader line.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(); _ = ax.scatter([1, 1.01, 2], [1, 1.0, 2])
    >>> ts = place_labels(ax, [1, 1.01, 2], [1, 1.0, 2], ["income", "housing", "other"])
    >>> a, b = (t.get_window_extent(fig.canvas.get_renderer()) for t in ts[:2])
    >>> bool(a.overlaps(b))
    False
    """
    from matplotlib.transforms import Bbox

    x, y = np.asarray(x, float), np.asarray(y, float)
    fig = ax.figure
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    pts = ax.transData.transform(np.column_stack([x, y]))
    scale = fig.dpi / 72.0
    dot = 4 * scale  # half the marker's size (s=40 is about 6 pt across)
    avoid = [Bbox.from_extents(px - dot, py - dot, px + dot, py + dot) for px, py in pts]
    frame = ax.get_window_extent(r)
    # (dx, dy in points, ha, va): right, left, above, below, then the four diagonals
    dirs = [(1, 0, "left", "center"), (-1, 0, "right", "center"), (0, 1, "center", "bottom"),
            (0, -1, "center", "top"), (1, 1, "left", "bottom"), (-1, 1, "right", "bottom"),
            (1, -1, "left", "top"), (-1, -1, "right", "top")]
    cands = [(dx * d, dy * d, ha, va) for d in (5, 12, 20, 30) for dx, dy, ha, va in dirs]
    placed: list = []
    texts: list = [None] * len(x)
    for i in sorted(range(len(x)), key=lambda k: (-y[k], x[k])):
        best = None
        t = ax.annotate(labels[i], (x[i], y[i]), xytext=(0, 0), textcoords="offset points",
                        fontsize=fontsize)
        for dx, dy, ha, va in cands:
            t.set_position((dx, dy))
            t.set_ha(ha)
            t.set_va(va)
            bb = t.get_window_extent(r).expanded(1.04, 1.1)
            others = placed + [b for k, b in enumerate(avoid) if k != i]
            cost = sum(_overlap(bb, o) for o in others)
            inside = (bb.x0 >= frame.x0 and bb.x1 <= frame.x1 and bb.y0 >= frame.y0 and bb.y1 <= frame.y1)
            cost += 0 if inside else 1e6
            if best is None or cost < best[0]:
                best = (cost, dx, dy, ha, va)
            if cost == 0:
                break
        _, dx, dy, ha, va = best
        t.set_position((dx, dy))
        t.set_ha(ha)
        t.set_va(va)
        if max(abs(dx), abs(dy)) > 5:
            ax.annotate("", (x[i], y[i]), xytext=(dx, dy), textcoords="offset points",
                        arrowprops={"arrowstyle": "-", "color": "#999999", "lw": 0.5,
                                    "shrinkA": 0, "shrinkB": 3})
        placed.append(t.get_window_extent(r))
        texts[i] = t
    return texts


def _overlap(a: Any, b: Any) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return float(w * h) if w > 0 and h > 0 else 0.0


def priority_caption(pm: pd.DataFrame, level: float = 0.95) -> str:
    """The words under the priority matrix: what the four quadrants mean and why the most
    often chosen problem lands in its quadrant.

    Examples
    --------
    >>> pm = pd.DataFrame({"item": ["收入待遇偏低", "住房困难", "身心健康"], "prevalence": [0.52, 0.33, 0.11],
    ...                    "severity": [0.29, 0.30, 0.44], "severity_low": [0.27, 0.27, 0.38],
    ...                    "severity_high": [0.31, 0.33, 0.50], "suppressed": [False] * 3,
    ...                    "quadrant": ["广泛关注", "优先解决", "少数严重"]})
    >>> pm.attrs.update(split_prevalence=0.33, split_severity=0.30, split="median")
    >>> "收入待遇偏低" in priority_caption(pm) and "广泛关注" in priority_caption(pm)
    True
    """
    p = pm[~pm["suppressed"].astype(bool)]
    if not len(p):
        return ""
    how = "中位数" if pm.attrs.get("split", "median") == "median" else "平均值"
    xs, ys = pm.attrs.get("split_prevalence"), pm.attrs.get("split_severity")
    if xs is None or ys is None or not (np.isfinite(xs) and np.isfinite(ys)):
        xs, ys = float(p["prevalence"].median()), float(p["severity"].median())
    f = lambda v: fmt_pct(v)  # noqa: E731
    who = "把它排在第一位的人" if pm.attrs.get("among", "first") == "first" else "选择它的人"
    words = (f"横轴为选择该问题（前三位任一）的比例，纵轴为{who}中认为困扰“严重/非常严重”的比例；"
             f"虚线为各问题的{how}（选择比例 {f(xs)}%，严重比例 {f(ys)}%）。"
             "四个象限：<b>优先解决</b>——选的人多、困扰也重（两项都不低于虚线）；"
             "<b>广泛关注</b>——选的人多，但困扰的严重比例低于虚线；"
             "<b>少数严重</b>——选的人较少，但选了的人困扰重；"
             "<b>持续观察</b>——两项都低于虚线。象限按各问题之间的相对位置划分，不是统计检验。")
    top = p.sort_values("prevalence", ascending=False, kind="stable").iloc[0]
    sev, lo, hi = float(top["severity"]), top.get("severity_low"), top.get("severity_high")
    side_x = "高于" if top["prevalence"] >= xs else "低于"
    side_y = "不低于" if sev >= ys else "低于"
    ci = (f"（{level * 100:.0f}% 置信区间 {f(lo)}–{f(hi)}）"
          if lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi) else "")
    why = (f"选择比例最高的“{html.escape(str(top['item']))}”（{f(top['prevalence'])}%）{side_x}虚线；"
           f"其严重比例为 {f(sev)}%{ci}，{side_y}{how} {f(ys)}%，因此落在“{html.escape(str(top['quadrant']))}”象限")
    if ci and float(lo) <= ys <= float(hi):
        why += (f"。{how}在该比例的置信区间之内：它与其他问题的严重程度相差不大，"
                "象限归属对抽样误差并不稳健，宜看两个比例本身")
    return words + why + "。"
