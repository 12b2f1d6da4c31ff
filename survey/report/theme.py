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
           "label_rows", "BRIEF_DPI"]

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


def label_rows(ax: Any, y: Any, labels: Any, *, fontsize: float | None = None) -> list:
    """Label the rows *y* (data coordinates) of *ax* as its y tick labels would be, with the
    theme's grid line along each row: the picture of ``ax.set_yticks(y, labels)`` without a
    matplotlib ``Tick`` per row (three lines and two texts made, copied and laid out for every
    label, the costliest part of a chart of many rows).  The y axis is left without ticks;
    returns the label texts.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig, ax = new_figure(3.0, 2.0)
    >>> texts = label_rows(ax, [0, 1], ["住房困难", "收入待遇偏低"], fontsize=8)
    >>> [t.get_text() for t in texts], ax.get_yticks().tolist(), len(ax.collections)
    (['住房困难', '收入待遇偏低'], [], 1)
    """
    import matplotlib as mpl
    import numpy as np
    from matplotlib.collections import LineCollection

    rc = mpl.rcParams
    y = np.asarray(y, float)
    ax.set_yticks([])
    if (rc["axes.grid"] and rc["axes.grid.axis"] in ("both", "y") and rc["axes.grid.which"] in ("major", "both")
            and len(y)):
        segs = np.stack([np.column_stack([np.zeros_like(y), y]), np.column_stack([np.ones_like(y), y])], axis=1)
        ax.add_collection(LineCollection(
            segs, transform=ax.get_yaxis_transform(), colors=rc["grid.color"], linewidths=rc["grid.linewidth"],
            linestyles=rc["grid.linestyle"], alpha=rc["grid.alpha"], capstyle=rc["lines.solid_capstyle"],
            zorder=ax.yaxis.get_zorder()), autolim=False)
    size = float(rc["ytick.major.size"])
    pad = rc["ytick.major.pad"] + {"in": 0.0, "inout": 0.5, "out": 1.0}[rc["ytick.direction"]] * size
    trans, va, ha = ax.get_yaxis_text1_transform(pad)
    colour = rc["ytick.color"] if rc["ytick.labelcolor"] == "inherit" else rc["ytick.labelcolor"]
    fs = rc["ytick.labelsize"] if fontsize is None else fontsize
    return [ax.text(0.0, yi, str(lb), transform=trans, va=va, ha=ha, fontsize=fs, color=colour)
            for yi, lb in zip(y, labels)]


def fit_to_content(fig: Any, *, pad_inches: float = 0.1, dpi: float | None = None) -> Any:
    """Resize *fig* to what it draws plus *pad_inches* around it, keeping every artist where it
    is in inches: the picture ``savefig(bbox_inches="tight")`` crops out, without its cost.

    The cropping pass of ``bbox_inches="tight"`` lays out every text of the chart once more
    (with a renderer of its own, so nothing is reused) before the real draw; here only the
    texts that take part in the layout are measured (a cell label marked
    ``set_in_layout(False)`` is not), with the canvas's renderer.  Axes and figure texts
    (a ``suptitle``) move with the new figure; returns *fig*, to be saved as it is
    (:func:`figure_png` with ``tight=False``) at *dpi* (the texts are measured at the
    resolution the picture is drawn at; default: the figure's).  For a chart whose labels lie
    outside its figure (the group heatmap); a chart ``tight_layout`` laid out inside its
    figure is cropped without measuring by :func:`figure_png` (``tight=True``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> def chart():
    ...     fig, ax = new_figure(4.0, 2.0)
    ...     _ = ax.set_ylabel("一个很长的纵轴标签", labelpad=40)
    ...     return fig
    >>> tight = figure_png(chart())                            # drawn, cut to its ink
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


#: zlib level of the charts' PNGs: levels 1-3 (zlib's fast matcher) are both quicker and, on
#: these flat-coloured charts, smaller than the default 6 (measured on a provincial report's
#: 18 charts: 0.33 s → 0.23 s and 1.69 → 1.54 MB; 9 is 1.6 s for 2 % less than 3)
PNG_COMPRESS_LEVEL = 3


def _agg_canvas(fig: Any) -> Any:
    """The figure's Agg canvas (the inline backend's is one; another is replaced by one)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)


