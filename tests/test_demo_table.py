"""The demo table is what `wordvecs demo` gives: the GloVe runs, checked number by number.

The demo is deterministic for a seed on a backend (TensorFlow op determinism on), so the table
in "What `wordvecs demo` shows" (in README.md and in docs/benchmarks.md) must equal the report of
a fresh run here, to the three decimals it prints. When the code changes the numbers, this test
fails until both are updated from such a run (the MiniLM rows, which need the model package,
are checked by their own tests).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

pytestmark = [pytest.mark.slow, pytest.mark.keras]

ROOT = Path(__file__).resolve().parents[1]
#: The documents that print the demo's table: the README's headline figures and the benchmarks.
DOCUMENTS = [ROOT / "README.md", ROOT / "docs" / "benchmarks.md"]
HEADING = re.compile(r"^(?P<level>#+) What `wordvecs demo` shows$", re.M)
MODES = {"frozen GloVe": "frozen", "fine-tuned GloVe": "finetune", "from scratch": "scratch",
         "stack": "stack", "TF-IDF + logistic regression": "tfidf",
         "mean GloVe vector + logistic regression": "meanvec",
         "MiniLM sentence embedding + logistic regression": "sentvec"}
#: The table's columns after the method: the training fractions.
FRACTIONS = (0.1, 0.3, 1.0)


def readme_table(path: Path = DOCUMENTS[0]) -> dict[tuple[str, float], str]:
    """(mode, fraction) -> test accuracy as the document prints it (its section "What `wordvecs
    demo` shows", up to the next heading of the same level or above)."""
    text = path.read_text(encoding="utf-8")
    heading = HEADING.search(text)
    assert heading, f"{path.name}: no section 'What `wordvecs demo` shows'"
    section = text[heading.end():]
    level = len(heading.group("level"))
    end = re.search(rf"^#{{1,{level}}} ", section, re.M)
    section = section[:end.start()] if end else section
    rows = {}
    for line in section.splitlines():
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if len(cells) == 1 + len(FRACTIONS) and cells[0] in MODES:
            for fraction, cell in zip(FRACTIONS, cells[1:]):
                rows[(MODES[cells[0]], fraction)] = cell
    return rows


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_readme_demo_table_parses(path: Path) -> None:
    rows = readme_table(path)
    assert set(rows) == {(m, f) for m in MODES.values() for f in FRACTIONS}


def test_demo_tables_agree() -> None:
    """The README's headline table and the benchmarks page print the same figures."""
    first, *others = (readme_table(p) for p in DOCUMENTS)
    assert all(other == first for other in others)


def test_readme_demo_table_equals_a_fresh_run(tmp_path: Path) -> None:
    import keras

    from wordvecs.cli import cli

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the README's table is the TensorFlow backend's")
    out = tmp_path / "demo"
    res = CliRunner().invoke(cli, ["demo", "--no-bert", "--quiet", "--out", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    got = {(r["mode"], r["fraction"]): f"{r['test_accuracy']:.3f}" for r in report["runs"]}
    for path in DOCUMENTS:
        want = readme_table(path)
        differ = {k: (want[k], got.get(k)) for k in want if got.get(k) != want[k]}
        assert not differ, f"{path.name} demo table ({path.name}, this run): {differ}"
