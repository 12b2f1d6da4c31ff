"""Executed notebook → one self-contained HTML page; the index page that links the reports.

nbconvert's ``basic`` template renders the cells (code hidden with ``exclude_input``, prompts
excluded); this module wraps them in a page of its own: ``<html lang="zh">``, a ``<title>``, a
table of contents built from the headings, the package's CSS and an ``@font-face`` with a subset
of the shipped CJK font holding the characters the page uses.  The pages of one report share one
subset (:func:`embed_font`: the characters of all its pages, cut once; each page still embeds
it, so every page stays a self-contained file).  No JavaScript, no external URL: reviewers may be
offline.  Output is deterministic (headings get ids ``sec-1``, ``sec-2`` …; run-time-variable
notebook metadata is not rendered; the font depends only on the report's own pages).

Examples
--------
>>> import nbformat
>>> from nbformat.v4 import new_notebook, new_markdown_cell
>>> nb = new_notebook(cells=[new_markdown_cell("# 数据接收与质量\\n\\n## 样本概况")])
>>> page = notebook_to_html(nb, title="测试")
>>> '<html lang="zh">' in page and 'href="#sec-2"' in page and "<script" not in page
True
"""
from __future__ import annotations

import html as _html
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .fonts import FONT_FAMILY, font_face_css

__all__ = ["CSS", "PRINT_CSS", "notebook_to_html", "wrap_page", "build_toc", "index_page", "IndexEntry",
           "strip_for_export", "embed_font", "FONT_SLOT"]

CSS = f"""
:root{{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--accent:#0072B2;--bg-soft:#f6f8fa}}
html{{font-family:'{FONT_FAMILY}','Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif;color:var(--fg);line-height:1.65}}
body{{margin:0;font-size:15px}}
.page{{display:flex;max-width:1200px;margin:0 auto}}
nav.toc{{position:sticky;top:0;align-self:flex-start;width:230px;max-height:100vh;overflow:auto;padding:24px 12px;font-size:13px;border-right:1px solid var(--line)}}
nav.toc ol{{list-style:none;padding-left:0;margin:0}} nav.toc li.l2{{padding-left:1em}} nav.toc li.l3{{padding-left:2em}}
nav.toc a{{color:var(--muted);text-decoration:none}} nav.toc a:hover{{color:var(--accent)}}
main{{flex:1;min-width:0;padding:24px 40px}}
h1,h2,h3{{line-height:1.3;font-weight:700}} h1{{font-size:26px}} h2{{font-size:20px;border-bottom:1px solid var(--line);padding-bottom:4px;margin-top:2em}}
a.anchor-link{{display:none}}
img{{max-width:100%;height:auto}}
table{{border-collapse:collapse;margin:8px 0;font-size:13.5px}}
th,td{{border:1px solid var(--line);padding:4px 8px}} thead th{{background:var(--bg-soft)}}
td{{text-align:right;font-variant-numeric:tabular-nums}} tbody th{{text-align:left;font-weight:500}}
caption{{caption-side:top;text-align:left;font-weight:700;padding:4px 0}}
td.suppressed{{color:var(--muted);text-align:center}} td.unreliable{{font-style:italic}}
ol.table-notes{{font-size:12.5px;color:var(--muted);margin:2px 0 16px;padding-left:1.4em}}
.placeholder{{border:2px dashed #E69F00;background:#fff8e6;padding:10px 14px;margin:10px 0;color:#8a5a00}}
.no-data{{border-left:4px solid #D55E00;background:#fdf0ea;padding:8px 12px}}
.provenance{{font-size:12.5px;color:var(--muted)}} .provenance td{{text-align:left;word-break:break-all}}
.report-subtitle{{color:var(--muted)}}
table.kv td{{text-align:left}}
.output_stderr{{display:none}}
.survey-table-wrap{{max-width:100%;overflow-x:auto}}
ol.findings{{padding-left:1.6em;max-width:60em}} ol.findings li{{margin:6px 0}}
a.finding-link{{font-size:12.5px;white-space:nowrap;color:var(--accent)}}
td.ci{{white-space:nowrap}} table.survey-table tbody th{{min-width:11em}} table.survey-table.numidx tbody th{{min-width:0}}
table.survey-table.wide{{font-size:12.5px}} table.survey-table.wide th,table.survey-table.wide td{{padding:3px 5px}} table.survey-table.wide thead th{{min-width:3em}}
details.fold{{margin:6px 0;border:1px solid var(--line);border-radius:4px;padding:2px 10px}}
details.fold>summary{{cursor:pointer;padding:4px 0;color:var(--fg)}} details.fold[open]>summary{{border-bottom:1px solid var(--line);margin-bottom:6px}}
details.fold>summary .fold-hint{{color:var(--muted);font-size:12.5px}}
p.see-also{{color:var(--muted);font-size:13.5px}}
figcaption.figure-caption{{font-size:13.5px;color:var(--fg);max-width:60em;margin:2px 0 14px}}
""".strip()

