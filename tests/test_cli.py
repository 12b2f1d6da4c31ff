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
