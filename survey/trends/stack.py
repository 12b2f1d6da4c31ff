"""Several waves in one long frame and one stacked design (:func:`stack_waves`), and each wave
weighted to its own margins (:func:`calibrate_wave`, :func:`demo_designs`).

Every wave keeps its own design: strata are ``wave × stratum`` and PSUs ``wave × station``,
except PSUs declared as a panel (``panel_psus``), which are shared across waves inside their
(common) stratum.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..design import SurveyDesign
from ..errors import DesignError, EstimationError, HarmonizationError, WeightingWarning
from ..questionnaire import Questionnaire
from .harmonization import Harmonization

__all__ = ["StackedWaves", "stack_waves", "calibrate_wave", "demo_designs"]


# ----------------------------------------------------------------------------------------------
# stacking
# ----------------------------------------------------------------------------------------------
class StackedWaves:
    """Several waves in one long frame and one stacked design (see :func:`stack_waves`).

    Attributes
    ----------
    data : DataFrame
        ``wave``, the indicator columns, the kept group columns, ``_stratum``, ``_psu``,
        ``_weight``.
    design : SurveyDesign
        The stacked design (strata ``wave × stratum``; PSUs ``wave × psu`` unless panel).
    designs : dict
        The wave designs (with their own calibrations, used for the variance).
    harmonization : Harmonization or None
    panel_psus : frozenset
        PSU ids shared across waves.
    domain : (str, str) or None
        ``(variable, value)`` after :meth:`within`: every estimate is that domain's.
    withheld : list of str
        Indicators a report left out of :attr:`indicators` (e.g. too few respondents in the
        domain), by label, to say so.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"y": np.arange(8.0), "st": [1] * 4 + [2] * 4, "c": [1, 1, 2, 2, 3, 3, 4, 4]})
    >>> d = SurveyDesign(df, strata="st", psu="c")
    >>> s = stack_waves({"2023": d, "2024": d}, indicators=["y"])
    >>> s.waves, len(s.data), s.design.n
    (['2023', '2024'], 16, 16)
    >>> from survey.trends import change
    >>> float(change(s, "y")["change"].iloc[0])
    0.0
    """

    def __init__(self, data: pd.DataFrame, design: SurveyDesign, designs: Mapping[str, SurveyDesign],
                 harmonization: Harmonization | None, panel_psus: frozenset, rows: Mapping[str, np.ndarray],
                 indicators: Sequence[str]) -> None:
        self.data = data
        self.design = design
        self.designs = dict(designs)
        self.harmonization = harmonization
        self.panel_psus = panel_psus
        self.rows = dict(rows)
        self.indicators = list(indicators)
        self.domain: tuple[str, str] | None = None
        self.withheld: list[str] = []
        #: (wave, domain) estimates already computed, shared with :meth:`within`'s views (the
        #: trends page asks for each indicator's in its table, chart, findings and checks)
        self._estimates: dict = {}
        self._masks: dict = {}  # (var, value) -> rows inside, shared with within()'s views

    def within(self, var: str, value: Any) -> "StackedWaves":
        """The same waves with every estimate restricted to one domain, ``var == value`` (a
        province in a provincial report).

        The domain is estimated on the full stacked design (as R's ``subset`` of a design:
        respondents outside count as zeros in their PSUs, so every stratum and PSU stays in the
        variance); :func:`~survey.trends.trend_table`'s Holm family is the domain's rows.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"y": np.arange(8.0), "g": list("aabbaabb"), "c": [1, 1, 2, 2, 3, 3, 4, 4]})
        >>> s = stack_waves({"2023": SurveyDesign(df, psu="c"), "2024": SurveyDesign(df, psu="c")},
        ...                 indicators=["y"], keep=["g"])
        >>> from survey.trends import wave_estimates
        >>> wave_estimates(s.within("g", "a"), "y")["estimate"].tolist()
        [2.5, 2.5]
        """
        import copy

        if var not in self.data.columns:
            raise EstimationError(f"within: {var!r} is not a column of the stacked waves; stack them "
                                  f"with keep=[..., {var!r}] (columns: {[c for c in self.data.columns if not c.startswith('_')][:20]})")
        out = copy.copy(self)
        out.domain, out.indicators, out.withheld = (var, str(value)), list(self.indicators), list(self.withheld)
        if not out.domain_mask().any():
            raise EstimationError(f"within: nobody in any wave has {var} = {value!r}")
        return out

    def domain_mask(self) -> np.ndarray | None:
        """Rows of :attr:`data` inside :attr:`domain` (None: no domain)."""
        if self.domain is None:
            return None
        if self._masks.get(self.domain) is None:
            var, value = self.domain
            col = self.data[var]
            if isinstance(col.dtype, pd.CategoricalDtype):  # codes, not 95k strings per call
                hit = np.flatnonzero(col.cat.categories.astype(str) == value)
                m = np.isin(col.cat.codes.to_numpy(), hit)
            else:
                m = (col.astype(str) == value).to_numpy()
            self._masks[self.domain] = m
        return self._masks[self.domain]

    @property
    def waves(self) -> list[str]:
        """The wave ids, in time order."""
        return list(self.designs)

    def __repr__(self) -> str:
        n = {w: int(len(r)) for w, r in self.rows.items()}
        dom = f"; within {self.domain[0]} = {self.domain[1]!r}" if self.domain else ""
        return (f"<StackedWaves {n}; {len(self.indicators)} indicators; "
                f"{len(self.panel_psus)} panel PSUs{dom}>")


def _design_cols(d: SurveyDesign, wave: str) -> tuple[str | None, str | None]:
    spec = d._spec
    psu = spec["psu"][0] if spec["psu"] else None
    st = spec["strata"][0] if spec["strata"] else None
    return psu, st


def stack_waves(waves: Mapping[str, SurveyDesign], harmonization: Harmonization | None = None,
                panel_psus: Sequence[Any] | bool | None = None, *,
                indicators: Sequence[str] | None = None,
                keep: Sequence[str] | None = None) -> StackedWaves:
    """Stack wave designs into one long frame of harmonised indicators and one design.

    Each wave keeps its own design: strata become ``wave × stratum`` and PSUs ``wave × psu``, so a
    station that appears in two waves is two PSUs — unless it is declared a panel PSU, in which
    case it is one PSU in the (common) stratum and the covariance between waves enters the SE.

    Parameters
    ----------
    waves : mapping wave id -> SurveyDesign
        In time order.  Each design weighted to its own wave's margins (see
        :func:`calibrate_wave`); uncalibrated designs draw a :class:`WeightingWarning`.
    harmonization : Harmonization, optional
        Builds the indicator columns; without it, ``indicators`` are taken as columns present in
        every wave's data (no recoding).
    panel_psus : sequence, True or None
        PSU ids shared across waves (``True``: every PSU id present in more than one wave).
        A panel PSU must sit in the same stratum (label) in every wave.
    indicators : sequence of str, optional
        Subset of indicators (default: every comparable indicator, or with no harmonisation,
        required).
    keep : sequence of str, optional
        Extra columns to carry (default: columns present in every wave among the
        questionnaires' ``design.groups``), for ``by=`` domains.

    Returns
    -------
    StackedWaves

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"y": np.arange(8.0), "st": [1] * 4 + [2] * 4, "c": [1, 1, 2, 2, 3, 3, 4, 4]})
    >>> d = SurveyDesign(df, strata="st", psu="c")
    >>> s = stack_waves({"a": d, "b": d}, indicators=["y"])
    >>> s.design.n_psu, s.design.n_strata
    (8, 4)
    >>> stack_waves({"a": d, "b": d}, indicators=["y"], panel_psus=True).design.n_psu
    4
    """
    if not isinstance(waves, Mapping) or len(waves) < 2:
        raise DesignError("stack_waves: give a mapping of at least two wave ids -> SurveyDesign")
    designs: dict[str, SurveyDesign] = {}
    for w, d in waves.items():
        if not isinstance(d, SurveyDesign):
            raise DesignError(f"stack_waves: wave {w!r} is a {type(d).__name__}, not a SurveyDesign; "
                              "build it with survey.trends.calibrate_wave(...) or SurveyDesign(...)")
        if d.is_replicate:
            raise DesignError(f"stack_waves: wave {w!r} has replicate weights; the change variance "
                              "needs linearisation designs (strata/psu)")
        if d.domain is not None:
            raise DesignError(f"stack_waves: wave {w!r} is a subset; stack full designs and use by=")
        designs[str(w)] = d
    h = harmonization
    if h is not None:
        missing = [w for w in designs if w not in h.questionnaires]
        if missing:
            raise HarmonizationError(f"stack_waves: waves {missing} are not in the harmonisation "
                                     f"(its waves: {h.waves})")
        comp = [i.id for i in h.indicators if i.comparable]
        if indicators is None:
            indicators = comp
        else:
            nc = [i for i in indicators if not h.indicator(i).comparable]
            if nc:
                reasons = {i: h.indicator(i).reason for i in nc}
                raise HarmonizationError(f"stack_waves: indicators {nc} are not comparable across "
                                         f"waves and never go into a trend ({reasons})")
    elif indicators is None:
        raise DesignError("stack_waves: without a harmonisation, name the indicator columns "
                          "(indicators=[...]) present in every wave")
    indicators = list(indicators)
    uncal = [w for w, d in designs.items() if not d.calibrations]
    if h is not None and uncal:
        warnings.warn(f"stack_waves: waves {uncal} are not calibrated; weight each wave to its own "
                      "population margins (survey.trends.calibrate_wave)", WeightingWarning,
                      stacklevel=2)
    if keep is None:
        groups: list[str] = []
        if h is not None:
            for w in designs:
                for g in getattr(h.questionnaires[w].design, "groups", []) or []:
                    if g not in groups:
                        groups.append(g)
        keep = [g for g in groups if all(g in d.columns for d in designs.values())]
    keep = list(keep)
    # panel PSUs
    psu_ids: dict[str, pd.Series] = {}
    st_ids: dict[str, pd.Series] = {}
    for w, d in designs.items():
        psu, st = _design_cols(d, w)
        n = d.n_rows
        psu_ids[w] = (d.column(psu).astype(str) if psu else
                      pd.Series([f"row{i}" for i in range(n)], dtype="str")).reset_index(drop=True)
        st_ids[w] = (d.column(st).astype(str) if st else pd.Series(["1"] * n, dtype="str")).reset_index(drop=True)
    if panel_psus is True:
        counts: dict[str, int] = {}
        for s in psu_ids.values():
            for v in pd.unique(s):
                counts[v] = counts.get(v, 0) + 1
        panel = frozenset(k for k, c in counts.items() if c > 1)
    elif panel_psus:
        panel = frozenset(str(p) for p in panel_psus)
        unknown = [p for p in panel if not any((s == p).any() for s in psu_ids.values())]
        if unknown:
            raise DesignError(f"stack_waves: panel PSUs {sorted(unknown)[:10]} are in no wave's data")
    else:
        panel = frozenset()
    if panel:
        # the stratum of a panel PSU must be the same in every wave it appears in
        seen: dict[str, tuple[str, str]] = {}
        for w in designs:
            m = psu_ids[w].isin(panel).to_numpy()
            pairs = pd.DataFrame({"p": psu_ids[w][m], "s": st_ids[w][m]}).drop_duplicates()
            for p_, s_ in zip(pairs["p"], pairs["s"]):
                if p_ in seen and seen[p_][1] != s_:
                    raise DesignError(f"stack_waves: panel PSU {p_!r} is in stratum {seen[p_][1]!r} "
                                      f"in wave {seen[p_][0]!r} but {s_!r} in wave {w!r}; a panel "
                                      "PSU must keep its stratum")
                seen[p_] = (w, s_)
    frames, rows, off = [], {}, 0
    for w, d in designs.items():
        df = d.data
        n = d.n_rows
        out = {"wave": pd.Series([w] * n, dtype="str")}
        for ind in indicators:
            if h is not None:
                out[ind] = pd.Series(h.values(df, w, ind))
            else:
                if ind not in df.columns:
                    raise DesignError(f"stack_waves: column {ind!r} is not in wave {w!r}'s data")
                s = df[ind]
                if pd.api.types.is_bool_dtype(s.dtype):
                    s = s.astype("Float64")
                if not pd.api.types.is_numeric_dtype(s.dtype):
                    raise EstimationError(f"stack_waves: column {ind!r} of wave {w!r} is not numeric "
                                          "(recode it to numbers or 0/1 first)")
                out[ind] = pd.Series(s.to_numpy(dtype=float, na_value=np.nan))
        for g in keep:
            s = df[g].reset_index(drop=True)
            out[g] = s if isinstance(s.dtype, pd.CategoricalDtype) else \
                s.astype(object).where(s.notna(), None).astype("str")
        in_panel = psu_ids[w].isin(panel).to_numpy()
        if panel:
            stv = st_ids[w].to_numpy(dtype=object)
        else:
            stv = (w + "|" + st_ids[w]).to_numpy(dtype=object)
        psv = np.where(in_panel, "panel|" + psu_ids[w], w + "|" + psu_ids[w])
        out["_stratum"] = pd.Series(stv, dtype="str")
        out["_psu"] = pd.Series(psv, dtype="str")
        out["_weight"] = pd.Series(np.asarray(d.weights, float))
        frames.append(pd.DataFrame(out))
        rows[w] = np.arange(off, off + n)
        off += n
    data = pd.concat(frames, ignore_index=True)
    for g in keep:  # common categorical levels across waves (order of first appearance)
        levels = list(dict.fromkeys(v for f in frames for v in
                                    (f[g].cat.categories if isinstance(f[g].dtype, pd.CategoricalDtype)
                                     else pd.unique(f[g].dropna()))))
        data[g] = pd.Categorical(data[g].astype(object), categories=levels)
    lonely = {d.lonely_psu for d in designs.values()}
    stacked = SurveyDesign(data, weights="_weight", strata="_stratum", psu="_psu",
                           lonely_psu=lonely.pop() if len(lonely) == 1 else "adjust")
    return StackedWaves(data, stacked, designs, h, panel, rows, indicators)


# ----------------------------------------------------------------------------------------------
# weighting each wave to its own margins; the demo wiring
# ----------------------------------------------------------------------------------------------
def calibrate_wave(frame: pd.DataFrame, questionnaire: Questionnaire, population: Any, *,
                   base_weight: str | None = None, lonely_psu: str = "adjust") -> SurveyDesign:
    """A wave's design, raked to *that wave's own* population margins.

    Parameters
    ----------
    frame : DataFrame
        The wave's analysis frame (with the design columns named in the questionnaire).
    questionnaire : Questionnaire
        The wave's questionnaire (``design.psu/strata/weight/weighting``).
    population : path, Targets or dict
        The wave's ``population.yml`` (or targets).  Its wave must be this wave's.
    base_weight : str, optional
        Base weight column (default: the questionnaire's ``design.weight``, else 1).
    lonely_psu : str

    Returns
    -------
    SurveyDesign
        Raked on the questionnaire's ``design.weighting`` variables (margins of other
        variables in the file are ignored).

    Examples
    --------
    >>> d = calibrate_wave(frame, q, "questionnaires/demo-2024")  # doctest: +SKIP
    """
    from ..weighting import load_targets
    from ..weighting.targets import Targets

    spec = questionnaire.design
    t = population if isinstance(population, (Targets, Mapping)) else load_targets(population, questionnaire)
    wcol = base_weight or spec.weight
    d = SurveyDesign(frame, weights=wcol, strata=spec.strata, psu=spec.psu, lonely_psu=lonely_psu)
    use = set(spec.weighting or [])
    if isinstance(t, Targets) and use:
        keys = [k for k in t if not set(k if isinstance(k, tuple) else (k,)) <= use]
        if keys:
            t = t.drop(*keys)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeightingWarning)
        return d.rake(t)


def demo_designs(seed: int = 2024, waves: Sequence[str] = ("2023", "2024")) -> dict[str, SurveyDesign]:
    """Calibrated designs of the demo waves (clean frames, station base weights, own margins).

    Examples
    --------
    >>> ds = demo_designs(2024)  # doctest: +SKIP
    >>> sorted(ds)  # doctest: +SKIP
    ['2023', '2024']
    """
    import tempfile

    from ..demo import build_wave, population_yaml
    from ..weighting import load_targets

    out = {}
    for w in waves:
        wv = build_wave(str(w), int(seed))
        df = wv.clean.merge(wv.stations[["station", "base_weight"]], on="station", how="left")
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "population.yml"
            p.write_text(population_yaml(str(w), int(seed)), encoding="utf-8")
            t = load_targets(p, wv.questionnaire)
        out[str(w)] = calibrate_wave(df, wv.questionnaire, t, base_weight="base_weight")
    return out
