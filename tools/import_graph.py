"""The import graph of ``src/wordvecs``: its cycles and the imports that run up the layers.

Run ``python tools/import_graph.py`` (``--json`` for the figures as JSON). Every ``import`` and
``from ... import`` in a module counts as an arrow, at module level or inside a function (a lazy
import is still a dependency); relative imports are resolved; ``from pkg import name`` points at
``pkg.name`` when that is a module, else at ``pkg``. Imports under ``if TYPE_CHECKING:`` never run,
so they are left out of the graph and listed on their own. The package's ``_LAZY`` table (the
names ``wordvecs`` imports on first use) counts as arrows from ``wordvecs`` too.

Layers, low to high (an import may run down or sideways, never up; ``LAYERS`` below is the table):
base (errors, _atomic, _arrow, _hashing, progress, sources, _version, the compiled kernels and
``subwords``, their Python face) -> core (``Vectors`` and what computes on it: similarity,
resolve, matrix, keras...) -> formats (the readers and writers that build and keep ``Vectors``)
-> load (``loading``, ``reading``: one call for every source) -> text -> sets -> encoders ->
training -> face (``wordvecs`` itself, whose lazy table reaches every room) -> cli.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "wordvecs"
PACKAGE = "wordvecs"

#: Layers from low to high: (name, the modules in it). A module is matched by its dotted name or
#: by a prefix ending in ".", first match wins; ``None`` is the catch-all for the top level.
LAYERS: list[tuple[str, tuple[str, ...] | None]] = [
    ("base", ("wordvecs.errors", "wordvecs._atomic", "wordvecs._arrow", "wordvecs._hashing",
              "wordvecs.progress", "wordvecs.sources", "wordvecs._version", "wordvecs._ckernel",
              "wordvecs._ftkernel", "wordvecs.subwords")),
    ("load", ("wordvecs.loading", "wordvecs.reading")),
    ("formats", ("wordvecs.formats", "wordvecs.formats.")),
    ("text", ("wordvecs.text", "wordvecs.text.")),
    ("sets", ("wordvecs.sets", "wordvecs.sets.")),
    ("encoders", ("wordvecs.encoders", "wordvecs.encoders.")),
    ("training", ("wordvecs.training", "wordvecs.training.")),
    ("cli", ("wordvecs.cli", "wordvecs.cli.", "wordvecs.__main__")),
    ("face", ("wordvecs",)),
    ("core", None),
]
#: The order of the layers, low to high.
ORDER = ["base", "core", "formats", "load", "text", "sets", "encoders", "training", "face", "cli"]


def layer_of(module: str) -> str:
    """The layer of a module of the package."""
    for name, members in LAYERS:
        if members is None:
            return name
        for m in members:
            if module == m or (m.endswith(".") and module.startswith(m)):
                return name
    raise AssertionError(module)


@dataclass
class Graph:
    """Modules, the arrows between them (``src -> {dst: [line, ...]}``) and TYPE_CHECKING ones."""

    modules: list[str]
    arrows: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    typing_only: list[tuple[str, str, int]] = field(default_factory=list)

    def edges(self) -> list[tuple[str, str]]:
        return sorted((s, d) for s, ds in self.arrows.items() for d in ds)

    def upward(self) -> list[tuple[str, str]]:
        """The arrows from a lower layer to a higher one."""
        rank = {name: i for i, name in enumerate(ORDER)}
        return [(s, d) for s, d in self.edges()
                if rank[layer_of(s)] < rank[layer_of(d)]]

    def cycles(self) -> list[list[str]]:
        """The strongly connected components of more than one module (Tarjan), sorted."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on: set[str] = set()
        out: list[list[str]] = []
        counter = [0]

        def visit(v: str) -> None:
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in self.arrows.get(v, {}):
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

        for v in self.modules:
            if v not in index:
                visit(v)
        return sorted(out)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_pkg: bool,
             known: set[str]) -> list[str]:
    """The modules of the package that one import statement reaches."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == PACKAGE]
    if node.level:
        base = module.split(".") if is_pkg else module.split(".")[:-1]
        base = base[:len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != PACKAGE:
        return []
    # ``from pkg import mod`` reaches the module; ``from mod import name`` the module itself (a
    # module that does not exist is kept by its name: ``figures`` lists it as missing)
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in known else target
            for a in node.names]


def build(root: Path = ROOT) -> Graph:
    """Read every module under ``root`` and collect its imports of the package."""
    files = sorted(root.rglob("*.py"))
    known = {module_name(p, root) for p in files}
    known |= {f"{PACKAGE}.{p.name.split('.')[0]}" for p in root.glob("*.so")}
    known |= {f"{PACKAGE}.{p.name.split('.')[0]}" for p in root.glob("*.pyi")}
    graph = Graph(sorted(known))
    for path in files:
        module = module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        typing_lines: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                for sub in node.body:
                    typing_lines |= {n.lineno for n in ast.walk(sub) if hasattr(n, "lineno")}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for dst in _targets(node, module, path.name == "__init__.py", known):
                if dst == module:
                    continue
                if node.lineno in typing_lines:
                    if (module, dst, node.lineno) not in graph.typing_only:
                        graph.typing_only.append((module, dst, node.lineno))
                else:
                    graph.arrows.setdefault(module, {}).setdefault(dst, []).append(node.lineno)
        if module == PACKAGE:  # the lazy table: names imported on first use
            for node in tree.body:
                if (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and isinstance(node.targets[0], ast.Name)
                        and node.targets[0].id == "_LAZY"):
                    for dst, _ in ast.literal_eval(node.value).values():
                        graph.arrows.setdefault(module, {}).setdefault(dst, []).append(
                            node.lineno)
    return graph


def figures(graph: Graph) -> dict[str, object]:
    """The numbers a commit message quotes, and the lists behind them."""
    missing = sorted({d for _, d in graph.edges() if d not in graph.modules})
    return {
        "modules": len(graph.modules),
        "arrows": len(graph.edges()),
        "upward": [f"{s} -> {d}" for s, d in graph.upward()],
        "cycles": [" <-> ".join(c) for c in graph.cycles()],
        "typing_only": [f"{s} -> {d} (line {n})" for s, d, n in graph.typing_only],
        "missing": missing,
    }


def main(argv: list[str]) -> int:
    graph = build()
    fig = figures(graph)
    if "--json" in argv:
        print(json.dumps(fig, indent=2))
        return 0
    up, cyc = fig["upward"], fig["cycles"]
    assert isinstance(up, list) and isinstance(cyc, list)
    print(f"modules: {fig['modules']}  arrows: {fig['arrows']}  upward: {len(up)}  "
          f"cycles: {len(cyc)} ({', '.join(str(len(c)) for c in graph.cycles())} modules)  "
          f"(TYPE_CHECKING imports, not counted: "
          f"{len(fig['typing_only'])})")  # type: ignore[arg-type]
    print("\ncycles (strongly connected components):")
    for c in cyc:
        print(f"  {c}")
    print("\nupward arrows (a lower layer importing a higher one):")
    for a in up:
        s, d = a.split(" -> ")
        print(f"  {a}   [{layer_of(s)} -> {layer_of(d)}] line(s) "
              f"{graph.arrows[s][d]}")
    print("\nTYPE_CHECKING only:")
    for t in fig["typing_only"]:  # type: ignore[attr-defined]
        print(f"  {t}")
    if fig["missing"]:
        print("\nimports of modules that do not exist:")
        for m in fig["missing"]:  # type: ignore[attr-defined]
            print(f"  {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
