"""The published report: notebooks → HTML + Excel, Chinese fonts, table styling, disclosure control.

The notebooks in ``notebooks/`` hold no logic: each code cell calls this package.

* :func:`validate` — parameter schema per notebook (first cell after papermill's injection).
* :func:`use_theme`, :func:`register_font` — matplotlib/seaborn theme with the shipped CJK font.
* :func:`style_table`, :func:`publish` — styled tables (fixed ids, "—" for suppressed cells),
  collected into one Excel workbook.
* :func:`suppress_table`, :func:`flag_estimates` — small-cell and complementary suppression.
* :func:`provenance` — the provenance block in the last cell of every notebook.
* :func:`render_report` — papermill + nbconvert runner (``survey report``).
* :func:`setup` → the notebook's :class:`ReportContext`; ``section_*``, :func:`brief_for_report`
  (the 急难愁盼 page), :func:`trend_inputs` / :func:`headline_table` (the trends page) — each
  notebook cell is one of these calls.  The analyses they show live outside this package
  (:mod:`survey.painpoints`, :mod:`survey.trends`, ...); nothing outside it imports it.

Examples
--------
>>> from survey import report
>>> p = report.validate({"wave": "2024", "min_cell": 10}, notebook="quality")
>>> p.min_cell, p.confidence
(10, 0.95)
"""
from __future__ import annotations

from .content.painpoints import BriefReport, EmptyBrief, brief_for_report
from .content.trends import NoTrends, headline_table, not_comparable_table, plot_trends, trend_inputs
from .context import (TABLES_DIRNAME, FigureOutput, ReportContext, current_context, publish, publish_absent,
                      report_title, require_inputs, sample_sizes, setup)
from .disclosure import Suppression, check_no_station, flag_estimates, primary_mask, reliability_mask, suppress_table
from .findings import painpoint_findings, save_findings, section_findings, survey_findings, trend_findings
from .fonts import FONT_FAMILY, font_face_css, register_font
from .format import PublishedTable, fmt_ci, fmt_count, fmt_mean, fmt_pct, style_table
from .params import NOTEBOOKS, Params, schema, validate
from .provenance import provenance
from .sections import (indicator_estimates, notable_differences, publish_indicators, publish_subgroup_tests,
                       publish_subgroups, read_summary, section_checklist, section_cleaning,
                       section_indicators_note, section_intake, section_key_indicators, section_methods,
                       section_quality, section_sample, section_subgroups, section_weighting,
                       subgroup_estimates, subgroup_tests, title_block)
from .theme import PALETTE, use_theme


def render_report(*args, **kwargs):
    """Render notebooks to HTML (see :func:`survey.report.runner.render_report`)."""
    from .runner import render_report as _render

    return _render(*args, **kwargs)


__all__ = [
    # styling, disclosure, fonts, parameters, provenance
    "FONT_FAMILY", "NOTEBOOKS", "PALETTE", "Params", "PublishedTable", "Suppression",
    "check_no_station", "flag_estimates", "fmt_ci", "fmt_count", "fmt_mean", "fmt_pct",
    "font_face_css", "primary_mask", "provenance", "register_font", "reliability_mask",
    "render_report", "schema", "style_table", "suppress_table", "use_theme", "validate",
    # the notebook's context (survey.report.context)
    "ReportContext", "FigureOutput", "setup", "require_inputs", "publish", "publish_absent", "current_context",
    "report_title", "sample_sizes", "TABLES_DIRNAME",
    # sections (survey.report.sections)
    "title_block", "section_intake", "section_quality", "section_cleaning", "section_sample",
    "section_weighting", "section_key_indicators", "section_indicators_note", "section_subgroups",
    "section_methods", "indicator_estimates", "publish_indicators", "subgroup_estimates",
    "publish_subgroups", "subgroup_tests", "publish_subgroup_tests", "notable_differences",
    "read_summary",
    # the 急难愁盼 page (survey.report.content.painpoints, survey.report.checklist)
    "brief_for_report", "BriefReport", "EmptyBrief", "section_checklist",
    # the trends page (survey.report.content.trends)
    "trend_inputs", "headline_table", "plot_trends", "not_comparable_table", "NoTrends",
    # 主要发现 (survey.report.findings)
    "section_findings", "save_findings", "painpoint_findings", "trend_findings", "survey_findings",
]
