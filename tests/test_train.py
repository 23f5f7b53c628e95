"""The experiment, the report and the saved classifier, on tiny synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import wordvecs
from wordvecs.datasets import TextData, Vocabulary
from wordvecs.errors import DataError, VocabularyError

pytestmark = pytest.mark.keras

TOPICS = {
    "sport": ["goal", "match", "team", "player", "coach", "league", "score", "win", "season",
              "cup"],
    "money": ["bank", "shares", "market", "profit", "price", "trade", "economy", "rate",
              "stock", "firm"],
    "tech": ["computer", "software", "internet", "phone", "digital", "online", "chip", "data",
             "mobile", "web"],
}


def make_data(n: int = 30, seed: int = 0) -> TextData:
    rng = np.random.default_rng(seed)
    common = ["the", "a", "of", "and", "to", "in", "said"]
    texts, labels = [], []
    for label, words in TOPICS.items():
        for _ in range(n):
            toks = list(rng.choice(words, 6)) + list(rng.choice(common, 4))
            rng.shuffle(toks)
            texts.append(" ".join(toks))
            labels.append(label)
    return TextData(texts, labels, "memory", "tiny")


def make_vectors(dim: int = 8) -> wordvecs.Vectors:
    rng = np.random.default_rng(1)
    words = [w for ws in TOPICS.values() for w in ws] + ["the", "a", "of", "and", "to", "in"]
    centres = {t: rng.standard_normal(dim) for t in TOPICS}
    rows = []
    for w in words:
        topic = next((t for t, ws in TOPICS.items() if w in ws), None)
        base = centres[topic] if topic else np.zeros(dim)
        rows.append(base + 0.3 * rng.standard_normal(dim))
    return wordvecs.Vectors(words, np.asarray(rows, dtype=np.float32), source="tiny-vectors")


def config(**kw):  # type: ignore[no-untyped-def]
    from wordvecs.train import TrainConfig

    base = {"model": "avg", "epochs": 2, "max_tokens": 50, "fractions": (0.5, 1.0),
            "learning_rate": 0.01}
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from wordvecs.report import write_report
    from wordvecs.train import run_experiment

    out = tmp_path_factory.mktemp("run")
    exp = run_experiment(make_data(), make_vectors(), config(), out=out, progress=False)
    write_report(exp, out)
    return exp, out


def test_experiment_runs_every_mode_and_fraction(trained) -> None:  # type: ignore[no-untyped-def]
    exp, _ = trained
    assert {(r.mode, r.fraction) for r in exp.runs} == {
        (m, f) for m in ("frozen", "finetune", "scratch") for f in (0.5, 1.0)}
    frozen = exp.run("frozen", 1.0)
    scratch = exp.run("scratch", 1.0)
    assert frozen is not None and scratch is not None
    assert frozen.frozen_params > 0 and scratch.frozen_params == 0
    assert frozen.trainable_params < scratch.trainable_params
    assert 1 <= frozen.epochs <= 2 and 0 <= frozen.test_accuracy <= 1
    assert exp.dataset["train"] + exp.dataset["validation"] + exp.dataset["test"] == 90
    assert exp.memory["one_hot_bytes"] > exp.memory["embedded_bytes"]
    assert exp.coverage["coverage"] > 0.9


def test_report_files(trained) -> None:  # type: ignore[no-untyped-def]
    _, out = trained
    for name in ("report.md", "report.json", "learning_curve.png", "training_curves.png",
                 "model.keras", "vocabulary.json", "labels.json", "classifier.json"):
        assert (out / name).is_file(), name
    rep = json.loads((out / "report.json").read_text())
    assert {"test_accuracy", "macro_f1", "epochs", "train_seconds", "trainable_params",
            "frozen_params"} <= set(rep["runs"][0])
    assert "coverage" in rep and "memory" in rep
    md = (out / "report.md").read_text()
    assert "| frozen | 50% |" in md and "one-hot" in md
    assert not list(out.glob(".*tmp*"))
    assert (out / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"


def test_same_seed_same_numbers(trained) -> None:  # type: ignore[no-untyped-def]
    from wordvecs.train import run_experiment

    exp, _ = trained
    again = run_experiment(make_data(), make_vectors(), config(), progress=False)
    assert [r.test_accuracy for r in again.runs] == [r.test_accuracy for r in exp.runs]
    for a, b in zip(again.runs, exp.runs):
        assert a.history["loss"] == pytest.approx(b.history["loss"], rel=1e-5)


def test_classifier_round_trip(trained) -> None:  # type: ignore[no-untyped-def]
    _, out = trained
    clf = wordvecs.load_classifier(out)
    preds = clf.predict(["goal match team win", "bank shares profit"])
    assert len(preds) == 2
    assert all(label in TOPICS and 0 <= p <= 1 for label, p in preds)
    assert clf.predict_proba(["goal"]).shape == (1, 3)
    assert clf.predict([]) == []
    scores = clf.evaluate(["goal match", "bank shares"], ["sport", "money"])
    assert 0 <= scores["accuracy"] <= 1
    assert (out / "model.keras").stat().st_size < 200_000


def test_classifier_bad_input(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, out = trained
    clf = wordvecs.load_classifier(out)
    with pytest.raises(DataError, match="text 2 is empty"):
        clf.predict(["goal", " "])
    with pytest.raises(DataError, match="label 'weather' was never seen"):
        clf.evaluate(["goal", "rain"], ["sport", "weather"])
    with pytest.raises(DataError, match="not a saved classifier"):
        wordvecs.load_classifier(tmp_path)
    from wordvecs.train import Classifier

    with pytest.raises(VocabularyError, match="rows but the vocabulary has"):
        Classifier(clf.model, Vocabulary(["only"]), clf.labels, clf.max_len)


def test_build_model_rejects_bad_matrix() -> None:
    from wordvecs.train import build_model

    m = np.zeros((10, 8), dtype=np.float32)
    with pytest.raises(VocabularyError, match="10 rows but the vocabulary needs 12"):
        build_model("avg", max_len=5, n_classes=2, rows=12, dim=8, mode="frozen", matrix=m)
    with pytest.raises(VocabularyError, match="dim mismatch"):
        build_model("avg", max_len=5, n_classes=2, rows=10, dim=16, mode="frozen", matrix=m)


def test_experiment_bad_data() -> None:
    from wordvecs.train import run_experiment

    v = make_vectors()
    with pytest.raises(DataError, match="only one class"):
        run_experiment(TextData(["a b"] * 10, ["x"] * 10), v, config(), progress=False)
    with pytest.raises(DataError, match="too few"):
        run_experiment(TextData(["a b", "c d"], ["x", "y"]), v, config(), progress=False)
    with pytest.raises(ValueError, match="unknown mode 'frozn'"):
        run_experiment(make_data(), v, config(modes=("frozn",)), progress=False)


@pytest.mark.parametrize("model", ["cnn", "bilstm"])
def test_other_models_build(model: str) -> None:
    from wordvecs.train import build_model

    m = build_model(model, max_len=12, n_classes=3, rows=20, dim=8, mode="scratch")
    x = np.random.default_rng(0).integers(0, 20, (4, 12)).astype("int32")
    assert m.predict(x, verbose=0).shape == (4, 3)
