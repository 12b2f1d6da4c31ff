"""Parameter schema of the report notebooks, and its validation.

papermill only *warns* about parameters a notebook does not declare, so a mistyped
``min_cel=5`` would silently run with the default.  Every notebook therefore calls
:func:`validate` in the first cell after the injected parameters; the runner calls it too,
before starting a kernel.  Unknown or mistyped parameters raise
:class:`~survey.errors.ParameterError` naming the parameter and listing the valid ones.

Examples
--------
>>> from survey.report.params import validate
>>> p = validate(notebook="survey_report", wave="2024", min_cell=5)
>>> p.min_cell, p.lang
(5, 'zh')
>>> validate(notebook="quality", min_cel=5)
Traceback (most recent call last):
...
survey.errors.ParameterError: notebook 'quality': unknown parameter 'min_cel' (did you mean 'min_cell'?); valid parameters: wave, questionnaire, data, data_stage, population, output_dir, region, region_var, min_cell, confidence, lang, title, stations, work_dir
"""
from __future__ import annotations

import difflib
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ..errors import ParameterError

__all__ = ["Param", "Params", "NOTEBOOKS", "NOTEBOOK_TITLES", "schema", "validate", "defaults"]

NoneType = type(None)


@dataclass(frozen=True)
class Param:
    """One declared notebook parameter."""

    name: str
    type: tuple[type, ...]
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    check: Callable[[Any], bool] | None = None
    check_msg: str = ""
    item_type: type | None = None  # for lists

    def type_name(self) -> str:
        names = [("None" if t is NoneType else t.__name__) for t in self.type]
        if self.item_type is not None:
            names = [f"list[{self.item_type.__name__}]" if n == "list" else n for n in names]
        return " or ".join(names)


_COMMON: tuple[Param, ...] = (
    Param("wave", (str,), "demo", "wave id, e.g. '2024' (questionnaires/<wave>/)"),
    Param("questionnaire", (str, NoneType), None,
          "path of questionnaire.yml (default questionnaires/<wave>/questionnaire.yml)"),
    Param("data", (str, NoneType), None, "path of the raw export or of the cleaned data"),
    Param("data_stage", (str,), "raw", "whether `data` is the raw export or already cleaned",
          choices=("raw", "clean")),
    Param("population", (str, NoneType), None, "path of population.yml (weighting margins)"),
    Param("output_dir", (str,), "reports", "folder the report (HTML, Excel) is written to"),
    Param("region", (str, NoneType), None, "restrict to one region (value of region_var); None = all"),
    Param("region_var", (str, NoneType), None,
          "question id that holds the region (needed with region; --by sets it)"),
    Param("min_cell", (int,), 10, "cells from fewer unweighted respondents are suppressed",
          check=lambda v: v >= 1, check_msg="must be ≥ 1"),
    Param("confidence", (float,), 0.95, "confidence level of intervals",
          check=lambda v: 0.5 < v < 1, check_msg="must lie strictly between 0.5 and 1"),
    Param("lang", (str,), "zh", "language of labels", choices=("zh", "en")),
    Param("title", (str, NoneType), None, "report title (default: the wave's title)"),
    Param("stations", (str, NoneType), None,
          "path of the station register stations.csv (base weights; default: beside the questionnaire)"),
    Param("work_dir", (str, NoneType), None,
          "folder for the prepared (cleaned, weighted) wave shared by the notebooks; never published"),
)

#: Cross-wave parameters (painpoints and trends compare the wave with earlier ones).
_CROSS_WAVE: tuple[Param, ...] = (
    Param("previous_waves", (list,), [],
          "earlier wave ids (questionnaire folders beside this wave's), oldest first; [] = none",
          item_type=str),
    Param("previous_data", (dict, NoneType), None,
          "wave id -> raw export (or a folder holding the wave's inputs); default: the export in "
          "the wave's questionnaire folder, else data/<id>/"),
    Param("harmonization", (str, NoneType), None,
          "harmonization.yml (default: beside the questionnaire folders, else the repository's)"),
    Param("policies", (str, NoneType), None,
          "policies.yml, the policy register (default: beside the questionnaire folders, else the repository's)"),
)

_EXTRA: dict[str, tuple[Param, ...]] = {
    "quality": (),
    "survey_report": (),
    # the pain-point question, its k and every other question come from the wave's
    # questionnaire (report: roles), not from parameters
    "painpoints": _CROSS_WAVE,
    "trends": _CROSS_WAVE,
}

#: The default notebooks, in report order (file stems in ``notebooks/``).
NOTEBOOKS: tuple[str, ...] = ("quality", "survey_report", "painpoints", "trends")
NOTEBOOK_TITLES: dict[str, str] = {
    "quality": "数据接收与质量",
    "survey_report": "调查报告",
    "painpoints": "急难愁盼",
    "trends": "变化趋势",
}

_IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open"})


