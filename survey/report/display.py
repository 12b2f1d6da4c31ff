"""Small displayable objects the report's notebook cells return.

Examples
--------
>>> h = HTML("<p>样本量：<b>120</b></p>")
>>> h._repr_html_()
'<p>样本量：<b>120</b></p>'
>>> h
样本量：120
"""
from __future__ import annotations

import re

__all__ = ["HTML", "part_repr"]

_TAG = re.compile(r"<[^>]+>")


class HTML:
    """Raw HTML that a notebook displays as HTML and a console shows as plain text."""

    def __init__(self, s: str) -> None:
        self.s = s

    def _repr_html_(self) -> str:
        return self.s

    def __repr__(self) -> str:
        return _TAG.sub("", self.s)


def part_repr(part: object) -> str:
    """The plain-text line of one part of a cell's output (a :class:`Bundle` /
    :class:`~survey.report.sections.Folded` part): its own ``repr``, except that a pandas
    frame or series is named by its shape instead of being printed whole (IPython computes the
    plain text of every output, though the page shows the HTML).

    Examples
    --------
    >>> import pandas as pd
    >>> part_repr(pd.DataFrame({"a": range(500)})), part_repr(HTML("<b>表</b>"))
    ('<DataFrame 500 行 × 1 列>', '表')
    """
    import pandas as pd

    if isinstance(part, pd.DataFrame):
        return f"<DataFrame {part.shape[0]} 行 × {part.shape[1]} 列>"
    if isinstance(part, pd.Series):
        return f"<Series {len(part)} 行>"
    return repr(part)
