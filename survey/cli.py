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


class _ZhHelpFormatter(argparse.HelpFormatter):
    """argparse's help layout with its own headings in Chinese (option names stay English)."""

    _TITLES = {"positional arguments": "位置参数", "options": "选项", "optional arguments": "选项"}

    def start_section(self, heading: str | None) -> None:
        super().start_section(self._TITLES.get(heading or "", heading))

    def add_usage(self, usage, actions, groups, prefix=None) -> None:  # noqa: ANN001
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with every registered subcommand."""
    from .version import __version__
    parser = argparse.ArgumentParser(
        prog="survey", description="科技工作者状况调查分析：读取、清理、加权、估计、出报告。",
        epilog="各子命令的说明：survey COMMAND -h", formatter_class=_ZhHelpFormatter,
        add_help=False)
    parser.add_argument("-h", "--help", action="help", help="显示本帮助并退出")
    parser.add_argument("--version", action="version", version=f"survey {__version__}",
                        help="显示版本号并退出")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="子命令")
    for s in SUBCOMMANDS.values():
        p = sub.add_parser(s.name, help=s.help, description=s.help,
                           formatter_class=_ZhHelpFormatter, add_help=False)
        p.add_argument("-h", "--help", action="help", help="显示本帮助并退出")
        s.arguments(p)
        p.set_defaults(_run=s.run)
    return parser


def _progress(msg: str) -> None:
    """One progress line on stderr (stdout stays for results such as the written paths)."""
    print(f"  {msg}", file=sys.stderr, flush=True)


def _progress_with_header(header: str) -> Callable[[str], None]:
    """:func:`_progress` preceded, at its first line, by *header* (so a command that fails
    before its first stage prints only its one error line)."""
    said = []

    def say(msg: str) -> None:
        if not said:
            print(header, file=sys.stderr, flush=True)
            said.append(True)
        _progress(msg)
    return say


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
    except OSError as e:  # an output folder that is a file, a read-only location, a full disk
        import errno

        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        full = e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
        print(f"survey {args.command}: error: {where}{e.strerror or e}; "
              + ("the disk is full: free some space and run again" if full else "check the path"),
              file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:  # Ctrl-C: one line, no traceback (the runner cleaned up)
        print(f"survey {args.command}: 已中断（Ctrl-C）" + (f"：{e}" if str(e) else ""),
              file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = old
    return int(status or 0)


# ---------------------------------------------------------------------------------------------
# survey inspect
# ---------------------------------------------------------------------------------------------
def _inspect_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="原始导出文件：问卷星 .xlsx、.sav/.zsav、.dta 或 .csv")
    p.add_argument("-q", "--questionnaire", required=True, metavar="Q",
                   help="问卷定义 questionnaire.yml（或其所在的波次文件夹）")
    p.add_argument("--encoding", default=None, help="强制指定文本编码（CSV、旧版 SPSS 文件）")
    p.add_argument("--salt", default=None, help="标识符哈希所用的盐"
                   "（默认取环境变量 $SURVEY_HASH_SALT）")
    p.add_argument("--strict", action="store_true",
                   help="有列不在问卷定义中时报错退出")
    p.add_argument("--columns", action="store_true", help="同时列出每一列 → 对应的题目")


@subcommand("inspect", help="读取原始导出文件，显示识别出的题目、未对应的列、答卷人数与缺失",
            arguments=_inspect_args)
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
    p.add_argument("--out", default=None,
                   help="输出文件夹（默认 data/demo；--national 时 data/demo/national）")
    p.add_argument("--seed", type=int, default=2024, help="随机种子（默认 2024）")
    p.add_argument("--national", action="store_true",
                   help="生成全国示例（31 个省份、约 5 万名受访者、约 1500 个站点，波次 national-2023/"
                        "national-2024；地区变量 region，即省份），供基准测试：survey report --root "
                        "data/demo/national --wave national-2024 -o reports/national-2024")


@subcommand("demo", help="生成合成的示例波次（问卷定义、总体边际、站点登记表、原始导出文件）",
            arguments=_demo_args)
def cmd_demo(args: argparse.Namespace) -> int:
    if args.national:
        from .demo import write_national
        out = args.out or "data/demo/national"
        paths = write_national(out, args.seed, progress=_progress_with_header(
            f"生成全国示例数据到 {out}/（约一两分钟）："))
        for k, p in paths.items():
            print(f"{k}: {p}")
        return 0
    from .demo import write_demo
    args.out = args.out or "data/demo"
    paths = write_demo(args.out, args.seed, progress=_progress_with_header(
        f"生成示例数据到 {args.out}/（约半分钟）："))
    for k, p in paths.items():
        print(f"{k}: {p}")
    return 0


# ---------------------------------------------------------------------------------------------
# survey clean  (owned by survey/clean/)
# ---------------------------------------------------------------------------------------------
def _clean_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="RAW", help="原始导出文件：问卷星 .xlsx、.sav/.zsav、.dta 或 .csv")
    p.add_argument("-q", "--questionnaire", required=True, metavar="Q",
                   help="问卷定义 questionnaire.yml（其 cleaning: 部分设定清理规则）")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="输出文件夹；文件写到 DIR/<wave>/（clean.parquet、clean_log.csv/.xlsx、"
                        "missing.parquet、clean.json）")
    p.add_argument("--rules", default=None, metavar="YAML",
                   help="以 YAML 覆盖清理规则，例如 '{speeders: {min_fraction_of_median: 0.25}}'")
    p.add_argument("--encoding", default=None, help="强制指定文本编码（CSV、旧版 SPSS 文件）")
    p.add_argument("--salt", default=None, help="标识符哈希所用的盐"
                   "（默认取环境变量 $SURVEY_HASH_SALT）")


@subcommand("clean", help="清理原始导出文件：执行清理规则，写出清理日志、缺失原因与来源说明",
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
# survey codebook  (owned by survey/codebook/)
# ---------------------------------------------------------------------------------------------
def _codebook_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("export", metavar="EXPORT",
                   help="原始导出：问卷星 按序号 .xlsx/.csv，或带变量/值标签的 .sav/.zsav/.dta")
    p.add_argument("--text", default=None, metavar="按文本导出",
                   help="同一批答卷的问卷星 按文本 导出（与按序号配对，提供单选/矩阵题的选项标签）；"
                        "省略时自动使用同一文件夹中对应的 按文本 文件")
    p.add_argument("-o", "--output", default=None, metavar="questionnaire.yml",
                   help="写入的文件（或文件夹）；省略则打印到屏幕")
    p.add_argument("--force", action="store_true", help="覆盖已存在的输出文件")


@subcommand("codebook", help="从原始导出起草 questionnaire.yml（题型、选项编码、PII 标记，猜测处标 # TODO）",
            arguments=_codebook_args)
def cmd_codebook(args: argparse.Namespace) -> int:
    """``survey codebook EXPORT [--text 按文本.xlsx] [-o questionnaire.yml]``."""
    from pathlib import Path

    from .codebook import draft_codebook, find_text_export
    from .errors import ParameterError
    text = args.text or find_text_export(args.export)
    if text is not None and args.text is None:
        print(f"using the 按文本 export {text} for the labels (pass --text to choose another)",
              file=sys.stderr)
    d = draft_codebook(args.export, text_export=text)
    if args.output is None:
        sys.stdout.write(d.text)
    else:
        out = Path(args.output)
        target = out / "questionnaire.yml" if out.is_dir() else out
        if target.exists() and not args.force:
            raise ParameterError(f"{target} already exists; pass --force to overwrite it, or "
                                 "choose another -o path")
        path = d.write(out)
        print(f"{path}: {len(d.questions)} questions, {int(d.todo['question'].nunique())} with "
              f"TODO ({len(d.todo)} TODO comments)", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------
# survey report  (owned by survey/report/; see survey.report.runner)
# ---------------------------------------------------------------------------------------------
def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wave", default=None, help="波次 id：即文件夹 questionnaires/<wave>/（原始导出在 data/<wave>/）")
    p.add_argument("--demo", action="store_true", help="渲染示例报告（data/demo 不存在时先生成示例数据）")
    p.add_argument("--data", default=None, help="原始导出或已清理的数据（.parquet/.csv）")
    p.add_argument("--data-stage", default=None, choices=["raw", "clean"],
                   help="--data 是原始导出（raw）还是已清理数据（clean）")
    p.add_argument("-q", "--questionnaire", default=None, help="问卷定义 questionnaire.yml")
    p.add_argument("--population", default=None, help="总体边际 population.yml（加权目标）")
    p.add_argument("-o", "--output", default=None, help="输出文件夹（默认 reports/<wave>）")
    p.add_argument("--notebooks", default=None,
                   help="逗号分隔的笔记本名称或路径（默认：全部，按报告顺序）；只选部分且未给 -o 时"
                        "写到草稿 reports/<wave>-draft/，不覆盖已发布的 reports/<wave>/")
    p.add_argument("--by", default=None, metavar="VAR",
                   help="另按 VAR 的每个取值各出一份报告（如 region/district），并行渲染")
    p.add_argument("--jobs", type=int, default=None, help="--by 的并行进程数（默认：CPU 核数 + 1，视内存而减）")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask 调度器地址（如 tcp://host:8786；默认取环境变量 DASK_SCHEDULER_ADDRESS）："
                        "各份报告交给集群的 worker 渲染，而非本机进程池；需 pip install 'kexie-survey[dask]'")
    p.add_argument("--region", default=None, help="只报告某一地区")
    p.add_argument("--min-cell", type=int, default=None, help="样本量低于此值的单元格不予公布（默认 10）")
    p.add_argument("--confidence", type=float, default=None, help="置信水平（默认 0.95）")
    p.add_argument("--lang", default=None, choices=["zh", "en"], help="标签语言")
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="其他笔记本参数（值按 YAML 解析），可重复")
    p.add_argument("--previous", default=None, metavar="IDS",
                   help="用于比较的往期波次 id，逗号分隔，由早到晚"
                        "（questionnaires/<id>/，原始导出在 data/<id>/）")
    p.add_argument("--root", default=".", metavar="DIR",
                   help="存放 questionnaires/、data/ 和 reports/ 的项目文件夹（默认：当前文件夹 .）")
    p.add_argument("--quiet", action="store_true", help="不输出进度信息")


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


@subcommand("report", help="把报告笔记本渲染为 HTML 网页与 Excel 表格", arguments=_report_args)
def cmd_report(args: argparse.Namespace) -> int:
    """``survey report --wave 2024``: papermill → nbconvert → reports/<wave>/index.html."""
    from pathlib import Path

    import yaml

    from .errors import ParameterError
    from .io.safe import check_wave_id
    from .pipeline import find_export
    from .report.params import NOTEBOOKS, schema
    from .report.runner import render_report

    root = Path(args.root)
    params: dict = {}
    if args.wave is not None:  # a name, never a path: it names folders under questionnaires/, reports/
        check_wave_id(args.wave, what="--wave")
    wave = args.wave or "demo"
    jobs: list[tuple[str, dict]] = []  # (output folder name, wave-specific parameters)
    if args.demo:
        from .demo import write_demo

        droot = root / "data" / "demo"
        if not all((droot / f"demo-{w}" / "questionnaire.yml").is_file() for w in ("2023", "2024")):
            write_demo(droot, progress=None if args.quiet else _progress_with_header(
                f"首次运行：生成示例数据到 {droot}/（约半分钟）："))
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
        params["previous_waves"] = [check_wave_id(w.strip(), what="--previous wave id")
                                    for w in args.previous.split(",") if w.strip()]
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
        if args.previous is None and "previous_waves" not in params and not args.quiet:
            from .report.content.data import earlier_waves_in_project

            ids = earlier_waves_in_project(params)
            if ids:  # the trends/changes sections would say "nothing to compare" without a word here
                print(f"no earlier wave named: the trends and change sections are left out; the project "
                      f"holds {', '.join(ids)} — add --previous {','.join(ids)} to compare with it",
                      file=sys.stderr)
    for k, (name, wp) in enumerate(jobs, start=1):
        if len(jobs) > 1 and not args.quiet:
            print(f"报告 {k}/{len(jobs)}：{name} …", file=sys.stderr, flush=True)
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
        if out != base and out.resolve().parent != base.resolve():
            raise ParameterError(f"report folder {out} would not be inside {base}; "
                                 "check --wave / -o")
        res = render_report(pr, output_dir=out, notebooks=names, by=args.by, jobs=args.jobs,
                            progress=not args.quiet, scheduler=args.scheduler)
        print(res.index)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
