"""Harmonisation across waves and wave-to-wave change (trends).

Three pieces, each a plain function on plain objects:

1. :class:`Harmonization` — ``questionnaires/harmonization.yml`` says which question of each wave
   is the same as which, how answer codes map onto common (harmonised) categories (rename,
   merge, split with declared shares, "not comparable"), and which indicators are built from
   them.  :meth:`Harmonization.load` checks the map against every wave's questionnaire and
   raises one :class:`~survey.errors.HarmonizationError` listing each problem with the wave,
   the question and the codes.
2. :func:`stack_waves` — one long frame of harmonised indicators with a ``wave`` column and one
   stacked :class:`~survey.SurveyDesign` in which every wave keeps its own design: strata are
   ``wave × stratum`` and PSUs ``wave × station``, except PSUs declared as a panel
   (``panel_psus``), which are shared across waves inside their (common) stratum.
3. :func:`change` / :func:`trend_table` — difference of means or proportions between two waves
   (overall or by domain) with the SE of the difference, a t test on the design degrees of
   freedom and a significance flag; :func:`trend_table` does it for every comparable indicator.

How the SE of a change is computed
----------------------------------
For wave ``w`` and domain ``d`` the estimate is the ratio ``m_wd = Σ w y I_d / Σ w I_d``; its
linearised influence values ``w I_d (y − m_wd) / N_wd`` are residualised by the wave's own
calibrations (each wave is weighted to its own margins, so its calibration residualises only its
own rows) and handed, divided by the weights, to the stacked design's variance engine
(``survey.variance.vcov_totals``).  The engine returns the full covariance of all
(wave, domain) estimates, so ``Var(m_b − m_a) = V_aa + V_bb − 2 V_ab``.  With independent waves
the strata are disjoint and ``V_ab = 0`` (the sum of variances, as R's
``svycontrast`` on two designs); with panel PSUs the shared PSU totals carry the covariance
exactly as R's stacked ``svydesign(ids = ~psu, strata = ~stratum)`` + ``svycontrast``.
Only the first sampling stage is used in the stacked design (with-replacement variance, no fpc).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from survey import SurveyDesign
>>> from survey.trends import change
>>> rng = np.random.default_rng(1)
>>> def wave(mu):
...     return SurveyDesign(pd.DataFrame({"y": rng.normal(mu, 1, 40), "st": np.repeat([1, 2], 20),
...                                       "psu": np.repeat(np.arange(8), 5)}), strata="st", psu="psu")
>>> r = change({"2023": wave(0.0), "2024": wave(1.0)}, "y")
>>> bool(r["significant"].iloc[0]), r["wave_a"].iloc[0], r["wave_b"].iloc[0]
(True, '2023', '2024')
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .design import SurveyDesign
from .variance import residualize, vcov_totals
from .errors import DesignError, EstimationError, HarmonizationError, WeightingWarning
from .questionnaire import Questionnaire

__all__ = ["Harmonization", "HarmonizedQuestion", "Indicator", "StackedWaves", "stack_waves",
           "change", "trend_table", "wave_estimates", "not_comparable", "calibrate_wave",
           "demo_designs", "load_for_waves"]

KINDS = ("mean", "proportion")
_NC = ("not comparable", "not_comparable", "不可比")


# ----------------------------------------------------------------------------------------------
# harmonisation model
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HarmonizedQuestion:
    """One harmonised question: its source question in each wave and the code maps.

    ``maps[wave][code]`` is ``{harmonised category: share}`` (shares sum to one; a plain rename
    or merge has a single category with share 1; a split spreads one code over several
    categories by a declared rule).  ``options[label][wave]`` is the option code of a
    multi/rank question in that wave (``None``: not offered).  ``not_comparable_codes[wave]``
    lists codes declared not comparable.

    Examples
    --------
    >>> HarmonizedQuestion("hours", "numeric", {"2023": "hours"}).comparable
    True
    """

    id: str
    type: str
    source: Mapping[str, str]
    categories: tuple[str, ...] = ()
    maps: Mapping[str, Mapping[int, Mapping[str, float]]] = field(default_factory=dict)
    options: Mapping[str, Mapping[str, int | None]] = field(default_factory=dict)
    option_notes: Mapping[str, str] = field(default_factory=dict)
    not_comparable_codes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    comparable: bool = True
    reason: str = ""
    wording: Mapping[str, str] = field(default_factory=dict)
    note: str = ""

    @property
    def wording_changed(self) -> bool:
        """Whether the question text differs between any two waves."""
        return len(set(self.wording.values())) > 1


@dataclass(frozen=True)
class Indicator:
    """A harmonised indicator (a mean or a proportion built from one harmonised question).

    Examples
    --------
    >>> Indicator("hours", "每周工作小时", "hours", "mean").kind
    'mean'
    """

    id: str
    label: str
    question: str
    kind: str
    categories: tuple[str, ...] = ()
    option: str | None = None
    top: int | None = None
    at_least: float | None = None
    scores: Mapping[str, float] | None = None
    comparable: bool = True
    reason: str = ""
    footnotes: tuple[str, ...] = ()


def _fail(problems: list[str], where: str) -> None:
    if problems:
        msg = "\n  - ".join(problems)
        raise HarmonizationError(f"{where}: the harmonisation map does not line up with the "
                                 f"questionnaires:\n  - {msg}")


def _codes_of(q: Any) -> dict[int, str]:
    """Substantive codes (no missing codes) of a single/multi/rank question or a scale."""
    base = dict(q.scale if q.type in ("matrix", "likert") else q.options)
    for c in q.missing:
        base.pop(c, None)
    return base


class Harmonization:
    """The cross-wave harmonisation map, checked against every wave's questionnaire.

    Build it with :meth:`load` (YAML) or :meth:`from_dict`.  ``waves`` are ordered (oldest
    first); ``questions`` maps harmonised question ids to :class:`HarmonizedQuestion` and
    ``indicators`` lists :class:`Indicator` objects.

    YAML format (``questionnaires/harmonization.yml``)::

        waves:                          # wave id -> its questionnaire (relative to this file)
          "2023": demo-2023/questionnaire.yml
          "2024": demo-2024/questionnaire.yml
        questions:
          hours: {}                     # same id, same codes in every wave
          income:
            same_as: {"2024": income}   # the question id in a wave (default: the same id)
            categories: [10万元以下, 10万-20万元, 20万-30万元, 30万元及以上]
            codes:                      # wave -> code -> category (merge: several codes -> one)
              "2023": {1: 10万元以下, 2: 10万-20万元, 3: 20万-30万元, 4: 30万元及以上}
              "2024": {1: 10万元以下, 2: 10万-20万元, 3: 10万-20万元, 4: 20万-30万元, ...}
              # split: "2023": {2: {10万-15万元: 0.6, 15万-20万元: 0.4}}  (declared shares)
              # a code without counterpart: "2024": {7: not comparable}
          policy_aware:                 # multi/rank: harmonised option -> code per wave
            options:
              科研减负专项行动: {"2023": 1, "2024": 1}
              青年人才住房补贴: {"2023": null, "2024": 5}
            not_comparable: {以上都不了解: "2024 added an option"}
          jianfu_effect: {comparable: false, reason: "..."}
        indicators:
          - {id: hours, question: hours, kind: mean, label: 周工作小时}
          - {id: income_20w_plus, question: income, kind: proportion,
             categories: [20万-30万元, 30万元及以上]}
          - {id: aware_jianfu, question: policy_aware, kind: proportion, option: 科研减负专项行动}
          - {id: burnout_high, question: burnout, kind: proportion, at_least: 3.5}

    Indicator kinds: ``mean`` of a numeric question, of a likert/matrix block (row mean,
    ``reversed`` rows flipped), or of a single question's category score (``scores:``, default
    1..k in category order); ``proportion`` of ``categories`` (single), of ``option`` (multi;
    rank with ``top: k``), or of a score ``>= at_least``.

    Examples
    --------
    Two waves whose income question changed its categories (2024 split code 2):

    >>> from survey import Questionnaire
    >>> def wave(w, opts):
    ...     return Questionnaire.from_dict({"wave": {"id": w}, "questions": [
    ...         {"id": "income", "type": "single", "text": "年收入", "options": opts}]})
    >>> qs = {"2023": wave("2023", {1: "10万以下", 2: "10万及以上"}),
    ...       "2024": wave("2024", {1: "10万以下", 2: "10-20万", 3: "20万及以上"})}
    >>> h = Harmonization.from_dict({
    ...     "questions": {"income": {"categories": ["10万以下", "10万及以上"], "codes": {
    ...         "2023": {1: "10万以下", 2: "10万及以上"},
    ...         "2024": {1: "10万以下", 2: "10万及以上", 3: "10万及以上"}}}},
    ...     "indicators": [{"id": "income_10w_plus", "question": "income", "kind": "proportion",
    ...                     "categories": ["10万及以上"]}]}, qs)
    >>> h
    <Harmonization waves=['2023', '2024']: 1 questions, 1 indicators (0 not comparable)>
    >>> import pandas as pd
    >>> f = pd.DataFrame({"income": pd.Categorical(["10万以下", "10-20万", "20万及以上"])})
    >>> h.values(f, "2024", "income_10w_plus").tolist()
    [0.0, 1.0, 1.0]
    """

    def __init__(self, waves: Sequence[str], questionnaires: Mapping[str, Questionnaire],
                 questions: Mapping[str, HarmonizedQuestion], indicators: Sequence[Indicator],
                 *, path: str | None = None) -> None:
        self.waves = [str(w) for w in waves]
        self.questionnaires = dict(questionnaires)
        self.questions = dict(questions)
        self.indicators = list(indicators)
        self.path = path

    def __repr__(self) -> str:
        nc = sum(not i.comparable for i in self.indicators)
        return (f"<Harmonization waves={self.waves}: {len(self.questions)} questions, "
                f"{len(self.indicators)} indicators ({nc} not comparable)>")

    def indicator(self, ind: str) -> Indicator:
        """The indicator called ``ind`` (error listing the known ids otherwise).

        Parameters
        ----------
        ind : str
            Indicator id from the ``indicators:`` list.

        Returns
        -------
        Indicator

        Examples
        --------
        >>> q = {"wave": {"id": "a"}, "questions": [{"id": "x", "type": "numeric", "text": "X"}]}
        >>> qs = {"a": Questionnaire.from_dict(q), "b": Questionnaire.from_dict({**q, "wave": {"id": "b"}})}
        >>> h = Harmonization.from_dict({"questions": {"x": {}},
        ...     "indicators": [{"id": "x_mean", "question": "x", "kind": "mean", "label": "X 均值"}]}, qs)
        >>> h.indicator("x_mean").kind
        'mean'
        >>> h.indicator("y")
        Traceback (most recent call last):
        ...
        survey.errors.HarmonizationError: harmonisation: no indicator 'y'; known: ['x_mean']
        """
        for i in self.indicators:
            if i.id == ind:
                return i
        raise HarmonizationError(f"{self.path or 'harmonisation'}: no indicator {ind!r}; known: "
                                 f"{[i.id for i in self.indicators]}")

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path,
             questionnaires: Mapping[str, Questionnaire | str | Path] | None = None) -> "Harmonization":
        """Read ``harmonization.yml`` and check it against the questionnaires.

        Parameters
        ----------
        path : str or Path
            The YAML file.
        questionnaires : mapping wave -> Questionnaire or path, optional
            Default: the paths under ``waves:`` in the file (relative to it).

        Returns
        -------
        Harmonization

        Raises
        ------
        HarmonizationError
            Listing every problem (wave, question, codes) at once.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> q = {"wave": {"id": "a"}, "questions": [{"id": "x", "type": "numeric", "text": "X"}]}
        >>> qs = {"a": Questionnaire.from_dict(q), "b": Questionnaire.from_dict({**q, "wave": {"id": "b"}})}
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "harmonization.yml"
        >>> _ = p.write_text("{questions: {x: {}}, indicators: [{id: x, question: x, kind: mean}]}",
        ...                  encoding="utf-8")
        >>> Harmonization.load(p, qs).waves
        ['a', 'b']
        """
        from ._yaml import read_yaml

        p, raw, _ = read_yaml(path, error=HarmonizationError, what="harmonisation",
                              hint="see questionnaires/harmonization.yml for the format")
        if questionnaires is None:
            wv = raw.get("waves")
            if not isinstance(wv, Mapping):
                raise HarmonizationError(f"{p}: 'waves' must map wave id -> questionnaire path "
                                         "(or pass questionnaires={...})")
            questionnaires = {str(k): p.parent / str(v) for k, v in wv.items()}
        return cls.from_dict(raw, questionnaires, where=str(p))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any],
                  questionnaires: Mapping[str, Questionnaire | str | Path],
                  *, where: str = "harmonisation") -> "Harmonization":
        """Build and check a harmonisation from its dict form (see the class docstring).

        Parameters
        ----------
        raw : mapping
            The parsed YAML (``questions``, ``indicators``; ``waves`` is ignored here).
        questionnaires : mapping wave -> Questionnaire or path
            At least two waves, oldest first.
        where : str
            Names the source in error messages.

        Returns
        -------
        Harmonization

        Examples
        --------
        >>> q = {"wave": {"id": "a"}, "questions": [{"id": "x", "type": "numeric", "text": "X"}]}
        >>> qs = {"a": Questionnaire.from_dict(q), "b": Questionnaire.from_dict({**q, "wave": {"id": "b"}})}
        >>> h = Harmonization.from_dict({"questions": {"x": {}},
        ...     "indicators": [{"id": "x", "question": "x", "kind": "mean"}]}, qs)
        >>> h.waves, h.indicators[0].comparable
        (['a', 'b'], True)
        """
        qs: dict[str, Questionnaire] = {}
        for w, q in questionnaires.items():
            qs[str(w)] = q if isinstance(q, Questionnaire) else Questionnaire.load(q)
        waves = list(qs)
        if len(waves) < 2:
            raise HarmonizationError(f"{where}: give at least two waves (got {waves})")
        problems: list[str] = []
        allowed = {"waves", "questions", "indicators", "notes", "note"}
        for k in raw:
            if k not in allowed:
                problems.append(f"unknown top-level key {k!r} (use one of {sorted(allowed)})")
        rq = raw.get("questions") or {}
        if not isinstance(rq, Mapping):
            _fail([f"'questions' must be a mapping of harmonised id -> spec, got {type(rq).__name__}"], where)
        questions: dict[str, HarmonizedQuestion] = {}
        for hid, spec in rq.items():
            hq = _parse_question(str(hid), spec or {}, qs, problems)
            if hq is not None:
                questions[hq.id] = hq
        indicators: list[Indicator] = []
        seen: set[str] = set()
        for i, spec in enumerate(raw.get("indicators") or []):
            ind = _parse_indicator(i, spec, questions, qs, problems)
            if ind is None:
                continue
            if ind.id in seen:
                problems.append(f"indicator {ind.id!r} is defined twice; rename one")
            seen.add(ind.id)
            indicators.append(ind)
        _fail(problems, where)
        return cls(waves, qs, questions, indicators, path=where)

    # ------------------------------------------------------------------ applying
    def values(self, frame: pd.DataFrame, wave: str, indicator: str | Indicator) -> np.ndarray:
        """Per-respondent values of an indicator in one wave's analysis frame (NaN = not in base).

        Parameters
        ----------
        frame : DataFrame
            The wave's analysis frame.
        wave : str
            The wave id (one of :attr:`waves`).
        indicator : str or Indicator

        Returns
        -------
        numpy.ndarray
            float values (0/1 for a proportion), NaN outside the indicator's base.

        Examples
        --------
        >>> q = {"wave": {"id": "a"}, "questions": [{"id": "x", "type": "numeric", "text": "X"}]}
        >>> qs = {"a": Questionnaire.from_dict(q), "b": Questionnaire.from_dict({**q, "wave": {"id": "b"}})}
        >>> h = Harmonization.from_dict({"questions": {"x": {}}, "indicators": [
        ...     {"id": "x_big", "question": "x", "kind": "proportion", "at_least": 2}]}, qs)
        >>> h.values(pd.DataFrame({"x": [1.0, 3.0, None]}), "a", "x_big").tolist()
        [0.0, 1.0, nan]
        """
        ind = indicator if isinstance(indicator, Indicator) else self.indicator(indicator)
        wave = str(wave)
        if wave not in self.questionnaires:
            raise HarmonizationError(f"values: wave {wave!r} is not in the harmonisation "
                                     f"(waves: {self.waves})")
        hq = self.questions[ind.question]
        q = self.questionnaires[wave][hq.source[wave]]
        return _indicator_values(frame, q, hq, ind, wave)


def _parse_question(hid: str, spec: Any, qs: Mapping[str, Questionnaire],
                    problems: list[str]) -> HarmonizedQuestion | None:
    if not isinstance(spec, Mapping):
        problems.append(f"question {hid!r}: spec must be a mapping, got {spec!r}")
        return None
    known = {"same_as", "categories", "codes", "options", "not_comparable", "comparable", "reason",
             "note", "label"}
    bad = sorted(set(spec) - known)
    if bad:
        problems.append(f"question {hid!r}: unknown keys {bad} (use {sorted(known)})")
    same = dict(spec.get("same_as") or {})
    source: dict[str, str] = {}
    qobjs: dict[str, Any] = {}
    for w, q in qs.items():
        qid = str(same.get(w, same.get(int(w) if w.isdigit() else w, hid)))
        source[w] = qid
        if qid not in q:
            problems.append(f"wave {w!r}: question {qid!r} (harmonised {hid!r}) is not in the "
                            f"questionnaire; fix same_as or the id")
        else:
            qobjs[w] = q[qid]
    for w in same:
        if str(w) not in qs:
            problems.append(f"question {hid!r}: same_as names wave {w!r}, which is not one of {list(qs)}")
    if len(qobjs) < len(qs):
        return None
    types = {w: qo.type for w, qo in qobjs.items()}
    wording = {w: qo.text for w, qo in qobjs.items()}
    comparable = bool(spec.get("comparable", True))
    reason = str(spec.get("reason", "") or "")
    if not comparable and not reason:
        problems.append(f"question {hid!r}: comparable: false needs a reason: (it is shown in the report)")
    if len(set(types.values())) > 1 and comparable:
        problems.append(f"question {hid!r}: types differ across waves {types}; declare "
                        "comparable: false with a reason, or harmonise the types")
        return None
    qtype = next(iter(types.values()))
    categories: tuple[str, ...] = tuple(str(c) for c in spec.get("categories") or ())
    maps: dict[str, dict[int, dict[str, float]]] = {}
    nc_codes: dict[str, tuple[int, ...]] = {}
    options: dict[str, dict[str, int | None]] = {}
    option_notes: dict[str, str] = {}
    if qtype in ("single", "matrix", "likert") and comparable:
        codes_spec = spec.get("codes")
        if codes_spec is None:
            # identity by label: every wave must offer the same code -> label map
            base = {w: _codes_of(qo) for w, qo in qobjs.items()}
            first_w = next(iter(base))
            for w, cl in base.items():
                if cl != base[first_w]:
                    only_a = sorted(set(base[first_w].items()) - set(cl.items()))
                    only_b = sorted(set(cl.items()) - set(base[first_w].items()))
                    problems.append(
                        f"question {hid!r}: codes differ between wave {first_w!r} "
                        f"({source[first_w]}) and wave {w!r} ({source[w]}): only in {first_w}: "
                        f"{only_a}; only in {w}: {only_b}; declare codes: per wave (rename, merge, "
                        "split) or comparable: false")
            if not categories:
                categories = tuple(base[first_w].values())
            for w, cl in base.items():
                maps[w] = {c: {lab: 1.0} for c, lab in cl.items()}
        else:
            if not isinstance(codes_spec, Mapping):
                problems.append(f"question {hid!r}: codes must map wave -> code -> category")
                codes_spec = {}
            if not categories:
                problems.append(f"question {hid!r}: codes: given without categories: (the "
                                "harmonised categories, in order)")
            for w in codes_spec:
                if str(w) not in qs:
                    problems.append(f"question {hid!r}: codes: names wave {w!r}, which is not one "
                                    f"of {list(qs)}")
            for w, qo in qobjs.items():
                cm = codes_spec.get(w, codes_spec.get(int(w) if w.isdigit() else w))
                valid = _codes_of(qo)
                if cm is None:
                    problems.append(f"wave {w!r}, question {source[w]!r}: no codes: map for this "
                                    f"wave (its codes: {valid})")
                    continue
                m: dict[int, dict[str, float]] = {}
                ncs: list[int] = []
                for c, target in dict(cm).items():
                    try:
                        ci = int(c)
                    except (TypeError, ValueError):
                        problems.append(f"wave {w!r}, question {source[w]!r}: code {c!r} is not an integer")
                        continue
                    if ci not in valid:
                        problems.append(f"wave {w!r}, question {source[w]!r}: code {ci} is not an "
                                        f"option of the questionnaire (codes: {sorted(valid)})")
                        continue
                    if target is None or (isinstance(target, str) and target in _NC):
                        ncs.append(ci)
                        continue
                    if isinstance(target, Mapping):
                        shares = {str(k): float(v) for k, v in target.items()}
                        if abs(sum(shares.values()) - 1) > 1e-9 or min(shares.values()) < 0:
                            problems.append(f"wave {w!r}, question {source[w]!r}: split of code "
                                            f"{ci} has shares {shares} that do not sum to 1")
                    else:
                        shares = {str(target): 1.0}
                    unknown = [k for k in shares if k not in categories]
                    if unknown:
                        problems.append(f"wave {w!r}, question {source[w]!r}: code {ci} maps to "
                                        f"{unknown}, not among categories {list(categories)}")
                    m[ci] = shares
                missing = sorted(set(valid) - set(m) - set(ncs))
                if missing:
                    problems.append(
                        f"wave {w!r}, question {source[w]!r}: codes {missing} "
                        f"({[valid[c] for c in missing]}) are not mapped; map each to a harmonised "
                        "category or to 'not comparable'")
                maps[w] = m
                if ncs:
                    nc_codes[w] = tuple(sorted(ncs))
    elif qtype in ("multi", "rank") and comparable:
        ospec = spec.get("options")
        valid = {w: _codes_of(qo) for w, qo in qobjs.items()}
        if ospec is None:
            by_label = {w: {lab: c for c, lab in v.items()} for w, v in valid.items()}
            labels = list(dict.fromkeys(lab for v in by_label.values() for lab in v))
            for lab in labels:
                options[lab] = {w: by_label[w].get(lab) for w in qs}
        else:
            for lab, per in dict(ospec).items():
                per = dict(per or {})
                row: dict[str, int | None] = {}
                for w in qs:
                    c = per.get(w, per.get(int(w) if w.isdigit() else w, None))
                    if c is not None:
                        c = int(c)
                        if c not in valid[w]:
                            problems.append(f"wave {w!r}, question {source[w]!r}: option code {c} "
                                            f"(harmonised {lab!r}) is not an option (codes: "
                                            f"{sorted(valid[w])})")
                    row[w] = c
                options[str(lab)] = row
            for w in qs:
                used = {r[w] for r in options.values() if r[w] is not None}
                left = sorted(set(valid[w]) - used)
                if left:
                    problems.append(f"wave {w!r}, question {source[w]!r}: options {left} "
                                    f"({[valid[w][c] for c in left]}) are not in options:; "
                                    "add them (null in waves where they were not offered)")
        for lab, why in dict(spec.get("not_comparable") or {}).items():
            if str(lab) not in options:
                problems.append(f"question {hid!r}: not_comparable names option {lab!r}, which "
                                f"is not a harmonised option ({list(options)})")
            option_notes[str(lab)] = str(why)
        if qtype == "rank":
            ks = {w: qo.k for w, qo in qobjs.items()}
            if len(set(ks.values())) > 1:
                problems.append(f"question {hid!r}: ranked top-k differs across waves {ks}")
    return HarmonizedQuestion(hid, qtype, source, categories, maps, options, option_notes,
                              nc_codes, comparable, reason, wording, str(spec.get("note", "") or ""))


def _parse_indicator(i: int, spec: Any, questions: Mapping[str, HarmonizedQuestion],
                     qs: Mapping[str, Questionnaire], problems: list[str]) -> Indicator | None:
    if not isinstance(spec, Mapping) or "id" not in spec:
        problems.append(f"indicators[{i}]: each indicator needs id:, question:, kind:")
        return None
    iid = str(spec["id"])
    known = {"id", "label", "question", "kind", "categories", "option", "top", "at_least", "scores",
             "comparable", "reason", "note"}
    bad = sorted(set(spec) - known)
    if bad:
        problems.append(f"indicator {iid!r}: unknown keys {bad} (use {sorted(known)})")
    hid = str(spec.get("question", iid))
    kind = str(spec.get("kind", ""))
    if kind not in KINDS:
        problems.append(f"indicator {iid!r}: kind {kind!r} must be one of {KINDS}")
        return None
    if hid not in questions:
        problems.append(f"indicator {iid!r}: question {hid!r} is not a harmonised question "
                        f"(add it under questions:)")
        return None
    hq = questions[hid]
    label = str(spec.get("label") or iid)
    cats = tuple(str(c) for c in spec.get("categories") or ())
    option = spec.get("option")
    option = None if option is None else str(option)
    top = spec.get("top")
    at_least = spec.get("at_least")
    scores = spec.get("scores")
    comparable, reason = hq.comparable, hq.reason
    if spec.get("comparable") is False:
        comparable, reason = False, str(spec.get("reason") or "declared not comparable")
    notes: list[str] = []
    if comparable:
        t = hq.type
        if t == "single":
            if kind == "proportion" and not cats and at_least is None:
                problems.append(f"indicator {iid!r}: a proportion of single question {hid!r} needs "
                                f"categories: (from {list(hq.categories)})")
            for c in cats:
                if c not in hq.categories:
                    problems.append(f"indicator {iid!r}: category {c!r} is not a harmonised "
                                    f"category of {hid!r} ({list(hq.categories)})")
            if scores is not None:
                unknown = [k for k in scores if str(k) not in hq.categories]
                if unknown:
                    problems.append(f"indicator {iid!r}: scores for unknown categories {unknown}")
            if hq.not_comparable_codes:
                comparable = False
                reason = "; ".join(
                    f"{w} 年问卷 {hq.source[w]} 的代码 {list(c)} 无法对应" for w, c in
                    hq.not_comparable_codes.items())
        elif t in ("multi", "rank"):
            if kind != "proportion" or option is None:
                problems.append(f"indicator {iid!r}: a {t} question gives proportions of one "
                                f"option: set kind: proportion and option: (one of {list(hq.options)})")
            elif option not in hq.options:
                problems.append(f"indicator {iid!r}: option {option!r} is not a harmonised option "
                                f"of {hid!r} ({list(hq.options)})")
            else:
                absent = [w for w, c in hq.options[option].items() if c is None]
                if absent:
                    comparable = False
                    reason = f"选项“{option}”在 {', '.join(absent)} 年问卷中未提供"
                elif option in hq.option_notes:
                    comparable = False
                    reason = hq.option_notes[option]
            if t == "rank" and top is None:
                top = next(iter(qs.values()))[hq.source[next(iter(qs))]].k
        elif t in ("numeric", "duration"):
            if kind == "proportion" and at_least is None:
                problems.append(f"indicator {iid!r}: a proportion of numeric {hid!r} needs at_least:")
        elif t in ("matrix", "likert"):
            if kind == "proportion" and at_least is None:
                problems.append(f"indicator {iid!r}: a proportion of block {hid!r} needs at_least:")
            rows = {w: tuple(qs[w][hq.source[w]].rows) for w in qs}
            if len(set(rows.values())) > 1:
                problems.append(f"indicator {iid!r}: rows of {hid!r} differ across waves {rows}")
        else:
            problems.append(f"indicator {iid!r}: question {hid!r} has type {t!r}, which gives "
                            "no mean or proportion")
    if comparable and hq.wording_changed:
        texts = "；".join(f"{w}：{t}" for w, t in hq.wording.items())
        notes.append(f"问题措辞有变（{texts}），比较时请注意。")
    if comparable and hq.type == "single" and any(
            len(s) > 1 for m in hq.maps.values() for s in m.values()):
        notes.append("部分答案类别按声明的比例拆分后比较。")
    if comparable and hq.type == "single" and hq.maps:
        ws = list(hq.maps)
        if any(hq.maps[w] != hq.maps[ws[0]] for w in ws[1:]):
            notes.append("答案类别经重新编码/合并后比较。")
    if spec.get("note"):
        notes.append(str(spec["note"]))
    return Indicator(iid, label, hid, kind, cats, option,
                     None if top is None else int(top),
                     None if at_least is None else float(at_least),
                     None if scores is None else {str(k): float(v) for k, v in scores.items()},
                     comparable, reason, tuple(notes))


def _indicator_values(frame: pd.DataFrame, q: Any, hq: HarmonizedQuestion, ind: Indicator,
                      wave: str) -> np.ndarray:
    n = len(frame)

    def col(c: str) -> pd.Series:
        if c not in frame.columns:
            raise HarmonizationError(f"wave {wave!r}: column {c!r} (question {q.id!r}, indicator "
                                     f"{ind.id!r}) is not in the data")
        return frame[c]

    t = hq.type
    if t in ("numeric", "duration"):
        y = pd.to_numeric(col(q.id), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        score = y
    elif t in ("matrix", "likert"):
        valid = _codes_of(q)
        lo, hi = min(valid), max(valid)
        blocks = []
        for r in q.rows:
            v = pd.to_numeric(col(f"{q.id}_{r}"), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            v = np.where(np.isin(v, list(valid)), v, np.nan)
            if r in q.reversed:
                v = lo + hi - v
            blocks.append(v)
        score = np.mean(np.column_stack(blocks), axis=1)
    elif t == "single":
        s = col(q.id)
        lab2code = {lab: c for c, lab in q.labels.items()}
        codes = s.astype(object).map(lambda x: lab2code.get(x, np.nan) if isinstance(x, str)
                                     else (x if pd.notna(x) else np.nan))
        codes = pd.to_numeric(codes, errors="coerce").to_numpy(dtype=float)
        m = hq.maps[wave]
        K = len(hq.categories)
        cat_idx = {c: j for j, c in enumerate(hq.categories)}
        # one row of category shares per code (vectorised lookup through a small table)
        table_codes = np.array(sorted(m), dtype=float)
        shares = np.zeros((len(table_codes), K))
        for r, c in enumerate(sorted(m)):
            for lab, sh in m[c].items():
                shares[r, cat_idx[lab]] = sh
        pos = np.searchsorted(table_codes, np.nan_to_num(codes, nan=-1e18))
        pos = np.clip(pos, 0, max(len(table_codes) - 1, 0))
        ok = (~np.isnan(codes)) & (len(table_codes) > 0)
        ok &= np.where(ok, table_codes[pos] == codes, False)
        S = np.where(ok[:, None], shares[pos], np.nan)
        if ind.kind == "proportion" and ind.at_least is None:
            sel = np.array([c in ind.categories for c in hq.categories], dtype=float)
            return S @ sel
        sc = np.array([(ind.scores or {}).get(c, j + 1.0) for j, c in enumerate(hq.categories)])
        score = S @ sc
    elif t in ("multi", "rank"):
        c = hq.options[ind.option][wave]
        s = col(f"{q.id}_{c}")
        if t == "multi":
            return s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        r = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        answered = frame[[f"{q.id}_{k}" for k in q.options]].notna().any(axis=1).to_numpy()
        return np.where(answered, (np.nan_to_num(r, nan=np.inf) <= ind.top).astype(float), np.nan)
    else:  # pragma: no cover - rejected when loading
        raise HarmonizationError(f"indicator {ind.id!r}: unsupported question type {t!r}")
    if ind.kind == "proportion":
        return np.where(np.isnan(score), np.nan, (score >= ind.at_least - 1e-12).astype(float))
    return score.astype(float) if n else np.zeros(0)


def not_comparable(harmonization: Harmonization | "StackedWaves") -> pd.DataFrame:
    """The indicators (and whole questions) that cannot be compared across waves, and why.

    Examples
    --------
    >>> q = {"wave": {"id": "a"}, "questions": [{"id": "x", "type": "numeric", "text": "X"}]}
    >>> qs = {"a": Questionnaire.from_dict(q), "b": Questionnaire.from_dict({**q, "wave": {"id": "b"}})}
    >>> h = Harmonization.from_dict({"questions": {"x": {"comparable": False, "reason": "口径变化"}},
    ...     "indicators": [{"id": "x", "question": "x", "kind": "mean"}]}, qs)
    >>> not_comparable(h)["reason"].tolist()
    ['口径变化']
    """
    h = harmonization.harmonization if isinstance(harmonization, StackedWaves) else harmonization
    rows = []
    used = set()
    for i in h.indicators:
        if not i.comparable:
            rows.append({"indicator": i.id, "label": i.label, "question": i.question,
                         "reason": i.reason})
            used.add(i.question)
    for hq in h.questions.values():
        if not hq.comparable and hq.id not in used:
            rows.append({"indicator": "", "label": hq.id, "question": hq.id, "reason": hq.reason})
    return pd.DataFrame(rows, columns=["indicator", "label", "question", "reason"])


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

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"y": np.arange(8.0), "st": [1] * 4 + [2] * 4, "c": [1, 1, 2, 2, 3, 3, 4, 4]})
    >>> d = SurveyDesign(df, strata="st", psu="c")
    >>> s = stack_waves({"2023": d, "2024": d}, indicators=["y"])
    >>> s.waves, len(s.data), s.design.n
    (['2023', '2024'], 16, 16)
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

    @property
    def waves(self) -> list[str]:
        """The wave ids, in time order."""
        return list(self.designs)

    def __repr__(self) -> str:
        n = {w: int(len(r)) for w, r in self.rows.items()}
        return (f"<StackedWaves {n}; {len(self.indicators)} indicators; "
                f"{len(self.panel_psus)} panel PSUs>")


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
        keep = [g for g in groups if all(g in d._data.columns for d in designs.values())]
    keep = list(keep)
    # panel PSUs
    psu_ids: dict[str, pd.Series] = {}
    st_ids: dict[str, pd.Series] = {}
    for w, d in designs.items():
        psu, st = _design_cols(d, w)
        n = d.n_rows
        psu_ids[w] = (d._data[psu].astype(str) if psu else
                      pd.Series([f"row{i}" for i in range(n)], dtype="str")).reset_index(drop=True)
        st_ids[w] = (d._data[st].astype(str) if st else pd.Series(["1"] * n, dtype="str")).reset_index(drop=True)
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
        df = d._data
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
# change estimates
# ----------------------------------------------------------------------------------------------
def _as_stacked(obj: Any, indicator: str | Sequence[str], panel_psus: Any,
                by_cols: Sequence[str]) -> StackedWaves:
    if isinstance(obj, StackedWaves):
        return obj
    if isinstance(obj, Mapping):
        inds = [indicator] if isinstance(indicator, str) else list(indicator)
        for b in by_cols:
            for w, d in obj.items():
                if b not in d._data.columns:
                    raise EstimationError(f"change: by variable {b!r} is not in wave {w!r}'s data")
        return stack_waves(obj, None, panel_psus, indicators=inds, keep=list(by_cols))
    raise DesignError(f"change: expected StackedWaves or a mapping wave -> SurveyDesign, got "
                      f"{type(obj).__name__}")


def _estimates(S: StackedWaves, ind: str, by: Sequence[str], waves: Sequence[str]):
    """Estimates, covariance, counts and domain table for (wave, domain) columns."""
    data = S.data
    design = S.design
    y = data[ind].to_numpy(dtype=float)
    n = len(data)
    if by:
        for b in by:
            if b not in data.columns:
                raise EstimationError(f"change: by variable {b!r} is not in the stacked data "
                                      f"(available: {[c for c in data.columns if not c.startswith('_')][:20]})")
        dom, levels = design.domain_index(list(by))
    else:
        dom, levels = np.zeros(n, dtype=np.int64), None
    D = 1 if levels is None else len(levels)
    W = len(waves)
    w = design.weights
    col = np.full(n, -1, dtype=np.int64)
    for j, wv in enumerate(waves):
        r = S.rows[wv]
        col[r] = np.where(dom[r] >= 0, j * D + dom[r], -1)
    ok = (col >= 0) & ~np.isnan(y)
    P = W * D
    c0 = np.where(ok, col, 0)
    N = np.bincount(c0[ok], weights=w[ok], minlength=P)
    T = np.bincount(c0[ok], weights=(w * np.nan_to_num(y))[ok], minlength=P)
    cnt = np.bincount(c0[ok], weights=(w[ok] > 0).astype(float), minlength=P)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = T / N
    # influence values (n x P, sparse in structure: one column per row) -> dense per wave block
    infl = np.zeros((n, P))
    idx = np.flatnonzero(ok)
    with np.errstate(invalid="ignore", divide="ignore"):
        infl[idx, col[idx]] = w[idx] * (y[idx] - est[col[idx]]) / N[col[idx]]
    infl = np.nan_to_num(infl)
    for j, wv in enumerate(waves):
        d = S.designs[wv]
        if d.calibrations:
            r = S.rows[wv]
            cols = slice(j * D, (j + 1) * D)
            infl[r, cols] = residualize(d, infl[r, cols])
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(w[:, None] > 0, infl / w[:, None], 0.0)
    V = vcov_totals(design, z, present=np.ones(n, dtype=bool))
    return est.reshape(W, D), V, cnt.reshape(W, D), levels, D


def change(stacked_or_designs: StackedWaves | Mapping[str, SurveyDesign], indicator: str,
           kind: str | None = None, by: str | Sequence[str] | None = None, level: float = 0.95,
           *, waves: Sequence[str] | None = None, panel_psus: Any = None,
           df: float | None = None) -> pd.DataFrame:
    """Change of a mean or proportion between two waves, overall or by domain, with its SE.

    Parameters
    ----------
    stacked_or_designs : StackedWaves or mapping wave -> SurveyDesign
        A :func:`stack_waves` result, or wave designs whose data hold ``indicator`` as a numeric
        (or 0/1 / boolean) column — the general entry point for other modules.
    indicator : str
        Indicator id (a column of the stacked data).
    kind : {"mean", "proportion"}, optional
        Only labels the output (a proportion is the mean of a 0/1 indicator); checked to be 0/1
        for ``"proportion"``.  Default: the harmonised indicator's kind, else ``"mean"``.
    by : str or list of str, optional
        Domain variable(s) present in every wave.
    level : float
        Confidence level of the intervals and the test (significant when ``p < 1 - level``).
    waves : (wave_a, wave_b), optional
        The two waves compared, ``b − a`` (default: the first and the last).
    panel_psus : optional
        With designs (not a StackedWaves): PSUs shared across waves (see :func:`stack_waves`).
    df : float, optional
        Degrees of freedom of the t reference (default: the stacked design's).

    Returns
    -------
    DataFrame
        One row per domain: ``indicator, kind, <by...>, wave_a, wave_b, estimate_a, se_a,
        estimate_b, se_b, change, se, ci_low, ci_high, t, p, df, significant, cov, n_a, n_b``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"y": [1.0, 0, 1, 1, 0, 1, 0, 0], "c": [1, 1, 2, 2, 3, 3, 4, 4]})
    >>> a = SurveyDesign(df, psu="c")
    >>> b = SurveyDesign(df.assign(y=[1.0, 1, 1, 1, 0, 1, 1, 0]), psu="c")
    >>> r = change({"2023": a, "2024": b}, "y", kind="proportion")
    >>> round(float(r["change"].iloc[0]), 3), round(float(r["se"].iloc[0]), 4)
    (0.25, 0.25)
    """
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    S = _as_stacked(stacked_or_designs, indicator, panel_psus, by_cols)
    if indicator not in S.indicators:
        raise EstimationError(f"change: indicator {indicator!r} is not in the stacked waves "
                              f"(indicators: {S.indicators})")
    h = S.harmonization
    if kind is None:
        kind = h.indicator(indicator).kind if h is not None else "mean"
    if kind not in KINDS:
        raise EstimationError(f"change: kind={kind!r} must be 'mean' or 'proportion'")
    y = S.data[indicator].to_numpy(dtype=float)
    if kind == "proportion":
        v = y[~np.isnan(y)]
        if ((v < -1e-12) | (v > 1 + 1e-12)).any():
            raise EstimationError(f"change: indicator {indicator!r} has values outside [0, 1]; "
                                  "use kind='mean' or recode it to 0/1")
    allw = S.waves
    if waves is None:
        waves = (allw[0], allw[-1])
    waves = [str(x) for x in waves]
    if len(waves) != 2 or any(x not in allw for x in waves) or waves[0] == waves[1]:
        raise EstimationError(f"change: waves={waves} must be two different waves of {allw}")
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    est, V, cnt, levels, D = _estimates(S, indicator, by_cols, waves)
    var = np.diag(V)
    ia, ib = np.arange(D), D + np.arange(D)
    diff = est[1] - est[0]
    cov = V[ia, ib]
    vd = var[ia] + var[ib] - 2 * cov
    se = np.sqrt(np.maximum(vd, 0))
    dof = float(S.design.df if df is None else df)
    if not 0 < level < 1:
        raise EstimationError(f"change: level={level!r} must be between 0 and 1")
    tq = stats.t.ppf(0.5 + level / 2, dof) if np.isfinite(dof) else stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = diff / se
    p = 2 * stats.t.sf(np.abs(t), dof)
    out = pd.DataFrame({
        "indicator": indicator, "kind": kind, "wave_a": waves[0], "wave_b": waves[1],
        "estimate_a": est[0], "se_a": np.sqrt(var[ia]), "estimate_b": est[1],
        "se_b": np.sqrt(var[ib]), "change": diff, "se": se, "ci_low": diff - tq * se,
        "ci_high": diff + tq * se, "t": t, "p": p, "df": dof,
        "significant": np.where(np.isnan(p), False, p < 1 - level), "cov": cov,
        "n_a": cnt[0].astype(int), "n_b": cnt[1].astype(int)})
    if levels is not None:
        for j, b in enumerate(by_cols):
            out.insert(2 + j, b, levels[b].to_numpy())
    out.attrs.update({"level": level, "panel_psus": len(S.panel_psus)})
    return out


def _wave_values(S: StackedWaves, ind: str, by: list[str], level: float) -> pd.DataFrame:
    est, V, cnt, levels, D = _estimates(S, ind, by, S.waves)
    se = np.sqrt(np.maximum(np.diag(V), 0)).reshape(len(S.waves), D)
    tq = stats.t.ppf(0.5 + level / 2, float(S.design.df))
    lo, hi = est - tq * se, est + tq * se
    h = S.harmonization
    if h is not None and h.indicator(ind).kind == "proportion":  # the report's rule for shares
        from .estimate import prop_ci
        lo, hi = prop_ci(est, se, np.full(est.shape, float(S.design.df)), cnt, level, "published")
    rows = []
    for j, w in enumerate(S.waves):
        for d in range(D):
            r = {"indicator": ind, "wave": w, "estimate": est[j, d], "se": se[j, d],
                 "ci_low": lo[j, d], "ci_high": hi[j, d], "n": int(cnt[j, d])}
            if levels is not None:
                for b in by:
                    r[b] = levels[b].iloc[d]
            rows.append(r)
    return pd.DataFrame(rows)


def trend_table(stacked: StackedWaves, indicators: Sequence[str] | None = None, *,
                by: str | Sequence[str] | None = None, level: float = 0.95,
                waves: Sequence[str] | None = None) -> pd.DataFrame:
    """Every harmonised indicator with its value in each wave and the change between two waves.

    Parameters
    ----------
    stacked : StackedWaves
    indicators : sequence of str, optional
        Default: every indicator of the stacked waves (all comparable by construction).
    by : str or list, optional
        Domains.
    level : float
    waves : (wave_a, wave_b), optional
        The compared pair (default first and last).

    Returns
    -------
    DataFrame
        ``indicator, label, kind, [by], est_<wave> and se_<wave> for each wave, change, se,
        ci_low, ci_high, p, p_adj, significant, footnote``; ``attrs["waves"]``.  The rows are
        one family: ``p_adj`` is Holm-adjusted over them (:mod:`survey.multiplicity`, the
        report's one rule) and ``significant`` is ``p_adj < 1 − level`` (the interval
        ``ci_low``–``ci_high`` stays the unadjusted per-comparison interval).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"y": np.arange(8.0), "c": [1, 1, 2, 2, 3, 3, 4, 4]})
    >>> s = stack_waves({"a": SurveyDesign(df, psu="c"), "b": SurveyDesign(df.assign(y=df.y + 1), psu="c")},
    ...                 indicators=["y"])
    >>> trend_table(s)[["est_a", "est_b", "change"]].round(2).values.tolist()
    [[3.5, 4.5, 1.0]]
    """
    inds = list(stacked.indicators if indicators is None else indicators)
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    h = stacked.harmonization
    out = []
    for ind in inds:
        ch = change(stacked, ind, by=by_cols or None, level=level, waves=waves)
        vals = _wave_values(stacked, ind, by_cols, level)
        rec = ch[[*by_cols, "change", "se", "ci_low", "ci_high", "p", "significant"]].copy()
        for w in stacked.waves:
            v = vals[vals["wave"] == w].reset_index(drop=True)
            rec[f"est_{w}"] = v["estimate"].to_numpy()
            rec[f"se_{w}"] = v["se"].to_numpy()
        meta = h.indicator(ind) if h is not None else None
        rec.insert(0, "indicator", ind)
        rec.insert(1, "label", meta.label if meta else ind)
        rec.insert(2, "kind", ch["kind"].iloc[0])
        rec["footnote"] = " ".join(meta.footnotes) if meta else ""
        out.append(rec)
    tab = pd.concat(out, ignore_index=True)
    from .multiplicity import holm_significant

    tab["p_adj"], tab["significant"] = holm_significant(tab["p"].to_numpy(float), 1 - level)
    first = ["indicator", "label", "kind", *by_cols]
    wcols = [c for w in stacked.waves for c in (f"est_{w}", f"se_{w}")]
    tab = tab[first + wcols + ["change", "se", "ci_low", "ci_high", "p", "p_adj", "significant",
                               "footnote"]]
    tab.attrs.update({"waves": stacked.waves, "compared": list(waves or (stacked.waves[0], stacked.waves[-1])),
                      "level": level})
    return tab


def wave_estimates(stacked: StackedWaves, indicator: str, *, by: str | Sequence[str] | None = None,
                   level: float = 0.95) -> pd.DataFrame:
    """The estimate of *indicator* in every wave of *stacked* (overall or by domain), with its SE
    and confidence interval (proportions: the report's published interval rule).

    Returns
    -------
    DataFrame
        ``indicator, wave, estimate, se, ci_low, ci_high, n`` (and the *by* columns), one row per
        wave (× domain), waves in order.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"y": np.arange(8.0), "c": [1, 1, 2, 2, 3, 3, 4, 4]})
    >>> s = stack_waves({"a": SurveyDesign(df, psu="c"), "b": SurveyDesign(df.assign(y=df.y + 1), psu="c")},
    ...                 indicators=["y"])
    >>> wave_estimates(s, "y")[["wave", "estimate"]].values.tolist()
    [['a', 3.5], ['b', 4.5]]
    """
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    return _wave_values(stacked, indicator, by_cols, level)


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
    from .weighting import load_targets
    from .weighting.targets import Targets

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

    from .demo import build_wave, population_yaml
    from .weighting import load_targets

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


def load_for_waves(path: str | Path, questionnaires: Mapping[str, Questionnaire]) -> Harmonization:
    """Load ``harmonization.yml`` checked against the questionnaires the waves were prepared with.

    The keys of *questionnaires* are the questionnaires' own wave ids (``wave: id:``), which
    are the wave ids of the harmonisation file; the file's ``waves:`` paths are used only for
    waves not given here.

    Raises
    ------
    HarmonizationError
        A wave the report compares is not in the file (names the wave and the file's waves).

    Examples
    --------
    >>> load_for_waves("questionnaires/harmonization.yml", {})  # doctest: +SKIP
    """
    from ._yaml import read_yaml

    p, raw, _ = read_yaml(path, error=HarmonizationError, what="harmonisation",
                          hint="see questionnaires/harmonization.yml for the format")
    wv = raw.get("waves")
    if not isinstance(wv, Mapping):
        raise HarmonizationError(f"{p}: 'waves' must map wave id -> questionnaire path")
    files = {str(k): p.parent / str(v) for k, v in wv.items()}
    unknown = [w for w in questionnaires if w not in files]
    if unknown:
        raise HarmonizationError(
            f"{p}: wave(s) {unknown} are not in the harmonisation (its waves: {list(files)}); the "
            "keys of waves: are the questionnaires' own wave ids (wave: id: in questionnaire.yml); "
            "add each compared wave with its question and code maps")
    qs: dict[str, Any] = {w: questionnaires.get(w, f) for w, f in files.items()}
    return Harmonization.from_dict(raw, qs, where=str(p))
