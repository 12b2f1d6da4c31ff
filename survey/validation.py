"""One parameter validator with one message shape (modelled on scikit-learn's ``_param_validation``).

A constraint describes the values a parameter accepts; :func:`check` raises, naming the function,
the parameter, the value given, what is accepted and an example of a valid call::

    mean: level=1.5 must be a number strictly between 0 and 1 (e.g. level=0.95)

Constraints: :class:`Interval` (real numbers in a range), :class:`Integer` (integers ``>= low``)
and :class:`Options` (one of a few values).  :func:`check_level` is the common case.

Examples
--------
>>> from survey.validation import Interval, Integer, Options, check, check_level
>>> check_level("mean", 0.9)
0.9
>>> check("replicate", "replicates", 200, Integer(2, example=200))
200
>>> check("replicate", "method", "jk1", Options(("jk1", "jkn", "bootstrap")))
'jk1'
>>> check_level("mean", 95)
Traceback (most recent call last):
...
survey.errors.EstimationError: mean: level=95 must be a number strictly between 0 and 1 (e.g. level=0.95)
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

from .errors import EstimationError, SurveyError

__all__ = ["Interval", "Integer", "Options", "check", "check_level"]


@dataclass(frozen=True)
class Interval:
    """A real number in ``(low, high)``; ``closed`` says which ends belong ("neither", "left",
    "right", "both"); ``None`` for an open end."""

    low: float | None
    high: float | None
    closed: str = "neither"
    example: Any = None

    def ok(self, v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or v != v:
            return False
        lo_in = self.closed in ("left", "both")
        hi_in = self.closed in ("right", "both")
        if self.low is not None and not (v >= self.low if lo_in else v > self.low):
            return False
        return self.high is None or (v <= self.high if hi_in else v < self.high)

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            how = {"neither": "strictly between", "both": "between"}.get(self.closed, "in")
            if how == "in":
                lb = "[" if self.closed == "left" else "("
                rb = "]" if self.closed == "right" else ")"
                return f"a number in {lb}{self.low:g}, {self.high:g}{rb}"
            return f"a number {how} {self.low:g} and {self.high:g}"
        if self.low is not None:
            return f"a number {'>=' if self.closed in ('left', 'both') else '>'} {self.low:g}"
        return f"a number {'<=' if self.closed in ('right', 'both') else '<'} {self.high:g}"


@dataclass(frozen=True)
class Integer:
    """An integer ``>= low`` (``bool`` is refused)."""

    low: int
    example: Any = None

    def ok(self, v: Any) -> bool:
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= self.low

    def describe(self) -> str:
        return f"an integer >= {self.low}"


@dataclass(frozen=True)
class Options:
    """One of ``values`` (compared with ``==``)."""

    values: tuple
    example: Any = None

    def ok(self, v: Any) -> bool:
        try:
            return any(v == o and type(v) is not bool or v is o for o in self.values)
        except (TypeError, ValueError):
            return False

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.values)


def check(fn: str, name: str, value: Any, constraint: Interval | Integer | Options, *,
          error: type[SurveyError] = EstimationError) -> Any:
    """Return ``value`` if it meets ``constraint``; otherwise raise ``error`` with the one message
    shape ``"{fn}: {name}={value!r} must be {what} (e.g. {name}={example!r})"``.

    Parameters
    ----------
    fn : str
        The public function the user called (named in the message).
    name : str
        The parameter.
    value
        The value given.
    constraint : Interval, Integer or Options
        What is accepted.
    error : subclass of survey.errors.SurveyError
        The exception class (default :class:`~survey.errors.EstimationError`).

    Examples
    --------
    >>> check("quantile", "q", 0.5, Interval(0, 1, "both"))
    0.5
    """
    if constraint.ok(value):
        return value
    ex = constraint.example
    if ex is None:
        ex = constraint.values[0] if isinstance(constraint, Options) else (
            constraint.low if isinstance(constraint, Integer) else None)
    hint = f" (e.g. {name}={ex!r})" if ex is not None else ""
    raise error(f"{fn}: {name}={value!r} must be {constraint.describe()}{hint}")


LEVEL = Interval(0, 1, "neither", example=0.95)


def check_level(fn: str, level: Any, *, error: type[SurveyError] = EstimationError) -> float:
    """Check a confidence level (strictly between 0 and 1) for function ``fn``.

    Examples
    --------
    >>> check_level("conf_int", 0.9)
    0.9
    """
    return check(fn, "level", level, LEVEL, error=error)
