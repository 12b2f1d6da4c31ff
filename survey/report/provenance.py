"""The provenance block at the end of every report.

Records what a reader needs to reproduce the numbers: SHA-256 of every input file, the
questionnaire hash (and, when earlier waves are compared with, each earlier wave's raw export,
questionnaire, margins and station register with its questionnaire hash, plus the
harmonisation / policy files), the parameters, package versions, the git commit of the code and the time
of the run.  The run time is the only part that changes between two runs on the same input; it
is wrapped in ``<span class="run-time">`` (and can be pinned with ``SOURCE_DATE_EPOCH``).

Examples
--------
>>> from survey.report.provenance import collect, provenance
>>> info = collect({"wave": "demo", "min_cell": 10})
>>> sorted(info)[:3]
['files', 'git_commit', 'packages']
>>> "<table" in provenance({"wave": "demo"})._repr_html_()
True
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import html
import json
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["provenance", "collect", "sha256_file", "run_time", "PACKAGES", "Provenance"]

PACKAGES = ("survey", "pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn",
            "papermill", "nbconvert", "fonttools", "pyreadstat", "openpyxl")
_PATH_PARAMS = ("questionnaire", "data", "population", "stations")


#: parameters holding file paths: the report shows the file name (the SHA-256 rows identify the
#: file; a machine's folder layout is neither informative for a reviewer nor deterministic)
_PATH_PARAMS = ("questionnaire", "data", "population", "stations", "harmonization", "policies")


def _display_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as shown in the provenance block: path-valued ones reduced to file names.

    Examples
    --------
    >>> _display_params({"data": "/tmp/x/2024.sav", "min_cell": 10,
    ...                  "previous_data": {"2023": "/srv/data/2023"}})
    {'data': '2024.sav', 'min_cell': 10, 'previous_data': {'2023': '2023'}}
    """
    out: dict[str, Any] = {}
    for k, v in params.items():
        if k in _PATH_PARAMS and isinstance(v, str) and v:
            v = Path(v).name
        elif k == "previous_data" and isinstance(v, Mapping):
            v = {str(w): Path(str(p)).name for w, p in v.items()}
        out[k] = v
    return out


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks.

    Examples
    --------
    >>> import tempfile, os
    >>> fd, p = tempfile.mkstemp(); os.write(fd, b"abc"); os.close(fd)
    3
    >>> sha256_file(p)[:12]
    'ba7816bf8f01'
    """
    from .._wavecache import file_identity, memo_get, memo_put

    # every report of a run hashes the same inputs: once per process and file version
    ident = file_identity(path)
    if ident is not None and (hit := memo_get("sha256", ident)) is not None:
        return hit
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(chunk):
            h.update(b)
    if ident is not None and ident == file_identity(path):  # not written to while we read it
        memo_put("sha256", ident, h.hexdigest())
    return h.hexdigest()


def run_time() -> str:
    """Time of the run (local ISO 8601, seconds); ``SOURCE_DATE_EPOCH`` pins it.

    Examples
    --------
    >>> os.environ["SOURCE_DATE_EPOCH"] = "0"; run_time(); del os.environ["SOURCE_DATE_EPOCH"]
    '1970-01-01T00:00:00+00:00'
    """
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde and sde.isdigit():
        return _dt.datetime.fromtimestamp(int(sde), tz=_dt.timezone.utc).isoformat()
    return _dt.datetime.now().astimezone().replace(microsecond=0).isoformat()


def _git_commit() -> str:
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out + ("（工作区有未提交的修改）" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "未知（不在 git 仓库中）"


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = "未安装"
    return out


def _questionnaire_hash(path: str | None) -> str | None:
    if not path or not Path(path).is_file():
        return None
    try:
        from ..questionnaire import Questionnaire

        return Questionnaire.load(path).hash
    except Exception:  # a broken questionnaire is reported elsewhere; hash the bytes here
        return sha256_file(path)


def _file_entry(p: str | Path | None) -> dict[str, str] | None:
    if not p:
        return None
    return {"path": str(p), "sha256": sha256_file(p) if Path(p).is_file() else "（文件不存在）"}


def _previous_waves(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Inputs of every earlier wave the report compares with (``previous_waves``), found the
    way the report prepares them (:func:`survey.report.content.data.previous_inputs`): raw
    export, questionnaire, population margins and station register with their SHA-256, and the
    questionnaire hash; then the cross-wave files (harmonisation keys, policy register).  In the
    order of ``previous_waves`` (deterministic)."""
    waves = [str(w) for w in (params.get("previous_waves") or [])]
    if not waves:
        return []
    from ..errors import SurveyError
    from .content.data import cross_wave_file, previous_inputs

    out: list[dict[str, Any]] = []
    for w in waves:
        try:
            inp = previous_inputs(params, w)
        except SurveyError as e:
            out.append({"wave": w, "files": {}, "questionnaire_hash": None, "error": str(e)})
            continue
        files = {k: f for k, f in ((k, _file_entry(inp.get(k))) for k in
                                   ("raw", "questionnaire", "population", "stations")) if f}
        out.append({"wave": w, "files": files,
                    "questionnaire_hash": _questionnaire_hash(inp.get("questionnaire") and str(inp["questionnaire"]))})
    shared: dict[str, dict[str, str]] = {}
    for name in ("harmonization", "policies"):
        try:
            f = cross_wave_file(params, name)
        except SurveyError:
            f = None
        if f is not None:
            shared[name] = _file_entry(f)  # type: ignore[assignment]
    if shared:
        out.append({"wave": None, "files": shared, "questionnaire_hash": None})
    return out


