"""Synthetic population of the fictional 示例市 and the true answers of everyone in it.

:func:`make_population` builds ~300,000 S&T workers in institutions (the units a station can
be), with sex, age group, 职称, education, unit type and district; :func:`population_answers`
gives every person's true answer to every demo question for one wave, driven only by
:mod:`survey.demo.effects`.  Everything is numpy-vectorised (one pass per variable).

Examples
--------
>>> from survey.demo.population import make_population, population_answers
>>> pop = make_population(seed=1)
>>> len(pop.people) > 250_000
True
>>> a = population_answers(pop, "2023")
>>> 40 < float(a["hours"].mean()) < 55
True
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from . import effects as E
from . import spec as S
from .setting import CITY, Setting

__all__ = ["Population", "make_population", "population_answers", "rng_for", "population_for"]

# fixed centring/scaling of latents when they are cut into answer codes (NOT re-estimated per
# wave, so that a shift declared in effects.TERMS moves the answers)
REF = {"burnout": (0.3, 1.05), "sat": (0.0, 1.08), "log_income": (2.8, 0.4), "hours": (48.0, 7.5)}

GROUPS = ("sex", "age_group", "title", "unit_type", "district", "education")
AGE_BOUNDS = [(22, 29), (30, 35), (36, 45), (46, 55), (56, 62)]


def rng_for(seed: int, *tags: int) -> np.random.Generator:
    """An independent random stream for (seed, component tags) — components never share draws.

    Examples
    --------
    >>> float(rng_for(1, 2).random()) == float(rng_for(1, 2).random())
    True
    """
    return np.random.default_rng(np.random.SeedSequence([int(seed), *map(int, tags)]))


def _draw(rng: np.random.Generator, P: np.ndarray) -> np.ndarray:
    """One categorical draw per row of the probability matrix ``P`` (rows need not sum to 1)."""
    C = np.cumsum(P, axis=1)
    u = rng.random(len(P)) * C[:, -1]
    return np.minimum((u[:, None] > C).sum(axis=1), P.shape[1] - 1).astype(np.int8)


@dataclass
class Population:
    """The synthetic population: ``people`` (one row per person) and ``units`` (institutions).

    ``people`` holds integer codes (0-based, in the order of :func:`survey.demo.spec.group_levels`)
    for the group variables, ``unit`` (row of ``units``), ``age`` (years) and stable personal
    traits ``z_*``.  ``units`` holds ``station`` (id, unique across strata), ``stratum_code``,
    ``district``/``unit_type`` codes and ``size``.
    """

    seed: int
    people: pd.DataFrame
    units: pd.DataFrame
    setting: Setting = CITY

    def labels(self, var: str) -> np.ndarray:
        """Labels of a group variable for every person.

        Examples
        --------
        >>> make_population(1).labels("sex")[:1].tolist() in (["男"], ["女"])
        True
        """
        return np.asarray(S.group_levels(self.setting)[var], dtype=object)[self.people[var].to_numpy()]


@lru_cache(maxsize=4)
def make_population(seed: int = 2024, setting: Setting = CITY) -> Population:
    """Build the synthetic population (deterministic for ``seed``; cached).

    Parameters
    ----------
    seed : int
        Master seed; the population uses its own stream ``(seed, *setting.stream, 0)``.
    setting : Setting
        The city (default; ~300,000 people in 10 districts) or the national demo
        (:func:`survey.demo.setting.national`); the people's region column is named
        ``setting.region_var``.

    Returns
    -------
    Population

    Examples
    --------
    >>> pop = make_population(7)
    >>> sorted(pop.people["unit_type"].unique().tolist())
    [0, 1, 2, 3, 4, 5, 6, 7]
    """
    st = setting
    region = st.region_var
    rng = rng_for(seed, *st.stream, 0)
    nd, nt = len(st.regions), len(S.UNIT_TYPES)
    share = np.outer(st.region_share, S.TYPE_SHARE)
    for d, tilt in st.type_tilt:
        i = st.regions.index(d)
        for t, f in tilt:
            share[i, S.UNIT_TYPES.index(t)] *= f
    share *= rng.lognormal(0, 0.1, size=share.shape)
    N_h = np.round(st.n_population * share / share.sum()).astype(int)
    if st.min_stratum:  # small provinces keep every station type (0 for the city: unchanged)
        N_h = np.maximum(N_h, st.min_stratum)
    kw = 3 if st.station_prefix == "S" else 4
    # institutions inside each stratum (loop over the strata, not over people)
    rows = []
    for i in range(nd):
        for j in range(nt):
            t = S.UNIT_TYPES[j]
            usize = S.UNIT_SIZE[t] if st.unit_size_scale == 1.0 else S.UNIT_SIZE[t] * st.unit_size_scale
            m = max(3, int(round(N_h[i, j] / usize)))
            m = min(m, N_h[i, j] // 15)
            w = rng.lognormal(0, 0.7, size=m)
            sizes = 15 + rng.multinomial(N_h[i, j] - 15 * m, w / w.sum())
            for k, sz in enumerate(sizes):
                rows.append((f"{st.station_prefix}{i + 1:02d}{j + 1}{k + 1:0{kw}d}",
                             100 * (i + 1) + j + 1, i, j, sz))
    units = pd.DataFrame(rows, columns=["station", "stratum_code", region, "unit_type", "size"])
    units[region] = units[region].astype(np.int8)
    units["unit_type"] = units["unit_type"].astype(np.int8)
    unit = np.repeat(np.arange(len(units)), units["size"].to_numpy())
    n = len(unit)
    ut = units["unit_type"].to_numpy()[unit]
    di = units[region].to_numpy()[unit]
    types = S.UNIT_TYPES
    fem = np.array([S.FEMALE[t] for t in types])[ut]
    sex = (rng.random(n) < fem).astype(np.int8)
    age_group = _draw(rng, np.array([S.AGE[t] for t in types])[ut])
    lo = np.array([b[0] for b in AGE_BOUNDS])[age_group]
    hi = np.array([b[1] for b in AGE_BOUNDS])[age_group]
    age = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(int)
    title = _draw(rng, np.array(S.TITLE_BY_AGE)[age_group] * np.array([S.TITLE_TILT[t] for t in types])[ut])
    edu = _draw(rng, np.array([S.EDU[t] for t in types])[ut]
                * np.array([S.EDU_TILT[t] for t in S.TITLES])[title])
    people = pd.DataFrame({
        "unit": unit.astype(np.int32), region: di, "unit_type": ut, "sex": sex,
        "age_group": age_group, "title": title, "education": edu, "age": age.astype(np.int16)})
    for name in ("hours", "research_share", "log_income", "burnout", "sat"):
        people[f"z_{name}"] = rng.standard_normal(n).astype(np.float32)
    return Population(seed=int(seed), people=people, units=units, setting=st)


def population_for(seed: int, setting: Setting | None = None) -> Population:
    """The cached population of a demo: ``make_population(seed)`` for the city (one cache entry
    however it is asked for), ``make_population(seed, setting)`` otherwise.

    Examples
    --------
    >>> population_for(1) is make_population(1) is population_for(1, CITY)
    True
    """
    if setting is None or setting == CITY:
        return make_population(seed)
    return make_population(seed, setting)


# ------------------------------------------------------------------ the effects engine
def _group_vec(outcome: str, pop: Population) -> np.ndarray:
    eta = np.zeros(len(pop.people))
    for var, table in E.MAIN.get(outcome, {}).items():
        levels = S.group_levels(pop.setting)[var]
        unknown = set(table) - set(levels)
        if unknown:
            from ..errors import ParameterError
            raise ParameterError(f"effects.MAIN[{outcome!r}][{var!r}] names unknown levels "
                                 f"{sorted(unknown)}; use one of {levels}")
        eta += np.array([table.get(lev, 0.0) for lev in levels])[pop.people[var].to_numpy()]
    return eta


def _terms(outcome: str, pop: Population, wave: str) -> np.ndarray:
    eta = np.zeros(len(pop.people))
    for t in E.TERMS:
        if t.outcome != outcome or (t.waves is not None and wave not in t.waves):
            continue
        mask = np.ones(len(pop.people), dtype=bool)
        for var, levels in t.when.items():
            lv = S.group_levels(pop.setting)[var]
            codes = [lv.index(x) for x in levels]
            mask &= np.isin(pop.people[var].to_numpy(), codes)
        eta += t.shift * mask
    return eta


def _slopes(outcome: str, built: dict[str, np.ndarray]) -> np.ndarray:
    eta = 0.0
    for s in E.SLOPES:
        if s.outcome == outcome and s.coef != 0.0:
            x = built[s.on]
            eta = eta + s.coef * (x - x.mean())
    return eta


def predictor(outcome: str, pop: Population, wave: str,
              built: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Deterministic part of an outcome: BASE + MAIN + TERMS + SLOPES (see effects docstring).

    ``wave`` is the calendar year (``"2023"``/``"2024"``) the effects are keyed by.

    Examples
    --------
    >>> pop = make_population(1)
    >>> d = predictor("hours", pop, "2024") - predictor("hours", pop, "2023")
    >>> float(round(d.mean(), 2))
    -1.5
    """
    base = E.BASE.get(outcome, 0.0)
    if outcome.startswith("pain."):
        base = E.PAIN_BASE[outcome[5:]]
    elif outcome.startswith("aware."):
        base = E.AWARE_BASE[outcome[6:]]
    return base + _group_vec(outcome, pop) + _terms(outcome, pop, wave) + _slopes(outcome, built or {})


