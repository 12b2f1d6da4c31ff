"""The regional fan-out (issue #17 item 3): ``survey report --wave national-2024 --previous
national-2023 --by region``,
cold, with the local process pool and with a Dask ``LocalCluster`` (the ``--scheduler`` path).

Run: ``.venv/bin/python benchmarks/bench_fanout.py [--root DIR] [--ways local,dask] [--jobs N]
[--by region] [--wave national-2024] [--limit SECONDS]``

For each way a fresh output folder is rendered (cold: nothing reused from an earlier run).
Printed: wall seconds, CPU seconds (user + system) of everything the run started -- the report
process, its pool workers and their Jupyter kernels, or the cluster's workers and theirs --
which does not depend on the machine's load, the number of reports finished, and the wall time
extrapolated to idle cores (CPU seconds / min(jobs, cores)).  ``--limit``: stop a way after that
many seconds and report the partial figures (reports finished, CPU per report).
The load average is printed next to the times (the machine may be shared).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import load_average  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _tree_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) of the live processes *pids* and all their descendants."""
    import psutil

    seen, total = set(), 0.0
    for pid in pids:
        try:
            procs = [psutil.Process(pid)]
            procs += procs[0].children(recursive=True)
        except psutil.NoSuchProcess:
            continue
        for p in procs:
            if p.pid in seen:
                continue
            seen.add(p.pid)
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
    return total


def _run_cli(cmd: list[str], log: Path, limit: float | None, extra_pids=lambda: []) -> dict:
    """Run the report command; wall, CPU of it and its descendants (+ *extra_pids* trees)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as fh:
        p = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        live_cpu, done = 0.0, False
        while True:
            try:
                p.wait(timeout=2.0)
                done = True
                break
            except subprocess.TimeoutExpired:
                live_cpu = _tree_cpu([p.pid] + list(extra_pids()))
                if limit and time.perf_counter() - t0 > limit:
                    break
        if not done:  # over the limit: the CPU so far, then stop the run (its own group)
            live_cpu = _tree_cpu([p.pid] + list(extra_pids()))
            import psutil
            for c in psutil.Process(p.pid).children(recursive=True):
                c.kill()
            p.kill()
            p.wait()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    extra = _tree_cpu(list(extra_pids())) if done else 0.0
    cpu = reaped + extra if done else live_cpu
    text = log.read_text(encoding="utf-8", errors="replace")
    # a unit's last notebook done (local pool), or the cluster's result received (Dask)
    units = (len(re.findall(r"received from the cluster", text))
             or len(re.findall(r"\[(\d+)/\1\] \S+ done", text)))
    return {"wall": wall, "cpu": cpu, "finished": done and p.returncode == 0, "units": units,
            "returncode": p.returncode}


def run_way(way: str, a: argparse.Namespace, out: Path) -> dict:
    py = sys.executable
    cmd = [py, "-m", "survey", "report", "--root", a.root, "--wave", a.wave, "--by", a.by,
           "-o", str(out), "--jobs", str(a.jobs)] + (["--previous", a.previous] if a.previous else [])
    out.parent.mkdir(parents=True, exist_ok=True)
    log = out.parent / f"{way}.log"
    if way == "local":
        return _run_cli(cmd, log, a.limit)
    from distributed import LocalCluster

    t0 = time.perf_counter()
    with LocalCluster(n_workers=a.jobs, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        start = time.perf_counter() - t0

        def worker_pids() -> list[int]:
            return [n.process.process.pid for n in cluster.workers.values()
                    if getattr(n, "process", None) is not None and n.process.process is not None]
        res = _run_cli(cmd + ["--scheduler", cluster.scheduler_address], log, a.limit,
                       worker_pids)
    res["cluster_start"] = start
    return res


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=str(ROOT / "data" / "demo" / "national"))
    ap.add_argument("--wave", default="national-2024")
    ap.add_argument("--by", default="region")
    ap.add_argument("--previous", default="national-2023",
                    help="earlier wave(s) to compare with, as a user runs it (empty: none)")
    ap.add_argument("--ways", default="local,dask")
    ap.add_argument("--jobs", type=int, default=None,
                    help="workers (default: what `survey report` uses, survey.report.fanout.default_jobs)")
    ap.add_argument("--limit", type=float, default=None, help="stop a way after SECONDS")
    a = ap.parse_args(argv)
    if a.jobs is None:
        from survey.report.fanout import default_jobs

        a.jobs = default_jobs()
    if not (Path(a.root) / "questionnaires" / a.wave).is_dir():
        print(f"fan-out: no wave {a.wave} under {a.root}; skipped")
        return {}
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_fanout_") as tmp:
        for way in a.ways.split(","):
            print(f"fan-out {a.wave} --by {a.by}"
                  + (f" --previous {a.previous}" if a.previous else "") + f" ({way}, {a.jobs} workers), cold; load average "
                  f"{load_average()}", flush=True)
            try:
                r = run_way(way, a, Path(tmp) / way / a.wave)
            except ImportError as e:
                print(f"  {way}: skipped ({e})")
                continue
            per = r["cpu"] / r["units"] if r["units"] else float("nan")
            cores = min(a.jobs, os.cpu_count() or 1)  # the CPU seconds spread over the busy cores
            state = "finished" if r["finished"] else f"stopped at --limit (rc {r['returncode']})"
            print(f"  {way}: {state}: {r['units']} reports (overall + regions) in {r['wall']:.0f} s "
                  f"wall; CPU {r['cpu']:.0f} s ({per:.1f} s per report); on {cores} idle cores "
                  f"~{r['cpu'] / cores:.0f} s"
                  + (f"; cluster start {r['cluster_start']:.1f} s" if "cluster_start" in r else "")
                  + f"; load average {load_average()}", flush=True)
            results[way] = r
    return results


if __name__ == "__main__":
    main()
