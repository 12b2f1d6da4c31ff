"""The cleaning-rule registry: every rule is declared once, and the rest follows from it.

A declaration gives a rule its name, the *phase* it runs in, its default action, its thresholds
(each with a default and a check), the function that applies it and a line saying what it
logs.  From the declarations follow

- ``DEFAULT_RULES`` (:meth:`RuleRegistry.defaults`): ``enabled``, ``action`` and the thresholds
  of every rule configured by a mapping, in report order;
- the run order (:meth:`RuleRegistry.steps`): phase by phase (``cell`` → ``duplicate`` →
  ``respondent``, see :data:`PHASES`), within a phase in declaration order;
- the report order (:meth:`RuleRegistry.names`, :meth:`RuleRegistry.rank`): a rule is
  reported where its last step runs (the log is sorted by it, the summary lists rules in it,
  and a respondent matched by several drop rules is dropped by the first);
- the validation of the ``cleaning:`` section and of ``rules=`` (:meth:`RuleRegistry.settings`).

A rule may run in two phases (the declared ``checks`` blank cells in the cell phase and drop
respondents in the respondent phase): its first step is declared with :meth:`RuleRegistry.declare`,
the other with :meth:`RuleRegistry.also`.

Examples
--------
>>> from survey.clean.registry import RuleRegistry, Param, number
>>> reg = RuleRegistry()
>>> @reg.declare("too_old", phase="cell", action="blank", logs="one row per age blanked",
...              max_age=Param(100, number))
... def too_old(engine, settings):
...     pass
>>> reg.defaults()
{'too_old': {'enabled': True, 'action': 'blank', 'max_age': 100}}
>>> reg["too_young"]
Traceback (most recent call last):
...
survey.errors.CleaningError: unknown cleaning rule 'too_young'; valid rules: too_old
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from ..errors import CleaningError
from ..questionnaire import Questionnaire

__all__ = ["PHASES", "ACTIONS", "Param", "Rule", "Step", "RuleRegistry", "number", "share"]

#: The phases of one cleaning pass, in run order.  ``cell`` rules blank (or flag) single
#: values; ``duplicate`` rules drop all but one submission of a group at once; ``respondent``
#: rules each mark suspects, and the engine then drops every suspect once, under the first
#: rule (in run order) that matched it.
PHASES = ("cell", "duplicate", "respondent")
#: The actions a rule of each phase may be configured with.
ACTIONS = {"cell": ("blank", "flag"), "duplicate": ("drop", "flag"),
           "respondent": ("drop", "flag")}


def number(v: Any, q: Questionnaire) -> str | None:
    """Check of a threshold that is a non-negative number; the error text or None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        return f"must be a non-negative number, not {v!r}"
    return None


def share(v: Any, q: Questionnaire) -> str | None:
    """Check of a threshold that is a share in [0, 1]; the error text or None."""
    bad = number(v, q)
    if bad is None and v > 1:
        return f"is a share and must lie in [0, 1], not {v!r}"
    return bad


@dataclass(frozen=True)
class Param:
    """One threshold of a rule: its default and the check of a configured value.

    ``check(value, questionnaire)`` returns the error text (without the rule and key, which
    the registry adds) or None when the value is fine; None for no check.
    """

    default: Any
    check: Callable[[Any, Questionnaire], str | None] | None = None


@dataclass(frozen=True)
class Rule:
    """A declared cleaning rule (what a ``cleaning:`` key configures)."""

    name: str
    action: str | None
    params: Mapping[str, Param]
    logs: str
    parse: Callable[[Any, Questionnaire, str], Any] | None = None
    default: Any = None

    def defaults(self) -> Any:
        """The rule's default settings (a fresh copy)."""
        if self.parse is not None:
            return copy.deepcopy(self.default)
        return {"enabled": True, "action": self.action,
                **{k: copy.deepcopy(p.default) for k, p in self.params.items()}}

    @staticmethod
    def enabled(settings: Any) -> bool:
        """Whether the rule runs with these settings (a list rule runs when it is non-empty)."""
        if isinstance(settings, Mapping):
            return bool(settings["enabled"])
        return bool(settings)


