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
from survey.report import folders, runner
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
    folders.mark(staging, "2024")  # what the holding run wrote
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


# ------------------------------------------------------------------------------------------
# issue 17: fan-out that scales (one kernel per report, the wave prepared once per process,
# Dask distributed as an optional scheduler)
# ------------------------------------------------------------------------------------------
def test_every_notebook_of_a_report_runs_in_one_kernel_kept_for_the_next_report(monkeypatch, tmp_path):
    """One kernel manager serves every notebook of every report this process renders (jobs=1),
    and it is released when the run ends."""
    import papermill

    seen: list[tuple[str, object]] = []
    released: list[int] = []

    def execute_notebook(input_path, output_path, parameters=None, **kw):
        seen.append((parameters["output_dir"], kw.get("km")))
        return _fake_execute()(input_path, output_path, parameters, **kw)

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    real_release = runner.release_kernel
    monkeypatch.setattr(runner, "release_kernel",
                        lambda: released.append(len(runner._WORKER_KERNEL)) or real_release())
    render_report({}, output_dir=tmp_path / "rep", notebooks=["quality", "survey_report"],
                  by="district", by_values=["a", "b"], jobs=1, progress=False)
    assert len(seen) == 6 and len({out for out, _ in seen}) == 3
    assert seen[0][1] is not None and all(km is seen[0][1] for _, km in seen)
    assert released == [1] and runner._WORKER_KERNEL == {}


@pytest.fixture
def demo_params(demo_inputs, tmp_path):
    return {**demo_inputs, "work_dir": str(tmp_path / "work"), "region_var": "district"}


def test_the_export_is_read_and_looked_up_once_for_all_regions(monkeypatch, demo_params):
    """Every notebook of every regional report asks for the prepared wave: the first call reads
    the export, the others get the same object without reading, hashing or loading again."""
    import survey.io
    from survey import pipeline
    from survey.report.content import data

    monkeypatch.setattr(data, "_PREPARED", {})
    reads, lookups = [], []
    real_read, real_lookup = survey.io.read_export, pipeline._read_cache
    monkeypatch.setattr(survey.io, "read_export", lambda *a, **k: reads.append(a[0]) or real_read(*a, **k))
    monkeypatch.setattr(pipeline, "_read_cache", lambda *a: lookups.append(a[1]) or real_lookup(*a))
    waves = [data.prepare({**demo_params, "region": r}) for r in (None, "明湖区", "青山区", "云溪区")]
    assert len(reads) == 1 and len(lookups) == 1
    assert all(w is waves[0] for w in waves)
    # an edited input is prepared again (the cache is keyed by content, so it is read again)
    pop = Path(demo_params["work_dir"]) / "population.yml"
    pop.write_text(Path(demo_params["population"]).read_text(encoding="utf-8"), encoding="utf-8")
    again = data.prepare({**demo_params, "population": str(pop)})
    assert again is not waves[0] and len(lookups) == 2


def _pid_notebooks(folder: Path) -> list[str]:
    """Two tiny notebooks that record the kernel's process id and the region in the report."""
    import nbformat

    paths = []
    for name in ("quality", "survey_report"):
        nb = nbformat.v4.new_notebook()
        params = nbformat.v4.new_code_cell("wave = 'demo'\nregion = None\noutput_dir = '.'")
        params.metadata["tags"] = ["parameters"]
        nb.cells = [params, nbformat.v4.new_code_cell(
            "import os, pathlib\n"  # pid, region, and whether the other notebook's variable is seen
            f"pathlib.Path(output_dir, 'pid-{name}.txt').write_text("
            f"f'{{os.getpid()}} {{region}} {{\"leak_{name}\" in dir()}}')\n"
            f"leak_{'survey_report' if name == 'quality' else 'quality'} = 1\n"
            "pathlib.Path('cwd.txt').write_text(os.getcwd())\n"
            "pathlib.Path('blas.txt').write_text(os.environ.get('OPENBLAS_NUM_THREADS', 'unset'))")]
        nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.write(nb, str(folder / f"{name}.ipynb"))
        paths.append(str(folder / f"{name}.ipynb"))
    return paths


def _listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def pool_render(tmp_path_factory):
    """The two tiny notebooks rendered by the local process pool: overall + 2 regions."""
    tmp = tmp_path_factory.mktemp("pool")
    nbs = _pid_notebooks(tmp)
    out = tmp / "rep"
    render_report({}, output_dir=out, notebooks=nbs, by="district", by_values=["北区", "南区"],
                  jobs=2, progress=False)
    return nbs, out


