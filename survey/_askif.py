"""The ``ask_if`` expression language: parsed with :mod:`ast` (no eval) and evaluated over a
frame, vectorised.

Grammar: comparisons ``question op literal`` (``== != < <= > >= in, not in``) joined by
``and``/``or``/``not``; a bare name is true when the answer is chosen / nonzero; ``q12.3`` is the
column ``q12_3``.  Labels (strings) compare with ``==``/``!=`` only.

Examples
--------
>>> tree = parse_ask_if("q3 >= 2 and q12.3")
>>> expression_names(tree)
['q12_3', 'q3']
>>> parse_ask_if("__import__('os')")
Traceback (most recent call last):
...
ValueError: Call is not allowed in "__import__('os')"; use comparisons (== != < <= > >= in, not in), and/or/not, names and literals
"""
from __future__ import annotations

import ast
import re
from typing import Any, Callable

import numpy as np
import pandas as pd

from .errors import QuestionnaireError

__all__ = ["parse_ask_if", "expression_names", "literal", "AskIfEvaluator"]

_DOT_OPT = re.compile(r"\b([a-z][a-z0-9_]*)\.(\d+)\b")
_ALLOWED = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub,
            ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
            ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple)
_CMP = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}


def parse_ask_if(expr: str) -> ast.Expression:
    src = _DOT_OPT.sub(r"\1_\2", expr.strip())
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        raise ValueError(f"cannot parse {expr!r} ({e.msg})") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"{type(node).__name__} is not allowed in {expr!r}; use comparisons "
                             "(== != < <= > >= in, not in), and/or/not, names and literals")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool)):
            raise ValueError(f"literal {node.value!r} is not allowed in {expr!r}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and not isinstance(
                node.operand, ast.Constant):
            raise ValueError(f"unary minus only on numbers in {expr!r}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            if not isinstance(node.left, ast.Name) or len(node.ops) != 1:
                raise ValueError(f"write each comparison as `question op value` in {expr!r} "
                                 "(e.g. q3 >= 2 and q3 < 5)")
            try:
                literal(node.comparators[0])
            except ValueError:
                raise ValueError(f"compare a question with a literal value in {expr!r}") from None
    return tree


def expression_names(tree: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]


def literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp):
        return -literal(node.operand)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(e) for e in node.elts]
    raise ValueError("the right-hand side of a comparison must be a literal")


class AskIfEvaluator:
    """Evaluates parsed expressions over a frame.

    ``where`` names the questionnaire file in errors; ``source(column)`` is the question that owns
    a frame column (its type and labels decide how a literal is compared).
    """

    def __init__(self, where: str, source: Callable[[str], Any]) -> None:
        self._where = where
        self._source = source

    def _column(self, name: str, frame: pd.DataFrame, q: Any) -> pd.Series:
        if name not in frame.columns:
            raise QuestionnaireError(f"{self._where}: question {q.id!r}: ask_if needs column "
                                     f"{name!r}, which the frame lacks; read the full export")
        return frame[name]

    def eval(self, node: ast.AST, frame: pd.DataFrame, q: Any) -> np.ndarray:
        """Boolean array of *node* over *frame*; errors name question *q*."""
        if isinstance(node, ast.BoolOp):
            parts = [self.eval(v, frame, q) for v in node.values]
            res = parts[0]
            for p in parts[1:]:
                res = (res & p) if isinstance(node.op, ast.And) else (res | p)
            return res
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~self.eval(node.operand, frame, q)
        if isinstance(node, ast.Name):  # bare name: truthy (chosen option / nonzero answer)
            s = self._column(node.id, frame, q)
            if isinstance(s.dtype, pd.CategoricalDtype):
                return s.notna().to_numpy()
            v = pd.to_numeric(s, errors="coerce").astype("Float64")
            return (v.fillna(0) != 0).to_numpy(dtype=bool)
        if isinstance(node, ast.Compare):
            res = np.ones(len(frame), dtype=bool)
            left = node.left
            for op, right in zip(node.ops, node.comparators):
                if not isinstance(left, ast.Name):
                    raise QuestionnaireError(f"{self._where}: question {q.id!r}: ask_if "
                                             f"{q.ask_if!r}: put the question id on the left")
                try:
                    lit = literal(right)
                except ValueError as e:
                    raise QuestionnaireError(f"{self._where}: question {q.id!r}: ask_if "
                                             f"{q.ask_if!r}: {e}") from None
                res &= self._compare(left.id, op, lit, frame, q)
                left = right
            return res
        if isinstance(node, ast.Constant):
            return np.full(len(frame), bool(node.value))
        raise QuestionnaireError(f"{self._where}: question {q.id!r}: ask_if {q.ask_if!r} cannot "
                                 "be evaluated; use comparisons joined by and/or")

    def _compare(self, name: str, op: ast.cmpop, lit: Any, frame: pd.DataFrame,
                 q: Any) -> np.ndarray:
        s = self._column(name, frame, q)
        src = self._source(name)
        vals = lit if isinstance(lit, list) else [lit]
        use_labels = all(isinstance(v, str) for v in vals)
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            if not use_labels and src.type == "single":
                lab2code = {lab: c for c, lab in src.labels.items()}
                s = s.astype(object).map(lab2code)
                s = pd.to_numeric(s, errors="coerce")
            else:
                s = s.astype(object).where(s.notna(), None)
        elif not use_labels:
            s = pd.to_numeric(s, errors="coerce").astype("Float64")
        present = s.notna().to_numpy(dtype=bool)
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(lit, list):
                raise QuestionnaireError(f"{self._where}: question {q.id!r}: ask_if {q.ask_if!r}: "
                                         "'in' needs a list, e.g. q3 in [1, 2]")
            hit = s.isin(lit).to_numpy(dtype=bool)
            return present & (hit if isinstance(op, ast.In) else ~hit)
        if isinstance(lit, list):
            raise QuestionnaireError(f"{self._where}: question {q.id!r}: ask_if {q.ask_if!r}: "
                                     "compare with a single value, or use 'in [...]'")
        if isinstance(lit, bool):
            lit = int(lit)
        method = _CMP[type(op)]
        if use_labels and method not in ("eq", "ne"):
            raise QuestionnaireError(f"{self._where}: question {q.id!r}: ask_if {q.ask_if!r}: "
                                     "labels can only be compared with == / !=")
        filled = s.where(present, other=np.nan if not use_labels else None)
        r = getattr(pd.Series(filled.to_numpy(dtype=object if use_labels else float)), method)(lit)
        return present & r.to_numpy(dtype=bool)
