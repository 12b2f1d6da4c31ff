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

__all__ = ["PALETTE", "use_theme", "theme_rc", "new_figure", "blank_figure", "fit_to_content", "figure_png",
           "BRIEF_DPI"]

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


#: Resolution of the charts of the Word 专报 (dots per inch): a 7-inch chart placed 15.5 cm wide
#: prints at about 230 dpi.  A chart both the page and the 专报 show is rendered once at this
#: resolution and shown on the page at its page size (:class:`survey.report.FigureOutput`).
BRIEF_DPI = 200


def _themed() -> None:
    import matplotlib as mpl

    if mpl.rcParams["font.sans-serif"][:1] != [FONT_FAMILY]:
        use_theme()


def new_figure(width: float = 7.0, height: float = 4.0, **subplots: Any):
    """A themed ``(fig, ax)`` pair; the theme is applied if it was not already.

    Keywords go to :func:`matplotlib.pyplot.subplots` (``nrows=``, ``gridspec_kw=`` ...), so
    a chart of several panels is made in one go.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig, ax = new_figure()
    >>> type(ax).__name__
    'Axes'
    >>> fig, axes = new_figure(7.0, 5.0, nrows=2, squeeze=False)
    >>> axes.shape
    (2, 1)
    """
    import matplotlib.pyplot as plt

    _themed()
    return plt.subplots(figsize=(width, height), **subplots)


def blank_figure(width: float = 7.0, height: float = 4.0):
    """A themed figure without axes (for a chart that lays out its own grid).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> blank_figure().axes
    []
    """
    import matplotlib.pyplot as plt

    _themed()
    return plt.figure(figsize=(width, height))


def fit_to_content(fig: Any, *, pad_inches: float = 0.1, dpi: float | None = None) -> Any:
    """Resize *fig* to what it draws plus *pad_inches* around it, keeping every artist where it
    is in inches: the picture ``savefig(bbox_inches="tight")`` crops out, without its cost.

    The cropping pass of ``bbox_inches="tight"`` lays out every text of the chart once more
    (with a renderer of its own, so nothing is reused) before the real draw; here only the
    texts that take part in the layout are measured (a cell label marked
    ``set_in_layout(False)`` is not), with the canvas's renderer.  Axes and figure texts
    (a ``suptitle``) move with the new figure; returns *fig*, to be saved as it is
    (:func:`figure_png` with ``tight=False``) at *dpi* (the texts are measured at the
    resolution the picture is drawn at; default: the figure's).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> def chart():
    ...     fig, ax = new_figure(4.0, 2.0)
    ...     _ = ax.set_ylabel("一个很长的纵轴标签", labelpad=40)
    ...     return fig
    >>> tight = figure_png(chart())                            # cropped by savefig
    >>> fitted = figure_png(fit_to_content(chart()), tight=False)  # drawn once
    >>> tight[16:24] == fitted[16:24]                          # the same width and height
    True
    """
    if dpi is not None:
        fig.set_dpi(dpi)
    renderer = fig.canvas.get_renderer()
    bb = fig.get_tightbbox(renderer)  # inches
    w, h = (float(v) for v in fig.get_size_inches())
    nw, nh = bb.width + 2 * pad_inches, bb.height + 2 * pad_inches
    dx, dy = pad_inches - bb.x0, pad_inches - bb.y0

    def move(x: float, y: float) -> tuple[float, float]:
        return (x * w + dx) / nw, (y * h + dy) / nh

    for ax in fig.axes:
        p = ax.get_position(original=True)
        ax.set_position([*move(p.x0, p.y0), p.width * w / nw, p.height * h / nh])
    for t in fig.texts:  # suptitle and other texts placed in figure coordinates
        if t.get_transform() == fig.transFigure:
            t.set_position(move(*t.get_position()))
    fig.set_size_inches(nw, nh)
    return fig


def figure_png(fig: Any, *, dpi: float | None = None, tight: bool = True) -> bytes:
    """Render *fig* once to PNG (deterministic: no metadata) and close it.

    *tight* crops the picture to what is drawn (``bbox_inches="tight"``), which costs a second
    layout pass over every text; a chart already cropped (:func:`fit_to_content`) passes
    ``False`` and is drawn once, as it is.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig, ax = new_figure(2.0, 1.0)
    >>> png = figure_png(fig, dpi=100, tight=False)
    >>> png[:4] == b"\\x89PNG", int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    (True, 200, 100)
    """
    import io

    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    if not tight and isinstance(fig.get_layout_engine(), PlaceHolderLayoutEngine):
        # left by fig.tight_layout(): it does nothing but make savefig lay every text out once
        # more before drawing; the layout is done, so the figure is drawn as it is
        fig.set_layout_engine(None)
    buf = io.BytesIO()
    try:
        with mpl.rc_context({"savefig.bbox": "tight" if tight else "standard"}):
            fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    finally:
        plt.close(fig)
    return buf.getvalue()
