"""Every variable path of a template part's Jinja checked against the documented context's shape."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jinja2 import nodes

from certdocs.templatecheck._context import ANY, ListShape, context_shape

if TYPE_CHECKING:
    from certdocs.templatecheck._jinja import PartChecker

_LOOP_KEYS = (
    "index",
    "index0",
    "revindex",
    "revindex0",
    "first",
    "last",
    "length",
    "cycle",
    "depth",
    "depth0",
    "previtem",
    "nextitem",
    "changed",
)
_LIST_FILTERS = {"selectattr", "rejectattr", "sort", "reverse", "list", "unique"}
# What jinja2.sandbox refuses at render time, beyond names starting with "_" (is_internal_attribute).
_UNSAFE = {"mro", "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_code", "ag_frame", "func_globals", "func_code"}
_REFUSED = "refused"  # the shape of a value the sandbox will not hand out
# A str.format field that reaches for an attribute or item starting with "_" ("{0.__class__}").
_UNSAFE_FORMAT = re.compile(r"\{[^{}]*?(?:\.|\[)\s*_")


class Variables:
    """Walks a template's syntax tree, checking every variable path against the context's shape."""

    def __init__(self, checker: PartChecker) -> None:
        self.checker, self.context = checker, context_shape()
        self.origin: dict[str, str] = {}  # loop variable → the list it runs over
        self.lenient = 0  # inside ``is defined`` / ``|default``: a missing name is intended
        self.called: set[int] = set()  # attribute nodes that are called (``x.format(…)``)

    def unknown(self, node: nodes.Node, path: str, available: Sequence[str]) -> None:
        if self.lenient:
            return
        close = difflib.get_close_matches(path, available, n=1, cutoff=0.6)
        root = path.split(".")[0]
        about = f"{root} 是 {self.origin[root]} 中的一项；" if root in self.origin else ""
        shown = "、".join(available[:8]) + ("…" if len(available) > 8 else "")
        guess = f"是否应为 {close[0]}？" if close else ""
        rule = f"模板使用了未定义的变量 {path}（{about}{guess}可用：{shown}）"
        self.checker.problem(node.lineno - 1, rule, path.split(".")[-1])

    def visit(self, node: nodes.Node, scope: dict[str, Any]) -> None:  # noqa: C901  (one case per Jinja node kind)
        if isinstance(node, nodes.For):
            inner = dict(scope)
            listed = self.expr(node.iter, scope)
            self.bind(node.target, listed[0].item if isinstance(listed[0], ListShape) else ANY, inner)
            if isinstance(node.target, nodes.Name):
                self.origin[node.target.name] = listed[1] or "列表"
            inner["loop"] = ({k: ANY for k in _LOOP_KEYS}, "loop")
            for child in [node.test] if node.test else []:
                self.expr(child, inner)
            for child in node.body:
                self.visit(child, inner)
            for child in node.else_:
                self.visit(child, scope)
        elif isinstance(node, nodes.Assign | nodes.AssignBlock):
            shape = self.expr(node.node, scope)[0] if isinstance(node, nodes.Assign) else ANY
            for child in node.body if isinstance(node, nodes.AssignBlock) else []:
                self.visit(child, scope)
            self.bind(node.target, shape, scope)
        elif isinstance(node, nodes.With | nodes.Macro | nodes.CallBlock):
            inner = dict(scope)
            if isinstance(node, nodes.With):
                for target, value in zip(node.targets, node.values, strict=True):
                    self.bind(target, self.expr(value, scope)[0], inner)
            else:
                if isinstance(node, nodes.Macro):
                    scope[node.name] = (ANY, node.name)
                else:
                    self.expr(node.call, scope)
                for arg in [*node.args, *node.defaults]:
                    self.bind(arg, ANY, inner) if isinstance(arg, nodes.Name) else self.expr(arg, scope)
                for name in ("caller", "varargs", "kwargs"):
                    inner[name] = (ANY, name)
            for child in node.body:
                self.visit(child, inner)
        elif isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
            self.checker.problem(node.lineno - 1, "模板不得引用其他模板文件（include/import/extends）")
        elif isinstance(node, nodes.Expr):
            self.expr(node, scope)
        else:
            for child in node.iter_child_nodes():
                self.visit(child, scope)

    def bind(self, target: nodes.Node, shape: Any, scope: dict[str, Any]) -> None:
        if isinstance(target, nodes.Name):
            scope[target.name] = (shape, target.name)
            self.origin.pop(target.name, None)
        elif isinstance(target, nodes.Tuple):
            for item in target.items:
                self.bind(item, ANY, scope)

    def expr(self, node: nodes.Node, scope: dict[str, Any]) -> tuple[Any, str]:
        """The shape of an expression's value and its dotted path ("" when not a plain path)."""
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name]  # type: ignore[no-any-return]
            if node.name in self.context:
                return self.context[node.name], node.name
            if node.name not in self.checker.env.globals:
                self.unknown(node, node.name, sorted(self.context))
            return ANY, ""
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            base, path = self.expr(node.node, scope)
            key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
            if isinstance(node, nodes.Getitem) and not isinstance(key, str):
                self.expr(node.arg, scope)
                return (
                    base.item
                    if isinstance(base, ListShape) and isinstance(key, int)
                    else base
                    if isinstance(base, ListShape) and isinstance(node.arg, nodes.Slice)
                    else ANY
                ), ""
            return self.attribute(node, base, path, str(key))
        if isinstance(node, nodes.Filter | nodes.Test):
            self.known_name(node)
            lenient = node.name in (("default", "d") if isinstance(node, nodes.Filter) else ("defined", "undefined"))
            self.lenient += lenient
            base = self.expr(node.node, scope)[0] if node.node is not None else ANY
            self.lenient -= lenient
            for child in [*node.args, *node.kwargs, *(n for n in (node.dyn_args, node.dyn_kwargs) if n)]:
                self.expr(child, scope)
            if isinstance(node, nodes.Filter) and isinstance(base, ListShape):
                return (
                    base if node.name in _LIST_FILTERS else base.item if node.name in ("first", "last") else ANY
                ), ""
            return (base if lenient and isinstance(node, nodes.Filter) else ANY), ""
        if isinstance(node, nodes.Call):
            self.called.add(id(node.node))
            self.call(node)
        for child in node.iter_child_nodes():
            self.expr(child, scope) if isinstance(child, nodes.Expr) else self.visit(child, scope)
        return ANY, ""

    def known_name(self, node: nodes.Filter | nodes.Test) -> None:
        """Reports a filter or test Jinja does not have (docxtpl would stop at the first one)."""
        env = self.checker.env
        filters = isinstance(node, nodes.Filter)
        known, kind, sign = (env.filters, "过滤器", "|") if filters else (env.tests, "测试", "is ")
        if node.name in known:
            return
        close = difflib.get_close_matches(node.name, list(known), n=1, cutoff=0.6)
        guess = f"是否应为 {sign}{close[0]}？" if close else ""
        rule = f"未知的{kind} {sign}{node.name}（{guess}Jinja 没有这个{kind}，生成文件时会出错）"
        self.checker.problem(node.lineno - 1, rule, node.name)

    def call(self, node: nodes.Call) -> None:
        """Reports calls the sandbox refuses: str.format reaching for internals, huge ranges."""
        target = node.node
        if isinstance(target, nodes.Getattr) and target.attr in ("format", "format_map"):
            text = target.node.value if isinstance(target.node, nodes.Const) else None
            if not isinstance(text, str) or _UNSAFE_FORMAT.search(text):
                rule = (
                    f"出于安全原因，模板中的 .{target.attr}() "
                    + ("格式串不能访问以 _ 开头的内部属性" if isinstance(text, str) else "只能用于固定的格式串")
                    + "，生成文件时会被拒绝；请改用 ~ 连接文字"
                )
                self.checker.problem(node.lineno - 1, rule, target.attr)
        elif isinstance(target, nodes.Name) and target.name == "range":
            numbers = [a.value for a in node.args if isinstance(a, nodes.Const) and isinstance(a.value, int)]
            if numbers and max(abs(n) for n in numbers) > 100_000:  # jinja2.sandbox.MAX_RANGE
                self.checker.problem(node.lineno - 1, "range() 最多 100000 项，生成文件时会被拒绝", "range")

    def attribute(self, node: nodes.Node, base: Any, path: str, key: str) -> tuple[Any, str]:
        here = f"{path}.{key}" if path else key
        if base == _REFUSED:  # reported once, at the first refused step
            return _REFUSED, ""
        if key.startswith("_") or key in _UNSAFE:
            rule = (
                f"出于安全原因，模板不得访问程序内部属性 .{key}（以 _ 开头的属性及 mro 等），"
                "生成文件时会被拒绝；请只使用 docs/TEMPLATE_CONTEXT.md 中列出的变量"
            )
            self.checker.problem(node.lineno - 1, rule, key)
            return _REFUSED, ""
        if key in ("format", "format_map") and id(node) not in self.called:
            rule = f".{key} 后面没有括号，会把程序内部的函数打印到文件中；请改用 ~ 连接文字"
            self.checker.problem(node.lineno - 1, rule, key)
            return ANY, ""
        if isinstance(base, dict):
            if key in base:
                return base[key], here
            self.unknown(node, here, [f"{path}.{k}" for k in base] if path else sorted(base))
        elif isinstance(base, ListShape) and path and not self.lenient:
            rule = f"{path} 是列表，不能直接取 .{key}；请用 {{% for x in {path} %}} 逐项取用"
            self.checker.problem(node.lineno - 1, rule, key)
        elif base in ("str", "bool") and path and not hasattr({"str": str, "bool": bool}[base], key):
            self.unknown(node, here, [])
        return ANY, ""