def test_real_kernels_one_per_pool_worker_and_none_left_running(pool_render):
    _, out = pool_render
    every = set()
    for unit, region in ((out, "None"), (out / "regions" / "北区", "北区"), (out / "regions" / "南区", "南区")):
        pids = {int((unit / f"pid-{n}.txt").read_text().split()[0]) for n in ("quality", "survey_report")}
        assert len(pids) == 1, unit  # both notebooks of one report: one kernel
        assert (unit / "pid-quality.txt").read_text().split()[1] == region
        # a reused kernel starts each notebook with a clean namespace, in the report's folder
        assert [(unit / f"pid-{n}.txt").read_text().split()[2] for n in ("quality", "survey_report")] \
            == ["False", "False"]
        staged = out.parent / f".{out.name}.rendering" / unit.relative_to(out)  # where it ran
        assert Path((unit / "cwd.txt").read_text()).resolve() == staged.resolve()
        # one BLAS thread per kernel (engine.kernel_env) unless the caller chose a count
        assert (unit / "blas.txt").read_text() == os.environ.get("OPENBLAS_NUM_THREADS", "1")
        every |= pids
    assert 1 <= len(every) <= 2  # jobs=2: a worker's kernel renders its next report too
    time.sleep(0.5)
    for pid in every:  # the pool's workers stopped their kernels when they exited
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_dask_cluster_renders_the_same_report_folders_as_the_local_pool(pool_render, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    nbs, pooled = pool_render
    out = tmp_path / "rep"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        try:
            res = render_report({}, output_dir=out, notebooks=nbs, by="district", by_values=["北区", "南区"],
                                scheduler=cluster.scheduler_address, progress=True)
        finally:
            runner.release_kernel()  # the in-process worker's kernel (a real worker stops it on exit)
    assert _listing(out) == _listing(pooled)
    assert res.index == out.resolve() / "index.html"
    assert all(p.is_file() and str(p).startswith(str(out.resolve())) for p in res.html)
    assert (out / "regions" / "南区" / "pid-survey_report.txt").read_text().split()[1] == "南区"
    assert not (tmp_path / ".rep.rendering").exists()
    assert "received from the cluster" in capsys.readouterr().err


def test_scheduler_from_the_environment(monkeypatch):
    from survey.report.fanout import scheduler_address

    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.1.2.3:8786")
    assert scheduler_address(None) == "tcp://10.1.2.3:8786"
    assert scheduler_address("tcp://other:8786") == "tcp://other:8786"
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    assert scheduler_address(None) is None


def test_scheduler_without_dask_names_the_extra_before_anything_is_written(fake_pm, monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    out = tmp_path / "reports" / "demo"
    with pytest.raises(ReportError, match=r"tcp://cluster:8786.*not installed.*kexie-survey\[dask\]"):
        _render(out, scheduler="tcp://cluster:8786")
    assert not (tmp_path / "reports").exists()
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://cluster:8786")
    demo = ROOT / "data" / "demo" / "demo-2024"
    assert main(["report", "--wave", "demo", "--questionnaire", str(demo / "questionnaire.yml"),
                 "--data", str(next(demo.glob("*.sav"))), "--root", str(tmp_path),
                 "--notebooks", "quality", "--quiet"]) == 2
    assert "kexie-survey[dask]" in capsys.readouterr().err


def test_an_unreachable_scheduler_is_named(fake_pm, monkeypatch, tmp_path, capsys):
    pytest.importorskip("distributed")
    import socket

    from survey.report import fanout

    monkeypatch.setattr(fanout, "CONNECT_TIMEOUT", 1.0)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "reports" / "demo"
    with pytest.raises(ReportError, match=rf"scheduler tcp://127\.0\.0\.1:{port} is unreachable"):
        _render(out, scheduler=f"tcp://127.0.0.1:{port}")
    assert not (tmp_path / "reports").exists()
    demo = ROOT / "data" / "demo" / "demo-2024"
    assert main(["report", "--wave", "demo", "--questionnaire", str(demo / "questionnaire.yml"),
                 "--data", str(next(demo.glob("*.sav"))), "--root", str(tmp_path), "--quiet",
                 "--notebooks", "quality", "--scheduler", f"tcp://127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    assert f"tcp://127.0.0.1:{port} is unreachable" in err and "Traceback" not in err
    assert not (tmp_path / "reports").exists()


# ------------------------------------------------------------------------------------------
# the executed notebook is written twice (start, end), not before and after every cell
# ------------------------------------------------------------------------------------------
def _cells_notebook(path: Path, bodies: list[str]) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("wave = 'demo'\noutput_dir = '.'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(b) for b in bodies]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, str(path))
    return str(path)


def test_the_executed_notebook_is_written_at_start_and_end_only(monkeypatch, tmp_path):
    """papermill rewrote the whole notebook (images included) before and after every cell: 2 +
    2 x cells writes (16 here); the runner's engine writes it when it starts and when it ends."""
    import papermill.engines as engines
    import papermill.execute as execute

    writes: list[tuple[str, int]] = []
    real = engines.write_ipynb
    for mod in (engines, execute):  # the engine's saves and execute_notebook's final write
        monkeypatch.setattr(mod, "write_ipynb", lambda nb, path, **kw: writes.append(
            (path, sum(len(c.get("outputs", [])) for c in nb.cells))) or real(nb, path, **kw))
    nbp = _cells_notebook(tmp_path / "tiny.ipynb", [f"x{i} = {i}\nprint(x{i})" for i in range(6)])
    render_report({}, output_dir=tmp_path / "rep", notebooks=[nbp], progress=False)
    # at the start (no outputs yet) and once at the end (papermill's final write; the engine's
    # own end save wrote the same notebook again)
    assert [n for _, n in writes] == [0, 6], writes
    import nbformat

    done = nbformat.read(str(tmp_path / "rep" / "notebooks" / "tiny.ipynb"), as_version=4)
    assert [c.outputs[0]["text"].strip() for c in done.cells[-6:]] == [str(i) for i in range(6)]


def test_a_failing_cell_still_leaves_the_whole_executed_notebook(tmp_path):
    """With the write at the end only, the failed copy still holds every cell that ran and the
    error of the failing one."""
    import nbformat

    nbp = _cells_notebook(tmp_path / "tiny.ipynb", ["print('before')", "raise ValueError('boom 17')",
                                                    "print('never')"])
    with pytest.raises(ReportError, match="boom 17"):
        render_report({}, output_dir=tmp_path / "rep", notebooks=[nbp], progress=False)
    kept = list((tmp_path / "rep.failed").rglob("tiny.ipynb"))
    assert kept, sorted(p.name for p in tmp_path.iterdir())
    nb = nbformat.read(str(kept[0]), as_version=4)
    outs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert any(o.get("text", "").strip() == "before" for o in outs)
    assert any(o.get("output_type") == "error" and "boom 17" in o.get("evalue", "") for o in outs)
    assert not any(o.get("text", "").strip() == "never" for o in outs)


@pytest.mark.parametrize("cores, gib, want", [(1, 64, 2), (2, 64, 3), (16, 64, 17), (16, 12, 3),
                                              (4, 1, 1), (2, None, 3)])
def test_default_jobs_is_one_more_than_the_cores_within_the_memory(cores, gib, want):
    from survey.report.fanout import default_jobs

    avail = None if gib is None else gib * 2**30
    if gib is None:  # no memory figure: no cap
        import survey.report.fanout as fo
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(fo, "_available_memory", lambda: None)
            assert default_jobs(cores=cores) == want
    else:
        assert default_jobs(cores=cores, available_bytes=avail) == want


def test_render_report_without_jobs_uses_the_default_pool(fake_pm, monkeypatch, tmp_path):
    import survey.report.fanout as fo

    seen = []
    real = fo.run_units
    monkeypatch.setattr(fo, "default_jobs", lambda **kw: 5)
    monkeypatch.setattr(runner, "run_units",
                        lambda units, run, *, jobs, **kw: seen.append(jobs) or real(units, run, jobs=1, **kw))
    render_report({}, output_dir=tmp_path / "rep", notebooks=["quality"], progress=False)
    assert seen == [5]


def test_by_prepares_the_wave_before_listing_its_regions(fake_pm, monkeypatch, tmp_path):
    """--by: the wave (and the earlier waves beside it) are prepared first; the regions are then
    listed from the prepared wave, so the second process is not kept waiting for the listing."""
    calls = []
    monkeypatch.setattr(runner, "_warm_cache", lambda *a, **k: calls.append("warm") or {})
    monkeypatch.setattr(runner, "region_values", lambda params, by: calls.append("regions") or ["甲"])
    render_report({}, output_dir=tmp_path / "rep", notebooks=["quality"], by="district", jobs=1,
                  progress=False)
    assert calls == ["warm", "regions"]


def test_a_notebook_stopped_by_its_timeout_is_still_written_whole(tmp_path):
    """When the engine itself stops (the cell timeout here), papermill writes nothing after it:
    the engine's own end save must keep the cells that ran."""
    import nbformat

    nbp = _cells_notebook(tmp_path / "slow.ipynb", ["print('before')", "import time; time.sleep(30)",
                                                    "print('never')"])
    with pytest.raises(ReportError, match="slow"):
        render_report({}, output_dir=tmp_path / "rep", notebooks=[nbp], progress=False, timeout=3)
    kept = list((tmp_path / "rep.failed").rglob("slow.ipynb"))
    assert kept, sorted(p.name for p in tmp_path.iterdir())
    nb = nbformat.read(str(kept[0]), as_version=4)
    outs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert any(o.get("text", "").strip() == "before" for o in outs)
    assert not any(o.get("text", "").strip() == "never" for o in outs)
