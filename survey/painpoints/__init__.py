"""急难愁盼 (pain points): ranked/multi-select summaries, subgroup differences, severity, drivers,
open text, and the evaluation of policy measures between waves.

Public API
----------
* :func:`summarize` — % choosing each item (any rank), % ranking it first, position score,
  with design-based SEs/CIs (over :func:`survey.tables.ranked`).
* :func:`rank_uncertainty` — rank intervals and share of replicates in the top 3.
* :func:`group_differences` — each group against everyone else, Holm / Benjamini–Hochberg.
* :func:`top_by_group` — each group's top items.
* :func:`priority_matrix` — prevalence × severity quadrants.
* :func:`drivers` — design-based GLM of satisfaction / intention to leave on the pain points.
* :func:`open_text` — jieba + keyword lexicon themes, unmatched themes, anonymised quotes.
* :func:`wave_change` — change of every item between two independent waves (CI, MDE).
* :func:`evaluate_policies` / :func:`load_policies` — the policy register and verdicts;
  :func:`evaluate_register` / :func:`policy_waves` — each measure against the wave before it.
* :class:`PolicyBrief` / :func:`build_brief` — the brief (every frame the report shows; its
  tables, charts and HTML are :mod:`survey.report.content.painpoints`).
* :func:`problem_list` — the 急难愁盼问题清单 (问题—措施—成效; ``待认领`` without a measure).

Examples
--------
>>> import pandas as pd
>>> from survey import SurveyDesign, painpoints
>>> df = pd.DataFrame({"p_1": pd.array([1, 2, None, 1], dtype="Int64"),
...                    "p_2": pd.array([2, 1, 1, None], dtype="Int64")})
>>> painpoints.summarize(SurveyDesign(df), "p", k=2)["pct_top"].tolist()
[0.75, 0.75]
"""
from __future__ import annotations

from ..multiplicity import adjust_pvalues  # the report's one rule (re-exported)
from ._core import DEFAULT_GROUPS, MEASURES, RankItems, rank_items
from .drivers import drivers
from .groups import group_differences, top_by_group
from .summary import priority_matrix, rank_uncertainty, summarize
from .waves import wave_change
from .checklist import UNCLAIMED, problem_list
from .brief import PolicyBrief, build_brief, demo_designs
from .policy import (Policy, evaluate_policies, evaluate_register, load_policies, mde, policy_status,
                     policy_waves)
from .text import Lexicon, classify, load_lexicon, open_text, segment

__all__ = [
    "summarize", "rank_uncertainty", "group_differences", "top_by_group", "priority_matrix",
    "drivers", "open_text", "wave_change", "evaluate_policies", "load_policies", "policy_status",
    "Policy", "PolicyBrief", "build_brief", "demo_designs", "mde",
    "adjust_pvalues", "rank_items", "RankItems", "Lexicon", "load_lexicon", "classify", "segment",
    "MEASURES",
    "DEFAULT_GROUPS", "evaluate_register", "policy_waves", "problem_list", "UNCLAIMED",
]
