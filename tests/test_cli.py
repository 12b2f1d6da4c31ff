"""Tests for the `survey` console command."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from survey.cli import SUBCOMMANDS, main, subcommand

MINI = Path(__file__).parent / "fixtures" / "mini"
XLSX = MINI / "100000_按序号_迷你测试问卷_40_40.xlsx"


def test_inspect_prints_report(capsys):
    assert main(["inspect", str(XLSX), "-q", str(MINI / "questionnaire.yml")]) == 0
    out = capsys.readouterr().out
    assert "respondents: 40" in out
    assert "19 of 19 matched" in out
    assert "unmapped columns (0): none" in out
    assert "q12" in out and "62.5%" in out  # missing per question
    assert "13900000000" not in out  # no PII printed


def test_inspect_columns_flag(capsys):
    assert main(["inspect", str(MINI / "mini_text_gbk.csv"), "-q", str(MINI), "--columns"]) == 0
    out = capsys.readouterr().out
    assert "7、您目前面临的主要困难有哪些(最多三项)  →  q7" in out
    assert "encoding gb" in out


def test_errors_are_one_line(capsys, tmp_path):
    assert main(["inspect", str(tmp_path / "none.xlsx"), "-q", str(MINI)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("survey inspect: error:") and "not found" in err[0]
    bad = tmp_path / "q.yml"
    bad.write_text("wave: {id: x}\nquestions:\n - {id: a, text: A, type: nope}\n", encoding="utf-8")
    assert main(["inspect", str(XLSX), "-q", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "type 'nope'" in err and "Traceback" not in err


def test_strict_unmapped(capsys, tmp_path):
    other = tmp_path / "questionnaire.yml"
    text = (MINI / "questionnaire.yml").read_text(encoding="utf-8")
    other.write_text(text.split("  - {id: suggestion")[0], encoding="utf-8")
    assert main(["inspect", str(XLSX), "-q", str(other), "--strict"]) == 2
    assert "您对科协工作有什么建议" in capsys.readouterr().err


def test_registry_and_no_command(capsys):
    assert "inspect" in SUBCOMMANDS

    @subcommand("echo-test", help="test only", arguments=lambda p: p.add_argument("word"))
    def _echo(args):
        print(args.word)
        return 3

    try:
        assert main(["echo-test", "你好"]) == 3
        assert capsys.readouterr().out.strip() == "你好"
        with pytest.raises(ValueError, match="twice"):
            subcommand("echo-test", help="x")(lambda a: 0)
    finally:
        SUBCOMMANDS.pop("echo-test")
    assert main([]) == 1


def test_console_script_exit_status(tmp_path):
    r = subprocess.run([sys.executable, "-m", "survey.cli", "inspect", str(tmp_path / "x.sav"),
                        "-q", str(MINI)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "x.sav: file not found" in r.stderr


@pytest.mark.parametrize("argv, needle", [
    (["report"], "--wave ID"),
    (["report", "--wave", "nosuchwave"], "nosuchwave"),
])
def test_report_without_a_wave_or_its_inputs_is_one_clear_line(tmp_path, capsys, argv, needle):
    """A report of nothing used to render an empty skeleton and exit 0."""
    from survey.cli import main

    assert main([*argv, "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_report_missing_previous_wave_stops_before_rendering(tmp_path, capsys):
    """`--previous` naming a wave that is not set up used to fail only in the third notebook,
    after ~30 s of rendering, pointing at the notebook-only parameter previous_data."""
    import shutil

    from survey.cli import main

    (tmp_path / "questionnaires" / "w1").mkdir(parents=True)
    shutil.copy(MINI / "questionnaire.yml", tmp_path / "questionnaires" / "w1" / "questionnaire.yml")
    (tmp_path / "data" / "w1").mkdir(parents=True)
    shutil.copy(XLSX, tmp_path / "data" / "w1" / XLSX.name)
    assert main(["report", "--wave", "w1", "--previous", "w0", "--root", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--previous w0" in err[0] and "questionnaires/w0/" in err[0]
    assert "-p 'previous_data={w0: path/to/folder}'" in err[0]
    assert not (tmp_path / "reports").exists()


def _two_waves(root: Path, harmonization: str, w2_sex: str = "{1: 男, 2: 女}") -> None:
    """questionnaires/w1, w2 (the mini questionnaire with its own wave id; w2's sex options
    *w2_sex*), data/w1, w2 (the mini export) and questionnaires/harmonization.yml."""
    import shutil

    text = (MINI / "questionnaire.yml").read_text(encoding="utf-8")
    for w in ("w1", "w2"):
        t = text.replace("  id: mini\n", f"  id: {w}\n", 1)
        if w == "w2":
            t = t.replace("type: single, options: {1: 男, 2: 女}}", f"type: single, options: {w2_sex}}}", 1)
        (root / "questionnaires" / w).mkdir(parents=True)
        (root / "questionnaires" / w / "questionnaire.yml").write_text(t, encoding="utf-8")
        (root / "data" / w).mkdir(parents=True)
        shutil.copy(XLSX, root / "data" / w / XLSX.name)
    (root / "questionnaires" / "harmonization.yml").write_text(harmonization, encoding="utf-8")


_H_BOTH = 'waves: {"w1": w1/questionnaire.yml, "w2": w2/questionnaire.yml}\nquestions: {sex: {}}\n'


@pytest.mark.parametrize("harmonization, w2_sex, needle", [
    # the new wave is not in harmonization.yml
    ('waves: {"w1": w1/questionnaire.yml}\nquestions: {sex: {}}\n', "{1: 男, 2: 女}",
     "wave(s) ['w2'] are not in the harmonisation"),
    # both are, but the new wave's codes do not line up with the map
    (_H_BOTH, "{1: 男, 2: 女, 3: 其他}", "sex"),
])
def test_report_harmonisation_checked_before_any_notebook(tmp_path, capsys, harmonization, w2_sex,
                                                          needle):
    """A wave missing from harmonization.yml (or not lining up with it) used to fail only in the
    trends notebook, ~30 s into the run; now it stops before anything is rendered."""
    _two_waves(tmp_path, harmonization, w2_sex)
    assert main(["report", "--wave", "w2", "--previous", "w1", "--root", str(tmp_path),
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [e for e in err if e.startswith("survey report: error:")]
    assert len(errors) == 1 and needle in errors[0] and "Traceback" not in "\n".join(err)
    assert "harmoni" in errors[0].lower()
    assert not (tmp_path / "reports").exists()  # nothing rendered, no cache prepared


def test_harmonisation_preflight_passes_and_is_skipped_when_not_needed(tmp_path):
    from survey.errors import HarmonizationError
    from survey.report.runner import check_harmonization

    _two_waves(tmp_path, _H_BOTH)
    p = {"wave": "w2", "questionnaire": str(tmp_path / "questionnaires" / "w2" / "questionnaire.yml"),
         "data": str(tmp_path / "data" / "w2" / XLSX.name), "previous_waves": ["w1"]}
    check_harmonization(p, ["quality", "trends"])  # lines up: no error
    (tmp_path / "questionnaires" / "harmonization.yml").write_text(
        'waves: {"w1": w1/questionnaire.yml}\nquestions: {}\n', encoding="utf-8")
    with pytest.raises(HarmonizationError, match="w2"):
        check_harmonization(p, ["trends"])
    check_harmonization(p, ["quality", "painpoints"])  # trends not selected
    check_harmonization({**p, "previous_waves": []}, ["trends"])  # nothing to compare
    check_harmonization({**p, "region": "东城区"}, ["trends"])  # regional reports do not compare


def test_report_notebooks_without_output_writes_a_draft(tmp_path, capsys, monkeypatch):
    """`--notebooks X` without -o used to replace the published reports/<wave>/ with X only."""
    import survey.report.runner as runner

    _two_waves(tmp_path, _H_BOTH)
    calls = []

    def fake_render(params, *, output_dir, notebooks, **kw):
        calls.append((Path(output_dir), list(notebooks), dict(params)))
        return runner.ReportResult(output_dir=Path(output_dir))

    monkeypatch.setattr(runner, "render_report", fake_render)
    root = str(tmp_path)
    assert main(["report", "--wave", "w2", "--root", root, "--notebooks", "quality"]) == 0
    out, nbs, params = calls[-1]
    assert out == tmp_path / "reports" / "w2-draft" and nbs == ["quality"]
    assert params["work_dir"] == str(tmp_path / "reports" / ".w2.work")  # shares the wave's cache
    assert "writing the draft" in capsys.readouterr().err
    assert main(["report", "--wave", "w2", "--root", root, "--notebooks", "quality", "-o",
                 str(tmp_path / "x"), "--quiet"]) == 0
    assert calls[-1][0] == tmp_path / "x" and "work_dir" not in calls[-1][2]
    assert main(["report", "--wave", "w2", "--root", root, "--quiet"]) == 0
    assert calls[-1][0] == tmp_path / "reports" / "w2"
    from survey.report.params import NOTEBOOKS

    assert "draft" in " ".join(a.help or "" for a in _report_parser()._actions
                               if "--notebooks" in a.option_strings)
    assert len(NOTEBOOKS) > 1


def _report_parser():
    from survey.cli import build_parser

    p = build_parser()
    sub = next(a for a in p._actions if a.dest == "command")
    return sub.choices["report"]


def test_report_progress_says_when_the_prepared_wave_came_from_the_cache(tmp_path, monkeypatch, capsys):
    """A cache hit used to print "prepared the wave in 0.0 s (read 0.8 s, …)" with the stage
    timings of the run that made the cache; they are reported only for a real preparation."""
    from survey.report import runner
    from survey.report.content import data as cdata

    class Prepared:
        timings = {"read": 0.8, "clean": 0.5}

        def __init__(self, from_cache):
            self.from_cache = from_cache

    def fake_prepare(params, questionnaire=None):  # like prepare_wave: a hit says so
        f = Path(params["work_dir"]) / "prepared" / ".prepared"
        hit = f.is_file()
        if not hit:
            f.parent.mkdir(parents=True)
            f.write_bytes(b"cache")
        return Prepared(hit)

    monkeypatch.setattr(cdata, "prepare", fake_prepare)
    p = {"wave": "w1", "questionnaire": "q.yml", "data": "x.sav", "work_dir": str(tmp_path / ".w1.work")}
    cold = runner._warm_cache(p, True)
    assert "prepared the wave in" in capsys.readouterr().err and cold["prepare/read"] == 0.8
    warm = runner._warm_cache(p, True)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"prepared wave taken from the cache ({tmp_path / '.w1.work'}/)"]
    assert set(warm) == {"prepare"}  # no stale stage timings (benchmarks/bench_report.py)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("argv", [["--help"]] + [[name, "--help"] for name in SUBCOMMANDS])
def test_help_is_in_chinese_with_the_english_option_names(argv, capsys):
    """`survey --help` and every subcommand's help speak Chinese (description, every option's
    help, argparse's own headings); the option names and metavars stay as they are."""
    from survey.cli import build_parser

    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：survey")
    for english in ("usage:", "show this help message", "positional arguments", "options:"):
        assert english not in out, english
    parser = build_parser()
    if len(argv) > 1:
        parser = next(a for a in parser._actions if a.dest == "command").choices[argv[0]]
    assert _has_cjk(parser.description or "")
    for action in parser._actions:
        if action.dest == "command":
            continue
        assert _has_cjk(action.help or ""), (argv, action.option_strings or action.dest)
        for opt in action.option_strings:
            assert opt in out, opt


def test_demo_prints_one_progress_line_per_stage(monkeypatch, tmp_path, capsys):
    """`survey demo` says what it is doing while it generates (stderr), the paths on stdout."""
    import survey.demo

    def fake_write_demo(out, seed, progress=None):
        for msg in ("[1/2] a", "[2/2] b"):
            progress(msg)
        return {"truth": Path(out) / "truth.csv"}

    monkeypatch.setattr(survey.demo, "write_demo", fake_write_demo)
    assert main(["demo", "--out", str(tmp_path)]) == 0
    cap = capsys.readouterr()
    err = cap.err.splitlines()
    assert err[0].startswith("生成示例数据到") and err[1:] == ["  [1/2] a", "  [2/2] b"]
    assert cap.out.strip() == f"truth: {tmp_path / 'truth.csv'}"
