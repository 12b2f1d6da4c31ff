"""Tests of the report runner's handling of folders (survey/report/runner.py) and of the
``survey report`` folder arguments: a folder survey did not create is never replaced, wave ids
are names, one run per output folder at a time, Ctrl-C and a full disk leave no staging folder
behind.  Papermill is replaced by a stand-in that writes a one-cell executed notebook, so the
runner's own code (staging, marker, lock, swap, HTML, workbook) runs for real in a second."""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from survey.cli import main
from survey.errors import ParameterError, ReportError
from survey.report import runner
from survey.report.runner import OWNER_MARKER, render_report

ROOT = Path(__file__).resolve().parents[1]


def _fake_execute(calls=None, delay=0.0, raise_=None):
    def execute_notebook(input_path, output_path, parameters=None, **kw):
        import nbformat

        if calls is not None:
            calls.append(Path(output_path))
        if delay:
            time.sleep(delay)
        if raise_ is not None:
            raise raise_
        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_markdown_cell(f"# {Path(input_path).stem}"))
        nbformat.write(nb, str(output_path))
        return nb
    return execute_notebook


@pytest.fixture
def fake_pm(monkeypatch):
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", _fake_execute())
    return papermill


def _render(out, **kw):
    return render_report({}, output_dir=out, notebooks=["quality"], progress=False, **kw)


# ------------------------------------------------------------------------------------------
# item 5: never delete what is not ours
# ------------------------------------------------------------------------------------------
def test_existing_folder_with_user_files_is_refused_and_kept(fake_pm, tmp_path):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "my_thesis.docx").write_bytes(b"three years of work")
    with pytest.raises(ReportError, match=r"my_thesis\.docx.*choose a new or empty folder"):
        _render(out)
    assert (out / "my_thesis.docx").read_bytes() == b"three years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]  # nothing else made either


