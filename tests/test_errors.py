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


# ------------------------------------------------------------------------------------ weighting
WEIGHTING_CASES = [
    ("rake-non-dict", lambda: D.rake([1, 2]), WeightingError, r"targets: give a non-empty dict"),
    ("rake-level-missing-in-targets", lambda: D.rake({"age": {"a": 100, "b": 100}}),
     TargetMismatchError, r"'age'.*\['c'\] have no population target.*collapse"),
    ("rake-extra-level", lambda: D.rake({"age": {**TG["age"], "d": 5}}), TargetMismatchError,
     r"age.*\[d\] have no respondents.*collapse"),
    ("rake-negative-total", lambda: D.rake({"age": {**TG["age"], "a": -100}}), WeightingError,
     r"age.*'a' is -100.*non-negative"),
    ("rake-nan-total", lambda: D.rake({"age": {**TG["age"], "a": np.nan}}), WeightingError,
     r"age.*'a' is nan"),
    ("rake-unknown-variable", lambda: D.rake({"nope": {"a": 1}}), TargetMismatchError,
     r"'nope' is not a column"),
    ("rake-unknown-kwarg", lambda: D.rake(TG, epsilon_=1), TypeError, r"epsilon_"),
    ("rake-maxit", lambda: D.rake(TG, maxit=0), ConvergenceError, r"maxit=0.*raise maxit"),
    ("poststratify-level-missing", lambda: D.poststratify("age", {"a": 100, "b": 100}),
     TargetMismatchError, r"'age'.*\['c'\]"),
    ("poststratify-unknown-variable", lambda: D.poststratify("nope", {"a": 100}),
     TargetMismatchError, r"'nope'"),
    ("calibrate-calfun", lambda: D.calibrate(TG, calfun="foo"), WeightingError,
     r"calfun='foo'.*linear"),
    ("calibrate-bounds-reversed", lambda: D.calibrate(TG, calfun="raking", bounds=(2, 0.5)),
     WeightingError, r"bounds=\(2.0, 0.5\).*lower <= 1 <= upper"),
    ("calibrate-bounds-length", lambda: D.calibrate(TG, bounds=(2,)), WeightingError,
     r"bounds=\(2,\).*pair"),
    ("calibrate-non-dict", lambda: D.calibrate(5), WeightingError, r"targets: give a non-empty dict"),
    ("calibrate-unknown-column", lambda: D.calibrate({"nope": 100.0}), TargetMismatchError,
     r"'nope' is not a column"),
    ("trim-upper-below-lower", lambda: D.trim(upper=1, lower=3), WeightingError,
     r"caps cross \(lower 3 >= upper 1\)"),
    ("trim-negative-upper", lambda: D.trim(upper=-1), WeightingError, r"trim: upper=-1 must be a number > 0"),
    ("trim-string-cap", lambda: D.trim(upper="5"), WeightingError, r"upper='5'"),
    ("trim-no-cap", lambda: D.trim(), WeightingError, r"at least one cap"),
    ("trim-redistribute", lambda: D.trim(upper=4, redistribute="foo"), WeightingError,
     r"redistribute='foo'"),
    ("trim-quantile", lambda: D.trim(upper_quantile=1.5), WeightingError, r"upper_quantile=1.5"),
    ("trim-unknown-kwarg", lambda: D.trim(upper=4, foo=1), TypeError, r"foo"),
    ("nonresponse-class-missing", lambda: D.nonresponse_adjust("b", "nope"), WeightingError,
     r"class column 'nope'"),
    ("base-weights-station-missing", lambda: D.base_weights("nope"), WeightingError,
     r"station column 'nope'"),
]


@pytest.mark.parametrize("call,err,pattern", [c[1:] for c in WEIGHTING_CASES],
                         ids=[c[0] for c in WEIGHTING_CASES])
def test_weighting_errors(call, err, pattern):
    _check(call, err, pattern)


# -------------------------------------------------------------------------- files: read / write
@pytest.fixture(scope="module")
def q():
    return survey.Questionnaire.load(MINI / "questionnaire.yml")


@pytest.fixture(scope="module")
def frame(q):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return survey.read_responses(XLSX, q, salt="s")


