"""The published report: notebooks → HTML + Excel, Chinese fonts, table styling, disclosure control.

The notebooks in ``notebooks/`` hold no logic: each code cell calls this package.

* :func:`validate` — parameter schema per notebook (first cell after papermill's injection).
* :func:`use_theme`, :func:`register_font` — matplotlib/seaborn theme with the shipped CJK font.
* :func:`style_table`, :func:`publish` — styled tables (fixed ids, "—" for suppressed cells),
  collected into one Excel workbook.
* :func:`suppress_table`, :func:`flag_estimates` — small-cell and complementary suppression.
* :func:`provenance` — the provenance block in the last cell of every notebook.
* :func:`render_report` — papermill + nbconvert runner (``survey report``).

Examples
--------
>>> from survey import report
>>> p = report.validate({"wave": "2024", "min_cell": 10}, notebook="quality")
>>> p.min_cell, p.confidence
(10, 0.95)
"""
from __future__ import annotations

from .disclosure import Suppression, check_no_station, flag_estimates, primary_mask, reliability_mask, suppress_table
from .findings import section_findings
from .fonts import FONT_FAMILY, font_face_css, register_font
from .params import NOTEBOOKS, Params, schema, validate
from .provenance import provenance
from .sections import *  # noqa: F401,F403
from .sections import __all__ as _sections_all
from .tables import PublishedTable, fmt_ci, fmt_count, fmt_mean, fmt_pct, style_table
from .theme import PALETTE, use_theme


def render_report(*args, **kwargs):
    """Render notebooks to HTML (see :func:`survey.report.runner.render_report`)."""
    from .runner import render_report as _render

    return _render(*args, **kwargs)


__all__ = [
    "FONT_FAMILY", "NOTEBOOKS", "PALETTE", "Params", "PublishedTable", "Suppression",
    "check_no_station", "flag_estimates", "fmt_ci", "fmt_count", "fmt_mean", "fmt_pct",
    "font_face_css", "primary_mask", "provenance", "register_font", "reliability_mask",
    "render_report", "schema", "section_findings", "style_table", "suppress_table", "use_theme", "validate",
    *_sections_all,
]