#: The print stylesheet (part of :data:`CSS`): printing a page to PDF from a browser gives A4
#: pages without the navigation, no table row, chart or figure split across pages, table
#: headers repeated on every page, a caption or heading kept with what follows, and external
#: links followed by their address.
PRINT_CSS = """
@page{size:A4;margin:16mm 14mm 18mm 14mm}
@media print{
html{font-size:10.5pt;-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{font-size:10.5pt;background:#fff}
nav.toc,a.anchor-link,.output_stderr,.prompt,.input_prompt{display:none !important}
.page{display:block;max-width:none;margin:0}
main{padding:0;width:auto}
h1,h2,h3,h4{break-after:avoid;page-break-after:avoid;break-inside:avoid;page-break-inside:avoid}
h2{margin-top:1.2em}
p,li{orphans:3;widows:3}
table{font-size:9pt;max-width:100%}
thead{display:table-header-group}
tfoot{display:table-footer-group}
tr,th,td{break-inside:avoid;page-break-inside:avoid}
caption{break-after:avoid;page-break-after:avoid}
thead tr:last-child{break-after:avoid;page-break-after:avoid}
ol.table-notes{break-before:avoid;page-break-before:avoid}
img,svg,figure,.output_png{display:block;break-inside:avoid;page-break-inside:avoid;max-height:245mm;max-width:100%;object-fit:contain}
figure,.output_png,.output_subarea:has(> img){break-inside:avoid;page-break-inside:avoid}
.survey-table-wrap{overflow:visible;break-inside:avoid;page-break-inside:avoid}
details.fold{border:0;padding:0}
details.fold>summary{list-style:none;font-weight:700}
details.fold>summary .fold-hint{display:none}
details::details-content{content-visibility:visible;display:block}
td.ci{white-space:normal}
a{color:inherit;text-decoration:none}
main a[href^="http"]::after{content:" (" attr(href) ")";font-size:85%;color:#59636e;word-break:break-all}
}
""".strip()

CSS = CSS + "\n" + PRINT_CSS

_HEADING = re.compile(r"<h([1-3]) id=\"([^\"]*)\">(.*?)</h\1>", re.S)
_TAG = re.compile(r"<[^>]+>")


def strip_for_export(nb: Any) -> Any:
    """Copy of an executed notebook without run-time-variable metadata and stderr output.

    Removes papermill's per-cell timings/status, execution timestamps and counts, and stderr
    streams (warnings belong in the run log, not in a published report).

    Examples
    --------
    >>> import nbformat
    >>> from nbformat.v4 import new_notebook, new_code_cell
    >>> nb = new_notebook(cells=[new_code_cell("1", metadata={"papermill": {"duration": 1.2}})])
    >>> strip_for_export(nb).cells[0].metadata
    {}
    """
    import copy

    nb = copy.deepcopy(nb)
    nb.metadata.pop("papermill", None)
    for key in list(nb.metadata):
        if key not in ("kernelspec", "language_info"):
            nb.metadata.pop(key)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.execution_count = None
            cell.outputs = [o for o in cell.outputs
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
            for o in cell.outputs:
                if "execution_count" in o:
                    o["execution_count"] = None
    return nb


def build_toc(body: str) -> tuple[str, str]:
    """Renumber h1–h3 ids to ``sec-N`` and return ``(body, toc_html)``.

    Examples
    --------
    >>> b, toc = build_toc('<h2 id="x">样本<a class="anchor-link" href="#x">¶</a></h2>')
    >>> 'id="sec-1"' in b and 'href="#sec-1"' in toc
    True
    """
    items: list[tuple[int, str, str]] = []
    old_to_new: dict[str, str] = {}

    def repl(m: re.Match[str]) -> str:
        level, old, inner = int(m.group(1)), m.group(2), m.group(3)
        new = f"sec-{len(items) + 1}"
        old_to_new[old] = new
        text = _html.unescape(_TAG.sub("", inner)).replace("¶", "").strip()
        items.append((level, new, text))
        inner = inner.replace(f'href="#{old}"', f'href="#{new}"')
        return f'<h{level} id="{new}">{inner}</h{level}>'

    body = _HEADING.sub(repl, body)
    lis = "".join(f'<li class="l{lv}"><a href="#{i}">{_html.escape(t)}</a></li>' for lv, i, t in items)
    toc = f'<nav class="toc" aria-label="目录"><strong>目录</strong><ol>{lis}</ol></nav>'
    return body, toc


#: Where a page made with ``font=False`` takes its ``@font-face`` rule (:func:`embed_font`); a
#: CSS comment, so a page written without its font still is valid HTML.
FONT_SLOT = "/* @font-face: survey */"


def wrap_page(body: str, *, title: str, lang: str = "zh", toc: bool = True,
              extra_head: str = "", font: bool = True) -> str:
    """Wrap an HTML fragment in a complete, self-contained page (TOC, CSS, embedded font).

    *font* ``False`` leaves the ``@font-face`` rule out (:data:`FONT_SLOT` marks its place) for
    :func:`embed_font`, which gives all pages of one report the same subset.

    Examples
    --------
    >>> p = wrap_page("<h1 id='a'>科技</h1>", title="报告")
    >>> p.startswith("<!DOCTYPE html>") and "<title>报告</title>" in p
    True
    """
    nav = ""
    if toc:
        body, nav = build_toc(body)
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="{_html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_html.escape(title)}</title>\n"
        f"<style>\n{FONT_SLOT}\n{CSS}\n</style>\n{extra_head}</head>\n<body>\n"
        f'<div class="page">{nav}<main>\n{body}\n</main></div>\n</body>\n</html>\n'
    )
    return embed_font({"page": page})["page"] if font else page


