"""Tests of survey.pipeline on a small demo-like wave (12% of the 2024 demo respondents, every
station kept so each stratum and margin level is present); the wave is built by
:func:`small_wave` below from ``survey.demo.wave.build_wave`` and written with survey.io."""
from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.demo import population_yaml, questionnaire_yaml


def small_wave(d: Path, frac: float = 0.12, seed: int = 2024, *, wave: str = "2024",
               wave_id: str | None = None, raw_dir: Path | None = None) -> dict:
    """Write questionnaire.yml, population.yml, stations.csv and a GBK .sav raw export of a
    subsample of the demo wave *wave* into *d*; return the paths and the planted PII values.

    ``wave_id`` renames the wave in its questionnaire (a "real" wave made from the demo);
    ``raw_dir`` puts the raw export there instead of in *d* (as ``data/<id>/``)."""
    import re

    from survey.demo.wave import build_wave
    from survey.io import write_sav

    d.mkdir(parents=True, exist_ok=True)
    wv = build_wave(wave, seed)
    rng = np.random.default_rng(7)
    ex = wv.export.loc[rng.random(len(wv.export)) < frac].reset_index(drop=True)
    for c in ex.columns:
        if pd.api.types.is_datetime64_any_dtype(ex[c].dtype):
            ex[c] = ex[c].astype("datetime64[us]")
    qtext = questionnaire_yaml(wave)
    if wave_id is not None:
        qtext, n = re.subn(r"(?m)^(wave:\n  id: )'[^']*'", rf"\g<1>'{wave_id}'", qtext, count=1)
        assert n == 1, "the demo questionnaire's wave id line moved"
    (d / "questionnaire.yml").write_text(qtext, encoding="utf-8")
    (d / "population.yml").write_text(population_yaml(wave, seed), encoding="utf-8")
    wv.stations.to_csv(d / "stations.csv", index=False, float_format="%.10g")
    if raw_dir is not None:
        raw_dir.mkdir(parents=True, exist_ok=True)
    raw = (raw_dir or d) / "small_SPSS.sav"
    write_sav(ex, wv.questionnaire, raw, encoding="gbk")
    pii = {c: [str(v) for v in ex[c].dropna().tolist() if str(v).strip()]
           for c in ("name", "phone", "email", "ip") if c in ex.columns}
    dirt = wv.dirt
    planted = dirt.loc[dirt["kind"].astype(str).str.endswith("_in_text") & dirt["rid"].astype(str).isin(
        ex["rid"].astype(str)), "detail"].astype(str).tolist()
    pii["in_text"] = planted
    return {"raw": raw, "questionnaire": d / "questionnaire.yml", "population": d / "population.yml",
            "stations": d / "stations.csv", "pii": pii, "n": len(ex)}


@pytest.fixture(scope="session")
def wave(tmp_path_factory):
    return small_wave(tmp_path_factory.mktemp("smallwave"))


def _prep(wave, **kw):
    from survey.pipeline import prepare_wave

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare_wave(wave["raw"], wave["questionnaire"], population=wave["population"],
                            stations=wave["stations"], **kw)


def test_prepare_small_wave_accounting_and_calibration(wave):
    w = _prep(wave)
    assert w.clean.n_raw == wave["n"]
    assert w.clean.n_raw == w.clean.n_clean + len(w.clean.dropped)
    assert len(w.design.data) == w.clean.n_clean
    r = w.weighting_report
    assert r is not None and r.converged
    # weights sum to the control total, base weights differ from calibrated ones
    assert w.design.weights.sum() == pytest.approx(300002, rel=1e-6)
    assert not np.allclose(w.design.weights, w.base_design.weights)
    assert set(w.timings) >= {"read", "clean", "weight"}
    assert "name" not in w.design.data.columns and "phone" not in w.design.data.columns


def test_cache_roundtrip_is_pii_free_and_reused(wave, tmp_path):
    w1 = _prep(wave, out_dir=tmp_path)
    cache = tmp_path / ".prepared"
    assert cache.is_dir()
    blob = b"".join(f.read_bytes() for f in sorted(cache.rglob("*")) if f.is_file())
    for vals in wave["pii"].values():
        for v in vals[:50]:
            assert v.encode("utf-8") not in blob, v
    w2 = _prep(wave, out_dir=tmp_path)
    assert not w1.from_cache and w2.from_cache
    assert len(w2.read.pii) == 0 and list(w2.read.pii.columns) == list(w1.read.pii.columns)
    a = w1.design.mean("hours", na_rm=True)
    b = w2.design.mean("hours", na_rm=True)
    assert float(a["estimate"].iloc[0]) == float(b["estimate"].iloc[0])
    assert float(a["se"].iloc[0]) == float(b["se"].iloc[0])
    # the design itself pickles and stays immutable
    d = pickle.loads(pickle.dumps(w1.design))
    with pytest.raises(AttributeError):
        d.weighting_report = None
    with pytest.raises(ValueError):
        d.weights[0] = 1.0


