"""Bad input gets a clear error from survey.errors (or a builtin TypeError for a wrong call
signature) whose message names the offending column/question/file/argument and says what to do;
and every option of the public estimators changes the result (DESIGN.md: no argument accepted
but ignored).

Each case is one parametrised test: ``(id, call, error class, regex the message must match)``.
The data are small synthetic frames built here; file cases write their inputs to ``tmp_path``.
"""
from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey import SurveyDesign
from survey.errors import (CleaningError, ConvergenceError, DesignError, EncodingError,
                           EstimationError, HarmonizationError, MissingValueError, ParameterError,
                           QuestionnaireError, ReadError, ReliabilityWarning,
                           SchemaMismatchError, SurveyError, TargetMismatchError, WeightingError)

MINI = Path(__file__).parent / "fixtures" / "mini"
XLSX = MINI / "100000_按序号_迷你测试问卷_40_40.xlsx"


def _frame(n: int = 200, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "y": rng.normal(10, 2, n), "x": rng.uniform(1, 3, n),
        "sex": pd.Categorical(rng.choice(["男", "女"], n), ["男", "女"]),
        "age": pd.Categorical(rng.choice(["a", "b", "c"], n), ["a", "b", "c"]),
        "h": np.repeat([1, 2, 3, 4], n // 4), "c": np.repeat(np.arange(20), n // 20),
        "w": rng.uniform(1, 5, n), "s": rng.choice(["p", "q"], n),
        "allna": np.nan, "cont": rng.normal(size=n), "one": pd.Categorical(["z"] * n),
        "byna": pd.Categorical(rng.choice(["u", "v", None], n)), "zero": 0.0,
        "b": rng.integers(0, 2, n).astype(float),
        "m1": rng.random(n) < 0.4, "m2": rng.random(n) < 0.6,
        "r1": rng.integers(1, 6, n).astype(float), "r2": rng.integers(1, 6, n).astype(float),
    })
    df["sep"] = (df.y > 10).astype(float)
    df["wzero_h1"] = np.where(df.h == 1, 0.0, df.w)
    return df


DF = _frame()
D = SurveyDesign(DF, weights="w", strata="h", psu="c", nest=True)
TG = {"age": {"a": 100.0, "b": 100.0, "c": 100.0}}


def _check(call, err, pattern):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(err) as info:
            call()
    msg = str(info.value)
    assert re.search(pattern, msg), f"message does not name the offending thing: {msg!r}"
    if err is not TypeError:
        assert isinstance(info.value, SurveyError)
    assert "Traceback" not in msg


