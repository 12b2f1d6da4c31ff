"""What a wave's report leaves out because a report role is not declared (questionnaire.yml
``report:``) or a per-wave file is missing: one plain Chinese sentence per section, shown on the
page in place of the section and printed by ``survey report``.

Examples
--------
>>> from survey.questionnaire import Questionnaire
>>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
...     {"id": "a", "text": "A", "type": "numeric"}]})
>>> [g.split("：")[0] for g in role_gaps(q)]
['急难愁盼']
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["role_gaps"]


def role_gaps(q: Any, folder: Any = None) -> list[str]:
    """Sentences naming each report section left out for *q* (and *folder*, where
    ``painpoint_lexicon.yml`` lives — or a list of folders searched in order, as the report
    does: :func:`survey.painpoints.brief.lexicon_folders`), and why; ``[]`` when every section
    can be made."""
    from .painpoints import NO_PAINPOINTS

    r = q.report
    if r.painpoints is None:
        return [f"急难愁盼：{NO_PAINPOINTS}"]
    out = []
    if r.outcome is None:
        out.append("急难愁盼·严重程度与影响因素：问卷未声明总体满意度题（questionnaire.yml 的 report.outcome），"
                   "未作影响因素分析（表 PP6）。")
    if folder is None:
        folders = [q.path.parent] if q.path is not None else []
    else:
        folders = [Path(f) for f in folder] if isinstance(folder, (list, tuple)) else [Path(folder)]
    if folders and not any((f / "painpoint_lexicon.yml").is_file() for f in folders):
        out.append("急难愁盼·严重程度与开放题意见：问卷文件夹中没有 painpoint_lexicon.yml，未作优先级矩阵"
                   "（表 PP5）与开放题归类（表 PP7）。")
    return out
