"""The layout of :mod:`lrsearch.compare` and of the output helpers it shares with reports.

Imports point downward only: ``compare`` uses the trial's training, data, models, search space
and reports, never the CLI, the study runner or the dashboard, and it reaches other packages
through their public names only (no ``lrsearch.report._write``). Lazy imports inside functions
count: they are read from the source, not from ``sys.modules``.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import lrsearch

PACKAGE = Path(lrsearch.__file__).parent

#: every name other code imported from ``lrsearch.compare`` when it was one module
PUBLIC = (
    "ADAPTIVE_DEFAULT_LR",
    "CURVE_METRICS",
    "DEFAULT_EPOCHS",
    "CompareEntry",
    "CompareResult",
    "FamilyResult",
    "RunProgress",
    "RunResult",
    "Spread",
    "article_entries",
    "article_entry",
    "compare",
    "plot_compare",
    "study_entries",
    "write_compare",
)

#: layers above ``compare`` (or beside it) that it must not import
ABOVE = ("lrsearch.cli", "lrsearch.tune", "lrsearch.workers", "lrsearch.runner")
BESIDE = ("lrsearch.dashboard", "lrsearch.rangetest", "lrsearch.autolr")


def _imports(path: Path) -> list[str]:
    """Every ``lrsearch`` module ``path`` imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            # ``from lrsearch.report import _write`` imports a module too
            names += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return [n for n in names if n == "lrsearch" or n.startswith("lrsearch.")]


def _package_of(path: Path) -> str:
    """``lrsearch/compare/_run.py`` (and ``lrsearch/compare/__init__.py``) -> lrsearch.compare."""
    return ".".join(path.relative_to(PACKAGE.parent).parts[:-1])


def _private_of_another_package(module: str, package: str) -> bool:
    parts = module.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            owner = ".".join(parts[:i])
            return owner != package
    return False


def _files() -> list[Path]:
    return [
        *sorted((PACKAGE / "compare").glob("*.py")),
        PACKAGE / "report" / "_output.py",
        PACKAGE / "cli" / "_compare.py",
        PACKAGE / "cli" / "_report.py",
    ]


def test_compare_is_a_package_that_re_exports_every_public_name() -> None:
    import lrsearch.compare as compare

    assert (PACKAGE / "compare" / "__init__.py").exists()
    assert not (PACKAGE / "compare.py").exists()
    assert sorted(compare.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(compare, name) is not None, name
    # the function of the same name as the package is the function
    assert callable(compare.compare)


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_module_of_another_package_is_imported(path: Path) -> None:
    package = _package_of(path)
    bad = [m for m in _imports(path) if _private_of_another_package(m, package)]
    assert bad == [], f"{path.name} imports private modules of other packages: {bad}"


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "compare").glob("*.py")), ids=lambda p: p.name
)
def test_compare_imports_only_lower_layers(path: Path) -> None:
    bad = [m for m in _imports(path) if m.startswith(ABOVE + BESIDE)]
    assert bad == [], f"compare/{path.name} imports {bad}"


def test_report_does_not_import_compare() -> None:
    for path in sorted((PACKAGE / "report").glob("*.py")):
        assert not [m for m in _imports(path) if m.startswith("lrsearch.compare")], path.name


def test_compare_modules_import_downward_within_the_package() -> None:
    """contenders <- results <- run, plots; nothing imports the package's ``__init__``."""
    order = ["_contenders", "_results", "_run", "_plots"]
    for i, name in enumerate(order):
        path = PACKAGE / "compare" / f"{name}.py"
        inside = [
            m.removeprefix("lrsearch.compare.")
            for m in _imports(path)
            if m.startswith("lrsearch.compare")
        ]
        assert "lrsearch.compare" not in inside, f"{name} imports the package itself"
        later = set(order[i:])
        assert not later.intersection(inside), f"{name} imports {later.intersection(inside)}"
        importlib.import_module(f"lrsearch.compare.{name}")


def test_output_helpers_have_one_public_home() -> None:
    import lrsearch.report as report
    from lrsearch.report import _output
    from lrsearch.report import _write

    for name in ("check_out_dir", "prepare_out_dir", "save_axes_png"):
        assert getattr(report, name) is getattr(_output, name)
        assert name in report.__all__
        assert name not in vars(_write) or getattr(_write, name) is getattr(_output, name)
    assert "label_order" in report.__all__