def _cut(x: np.ndarray, cuts: list[float]) -> np.ndarray:
    return (1 + np.searchsorted(np.asarray(cuts), x)).astype(np.int8)


def _latent(name: str, pop: Population, wave: str, rng: np.random.Generator,
            built: dict[str, np.ndarray]) -> np.ndarray:
    sd_p, sd_w = E.NOISE[name]
    z = pop.people[f"z_{name}"].to_numpy().astype(float)
    return predictor(name, pop, wave, built) + sd_p * z + sd_w * rng.standard_normal(len(z))


@lru_cache(maxsize=4)
def _answers_cached(seed: int, wave: str, setting: Setting = CITY) -> pd.DataFrame:
    return _population_answers(make_population(seed, setting), wave)


def population_answers(pop: Population, wave: str) -> pd.DataFrame:
    """Every person's true answers for ``wave`` (codes; numeric in their units).

    Columns: the frame column names of the demo questionnaire where a column is an answer
    (``hours``, ``pain_5`` rank or 0, ``burnout_r1`` …, codes for single questions), plus
    latent helpers prefixed ``_`` (``_burnout``, ``_sat``, ``_leave``, ``_respond`` = response
    probability, ``_income_wan``).  Text answers are not generated here (see the sampler).

    Examples
    --------
    >>> a = population_answers(make_population(1), "2024")
    >>> sorted(a["income"].unique().tolist())
    [1, 2, 3, 4, 5, 6]
    """
    wave = str(wave)
    if wave not in pop.setting.waves:
        from ..errors import ParameterError
        raise ParameterError(f"demo wave {wave!r} does not exist; use one of {pop.setting.waves}")
    if population_for(pop.seed, pop.setting) is not pop:
        return _population_answers(pop, wave)
    if pop.setting == CITY:
        return _answers_cached(pop.seed, wave)
    return _answers_cached(pop.seed, wave, pop.setting)