def _assert_same_frame(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    pd.testing.assert_frame_equal(a, b, check_dtype=True, check_index_type=True,
                                  check_column_type=True, check_categorical=True, obj=what)
    for c in a.columns:  # category order and orderedness, not just the values
        if isinstance(a[c].dtype, pd.CategoricalDtype):
            assert list(a[c].cat.categories) == list(b[c].cat.categories), (what, c)
            assert a[c].cat.ordered == b[c].cat.ordered, (what, c)
            assert a[c].cat.categories.dtype == b[c].cat.categories.dtype, (what, c)
    assert a.attrs == b.attrs, what


def test_cached_wave_equals_a_fresh_one(wave, tmp_path):
    """Everything the cache brings back is what a fresh preparation makes: frames with their
    dtypes, category orders and attrs, the read report, the cleaning fields, the weights."""
    import dataclasses

    fresh = _prep(wave)
    _prep(wave, out_dir=tmp_path)
    hit = _prep(wave, out_dir=tmp_path)
    assert hit.from_cache and not fresh.from_cache
    assert any(isinstance(t, pd.CategoricalDtype) for t in fresh.clean.data.dtypes)
    assert fresh.clean.missing.attrs  # n_asked: the attrs really are exercised
    for attr in ("data", "log", "missing", "dropped"):
        _assert_same_frame(getattr(fresh.clean, attr), getattr(hit.clean, attr), f"clean.{attr}")
    for attr in ("data", "missing"):
        _assert_same_frame(getattr(fresh.read, attr), getattr(hit.read, attr), f"read.{attr}")
    _assert_same_frame(fresh.read.pii.iloc[0:0], hit.read.pii, "read.pii (no rows)")
    assert dataclasses.asdict(fresh.read.report) == dataclasses.asdict(hit.read.report)
    for f in ("n_raw", "settings", "questionnaire_hash", "wave", "source_sha256",
              "input_frame_hash", "passes", "not_applied", "n_clean"):
        assert getattr(fresh.clean, f) == getattr(hit.clean, f), f
    _assert_same_frame(fresh.design.data, hit.design.data, "design.data")
    np.testing.assert_array_equal(fresh.design.weights, hit.design.weights)
    np.testing.assert_array_equal(fresh.base_design.weights, hit.base_design.weights)
    pd.testing.assert_frame_equal(fresh.design.mean("hours", na_rm=True),
                                  hit.design.mean("hours", na_rm=True))


class _Boom:
    """A pickle that, when loaded, writes a marker file (a stand-in for os.system)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pwned"))


def test_a_crafted_pickle_in_the_cache_folder_is_never_loaded(wave, tmp_path):
    marker = tmp_path / "PWNED"
    out = tmp_path / "work"
    out.mkdir()
    evil = pickle.dumps(("any key", _Boom(marker)))
    assert not marker.exists()
    (out / ".prepared.pkl").write_bytes(evil)  # the old cache file name
    w1 = _prep(wave, out_dir=out)
    # the same bytes planted under every name inside the new cache entry
    for f in (out / ".prepared").rglob("*"):
        if f.is_file():
            f.write_bytes(evil)
    w2 = _prep(wave, out_dir=out)
    assert not marker.exists()
    assert not w1.from_cache and not w2.from_cache  # a damaged entry is rebuilt
    assert (out / ".prepared.pkl").read_bytes() == evil  # not ours: left alone
    assert _prep(wave, out_dir=out).from_cache


def test_the_cache_key_is_checked_before_any_data_is_read(wave, tmp_path, monkeypatch):
    _prep(wave, out_dir=tmp_path)
    (entry,) = [p for p in (tmp_path / ".prepared").iterdir() if p.is_dir()]
    import json

    meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
    meta["key"] = "0" * 64  # an entry that claims another key
    (entry / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    opened = []
    real = pd.read_parquet
    monkeypatch.setattr(pd, "read_parquet", lambda *a, **k: opened.append(a) or real(*a, **k))
    w = _prep(wave, out_dir=tmp_path)
    assert not w.from_cache and opened == []
    # the rebuilt entry replaced the foreign one; a different option is a different key
    w3 = _prep(wave, out_dir=tmp_path, calibrate="linear")
    assert not w3.from_cache


def test_prepare_without_margins_keeps_base_weights(wave):
    from survey.pipeline import prepare_wave

    w = prepare_wave(wave["raw"], wave["questionnaire"], stations=wave["stations"])
    assert w.targets is None and w.weighting_report is None
    assert np.allclose(w.design.weights, w.base_design.weights)


def test_design_weighting_selects_the_calibration_margins():
    """design.weighting is not decoration: it picks the margins, and a listed variable without a
    margin is an error naming it."""
    from types import SimpleNamespace

    from survey.errors import WeightingError
    from survey.pipeline import _weighting_margins
    from survey.weighting import Targets

    t = Targets({"sex": {"男": 6, "女": 4}, "district": {"a": 5, "b": 5},
                 ("sex", "age_group"): {("男", "y"): 3, ("男", "o"): 3, ("女", "y"): 2, ("女", "o"): 2}})

    def q(*w):
        return SimpleNamespace(design=SimpleNamespace(weighting=w), path="q.yml")

    assert list(_weighting_margins(t, q())) == list(t)
    assert list(_weighting_margins(t, q("sex", "age_group"))) == ["sex", ("sex", "age_group")]
    assert isinstance(_weighting_margins(t, q("sex", "age_group")), Targets)
    with pytest.raises(WeightingError, match=r"\['title'\]"):
        _weighting_margins(t, q("sex", "title"))
