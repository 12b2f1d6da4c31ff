"""Population targets: the ``population.yml`` format, its loader and validation.

The file format
---------------
``questionnaires/<wave>/population.yml``::

    population:                      # what the totals count (shown in the report)
      definition: 在本市工作的科技工作者（大专及以上学历从事科技工作，或具有专业技术职称）
      reference_date: 2023-12-31     # optional
    control_total:                   # optional: the total every categorical margin is rescaled to
      value: 300000                  #   a number, or `margin: <index or variables>` to use the
      source: {publication: 某市统计年鉴, year: 2024, table: 表4-2}   #   total of one margin
    margins:
      - variables: [sex]             # one-way (``variable: sex`` is accepted too)
        totals: {男: 180000, 女: 120000}
        source: {publication: 中国科技人力资源发展研究报告, year: 2020, table: 表2-3}
      - variables: [sex, age_group]  # two-way: nested mapping (or rows [男, ≤29, 35000])
        totals:
          男: {"≤29": 35000, "30-39": 62000, "40-49": 45000, "50+": 38000}
          女: {"≤29": 25000, "30-39": 43000, "40-49": 30000, "50+": 22000}
        source: {publication: 第七次全国人口普查, year: 2020, table: 长表4-3}
      - variable: weekly_hours       # a numeric variable takes its population total
        total: 14100000
        source: {publication: 科技工作者状况调查 2022, year: 2022, table: 工作时间}
    collapse:                        # declared collapse rules: new level <- old levels
      age_group: {"50+": ["50-59", "60+"]}
      title: {"初级及以下": ["初级", "无"]}

Every margin must name its ``source`` (publication, year, table).  Margins from different
sources rarely agree on the total; :func:`normalize` rescales every categorical margin to the
control total (``control_total`` if given, else the first categorical margin's total) and
records the discrepancy, which the :class:`~survey.weighting.WeightingReport` shows.

:func:`load_targets` returns a :class:`Targets`, a ``dict`` in exactly the form that
``rake``/``calibrate`` take — ``{"sex": {"男": 180000, "女": 120000}, ("sex", "age_group"):
{("男", "≤29"): 35000, ...}, "weekly_hours": 14100000}`` — with the sources, the control total,
the population definition and the collapse rules as attributes.

Examples
--------
>>> t = Targets({"sex": {"男": 60, "女": 40}, "age_group": {"young": 30, "old": 70}})
>>> [m.key for m in parse_margins(t)]
['sex', 'age_group']
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import TargetMismatchError, WeightingError, WeightingWarning

__all__ = ["Targets", "Margin", "load_targets", "parse_margins", "normalize"]

_FILE_KEYS = {"population", "control_total", "margins", "collapse", "wave", "notes"}
_MARGIN_KEYS = {"variables", "variable", "totals", "total", "source", "name", "notes"}
_SOURCE_KEYS = {"publication", "year", "table", "url", "note", "notes", "publisher"}


class Targets(dict):
    """Population totals in the form ``rake``/``calibrate`` take, plus their provenance.

    A plain ``dict`` (keys: variable name or a tuple of names for a cross; values: a dict of
    level totals or a number) with attributes ``sources`` (key -> source dict),
    ``control_total``, ``population`` (definition), ``collapse`` (declared rules) and ``path``.

    Examples
    --------
    >>> t = Targets({"sex": {"男": 6, "女": 4}}, sources={"sex": {"publication": "x"}})
    >>> t["sex"]["男"], t.sources["sex"]["publication"]
    (6, 'x')
    """

    def __init__(self, totals: Mapping | None = None, *, sources: Mapping | None = None,
                 control_total: float | None = None, control_source: Mapping | None = None,
                 population: Mapping | None = None, collapse: Mapping | None = None,
                 path: str | None = None) -> None:
        super().__init__(totals or {})
        self.sources = dict(sources or {})
        self.control_total = control_total
        self.control_source = dict(control_source or {})
        self.population = dict(population or {})
        self.collapse = {k: dict(v) for k, v in (collapse or {}).items()}
        self.path = path

    def drop(self, *keys: Any) -> "Targets":
        """A copy without the given margins (the 'drop the margin' option).

        Examples
        --------
        >>> list(Targets({"a": {"x": 1}, "b": {"y": 1}}).drop("a"))
        ['b']
        """
        out = self.copy_with({k: v for k, v in self.items() if k not in keys})
        return out

    def collapsed(self, rules: Mapping | None = None) -> "Targets":
        """A copy with the declared collapse rules (or ``rules``) applied to the totals.

        Examples
        --------
        >>> t = Targets({"age": {"a": 1, "b": 2, "c": 3}}, collapse={"age": {"b+": ["b", "c"]}})
        >>> t.collapsed()["age"]
        {'a': 1.0, 'b+': 5.0}
        """
        rules = self.collapse if rules is None else rules
        return self.copy_with(collapse_totals(dict(self), rules))

    def copy_with(self, totals: Mapping) -> "Targets":
        return Targets(totals, sources={k: v for k, v in self.sources.items() if k in totals},
                       control_total=self.control_total, control_source=self.control_source,
                       population=self.population, collapse=self.collapse, path=self.path)

    def __repr__(self) -> str:
        lines = [f"Targets({len(self)} margins, control_total={self.control_total})"]
        for k, v in self.items():
            src = self.sources.get(k, {})
            s = ", ".join(str(src[x]) for x in ("publication", "year", "table") if x in src)
            try:
                m = parse_margins({k: v})[0]
                desc = (f"total {m.numeric_total:,.6g}" if m.numeric
                        else f"{len(m.totals)} cells, total {m.total:,.0f}")
            except Exception:  # repr must not fail on a malformed entry
                desc = "(malformed)"
            lines.append(f"  {k}: {desc}" + (f"  [{s}]" if s else ""))
        return "\n".join(lines)


@dataclass
class Margin:
    """One margin: the variables it crosses and its totals (levels are tuples of labels)."""

    variables: tuple[str, ...]
    totals: dict[tuple[str, ...], float] = field(default_factory=dict)
    numeric_total: float | None = None
    source: dict = field(default_factory=dict)
    key: Any = None

    @property
    def numeric(self) -> bool:
        return self.numeric_total is not None

    @property
    def total(self) -> float:
        return float(self.numeric_total if self.numeric else sum(self.totals.values()))

    @property
    def label(self) -> str:
        return " × ".join(self.variables)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _flatten_levels(v: Mapping, depth: int, where: str) -> dict[tuple[str, ...], float]:
    out: dict[tuple[str, ...], float] = {}
    for k, val in v.items():
        if depth == 1 or (isinstance(k, tuple) and len(k) == depth):
            key = tuple(str(x) for x in k) if isinstance(k, tuple) else (str(k),)
            if len(key) != depth:
                raise WeightingError(f"{where}: level {k!r} should name {depth} categories")
            if not _is_number(val) or not math.isfinite(float(val)) or float(val) < 0:
                raise WeightingError(f"{where}: total for level {k!r} is {val!r}; "
                                     "give a non-negative number")
            out[key] = float(val)
        elif isinstance(val, Mapping):
            for kk, vv in _flatten_levels(val, depth - 1, where).items():
                out[(str(k),) + kk] = vv
        else:
            raise WeightingError(f"{where}: expected a nested mapping of {depth} levels at "
                                 f"{k!r}, got {val!r}")
    return out


def key_variables(key: Any) -> tuple[str, ...]:
    """The variables of a target key: a name, a tuple of names, or ``"a × b"`` (also ``*``, ``:``).

    Examples
    --------
    >>> key_variables("sex × age"), key_variables(("sex", "age")), key_variables("sex")
    (('sex', 'age'), ('sex', 'age'), ('sex',))
    """
    if isinstance(key, tuple):
        return tuple(str(k) for k in key)
    if isinstance(key, str):
        for sep in ("×", "*", ":"):
            if sep in key:
                return tuple(p.strip() for p in key.split(sep))
        return (key,)
    raise WeightingError(f"target key {key!r}: use a variable name or a tuple of names")


def parse_margins(targets: Mapping) -> list[Margin]:
    """Turn a targets dict into :class:`Margin` objects (validating shapes and numbers).

    Examples
    --------
    >>> m = parse_margins({("sex", "age"): {"男": {"y": 1, "o": 2}}, "h": 10.0})
    >>> m[0].totals, m[1].numeric_total
    ({('男', 'y'): 1.0, ('男', 'o'): 2.0}, 10.0)
    """
    if not isinstance(targets, Mapping) or not targets:
        raise WeightingError("targets: give a non-empty dict such as "
                             "{'sex': {'男': 180000, '女': 120000}, 'weekly_hours': 1.4e7}")
    sources = getattr(targets, "sources", {})
    out = []
    for key, val in targets.items():
        vars_ = key_variables(key)
        if len(set(vars_)) != len(vars_):
            raise WeightingError(f"target {key!r}: a variable is repeated in the cross")
        where = f"target {' × '.join(vars_)}"
        if _is_number(val):
            if len(vars_) != 1:
                raise WeightingError(f"{where}: a numeric total needs a single variable")
            if not math.isfinite(float(val)):
                raise WeightingError(f"{where}: total is {val!r}; give a finite number")
            out.append(Margin(vars_, numeric_total=float(val), source=dict(sources.get(key, {})),
                              key=key))
        elif isinstance(val, Mapping):
            if not val:
                raise WeightingError(f"{where}: no levels given")
            out.append(Margin(vars_, _flatten_levels(val, len(vars_), where),
                              source=dict(sources.get(key, {})), key=key))
        elif isinstance(val, pd.Series):
            out.append(Margin(vars_, _flatten_levels(val.to_dict(), len(vars_), where),
                              source=dict(sources.get(key, {})), key=key))
        else:
            raise WeightingError(f"{where}: expected a dict of level totals or a number, got "
                                 f"{type(val).__name__}")
    return out


def collapse_totals(totals: Mapping, rules: Mapping) -> dict:
    """Apply collapse rules ``{var: {new: [old, ...]}}`` to a targets dict (sums the totals)."""
    out = {}
    for key, val in totals.items():
        vars_ = key_variables(key)
        if not isinstance(val, Mapping) or not any(v in rules for v in vars_):
            out[key] = val
            continue
        flat = _flatten_levels(val, len(vars_), f"target {key!r}")
        new: dict = {}
        for lev, tot in flat.items():
            nl = tuple(_collapse_label(rules.get(v), l) for v, l in zip(vars_, lev))
            new[nl] = new.get(nl, 0.0) + tot
        out[key] = {(k[0] if len(vars_) == 1 else k): v for k, v in new.items()}
    return out


def _collapse_label(rule: Mapping | None, label: str) -> str:
    if not rule:
        return label
    for new, olds in rule.items():
        if label in [str(o) for o in olds]:
            return str(new)
    return label


def normalize(margins: list[Margin], control_total: float | None = None,
              rtol: float = 1e-9, warn: bool = True) -> tuple[list[Margin], pd.DataFrame]:
    """Rescale categorical margins to one control total; return them and a discrepancy table.

    ``control_total=None`` uses the first categorical margin's total.  Numeric totals are not
    rescaled.  A one-way margin that disagrees (after rescaling) with the marginal of a two-way
    margin on the same variable is an error naming both sources.

    Examples
    --------
    >>> ms = parse_margins({"sex": {"m": 60, "f": 40}, "age": {"y": 50, "o": 60}})
    >>> ms2, disc = normalize(ms, warn=False)
    >>> ms2[1].totals[("o",)], list(disc["factor"].round(4))
    (54.54545454545455, [1.0, 0.9091])
    """
    cats = [m for m in margins if not m.numeric]
    rows = []
    if cats:
        ct = float(cats[0].total if control_total is None else control_total)
        if not ct > 0:
            raise WeightingError(f"control total is {ct}; give a positive number")
        new = []
        for m in margins:
            if m.numeric:
                new.append(m)
                continue
            tot = m.total
            if tot <= 0:
                raise WeightingError(f"target {m.label}: all totals are zero")
            f = ct / tot
            rows.append({"margin": m.label, "source": _source_str(m.source), "total": tot,
                         "control_total": ct, "rel_diff": tot / ct - 1.0, "factor": f})
            new.append(Margin(m.variables, {k: v * f for k, v in m.totals.items()},
                              source=m.source, key=m.key) if abs(f - 1) > rtol else m)
        margins = new
        disc = pd.DataFrame(rows)
        bad = disc[disc["rel_diff"].abs() > rtol]
        if warn and len(bad):
            warnings.warn(
                "population margins disagree on the total; rescaled to the control total "
                f"{ct:,.0f}: " + "; ".join(f"{r.margin} ({r.source or 'no source'}) "
                                            f"{r.total:,.0f} ({r.rel_diff:+.2%})"
                                            for r in bad.itertuples()),
                WeightingWarning, stacklevel=3)
        margins = _check_nested(margins)
    else:
        disc = pd.DataFrame(columns=["margin", "source", "total", "control_total", "rel_diff",
                                     "factor"])
    return margins, disc


def _source_str(src: Mapping) -> str:
    return ", ".join(str(src[k]) for k in ("publication", "year", "table") if k in src)


def _check_nested(margins: list[Margin], rtol: float = 1e-6, max_diff: float = 0.01
                  ) -> list[Margin]:
    """Drop one-way margins implied by a cross that contains their variables.

    A margin implied by a larger cross is redundant for raking/calibration; if it disagrees
    with the cross's marginal (after rescaling) by more than ``rtol`` the cross wins and a
    :class:`WeightingWarning` names both sources; beyond ``max_diff`` (relative) it is an error.
    """
    keep = []
    for a in margins:
        implied_by = None
        for b in margins:
            if (b is a or a.numeric or b.numeric or len(b.variables) <= len(a.variables)
                    or not set(a.variables) <= set(b.variables)):
                continue
            idx = [b.variables.index(v) for v in a.variables]
            implied: dict = {}
            for lev, t in b.totals.items():
                k = tuple(lev[i] for i in idx)
                implied[k] = implied.get(k, 0.0) + t
            worst, where = 0.0, None
            for lev in set(a.totals) | set(implied):
                d = abs(implied.get(lev, 0.0) - a.totals.get(lev, 0.0)) / max(1.0, a.total)
                if d > worst:
                    worst, where = d, lev
            if worst > max_diff:
                raise WeightingError(
                    f"target {a.label} ({_source_str(a.source) or 'no source'}) disagrees "
                    f"with the {b.label} margin ({_source_str(b.source) or 'no source'}) at "
                    f"level {'/'.join(where)}: {a.totals.get(where, 0.0):,.1f} vs "
                    f"{implied.get(where, 0.0):,.1f}. Drop one of the two margins (Targets.drop)"
                    " — raking cannot meet both")
            if worst > rtol:
                warnings.warn(
                    f"target {a.label} ({_source_str(a.source) or 'no source'}) differs from the "
                    f"marginal of {b.label} ({_source_str(b.source) or 'no source'}) by up to "
                    f"{worst:.2e} of the total (level {'/'.join(where)}); the one-way margin is "
                    f"implied by the cross and is not used", WeightingWarning, stacklevel=4)
            implied_by = b
            break
        if implied_by is None:
            keep.append(a)
    return keep


def load_targets(path: str | Path, questionnaire: Any = None) -> Targets:
    """Load ``population.yml`` into a :class:`Targets` dict (see the module docstring).

    Parameters
    ----------
    path : str or Path
        The YAML file, or a wave folder containing ``population.yml``.
    questionnaire : Questionnaire, optional
        When given, every margin variable must be a question of it and every level a label of
        that question (``Questionnaire.labels``) — mismatches are errors naming the levels.

    Returns
    -------
    Targets

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "population.yml"
    >>> _ = p.write_text('''
    ... population: {definition: 科技工作者}
    ... margins:
    ...   - variable: sex
    ...     totals: {男: 60, 女: 40}
    ...     source: {publication: 年鉴, year: 2023, table: 表1}
    ... ''', encoding="utf-8")
    >>> t = load_targets(p)
    >>> t["sex"], t.sources["sex"]["table"], t.population["definition"]
    ({'男': 60, '女': 40}, '表1', '科技工作者')
    """
    from .._yaml import read_yaml

    p, raw, _ = read_yaml(path, error=WeightingError, what="population margins",
                          default_name="population.yml",
                          hint="create it (see survey.weighting.targets for the format)")
    unknown = set(raw) - _FILE_KEYS
    if unknown:
        raise WeightingError(f"{p}: unknown key(s) {sorted(unknown)}; allowed: "
                             f"{sorted(_FILE_KEYS)}")
    if not raw.get("margins"):
        raise WeightingError(f"{p}: no 'margins:' list")
    pop = raw.get("population") or {}
    if isinstance(pop, str):
        pop = {"definition": pop}
    totals: dict = {}
    sources: dict = {}
    for i, m in enumerate(raw["margins"]):
        where = f"{p}: margins[{i}]"
        if not isinstance(m, Mapping):
            raise WeightingError(f"{where}: expected a mapping with variables/totals/source")
        unknown = set(m) - _MARGIN_KEYS
        if unknown:
            raise WeightingError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: "
                                 f"{sorted(_MARGIN_KEYS)}")
        vars_ = m.get("variables", m.get("variable"))
        if vars_ is None:
            raise WeightingError(f"{where}: name the variable(s) with 'variables: [..]'")
        vars_ = [vars_] if isinstance(vars_, str) else [str(v) for v in vars_]
        key: Any = vars_[0] if len(vars_) == 1 else tuple(vars_)
        if key in totals:
            raise WeightingError(f"{where}: margin {vars_} is given twice")
        src = m.get("source")
        if not isinstance(src, Mapping) or not {"publication", "year"} <= set(src):
            raise WeightingError(f"{where} ({' × '.join(vars_)}): give its source as "
                                 "{publication: ..., year: ..., table: ...}")
        bad = set(src) - _SOURCE_KEYS
        if bad:
            raise WeightingError(f"{where}: unknown source key(s) {sorted(bad)}")
        if "total" in m:
            totals[key] = m["total"]
        elif "totals" in m:
            t = m["totals"]
            if isinstance(t, list):  # rows [lev1, lev2, ..., total]
                t = {tuple(str(x) for x in r[:-1]) if len(vars_) > 1 else str(r[0]): r[-1]
                     for r in t}
            elif isinstance(t, Mapping) and len(vars_) == 1:
                t = {str(k): v for k, v in t.items()}
            totals[key] = t
        else:
            raise WeightingError(f"{where}: give 'totals:' (categorical) or 'total:' (numeric)")
        sources[key] = dict(src)
    ct = raw.get("control_total")
    ct_value, ct_source = None, {}
    if isinstance(ct, Mapping):
        ct_source = dict(ct.get("source") or {})
        if "value" in ct:
            ct_value = float(ct["value"])
        elif "margin" in ct:
            ref = ct["margin"]
            keys = list(totals)
            k = keys[ref] if isinstance(ref, int) else (
                ref if isinstance(ref, str) else tuple(ref))
            if k not in totals or not isinstance(totals[k], Mapping):
                raise WeightingError(f"{p}: control_total.margin {ref!r} is not a categorical "
                                     "margin of this file")
            ct_value = float(sum(_flatten_levels(totals[k], len(key_variables(k)),
                                                 str(k)).values()))
            ct_source = ct_source or sources[k]
        else:
            raise WeightingError(f"{p}: control_total needs 'value:' or 'margin:'")
    elif ct is not None:
        ct_value = float(ct)
    collapse = raw.get("collapse") or {}
    if not isinstance(collapse, Mapping) or not all(isinstance(v, Mapping)
                                                    for v in collapse.values()):
        raise WeightingError(f"{p}: collapse must map variable -> {{new level: [old levels]}}")
    collapse = {str(k): {str(n): [str(o) for o in olds] for n, olds in v.items()}
                for k, v in collapse.items()}
    out = Targets(totals, sources=sources, control_total=ct_value, control_source=ct_source,
                  population=pop, collapse=collapse, path=str(p))
    margins = parse_margins(out)  # validates numbers and shapes
    if questionnaire is not None:
        _check_against_questionnaire(margins, questionnaire, p, collapse)
    return out


def _check_against_questionnaire(margins: list[Margin], q: Any, p: Path,
                                 collapse: Mapping) -> None:
    for m in margins:
        for j, v in enumerate(m.variables):
            try:
                labels = q.labels(v)
            except Exception:
                raise TargetMismatchError(f"{p}: margin variable {v!r} is not a question of the "
                                          "questionnaire; fix the name or drop the margin") from None
            if m.numeric:
                continue
            allowed = {str(x) for x in (labels.values() if isinstance(labels, Mapping)
                                        else labels)}
            allowed |= {str(n) for n in (collapse.get(v) or {})}
            levels = {lev[j] for lev in m.totals}
            bad = sorted(levels - allowed)
            if bad:
                raise TargetMismatchError(
                    f"{p}: margin {m.label}: level(s) {bad} of {v!r} are not labels of the "
                    f"question (labels: {sorted(allowed)}); fix the labels or declare them "
                    "under 'collapse:'")
