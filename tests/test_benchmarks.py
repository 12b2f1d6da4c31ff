"""Smoke test of benchmarks/ (issue #17): the scripts import, the one-run driver plans every
figure, and the replicate benchmark runs at a tiny size.  The benchmarks themselves are not
part of the test suite (`make bench`)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}_smoke", BENCH / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.parametrize("name", ["run_all", "bench_rake", "bench_estimate", "bench_national",
                                  "bench_fanout", "bench_replicates"])
def test_scripts_import(name):
    assert callable(_load(name).main)


def test_run_all_plans_every_figure(tmp_path):
    run_all = _load("run_all")
    a = type("A", (), {"national": str(tmp_path), "quick": False})()
    names = [n for n, _ in run_all.plan(a)]
    assert names == ["rake", "estimate", "national", "fanout", "replicates"]
    fan = dict(run_all.plan(a))["fanout"]
    assert "local,dask" in fan
    a.quick = True
    assert [n for n, _ in run_all.plan(a)] == ["rake", "estimate", "replicates"]


def test_replicates_benchmark_tiny():
    import argparse

    import numpy as np

    mod = _load("bench_replicates")
    a = argparse.Namespace(quick=True, replicates=6, block=4, seed=1, root="", cache="")
    stream, fill = mod.child("stream", a), mod.child("fill", a)  # in process: no start-up cost
    assert stream["p"] == fill["p"] == 20  # 4 variables x 5 domains
    np.testing.assert_allclose(stream["se"], fill["se"], rtol=1e-12)
