"""The structured result of :func:`~survey.codebook.draft_codebook`: :class:`DraftQuestion` and
:class:`CodebookDraft`."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..questionnaire import Questionnaire
from ._common import DEFAULT_MISSING

__all__ = ["CodebookDraft", "DraftQuestion"]


# ---------------------------------------------------------------------------------------------
# the structured result
# ---------------------------------------------------------------------------------------------
@dataclass
class DraftQuestion:
    """One drafted question: the fields of ``questionnaire.yml`` plus what was guessed.

    ``todo`` lists the reasons (Chinese, as written into the YAML) where the draft guessed;
    ``columns`` the export headers the question was built from; ``hints`` plain comments.

    Examples
    --------
    >>> DraftQuestion(id="q1", text="您的性别", type="single", options={1: "男", 2: "女"}).to_dict()
    {'id': 'q1', 'type': 'single', 'text': '您的性别', 'options': {1: '男', 2: '女'}}
    """

    id: str
    text: str
    type: str
    number: int | None = None
    options: dict[int, str] = field(default_factory=dict)
    rows: dict[str, str] = field(default_factory=dict)
    scale: dict[int, str] = field(default_factory=dict)
    other: int | None = None
    k: int | None = None
    max_choices: int | None = None
    exclusive: list[int] = field(default_factory=list)
    missing_codes: dict[int, str] | None = None      # None: the wave's default applies
    unit: str | None = None
    integer: bool | None = None
    pii: bool = False
    pii_kind: str | None = None
    sensitive: str | None = None
    ask_if: str | None = None
    source: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The question as the mapping ``Questionnaire.from_dict`` takes."""
        d: dict[str, Any] = {"id": self.id, "type": self.type, "text": self.text}
        if self.type in ("single", "multi", "rank"):
            d["options"] = dict(self.options)
            if self.other is not None:
                d["other"] = self.other
        if self.type == "multi" and self.max_choices is not None:
            d["max_choices"] = self.max_choices
        if self.type == "multi" and self.exclusive:
            d["exclusive"] = list(self.exclusive)
        if self.type == "rank" and self.k is not None:
            d["k"] = self.k
        if self.type in ("matrix", "likert"):
            d["rows"] = dict(self.rows)
            d["scale"] = dict(self.scale)
        if self.type == "numeric":
            if self.unit:
                d["unit"] = self.unit
            if self.integer is not None:
                d["integer"] = self.integer
        if self.type in ("single", "matrix", "likert", "numeric") and self.missing_codes is not None:
            d["missing_codes"] = dict(self.missing_codes)
        if self.pii:
            d["pii"] = True
            d["pii_kind"] = self.pii_kind or "other"
        if self.sensitive:
            d["sensitive"] = self.sensitive
        if self.ask_if:
            d["ask_if"] = self.ask_if
        if self.source:
            d["source"] = list(self.source)
        return d


@dataclass
class CodebookDraft:
    """The result of :func:`draft_codebook`.

    Attributes
    ----------
    text : str
        The YAML (with ``# TODO:`` comments) to save as ``questionnaire.yml``.
    questions : list of DraftQuestion
    wave, design : dict
        The ``wave:`` and ``design:`` blocks.
    missing_codes : dict
        The wave-level default missing codes.
    meta : dict
        Metadata columns found (header -> internal name, e.g. ``来自IP -> ip``).
    files : list of str
        The export(s) read.

    Examples
    --------
    >>> d = CodebookDraft(text="", questions=[DraftQuestion(id="q1", text="年龄", type="numeric")],
    ...                   wave={"id": "w"})
    >>> d.questionnaire()["q1"].type
    'numeric'
    """

    text: str
    questions: list[DraftQuestion]
    wave: dict[str, Any]
    design: dict[str, Any] = field(default_factory=dict)
    missing_codes: dict[int, str] = field(default_factory=lambda: dict(DEFAULT_MISSING))
    meta: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The draft as the mapping ``Questionnaire.from_dict`` takes (comments dropped)."""
        d: dict[str, Any] = {"wave": dict(self.wave)}
        if self.design:
            d["design"] = dict(self.design)
        d["missing_codes"] = dict(self.missing_codes)
        d["questions"] = [q.to_dict() for q in self.questions]
        return d

    def questionnaire(self) -> Questionnaire:
        """The draft as a validated :class:`Questionnaire`."""
        return Questionnaire.from_dict(self.to_dict())

    @property
    def todo(self) -> pd.DataFrame:
        """One row per TODO: ``question, reason``."""
        return pd.DataFrame([{"question": q.id, "reason": r} for q in self.questions for r in q.todo],
                            columns=["question", "reason"])

    def write(self, path: str | Path) -> Path:
        """Write :attr:`text` to ``path`` (a file, or a folder -> ``folder/questionnaire.yml``)."""
        p = Path(path)
        if p.is_dir():
            p = p / "questionnaire.yml"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.text, encoding="utf-8")
        return p

    def __repr__(self) -> str:
        types: dict[str, int] = {}
        for q in self.questions:
            types[q.type] = types.get(q.type, 0) + 1
        n_todo = sum(1 for q in self.questions if q.todo)
        return (f"<CodebookDraft {len(self.questions)} questions "
                f"({', '.join(f'{n} {t}' for t, n in types.items())}); "
                f"{sum(q.pii for q in self.questions)} PII; {n_todo} with TODO>")


