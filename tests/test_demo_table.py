"""The README's demo table is what `wordvecs demo` gives: the GloVe runs, checked number by number.

The demo is deterministic for a seed on a backend (TensorFlow op determinism on), so the table
in "What `wordvecs demo` shows" must equal the report of a fresh run here, to the three decimals
it prints. When the code changes the numbers, this test fails until the README is updated from
such a run (the MiniLM rows, which need the model package, are checked by their own tests).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

pytestmark = [pytest.mark.slow, pytest.mark.keras]

README = Path(__file__).resolve().parents[1] / "README.md"
MODES = {"frozen GloVe": "frozen", "fine-tuned GloVe": "finetune", "from scratch": "scratch"}


def readme_table() -> dict[tuple[str, float], tuple[str, str]]:
    """(mode, fraction) -> (test accuracy, macro-F1) as the README prints them."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### What `wordvecs demo` shows"):]
    section = section[:section.index("\n## ")]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] in MODES:
            fraction = int(re.match(r"(\d+)%", cells[1]).group(1)) / 100  # type: ignore[union-attr]
            rows[(MODES[cells[0]], fraction)] = (cells[2], cells[3])
    return rows


def test_readme_demo_table_parses() -> None:
    rows = readme_table()
    assert set(rows) == {(m, f) for m in MODES.values() for f in (0.1, 0.3, 1.0)}


def test_readme_demo_table_equals_a_fresh_run(tmp_path: Path) -> None:
    import keras

    from wordvecs.cli import cli

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the README's table is the TensorFlow backend's")
    out = tmp_path / "demo"
    res = CliRunner().invoke(cli, ["demo", "--no-bert", "--quiet", "--out", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    got = {(r["mode"], r["fraction"]): (f"{r['test_accuracy']:.3f}", f"{r['macro_f1']:.3f}")
           for r in report["runs"]}
    want = readme_table()
    differ = {k: (want[k], got.get(k)) for k in want if got.get(k) != want[k]}
    assert not differ, f"README demo table (README, this run): {differ}"
