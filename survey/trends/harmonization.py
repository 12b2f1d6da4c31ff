"""The cross-wave map: ``questionnaires/harmonization.yml`` as :class:`Harmonization`.

Which question of each wave is the same as which, how answer codes map onto common (harmonised)
categories (rename, merge, split with declared shares, "not comparable"), and which indicators
are built from them.  :meth:`Harmonization.load` / :func:`load_for_waves` check the map against
every wave's questionnaire and raise one :class:`~survey.errors.HarmonizationError` listing each
problem with the wave, the question and the codes.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import HarmonizationError
from ..labels import wave_name
from ..questionnaire import Questionnaire

__all__ = ["KINDS", "Harmonization", "HarmonizedQuestion", "Indicator", "not_comparable",
           "load_for_waves"]

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
        from .._yaml import read_yaml

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
                    f"{wave_name(w)}问卷 {hq.source[w]} 的代码 {list(c)} 无法对应" for w, c in
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
                    reason = f"选项“{option}”在{'、'.join(map(wave_name, absent))}问卷中未提供"
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


def not_comparable(harmonization: Harmonization | Any) -> pd.DataFrame:
    """The indicators (and whole questions) that cannot be compared across waves, and why.

    *harmonization* is a :class:`Harmonization` or a :class:`~survey.trends.StackedWaves` (its
    ``.harmonization``).

    Examples
    --------
    >>> q = {"wave": {"id": "a"}, "questions": [{"id": "x", "type": "numeric", "text": "X"}]}
    >>> qs = {"a": Questionnaire.from_dict(q), "b": Questionnaire.from_dict({**q, "wave": {"id": "b"}})}
    >>> h = Harmonization.from_dict({"questions": {"x": {"comparable": False, "reason": "口径变化"}},
    ...     "indicators": [{"id": "x", "question": "x", "kind": "mean"}]}, qs)
    >>> not_comparable(h)["reason"].tolist()
    ['口径变化']
    """
    h = harmonization if isinstance(harmonization, Harmonization) else harmonization.harmonization
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
    from .._yaml import read_yaml

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