def _population_answers(pop: Population, wave: str) -> pd.DataFrame:
    wave = pop.setting.year(wave)   # effects are keyed by the calendar year
    rng = rng_for(pop.seed, *pop.setting.stream, 1, int(wave))
    P = pop.people
    n = len(P)
    ut = P["unit_type"].to_numpy()
    ag = P["age_group"].to_numpy()
    ti = P["title"].to_numpy()
    out: dict[str, np.ndarray] = {}
    built: dict[str, np.ndarray] = {}

    hours = np.clip(_latent("hours", pop, wave, rng, built), 12, 98)
    built["hours"] = hours
    out["hours"] = np.round(hours * 2) / 2
    rs = np.clip(_latent("research_share", pop, wave, rng, built), 0, 100)
    built["research_share"] = rs
    out["research_share"] = np.round(rs / 5) * 5
    li = _latent("log_income", pop, wave, rng, built)
    built["log_income"] = li
    out["_income_wan"] = np.exp(li)
    out["income"] = _cut(np.exp(li), S.INCOME_BREAKS[wave])
    burn = _latent("burnout", pop, wave, rng, built)
    built["burnout"] = burn
    out["_burnout"] = burn
    hp = 1 / (1 + np.exp(-predictor("has_project", pop, wave, built)))
    has_project = rng.random(n) < hp
    out["has_project"] = np.where(has_project, 1, 2).astype(np.int8)

    # 急难愁盼: Plackett–Luce top-k by Gumbel utilities
    U = np.column_stack([predictor(f"pain.{lab}", pop, wave, built) for lab in S.PAIN])
    out["_pain_det_eval"] = U[:, S.PAIN.index("评价体系唯论文/唯帽子")]
    U = U + rng.gumbel(size=U.shape)
    k = 1 + _draw(rng, np.tile(np.array(E.K_DIST), (n, 1)))
    order = np.argsort(-U, axis=1, kind="stable")[:, :3]
    ranks = np.zeros((n, len(S.PAIN)), dtype=np.int8)
    for r in range(3):  # 3 passes, each vectorised over people
        chosen = k > r
        ranks[np.nonzero(chosen)[0], order[chosen, r]] = r + 1
    for j in range(len(S.PAIN)):
        out[f"pain_{j + 1}"] = ranks[:, j]
    built["npain"] = k.astype(float)

    sat = _latent("sat", pop, wave, rng, built)
    built["sat"] = sat
    out["_sat"] = sat
    leave_noise = rng.logistic(size=n)     # the idiosyncratic part of the intention to leave
    leave = predictor("leave", pop, wave, built) + leave_noise
    built["leave"] = leave
    built["leave_noise"] = leave_noise
    out["_leave"] = leave
    out["leave_intent"] = _cut(leave, [-1.6, 0.0, 1.5])

    # ordinal items from the latents
    bz = (burn - REF['burnout'][0]) / REF['burnout'][1]   # fixed reference: wave shifts survive
    for r, off in zip(["r1", "r2", "r3", "r4", "r5"], [0.3, 0.2, -0.1, -0.2, -0.5]):
        out[f"burnout_{r}"] = _cut(0.85 * bz + 0.55 * rng.standard_normal(n) + off, [-1.3, -0.4, 0.5, 1.4])
    out["burnout_r6"] = _cut(-0.5 * bz + 0.8 * rng.standard_normal(n) + 0.6, [-1.3, -0.4, 0.5, 1.4])
    sz = (sat - REF['sat'][0]) / REF['sat'][1]
    out["sat_overall"] = _cut(sz + 0.45 * rng.standard_normal(n) + 0.35, [-1.7, -0.8, 0.45, 1.8])
    inc_c = li - REF['log_income'][0]
    for r, off, extra in [("r1", -0.3, 1.2 * inc_c), ("r2", 0.3, 0), ("r3", 0.1, 0),
                          ("r4", -0.1, 0), ("r5", -0.2, -0.03 * (hours - REF['hours'][0]))]:
        out[f"sat_{r}"] = _cut(0.8 * sz + 0.6 * rng.standard_normal(n) + off + extra,
                               [-1.6, -0.7, 0.5, 1.7])
    out["pain_severity"] = _cut(0.6 * bz - 0.3 * sz + 0.8 * rng.standard_normal(n),
                                [-1.4, -0.5, 0.5, 1.4])
    ev = out["_pain_det_eval"]
    evz = (ev - ev.mean()) / (ev.std() + 1e-9)
    for r, off in zip(["r1", "r2", "r3"], [0.5, 0.3, 0.0]):
        out[f"eval_opinion_{r}"] = _cut(0.6 * evz + 0.8 * rng.standard_normal(n) + off, [-1.5, -0.6, 0.4, 1.3])
    out["eval_opinion_r4"] = _cut(-0.5 * evz + 0.8 * rng.standard_normal(n), [-1.2, -0.3, 0.6, 1.5])
    out["health_self"] = _cut(0.6 * bz + 0.8 * rng.standard_normal(n), [-1.0, 0.2, 1.3, 2.2])
    out["sleep_hours"] = np.clip(np.round((7.1 - 0.35 * bz + 0.7 * rng.standard_normal(n)) * 2) / 2, 3, 11)
    out["confidence"] = _cut(-0.6 * sz + 0.8 * rng.standard_normal(n), [-0.9, 0.3, 1.3, 2.1])

    # other questions (simple, group-dependent)
    field_p = np.array([[.35, .30, .05, .10, .05, .12, .03], [.25, .30, .05, .15, .10, .12, .03],
                        [.08, .70, .02, .02, .02, .13, .03], [.05, .05, .01, .82, .02, .04, .01],
                        [.30, .10, .02, .05, .48, .04, .01], [.10, .65, .03, .04, .03, .12, .03],
                        [.10, .20, .35, .10, .10, .12, .03], [.30, .30, .05, .15, .05, .12, .03]])
    f = _draw(rng, field_p[ut])
    out["field"] = np.array([1, 2, 3, 4, 5, 6, 9], dtype=np.int8)[f]
    party = np.array([.75, .65, .45, .35, .25])[ti] * np.where(np.isin(ut, [0, 1]), 1.1, 0.9)
    pol = _draw(rng, np.column_stack([party, np.full(n, 0.05), np.where(ag == 0, 0.2, 0.01),
                                      np.clip(1 - party, 0.05, None)]))
    out["politics"] = (pol + 1).astype(np.int8)
    own = np.array([.25, .55, .80, .88, .92])[ag]
    out["housing"] = (1 + _draw(rng, np.column_stack([own, (1 - own) * .55, (1 - own) * .25,
                                                      (1 - own) * .20]))).astype(np.int8)
    start = pd.Timestamp(f"{wave}-05-01").value // 86_400_000_000_000
    tenure_days = np.minimum(rng.exponential(8 * 365, n), (P["age"].to_numpy() - 22) * 365 + 200)
    out["work_start"] = (start - tenure_days.astype(np.int64)).astype("datetime64[D]")
    out["commute"] = np.maximum(np.round(np.exp(rng.normal(np.log(32), 0.55, n)) / 5) * 5, 5) * 60.0
    pc = 1 + rng.poisson(np.array([1.6, 1.0, 0.6, 0.3, 0.2])[ti])
    out["project_count"] = np.where(has_project, np.minimum(pc, 30), np.nan)
    fp = np.array([[.45, .55, .35, .30, .30, .03], [.50, .50, .30, .35, .25, .03],
                   [.10, .20, .25, .40, .60, .03], [.25, .40, .30, .10, .35, .03],
                   [.02, .10, .40, .02, .50, .05], [.10, .25, .35, .40, .50, .03],
                   [.05, .20, .50, .10, .40, .05], [.30, .40, .30, .20, .20, .05]])[ut]
    F = rng.random((n, 6)) < fp
    F[~F.any(axis=1), 4] = True
    for j, code in enumerate([1, 2, 3, 4, 5, 9]):
        out[f"funding_sources_{code}"] = np.where(has_project, F[:, j], False)
    # leave reasons for intenders: utilities from pains and burnout
    LR = np.column_stack([0.8 * (ranks[:, 0] > 0), np.full(n, 0.7), 0.5 * bz,
                          0.6 * (ranks[:, 5] > 0), np.full(n, -0.3), 0.9 * (ranks[:, 1] > 0),
                          np.full(n, -2.0)]) + rng.gumbel(size=(n, 7))
    nk = 1 + _draw(rng, np.tile([.3, .4, .3], (n, 1)))
    lr_rank = np.argsort(np.argsort(-LR, axis=1), axis=1)
    intends = out["leave_intent"] >= 3
    for j, code in enumerate([1, 2, 3, 4, 5, 6, 9]):
        out[f"leave_reasons_{code}"] = intends & (lr_rank[:, j] < nk)
    td = np.where(rng.random(n) < 0.2, 0, np.round(np.exp(rng.normal(np.log(7), 0.8, n))))
    out["training_days"] = np.minimum(td, 200).astype(float)
    out["exchange"] = _cut(0.6 * np.isin(ut, [0, 1, 7]) + 0.3 * (ti <= 1) + rng.standard_normal(n),
                           [-0.6, 0.6, 1.5])
    soc = rng.random((n, 4)) < np.array([.30, .12, .25, .18])
    for j in range(4):
        out[f"social_{j + 1}"] = soc[:, j]
    out["social_5"] = ~soc.any(axis=1)
    opts = S.POLICY_2023 if wave == "2023" else S.POLICY_2024
    any_aware = np.zeros(n, dtype=bool)
    for code, lab in opts.items():
        if code == 8:
            continue
        a = rng.random(n) < 1 / (1 + np.exp(-predictor(f"aware.{lab}", pop, wave, built)))
        out[f"policy_aware_{code}"] = a
        any_aware |= a
    out["policy_aware_8"] = ~any_aware
    aw = out["policy_aware_1"]
    eff_p = np.where((wave == "2024") & np.isin(ut, [0, 1])[:, None],
                     np.array([.18, .42, .32, .08, 0]), np.array([.08, .30, .50, .12, 0]))
    eff = 1 + _draw(rng, eff_p)
    out["jianfu_effect"] = np.where(aw, eff, 5).astype(np.int8)
    cs = np.array([[.35, .40, .25], [.45, .35, .20], [.30, .40, .30], [.10, .45, .45]])
    for j in range(4):
        out[f"cast_services_r{j + 1}"] = (1 + _draw(rng, np.tile(cs[j], (n, 1)))).astype(np.int8)

    # response propensity: the weighting variables (age, unit type, sex, title) plus the declared
    # residual MNAR component (effects.MNAR)
    out["_respond"] = 1 / (1 + np.exp(-predictor("respond", pop, wave, built)))
    df = pd.DataFrame(out)
    return df