def _files(tmp: Path) -> Path:
    (tmp / "empty.xlsx").write_bytes(b"")
    (tmp / "empty.csv").write_bytes(b"")
    (tmp / "notes.txt").write_text("hello world\nfoo", encoding="utf-8")
    (tmp / "pdf.xlsx").write_bytes(b"%PDF-1.4\n%....\n1 0 obj\n<<>>\nendobj\n")
    (tmp / "pdf.sav").write_bytes(b"%PDF-1.4\n%....\n")
    (tmp / "header.csv").write_text("序号,1、您的性别\n", encoding="utf-8")
    (tmp / "x.pdf").write_bytes(b"%PDF-1.4\n")
    ys = {
        "tabs.yml": "wave:\n\tid: x\nquestions: []\n",
        "dup_option.yml": "wave: {id: x}\nquestions:\n  - {id: sex, text: 性别, type: single, "
                          "options: {1: 男, 1: 女}}\n",
        "dup_top.yml": "wave: {id: x}\nwave: {id: y}\nquestions:\n  - {id: a, text: A, type: numeric}\n",
        "list.yml": "- a\n- b\n",
        "no_questions.yml": "wave: {id: x}\n",
        "bad_id.yml": "wave: {id: x}\nquestions:\n  - {id: Sex, text: 性别, type: single, options: {1: 男}}\n",
        "bad_ask.yml": "wave: {id: x}\nquestions:\n  - {id: a, text: A, type: numeric}\n"
                       "  - {id: b, text: B, type: numeric, ask_if: 'import os'}\n",
        "bad_key.yml": "wave: {id: x}\nquestions:\n  - {id: a, text: A, type: numeric, rnage: [0, 1]}\n",
        "bad_type.yml": "wave: {id: x}\nquestions:\n  - {id: a, text: A, type: nope}\n",
    }
    for name, text in ys.items():
        (tmp / name).write_text(text, encoding="utf-8")
    (tmp / "gbk.yml").write_bytes("wave: {id: 中}\n".encode("gbk"))
    return tmp