def schema(notebook: str) -> dict[str, Param]:
    """The declared parameters of *notebook* (common ones first).

    Unknown notebook names get the common schema, so new notebooks slot in before declaring
    extra parameters.

    Examples
    --------
    >>> list(schema("painpoints"))[-1]
    'policies'
    """
    return {p.name: p for p in (*_COMMON, *_EXTRA.get(notebook, ()))}


def defaults(notebook: str) -> dict[str, Any]:
    """Default value of every parameter of *notebook*.

    Examples
    --------
    >>> defaults("quality")["min_cell"]
    10
    """
    return {n: (list(p.default) if isinstance(p.default, list) else p.default)
            for n, p in schema(notebook).items()}


class Params(Mapping):
    """Validated parameters: a read-only mapping with attribute access.

    Examples
    --------
    >>> p = Params({"a": 1}, notebook="x")
    >>> p.a, p["a"], dict(p)
    (1, 1, {'a': 1})
    """

    __slots__ = ("_d", "notebook")

    def __init__(self, values: Mapping[str, Any], *, notebook: str) -> None:
        object.__setattr__(self, "_d", dict(values))
        object.__setattr__(self, "notebook", notebook)

    def __getitem__(self, k: str) -> Any:
        return self._d[k]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __getattr__(self, k: str) -> Any:
        try:
            return self._d[k]
        except KeyError:
            raise AttributeError(
                f"notebook {self.notebook!r} has no parameter {k!r}; valid: {', '.join(self._d)}"
            ) from None

    def __setattr__(self, k: str, v: Any) -> None:
        raise AttributeError("report parameters are read-only")

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._d.items())
        return f"Params({self.notebook}: {inner})"

    def as_dict(self) -> dict[str, Any]:
        """A plain copy."""
        return dict(self._d)


def _candidates(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The parameter-like names of a ``globals()`` dict (drop modules, callables, IPython's)."""
    out = {}
    for k, v in namespace.items():
        if k.startswith("_") or k in _IPYTHON_NAMES:
            continue
        if isinstance(v, (types.ModuleType, type)) or callable(v):
            continue
        if type(v).__module__.startswith("survey."):
            continue  # P = validate(...), ctx = setup(...) when a cell is re-run
        out[k] = v
    return out


def _type_ok(p: Param, v: Any) -> bool:
    if isinstance(v, bool) and bool not in p.type:
        return False  # True is an int, but never a valid min_cell
    if isinstance(v, p.type):
        if isinstance(v, list) and p.item_type is not None:
            return all(isinstance(x, p.item_type) for x in v)
        return True
    if float in p.type and isinstance(v, int) and not isinstance(v, bool):
        return True  # confidence=1 would fail its range check, but 1 → 1.0 is fine as a type
    return False


def validate(namespace: Mapping[str, Any] | None = None, /, *, notebook: str = "quality",
             **kwargs: Any) -> Params:
    """Check notebook parameters against the schema and fill in defaults.

    Parameters
    ----------
    namespace : mapping, optional
        A notebook's ``globals()``: every name that is not private, a module, a callable or an
        IPython built-in is taken to be a parameter.
    notebook : str
        Notebook name (file stem), selects the schema (:func:`schema`).
    **kwargs
        Parameters given explicitly (override *namespace*).

    Returns
    -------
    Params

    Raises
    ------
    ParameterError
        An unknown parameter (with a close match suggested) or a value of the wrong type or
        outside its allowed values.

    Examples
    --------
    >>> validate({"wave": "2024", "confidence": 0.9}, notebook="quality").confidence
    0.9
    >>> validate(notebook="quality", min_cell="10")
    Traceback (most recent call last):
    ...
    survey.errors.ParameterError: notebook 'quality': parameter 'min_cell' must be int, got str '10' (cells from fewer unweighted respondents are suppressed)
    """
    sch = schema(notebook)
    given = _candidates(namespace) if namespace is not None else {}
    given.update(kwargs)
    valid = ", ".join(sch)
    for k in given:
        if k not in sch:
            close = difflib.get_close_matches(k, list(sch), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(
                f"notebook {notebook!r}: unknown parameter {k!r}{hint}; valid parameters: {valid}"
            )
    values = defaults(notebook)
    for k, v in given.items():
        p = sch[k]
        if not _type_ok(p, v):
            raise ParameterError(
                f"notebook {notebook!r}: parameter {k!r} must be {p.type_name()}, got "
                f"{type(v).__name__} {v!r} ({p.help})"
            )
        if float in p.type and isinstance(v, int):
            v = float(v)
        if p.choices is not None and v not in p.choices:
            raise ParameterError(
                f"notebook {notebook!r}: parameter {k!r} must be one of "
                f"{', '.join(map(repr, p.choices))}, got {v!r}"
            )
        if p.check is not None and v is not None and not p.check(v):
            raise ParameterError(f"notebook {notebook!r}: parameter {k!r} {p.check_msg}, got {v!r}")
        values[k] = v
    return Params(values, notebook=notebook)
