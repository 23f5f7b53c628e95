"""What the commands print beside their answers: no TensorFlow banner, sizes in the units they name,
the README's next steps installed by ``make demo``."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from wordvecs.training.report import human_bytes

ROOT = Path(__file__).resolve().parents[1]
SRC = str(ROOT / "src")
BANNER = ("oneDNN", "absl", "cpu_feature_guard", "To enable the following instructions")


def test_sizes_are_decimal_units() -> None:
    """1 GB = 10^9 bytes, as the README counts: a 49.9e9-byte one-hot input is '49.9 GB'."""
    assert human_bytes(49_900_000_000) == "49.9 GB"
    assert human_bytes(124_600_000) == "124.6 MB"
    assert human_bytes(1500) == "1.5 KB"
    assert human_bytes(999) == "999 B"
    assert human_bytes(1_000_000) == "1.0 MB"
    assert human_bytes(None) == "?"


def test_make_demo_installs_what_the_readme_runs_next() -> None:
    """The README's step after the demo is ``wordvecs serve``: its extra comes with the demo."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"]
    assert "serve" in extras["demo"][0]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "pip install -q -e '.[demo,serve]'" in makefile


def _run(code: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for name in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND"):
        env.pop(name, None)
    return subprocess.run([sys.executable, *code], capture_output=True, text=True, env=env,
                          timeout=300)


def test_help_prints_nothing_on_stderr() -> None:
    out = _run(["-m", "wordvecs", "train", "--help"])
    assert out.returncode == 0 and "Usage" in out.stdout
    assert out.stderr == ""


@pytest.mark.keras
def test_keras_commands_import_keras_without_the_banner() -> None:
    """The CLI's Keras commands call quiet_keras() first: TensorFlow's start-up lines (written by
    its C++ logging, twice) do not reach stderr; other output still does."""
    pytest.importorskip("keras")
    out = _run(["-c", "import sys\nfrom wordvecs.cli.train_cmds import quiet_keras\n"
                "quiet_keras()\nimport keras\nkeras.ops.ones(2)\n"
                "print('still here', file=sys.stderr)"])
    assert out.returncode == 0, out.stderr
    assert not [line for line in out.stderr.splitlines() if any(b in line for b in BANNER)], \
        out.stderr
    assert "still here" in out.stderr
