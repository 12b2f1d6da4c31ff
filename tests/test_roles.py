"""Report roles (questionnaire ``report:`` block) and the rule that package code never names a
demo question id (issue #15)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "survey"

#: Demo question ids that are also words of a documented file format or parameter name, so code
#: legitimately spells them for another reason: ``name``/``phone``/``email`` are ``pii_kind``
#: values and keys of policies.yml; ``title`` is a wave/table key and a report parameter;
#: ``confidence`` a report parameter; ``station`` the id column of stations.csv.
FORMAT_WORDS = {"name", "phone", "email", "title", "confidence", "station"}


_COLUMN = re.compile(r"^([a-z][a-z0-9_]*)_(\d+|r\d+|other)$")


def _demo_ids() -> set[str]:
    ids: set[str] = set()
    for f in sorted((ROOT / "questionnaires").glob("demo-*/questionnaire.yml")):
        ids |= {q["id"] for q in yaml.safe_load(f.read_text(encoding="utf-8"))["questions"]}
    return ids


def _docstring_nodes(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                out.add(id(body[0].value))
    return out


def demo_id_uses(root: Path = PKG) -> list[str]:
    """``file:line: 'id'`` for every string constant (outside docstrings) of the package, outside
    ``survey/demo/``, that is a demo question id or a frame column of one (``pain_3``)."""
    ids = _demo_ids() - FORMAT_WORDS
    hits = []
    for f in sorted(root.rglob("*.py")):
        if "demo" in f.relative_to(root).parts[:1]:
            continue
        tree = ast.parse(f.read_text(encoding="utf-8"))
        docs = _docstring_nodes(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                v = node.value
                m = _COLUMN.match(v)
                if v in ids or (m is not None and m.group(1) in ids):
                    hits.append(f"{f.relative_to(root.parent)}:{node.lineno}: {v!r}")
    return hits


def test_no_demo_question_id_in_package_code():
    hits = demo_id_uses()
    assert not hits, "package code names demo question ids:\n" + "\n".join(hits)


def test_scanner_finds_an_id_and_ignores_docstrings(tmp_path):
    pkg = tmp_path / "survey"
    (pkg / "demo").mkdir(parents=True)
    (pkg / "a.py").write_text('"""Docstring may say sat_overall."""\nX = "sat_overall"\nY = "pain_3"\n'
                              'def f():\n    """pain"""\n    return "unit_type"\n', encoding="utf-8")
    (pkg / "demo" / "b.py").write_text('Z = "pain"\n', encoding="utf-8")
    got = [h.split(": ", 1)[1] for h in demo_id_uses(pkg)]
    assert got == ["'sat_overall'", "'pain_3'", "'unit_type'"]


# ----------------------------------------------------------------------------------------------
# the report: block of questionnaire.yml
# ----------------------------------------------------------------------------------------------
_BASE = """wave: {id: w}
design:
  groups: [q1_grp]
questions:
 - {id: q1_grp, text: 您的岗位类别, type: single, options: {1: 甲, 2: 乙}}
 - {id: q2_need, text: 最需要解决的问题, type: rank, k: 2, options: {1: x, 2: y, 3: z}}
 - {id: q3_hrs, text: 每周小时, type: numeric}
 - {id: q4_sat, text: 总体满意度, type: single, options: {1: 低, 2: 高}}
report:
  painpoints: q2_need
  outcome: q4_sat
  key_indicators: [q3_hrs, q4_sat]
