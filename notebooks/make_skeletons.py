"""Regenerate the committed report notebooks: ``survey.report.notebooks.build`` for the demo wave's
questionnaire (``questionnaires/demo-2024``), so the cells show the demo's questions.

Usage: ``python notebooks/make_skeletons.py [name ...]`` (default: all).  Never edit the
``.ipynb`` files by hand: the cells are made in ``survey/report/notebooks.py``; a test checks the
committed files equal its output.  ``survey report`` builds each wave's notebooks from that
wave's own questionnaire (or uses its adapted copy in ``questionnaires/<wave>/notebooks/``).
"""
import sys
from pathlib import Path

from survey.questionnaire import Questionnaire
from survey.report.notebooks import BODIES, write

HERE = Path(__file__).resolve().parent
QUESTIONNAIRE = HERE.parent / "questionnaires" / "demo-2024" / "questionnaire.yml"


def build(nb: str):
    """The committed notebook *nb* (for the demo questionnaire)."""
    from survey.report.notebooks import build as _build

    return _build(nb, Questionnaire.load(QUESTIONNAIRE))


BODY = BODIES

if __name__ == "__main__":
    only = sys.argv[1:] or list(BODIES)
    unknown = sorted(set(only) - set(BODIES))
    if unknown:
        sys.exit(f"unknown notebook(s) {unknown}; choose from {list(BODIES)}")
    for p in write(HERE, only, Questionnaire.load(QUESTIONNAIRE)):
        print("wrote", p.stem)