FILE_CASES = [
    ("read-missing-file", lambda t, q, f: survey.read_export(t / "nope.xlsx", q), ReadError,
     r"nope\.xlsx: file not found"),
    ("read-directory", lambda t, q, f: survey.read_export(t, q), ReadError, r"is a directory"),
    ("read-empty-xlsx", lambda t, q, f: survey.read_export(t / "empty.xlsx", q), ReadError,
     r"empty\.xlsx: not a readable \.xlsx.*download the export again"),
    ("read-empty-csv", lambda t, q, f: survey.read_export(t / "empty.csv", q), ReadError,
     r"empty\.csv: the file is empty"),
    ("read-txt", lambda t, q, f: survey.read_export(t / "notes.txt", q), SchemaMismatchError,
     r"notes\.txt: only 0 of 19 questions.*matching questionnaire"),
    ("read-pdf-renamed-xlsx", lambda t, q, f: survey.read_export(t / "pdf.xlsx", q), ReadError,
     r"pdf\.xlsx: not a readable \.xlsx"),
    ("read-pdf-renamed-sav", lambda t, q, f: survey.read_export(t / "pdf.sav", q), ReadError,
     r"pdf\.sav: pyreadstat cannot read.*Re-export"),
    ("read-pdf", lambda t, q, f: survey.read_export(t / "x.pdf", q), ReadError,
     r"x\.pdf: unknown file type '\.pdf'"),
    ("read-header-only", lambda t, q, f: survey.read_export(t / "header.csv", q), ReadError,
     r"header\.csv: the export has no respondents"),
    ("read-unmapped-option", lambda t, q, f: survey.read_export(XLSX, q, unmapped="foo"), ReadError,
     r"unmapped='foo'"),
    ("read-min-match", lambda t, q, f: survey.read_export(XLSX, q, min_match=2), ReadError,
     r"min_match=2.*between 0 and 1"),
    ("read-sheet", lambda t, q, f: survey.read_export(XLSX, q, sheet="nope"), ReadError,
     r"no worksheet 'nope'.*Sheet1"),
    ("read-encoding", lambda t, q, f: survey.read_export(MINI / "mini_text_gbk.csv", q,
                                                         encoding="klingon"),
     EncodingError, r"mini_text_gbk\.csv: cannot decode as klingon.*omit encoding="),
    ("read-questionnaire-missing", lambda t, q, f: survey.read_export(XLSX, t / "noq.yml"),
     QuestionnaireError, r"noq\.yml: questionnaire file not found"),
    ("read-responses-unknown-kwarg", lambda t, q, f: survey.read_responses(XLSX, q, foo=1),
     TypeError, r"foo"),
    ("write-wjx-layout", lambda t, q, f: survey.write_wjx(f, q, t / "o.xlsx", layout="foo"),
     ReadError, r"layout='foo'"),
    ("write-wjx-not-frame", lambda t, q, f: survey.write_wjx([1], q, t / "o.xlsx"), TypeError,
     r"write_wjx: frame must be.*DataFrame"),
    ("write-wjx-unknown-label", lambda t, q, f: survey.write_wjx(
        f.assign(sex=pd.Categorical(["M"] * len(f))), q, t / "o.xlsx"),
     SchemaMismatchError, r"'sex'.*\['M'\] are not labels"),
    ("write-sav-encoding", lambda t, q, f: survey.write_sav(f, q, t / "o.sav", encoding="klingon"),
     ReadError, r"'klingon'"),
    ("write-sav-not-frame", lambda t, q, f: survey.write_sav({"a": 1}, q, t / "o.sav"), TypeError,
     r"write_sav: frame must be"),
    ("questionnaire-missing", lambda t, q, f: survey.Questionnaire.load(t / "nope.yml"),
     QuestionnaireError, r"nope\.yml: questionnaire file not found"),
    ("questionnaire-tabs", lambda t, q, f: survey.Questionnaire.load(t / "tabs.yml"),
     QuestionnaireError, r"tabs\.yml: line 2.*'\\t'"),
    ("questionnaire-duplicate-option", lambda t, q, f: survey.Questionnaire.load(t / "dup_option.yml"),
     QuestionnaireError, r"dup_option\.yml: line 3.*key 1 appears twice"),
    ("questionnaire-duplicate-top-key", lambda t, q, f: survey.Questionnaire.load(t / "dup_top.yml"),
     QuestionnaireError, r"dup_top\.yml: line 2.*key 'wave' appears twice.*line 1"),
    ("questionnaire-gbk", lambda t, q, f: survey.Questionnaire.load(t / "gbk.yml"),
     QuestionnaireError, r"gbk\.yml: not UTF-8"),
    ("questionnaire-list", lambda t, q, f: survey.Questionnaire.load(t / "list.yml"),
     QuestionnaireError, r"list\.yml: .*mapping"),
    ("questionnaire-no-questions", lambda t, q, f: survey.Questionnaire.load(t / "no_questions.yml"),
     QuestionnaireError, r"no_questions\.yml: 'questions:'"),
    ("questionnaire-bad-id", lambda t, q, f: survey.Questionnaire.load(t / "bad_id.yml"),
     QuestionnaireError, r"'Sex'.*\[a-z\]"),
    ("questionnaire-ask-if", lambda t, q, f: survey.Questionnaire.load(t / "bad_ask.yml"),
     QuestionnaireError, r"question 'b': ask_if.*'import os'"),
    ("questionnaire-unknown-key", lambda t, q, f: survey.Questionnaire.load(t / "bad_key.yml"),
     QuestionnaireError, r"question 'a': unknown key 'rnage'"),
    ("questionnaire-type", lambda t, q, f: survey.Questionnaire.load(t / "bad_type.yml"),
     QuestionnaireError, r"type 'nope'"),
    ("questionnaire-unknown-question", lambda t, q, f: q.columns("nope"), QuestionnaireError,
     r"no question 'nope'"),
    ("clean-unknown-rule", lambda t, q, f: survey.clean(f, q, rules={"nosuchrule": {}}),
     CleaningError, r"'nosuchrule'.*valid rules"),
    ("clean-unknown-rule-key", lambda t, q, f: survey.clean(f, q, rules={"speeders": {"min_s": 1}}),
     CleaningError, r"'speeders'.*\['min_s'\].*valid keys"),
    ("clean-no-rid", lambda t, q, f: survey.clean(f.drop(columns="rid"), q), CleaningError,
     r"no 'rid' column"),
    ("clean-not-frame", lambda t, q, f: survey.clean([1, 2], q), CleaningError, r"not list"),
    ("clean-rules-not-mapping", lambda t, q, f: survey.clean(f, q, rules=["speeders"]),
     CleaningError, r"rules= must be a mapping"),
    ("clean-unknown-kwarg", lambda t, q, f: survey.clean(f, q, foo=1), TypeError, r"foo"),
    ("targets-missing", lambda t, q, f: survey.load_targets(t / "nope.yml"), WeightingError,
     r"nope\.yml: population margins file not found"),
    ("targets-list", lambda t, q, f: survey.load_targets(t / "list.yml"), WeightingError,
     r"list\.yml: .*mapping"),
]


