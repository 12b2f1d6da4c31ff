"""One parameter validator, one message shape (survey/validation.py)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey import SurveyDesign
from survey.errors import DesignError, EstimationError, ParameterError
from survey.validation import Integer, Interval, Options, check, check_level

SHAPE = re.compile(r"^(?P<fn>\w+): (?P<name>\w+)=(?P<val>.+) must be (?P<what>.+?)( \(e\.g\. \w+=.+\))?$")


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-5, 5) | st.booleans()
       | st.text(max_size=3) | st.none())
@settings(max_examples=150, deadline=None)
def test_level_accepts_exactly_the_open_unit_interval(v):
    ok = (isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and 0 < v < 1)
    if ok:
        assert check_level("mean", v) == v
    else:
        with pytest.raises(EstimationError) as e:
            check_level("mean", v)
        m = SHAPE.match(str(e.value))
        assert m and m["fn"] == "mean" and m["name"] == "level"
        assert "level=0.95" in str(e.value)


def test_one_shape_for_every_constraint_and_error_class():
    cases = [
        (Interval(0, None, "neither"), -1.0, "a number > 0"),
        (Interval(0, 1, "both"), 2.0, "a number between 0 and 1"),
        (Interval(0, 1, "left"), 1.0, "a number in [0, 1)"),
        (Integer(2, example=200), 1, "an integer >= 2"),
        (Integer(2), True, "an integer >= 2"),
        (Options(("jk1", "jkn")), "brr", "one of 'jk1', 'jkn'"),
    ]
    for con, val, what in cases:
        with pytest.raises(ParameterError) as e:
            check("fn", "p", val, con, error=ParameterError)
        m = SHAPE.match(str(e.value))
        assert m, str(e.value)
        assert (m["fn"], m["name"], m["val"], m["what"]) == ("fn", "p", repr(val), what)


def test_estimators_and_replicate_use_the_validator():
    d = SurveyDesign(pd.DataFrame({"y": [1.0, 2, 3, 4], "c": [1, 1, 2, 2]}), psu="c")
    for fn in ("mean", "total", "quantile"):
        with pytest.raises(EstimationError, match=rf"^{fn}: level=1\.2 must be a number strictly "
                                                  r"between 0 and 1 \(e\.g\. level=0\.95\)$"):
            getattr(d, fn)("y", level=1.2)
    with pytest.raises(DesignError, match=r"^replicate: replicates=1 must be an integer >= 2 "
                                          r"\(e\.g\. replicates=200\)$"):
        d.replicate("bootstrap", replicates=1)
    with pytest.raises(DesignError, match=r"^replicate: method='brr' must be one of"):
        d.replicate("brr")
    assert np.isfinite(d.mean("y", level=0.9)["ci_low"].iloc[0])


# ---- every converted parameter check gives the one shape ---------------------------------------
def _export(tmp_path_factory):
    """A two-question questionnaire and a 问卷星-style CSV written with the csv module."""
    import csv

    from survey import Questionnaire
    q = Questionnaire.from_dict({"wave": {"id": "v"}, "questions": [
        {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}},
        {"id": "age", "text": "您的年龄", "type": "numeric"}]})
    p = tmp_path_factory.mktemp("validation") / "v.csv"
    with open(p, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([["序号", "1、您的性别", "2、您的年龄"], ["1", "男", "30"],
                                  ["2", "女", "41"]])
    return q, p


def _weighted():
    return SurveyDesign(pd.DataFrame({"w": [1.0, 1, 2, 4], "sex": ["a", "b", "a", "b"]}),
                        weights="w")


def _cases():
    from survey import clean, read_export, write_wjx  # noqa: F401 - used in the lambdas
    from survey.errors import PrivacyError, ReadError, WeightingError
    from survey.multiplicity import adjust_pvalues
    from survey.painpoints.checklist import problem_list
    from survey.pipeline import prepare_wave
    from survey.privacy import disclosure_mask
    from survey.report.disclosure import hidden_levels, primary_mask, suppress_table
    from survey.report.runner import render_report
    from survey.estimates import proportion_ci
    from survey.weighting.core import trim_weights
    counts = pd.DataFrame({"a": [12, 30], "b": [20, 40]})
    return [
        # (id, call(q, path), error, fn, parameter, value shown)
        ("read_export-min_match", lambda q, p: read_export(p, q, min_match=2), ReadError,
         "read_export", "min_match", "2"),
        ("read_export-min_match-text", lambda q, p: read_export(p, q, min_match="half"), ReadError,
         "read_export", "min_match", "'half'"),
        ("read_export-unmapped", lambda q, p: read_export(p, q, unmapped="drop"), ReadError,
         "read_export", "unmapped", "'drop'"),
        ("write_wjx-layout", lambda q, p: write_wjx(pd.DataFrame({"rid": ["1"]}), q, p.with_name(
            "o.xlsx"), layout="labels"), ReadError, "write_wjx", "layout", "'labels'"),
        ("SurveyDesign-lonely_psu", lambda q, p: SurveyDesign(pd.DataFrame({"y": [1.0]}),
                                                              lonely_psu="drop"),
         DesignError, "SurveyDesign", "lonely_psu", "'drop'"),
        ("prepare_wave-calibrate", lambda q, p: prepare_wave(p, q, calibrate="raking"),
         WeightingError, "prepare_wave", "calibrate", "'raking'"),
        ("disclosure_mask-min_cell", lambda q, p: disclosure_mask(np.array([3, 50]), None, -1),
         PrivacyError, "disclosure_mask", "min_cell", "-1"),
        ("primary_mask-min_cell", lambda q, p: primary_mask(np.array([3, 50]), 0), PrivacyError,
         "primary_mask", "min_cell", "0"),
        ("suppress_table-min_cell", lambda q, p: suppress_table(counts, 2.5), PrivacyError,
         "suppress_table", "min_cell", "2.5"),
        ("suppress_table-margins", lambda q, p: suppress_table(counts, 10, margins="all"),
         PrivacyError, "suppress_table", "margins", "'all'"),
        ("hidden_levels-min_cell", lambda q, p: hidden_levels(pd.Series(["a", "b"]), True),
         PrivacyError, "hidden_levels", "min_cell", "True"),
        ("adjust_pvalues-method", lambda q, p: adjust_pvalues(np.array([0.01]), "bonferroni"),
         ParameterError, "adjust_pvalues", "method", "'bonferroni'"),
        ("proportion_ci-ci_method", lambda q, p: proportion_ci(pd.DataFrame(), method="exact"),
         EstimationError, "proportion_ci", "ci_method", "'exact'"),
        ("problem_list-top", lambda q, p: problem_list(None, top=0), ParameterError,
         "problem_list", "top", "0"),
        ("trim-upper", lambda q, p: _weighted().trim(upper=-1), WeightingError, "trim", "upper",
         "-1"),
        ("trim-lower", lambda q, p: _weighted().trim(upper=4, lower=-0.5), WeightingError, "trim",
         "lower", "-0.5"),
        ("trim-upper_ratio", lambda q, p: _weighted().trim(upper_ratio="3"), WeightingError,
         "trim", "upper_ratio", "'3'"),
        ("trim-lower_ratio", lambda q, p: _weighted().trim(upper=4, lower_ratio=-1),
         WeightingError, "trim", "lower_ratio", "-1"),
        ("trim-upper_quantile", lambda q, p: _weighted().trim(upper_quantile=1.5), WeightingError,
         "trim", "upper_quantile", "1.5"),
        ("trim-lower_quantile", lambda q, p: _weighted().trim(upper=4, lower_quantile=1.0),
         WeightingError, "trim", "lower_quantile", "1.0"),
        ("trim-redistribute", lambda q, p: _weighted().trim(upper=4, redistribute="even"),
         WeightingError, "trim", "redistribute", "'even'"),
        ("trim_weights-redistribute", lambda q, p: trim_weights(np.ones(3), 2.0,
                                                                redistribute="even"),
         WeightingError, "trim_weights", "redistribute", "'even'"),
        ("calibrate-calfun", lambda q, p: _weighted().calibrate({"sex": {"a": 4, "b": 4}},
                                                                calfun="probit"),
         WeightingError, "calibrate", "calfun", "'probit'"),
        ("render_report-jobs", lambda q, p: render_report({}, output_dir=p.parent / "r", jobs=0),
         ParameterError, "render_report", "jobs", "0"),
    ]


CASES = _cases()


@pytest.mark.parametrize("call,error,fn,name,shown", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_converted_parameter_checks_give_the_one_shape(tmp_path_factory, call, error, fn, name,
                                                       shown):
    q, p = _export(tmp_path_factory)
    with pytest.raises(error) as e:
        call(q, p)
    msg = str(e.value)
    m = SHAPE.match(msg)
    assert m, msg
    assert (m["fn"], m["name"], m["val"]) == (fn, name, shown), msg
    assert "\n" not in msg and f"(e.g. {name}=" in msg
