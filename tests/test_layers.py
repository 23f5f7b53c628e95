"""The import graph holds the layers (issue 25): read by ``tools/import_graph.py``.

Layers, low to high: base -> core -> formats -> load -> text -> sets -> encoders -> training ->
face (``wordvecs/__init__.py``) -> cli: the readers build ``Vectors``, so the type and what
computes on it sit below them. Every import counts, lazy or not (``TYPE_CHECKING`` ones never
run and are left out). A new arrow up the layers, or a new cycle between two layer folders,
fails here: move the helper down instead, or, for a deliberate lazy call, add it below with why.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "import_graph.py"

#: The deliberate calls up the layers (at most 5), each lazy, inside the one function that needs it.
ALLOWED_UP = {
    # `wordvecs.load("glove-6b-50d")`: a source that is no path is a set name, opened by sets/
    ("wordvecs.loading", "wordvecs.sets.opener"),
    # a named encoder ("minilm") is distilled on first use: sets/ knows both (DESIGN.md)
    ("wordvecs.sets.opener", "wordvecs.encoders.distill"),
    # `Vectors.save` (and its store extras): the facade hands the writing to formats/
    ("wordvecs.vectors", "wordvecs.formats"),
    # `build_matrix("path/to/vectors.txt", vocab)`: a source that is not open yet is loaded
    ("wordvecs.matrix", "wordvecs.loading"),
}
#: Arrows up that are left to remove (none: it may only stay empty).
PENDING_UP: set[tuple[str, str]] = set()
PENDING_CYCLE: frozenset[str] = frozenset()


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _folder(module: str) -> str:
    """The layer folder of a module: sets, text, training, encoders, formats, cli, or core."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in ("sets", "text", "training", "encoders", "formats", "cli"):
        return parts[1]
    return "core"


def test_no_cycle_spans_two_layer_folders(tool: ModuleType) -> None:
    graph = tool.build()
    crossing = [c for c in graph.cycles() if len({_folder(m) for m in c}) > 1]
    assert all(set(c) <= PENDING_CYCLE for c in crossing), crossing


@pytest.mark.parametrize("circle", [
    # circle 1: the catalog, its download, the reader and the BERT wing imported each other
    ["wordvecs.sets.catalog", "wordvecs.sets.download", "wordvecs.sets.opener",
     "wordvecs.loading", "wordvecs.encoders.files", "wordvecs.encoders.distill"],
    # circle 2: the experiment held helpers its lower modules reached up for
    ["wordvecs.training.train", "wordvecs.training.classifier",
     "wordvecs.training.subword_predict", "wordvecs.encoders.contextual",
     "wordvecs.training.report"],
])
def test_circles_1_and_2_are_gone(tool: ModuleType, circle: list[str]) -> None:
    for component in tool.build().cycles():
        assert len(set(component) & set(circle)) <= 1, component


def test_upward_arrows_are_the_listed_ones(tool: ModuleType) -> None:
    up = set(tool.build().upward())
    assert len(ALLOWED_UP) <= 5
    assert up - PENDING_UP == ALLOWED_UP, sorted(up - PENDING_UP - ALLOWED_UP)
    assert up & PENDING_UP <= PENDING_UP


def test_the_core_never_imports_the_optional_rooms(tool: ModuleType) -> None:
    """formats/ and the top-level modules reach sets/, encoders/, training/ only by ALLOWED_UP."""
    graph = tool.build()
    out = {(s, d) for s, d in graph.edges()
           if tool.layer_of(s) in ("base", "core", "formats", "load")
           and tool.layer_of(d) in ("sets", "encoders", "training", "cli")}
    assert out <= ALLOWED_UP, sorted(out - ALLOWED_UP)


def test_every_import_names_a_module_that_exists(tool: ModuleType) -> None:
    assert tool.figures(tool.build())["missing"] == []


def test_the_graph_sees_lazy_imports(tool: ModuleType, tmp_path: Path) -> None:
    """The reader is not blind: a function-level import up the layers is an arrow, a
    ``TYPE_CHECKING`` one is not, and a cycle between two folders is found."""
    pkg = tmp_path / "wordvecs"
    (pkg / "sets").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sets" / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("")
    (pkg / "vectors.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from wordvecs.sets import catalog\n"
        "def f():\n    from wordvecs.sets.catalog import x\n")
    (pkg / "sets" / "catalog.py").write_text("from wordvecs import vectors\nfrom . import opener\n")
    (pkg / "sets" / "opener.py").write_text("from ..errors import Foo\n")
    graph = tool.build(pkg)
    assert graph.upward() == [("wordvecs.vectors", "wordvecs.sets.catalog")]
    assert graph.cycles() == [["wordvecs.sets.catalog", "wordvecs.vectors"]]
    assert [(s, d) for s, d, _ in graph.typing_only] == [
        ("wordvecs.vectors", "wordvecs.sets.catalog")]
    assert ("wordvecs.sets.catalog", "wordvecs.sets.opener") in graph.edges()  # relative
    assert ("wordvecs.sets.opener", "wordvecs.errors") in graph.edges()


def test_the_tool_runs_as_a_script() -> None:
    out = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("modules: ")


def test_the_catalog_is_data(tool: ModuleType) -> None:
    """sets/catalog.py imports no reader, no download and no encoder (issue 25: data and
    behaviour apart); the encoders' files depend on it, never on the code that opens sets."""
    arrows = dict(tool.build().arrows)
    assert set(arrows["wordvecs.sets.catalog"]) <= {"wordvecs.errors", "wordvecs.formats.store"}
    assert not any(d.startswith("wordvecs.encoders") for d in arrows["wordvecs.sets.download"])
    assert "wordvecs.loading" not in arrows["wordvecs.sets.download"]
    assert "wordvecs.sets.opener" not in arrows["wordvecs.encoders.files"]
