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

__all__ = ["HTML"]

_TAG = re.compile(r"<[^>]+>")


class HTML:
    """Raw HTML that a notebook displays as HTML and a console shows as plain text."""

    def __init__(self, s: str) -> None:
        self.s = s

    def _repr_html_(self) -> str:
        return self.s

    def __repr__(self) -> str:
        return _TAG.sub("", self.s)
