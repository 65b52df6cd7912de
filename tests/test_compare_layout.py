"""The layout of :mod:`lrsearch.compare`: one job per module, one public face.

The package-wide rules (layers, no cycles, no private module across packages) are checked for
every module by the structure test; here, what is particular to ``compare``: every public name
of its modules is re-exported by the package (so ``from lrsearch.compare import X`` keeps
working), its modules import each other in one direction, and it stays beside the views of a
study, below the command line and the study runner. Imports are read from the source, so lazy
imports inside functions count.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import lrsearch
import lrsearch.compare

PACKAGE = Path(lrsearch.__file__).parent
REPO = PACKAGE.parent

#: the modules of the package, each importing only those before it
ORDER = ("_contenders", "_results", "_run", "_plots")

#: what compare must not import: the layers above it, and the other views beside it
NOT_BELOW = (
    "lrsearch.cli",
    "lrsearch.runner",
    "lrsearch.tune",
    "lrsearch.workers",
    "lrsearch.config",
    "lrsearch.dashboard",
    "lrsearch.rangetest",
)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _imported_modules(path: Path) -> list[str]:
    """Every absolute module named by an import in ``path``, at the top or in a function."""
    out: list[str] = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


def _defined_public_names(path: Path) -> set[str]:
    """Classes, functions and constants a module defines (not imports) without a ``_``."""
    names: set[str] = set()
    for node in _tree(path).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return {n for n in names if not n.startswith("_")}


def test_the_package_re_exports_each_public_name_of_its_modules() -> None:
    assert not (PACKAGE / "compare.py").exists()
    exported = set(lrsearch.compare.__all__)
    for name in ORDER:
        module = importlib.import_module(f"lrsearch.compare.{name}")
        for public in _defined_public_names(PACKAGE / "compare" / f"{name}.py"):
            assert public in exported, f"{name}.{public} is not in lrsearch.compare.__all__"
            assert getattr(lrsearch.compare, public) is getattr(module, public)
    assert callable(lrsearch.compare.compare)  # the function, not a module of that name


def test_every_name_imported_from_lrsearch_compare_exists() -> None:
    used: set[str] = set()
    for folder in ("lrsearch", "tests", "examples", "benchmarks"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(_tree(path)):
                if isinstance(node, ast.ImportFrom) and node.module == "lrsearch.compare":
                    used.update(a.name for a in node.names)
    assert {"compare", "write_compare", "CompareEntry", "RunProgress"} <= used
    assert used <= set(lrsearch.compare.__all__)


def test_modules_import_each_other_in_one_direction() -> None:
    for i, name in enumerate(ORDER):
        inside = {
            m
            for m in _imported_modules(PACKAGE / "compare" / f"{name}.py")
            if m.startswith("lrsearch.compare")
        }
        allowed = {f"lrsearch.compare.{earlier}" for earlier in ORDER[:i]}
        assert inside <= allowed, f"{name} imports {sorted(inside - allowed)}"


def test_compare_imports_nothing_above_or_beside_it() -> None:
    for path in sorted((PACKAGE / "compare").glob("*.py")):
        bad = [m for m in _imported_modules(path) if m.startswith(NOT_BELOW)]
        assert bad == [], f"compare/{path.name} imports {bad}"


def test_output_folder_helpers_have_one_public_home() -> None:
    import lrsearch.report as report
    from lrsearch.report import _output

    for name in ("check_out_dir", "prepare_out_dir", "save_axes_png", "label_order"):
        assert name in report.__all__
    for name in ("check_out_dir", "prepare_out_dir", "save_axes_png"):
        assert getattr(report, name) is getattr(_output, name)