def test_cli_refuses_a_non_empty_folder_in_one_line(fake_pm, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("x")
    demo = ROOT / "data" / "demo" / "demo-2024"
    rc = main(["report", "-q", str(demo / "questionnaire.yml"), "--data", str(demo / "stations.csv"),
               "--data-stage", "clean", "--notebooks", "quality", "-o", str(out), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "notes.txt" in err[0] and "-o" in err[0]
    assert (out / "notes.txt").read_text() == "x"


def test_report_folder_is_marked_and_replaced_but_foreign_files_are_kept(fake_pm, tmp_path):
    out = tmp_path / "rep"
    _render(out)
    info = json.loads((out / OWNER_MARKER).read_text(encoding="utf-8"))
    assert "index.html" in info["files"] and (out / "index.html").is_file()
    _render(out)  # ours: replaced without a word
    (out / "my_notes.docx").write_bytes(b"mine")  # a file dropped into the published report
    with pytest.raises(ReportError, match=r"my_notes\.docx"):
        _render(out)
    assert (out / "my_notes.docx").read_bytes() == b"mine" and (out / "index.html").is_file()


def test_empty_existing_folder_is_fine_and_staging_of_others_is_not_touched(fake_pm, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    _render(out)
    assert (out / "index.html").is_file()
    # a folder of someone else's where the staging folder would go is refused, not deleted
    other = tmp_path / "x"
    (tmp_path / ".x.rendering").mkdir()
    (tmp_path / ".x.rendering" / "keep.txt").write_text("keep")
    with pytest.raises(ReportError, match=r"\.x\.rendering.*not written by survey"):
        _render(other)
    assert (tmp_path / ".x.rendering" / "keep.txt").read_text() == "keep"


# ------------------------------------------------------------------------------------------
# item 6: wave ids are names
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("wave", ["../../x", "../x", "a/b", "/tmp/x", "a\\b"])
def test_wave_id_with_path_parts_is_refused_before_anything_is_touched(tmp_path, capsys, wave):
    proj = tmp_path / "proj" / "sub"
    proj.mkdir(parents=True)
    outside = tmp_path / "x"
    outside.mkdir()
    for f in ("export.xlsx", "questionnaire.yml", "population.yml", "stations.csv"):
        (outside / f).write_text("keep")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    rc = main(["report", "--wave", wave, "--root", str(proj), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "--wave" in err and "not a path" in err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert all((outside / f).read_text() == "keep" for f in os.listdir(outside))


def test_previous_wave_ids_and_render_params_are_checked_too(fake_pm, tmp_path):
    with pytest.raises(ParameterError, match="previous wave id"):
        render_report({"previous_waves": ["../2023"]}, output_dir=tmp_path / "r",
                      notebooks=["quality"], progress=False)
    with pytest.raises(ParameterError, match="wave id"):
        render_report({"wave": "../../x"}, output_dir=tmp_path / "r", notebooks=["quality"],
                      progress=False)
    assert not (tmp_path / "r").exists()


def test_wave_ids_with_spaces_and_chinese_still_render(fake_pm, tmp_path):
    res = render_report({"wave": "2024 春季"}, output_dir=tmp_path / "2024 春季",
                        notebooks=["quality"], progress=False)
    assert res.index.is_file()


# ------------------------------------------------------------------------------------------
# item 7: one run per output folder
# ------------------------------------------------------------------------------------------
def test_a_second_run_waits_for_the_first_and_both_publish_whole_reports(monkeypatch, tmp_path):
    import papermill

    calls: list[Path] = []
    monkeypatch.setattr(papermill, "execute_notebook", _fake_execute(calls, delay=1.0))
    out = tmp_path / "rep"
    results, errors = [], []

    def run():
        try:
            results.append(_render(out))
            # what "report written" promises must be there when it is said
            results.append(sorted(p.name for p in out.iterdir()))
        except Exception as e:  # pragma: no cover - shown by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.2)
    for t in threads:
        t.join(30)
    assert errors == []
    listings = [r for r in results if isinstance(r, list)]
    assert len(listings) == 2
    for names in listings:
        assert {"index.html", "quality.html", "tables.xlsx", "notebooks", OWNER_MARKER} <= set(names)
    assert len(calls) == 2
    assert not (tmp_path / ".rep.rendering").exists()


def test_a_held_lock_names_its_holder(fake_pm, tmp_path):
    from filelock import FileLock

    out = tmp_path / "rep"
    staging = tmp_path / ".rep.rendering"
    staging.mkdir()
    runner._mark(staging, "2024")  # what the holding run wrote
    with FileLock(str(tmp_path / ".rep.lock")):
        with pytest.raises(ReportError, match=rf"being rendered by process {os.getpid()} .*'2024'"):
            _render(out, lock_timeout=0.3)
    assert not out.exists()
    _render(out)  # released: the run goes ahead (and clears the stale staging folder, ours)
    assert (out / "index.html").is_file() and not staging.exists()


# ------------------------------------------------------------------------------------------
# item 11: Ctrl-C and a full disk
# ------------------------------------------------------------------------------------------
def test_keyboard_interrupt_removes_staging_and_cli_says_one_line(monkeypatch, tmp_path, capsys):
    import papermill

    out = tmp_path / "rep"
    monkeypatch.setattr(papermill, "execute_notebook", _fake_execute())
    _render(out)
    published = (out / "quality.html").read_bytes()
    monkeypatch.setattr(papermill, "execute_notebook", _fake_execute(raise_=KeyboardInterrupt()))
    demo = ROOT / "data" / "demo" / "demo-2024"
    rc = main(["report", "-q", str(demo / "questionnaire.yml"), "--notebooks", "quality",
               "-o", str(out), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 130
    assert len(err) == 1 and err[0].startswith("survey report: 已中断"), err
    assert not (tmp_path / ".rep.rendering").exists()
    assert (out / "quality.html").read_bytes() == published


def test_sigint_from_the_terminal_exits_130_with_one_line(tmp_path):
    """A real SIGINT to the process group, while a notebook 'runs' (a stand-in that sleeps)."""
    out = tmp_path / "rep"
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import signal, sys, time
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
        import papermill
        def slow(*a, **k):
            print("running", flush=True)
            time.sleep(60)
        papermill.execute_notebook = slow
        from survey.cli import main
        sys.exit(main(["report", "-q", {str(ROOT / 'data/demo/demo-2024/questionnaire.yml')!r},
                       "--notebooks", "quality", "-o", {str(out)!r}]))
    """), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env, start_new_session=True)
    try:
        assert p.stdout.readline().strip() == "running"
        os.killpg(p.pid, signal.SIGINT)
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:  # pragma: no cover
            p.kill()
    lines = [ln for ln in err.splitlines() if ln.strip() and "…" not in ln]
    assert p.returncode == 130, err
    assert len(lines) == 1 and "已中断" in lines[0] and "Traceback" not in err, err
    assert not (tmp_path / ".rep.rendering").exists() and not out.exists()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_swallowed_by_a_finalizer_still_stops_the_run():
    """Python drops an exception raised in a __del__/weakref callback ("Exception ignored in");
    a Ctrl-C that lands there is remembered and stops the run at the next check."""
    import gc

    class Dies:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs here, inside the finalizer

    runner._INTERRUPTED.clear()
    with runner._ctrl_c_stops_kernels():
        d = Dies()
        del d
        gc.collect()
    try:
        with pytest.raises(KeyboardInterrupt):
            runner._check_interrupted()
    finally:
        runner._INTERRUPTED.clear()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_full_disk_names_the_file_and_removes_staging(fake_pm, monkeypatch, tmp_path):
    out = tmp_path / "rep"
    _render(out)
    published = sorted(p.name for p in out.iterdir())
    real = Path.write_text

    def full(self, *a, **k):
        if self.suffix == ".html" and ".rendering" in str(self):
            with open(self, "w", encoding="utf-8") as fh:
                fh.write("<html>half")  # a partial file, like a real full disk
            raise OSError(errno.ENOSPC, "No space left on device")  # no file name, like write()
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(ReportError) as ei:
        _render(out)
    msg = str(ei.value)
    assert "quality.html" in msg and "disk is full" in msg and "free some space" in msg
    assert not (tmp_path / ".rep.rendering").exists() and not (tmp_path / "rep.failed").exists()
    assert sorted(p.name for p in out.iterdir()) == published


def test_full_disk_inside_a_notebook_does_not_keep_a_failed_copy(monkeypatch, tmp_path):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    err = PapermillExecutionError(cell_index=3, exec_count=2, source="publish(t)", ename="OSError",
                                  evalue="[Errno 28] No space left on device: '/r/.tables/x.json'",
                                  traceback=[])
    monkeypatch.setattr(papermill, "execute_notebook", _fake_execute(raise_=err))
    with pytest.raises(ReportError, match=r"x\.json.*disk is full"):
        _render(tmp_path / "rep")
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], [".rep.lock"])


@pytest.mark.slow
def test_sigint_during_a_real_kernel_leaves_no_traceback_no_kernel_no_staging(tmp_path):
    """Ctrl-C while a real kernel executes a cell: one line, exit 130, kernel gone, staging gone
    (nbclient's polite shutdown of a busy kernel used to print a ZMQ traceback when the cell
    finished during the shutdown: "[IPKernelApp] ERROR | Exception in message handler ...
    zmq.error.ZMQError: Socket operation on non-socket")."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("wave = 'demo'\nwork_dir = None\noutput_dir = '.'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "import os, pathlib, time\n"
        "pathlib.Path('started').write_text(str(os.getpid()))\n"
        "time.sleep(3)")]  # ends while a politely asked kernel would still be shutting down
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    nbp = tmp_path / "tiny.ipynb"
    nbformat.write(nb, str(nbp))
    out = tmp_path / "rep"
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import signal, sys
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
        from survey.report.runner import render_report
        try:
            render_report({{}}, output_dir={str(out)!r}, notebooks=[{str(nbp)!r}], progress=False)
        except KeyboardInterrupt as e:
            print("interrupted:", e, file=sys.stderr)
            sys.exit(130)
    """), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env, start_new_session=True)
    started = tmp_path / ".rep.rendering" / "started"
    try:
        t0 = time.monotonic()
        while not started.is_file() and time.monotonic() - t0 < 60 and p.poll() is None:
            time.sleep(0.1)
        assert started.is_file(), p.communicate(timeout=5)
        kernel_pid = int(started.read_text())
        os.killpg(p.pid, signal.SIGINT)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:  # pragma: no cover
            p.kill()
    assert p.returncode == 130, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), err
    assert not (tmp_path / ".rep.rendering").exists() and not out.exists()
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(kernel_pid, 0)
