"""The package's shape: imports point one way, no cycles, no private modules across packages.

Read from the source (``ast``), so lazy imports inside functions count as much as module-level
ones. The layers, lowest first (a module may import its own layer or lower ones)::

    0  errors, checks, quiet, tasks          no lrsearch imports but each other
    1  schedules                             schedule math, pure Python
    2  optimizers, keras                     Keras glue
    3  space, storage, pruners               search space; study storage; Optuna pruners
    4  data, models                          datasets and the model zoo
    5  training, objective, rangetest,       one trial; the LR range test;
       report, study                         reading a study
    6  dashboard, compare                    views of a study; equal-budget retraining
    7  runner, config                        the study runner and its option files
    8  cli, kerastuner, lrsearch (the root)  front ends
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import lrsearch

ROOT = Path(lrsearch.__file__).parent

LAYERS: dict[str, int] = {
    "lrsearch.errors": 0,
    "lrsearch.checks": 0,
    "lrsearch.quiet": 0,
    "lrsearch.tasks": 0,
    "lrsearch.schedules": 1,
    "lrsearch.optimizers": 2,
    "lrsearch.keras": 2,
    "lrsearch.space": 3,
    "lrsearch.storage": 3,
    "lrsearch.storage_faults": 3,
    "lrsearch.storage_read": 3,
    "lrsearch.pruners": 3,
    "lrsearch.data": 4,
    "lrsearch.models": 4,
    "lrsearch.training": 5,
    "lrsearch.objective": 5,
    "lrsearch.rangetest": 5,
    "lrsearch.report": 5,
    "lrsearch.study": 5,
    "lrsearch.dashboard": 6,
    "lrsearch.compare": 6,
    "lrsearch.runner": 7,
    "lrsearch.config": 7,
    "lrsearch.cli": 8,
    "lrsearch.kerastuner": 8,
    "lrsearch.__main__": 8,
    "lrsearch": 8,
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """``(imported lrsearch module, line)`` for every import in the file, lazy ones included.

    ``from pkg import name`` is an import of ``pkg.name`` where that is a module, else of
    ``pkg``; relative imports are resolved against the module's package.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            for alias in node.names:
                full = f"{name}.{alias.name}"
                if full in MODULES:
                    yield full, node.lineno
                elif name in MODULES:
                    yield name, node.lineno


def _layer(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def _edges() -> dict[str, set[str]]:
    return {m: {target for target, _ in _imports(m, p) if target != m} for m, p in MODULES.items()}


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        assert any(module == p or module.startswith(p + ".") for p in LAYERS), module


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{m}:{line} imports {target} (layer {_layer(m)} -> {_layer(target)})"
        for m, path in MODULES.items()
        for target, line in _imports(m, path)
        if _layer(target) > _layer(m)
    ]
    assert not upward, "\n".join(upward)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle() -> None:
    assert _cycles(_edges()) == []


def test_cycle_detection_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]


def test_no_private_module_of_another_package() -> None:
    """``pkg._private`` is imported only from inside ``pkg``."""
    crossing = []
    for m, path in MODULES.items():
        for target, line in _imports(m, path):
            owner, _, last = target.rpartition(".")
            private = last.startswith("_") and not last.startswith("__")
            if private and not (m == owner or m.startswith(owner + ".")):
                crossing.append(f"{m}:{line} imports {target}")
    assert not crossing, "\n".join(crossing)


def _windows(path: Path, size: int) -> Iterator[tuple[tuple[str, ...], int]]:
    lines = [
        (line.strip(), n)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.strip() and not line.strip().startswith(("#", "from ", "import "))
    ]
    for i in range(len(lines) - size + 1):
        chunk = tuple(text for text, _ in lines[i : i + size])
        if sum(len(t) > 12 for t in chunk) >= size - 1:  # not just brackets and keywords
            yield chunk, lines[i][1]


def _repeated(modules: dict[str, Path], size: int = 6) -> dict[str, str]:
    """Pairs of modules sharing ``size`` non-trivial lines in a row (one entry per pair)."""
    seen: dict[tuple[str, ...], str] = {}
    repeated: dict[str, str] = {}
    for m, path in modules.items():
        for chunk, line in _windows(path, size):
            here = f"{m}:{line}"
            first = seen.setdefault(chunk, here)
            if first != here:
                repeated.setdefault(first.rpartition(":")[0] + " ~ " + m, f"{first} ~ {here}")
    return repeated


def test_at_most_three_repeated_blocks_of_six_lines() -> None:
    """The same six (non-trivial) lines in two places of the package: at most three blocks."""
    repeated = _repeated(MODULES)
    assert len(repeated) <= 3, "\n".join(repeated.values())


def test_repeat_detection_finds_a_copy(tmp_path: Path) -> None:
    block = "\n".join(f"    value_{i} = compute_something(argument_{i})" for i in range(7))
    (tmp_path / "a.py").write_text(f"def f():\n{block}\n")
    (tmp_path / "b.py").write_text(f"def g():\n    other = 1\n{block}\n")
    (tmp_path / "c.py").write_text("def h():\n    return 2\n")
    found = _repeated({n: tmp_path / f"{n}.py" for n in ("a", "b", "c")})
    assert list(found) == ["a ~ b"]
