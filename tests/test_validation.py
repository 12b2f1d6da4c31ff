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
