"""One hierarchy for every error and warning the package raises.

Every message names the offending thing (file, column, question, respondent, parameter) and,
where there is one, says what to do about it.  Errors subclass a builtin as well, so code that
catches ``ValueError`` / ``KeyError`` / ``FileNotFoundError`` keeps working.

Examples
--------
>>> from survey.errors import QuestionnaireError, SurveyError
>>> try:
...     raise QuestionnaireError("questionnaire.yml: question 'q3' is defined twice; rename one")
... except SurveyError as e:
...     print(type(e).__name__)
QuestionnaireError
"""
from __future__ import annotations

__all__ = [
    "SurveyError",
    "QuestionnaireError",
    "ReadError",
    "EncodingError",
    "SchemaMismatchError",
    "DesignError",
    "MissingValueError",
    "EstimationError",
    "WeightingError",
    "ConvergenceError",
    "TargetMismatchError",
    "CleaningError",
    "PrivacyError",
    "HarmonizationError",
    "ReportError",
    "ParameterError",
    "SurveyWarning",
    "ReadWarning",
    "WeightingWarning",
    "ReliabilityWarning",
    "CleaningWarning",
]


class SurveyError(Exception):
    """Base class of every error raised by :mod:`survey`."""


class QuestionnaireError(SurveyError, ValueError):
    """The questionnaire YAML is malformed or inconsistent (names the file and the question)."""


class ReadError(SurveyError, ValueError):
    """A raw export cannot be read (names the file and, where known, the column/row)."""


class EncodingError(ReadError):
    """A text-based export is in an encoding that could not be determined reliably."""


class SchemaMismatchError(ReadError):
    """An export does not match the questionnaire (e.g. an export of another survey)."""


class DesignError(SurveyError, ValueError):
    """A survey design is misspecified (names the column, stratum or PSU)."""


class MissingValueError(DesignError):
    """An estimator met missing values and ``na_rm`` was not set (names the variable and count)."""


class EstimationError(SurveyError, ValueError):
    """An estimate cannot be computed (empty domain, singular matrix, ...)."""


class WeightingError(SurveyError, ValueError):
    """Weighting inputs are inconsistent (targets, levels, bounds)."""


class ConvergenceError(WeightingError):
    """Raking / calibration / trimming did not converge within the iteration limit."""


class TargetMismatchError(WeightingError, KeyError):
    """Population targets and sample categories do not line up (names variable and levels)."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class CleaningError(SurveyError, ValueError):
    """A cleaning rule is misconfigured or cannot be applied."""


class PrivacyError(SurveyError, ValueError):
    """Personal data would reach an output, or a disclosure rule is violated."""


class HarmonizationError(SurveyError, ValueError):
    """A cross-wave harmonisation map does not line up with the questionnaires."""


class ReportError(SurveyError, RuntimeError):
    """Rendering the report failed (names the notebook and the cell)."""


class ParameterError(SurveyError, ValueError):
    """A report/notebook parameter is unknown or has the wrong type."""


class SurveyWarning(UserWarning):
    """Base class of every warning issued by :mod:`survey`."""


class ReadWarning(SurveyWarning):
    """Something in an export was recognised only partially (unmapped columns, etc.)."""


class WeightingWarning(SurveyWarning):
    """Targets rescaled, bounds hit, or weights extreme."""


class ReliabilityWarning(SurveyWarning):
    """An estimate rests on too few respondents or has a large CV."""


class CleaningWarning(SurveyWarning):
    """A cleaning rule found something that needs a human look."""
