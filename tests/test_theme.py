"""Tests of survey.report.theme: the tight crop drawn once, label_rows, the PNG encoding.

The pictures are compared with matplotlib's own ``savefig(bbox_inches="tight")`` crop of the
same chart, as a reader would (tests/pictures.py: sizes within two pixels, nothing clipped,
the same picture)."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from pictures import ink_box, pixels, same_chart  # noqa: E402

from survey.report import theme  # noqa: E402
from survey.report.theme import figure_png, label_rows, new_figure  # noqa: E402

ROWS = ["上一年度（2023年）的个人税前总收…：10万元以下", "10万-15万元", "平均每周实际工作多少小时",
        "是否同意以…：人才称号与资源分配挂钩过紧：同意、非常同意"]


def _chart(rows: bool = False, label: str = "加权百分比（%），横线为 95% 置信区间") -> Figure:
    """A panel of long row labels, a title, an x label and a note near the right edge."""
    fig, ax = new_figure(7.0, 3.0)
    y = np.arange(len(ROWS))
    ax.errorbar([20, 35, 50, 65], y, xerr=[[3, 4, 5, 6], [3, 4, 5, 6]], fmt="o", capsize=2)
    if rows:
        label_rows(ax, y, ROWS, fontsize=8)
    else:
        ax.set_yticks(y, ROWS, fontsize=8)
    ax.set_ylim(-0.7, len(ROWS) - 0.3)
    ax.set_xlim(0, 80)
    ax.set_xlabel(label)
    ax.set_title("工作状况：主要指标（加权）")
    ax.annotate("注：样本不足", (80, 0), xytext=(4, 0), textcoords="offset points", fontsize=8)
    fig.tight_layout()
    return fig


def _savefig_tight(fig: Figure, dpi: float | None = None) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.1, dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def _counting(monkeypatch, cls, name) -> list:
    calls: list = []
    real = getattr(cls, name)

    def counted(self, *a, **k):
        calls.append(self)
        return real(self, *a, **k)

    monkeypatch.setattr(cls, name, counted)
    return calls


def test_tight_crop_is_drawn_once_without_measuring_the_figure_again(monkeypatch):
    """A laid-out chart is drawn once and never measured as a whole again (savefig's tight
    crop measured every text once more and drew the figure twice)."""
    draws = _counting(monkeypatch, Figure, "draw")
    measured = _counting(monkeypatch, Figure, "get_tightbbox")
    fig = _chart()
    png = figure_png(fig)
    assert len(draws) == 1 and measured == []
    monkeypatch.undo()
    same_chart(png, _savefig_tight(_chart()))


@pytest.mark.parametrize("dpi", [None, theme.BRIEF_DPI])
def test_every_text_of_a_cropped_chart_lies_inside_the_picture(dpi, monkeypatch):
    """Every text artist's window extent lies inside the cropped picture, at least most of
    the 0.1-inch pad away from its edge: nothing clipped."""
    fig = _chart()
    monkeypatch.setattr(plt, "close", lambda fig: None)  # keep the canvas the chart was drawn on
    png = figure_png(fig, dpi=dpi)
    h, w = pixels(png).shape[:2]
    # where the picture was cut from the canvas the chart was drawn on: its ink, less the pad
    canvas = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    pad = round(0.1 * fig.dpi)
    left, top = ink_box(canvas)[0] - pad, ink_box(canvas)[1] - pad
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text()]
    assert len(texts) >= len(ROWS) + 4
    for t in texts:
        bb = t.get_window_extent(renderer)
        x0, x1 = bb.x0 - left, bb.x1 - left
        y0, y1 = canvas.shape[0] - bb.y1 - top, canvas.shape[0] - bb.y0 - top  # from the top
        assert 0.5 * pad <= x0 and x1 <= w - 0.5 * pad and 0.5 * pad <= y0 and y1 <= h - 0.5 * pad, \
            (t.get_text(), (x0, y0, x1, y1), (w, h))


def test_a_chart_reaching_beyond_its_canvas_grows_to_hold_it(monkeypatch):
    """A title wholly above the figure and a label wider than it (nothing laid them out) are
    found before drawing: the figure is measured and grown, then drawn once."""

    def chart():
        fig, ax = new_figure(3.0, 2.0)
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("一个比整张图还宽得多的横轴标签，横线为 95% 置信区间，纵轴从零开始")
        fig.suptitle("在图的上方之外的标题", y=1.0, va="bottom")
        return fig

    draws = _counting(monkeypatch, Figure, "draw")
    png = figure_png(chart())
    assert len(draws) == 1
    monkeypatch.undo()
    w, h = (int.from_bytes(png[k:k + 4], "big") for k in (16, 20))
    canvas_px = 3.0 * plt.rcParams["figure.dpi"]
    assert w > canvas_px + 50
    same_chart(png, _savefig_tight(chart()))


def test_label_rows_look_like_tick_labels():
    """Rows labelled by label_rows look as the same rows labelled by y ticks, with no tick."""
    fig = _chart(rows=True)
    assert len(fig.axes[0].get_yticks()) == 0 and len(fig.axes[0].yaxis.get_major_ticks()) == 0
    same_chart(figure_png(fig), figure_png(_chart(rows=False)), size_px=1)


def test_same_chart_tells_another_chart_apart():
    """The comparison is not blind: another x label of the same width is another chart."""
    with pytest.raises(AssertionError):
        same_chart(figure_png(_chart()), figure_png(_chart(label="均值（小时），横线为 95% 置信区间")))


def test_figure_png_is_deterministic_rgb_with_its_resolution_only():
    """The same chart gives the same bytes; an opaque chart is stored as RGB (colour type 2)
    with its resolution (pHYs) and no text chunk (no software name, no date)."""
    a, b = figure_png(_chart(), dpi=100), figure_png(_chart(), dpi=100)
    assert a == b
    assert a[25] == 2  # IHDR colour type: truecolour, no alpha
    assert b"pHYs" in a and b"tEXt" not in a and b"iTXt" not in a and b"zTXt" not in a
    i = a.index(b"pHYs") + 4
    assert int.from_bytes(a[i:i + 4], "big") == round(100 / 0.0254)


def test_a_transparent_chart_keeps_its_alpha():
    fig, ax = new_figure(2.0, 1.0)
    fig.patch.set_alpha(0.0)
    ax.patch.set_alpha(0.0)
    ax.plot([0, 1], [0, 1])
    png = figure_png(fig, tight=False)
    assert png[25] == 6  # truecolour with alpha