def embed_font(pages: Mapping[str, str]) -> dict[str, str]:
    """Put one ``@font-face`` rule into every page (made with ``font=False``): a subset of the
    shipped font cut once for the characters of *all* the pages.

    The pages of a report thus embed the same font, which depends only on the characters
    they show (not on their order, nor on what the process rendered before), and each page
    stays self-contained.

    Raises
    ------
    ReportError
        A page has no font slot (it was made with ``font=True`` or is not one of ours).

    Examples
    --------
    >>> a = wrap_page("<h1 id='a'>科技</h1>", title="甲", font=False)
    >>> b = wrap_page("<h1 id='b'>工作者</h1>", title="乙", font=False)
    >>> out = embed_font({"a.html": a, "b.html": b})
    >>> css = lambda p: p.split("<style>")[1].split("}")[0]
    >>> css(out["a.html"]) == css(out["b.html"]) and "@font-face" in out["a.html"]
    True
    """
    from ..errors import ReportError

    for name, page in pages.items():
        if FONT_SLOT not in page:
            raise ReportError(f"page {name}: no font slot ({FONT_SLOT}); make it with font=False")
    text = "".join(dict.fromkeys(c for page in pages.values() for c in _visible_text(page)))
    css = font_face_css(text)
    return {name: page.replace(FONT_SLOT, css, 1) for name, page in pages.items()}


def _visible_text(s: str) -> str:
    s = re.sub(r"<style.*?</style>", "", s, flags=re.S)
    s = re.sub(r'src="data:[^"]*"', "", s)
    return _html.unescape(_TAG.sub("", s))


_EXPORTERS = threading.local()
_IMG = re.compile(r"<img\b[^>]*>")
_HEADING_ELEM = re.compile(r"<h[1-6]\b.*?</h[1-6]>", re.S)
_CHAR_REF = re.compile(r"&#(?:x([0-9a-fA-F]+)|([0-9]+));")


def _literal(m: re.Match[str]) -> str:
    cp = int(m[1], 16) if m[1] else int(m[2])
    return chr(cp) if 127 < cp < 0x110000 and not 0xD800 <= cp < 0xE000 else m[0]


