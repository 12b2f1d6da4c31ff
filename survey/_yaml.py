"""Reading the project's YAML files (questionnaire, population, harmonisation, lexicons, policies)
with one set of error messages: every failure names the file, the line where YAML knows it, and
what to do.

Examples
--------
>>> import tempfile, pathlib
>>> from survey.errors import WeightingError
>>> p = pathlib.Path(tempfile.mkdtemp()) / "population.yml"
>>> _ = p.write_text("margins: [\\n", encoding="utf-8")
>>> try:
...     read_yaml(p, error=WeightingError, what="population margins")
... except WeightingError as e:
...     print(str(e).endswith("fix the indentation/quoting there"), "line 2" in str(e))
True True
"""
from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import yaml

from ._wavecache import memo_get, memo_put

__all__ = ["read_yaml"]


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node, deep=False):  # noqa: ANN001
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable key: PyYAML reports it
                    continue
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} appears twice in one mapping (first on line "
                        f"{first + 1}); remove or rename one", key_node.start_mark)
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path, *, error: type[Exception], what: str,
              default_name: str | None = None, hint: str = "") -> tuple[Path, dict[str, Any], str]:
    """Load a YAML mapping; return ``(path, data, text)``.

    Parameters
    ----------
    path : path-like
        The file, or (with ``default_name``) the folder that holds it.
    error : exception class
        Raised (from :mod:`survey.errors`) with a message naming the file.
    what : str
        What the file is, for messages ("questionnaire", "population margins", ...).
    default_name : str, optional
        File name to look for when ``path`` is a folder.
    hint : str
        Appended to the "not found" message (where the file should be, how to create it).
    """
    p = Path(path)
    if default_name is not None and p.is_dir():
        p = p / default_name
    if not p.is_file():
        raise error(f"{p}: {what} file not found" + (f"; {hint}" if hint else ""))
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error(f"{p}: not UTF-8 text; save the {what} file as UTF-8") from None
    # a kernel rendering report after report reads the same files again: parse each text once
    # per process (keyed by its content, so an edited file is parsed again) and hand every
    # caller its own copy
    key = (str(p.resolve()), hashlib.sha256(text.encode("utf-8")).hexdigest())
    cached = memo_get("yaml", key)
    if cached is not None:
        return p, copy.deepcopy(cached), text
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise error(f"{p}:{where} is not valid YAML ({getattr(e, 'problem', e)}); "
                    "fix the indentation/quoting there") from None
    if not isinstance(data, dict):
        raise error(f"{p}: the {what} file must be a YAML mapping (key: value), "
                    f"not {type(data).__name__}")
    memo_put("yaml", key, copy.deepcopy(data))
    return p, data, text