def collect(params: Mapping[str, Any], *, extra_files: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Gather the provenance facts for *params* (a :class:`~survey.report.params.Params`).

    Examples
    --------
    >>> collect({"wave": "x"})["parameters"]
    {'wave': 'x'}
    """
    files: dict[str, dict[str, str]] = {}
    for k in _PATH_PARAMS:
        p = params.get(k)
        if p:
            files[k] = {"path": str(p),
                        "sha256": sha256_file(p) if Path(p).is_file() else "（文件不存在）"}
    for k, p in (extra_files or {}).items():
        files[k] = {"path": str(p), "sha256": sha256_file(p) if Path(p).is_file() else "（文件不存在）"}
    return {
        "files": files,
        "questionnaire_hash": _questionnaire_hash(params.get("questionnaire")),
        "previous_waves": _previous_waves(params),
        "parameters": {k: params[k] for k in params if k not in ("output_dir", "work_dir")},
        "packages": _versions(),
        "git_commit": _git_commit(),
        "run_time": run_time(),
    }


class Provenance:
    """Displayable provenance block (HTML in notebooks, text elsewhere)."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info

    def _repr_html_(self) -> str:
        i = self.info
        e = html.escape
        rows = []
        for k, f in i["files"].items():
            rows.append(f"<tr><th>输入文件（{e(k)}）</th><td><code>{e(Path(f['path']).name)}</code><br>"
                        f"SHA-256 <code>{e(f['sha256'])}</code></td></tr>")
        if i.get("questionnaire_hash"):
            rows.append(f"<tr><th>问卷哈希</th><td><code>{e(i['questionnaire_hash'])}</code></td></tr>")
        for pw in i.get("previous_waves") or []:
            head = f"往期（{e(pw['wave'])}）" if pw["wave"] is not None else "跨轮次"
            if pw.get("error"):
                rows.append(f"<tr><th>{head}输入文件</th><td>未找到：{e(pw['error'])}</td></tr>")
            for k, f in pw["files"].items():
                rows.append(f"<tr><th>{head}输入文件（{e(k)}）</th><td><code>{e(Path(f['path']).name)}</code>"
                            f"<br>SHA-256 <code>{e(f['sha256'])}</code></td></tr>")
            if pw.get("questionnaire_hash"):
                rows.append(f"<tr><th>{head}问卷哈希</th><td><code>{e(pw['questionnaire_hash'])}</code></td></tr>")
        params = json.dumps(_display_params(i["parameters"]), ensure_ascii=False, sort_keys=True,
                            default=str)
        rows.append(f"<tr><th>参数</th><td><code>{e(params)}</code></td></tr>")
        pk = "，".join(f"{e(k)} {e(v)}" for k, v in i["packages"].items())
        rows.append(f"<tr><th>软件版本</th><td>{pk}</td></tr>")
        rows.append(f'<tr><th>代码版本（git）</th><td><code class="git-commit">{e(i["git_commit"])}</code></td></tr>')
        rows.append(f'<tr><th>运行时间</th><td><span class="run-time">{e(i["run_time"])}</span></td></tr>')
        # folded: one line on the page (each page records its own run; a reader opens it to
        # check a hash), printed open
        return ('<details class="fold provenance" id="provenance"><summary>输入文件的 SHA-256、问卷哈希、'
                '参数、软件与代码版本、运行时间<span class="fold-hint">（供核对与重现，点击展开）</span></summary>'
                '<table class="provenance-table">' + "".join(rows) + "</table></details>")

    def __repr__(self) -> str:
        return json.dumps(self.info, ensure_ascii=False, indent=1, default=str)


def provenance(params: Mapping[str, Any], **kwargs: Any) -> Provenance:
    """The provenance block for the last cell of a report notebook.

    Parameters
    ----------
    params : mapping
        The validated parameters (their input paths are hashed).
    **kwargs
        ``extra_files={label: path}`` for further inputs.

    Examples
    --------
    >>> provenance({"wave": "demo"}).info["parameters"]
    {'wave': 'demo'}
    """
    return Provenance(collect(params, **kwargs))