# ---------------------------------------------------------------------------- design/estimators
DESIGN_CASES = [
    ("mean-missing-column", lambda: D.mean("nope"), EstimationError, r"'nope'.*not in"),
    ("mean-categorical", lambda: D.mean("sex"), EstimationError, r"'sex'.*categorical.*proportion"),
    ("mean-string", lambda: D.mean("s"), EstimationError, r"'s'.*not numeric"),
    ("mean-all-na", lambda: D.mean("allna"), MissingValueError, r"'allna'.*200 missing.*na_rm"),
    ("mean-all-na-na_rm", lambda: D.mean("allna", na_rm=True), EstimationError,
     r"'allna'.*no respondents"),
    ("mean-by-na", lambda: D.mean("y", by="byna"), MissingValueError, r"byna.*missing.*na_rm=True"),
    ("mean-by-missing", lambda: D.mean("y", by="nope"), DesignError, r"'nope'.*not in the data"),
    ("mean-unknown-kwarg", lambda: D.mean("y", foo=1), TypeError, r"mean\(\).*foo"),
    ("mean-level", lambda: D.mean("y", level=2), EstimationError, r"level=2.*between 0 and 1"),
    ("mean-deff", lambda: D.mean("y", deff="yes"), EstimationError, r"deff='yes'"),
    ("mean-df", lambda: D.mean("y", df=-1), EstimationError, r"df=-1.*positive"),
    ("mean-no-variables", lambda: D.mean([]), EstimationError, r"at least one variable"),
    ("mean-variables-int", lambda: D.mean(3), TypeError, r"column name.*int 3"),
    ("total-unknown-kwarg", lambda: D.total("y", by_="sex"), TypeError, r"by_"),
    ("weights-nan", lambda: SurveyDesign(DF.assign(w=DF.w.where(DF.index != 3)), weights="w"),
     DesignError, r"'w'.*1 missing.*row 3"),
    ("weights-negative", lambda: SurveyDesign(DF.assign(w=-DF.w), weights="w"), DesignError,
     r"'w'.*negative.*>= 0"),
    ("weights-all-zero", lambda: SurveyDesign(DF.assign(w=0.0), weights="w"), DesignError,
     r"'w'.*zero for every respondent"),
    ("weights-string", lambda: SurveyDesign(DF, weights="s"), DesignError, r"'s'.*not numeric"),
    ("weights-missing-column", lambda: SurveyDesign(DF, weights="nope"), DesignError,
     r"'nope'.*not in the data"),
    ("strata-missing-column", lambda: SurveyDesign(DF, strata="nope"), DesignError, r"strata.*'nope'"),
    ("lonely-psu-fail", lambda: SurveyDesign(DF.assign(c=DF.h), strata="h", psu="c",
                                             lonely_psu="fail").mean("y"),
     DesignError, r"Stratum '1' has only one PSU.*lonely_psu="),
    ("lonely-psu-option", lambda: SurveyDesign(DF, lonely_psu="foo"), DesignError, r"lonely_psu='foo'"),
    ("design-unknown-kwarg", lambda: SurveyDesign(DF, wieghts="w"), TypeError, r"wieghts"),
    ("design-not-frame", lambda: SurveyDesign([1, 2, 3]), DesignError, r"DataFrame"),
    ("subset-wrong-length", lambda: D.subset(np.ones(5, bool)), DesignError, r"shape \(5,\).*200 rows"),
    ("subset-non-boolean", lambda: D.subset(np.arange(200)), DesignError, r"mask must be boolean"),
    ("subset-string", lambda: D.subset("y > 3"), DesignError, r"True/False per respondent"),
    ("subset-empty", lambda: D.subset(np.zeros(200, bool)), EstimationError, r"selects no respondents"),
    ("quantile-p-above-1", lambda: D.quantile("y", 1.5), EstimationError, r"\[1.5\].*\[0, 1\]"),
    ("quantile-p-nan", lambda: D.quantile("y", np.nan), EstimationError, r"\[0, 1\]"),
    ("quantile-p-string", lambda: D.quantile("y", "median"), EstimationError, r"'median'.*numbers"),
    ("ratio-zero-denominator", lambda: D.ratio("y", "zero"), EstimationError,
     r"'y/zero'.*zero denominator"),
    ("ratio-missing-column", lambda: D.ratio("y", "nope"), EstimationError, r"'nope'"),
    ("ratio-lengths", lambda: D.ratio(["y", "x", "b"], ["x", "y"]), EstimationError,
     r"3 numerators and 2 denominators"),
    ("proportion-200-distinct", lambda: D.proportion("cont"), EstimationError,
     r"'cont'.*200 distinct.*mean"),
    ("proportion-labels-mismatch", lambda: D.proportion("sex", labels={1: "男", 2: "女"}),
     EstimationError, r"'sex'.*not in labels="),
    ("proportion-labels-list", lambda: D.proportion("b", labels=["a", "b"]), EstimationError,
     r"labels=.*'b'.*mapping"),
    ("proportion-ci-method", lambda: D.proportion("sex", ci_method="wilson"), EstimationError,
     r"ci_method='wilson'"),
    ("proportion-two-variables", lambda: D.proportion(["sex", "age"]), TypeError, r"one column"),
    ("replicate-method", lambda: D.replicate("foo"), DesignError, r"'foo'"),
    ("replicate-count", lambda: D.replicate("bootstrap", replicates=0), DesignError, r"replicates=0"),
    ("assign-length", lambda: D.assign(z=[1, 2]), DesignError, r"'z'.*length 2"),
    ("assign-design-column", lambda: D.assign(w=1), DesignError, r"\['w'\].*design columns"),
    ("crosstab-one-level", lambda: D.crosstab("one", "sex"), EstimationError, r"row variable 'one' has 1 level.*at least two"),
    ("crosstab-missing", lambda: D.crosstab("nope", "sex"), DesignError, r"'nope'.*not in"),
    ("crosstab-continuous", lambda: D.crosstab("cont", "sex"), DesignError, r"'cont'.*200 distinct"),
    ("crosstab-unknown-kwarg", lambda: D.crosstab("age", "sex", foo=1), TypeError, r"foo"),
    ("glm-missing-column", lambda: D.glm("y ~ nope"), EstimationError, r"'nope'"),
    ("glm-family", lambda: D.glm("y ~ x", family="poisson2"), EstimationError, r"'poisson2'"),
    ("glm-separated", lambda: D.glm("sep ~ y", family="binomial"), ConvergenceError,
     r"'sep ~ y'.*separation"),
    ("glm-bad-formula", lambda: D.glm("y ~~ x +"), EstimationError, r"'y ~~ x \+'"),
    ("glm-unknown-kwarg", lambda: D.glm("y ~ x", weights="w"), TypeError, r"weights"),
    ("glm-binomial-outcome", lambda: D.glm("y ~ x", family="binomial"), EstimationError,
     r"'y'.*\[0, 1\]"),
    ("glm-three-level-outcome", lambda: D.glm("age ~ x", family="binomial"), EstimationError,
     r"'age ~ x'.*3 columns.*numeric outcome"),
    ("contrast-coef-length", lambda: D.contrast("y", "age", [1, -1]), EstimationError,
     r"2 values for 3 domains"),
    ("contrast-unknown-level", lambda: D.contrast("y", "age", {"a": 1, "zz": -1}), EstimationError,
     r"\['zz'\].*not levels"),
    ("contrast-stat", lambda: D.contrast("y", "age", {"a": 1, "b": -1}, stat="median"),
     EstimationError, r"stat='median'"),
    ("multi-no-questionnaire", lambda: D.multi("q7"), EstimationError, r"'q7'.*questionnaire="),
    ("multi-missing-columns", lambda: D.multi(["nope1", "nope2"]), DesignError, r"'nope1'"),
    ("multi-not-boolean", lambda: D.multi(["y", "x"]), EstimationError, r"boolean or 0/1"),
    ("ranked-missing", lambda: D.ranked(["nope"]), DesignError, r"'nope'"),
    ("likert-missing", lambda: D.likert(["nope"]), DesignError, r"'nope'"),
    ("likert-categorical", lambda: D.likert(["sex"]), EstimationError, r"'sex'.*not numeric"),
    ("scale-score-missing", lambda: D.scale_score(["nope"]), DesignError, r"'nope'"),
    ("scale-score-method", lambda: D.scale_score(["r1", "r2"], method="median"), EstimationError,
     r"method='median'"),
    ("scale-score-reverse", lambda: D.scale_score(["r1", "r2"], reverse=["cont"]), EstimationError,
     r"'cont'.*not one of the items"),
]


@pytest.mark.parametrize("call,err,pattern", [c[1:] for c in DESIGN_CASES],
                         ids=[c[0] for c in DESIGN_CASES])
def test_design_errors(call, err, pattern):
    _check(call, err, pattern)


def test_empty_domain_in_by_warns_and_names_it():
    d = SurveyDesign(DF, weights="wzero_h1", strata="h", psu="c", nest=True)
    with pytest.warns(ReliabilityWarning, match=r"'y'.*domain\(s\) \['h=1'\]"):
        out = d.mean("y", by="h")
    assert np.isnan(out["estimate"].iloc[0]) and out["estimate"].iloc[1:].notna().all()
