"""Shared helpers of the benchmark scripts (run as ``python benchmarks/bench_x.py``)."""
from __future__ import annotations

from pathlib import Path


def load_average() -> str:
    """The 1/5/15-minute load averages (timings on a shared machine are read against them)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def print_target(what: str, ours: float | None, svy: float | None, target: float) -> None:
    """One line: the speed-up of *what* over the ``svy`` package against the issue's target."""
    if ours and svy:
        ratio = svy / ours
        print(f"target (issue #17): {what} >= {target}x svy: {ratio:,.1f}x -> "
              f"{'PASS' if ratio >= target else 'FAIL'}")
    else:
        print(f"target (issue #17): {what} >= {target}x svy: not evaluated (svy not run)")
