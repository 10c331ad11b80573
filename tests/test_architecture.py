"""The package structure: no import cycle, low-level modules never import domain modules.

Every import counts, the ones inside functions too (a lazy import hides a cycle from Python's
start-up, not from the reader). Checked on the source with `ast`, nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: modules every other module may use; they import only each other (and third-party packages)
LOW_LEVEL = {
    "nxgeo.errors",
    "nxgeo.stamp",
    "nxgeo.nodata",
    "nxgeo.atomic",
    "nxgeo.keys",
    "nxgeo.milp",
    "nxgeo.grid",
    "nxgeo.raster_io",
    "nxgeo.vector_io",
}


def modules(src: Path) -> dict[str, tuple[Path, bool]]:
    """{dotted name: (file, is a package __init__)} of every module under `src`."""
    out = {}
    for f in sorted(src.rglob("*.py")):
        parts = list(f.relative_to(src).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (f, is_pkg)
    return out


def import_graph(src: Path, package: str = "nxgeo") -> dict[str, set[str]]:
    """{module: the modules of `package` it imports anywhere in its source}."""
    mods = modules(src)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, (path, is_pkg) in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    name = ".".join(base + ([node.module] if node.module else []))
                else:
                    name = node.module or ""
                targets = [
                    f"{name}.{a.name}" if f"{name}.{a.name}" in mods else name for a in node.names
                ]
            else:
                continue
            for t in targets:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                # a module's own package (its __init__) is not an import of something else
                if t and t != mod and t.split(".")[0] == package and not mod.startswith(t + "."):
                    graph[mod].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
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
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_checker_finds_a_cycle_and_ignores_the_own_package(tmp_path):
    pkg = tmp_path / "nxgeo"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import f\n")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "b.py").write_text("from nxgeo import a\n")
    (pkg / "c.py").write_text("import nxgeo.b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "x.py").write_text("from .. import c\nfrom . import y\n")
    (pkg / "sub" / "y.py").write_text("")
    g = import_graph(tmp_path)
    assert g["nxgeo.a"] == {"nxgeo.b"}  # the import inside a function counts
    assert g["nxgeo.b"] == {"nxgeo.a"}
    assert g["nxgeo.c"] == {"nxgeo.b"}
    assert g["nxgeo.sub.x"] == {"nxgeo.c", "nxgeo.sub.y"}
    assert cycles(g) == [["nxgeo.a", "nxgeo.b"]]


def test_no_import_cycle():
    assert cycles(import_graph(SRC)) == []


def test_low_level_modules_import_no_domain_module():
    g = import_graph(SRC)
    assert set(g) >= LOW_LEVEL
    upward = {m: sorted(g[m] - LOW_LEVEL) for m in sorted(LOW_LEVEL) if g[m] - LOW_LEVEL}
    assert upward == {}
    assert g["nxgeo.stamp"] == g["nxgeo.nodata"] == set()  # they depend on nothing of nxgeo


def test_library_never_imports_snakemake():
    found = []
    for mod, (path, _) in modules(SRC).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            found += [(mod, n) for n in names if n == "snakemake" or n.startswith("snakemake.")]
    assert found == []
