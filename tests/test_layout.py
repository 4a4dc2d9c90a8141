"""The package's shape: no import cycles inside rdpt_fast (imports inside functions count too), library code
never imports the CLI, and no module grows past the size of one job."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Where each package's sources are (kernels/ is installed as rdpt_fast.kernels).
SOURCES = {"rdpt_fast": ROOT / "rdpt_fast", "rdpt_fast.kernels": ROOT / "kernels"}
MAX_LINES = 370
#: Compiled modules: leaves of the graph.
EXTENSIONS = ("rdpt_fast._core",)


def modules() -> dict[str, Path]:
    out = {}
    for package, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package, *parts])] = path
    return out


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes inside `if TYPE_CHECKING:` blocks (never executed)."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skipped


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The rdpt_fast modules `name` imports: `from a.b import c` counts as a.b.c when that is a module."""
    is_package = path.name == "__init__.py"
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            sub = {f"{target}.{a.name}" for a in node.names}
            found.update(sub & (known | set(EXTENSIONS)) or {target})
    return {m for m in found if m in known and m != name}


def test_no_import_cycles_inside_the_package():
    mods = modules()
    graph = {name: imports(name, path, set(mods)) for name, path in mods.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


def test_library_code_never_imports_the_cli():
    mods = modules()
    offenders = {
        name: sorted(m for m in imports(name, path, set(mods)) if m.startswith("rdpt_fast.cli"))
        for name, path in mods.items()
        if not name.startswith("rdpt_fast.cli")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_module_is_longer_than_one_job():
    long = {
        name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_import_graph_sees_real_edges():
    """The graph the checks above walk holds the imports the code makes (module-level and in functions)."""
    mods = modules()
    known = set(mods)
    assert "rdpt_fast.engine.run" in imports("rdpt_fast.rdpt.trace", mods["rdpt_fast.rdpt.trace"], known)
    assert "rdpt_fast.rdpt.join" in imports(
        "rdpt_fast.engine.join_pass", mods["rdpt_fast.engine.join_pass"], known
    )


def test_the_core_stub_names_what_the_compiled_module_has():
    from rdpt_fast import _core

    stub = ast.parse((ROOT / "rdpt_fast" / "_core.pyi").read_text(encoding="utf-8"))
    stubbed = {n.name for n in stub.body if isinstance(n, ast.FunctionDef)}
    compiled = {name for name, f in vars(_core).items() if callable(f) and not name.startswith("_")}
    assert stubbed == compiled
    for node in stub.body:
        if isinstance(node, ast.FunctionDef):
            doc = getattr(_core, node.name).__doc__ or ""
            params = [a.arg for a in node.args.args]
            assert all(f"{p}:" in doc for p in params) or not params, (node.name, doc)
