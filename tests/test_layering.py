"""Layers point one way: backend -> tensor -> autograd -> ops -> nn, optim, ... -> lab.

Walks every module's imports (module level and inside functions) from the source, without
running it, and fails on an ``ops`` -> ``nn`` import, on an import of the learner's tools from
below them, and on a module-level import cycle other than among the op families in ``ops/``.
"""
from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "ember"
# Imports of Ember's own modules inside function bodies (cycles broken by deferring them).
# Each says why it is there; most break the tensor <-> autograd <-> creation knot.
MAX_BODY_IMPORTS = 10


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The absolute ``ember.*`` modules an import statement names."""
    if node.level:
        base = module.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("ember"):
        return []
    names = [f"{target}.{a.name}" for a in node.names]
    return [n if _is_module(n) else target for n in names]


def _is_module(name: str) -> bool:
    path = SRC / Path(*name.split("."))
    return path.with_suffix(".py").exists() or path.is_dir()


def _graph() -> tuple[dict, dict, list]:
    """``(top, all, body)``: module-level edges, all edges, and imports inside functions."""
    top: dict[str, set] = {}
    every: dict[str, set] = {}
    body = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        inside = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                  for n in ast.walk(f) if n is not f}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                targets = _resolve(module, path.name == "__init__.py", node)
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("ember")]
            else:
                continue
            for target in targets:
                every.setdefault(module, set()).add(target)
                if id(node) in inside:
                    body.append((module, target, path, node.lineno))
                else:
                    top.setdefault(module, set()).add(target)
    return top, every, body


TOP, EVERY, BODY = _graph()


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_ops_never_import_nn() -> None:
    bad = sorted((m, t) for m, ts in EVERY.items() if _layer(m) == "ops" for t in ts
                 if _layer(t) == "nn")
    assert not bad, bad


# The learner's tools: ``lab`` and the pictures of the computation it draws (``viz``).
LEARNERS = {"lab", "viz"}


def test_nothing_below_the_learners_tools_imports_them() -> None:
    allowed = {"ember", "ember.__main__"}
    bad = sorted((m, t) for m, ts in EVERY.items() for t in ts
                 if _layer(t) in LEARNERS and _layer(m) not in LEARNERS and m not in allowed)
    assert not bad, bad


def test_no_import_cycles_outside_the_op_families() -> None:
    """Module-level cycles only among ``ember.ops.*`` (rules of one family call another's)."""
    cycles = []
    state: dict[str, int] = {}
    for start in sorted(TOP):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(TOP.get(start, ()))))]
        path = [start]
        state[start] = 1
        while stack:
            node, edges = stack[-1]
            nxt = next(edges, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):]
                if not all(_layer(m) == "ops" for m in cycle):
                    cycles.append(cycle + [nxt])
            elif not state.get(nxt) and nxt in TOP:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(sorted(TOP.get(nxt, ())))))
    assert not cycles, cycles


def test_few_imports_inside_functions_each_saying_why() -> None:
    assert len(BODY) <= MAX_BODY_IMPORTS, f"{len(BODY)} imports inside functions: {BODY}"
    for module, target, path, line in BODY:
        lines = path.read_text(encoding="utf-8").split("\n")
        assert "#" in lines[line - 1] or lines[line - 2].strip().startswith("#"), \
            f"{module} imports {target} inside a function (line {line}) without saying why"
