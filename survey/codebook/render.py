"""Step 4: the ``questionnaire.yml`` text of a draft, with its ``# TODO:`` comments."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .infer import Builder
from .model import CodebookDraft
from .read import Table

__all__ = ["TITLE_RE", "render_yaml", "wave_block"]


TITLE_RE = re.compile(r"^\d+_(?:按序号|按文本)_(.*?)_\d+_\d+$")


def wave_block(t: Table, builder: Builder, meta: dict[int, str]) -> tuple[dict[str, Any], list[str]]:
    stem = Path(t.file).stem
    m = TITLE_RE.match(stem)
    title = m.group(1) if m else re.sub(r"_(SPSS|spss|数据|data)$", "", stem)
    todo = []
    y = re.search(r"(20\d{2})", title)
    wid = y.group(1) if y else re.sub(r"[^0-9A-Za-z_-]+", "", title) or "wave"
    todo.append(f"wave.id 取自文件名（{wid}）；改成本轮的文件夹名")
    wave: dict[str, Any] = {"id": wid, "title": title}
    sub = next((j for j, n in meta.items() if n == "submitted_at"), None)
    if sub is not None:
        ts = pd.to_datetime(pd.Series(builder.col(sub), dtype=object).astype(str),
                            errors="coerce", format="mixed")
        if ts.notna().any():
            wave["fieldwork"] = {"start": ts.min().date().isoformat(), "end": ts.max().date().isoformat()}
            todo.append("fieldwork 取自最早/最晚提交时间；改成正式的调查起止日期")
    if t.kind == "wjx" or any(n in ("source", "ip") for n in meta.values()):
        wave["mode"] = "online"
    return wave, todo


# ---------------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------------
def _s(v: Any) -> str:
    """One YAML scalar (quoted where needed), on one line."""
    if isinstance(v, bool) or v is None or isinstance(v, (int, float)):
        return yaml.safe_dump(v, default_flow_style=True).split("\n")[0]
    out = yaml.safe_dump(str(v), allow_unicode=True, default_flow_style=True, width=10 ** 9)
    return out.split("\n...")[0].strip()


def _flow(v: Any) -> str:
    return yaml.safe_dump(v, allow_unicode=True, default_flow_style=True, width=10 ** 9,
                          sort_keys=False).strip()


def render_yaml(d: CodebookDraft, wave_todo: list[str], design_todo: list[str],
            meta_cols: dict[str, str]) -> str:
    L: list[str] = []
    L.append(f"# 问卷编码本草稿：由 `survey codebook` 根据 {', '.join(Path(f).name for f in d.files)} 生成。")
    L.append("# 逐条处理 `# TODO:` 注释（草稿已能被 Questionnaire.load 读取；TODO 只是注释）。")
    L.append("# 格式见 docs/conventions.md；可为题目加 module: 作为报告章节。")
    if meta_cols:
        L.append("# 元数据列（读取时自动识别，不是题目）：" + "，".join(f"{h} → {n}" for h, n in meta_cols.items()))
        pii_meta = [h for h, n in meta_cols.items() if n in ("ip", "source_detail", "ua")]
        if pii_meta:
            L.append(f"#   其中 {', '.join(pii_meta)} 属于个人信息，读取时分离，不进入分析数据。")
    L.append("wave:")
    for t in wave_todo:
        L.append(f"  # TODO: {t}")
    for k, v in d.wave.items():
        if isinstance(v, dict):
            L.append(f"  {k}: {_flow(v)}")
        else:
            L.append(f"  {k}: {_s(v)}")
    if d.design or design_todo:
        L.append("design:")
        for t in design_todo:
            L.append(f"  # TODO: {t}")
        for k, v in d.design.items():
            L.append(f"  {k}: {_flow(v) if isinstance(v, (list, dict)) else _s(v)}")
    L.append("missing_codes: " + _flow({int(k): v for k, v in d.missing_codes.items()}))
    L.append("questions:")
    for q in d.questions:
        L.append("")
        if q.columns:
            cols = q.columns if len(q.columns) <= 3 else q.columns[:2] + [f"…（共 {len(q.columns)} 列）"]
            L.append("# 列: " + " | ".join(c.replace("\n", " ") for c in cols))
        L.append(f"- id: {q.id}")
        for t in q.todo:
            L.append(f"  # TODO: {t}")
        for h in q.hints:
            L.append(f"  # {h}")
        dd = q.to_dict()
        for k, v in dd.items():
            if k == "id":
                continue
            if isinstance(v, dict):
                if not v:
                    L.append(f"  {k}: {{}}")
                    continue
                L.append(f"  {k}:")
                for kk, vv in v.items():
                    L.append(f"    {_s(kk)}: {_s(vv)}")
            elif isinstance(v, list):
                L.append(f"  {k}: {_flow(v)}")
            else:
                L.append(f"  {k}: {_s(v)}")
    return "\n".join(L) + "\n"


