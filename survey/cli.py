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
>>> "inspect" in SUBCOMMANDS
True
"""
from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from .errors import SurveyError, SurveyWarning

if TYPE_CHECKING:
    from pathlib import Path

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
    except SurveyError as e:  # one line, even for messages that quote a formula or YAML
        msg = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
        print(f"survey {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except OSError as e:  # an output folder that is a file, a read-only location, ...
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"survey {args.command}: error: {where}{e.strerror or e}; check the path",
              file=sys.stderr)
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


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="data/demo", help="output directory (default data/demo)")
    p.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")


@subcommand("demo", help="generate the synthetic demo waves (questionnaires, margins, raw files)",
            arguments=_demo_args)
def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import write_demo
    paths = write_demo(args.out, args.seed)
    for k, p in paths.items():
        print(f"{k}: {p}")
    return 0


# ---------------------------------------------------------------------------------------------
# survey clean  (owned by survey/clean.py)
# ---------------------------------------------------------------------------------------------
def _clean_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="RAW", help="raw export: 问卷星 .xlsx, .sav/.zsav, .dta or .csv")
    p.add_argument("-q", "--questionnaire", required=True, metavar="Q",
                   help="questionnaire.yml (its cleaning: section configures the rules)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder; files go to DIR/<wave>/ (clean.parquet, clean_log.csv/.xlsx, "
                        "missing.parquet, clean.json)")
    p.add_argument("--rules", default=None, metavar="YAML",
                   help="rule overrides as YAML, e.g. '{speeders: {min_fraction_of_median: 0.25}}'")
    p.add_argument("--encoding", default=None, help="force the text encoding (CSV, old SPSS)")
    p.add_argument("--salt", default=None, help="salt for identifier hashes "
                   "(default: $SURVEY_HASH_SALT)")


@subcommand("clean", help="clean a raw export: rules, log, missing reasons, provenance sidecar",
            arguments=_clean_args)
def cmd_clean(args: argparse.Namespace) -> int:
    """``survey clean RAW -q Q --out DIR``: read, clean, write DIR/<wave>/…, print the summary."""
    import yaml

    from .clean import clean
    from .errors import CleaningError
    from .io import read_export
    from .questionnaire import Questionnaire
    q = Questionnaire.load(args.questionnaire)
    try:
        rules = yaml.safe_load(args.rules) if args.rules else None
    except yaml.YAMLError as e:
        raise CleaningError(f"--rules is not valid YAML ({getattr(e, 'problem', None) or e}); "
                            "write e.g. '{speeders: {min_fraction_of_median: 0.25}}'") from None
    res = clean(read_export(args.file, q, salt=args.salt, encoding=args.encoding), q, rules=rules)
    paths = res.write(args.out)
    print(repr(res))
    for k, p in paths.items():
        print(f"{k}: {p}")
    return 0




# ---------------------------------------------------------------------------------------------
# survey report  (owned by survey/report/; see survey.report.runner)
# ---------------------------------------------------------------------------------------------
def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wave", default=None, help="wave id: the folder questionnaires/<wave>/ (raw export found in data/<wave>/)")
    p.add_argument("--demo", action="store_true", help="render the demo (generate data/demo if absent)")
    p.add_argument("--data", default=None, help="raw export or cleaned data (.parquet/.csv)")
    p.add_argument("--data-stage", default=None, choices=["raw", "clean"], help="is --data raw or cleaned")
    p.add_argument("-q", "--questionnaire", default=None, help="questionnaire.yml")
    p.add_argument("--population", default=None, help="population.yml (weighting margins)")
    p.add_argument("-o", "--output", default=None, help="output folder (default reports/<wave>)")
    p.add_argument("--notebooks", default=None,
                   help="comma-separated notebook names or paths (default: all, in report order); "
                        "a selection without -o is written to reports/<wave>-draft/, never over "
                        "the published reports/<wave>/")
    p.add_argument("--by", default=None, metavar="VAR",
                   help="also one report per value of VAR (e.g. region/district), in parallel")
    p.add_argument("--jobs", type=int, default=2, help="parallel processes for --by (default 2)")
    p.add_argument("--region", default=None, help="restrict the report to one region")
    p.add_argument("--min-cell", type=int, default=None, help="suppress cells below this n (default 10)")
    p.add_argument("--confidence", type=float, default=None, help="confidence level (default 0.95)")
    p.add_argument("--lang", default=None, choices=["zh", "en"], help="language of labels")
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="further notebook parameter (value parsed as YAML), repeatable")
    p.add_argument("--previous", default=None, metavar="IDS",
                   help="comma-separated earlier wave ids to compare with, oldest first "
                        "(questionnaires/<id>/, raw export in data/<id>/)")
    p.add_argument("--root", default=".", metavar="DIR",
                   help="project folder holding questionnaires/, data/ and reports/ (default: .)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def _check_report_inputs(args: argparse.Namespace, params: dict, qf: Path, declared: set[str]) -> None:
    """Before rendering anything: stop on an earlier wave that cannot be found, and warn about a
    missing station register."""
    from pathlib import Path

    from .errors import ParameterError, ReportError
    from .report.content.data import previous_inputs

    if params.get("previous_waves") and "previous_waves" in declared:
        for w in params["previous_waves"]:
            try:
                previous_inputs(params, w)
            except ReportError as e:
                raise ParameterError(
                    f"--previous {w}: {e}. An earlier wave is set up like this one: "
                    f"questionnaires/{w}/ (questionnaire.yml, population.yml, stations.csv) and its "
                    f"raw export in data/{w}/; or point at a folder holding them with "
                    f"-p 'previous_data={{{w}: path/to/folder}}'; or drop --previous "
                    "(docs/new_wave.md, section 5)") from None
    qdir = Path(params["questionnaire"]).parent if params.get("questionnaire") else qf
    if "stations" not in params and not (qdir / "stations.csv").is_file():
        warnings.warn(f"no station register {qdir / 'stations.csv'}: every respondent starts with "
                      "base weight 1 and only the calibration to population.yml weights the sample; "
                      "put the wave's stations.csv there (docs/new_wave.md, section 4)",
                      SurveyWarning, stacklevel=2)


@subcommand("report", help="render the report notebooks to HTML + Excel", arguments=_report_args)
def cmd_report(args: argparse.Namespace) -> int:
    """``survey report --wave 2024``: papermill → nbconvert → reports/<wave>/index.html."""
    from pathlib import Path

    import yaml

    from .errors import ParameterError
    from .pipeline import find_export
    from .report.params import NOTEBOOKS, schema
    from .report.runner import render_report

    root = Path(args.root)
    params: dict = {}
    wave = args.wave or "demo"
    jobs: list[tuple[str, dict]] = []  # (output folder name, wave-specific parameters)
    if args.demo:
        from .demo import write_demo

        droot = root / "data" / "demo"
        if not all((droot / f"demo-{w}" / "questionnaire.yml").is_file() for w in ("2023", "2024")):
            write_demo(droot)
        from .demo import questionnaire_yaml

        for w in ("2023", "2024"):  # a codebook from an older package (e.g. without report: roles)
            qf = droot / f"demo-{w}" / "questionnaire.yml"
            if qf.read_text(encoding="utf-8") != questionnaire_yaml(w):
                qf.write_text(questionnaire_yaml(w), encoding="utf-8")
        folders = sorted(p for p in droot.glob("demo-*") if (p / "questionnaire.yml").is_file())
        for k, f in enumerate(folders):
            # each demo folder holds a wave's questionnaire, margins, stations and raw export;
            # earlier waves are found beside it (previous_waves = the folders before it)
            wp = {"wave": f.name, "questionnaire": str(f / "questionnaire.yml"), "data_stage": "raw",
                  "population": str(f / "population.yml"), "stations": str(f / "stations.csv"),
                  "previous_waves": [g.name for g in folders[:k]]}
            raw = find_export(f)
            if raw is not None:
                wp["data"] = str(raw)
            jobs.append((f.name, wp))
    else:
        params["wave"] = wave
        qf = root / "questionnaires" / wave
        if (qf / "questionnaire.yml").is_file():
            params["questionnaire"] = str(qf / "questionnaire.yml")
        if args.data is None:
            raw = find_export(root / "data" / wave) or (find_export(qf) if qf.is_dir() else None)
            if raw is not None:
                params["data"] = str(raw)
    if args.previous is not None:
        params["previous_waves"] = [w.strip() for w in args.previous.split(",") if w.strip()]
    for flag, v in (("--data", args.data), ("--questionnaire", args.questionnaire),
                    ("--population", args.population)):
        if v is not None and not Path(v).exists():
            raise ParameterError(f"{flag} {v}: file not found; check the path")
    for k, v in (("data", args.data), ("data_stage", args.data_stage), ("questionnaire", args.questionnaire),
                 ("population", args.population), ("region", args.region), ("min_cell", args.min_cell),
                 ("confidence", args.confidence), ("lang", args.lang)):
        if v is not None:
            params[k] = v
    for item in args.param:
        if "=" not in item:
            raise ParameterError(f"--param {item!r}: write NAME=VALUE, e.g. -p min_cell=5")
        k, v = item.split("=", 1)
        params[k.strip()] = yaml.safe_load(v)
    if not args.demo:
        if args.wave is None and args.questionnaire is None:
            raise ParameterError("say which wave to render: --wave ID (the folder "
                                 "questionnaires/ID/) or render the demo (--demo)")
        if args.wave is not None and args.questionnaire is None and "questionnaire" not in params:
            raise ParameterError(f"wave {wave!r}: no {qf / 'questionnaire.yml'}; create it "
                                 "(docs/new_wave.md) or pass -q/--questionnaire")
        if args.wave is not None and args.data is None and "data" not in params:
            raise ParameterError(f"wave {wave!r}: no raw export in {root / 'data' / wave} or {qf}; "
                                 "put the export there or pass --data")
    names = [n.strip() for n in args.notebooks.split(",")] if args.notebooks else list(NOTEBOOKS)
    if not jobs:
        jobs = [(wave, {})]
    base = Path(args.output) if args.output else root / "reports"
    declared = {k for n in names for k in schema(Path(n).stem)}
    # a selection of notebooks never replaces the published report: without -o it goes to
    # reports/<wave>-draft/ (sharing the wave's prepared cache reports/.<wave>.work/)
    draft = bool(args.notebooks) and not args.output and \
        sorted(Path(n).stem for n in names) != sorted(NOTEBOOKS)
    if not args.demo:
        _check_report_inputs(args, params, qf, declared)
    for name, wp in jobs:
        pr = {**wp, **params}
        if ("previous_waves" in wp or args.previous is not None) and "previous_waves" not in declared:
            pr.pop("previous_waves", None)  # set by --demo/--previous; no chosen notebook compares waves
        out = (base / name) if (args.demo or not args.output) else base
        if draft:
            pr.setdefault("work_dir", str(base / f".{name}.work"))
            out = base / f"{name}-draft"
            if not args.quiet:
                print(f"--notebooks {args.notebooks} without -o: writing the draft {out}/ "
                      f"(the published {base / name}/ is left as it is)", file=sys.stderr)
        res = render_report(pr, output_dir=out, notebooks=names, by=args.by, jobs=args.jobs,
                            progress=not args.quiet)
        print(res.index)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
