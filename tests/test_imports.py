"""``import wordvecs`` stays light: checked in a fresh interpreter, where nothing else has imported
Keras, TensorFlow, JAX, matplotlib or pandas first (inside the test session they often already are).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")
HEAVY = ("keras", "tensorflow", "jax", "matplotlib", "pandas", "torch", "gensim", "sklearn")


def _heavy_after(code: str, tmp_path: Path) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter; after each ``mark("step")`` it records which heavy
    top-level modules are imported. Returns step -> the heavy modules seen then."""
    prelude = textwrap.dedent(f"""
        import json, sys
        HEAVY = {HEAVY!r}
        seen = {{}}
        def mark(step):
            seen[step] = sorted(m for m in HEAVY if m in sys.modules)
    """)
    script = prelude + textwrap.dedent(code) + "\nprint(json.dumps(seen))\n"
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("KERAS_BACKEND", None)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_load_build_matrix_and_store_import_nothing_heavy(tmp_path: Path) -> None:
    seen = _heavy_after(f"""
        import numpy as np
        mark("start")
        import wordvecs
        mark("import wordvecs")
        v = wordvecs.load("glove-6b-50d")
        v["king"]; "queen" in v; v.index("man")
        mark("wordvecs.load (bundled set) and lookups")
        em = wordvecs.build_matrix(v, ["", "[UNK]", "king", "zzqxv"], oov="random")
        mark("build_matrix")
        small = wordvecs.Vectors(["a", "b"], np.ones((2, 3), np.float32))
        small.save({str(tmp_path / "s.wv")!r})
        mark("Vectors.save (store)")
        s = wordvecs.load({str(tmp_path / "s.wv")!r})
        s["a"]; s.words
        wordvecs.build_matrix(s, {{"a": 1, "c": 2}})
        mark("open a store, look up, build_matrix")
        v.most_similar("king", topn=3)
        mark("most_similar")
    """, tmp_path)
    assert list(seen) == ["start", "import wordvecs", "wordvecs.load (bundled set) and lookups",
                          "build_matrix", "Vectors.save (store)",
                          "open a store, look up, build_matrix", "most_similar"]
    assert seen == {step: [] for step in seen}


def test_the_check_sees_a_heavy_import(tmp_path: Path) -> None:
    """The probe above is not blind: a step that imports pandas is reported."""
    pytest.importorskip("pandas")
    seen = _heavy_after("""
        import wordvecs
        mark("a")
        import pandas
        mark("b")
    """, tmp_path)
    assert seen == {"a": [], "b": ["pandas"]}


def test_dir_lists_the_lazy_names() -> None:
    import wordvecs

    names = dir(wordvecs)
    assert set(wordvecs.__all__) <= set(names)
    assert {"keras", "build_matrix", "distill", "load_classifier", "ApproximateIndex"} <= set(names)
    assert names == sorted(names)


def test_wordvecs_keras_is_an_attribute_without_importing_keras(tmp_path: Path) -> None:
    """The module docstring's ``wordvecs.keras.embedding_layer(em)`` after ``import wordvecs``."""
    seen = _heavy_after("""
        import wordvecs
        mark("import wordvecs")
        assert "keras" in dir(wordvecs)
        layer = wordvecs.keras.embedding_layer
        assert callable(layer)
        mark("wordvecs.keras.embedding_layer")
    """, tmp_path)
    assert seen == {"import wordvecs": [], "wordvecs.keras.embedding_layer": []}


def test_reading_a_text_file_does_not_import_the_model_reader(tmp_path: Path) -> None:
    """Telling a GloVe or word2vec text file from a fastText model reads four bytes: the model
    reader (and the subword machinery it brings) is not imported on the way to a text read."""
    (tmp_path / "v.txt").write_text("a 1.5 2\nb 3 4\n", encoding="utf-8")
    (tmp_path / "v.vec").write_text("2 2\na 1.5 2\nb 3 4\n", encoding="utf-8")
    code = textwrap.dedent("""
        import json, sys
        import wordvecs
        seen = {}
        for name, fmt in (("v.txt", "auto"), ("v.vec", "auto"), ("v.txt", "glove")):
            wordvecs.load(name, format=fmt)
            seen[name + " " + fmt] = sorted(m for m in sys.modules if m.startswith(
                ("wordvecs.formats.fasttext", "wordvecs.subwords", "wordvecs.formats.subword")))
        print(json.dumps(seen))
    """)
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {
        "v.txt auto": [], "v.vec auto": [], "v.txt glove": []}
