"""Structure rules: constraints a prompt states on the code itself, checked on its syntax tree.

A rule forbids (or, with `require`, demands) a call of a name (`sorted(...)`), a method call
(`.pop(0)`, optionally only with given literal first arguments), an import (`bisect`, also through
`__import__` or `importlib.import_module`), or any use of a name (`deque`, `set`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.content.bounds import Rule

DYNAMIC_IMPORTS = frozenset({"__import__", "import_module"})


def broken(code: str, rule: Rule) -> str | None:
    """Where the code breaks the rule ("line 7: .pop(0)"), or None when it keeps it."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # the code does not load: the run says so already
    hits = list(_hits(tree, rule))
    if rule.require:
        return None if hits else "not found in the code"
    return hits[0] if hits else None


def _hits(tree: ast.AST, rule: Rule) -> Iterator[str]:
    for node in ast.walk(tree):
        found = _match(node, rule)
        if found is not None:
            yield f"line {getattr(node, 'lineno', 0)}: {found}"


def _match(node: ast.AST, rule: Rule) -> str | None:
    names = set(rule.names)
    if rule.kind == "import":
        return _imported(node, names)
    if rule.kind == "name":
        return _named(node, names)
    if not isinstance(node, ast.Call) or not _arguments_match(node, rule):
        return None
    func = node.func
    if rule.kind == "call" and isinstance(func, ast.Name) and func.id in names:
        return f"{func.id}({_shown_args(rule)})"
    if rule.kind == "method" and isinstance(func, ast.Attribute) and func.attr in names:
        return f".{func.attr}({_shown_args(rule)})"
    return None


def _imported(node: ast.AST, names: set[str]) -> str | None:
    modules: list[str] = []
    if isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        modules = [node.module or ""]
    elif isinstance(node, ast.Call) and _callee(node) in DYNAMIC_IMPORTS and node.args:
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            modules = [first.value]
    hit = next((m for m in modules if m.split(".")[0] in names), None)
    return f"import {hit}" if hit is not None else None


def _named(node: ast.AST, names: set[str]) -> str | None:
    if isinstance(node, ast.Name) and node.id in names:
        return node.id
    if isinstance(node, ast.Attribute) and node.attr in names:
        return f".{node.attr}"
    if isinstance(node, ast.ImportFrom):
        hit = next((a.name for a in node.names if a.name in names), None)
        return f"from {node.module} import {hit}" if hit is not None else None
    return None


def _callee(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _arguments_match(call: ast.Call, rule: Rule) -> bool:
    if rule.args is None:
        return True
    if len(call.args) < len(rule.args):
        return False
    for given, wanted in zip(call.args, rule.args, strict=False):
        try:
            value = ast.literal_eval(given)
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            return False
        if value != wanted or type(value) is not type(wanted):
            return False
    return True


def _shown_args(rule: Rule) -> str:
    if rule.args is None:
        return "..."
    return ", ".join(repr(a) for a in rule.args)
