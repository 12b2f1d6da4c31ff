"""Analysis of the 科技工作者状况调查 (survey of the status of S&T workers).

Design-based analysis in the manner of R's ``survey`` package: one immutable
:class:`SurveyDesign` carries the data, strata, stations (PSUs) and weights, and every estimator
returns a tidy DataFrame (``estimate, se, ci_low, ci_high, deff, n, n_eff`` and reliability
flags).  Each stage is a plain function on plain objects:

read → clean → weight → design/estimate → analyses → report

==================  =====================================================================
Stage               Main entry points
==================  =====================================================================
codebook            :class:`Questionnaire` (``Questionnaire.load("questionnaire.yml")``)
read                :func:`read_export` (问卷星 .xlsx/.csv, SPSS .sav, Stata .dta) →
                    ``ReadResult(.data, .report, .pii, .missing, .log)``; :func:`read_responses`
clean               :func:`clean` → :class:`CleanResult` (``.data``, ``.log``, ``.summary()``)
weight              :mod:`survey.weighting` (:func:`load_targets`); ``SurveyDesign.rake /
                    calibrate / poststratify / trim`` → new design with a
                    :class:`WeightingReport`
all of the above    :func:`prepare_wave` → :class:`PreparedWave` (``.design``), cached
estimate            ``SurveyDesign.mean / total / proportion / ratio / quantile`` (``by=``)
tables, models      :func:`crosstab` (Rao–Scott), ``SurveyDesign.multi / ranked / likert /
                    scale_score / contrast``, :func:`glm`, :func:`add_flags`
pain points         :mod:`survey.painpoints` (``summarize``, policy register, brief)
trends              :class:`Harmonization`, :func:`stack_waves`, :func:`change`,
                    :func:`trend_table`
report              :mod:`survey.report` (notebooks → HTML + Excel; ``survey report``)
demo data           :mod:`survey.demo` (``survey demo`` writes a synthetic wave)
==================  =====================================================================

Errors all derive from :class:`SurveyError` (warnings from :class:`SurveyWarning`), see
:mod:`survey.errors`.  The public API is listed in ``__all__``.

Examples
--------
>>> import pandas as pd
>>> import survey
>>> d = survey.SurveyDesign(pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": [1.0, 1, 2, 2]}), weights="w")
>>> round(float(d.mean("y")["estimate"].iloc[0]), 4)
2.8333
"""
from __future__ import annotations

from . import errors
from .errors import *  # noqa: F401,F403  (the error hierarchy is part of the public API)
from .version import DISTRIBUTION as _DISTRIBUTION, __version__

__all__ = ["__version__", "errors", *errors.__all__]

# --- public API: each stage adds its names below (keep one line per module) -----------------
from .questionnaire import Questionnaire  # noqa: E402
from .io import read_export, read_responses, write_sav, write_wjx  # noqa: E402
__all__ += ["Questionnaire", "read_export", "read_responses", "write_wjx", "write_sav"]
from .design import SurveyDesign  # noqa: E402
__all__ += ["SurveyDesign"]
from . import calspace, domains, estimates, replicates, validation, variance  # noqa: E402
from .estimates import Estimates  # noqa: E402
__all__ += ["variance", "calspace", "replicates", "estimates", "validation", "domains", "Estimates"]
from . import weighting  # noqa: E402
from .weighting import WeightingReport, load_targets  # noqa: E402
__all__ += ["weighting", "WeightingReport", "load_targets"]
from .tables import CrossTab, ScaleScore, add_flags, cronbach_alpha, crosstab  # noqa: E402
from .models import GLMResult, glm  # noqa: E402
__all__ += ["CrossTab", "ScaleScore", "add_flags", "cronbach_alpha", "crosstab", "GLMResult", "glm"]
from .clean import CleanResult, clean  # noqa: E402
__all__ += ["clean", "CleanResult"]
from . import demo  # noqa: E402
__all__ += ["demo"]
from . import report  # noqa: E402
__all__ += ["report"]
from .trends import Harmonization, StackedWaves, change, not_comparable, stack_waves, trend_table  # noqa: E402
__all__ += ["Harmonization", "StackedWaves", "change", "not_comparable", "stack_waves", "trend_table"]
from . import painpoints  # noqa: E402
__all__ += ["painpoints"]
from .pipeline import PreparedWave, prepare_wave  # noqa: E402
__all__ += ["PreparedWave", "prepare_wave"]
from . import codebook  # noqa: E402
from .codebook import draft_codebook  # noqa: E402
__all__ += ["codebook", "draft_codebook"]
