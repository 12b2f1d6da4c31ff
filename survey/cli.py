"""The ``survey`` console command.

Subcommands live in one registry: write an ``arguments(parser)`` function and a handler, and
register them with :func:`subcommand`::

    def _report_args(p):
        p.add_argument("--wave")

    @subcommand("report", help="render the report", arguments=_report_args)
    def cmd_report(args) -> int:
        ...
        return 0

Errors from :mod:`survey.errors` are printed as one line (``survey inspect: error: …``) with
exit status 2; warnings from the package are printed as one line each (``warning: …``).

Examples
--------
>>> sorted(SUBCOMMANDS)[:1]
['inspect']
"""
from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

from .errors import SurveyError, SurveyWarning

__all__ = ["main", "subcommand", "SUBCOMMANDS", "build_parser"]


@dataclass(frozen=True)
class _Sub:
    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int | None]


SUBCOMMANDS: dict[str, _Sub] = {}


def subcommand(name: str, *, help: str,
               arguments: Callable[[argparse.ArgumentParser], None] | None = None
               ) -> Callable[[Callable[[argparse.Namespace], int | None]],
                             Callable[[argparse.Namespace], int | None]]:
    """Register a subcommand handler ``run(args) -> exit status`` under ``name``.

    Examples
    --------
    >>> @subcommand("hello", help="say hello")
    ... def _hello(args):
    ...     print("你好")
    ...     return 0
    >>> main(["hello"])
    你好
    0
    >>> _ = SUBCOMMANDS.pop("hello")
    """
    def deco(fn: Callable[[argparse.Namespace], int | None]) -> Callable[[argparse.Namespace],
                                                                           int | None]:
        if name in SUBCOMMANDS and SUBCOMMANDS[name].run is not fn:
            raise ValueError(f"survey subcommand {name!r} is registered twice")
        SUBCOMMANDS[name] = _Sub(name, help, arguments or (lambda p: None), fn)
        return fn
    return deco


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with every registered subcommand."""
    from . import __version__
    parser = argparse.ArgumentParser(
        prog="survey", description="科技工作者状况调查: read, clean, weight, estimate, report.")
    parser.add_argument("--version", action="version", version=f"survey {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for s in SUBCOMMANDS.values():
        p = sub.add_parser(s.name, help=s.help, description=s.help)
        s.arguments(p)
        p.set_defaults(_run=s.run)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
    print(f"warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``survey`` command; returns the exit status (0 ok, 2 error, 1 usage).

    Examples
    --------
    >>> main(["inspect", "/nonexistent.xlsx", "-q", "/nonexistent.yml"])
    2
    """
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return 1
    old = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", SurveyWarning)
            warnings.showwarning = _show_warning
            status = run(args)
    except SurveyError as e:
        print(f"survey {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"survey {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = old
    return int(status or 0)


# ---------------------------------------------------------------------------------------------
# survey inspect
# ---------------------------------------------------------------------------------------------
def _inspect_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="raw export: 问卷星 .xlsx, .sav/.zsav, .dta or .csv")
    p.add_argument("-q", "--questionnaire", required=True, metavar="Q",
                   help="questionnaire.yml (or the wave folder holding it)")
    p.add_argument("--encoding", default=None, help="force the text encoding (CSV, old SPSS)")
    p.add_argument("--salt", default=None, help="salt for identifier hashes "
                   "(default: $SURVEY_HASH_SALT)")
    p.add_argument("--strict", action="store_true",
                   help="fail when a column is not in the questionnaire")
    p.add_argument("--columns", action="store_true", help="also list every column → question")


@subcommand("inspect", help="read a raw export and show what was recognised", arguments=_inspect_args)
def cmd_inspect(args: argparse.Namespace) -> int:
    """``survey inspect FILE -q Q``: questions matched, unmapped columns, respondents, missing."""
    from .io import read_export
    from .questionnaire import Questionnaire
    q = Questionnaire.load(args.questionnaire)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurveyWarning)  # the report lists the same things
        res = read_export(args.file, q, salt=args.salt or "inspect-only", encoding=args.encoding,
                          unmapped="error" if args.strict else "ignore")
    print(repr(q))
    print(res.report)
    if args.columns:
        print("columns:")
        for col, qid in res.report.mapped.items():
            print(f"  {col}  →  {qid}")
    if res.missing is not None and len(res.missing):
        counts = res.missing["reason"].value_counts()
        print("missing cells by reason: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