def _encode_png(rgba: Any, dpi: float) -> bytes:
    """PNG bytes of an ``(h, w, 4)`` uint8 picture: RGB when it is opaque (a quarter fewer bytes
    to compress), no metadata but the resolution (as matplotlib writes it), deterministic."""
    import io

    import numpy as np
    from PIL import Image

    opaque = bool((rgba[..., 3] == 255).all())
    im = Image.fromarray(np.ascontiguousarray(rgba[..., :3] if opaque else rgba))
    buf = io.BytesIO()
    im.save(buf, format="png", dpi=(dpi, dpi), compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


def _ink_box(rgba: Any) -> tuple[int, int, int, int] | None:
    """``(left, top, right, bottom)`` pixel box (right/bottom exclusive) of what differs from the
    background, the colour of the four corners; ``None`` when a corner differs from the others
    (something is drawn there) or nothing is drawn at all."""
    import numpy as np

    px = np.ascontiguousarray(rgba).view(np.uint32)[..., 0]
    corners = {int(px[0, 0]), int(px[0, -1]), int(px[-1, 0]), int(px[-1, -1])}
    if len(corners) != 1:
        return None
    ink = px != corners.pop()
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _texts_inside(fig: Any, renderer: Any, *, drawn: bool) -> bool:
    """Whether the texts an axis does not stack against its ticks lie inside the canvas:
    figure texts (a ``suptitle``) and legends, and per axes its titles, axis labels, texts and
    annotations.  A text wholly outside the canvas leaves no ink to find.

    Before the figure is *drawn*, an axis label is placed only along its axis (across it the
    draw places it against the tick labels; until then it is where the layout found it) and a
    legend not yet at all: a label wider than the figure is known without drawing.  Their sizes
    are in matplotlib's cache already when ``tight_layout`` measured them with this renderer."""
    w, h = fig.bbox.width, fig.bbox.height
    arts = [(a, "xy") for a in (*fig.texts, *(fig.legends if drawn else ()))]
    for ax in fig.axes:
        if ax.get_visible():
            arts += [(t, "xy") for t in (ax.title, ax._left_title, ax._right_title, *ax.texts)]
            arts += [(ax.xaxis.label, "xy" if drawn else "x"), (ax.yaxis.label, "xy" if drawn else "y")]
            if drawn and ax.get_legend() is not None:
                arts.append((ax.get_legend(), "xy"))
    for a, along in arts:
        if not (a.get_visible() and a.get_in_layout()) or getattr(a, "get_text", lambda: "x")() == "":
            continue
        bb = a.get_window_extent(renderer)
        if ("x" in along and (bb.x0 < 0 or bb.x1 > w)) or ("y" in along and (bb.y0 < 0 or bb.y1 > h)):
            return False
    return True


def _drawn_and_cropped(fig: Any, pad_inches: float) -> bytes | None:
    """Draw *fig* once at its size and crop the picture to what is drawn plus *pad_inches*.

    The canvas keeps the renderer the layout measured the texts with (``tight_layout`` left the
    figure's size alone), so the draw finds every text's size in matplotlib's cache.  ``None``
    when the chart reaches beyond its canvas (a title or label outside it, seen before drawing;
    after drawing, ink on the canvas's edge or within the pad of it, or a text outside it):
    the caller crops it the measuring way instead."""
    import numpy as np

    canvas = _agg_canvas(fig)
    renderer = canvas.get_renderer()
    if not _texts_inside(fig, renderer, drawn=False):
        return None
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    hpx, wpx = rgba.shape[:2]
    box = _ink_box(rgba)
    if box is None:
        return None
    pad = int(round(pad_inches * fig.dpi))
    x0, y0, x1, y1 = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    if x0 < 0 or y0 < 0 or x1 > wpx or y1 > hpx or not _texts_inside(fig, renderer, drawn=True):
        return None
    return _encode_png(rgba[y0:y1, x0:x1], fig.dpi)


def figure_png(fig: Any, *, dpi: float | None = None, tight: bool = True) -> bytes:
    """Render *fig* once to PNG (deterministic: no metadata) and close it.

    *tight* crops the picture to what is drawn plus ``savefig.pad_inches`` (as
    ``bbox_inches="tight"`` does): the figure is drawn once at its size, on the canvas whose
    renderer its ``tight_layout`` measured the texts with, and the picture is cut to its ink
    and the pad.  Only a chart reaching beyond its canvas (nothing laid it out) is measured
    and resized first (:func:`fit_to_content`), then drawn.  ``False`` draws the figure as it
    is (a chart :func:`fit_to_content` already cropped).  *dpi*: the picture's resolution
    (default: the figure's).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig, ax = new_figure(2.0, 1.0)
    >>> png = figure_png(fig, dpi=100, tight=False)
    >>> png[:4] == b"\\x89PNG", int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    (True, 200, 100)
    >>> fig, ax = new_figure(4.0, 3.0)
    >>> _ = ax.set_title("图题"); fig.tight_layout()
    >>> png = figure_png(fig, dpi=100)                   # cut to the axes, its labels and 0.1 in
    >>> int.from_bytes(png[16:20], "big") < 400, int.from_bytes(png[20:24], "big") < 300
    (True, True)
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    try:
        if dpi is not None:
            fig.set_dpi(dpi)
        png = _drawn_and_cropped(fig, float(mpl.rcParams["savefig.pad_inches"])) if tight else None
        if png is None:
            if tight:
                fit_to_content(fig, pad_inches=float(mpl.rcParams["savefig.pad_inches"]))
            canvas = _agg_canvas(fig)
            canvas.draw()
            import numpy as np

            png = _encode_png(np.asarray(canvas.buffer_rgba()), fig.dpi)
    finally:
        plt.close(fig)
    return png