"""


def _load(tmp_path, text):
    from survey.questionnaire import Questionnaire

    p = tmp_path / "questionnaire.yml"
    p.write_text(text, encoding="utf-8")
    return Questionnaire.load(p)


def test_report_roles_are_read(tmp_path):
    r = _load(tmp_path, _BASE).report
    assert (r.painpoints, r.outcome, r.key_indicators, r.drivers) == ("q2_need", "q4_sat", ("q3_hrs", "q4_sat"), None)
    assert _load(tmp_path, _BASE.split("report:")[0]).report.painpoints is None


@pytest.mark.parametrize("old, new, line, words", [
    ("  outcome: q4_sat", "  outcom: q4_sat", 11, ["unknown key 'outcom'"]),
    ("[q3_hrs, q4_sat]", "[q3_hrs, q9_none]", 12, ["'q9_none'", "not a question id"]),
    ("painpoints: q2_need", "painpoints: q3_hrs", 10, ["'q3_hrs'", "numeric", "rank/multi"]),
    ("  outcome: q4_sat", "  outcome: q4_sat\n  drivers: [q1_grp, q2_need]", 12, ["'q2_need'", "single"]),
    ("  outcome: q4_sat", "  outcome: [q4_sat]", 11, ["one question"]),
])
def test_report_role_errors_name_file_line_and_id(tmp_path, old, new, line, words):
    from survey.errors import QuestionnaireError

    with pytest.raises(QuestionnaireError) as e:
        _load(tmp_path, _BASE.replace(old, new))
    msg = str(e.value)
    assert "questionnaire.yml" in msg and f"line {line}:" in msg, msg
    for w in words:
        assert w in msg, msg


def test_demo_questionnaires_declare_their_roles():
    from survey.questionnaire import Questionnaire

    for w in ("demo-2023", "demo-2024"):
        r = Questionnaire.load(ROOT / "questionnaires" / w / "questionnaire.yml").report
        assert r.painpoints and r.outcome


def test_drivers_with_exactly_k_choices_use_a_reference_item():
    """A forced "choose exactly 3" makes the item indicators sum to 3 (collinear with the
    intercept); the least chosen item becomes the reference instead of a rank-deficient fit."""
    import numpy as np
    import pandas as pd

    from survey import SurveyDesign
    from survey.painpoints import drivers

    rng = np.random.default_rng(3)
    n, K = 600, 5
    order = np.argsort(-(rng.gumbel(size=(n, K)) + np.log([3, 2, 2, 1, 0.5])), axis=1)[:, :3]
    ranks = np.full((n, K), np.nan)
    for r in range(3):
        ranks[np.arange(n), order[:, r]] = r + 1
    df = pd.DataFrame({f"p_{j + 1}": pd.array(ranks[:, j], dtype="Int64") for j in range(K)})
    df["y"] = 3 - 1.0 * (ranks[:, 0] > 0) + rng.normal(0, 0.5, n)
    d = drivers(SurveyDesign(df), "p", "y", covariates=())
    assert d.attrs["reference"] == "5" and "5" not in set(d["item"].dropna())
    # item 1 lowers y by 1 relative to the reference item 5 (which has no effect)
    assert abs(float(d.loc[d.item == "1", "estimate"].iloc[0]) + 1.0) < 0.25


def test_committed_notebooks_equal_the_generator():
    """notebooks/*.ipynb are exactly what notebooks/make_skeletons.py writes (never hand-edited),
    name the installed kernel, and stop with what to set when run with default parameters."""
    import importlib.util

    import nbformat

    spec = importlib.util.spec_from_file_location("make_skeletons", ROOT / "notebooks" / "make_skeletons.py")
    mk = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mk)
    for nb in mk.BODY:
        committed = nbformat.read(ROOT / "notebooks" / f"{nb}.ipynb", as_version=4)
        assert committed.metadata.survey.generated_for == "2024"
        assert nbformat.writes(mk.build(nb)) == nbformat.writes(committed), f"regenerate {nb}.ipynb"
        assert committed.metadata.kernelspec.display_name == "Python (survey)"


def test_default_parameters_say_what_to_set():
    from survey.errors import ParameterError
    from survey.report import require_inputs, validate

    with pytest.raises(ParameterError, match=r"未设置参数 questionnaire、data.*survey report --wave demo"):
        require_inputs(validate(notebook="quality"))


def test_a_wave_notebook_beside_the_questionnaire_is_preferred(tmp_path):
    from survey.report.runner import resolve_notebooks

    own = tmp_path / "notebooks" / "survey_report.ipynb"
    own.parent.mkdir()
    own.write_text("{}", encoding="utf-8")
    got = resolve_notebooks(["quality", "survey_report"], wave_dir=tmp_path)
    assert got[0] == (ROOT / "notebooks" / "quality.ipynb").resolve() and got[1] == own.resolve()


def test_generated_notebooks_name_the_wave_questions():
    """Built for the second survey, the cells call the analyses with its own question ids."""
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    import second_survey

    from survey.questionnaire import Questionnaire
    from survey.report.notebooks import build

    q = Questionnaire.from_dict(yaml.safe_load(second_survey.questionnaire_text("2025")))
    src = "\n".join(c.source for c in build("survey_report", q).cells)
    assert ("est = report.indicator_estimates(ctx, ['q5_hours', 'q6_support'])\n"
            "report.publish_indicators(est, \"T3.2\", '工作负荷', ctx)") in src
    assert ("t_q2_age = report.subgroup_estimates(ctx, 'q2_age')\n"
            "report.publish_subgroups(t_q2_age, \"T4.2\", ctx)") in src
    assert ("tests = report.subgroup_tests(ctx, ['q1_gender', 'q2_age', 'q3_sector'])\n"
            "report.publish_subgroup_tests(tests, \"T4.4\", ctx)") in src
    assert "report.notable_differences(ctx, [t_q1_gender, t_q2_age, t_q3_sector], tests)" in src
    pp = "\n".join(c.source for c in build("painpoints", q).cells)
    assert "brief_for_report(ctx, qid='q7_needs')" in pp and "总的来看" in pp


def test_role_gaps_look_for_the_lexicon_where_the_report_does(tmp_path):
    """`survey report` said "没有 painpoint_lexicon.yml" for the demo although the page found it
    in questionnaires/<wave>/: the line and the page now search the same folders."""
    import shutil

    from survey.painpoints.brief import lexicon_folders
    from survey.questionnaire import Questionnaire
    from survey.report.content.roles import role_gaps

    root = Path(__file__).resolve().parents[1]
    a, b = tmp_path / "data", tmp_path / "questionnaires" / "w1"
    a.mkdir()
    b.mkdir(parents=True)
    shutil.copy(root / "questionnaires" / "demo-2024" / "questionnaire.yml", a)
    q = Questionnaire.load(a / "questionnaire.yml")
    lex_gap = [g for g in role_gaps(q, [a, b]) if "painpoint_lexicon.yml" in g]
    assert len(lex_gap) == 1
    shutil.copy(root / "questionnaires" / "demo-2024" / "painpoint_lexicon.yml", b)
    assert not [g for g in role_gaps(q, [a, b]) if "painpoint_lexicon.yml" in g]
    folders = lexicon_folders({"wave": "w1", "questionnaire": str(a / "questionnaire.yml")})
    assert folders[0] == a and Path("questionnaires") / "w1" in folders
