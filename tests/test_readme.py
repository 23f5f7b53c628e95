"""The README runs: every Python block and every ``wordvecs`` command line in it.

Blocks run in a temporary folder that holds small files under the names the README uses
(``glove.6B.100d.txt``, ``crawl-300d-2M.vec.gz``, ...: real GloVe rows in each format), so a
reader's copy-paste and this test do the same thing. A block that needs the network or a long
run says so in an HTML comment on the line before its fence,
``<!-- readme-test: skip (reason) -->``; the test checks there are few such blocks and that each
gives its reason. In shell blocks, a line is run when it starts with ``wordvecs`` (or
``$ wordvecs``); placeholders in capitals (``DATA``, ``SOURCE``) mark a template and are skipped.
"""

from __future__ import annotations

import gzip
import re
import shlex
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

import wordvecs

README = Path(__file__).resolve().parents[1] / "README.md"
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s*\((?P<why>[^)]+)\)\s*-->")
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]{2,}\b")


@dataclass(frozen=True)
class Block:
    lang: str
    line: int
    code: str
    skip: str | None

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.lang})"


def blocks() -> list[Block]:
    lines = README.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        before = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
        skip = SKIP.search(before)
        out.append(Block(lang, start + 1, "\n".join(lines[start + 1:j]),
                         skip.group("why") if skip else None))
        i = j + 1
    return out


PYTHON = [b for b in blocks() if b.lang == "python"]
SHELL = [b for b in blocks() if b.lang in ("bash", "console", "sh")]


def commands(block: Block) -> list[str]:
    found = []
    for raw in block.code.splitlines():
        line = raw.strip()
        if line.startswith("$ "):
            line = line[2:]
        for part in line.split(";"):
            part = part.split("  #", 1)[0].strip()
            if part.startswith("wordvecs "):
                found.append(part)
    return found


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, glove50) -> Path:
    """Small files under the README's names: the first 5,000 GloVe 6B 50d rows in each format."""
    d = tmp_path_factory.mktemp("readme")
    small = wordvecs.load(glove50, limit=5000)
    small.save(d / "glove.6B.100d.txt", format="glove")
    small.save(d / "glove.840B.300d.txt", format="glove")
    small.save(d / "glove50.txt", format="glove")
    text = small.save(d / "crawl.vec", format="word2vec")
    (d / "crawl-300d-2M.vec.gz").write_bytes(gzip.compress(text.read_bytes()))
    binary = small.save(d / "gn.bin", format="word2vec-binary")
    (d / "GoogleNews-vectors-negative300.bin.gz").write_bytes(gzip.compress(binary.read_bytes()))
    with zipfile.ZipFile(d / "glove.6B.zip", "w") as z:
        z.write(d / "glove.6B.100d.txt", "glove.6B.300d.txt")
    (d / "my_vocab.txt").write_text("king\nqueen\nfrog\nparis\n", encoding="utf-8")
    return d


def test_readme_has_blocks_and_few_skips() -> None:
    assert len(PYTHON) >= 4 and len(SHELL) >= 3
    skipped = [b for b in PYTHON + SHELL if b.skip]
    assert all(len(b.skip or "") >= 8 for b in skipped)  # every skip says why
    assert len(skipped) <= len(PYTHON + SHELL) // 3


@pytest.mark.parametrize("block", PYTHON, ids=str)
def test_python_block_runs(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if block.skip:
        pytest.skip(block.skip)
    monkeypatch.chdir(workdir)
    namespace: dict[str, object] = {"__name__": "readme"}
    exec(compile(block.code, str(block), "exec"), namespace)


@pytest.mark.parametrize("block", SHELL, ids=str)
def test_cli_lines_run(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wordvecs.cli import cli

    if block.skip:
        pytest.skip(block.skip)
    lines = [c for c in commands(block) if not PLACEHOLDER.search(c)]
    if not lines:
        pytest.skip("no runnable wordvecs line (templates only)")
    monkeypatch.chdir(workdir)
    runner = CliRunner()
    for line in lines:
        args = shlex.split(line)[1:]
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, f"{block}: `{line}` -> {result.output}"

