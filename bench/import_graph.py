"""Rooms (bot's subpackages and top-level modules), the import arrows between them, and any
cycle: `python bench/import_graph.py [ROOT]` (default: this checkout)."""

from __future__ import annotations

import ast
import collections
import pathlib
import sys


def room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "bot" and len(parts) >= 2 else None


def graph(root: pathlib.Path) -> tuple[set[str], set[tuple[str, str]]]:
    edges: set[tuple[str, str]] = set()
    rooms: set[str] = set()
    for path in (root / "bot").rglob("*.py"):
        module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        source = room(module)
        if source is None:
            continue
        rooms.add(source)
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
                if node.module == "bot":
                    names += [f"bot.{a.name}" for a in node.names]
            for name in names:
                target = room(name)
                if target and target != source:
                    edges.add((source, target))
    return rooms, edges


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    out: dict[str, set[str]] = collections.defaultdict(set)
    for a, b in edges:
        out[a].add(b)
    state: dict[str, int] = {}
    found: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for nxt in out[node]:
            if state.get(nxt) == 1:
                found.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, path)
        path.pop()
        state[node] = 2

    for node in list(out):
        if node not in state:
            visit(node, [])
    return found


def main() -> None:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
    rooms, edges = graph(root)
    print(f"{len(rooms)} rooms, {len(edges)} arrows, cycles: {cycles(edges) or 'none'}")
    print(", ".join(sorted(rooms)))


if __name__ == "__main__":
    main()
