"""survey.report.html: the page a notebook becomes without nbconvert's BeautifulSoup pass."""
from __future__ import annotations

import base64
import io
import re

import pytest

pytest.importorskip("nbconvert")
bs4 = pytest.importorskip("bs4")

from survey.report import html as H  # noqa: E402


def _png() -> str:
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1), dpi=20)
    ax.plot([0, 1], [1, 0])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _notebook():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    png = _png()
    table = ('<div class="survey-table-wrap" id="T1.1"><table class="survey-table"><caption>表 1.1 性别 &amp; 年龄'
             '</caption><thead><tr><th>&nbsp;</th><th>比例 (%)</th></tr></thead><tbody><tr><th>男</th>'
             '<td class="ci">45.2 (43.1–47.3)</td></tr><tr><th>女 &lt;30 岁</th><td class="suppressed">—</td>'
             '</tr></tbody></table><ol class="table-notes"><li>注：n &lt; 10 的单元格隐去。</li></ol></div>')
    return new_notebook(cells=[
        new_markdown_cell("# 数据接收与质量\n\n本报告记录 *原始数据* 的接收情况 & 质量（≤5%）。\n\n"
                          "## 样本概况\n\n| 项目 | 数值 |\n|---|---|\n| 样本量 | 1,234 |\n\n"
                          "![流程图](data:image/png;base64," + png + ")"),
        new_code_cell("display(table)", outputs=[
            new_output("display_data", data={"text/html": table, "text/plain": "<table>"}),
            new_output("stream", name="stdout", text="  缩进的  文本\n第二行 <b>不是标签</b>\n"),
            new_output("stream", name="stderr", text="UserWarning: noisy\n"),
        ], metadata={"papermill": {"duration": 1.0}}),
        new_code_cell("fig", outputs=[
            new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
            new_output("execute_result", data={"image/png": png, "text/plain": "<Figure>"},
                       execution_count=3),
        ]),
        new_markdown_cell("### 方法说明\n\n权重经 **raking** 校准；见 [附表](#T1.1)。\n\n$x^2$"),
    ])


def _with_nbconvert_soup_pass(nb) -> str:
    """The page as made with nbconvert's complete ``HTMLExporter`` (its BeautifulSoup pass
    included), post-processed as :func:`survey.report.html.notebook_to_html` did before."""
    from nbconvert import HTMLExporter

    exp = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                       exclude_output_prompt=True, embed_images=True)
    body, _ = exp.from_notebook_node(H.strip_for_export(nb))
    body = re.sub(r"<script\b.*?</script>", "", body, flags=re.S | re.I)
    body = body.replace('alt="No description has been provided for this image"', 'alt="图表"')
    body = re.sub(r' id="cell-id=[^"]*"', "", body)
    return H.wrap_page(body, title="报告", font=False)


def _document(page: str) -> str:
    # BeautifulSoup's own serialisation: entities and attribute quoting normalised, and each
    # whitespace-only text run outside <pre> made one newline (which a browser renders alike)
    return str(bs4.BeautifulSoup(page, "html.parser"))


def test_page_is_the_document_nbconvert_made_with_its_soup_pass():
    nb = _notebook()
    ours = H.notebook_to_html(nb, title="报告", font=False)
    ref = _with_nbconvert_soup_pass(nb)
    assert _document(ours) == _document(ref)
    # the same characters, hence the same font subset
    assert set(H._visible_text(ours)) == set(H._visible_text(ref))
    # the same table of contents (built from the headings before any normalisation)
    toc = re.search(r'<nav class="toc".*?</nav>', ours).group(0)
    assert toc == re.search(r'<nav class="toc".*?</nav>', ref).group(0)
    assert toc.count("<li") == 3 and "方法说明" in toc
    # every chart has a text alternative; a markdown image keeps its own
    imgs = re.findall(r"<img\b[^>]*>", ours)
    assert len(imgs) == 3 and all(" alt=" in i for i in imgs)
    assert sum('alt="图表"' in i for i in imgs) == 2 and sum('alt="流程图"' in i for i in imgs) == 1
    # headings in plain text, not character references (pages stay greppable: 数据来源与可重复性)
    assert re.search(r"<h1 id=\"sec-1\">数据接收与质量<", ours) and re.search(r"<h3 [^>]*>方法说明<", ours)
    assert not re.search(r"<h[1-6][^>]*>[^<]*&#", ours)
    assert "&nbsp;" not in ours and "<th>\xa0</th>" in ours
    # whitespace that shows (stream output in <pre>) is kept exactly
    assert "  缩进的  文本\n第二行 &lt;b&gt;不是标签&lt;/b&gt;" in ours
    assert "noisy" not in ours and "<script" not in ours


def test_page_conversion_does_not_parse_the_page_with_beautifulsoup(monkeypatch):
    nb = _notebook()
    H.notebook_to_html(nb, title="报告", font=False)  # exporter made and templates compiled
    calls = []
    real = bs4.BeautifulSoup.__init__

    def counting(self, *a, **k):
        calls.append(1)
        real(self, *a, **k)

    monkeypatch.setattr(bs4.BeautifulSoup, "__init__", counting)
    page = H.notebook_to_html(nb, title="报告", font=False)
    assert calls == [] and 'alt="图表"' in page


def test_page_conversion_is_deterministic_across_exporters():
    # a fresh exporter (another thread) and the reused one give the same bytes
    import threading

    nb = _notebook()
    first = H.notebook_to_html(nb, title="报告")
    out: list[str] = []
    t = threading.Thread(target=lambda: out.append(H.notebook_to_html(nb, title="报告")))
    t.start()
    t.join()
    assert out == [first] and first == H.notebook_to_html(nb, title="报告")