@pytest.mark.parametrize("call,err,pattern", [c[1:] for c in FILE_CASES],
                         ids=[c[0] for c in FILE_CASES])
def test_file_errors(call, err, pattern, tmp_path, q, frame):
    t = _files(tmp_path)
    _check(lambda: call(t, q, frame), err, pattern)


# ---------------------------------------------------------- pipeline / trends / painpoints / CLI
@pytest.fixture(scope="module")
def wave(tmp_path_factory):
    sys.path.insert(0, str(Path(__file__).parent))
    from test_pipeline import small_wave

    d = tmp_path_factory.mktemp("errwave")
    w = small_wave(d / "w", frac=0.08)
    st = pd.read_csv(w["stations"])
    st.iloc[1:].to_csv(d / "st_missing.csv", index=False)
    st.drop(columns="pi_station").to_csv(d / "st_nocol.csv", index=False)
    w["st_frame"] = st
    w["dir"] = d
    (d / "bad_policy.yml").write_text("measures:\n  - {name: a, date: notadate, office: x, "
                                      "question: pain, items: [x]}\n", encoding="utf-8")
    (d / "bad_lexicon.yml").write_text("question: pain\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from survey.pipeline import prepare_wave
        w["design"] = prepare_wave(w["raw"], w["questionnaire"], population=w["population"],
                                   stations=w["stations"]).design
    return w


def _prep(w, **kw):
    from survey.pipeline import prepare_wave
    return prepare_wave(w["raw"], w["questionnaire"], **kw)


PIPELINE_CASES = [
    ("prepare-station-missing-from-register",
     lambda w: _prep(w, stations=w["dir"] / "st_missing.csv"), DesignError,
     r"st_missing\.csv: station\(s\) \['S\w+'\].*not in the register.*add them"),
    ("prepare-register-lacks-column", lambda w: _prep(w, stations=w["dir"] / "st_nocol.csv"),
     ReadError, r"st_nocol\.csv: station register lacks column\(s\) \['pi_station'\]"),
    ("prepare-register-frame-lacks-column",
     lambda w: _prep(w, stations=w["st_frame"].drop(columns="pi_station")), DesignError,
     r"lacks column\(s\) \['pi_station'\]"),
    ("prepare-register-missing-file", lambda w: _prep(w, stations=w["dir"] / "nope.csv"), ReadError,
     r"nope\.csv: cannot read the station register"),
    ("prepare-raw-missing", lambda w: _prep({**w, "raw": w["dir"] / "nope.sav"}), ReadError,
     r"nope\.sav: file not found"),
    ("prepare-calibrate", lambda w: _prep(w, calibrate="foo"), WeightingError, r"calibrate='foo'"),
    ("prepare-lonely-psu", lambda w: _prep(w, lonely_psu="foo"), DesignError, r"lonely_psu='foo'"),
    ("prepare-population-missing", lambda w: _prep(w, population=w["dir"] / "nope.yml"),
     WeightingError, r"nope\.yml: population margins file not found"),
    ("prepare-trim-unknown", lambda w: _prep(w, population=w["population"], trim={"foo": 1}),
     TypeError, r"foo"),
    ("prepare-trim-not-dict", lambda w: _prep(w, population=w["population"], trim=5),
     WeightingError, r"trim=5 must be a dict"),
    ("harmonization-missing", lambda w: survey.Harmonization.load(w["dir"] / "nope.yml"),
     HarmonizationError, r"nope\.yml: harmonisation file not found"),
    ("stack-waves-list", lambda w: survey.stack_waves([w["design"], w["design"]]), DesignError,
     r"mapping of at least two wave ids"),
    ("stack-waves-unknown-indicator",
     lambda w: survey.stack_waves({"a": w["design"], "b": w["design"]}, indicators=["nope"]),
     DesignError, r"'nope' is not in wave 'a'"),
    ("change-kind", lambda w: survey.change({"a": w["design"], "b": w["design"]}, "hours",
                                            kind="median"),
     EstimationError, r"kind='median'"),
    ("change-waves", lambda w: survey.change({"a": w["design"], "b": w["design"]}, "hours",
                                             waves=("a", "zz")),
     EstimationError, r"waves=\['a', 'zz'\]"),
    ("change-by-missing", lambda w: survey.change({"a": w["design"], "b": w["design"]}, "hours",
                                                  by="nope"),
     EstimationError, r"'nope' is not in wave 'a'"),
    ("change-proportion-not-01", lambda w: survey.change({"a": w["design"], "b": w["design"]},
                                                         "hours", kind="proportion"),
     EstimationError, r"'hours' has values outside \[0, 1\]"),
    ("summarize-unknown-question", lambda w: survey.painpoints.summarize(w["design"], "nope"),
     EstimationError, r"'nope'"),
    ("summarize-by-missing", lambda w: survey.painpoints.summarize(w["design"], "pain", by="nope"),
     DesignError, r"'nope'"),
    ("summarize-k", lambda w: survey.painpoints.summarize(w["design"], "pain", k=0),
     ParameterError, r"k=0"),
    ("summarize-weights", lambda w: survey.painpoints.summarize(w["design"], "pain", weights=[1, 2]),
     ParameterError, r"weights has 2 values but k=3"),
    ("policies-missing", lambda w: survey.painpoints.load_policies(w["dir"] / "nope.yml"),
     QuestionnaireError, r"nope\.yml: .* file not found"),
    ("policies-bad-date", lambda w: survey.painpoints.load_policies(w["dir"] / "bad_policy.yml"),
     QuestionnaireError, r"bad_policy\.yml: measure 'a': date 'notadate'"),
    ("lexicon-missing", lambda w: survey.painpoints.load_lexicon(w["dir"] / "nope.yml"),
     QuestionnaireError, r"nope\.yml: .* file not found"),
    ("lexicon-incomplete", lambda w: survey.painpoints.load_lexicon(w["dir"] / "bad_lexicon.yml"),
     QuestionnaireError, r"bad_lexicon\.yml: missing top-level key 'categories'"),
    ("evaluate-policies-measure", lambda w: survey.painpoints.evaluate_policies(
        w["design"], w["design"], "questionnaires/policies.yml", measure="foo"),
     ParameterError, r"measure='foo'"),
]


@pytest.mark.parametrize("call,err,pattern", [c[1:] for c in PIPELINE_CASES],
                         ids=[c[0] for c in PIPELINE_CASES])
def test_pipeline_trends_painpoints_errors(call, err, pattern, wave):
    _check(lambda: call(wave), err, pattern)


CLI_CASES = [
    ("inspect-no-file", lambda t: ["inspect", str(t / "none.xlsx"), "-q", str(MINI)],
     r"survey inspect: error: .*none\.xlsx: file not found"),
    ("inspect-no-questionnaire", lambda t: ["inspect", str(XLSX), "-q", str(t / "noq")],
     r"noq: questionnaire file not found"),
    ("inspect-directory", lambda t: ["inspect", str(t), "-q", str(MINI)], r"is a directory"),
    ("clean-no-file", lambda t: ["clean", str(t / "none.xlsx"), "-q", str(MINI), "--out", str(t)],
     r"survey clean: error: .*none\.xlsx: file not found"),
    ("clean-unknown-rule", lambda t: ["clean", str(XLSX), "-q", str(MINI), "--out", str(t / "o"),
                                      "--rules", "{foo: 1}"], r"unknown cleaning rule 'foo'"),
    ("clean-rules-yaml", lambda t: ["clean", str(XLSX), "-q", str(MINI), "--out", str(t / "o"),
                                    "--rules", "{foo: [1"], r"--rules is not valid YAML"),
    ("clean-out-is-a-file", lambda t: ["clean", str(XLSX), "-q", str(MINI), "--out",
                                       str(MINI / "questionnaire.yml")],
     r"questionnaire\.yml/mini: Not a directory; check the path"),
    ("demo-out-is-a-file", lambda t: ["demo", "--out", str(MINI / "questionnaire.yml")],
     r"survey demo: error: .*questionnaire\.yml/\w+: Not a directory"),
    ("report-no-data", lambda t: ["report", "--data", str(t / "none.sav"), "-q", str(MINI),
                                  "-o", str(t / "r")], r"--data .*none\.sav: file not found"),
    ("report-no-questionnaire", lambda t: ["report", "-q", str(t / "none.yml"), "-o", str(t / "r")],
     r"--questionnaire .*none\.yml: file not found"),
    ("report-no-population", lambda t: ["report", "--population", str(t / "p.yml"), "-o",
                                        str(t / "r")], r"--population .*p\.yml: file not found"),
    ("report-unknown-notebook", lambda t: ["report", "--notebooks", "nosuch", "-q", str(MINI),
                                           "-o", str(t / "r")], r"notebook 'nosuch' not found"),
    ("report-param-syntax", lambda t: ["report", "-p", "nosuch", "-o", str(t / "r")],
     r"--param 'nosuch': write NAME=VALUE"),
]


@pytest.mark.parametrize("argv,pattern", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_errors_are_one_line(argv, pattern, tmp_path, capsys):
    from survey.cli import main

    assert main(argv(tmp_path)) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("warning:")]
    assert len(err) == 1, err
    assert re.search(pattern, err[0]), err[0]


def test_console_command_has_no_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "survey", "clean", str(XLSX), "-q", str(MINI),
                        "--out", str(MINI / "questionnaire.yml")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr


# ------------------------------------------------------------ every option changes the result
def _numbers(x) -> np.ndarray:
    if isinstance(x, SurveyDesign):
        return np.asarray(x.weights)
    if hasattr(x, "frame"):  # CrossTab, ScaleScore
        x = x.frame
    if hasattr(x, "params"):
        return np.concatenate([x.params.to_numpy(), np.sqrt(np.diag(x.cov.to_numpy()))])
    if isinstance(x, pd.DataFrame):
        return x.select_dtypes("number").to_numpy(float)
    return np.asarray(x, float)


_RAKED = None


def _raked() -> SurveyDesign:
    global _RAKED
    if _RAKED is None:
        _RAKED = D.rake(TG)
    return _RAKED


CG = {"age": {"a": 200.0, "b": 200.0, "c": 200.0}, "x": 1200.0}
DNA = SurveyDesign(DF.assign(y=DF.y.where(DF.index % 7 != 0), r1=DF.r1.where(DF.index % 3 != 0)),
                   weights="w", strata="h", psu="c", nest=True)
LONELY = DF.assign(h=np.where(DF.c == 0, 9, DF.h))

# (id, default call, call with the option, check(default, with option) or None = "differs")
OPTION_CASES = [
    ("mean-deff-replace", lambda: D.mean("y"), lambda: D.mean("y", deff="replace"),
     lambda a, b: b["deff"].iloc[0] < a["deff"].iloc[0]),  # with-replacement SRS variance is larger
    ("mean-deff-false", lambda: D.mean("y"), lambda: D.mean("y", deff=False),
     lambda a, b: np.isnan(b["deff"].iloc[0]) and b["se"].iloc[0] == a["se"].iloc[0]),
    ("total-deff-replace", lambda: D.total("y"), lambda: D.total("y", deff="replace"), None),
    ("ratio-deff-replace", lambda: D.ratio("y", "x"), lambda: D.ratio("y", "x", deff="replace"), None),
    ("ratio-level", lambda: D.ratio("y", "x"), lambda: D.ratio("y", "x", level=0.8),
     lambda a, b: b["ci_high"].iloc[0] < a["ci_high"].iloc[0]),
    ("proportion-df", lambda: D.proportion("sex"), lambda: D.proportion("sex", df=2),
     lambda a, b: (b["ci_high"] > a["ci_high"]).all()),
    ("proportion-deff-replace", lambda: D.proportion("sex"),
     lambda: D.proportion("sex", deff="replace"), None),
    ("quantile-level", lambda: D.quantile("y", 0.5), lambda: D.quantile("y", 0.5, level=0.8),
     lambda a, b: b["ci_high"].iloc[0] <= a["ci_high"].iloc[0] and b["ci_low"].iloc[0] >= a["ci_low"].iloc[0]),
    ("quantile-df", lambda: D.quantile("y", 0.5), lambda: D.quantile("y", 0.5, df=2), None),
    ("quantile-na_rm", lambda: D.quantile("y", 0.5), lambda: DNA.quantile("y", 0.5, na_rm=True),
     lambda a, b: b["n"].iloc[0] < a["n"].iloc[0]),
    ("design-fpc", lambda: D.mean("y"),
     lambda: SurveyDesign(DF.assign(N=20.0), weights="w", strata="h", psu="c", fpc="N",
                          nest=True).mean("y"),
     lambda a, b: b["se"].iloc[0] < a["se"].iloc[0]),
    ("lonely-average", lambda: SurveyDesign(LONELY, weights="w", strata="h", psu="c", nest=True,
                                            lonely_psu="adjust").mean("y"),
     lambda: SurveyDesign(LONELY, weights="w", strata="h", psu="c", nest=True,
                          lonely_psu="average").mean("y"), None),
    ("lonely-remove", lambda: SurveyDesign(LONELY, weights="w", strata="h", psu="c", nest=True,
                                           lonely_psu="adjust").mean("y"),
     lambda: SurveyDesign(LONELY, weights="w", strata="h", psu="c", nest=True,
                          lonely_psu="remove").mean("y"), None),
    ("multi-level", lambda: D.multi(["m1", "m2"]), lambda: D.multi(["m1", "m2"], level=0.8), None),
    ("likert-bottom", lambda: D.likert(["r1", "r2"]), lambda: D.likert(["r1", "r2"], bottom=1), None),
    ("likert-scale", lambda: D.likert(["r1", "r2"]),
     lambda: D.likert(["r1", "r2"], scale=[1, 2, 3, 4, 5, 6, 7]), None),
    ("scale-score-min-items", lambda: DNA.scale_score(["r1", "r2"]),
     lambda: DNA.scale_score(["r1", "r2"], min_items=1),
     lambda a, b: b.frame["n"].iloc[0] > a.frame["n"].iloc[0]),
    ("contrast-stat-total", lambda: D.contrast("y", "age", {"a": 1, "b": -1}),
     lambda: D.contrast("y", "age", {"a": 1, "b": -1}, stat="total"), None),
    ("contrast-df", lambda: D.contrast("y", "age", {"a": 1, "b": -1}),
     lambda: D.contrast("y", "age", {"a": 1, "b": -1}, df=2), None),
    ("contrast-level", lambda: D.contrast("y", "age", {"a": 1, "b": -1}),
     lambda: D.contrast("y", "age", {"a": 1, "b": -1}, level=0.8), None),
    ("glm-level", lambda: D.glm("y ~ x").conf_int(), lambda: D.glm("y ~ x", level=0.8).conf_int(),
     None),
    ("poststratify-control-total", lambda: D.poststratify("age", TG["age"]),
     lambda: D.poststratify("age", TG["age"], control_total=900),
     lambda a, b: np.isclose(b.sum(), 900)),
    ("calibrate-variance", lambda: D.calibrate(CG), lambda: D.calibrate(CG, variance=DF.x.to_numpy()),
     None),
    ("calibrate-logit-bounds", lambda: D.calibrate(CG, calfun="logit", bounds=(0.2, 5)),
     lambda: D.calibrate(CG, calfun="logit", bounds=(0.8, 1.25)),
     lambda a, b: (b / D.weights).min() >= 0.8 - 1e-9 and (b / D.weights).max() <= 1.25 + 1e-9),
    ("calibrate-epsilon-maxit-force", lambda: D.calibrate(CG, calfun="raking"),
     lambda: D.calibrate(CG, calfun="raking", maxit=1, force=True), None),
    ("trim-lower-quantile", lambda: _raked(), lambda: _raked().trim(lower_quantile=0.1), None),
    ("trim-tol", lambda: _raked().trim(upper_ratio=1.3), lambda: _raked().trim(upper_ratio=1.3, tol=0.2),
     None),
    ("replicate-mse", lambda: D.replicate("bootstrap", 20, seed=1).mean("y"),
     lambda: D.replicate("bootstrap", 20, seed=1, mse=True).mean("y"),
     lambda a, b: b["se"].iloc[0] >= a["se"].iloc[0]),
    ("replicate-replicates", lambda: D.replicate("bootstrap", 20, seed=1).mean("y"),
     lambda: D.replicate("bootstrap", 30, seed=1).mean("y"), None),
    ("replicate-method", lambda: D.replicate("jkn").mean("y"),
     lambda: D.replicate("bootstrap", 20, seed=1).mean("y"), None),
]


@pytest.mark.parametrize("default,option,check", [c[1:] for c in OPTION_CASES],
                         ids=[c[0] for c in OPTION_CASES])
def test_option_changes_result(default, option, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = default(), option()
    A, B = _numbers(a), _numbers(b)
    assert A.shape != B.shape or not np.allclose(A, B, equal_nan=True), "option had no effect"
    if check is not None:
        w = lambda x: x.weights if isinstance(x, SurveyDesign) else x  # noqa: E731
        assert check(w(a), w(b))


# ------------------------------------------- mismatched labels / swallowed options (silent before)
SILENT_CASES = [
    ("likert-scale-missing-codes", lambda: D.likert(["r1", "r2"], scale=[1, 2, 3]), EstimationError,
     r"'r1' has codes \[4, 5\].*not in scale=\[1, 2, 3\]"),
    ("likert-scale-mapping-missing-codes", lambda: D.likert(["r1", "r2"], scale={1: "a", 2: "b"}),
     EstimationError, r"'r1' has codes \[3, 4, 5\]"),
    ("scale-score-scale-too-narrow",
     lambda: D.scale_score(["r1", "r2"], reverse=["r2"], scale=[1, 3]), EstimationError,
     r"scale_score: column 'r1' has codes \[2, 4, 5\]"),
    ("crosstab-threshold-type", lambda: D.crosstab("age", "sex", min_cell="10"), EstimationError,
     r"min_cell='10'"),
    ("rake-collapse-unknown-variable",
     lambda: D.rake(TG, collapse={"nope": {"x": ["a"]}}), WeightingError,
     r"collapse: variable\(s\) \['nope'\] have no population target"),
    ("calibrate-variance-length", lambda: D.calibrate({"x": 1200.0}, variance=[1, 2]),
     WeightingError, r"variance= must hold one positive number per respondent \(200"),
    ("calibrate-variance-negative", lambda: D.calibrate({"x": 1200.0}, variance=-np.ones(200)),
     WeightingError, r"variance=.*min -1"),
    ("contrast-category-unknown",
     lambda: D.contrast("sex", "age", {"a": 1, "b": -1}, category="X"), EstimationError,
     r"category 'X' is not a level of 'sex'"),
]


@pytest.mark.parametrize("call,err,pattern", [c[1:] for c in SILENT_CASES],
                         ids=[c[0] for c in SILENT_CASES])
def test_silent_failures_now_refused(call, err, pattern):
    _check(call, err, pattern)


def test_likert_scale_allows_declared_missing_codes():
    d = SurveyDesign(DF.assign(r1=DF.r1.where(DF.index % 5 != 0, 99.0)), weights="w")
    out = d.likert(["r1", "r2"], scale=[1, 2, 3, 4, 5])  # 99 = 拒答 counts as missing
    assert out["n"].min() < len(DF)


METHODS = ["mean", "total", "proportion", "ratio", "quantile", "rake", "poststratify", "calibrate",
           "trim", "crosstab", "multi", "ranked", "likert", "scale_score", "contrast", "glm"]


@pytest.mark.parametrize("method", METHODS)
def test_unknown_keyword_is_refused(method):
    args = {"mean": ("y",), "total": ("y",), "proportion": ("sex",), "ratio": ("y", "x"),
            "quantile": ("y",), "rake": (TG,), "poststratify": ("age", TG["age"]),
            "calibrate": (TG,), "trim": (4.0,), "crosstab": ("age", "sex"),
            "multi": (["m1", "m2"],), "ranked": (["r1", "r2"],), "likert": (["r1", "r2"],),
            "scale_score": (["r1", "r2"],), "contrast": ("y", "age", {"a": 1, "b": -1}),
            "glm": ("y ~ x",)}[method]
    with pytest.raises(TypeError, match="nosuch_option"):
        getattr(D, method)(*args, nosuch_option=1)