@dataclass(frozen=True)
class Step:
    """One step of the run: ``apply(engine, settings)`` of ``rule`` in ``phase``."""

    rule: Rule
    phase: str
    apply: Callable[[Any, Any], Any]

    @property
    def name(self) -> str:
        return self.rule.name


@dataclass
class RuleRegistry:
    """The declared rules and their steps, in declaration order."""

    rules: dict[str, Rule] = field(default_factory=dict)
    _steps: list[Step] = field(default_factory=list)

    # ------------------------------------------------------------------ declaring
    def declare(self, name: str, *, phase: str, logs: str, action: str | None = None,
                parse: Callable[[Any, Questionnaire, str], Any] | None = None,
                default: Any = None, **params: Param) -> Callable[[Callable], Callable]:
        """Decorator declaring rule ``name`` whose (first) step is the decorated function.

        Parameters
        ----------
        name : str
            The key of the rule in ``cleaning:`` and in the log's ``rule`` column.
        phase : {"cell", "duplicate", "respondent"}
        logs : str
            What one log row of the rule records (documentation, listed by :meth:`describe`).
        action : str
            The default action, one of ``ACTIONS[phase]``.
        parse, default : optional
            For a rule configured by something other than a mapping (the ``checks`` list):
            ``parse(value, questionnaire, where)`` validates and normalises the configured
            value; ``default`` is the value when not configured.
        **params : Param
            The thresholds, in the order they are listed in ``DEFAULT_RULES``.

        Examples
        --------
        >>> reg = RuleRegistry()
        >>> @reg.declare("a", phase="cell", action="flag", logs="one row per flagged cell")
        ... def a(engine, settings):
        ...     pass
        >>> [s.name for s in reg.steps("cell")]
        ['a']
        """
        if name in self.rules:
            raise CleaningError(f"cleaning rule {name!r} is declared twice; declare a rule "
                                "once and add a step in another phase with .also()")
        self._phase(name, phase)
        if parse is None and action not in ACTIONS[phase]:
            raise CleaningError(f"cleaning rule {name!r}: default action {action!r} is not one "
                                f"of {list(ACTIONS[phase])} (phase {phase!r})")
        rule = Rule(name=name, action=action, params=dict(params), logs=logs, parse=parse,
                    default=default)

        def deco(fn: Callable) -> Callable:
            self.rules[name] = rule
            self._steps.append(Step(rule, phase, fn))
            return fn
        return deco

    def also(self, name: str, *, phase: str) -> Callable[[Callable], Callable]:
        """Decorator adding a step of the declared rule ``name`` in another phase.

        Examples
        --------
        >>> reg = RuleRegistry()
        >>> @reg.declare("c", phase="cell", logs="...", parse=lambda v, q, w: v, default=[])
        ... def c_cells(engine, checks):
        ...     pass
        >>> @reg.also("c", phase="respondent")
        ... def c_drops(engine, checks):
        ...     pass
        >>> [(s.name, s.phase) for s in reg.steps()]
        [('c', 'cell'), ('c', 'respondent')]
        """
        rule = self[name]
        self._phase(name, phase)
        if any(s.name == name and s.phase == phase for s in self._steps):
            raise CleaningError(f"cleaning rule {name!r} already has a step in phase {phase!r}")

        def deco(fn: Callable) -> Callable:
            self._steps.append(Step(rule, phase, fn))
            return fn
        return deco

    @staticmethod
    def _phase(name: str, phase: str) -> None:
        if phase not in PHASES:
            raise CleaningError(f"cleaning rule {name!r}: phase {phase!r} is not one of "
                                f"{list(PHASES)}")

    def copy(self) -> "RuleRegistry":
        """A registry with the same rules and steps, to extend without touching this one."""
        return RuleRegistry(rules=dict(self.rules), _steps=list(self._steps))

    # ------------------------------------------------------------------ what follows
    def __getitem__(self, name: str) -> Rule:
        try:
            return self.rules[name]
        except KeyError:
            raise CleaningError(f"unknown cleaning rule {name!r}; valid rules: "
                                f"{', '.join(self.names())}") from None

    def __contains__(self, name: object) -> bool:
        return name in self.rules

    def steps(self, phase: str | None = None) -> Iterator[Step]:
        """The steps in run order (of one phase, or of the whole pass)."""
        for ph in PHASES if phase is None else (phase,):
            yield from (s for s in self._steps if s.phase == ph)

    def names(self) -> list[str]:
        """Rule names in report order: each where its last step runs."""
        last = {s.name: i for i, s in enumerate(self.steps())}
        return sorted(last, key=last.__getitem__)

    def rank(self) -> dict[str, int]:
        """Position of each rule in the report order (the log's sort key)."""
        return {n: i for i, n in enumerate(self.names())}

    def phases_of(self, name: str) -> tuple[str, ...]:
        """The phases in which rule ``name`` has a step."""
        return tuple(s.phase for s in self.steps() if s.name == name)

    def defaults(self) -> dict[str, dict[str, Any]]:
        """``{rule: {"enabled", "action", thresholds...}}`` of every mapping-configured rule."""
        return {n: self.rules[n].defaults() for n in self.names()
                if self.rules[n].parse is None}

    def describe(self) -> list[dict[str, Any]]:
        """One record per rule in report order: name, phases, defaults and what it logs.

        Examples
        --------
        >>> from survey.clean import RULES
        >>> RULES.describe()[0]["name"], RULES.describe()[0]["phases"]
        ('missing_codes', ('cell',))
        """
        return [{"name": n, "phases": self.phases_of(n), "defaults": self.rules[n].defaults(),
                 "logs": self.rules[n].logs} for n in self.names()]

    # ------------------------------------------------------------------ settings
    def settings(self, q: Questionnaire, rules: Mapping[str, Any] | None,
                 where_q: str) -> dict[str, Any]:
        """Defaults <- questionnaire ``cleaning:`` <- ``rules=``; validated.

        ``where_q`` names the questionnaire's section in error messages.
        """
        out: dict[str, Any] = self.defaults()
        out.update({n: self.rules[n].defaults() for n in self.names()
                    if self.rules[n].parse is not None})
        for src, where in ((q.cleaning, where_q), (rules or {}, "rules=")):
            if not isinstance(src, Mapping):
                raise CleaningError(f"{where} must be a mapping of rule name -> settings, not "
                                    f"{type(src).__name__}")
            for name, val in src.items():
                if name not in self.rules:
                    raise CleaningError(f"{where}: unknown cleaning rule {name!r}; valid rules: "
                                        f"{', '.join(self.names())}")
                rule = self.rules[name]
                if rule.parse is not None:
                    out[name] = rule.parse(val, q, where)
                    continue
                if isinstance(val, bool):
                    val = {"enabled": val}
                if not isinstance(val, Mapping):
                    raise CleaningError(f"{where}: rule {name!r} must be a mapping (enabled: ..., "
                                        f"thresholds) or true/false, not {val!r}")
                valid = rule.defaults()
                bad = set(val) - set(valid)
                if bad:
                    raise CleaningError(f"{where}: rule {name!r} has unknown key(s) {sorted(bad)}; "
                                        f"valid keys: {', '.join(valid)}")
                for k, v in val.items():
                    msg = self._check(name, k, v, q)
                    if msg is not None:
                        raise CleaningError(f"{where}: {name}.{k}: {msg}")
                out[name].update(copy.deepcopy(dict(val)))
        return out

    def _check(self, name: str, key: str, v: Any, q: Questionnaire) -> str | None:
        if key == "enabled":
            return None if isinstance(v, bool) else f"must be true or false, not {v!r}"
        if key == "action":
            allowed = {a for p in self.phases_of(name) for a in ACTIONS[p]}
            return None if v in allowed else f"{v!r} is not one of {sorted(allowed)}"
        check = self.rules[name].params[key].check
        return None if check is None else check(v, q)
