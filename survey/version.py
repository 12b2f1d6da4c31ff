"""The package version, in a module that imports nothing from :mod:`survey`.

Modules that record the version (the CLI, the cleaning side file, the pipeline cache key, the
report runner's marker) import it from here rather than from the package ``__init__``, which
imports every stage and would make each of them part of an import cycle.

Examples
--------
>>> from survey.version import __version__
>>> isinstance(__version__, str)
True
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError, version as _version

__all__ = ["__version__", "DISTRIBUTION"]

#: The distribution name on the package index (the import name is ``survey``; the index's
#: "survey" is an unrelated project).  pyproject.toml's ``project.name``.
DISTRIBUTION = "kexie-survey"

try:
    __version__ = _version(DISTRIBUTION)
except _PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
