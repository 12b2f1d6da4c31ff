"""The report context: what every cell of one notebook shares, and how its tables are published.

``ctx = report.setup(P, notebook=...)`` loads the questionnaire and the data (read → clean →
weight, cached: :mod:`survey.report.content.data`) into a :class:`ReportContext`;
:func:`publish` registers a styled table for the workbook; :class:`FigureOutput` is a finished
chart.  The section builders (:mod:`survey.report.sections`, :mod:`survey.report.content`)
import these from here, so they never import each other in a circle.

Examples
--------
>>> from survey.report.params import validate
>>> ctx = setup(validate(notebook="quality"), notebook="quality")
>>> ctx.data is None, current_context(None) is ctx
(True, True)
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..errors import ReportError
from .disclosure import hidden_levels
from .format import PublishedTable

__all__ = ["ReportContext", "FigureOutput", "setup", "require_inputs", "publish", "publish_absent",
           "current_context", "report_title", "sample_sizes", "TABLES_DIRNAME"]

TABLES_DIRNAME = ".tables"


class FigureOutput:
    """A finished chart: rendered once to PNG (deterministic, no metadata) and closed.

    Returning this instead of the matplotlib figure avoids the inline backend showing the chart
    twice and keeps open figures from piling up.  *tight* as in
    :func:`survey.report.theme.figure_png`: a chart laid out by ``tight_layout`` is drawn
    once and cut to what it draws (``False``: a chart already cropped by
    :func:`~survey.report.theme.fit_to_content` is drawn once, as it is).  A *dpi* above the
    page's (the 专报's :data:`~survey.report.theme.BRIEF_DPI`, for a chart the Word file
    reuses) is shown at the size it has at the page's resolution, only sharper.
    """

    def __init__(self, fig: Any, *, dpi: int | None = None, tight: bool = True) -> None:
        import matplotlib as mpl

        from .theme import figure_png

        shown = float(mpl.rcParams["figure.dpi"])  # the page's resolution (the theme's)
        self.png = figure_png(fig, dpi=dpi, tight=tight)
        self._size = None
        if dpi is not None and dpi > shown:
            w, h = (int.from_bytes(self.png[k:k + 4], "big") for k in (16, 20))  # PNG IHDR
            self._size = {"width": round(w * shown / dpi), "height": round(h * shown / dpi)}

    def _repr_png_(self) -> Any:
        return self.png if self._size is None else (self.png, dict(self._size))

    def __repr__(self) -> str:
        return f"<图表 PNG {len(self.png):,} 字节>"


@dataclass
class ReportContext:
    """What the sections of one notebook share: parameters, inputs, the table registry."""

    params: Mapping[str, Any]
    notebook: str
    questionnaire: Any = None
    data: pd.DataFrame | None = None
    read_report: Any = None
    load_error: str | None = None
    tables: list[PublishedTable] = field(default_factory=list)
    #: ids of the tables this notebook does not publish, with why (:func:`publish_absent`)
    absent: dict[str, str] = field(default_factory=dict)
    figures: int = 0
    prepared: Any = None
    prepare_error: str | None = None
    _previous: Any = field(default=None, repr=False)
    _hidden: dict = field(default_factory=dict, repr=False)
    #: results computed once per context (see :meth:`memo`), cleared when the design changes
    _memo: dict = field(default_factory=dict, repr=False)
    #: (key, prepared, design): the design of :attr:`design`, built once per prepared wave/region
    _design: Any = field(default=None, repr=False)

    def memo(self, key: tuple, compute: Any) -> Any:
        """``compute()`` once per context: a statistic several sections need (the 主要发现 at
        the top of the page and the tables below it, the painpoints brief) is computed by the
        first and reused by the others.

        *key* must hold everything besides the design that decides the result (the question
        ids, the group, the confidence level, ``min_cell`` ...).  The memo lives on this
        context, so the next notebook (a new :func:`setup`) starts empty; it is cleared
        whenever :attr:`design` is rebuilt (another prepared wave or region), so a result is
        never served for another design.  DataFrames are returned as shallow copies
        (copy-on-write: changing one never changes the memo).

        Examples
        --------
        >>> ctx = ReportContext(params={}, notebook="x")
        >>> calls = []
        >>> ctx.memo(("twice",), lambda: calls.append(1) or len(calls)), ctx.memo(("twice",), lambda: 99)
        (1, 1)
        """
        self.design  # noqa: B018 - a new design clears the memo before it is read
        if key not in self._memo:
            self._memo[key] = compute()
        out = self._memo[key]
        return out.copy(deep=False) if isinstance(out, (pd.DataFrame, pd.Series)) else out

    def sample_frame(self) -> pd.DataFrame | None:
        """The respondents the report describes: the cleaned ones of the region (weight > 0),
        else the data as read."""
        if self.prepared is not None:
            def rows() -> pd.DataFrame:
                dsg = self.design
                return dsg.data.loc[dsg.weights > 0]

            return self.memo(("sample_frame",), rows)
        return self.data

    def hidden_levels(self, var: str) -> set[str]:
        """Levels of group *var* hidden in every table of this report (fewer than ``min_cell``
        respondents, or hidden to protect such a level against subtraction from the total; see
        :func:`survey.report.disclosure.hidden_levels`)."""
        if var not in self._hidden:
            f = self.sample_frame()
            mc = int(self.params.get("min_cell", 10))
            v = f[var] if f is not None and var in f.columns else None
            if v is not None and self.params.get("region") is not None \
                    and var == self.params.get("region_var") and isinstance(v.dtype, pd.CategoricalDtype):
                # every respondent is of the report's region: the other regions are empty by
                # definition, not small cells (kept, they would hide the region's own count)
                v = v.cat.remove_unused_categories()
            self._hidden[var] = hidden_levels(v, mc) if v is not None else set()
        return self._hidden[var]

    @property
    def previous(self) -> dict[str, Any]:
        """The earlier waves (``previous_waves``) prepared like this one: wave id ->
        :class:`~survey.pipeline.PreparedWave`, oldest first (``{}`` when none are named).

        Raises
        ------
        ReportError
            An earlier wave's inputs cannot be found (names where it looked).
        """
        if self._previous is None:
            from .content.data import prepare_previous

            self._previous = prepare_previous(self.params)
        return self._previous

    @property
    def design(self) -> Any:
        """The weighted design (restricted to ``region`` as a domain), or None."""
        if self.prepared is None:
            return None
        region = self.params.get("region")
        key = (region, self.params.get("region_var") if region is not None else None)
        if self._design is not None and self._design[0] == key and self._design[1] is self.prepared:
            return self._design[2]
        d = self.prepared.design
        if region is not None:
            var = _region_var(self.params)
            d = d.subset((d.data[var].astype(str) == region).to_numpy(), compact=True)
        self._memo.clear()  # every memoised result belonged to the previous design
        self._hidden.clear()
        self._design = (key, self.prepared, d)
        return d

    @property
    def tables_dir(self) -> Path:
        return Path(self.params.get("output_dir", "reports")) / TABLES_DIRNAME / self.notebook


_CURRENT: list[ReportContext] = []


def _region_var(params: Mapping[str, Any]) -> str:
    """The question holding the regions of a regional report (``region_var``; ``--by`` sets it)."""
    var = params.get("region_var")
    if not var:
        raise ReportError(f"region {params.get('region')!r}: name the question that holds the regions "
                          "with the region_var parameter (e.g. -p region_var=<question id>)")
    return str(var)


def _read_data(path: Path, stage: str, q: Any) -> tuple[pd.DataFrame, Any]:
    suf = path.suffix.lower()
    if stage == "clean" or suf in (".parquet", ".csv", ".feather"):
        if suf == ".parquet":
            return pd.read_parquet(path), None
        if suf == ".feather":
            return pd.read_feather(path), None
        if suf == ".csv":
            return pd.read_csv(path, encoding="utf-8-sig"), None
    try:
        from ..io import read_export  # type: ignore[attr-defined]
    except ImportError:
        raise ReportError(f"cannot read {path}: the raw-export readers (survey.io.read_export) "
                          "are not available yet; pass a cleaned .parquet/.csv with data_stage='clean'") from None
    res = read_export(path, q)
    return res.data, getattr(res, "report", None)


def require_inputs(params: Mapping[str, Any]) -> None:
    """Stop a notebook run with its default parameters at once, saying what to set, instead of
    rendering every section as "无数据".

    Raises
    ------
    ParameterError
        ``questionnaire`` or ``data`` is not set (names both and how to set them).

    Examples
    --------
    >>> require_inputs({"wave": "2025", "questionnaire": "q.yml", "data": "x.xlsx"})
    >>> require_inputs({"wave": "2025", "questionnaire": None, "data": None})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    survey.errors.ParameterError: 未设置参数 questionnaire、data...
    """
    from ..errors import ParameterError

    missing = [k for k in ("questionnaire", "data") if not params.get(k)]
    if missing:
        w = params.get("wave") or "<轮次>"
        raise ParameterError(
            f"未设置参数 {'、'.join(missing)}：本笔记本需要一轮调查的问卷（questionnaire.yml）与原始导出文件。"
            f"在命令行运行 `survey report --wave {w}`（自动设置全部参数），或在第一个代码单元（参数）中设置，例如 "
            f"questionnaire = 'questionnaires/{w}/questionnaire.yml'，data = 'data/{w}/<导出文件>.xlsx'。"
            f" (parameters {', '.join(missing)} are not set; run `survey report --wave {w}` or set them "
            "in the parameters cell)")


def setup(params: Mapping[str, Any], *, notebook: str | None = None) -> ReportContext:
    """Apply the plot theme, load the questionnaire and the data, start the table registry.

    Input problems do not stop the notebook here: they are shown by :func:`section_intake`
    (a run with missing data still renders every section as "无数据").

    Examples
    --------
    >>> from survey.report import validate
    >>> ctx = setup(validate(notebook="quality"), notebook="quality")
    >>> ctx.data is None
    True
    """
    from .theme import use_theme

    use_theme()
    nb = notebook or getattr(params, "notebook", None) or "report"
    ctx = ReportContext(params=params, notebook=nb)
    qpath = params.get("questionnaire")
    try:
        if qpath:
            from ..questionnaire import Questionnaire

            ctx.questionnaire = Questionnaire.load(qpath)
        dpath = params.get("data")
        if dpath:
            p = Path(dpath)
            if not p.is_file():
                raise ReportError(f"data file {p} does not exist; check the 'data' parameter")
            if ctx.questionnaire is not None:
                _prepare_ctx(ctx)
            if ctx.prepared is not None and ctx.prepared.read is not None:
                ctx.data, ctx.read_report = ctx.prepared.read.data, ctx.prepared.read.report
            else:
                ctx.data, ctx.read_report = _read_data(p, params.get("data_stage", "raw"), ctx.questionnaire)
            region = params.get("region")
            if region is not None and ctx.data is not None:
                var = _region_var(params)
                if var not in ctx.data.columns:
                    raise ReportError(f"region filter: column {var!r} not in the data; set region_var")
                ctx.data = ctx.data.loc[ctx.data[var].astype(str) == region].reset_index(drop=True)
    except Exception as e:  # shown in the report, see section_intake
        from ..errors import SurveyError

        if not isinstance(e, (SurveyError, OSError, ValueError)):
            raise
        ctx.load_error = f"{type(e).__name__}: {e}"
    _CURRENT[:] = [ctx]
    return ctx


def _prepare_ctx(ctx: ReportContext) -> None:
    """Read → clean → weight (cached; see :mod:`survey.report.content.data`); errors are kept
    for the sections that need the design, the others still run on the raw data."""
    from ..errors import SurveyError
    from .content.data import prepare

    try:
        ctx.prepared = prepare(ctx.params, ctx.questionnaire)
    except (SurveyError, OSError, ValueError, KeyError) as e:
        ctx.prepare_error = f"{type(e).__name__}: {e}"


def current_context(ctx: ReportContext | None = None) -> ReportContext:
    """*ctx*, else the context of the last :func:`setup` in this process (the notebook's).

    Raises
    ------
    ReportError
        No context was given and :func:`setup` has not run.
    """
    if ctx is not None:
        return ctx
    if not _CURRENT:
        raise ReportError("call report.setup(P) before publishing tables")
    return _CURRENT[0]


def publish(table: PublishedTable, ctx: ReportContext | None = None) -> PublishedTable:
    """Register a styled table for the Excel workbook and return it for display.

    The table is written as JSON to ``<output_dir>/.tables/<notebook>/NNN_<id>.json``; the
    runner gathers these into ``tables.xlsx`` (one sheet per table) after the run.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from survey.report import validate, style_table
    >>> d = tempfile.mkdtemp()
    >>> ctx = setup(validate(notebook="quality", output_dir=d), notebook="quality")
    >>> _ = publish(style_table(pd.DataFrame({"人数": [3]}), "T9"), ctx)
    >>> sorted(p.name for p in ctx.tables_dir.iterdir())
    ['001_T9.json']
    """
    c = current_context(ctx)
    if any(t.table_id == table.table_id for t in c.tables):
        raise ReportError(f"notebook {c.notebook!r}: table id {table.table_id!r} published twice; "
                          "give each table its own id")
    absent = getattr(c, "absent", {})  # (a context-like object without the registry: none)
    if table.table_id in absent:
        raise ReportError(f"notebook {c.notebook!r}: table id {table.table_id!r} was recorded as not "
                          f"published ({absent[table.table_id]}); give each table its own id")
    c.tables.append(table)
    rec = table.to_record()
    rec["notebook"] = c.notebook
    _write_record(c, table.table_id, rec)
    return table


def _write_record(c: ReportContext, table_id: str, rec: dict) -> None:
    d = c.tables_dir
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{len(c.tables) + len(getattr(c, 'absent', {})):03d}_{table_id}.json").write_text(
        json.dumps(rec, ensure_ascii=False, indent=0, default=str), encoding="utf-8")


def publish_absent(table_id: str, reason: str, ctx: ReportContext | None = None) -> None:
    """Record that table *table_id* is not published and why (a plain Chinese sentence).

    A numbered table that one report has and another does not (a group with one level in a
    regional report, a change without an earlier wave) would leave a gap in ``tables.xlsx``;
    its contents sheet lists the table with the reason instead of a sheet.

    Examples
    --------
    >>> import tempfile
    >>> from survey.report import validate
    >>> ctx = setup(validate(notebook="quality", output_dir=tempfile.mkdtemp()), notebook="quality")
    >>> publish_absent("T4.5", "本报告的受访者都属于同一类别，没有可比较的组别。", ctx)
    >>> sorted(p.name for p in ctx.tables_dir.iterdir())
    ['001_T4.5.json']
    """
    c = current_context(ctx)
    if table_id in c.absent or any(t.table_id == table_id for t in c.tables):
        return
    c.absent[table_id] = str(reason)
    _write_record(c, table_id, {"id": table_id, "absent": str(reason), "notebook": c.notebook})


def report_title(params: Mapping[str, Any], questionnaire: Any = None) -> str:
    """The survey's title for page headings: the ``title`` parameter, else the questionnaire's
    wave title (``wave.title``), else ``<wave> 科技工作者状况调查``.

    Examples
    --------
    >>> report_title({"wave": "2024", "title": None})
    '2024 科技工作者状况调查'
    >>> report_title({"wave": "x", "questionnaire": "questionnaires/demo-2024/questionnaire.yml"})
    '2024年示例市科技工作者状况调查（演示数据）'
    """
    if params.get("title"):
        return str(params["title"])
    q = questionnaire
    if q is None and params.get("questionnaire"):
        try:
            from ..questionnaire import Questionnaire

            q = Questionnaire.load(params["questionnaire"])
        except Exception:  # noqa: BLE001 - a title never stops a report; the setup cell reports it
            q = None
    if q is not None:
        return str(q.title)
    return f"{params.get('wave')} 科技工作者状况调查"


def sample_sizes(ctx: ReportContext) -> tuple[int | None, int | None]:
    """(读取的记录数, 清理后保留的有效样本量) of the report (of the region, if any); None where
    not known.

    Examples
    --------
    >>> from survey.report import validate
    >>> sample_sizes(setup(validate(notebook="quality"), notebook="quality"))
    (None, None)
    """
    n_read = len(ctx.data) if ctx.data is not None else None
    n_kept = None
    if ctx.prepared is not None:
        d = ctx.design
        n_kept = int((d.weights > 0).sum())
    return n_read, n_kept