def _exporter() -> Any:
    """This thread's nbconvert exporter: made (and its Jinja templates compiled, a third of a
    page's conversion) once, then reused for every page the thread converts."""
    exp = getattr(_EXPORTERS, "html", None)
    if exp is None:
        from nbconvert import HTMLExporter
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        class PageExporter(HTMLExporter):
            """``HTMLExporter`` without its final BeautifulSoup pass.

            nbconvert parses the whole rendered page (charts as base64 text included) with
            BeautifulSoup and serialises it again, only to give ``<img>`` without ``alt`` a
            placeholder text and to put ``tabindex`` on ``.jp-Notebook`` cells, which the
            ``basic`` template does not have: 60 % of a page's conversion.  Here the template
            output is returned as it is and :func:`notebook_to_html` gives such images
            ``alt="图表"`` itself; the pages parse to the same document (tested).  The rest
            is ``HTMLExporter.from_notebook_node`` (nbconvert 7)."""

            def from_notebook_node(self, nb, resources=None, **kw):  # noqa: ANN001, ANN201
                langinfo = nb.metadata.get("language_info", {})
                lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
                highlight_code = self.filters.get(
                    "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
                resources = self._init_resources(resources)
                filter_data_type = WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources)
                self.register_filter("highlight_code", highlight_code)
                self.register_filter("filter_data_type", filter_data_type)
                return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

        exp = _EXPORTERS.html = PageExporter(
            template_name="basic", exclude_input=True, exclude_input_prompt=True,
            exclude_output_prompt=True, embed_images=True)
    return exp


def notebook_to_html(nb: Any, *, title: str, lang: str = "zh", font: bool = True) -> str:
    """Render an executed notebook to one self-contained HTML page (code hidden).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook.
    title : str
        ``<title>`` of the page.
    lang : str
        ``lang`` attribute of ``<html>`` (``"zh"``).
    font : bool
        Embed the font subset of this page; ``False`` leaves it to :func:`embed_font` (one
        subset for all pages of a report).

    Examples
    --------
    >>> import nbformat
    >>> from nbformat.v4 import new_notebook, new_code_cell
    >>> nb = new_notebook(cells=[new_code_cell("print('x')")])
    >>> "print(" in notebook_to_html(nb, title="t")
    False
    """
    body, _ = _exporter().from_notebook_node(strip_for_export(nb))
    body = re.sub(r"<script\b.*?</script>", "", body, flags=re.S | re.I)
    # charts get a text alternative (nbconvert's own pass gave them "No description ...")
    body = _IMG.sub(lambda m: m[0] if re.search(r"\salt=", m[0]) else '<img alt="图表"' + m[0][4:], body)
    body = re.sub(r' id="cell-id=[^"]*"', "", body)
    # nbconvert's heading anchors write non-ASCII text as character references (&#25968;...):
    # headings in plain Chinese, as the page shows them (and as the soup pass wrote them)
    body = _HEADING_ELEM.sub(lambda m: _CHAR_REF.sub(_literal, m[0]), body)
    body = body.replace("&nbsp;", "\xa0")  # pandas' empty header cells: the character itself
    return wrap_page(body, title=title, lang=lang, font=font)


@dataclass(frozen=True)
class IndexEntry:
    """One link on the index page."""

    href: str
    title: str
    group: str = "全部样本"
    note: str = ""


def index_page(entries: Sequence[IndexEntry], *, title: str, intro: str = "",
               extra_links: Sequence[tuple[str, str]] = (), lead_html: str = "",
               font: bool = True) -> str:
    """The ``index.html`` that links every rendered notebook (grouped, e.g. by region);
    *lead_html* (the 主要发现, :func:`survey.report.findings.findings_html`) comes first;
    *font* as in :func:`wrap_page`.

    Examples
    --------
    >>> p = index_page([IndexEntry("quality.html", "数据接收与质量")], title="2024 报告")
    >>> 'href="quality.html"' in p
    True
    """
    groups: dict[str, list[IndexEntry]] = {}
    for e in entries:
        groups.setdefault(e.group, []).append(e)
    parts = [f"<h1 id=\"top\">{_html.escape(title)}</h1>"]
    if intro:
        parts.append(f"<p>{_html.escape(intro)}</p>")
    if lead_html:
        parts.append(lead_html)
    for k, (g, es) in enumerate(groups.items(), start=1):
        parts.append(f"<h2 id=\"grp-{k}\">{_html.escape(g)}</h2><ul class=\"report-links\">")
        for e in es:
            note = f" <small>{_html.escape(e.note)}</small>" if e.note else ""
            parts.append(f'<li><a href="{_html.escape(e.href)}">{_html.escape(e.title)}</a>{note}</li>')
        parts.append("</ul>")
    if extra_links:
        parts.append('<h2 id="downloads">下载</h2><ul>')
        parts.extend(f'<li><a href="{_html.escape(h)}">{_html.escape(t)}</a></li>' for h, t in extra_links)
        parts.append("</ul>")
    return wrap_page("\n".join(parts), title=title, toc=False, font=font)
