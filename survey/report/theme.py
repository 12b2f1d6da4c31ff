"""The plot theme of the published report (seaborn on top of matplotlib, Chinese-capable).

``seaborn.set_theme`` resets ``font.family``/``font.sans-serif``, so :func:`use_theme` calls it
first and sets the fonts *after*: the shipped CJK subset first, DejaVu Sans as a per-glyph
fallback (matplotlib ≥ 3.6).  The Unicode minus sign (U+2212) is in the shipped subset, so
``axes.unicode_minus`` stays on.  Output is deterministic (fixed ``svg.hashsalt``, no dates in
PNG metadata).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from survey.report.theme import use_theme
>>> rc = use_theme()
>>> rc["font.sans-serif"][0]
'Survey Sans CJK SC'
"""
from __future__ import annotations

from typing import Any

from .fonts import FONT_FAMILY, register_font

__all__ = ["PALETTE", "use_theme", "theme_rc", "new_figure"]

#: Colour-blind-safe qualitative palette (Okabe–Ito), in the order charts use it.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]


def theme_rc(*, dpi: int = 110) -> dict[str, Any]:
    """The matplotlib rcParams the report uses (fonts last, because seaborn resets them).

    Examples
    --------
    >>> theme_rc()["axes.unicode_minus"]
    True
    """
    return {
        "font.family": ["sans-serif"],
        "font.sans-serif": [FONT_FAMILY, "DejaVu Sans"],
        "axes.unicode_minus": True,
        "axes.titleweight": "normal",
        "axes.titlesize": 12,
        "axes.labelsize": 10,
        "figure.figsize": (7.0, 4.0),
        "figure.dpi": dpi,
        "savefig.dpi": dpi,
        "savefig.bbox": "tight",
        "svg.hashsalt": "survey-report",
        "svg.fonttype": "path",
        "pdf.fonttype": 42,
    }


def use_theme(*, context: str = "notebook", dpi: int = 110) -> dict[str, Any]:
    """Register the CJK font and apply the report theme; returns the rcParams that were set.

    Parameters
    ----------
    context : str
        seaborn plotting context ("paper", "notebook", "talk").
    dpi : int
        Resolution of inline/exported figures.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> use_theme()["font.family"]
    ['sans-serif']
    """
    import matplotlib as mpl
    import seaborn as sns

    register_font()
    sns.set_theme(context=context, style="whitegrid", palette=PALETTE)
    rc = theme_rc(dpi=dpi)
    mpl.rcParams.update(rc)  # after set_theme, which resets the font family
    _quiet_inline_metadata()
    return rc


def _quiet_inline_metadata() -> None:
    """In a Jupyter kernel, make inline PNGs deterministic and sharp (no-op elsewhere)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    ip = get_ipython()
    if ip is None:
        return
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png", metadata={"Software": None})
    except Exception:  # pragma: no cover - older matplotlib-inline
        pass


def new_figure(width: float = 7.0, height: float = 4.0):
    """A themed ``(fig, ax)`` pair; the theme is applied if it was not already.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig, ax = new_figure()
    >>> type(ax).__name__
    'Axes'
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    if mpl.rcParams["font.sans-serif"][:1] != [FONT_FAMILY]:
        use_theme()
    return plt.subplots(figsize=(width, height))
