"""The package's import graph: every module imports, no two modules import each other
(directly or through others), counting imports inside functions too (a loop hidden in a
function body is still a loop between the modules), and no module imports one of a higher
layer of ARCHITECTURE.md's layer table (the test reads the table, so the document stays true)."""

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "slmlab"
ARCHITECTURE = ROOT.parent / "ARCHITECTURE.md"
PACKAGES = ("world", "speech", "tokenizers", "corpus", "cli")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imported(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules that module `name` (at `path`) imports, anywhere in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            # `from pkg import module` depends on that module; `from pkg import name` on pkg
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imported(path, name, set(mods)) for name, path in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return sorted(out)


def test_cycle_finder_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_slmlab_modules():
    found = cycles(graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def unit(module: str) -> str:
    """The name a module has in the layer table: its package for the sub-packages
    (slmlab.world.lexicon -> world), else its own (slmlab.train -> train, slmlab -> slmlab)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "slmlab"
    return parts[1]


def layers() -> dict[str, int]:
    """{unit: layer} from the `| layer | modules |` table of ARCHITECTURE.md."""
    table = {}
    for n, names in re.findall(r"^\| (\d+) \| (.+) \|$", ARCHITECTURE.read_text(), re.M):
        for name in re.findall(r"`([\w_]+)`", names):
            table[name] = int(n)
    return table


def test_every_module_has_a_layer():
    table = layers()
    assert table, "no layer table in ARCHITECTURE.md"
    missing = sorted({unit(m) for m in modules()} - set(table))
    assert not missing, f"add to ARCHITECTURE.md's layer table: {missing}"


def test_no_module_imports_a_higher_layer():
    table = layers()
    bad = [f"{a} (layer {table[unit(a)]}) imports {b} (layer {table[unit(b)]})"
           for a, targets in graph().items() for b in targets
           if unit(b) in table and unit(a) in table and table[unit(b)] > table[unit(a)]]
    assert not bad, "; ".join(sorted(bad))


@pytest.mark.parametrize("name", sorted(modules()))
def test_every_module_imports(name):
    if name.endswith("__main__"):
        pytest.skip("runs the CLI when imported")
    importlib.import_module(name)
