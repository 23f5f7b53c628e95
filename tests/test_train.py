"""The experiment, the report and the saved classifier, on tiny synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wordvecs
from wordvecs.errors import DataError, VocabularyError
from wordvecs.text.datasets import TextData, Vocabulary

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
    from wordvecs.training.train import TrainConfig

    base = {"model": "avg", "epochs": 2, "max_tokens": 50, "fractions": (0.5, 1.0),
            "learning_rate": 0.01}
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from wordvecs.training.report import write_report
    from wordvecs.training.train import run_experiment

    out = tmp_path_factory.mktemp("run")
    exp = run_experiment(make_data(), make_vectors(), config(), out=out, progress=False)
    write_report(exp, out)
    return exp, out


@pytest.mark.keras
def test_experiment_runs_every_mode_and_fraction(trained) -> None:  # type: ignore[no-untyped-def]
    exp, _ = trained
    assert {(r.mode, r.fraction) for r in exp.runs} == {
        (m, f) for m in ("frozen", "finetune", "scratch", "tfidf", "meanvec", "sentvec", "stack")
        for f in (0.5, 1.0)}
    frozen = exp.run("frozen", 1.0)
    scratch = exp.run("scratch", 1.0)
    assert frozen is not None and scratch is not None
    assert frozen.frozen_params > 0 and scratch.frozen_params == 0
    assert frozen.trainable_params < scratch.trainable_params
    assert 1 <= frozen.epochs <= 2 and 0 <= frozen.test_accuracy <= 1
    assert exp.dataset["train"] + exp.dataset["validation"] + exp.dataset["test"] == 90
    assert exp.memory["one_hot_bytes"] > exp.memory["embedded_bytes"]
    assert exp.coverage["coverage"] > 0.9


@pytest.mark.keras
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


@pytest.mark.keras
def test_same_seed_same_numbers(trained) -> None:  # type: ignore[no-untyped-def]
    from wordvecs.training.train import run_experiment

    exp, _ = trained
    again = run_experiment(make_data(), make_vectors(), config(), progress=False)
    assert [r.test_accuracy for r in again.runs] == [r.test_accuracy for r in exp.runs]
    for a, b in zip(again.runs, exp.runs):
        if not a.history:  # a baseline, the stack: the same settings and the same predictions
            assert a.params == b.params and a.test_interval == b.test_interval
            np.testing.assert_array_equal(again.predictions[(a.mode, a.fraction)],
                                          exp.predictions[(b.mode, b.fraction)])
        else:
            assert a.history["loss"] == pytest.approx(b.history["loss"], rel=1e-5)
    assert again.verdict == exp.verdict


@pytest.mark.keras
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


@pytest.mark.keras
def test_classifier_bad_input(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, out = trained
    clf = wordvecs.load_classifier(out)
    with pytest.raises(DataError, match="text 2 is empty"):
        clf.predict(["goal", " "])
    with pytest.raises(DataError, match="label 'weather' was never seen"):
        clf.evaluate(["goal", "rain"], ["sport", "weather"])
    with pytest.raises(DataError, match="not a saved classifier"):
        wordvecs.load_classifier(tmp_path)
    from wordvecs.training.train import Classifier

    with pytest.raises(VocabularyError, match="rows but the vocabulary has"):
        Classifier(clf.model, Vocabulary(["only"]), clf.labels, clf.max_len)


@pytest.mark.keras
def test_build_model_rejects_bad_matrix() -> None:
    from wordvecs.training.train import build_model

    m = np.zeros((10, 8), dtype=np.float32)
    with pytest.raises(VocabularyError, match="10 rows but the vocabulary needs 12"):
        build_model("avg", max_len=5, n_classes=2, rows=12, dim=8, mode="frozen", matrix=m)
    with pytest.raises(VocabularyError, match="dim mismatch"):
        build_model("avg", max_len=5, n_classes=2, rows=10, dim=16, mode="frozen", matrix=m)


@pytest.mark.keras
def test_experiment_bad_data() -> None:
    from wordvecs.training.train import run_experiment

    v = make_vectors()
    with pytest.raises(DataError, match="only one class"):
        run_experiment(TextData(["a b"] * 10, ["x"] * 10), v, config(), progress=False)
    with pytest.raises(DataError, match="too few"):
        run_experiment(TextData(["a b", "c d"], ["x", "y"]), v, config(), progress=False)
    with pytest.raises(ValueError, match="unknown mode 'frozn'"):
        run_experiment(make_data(), v, config(modes=("frozn",)), progress=False)


@pytest.mark.keras
@pytest.mark.parametrize("model", ["cnn", "bilstm"])
def test_other_models_build(model: str) -> None:
    from wordvecs.training.train import build_model

    m = build_model(model, max_len=12, n_classes=3, rows=20, dim=8, mode="scratch")
    x = np.random.default_rng(0).integers(0, 20, (4, 12)).astype("int32")
    assert m.predict(x, verbose=0).shape == (4, 3)


# --- issue 16: the metric against scikit-learn, beating chance, early stopping, best model ------
@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6).flatmap(lambda k: st.tuples(st.just(k), st.lists(
    st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=1, max_size=60))))
def test_macro_f1_equals_scikit_learn(case: tuple[int, list[tuple[int, int]]]) -> None:
    from sklearn.metrics import f1_score

    from wordvecs.metrics import macro_f1

    k, pairs = case
    y_true = np.array([a for a, _ in pairs])
    y_pred = np.array([b for _, b in pairs])
    expected = f1_score(y_true, y_pred, labels=list(range(k)), average="macro", zero_division=0)
    assert macro_f1(y_true, y_pred, k) == pytest.approx(expected, abs=1e-12)


def test_macro_f1_known_value() -> None:
    from wordvecs.metrics import macro_f1

    # class 0: tp 2, fp 1, fn 0 -> 0.8; class 1: tp 1, fp 0, fn 1 -> 2/3; class 2 absent -> 0
    assert macro_f1(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 0]), 3) == pytest.approx(
        (0.8 + 2 / 3 + 0) / 3)


@pytest.mark.keras
def test_trained_classifier_beats_chance_on_held_out_split(trained) -> None:  # type: ignore[no-untyped-def]
    """Three balanced classes (chance 1/3): the saved model scores >= 0.8 on the test split,
    recomputed here from the split's indices, not taken from the experiment's own numbers."""
    from wordvecs.text.datasets import stratified_split

    exp, out = trained
    data = make_data()
    _, _, test_idx = stratified_split(data.labels, exp.config.seed, exp.config.val,
                                      exp.config.test)
    assert len(test_idx) == exp.dataset["test"] == 18
    clf = wordvecs.load_classifier(out)
    scores = clf.evaluate([data.texts[i] for i in test_idx], [data.labels[i] for i in test_idx])
    assert scores["accuracy"] >= 0.8 and scores["macro_f1"] >= 0.8
    assert scores["accuracy"] == pytest.approx(exp.best["test_accuracy"])


@pytest.mark.keras
def test_early_stopping_and_best_model_selection(tmp_path: Path) -> None:
    """Stopped ``patience`` epochs after the best validation loss, the best epoch's weights
    restored, and the saved model the mode with the best validation accuracy."""
    from wordvecs.text.datasets import stratified_split
    from wordvecs.training.train import run_experiment

    cfg = config(modes=("frozen", "scratch"), fractions=(1.0,), epochs=12, patience=1,
                 learning_rate=0.2, baselines=False)
    clean = make_data()
    labels = list(clean.labels)
    classes = sorted(TOPICS)
    for i in range(0, len(labels), 4):  # a quarter of the labels wrong: it overfits, val loss rises
        labels[i] = classes[(classes.index(labels[i]) + 1) % 3]
    data = TextData(clean.texts, labels, "memory", "noisy")
    exp = run_experiment(data, make_vectors(), cfg, out=tmp_path, progress=False)
    for r in exp.runs:
        losses = r.history["val_loss"]
        assert r.best_epoch == int(np.argmin(losses)) + 1
        assert r.epochs < cfg.epochs and r.epochs == r.best_epoch + cfg.patience
        assert losses[-1] > min(losses)  # the last epoch is not the best: weights were restored
    best = max(exp.runs, key=lambda r: r.val_accuracy)  # max keeps the first of equals
    assert exp.best["mode"] == best.mode
    clf = wordvecs.load_classifier(tmp_path)
    assert clf.info["mode"] == best.mode
    _, val_idx, _ = stratified_split(data.labels, cfg.seed, cfg.val, cfg.test)
    x = clf.vocabulary.encode([data.texts[i] for i in val_idx], clf.max_len)
    y = np.array([clf.labels.index(data.labels[i]) for i in val_idx])
    p = clf.model.predict(x, verbose=0)
    loss = float(-np.mean(np.log(p[np.arange(len(y)), y])))
    assert loss == pytest.approx(min(best.history["val_loss"]), rel=1e-4)
    assert float(np.mean(np.argmax(p, axis=1) == y)) == pytest.approx(best.val_accuracy)


@pytest.mark.keras
def test_console_and_report_round_times_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of 7.4499999 s read 7.4 s on the console and 7.5 in report.md."""
    import types

    import wordvecs.training.train as train_mod
    from wordvecs.training.report import results_table
    from wordvecs.training.train import run_experiment

    ticks = iter(np.arange(1000) * 7.4499999)
    monkeypatch.setattr(train_mod, "time", types.SimpleNamespace(
        perf_counter=lambda: float(next(ticks))))
    lines: list[str] = []
    exp = run_experiment(make_data(), make_vectors(), config(modes=("frozen",),
                         fractions=(1.0,), epochs=1), progress=False, on_event=lines.append)
    assert lines[0].endswith(", 7.4 s")
    assert "| 7.4 |" in results_table(exp)


def test_learning_curve_labels_clear_of_the_title() -> None:
    """At accuracy 1.0 the label above the point went over the axes into the title."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from wordvecs.training.report import learning_curve_figure
    from wordvecs.training.train import Experiment, RunResult, TrainConfig

    runs = [RunResult(mode, f, int(100 * f), acc, acc, acc, 3, 2, 1.0, 10, 5)
            for mode, accs in {"frozen": (0.97, 1.0), "finetune": (0.99, 1.0),
                               "scratch": (0.6, 1.0)}.items()
            for f, acc in zip((0.3, 1.0), accs)]
    exp = Experiment(TrainConfig(fractions=(0.3, 1.0)), {}, {"source": "glove-6b-50d"}, {}, "",
                     {}, runs, {}, "tensorflow", 1.0)
    fig = learning_curve_figure(exp)
    try:
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        axes_box = ax.get_window_extent(renderer)
        title_box = ax.title.get_window_extent(renderer)
        labels = [t for t in ax.texts if t.get_text()[:2] in ("0.", "1.")]
        assert len(labels) == 6
        for t in labels:
            box = t.get_window_extent(renderer)
            assert not box.overlaps(title_box), t.get_text()
            assert axes_box.y0 <= box.y0 and box.y1 <= axes_box.y1, t.get_text()
    finally:
        plt.close(fig)


# --- issue 23, item 2: baselines in every report ------------------------------------------------
@pytest.mark.keras
def test_baselines_beside_the_modes_on_the_same_split(trained) -> None:  # type: ignore[no-untyped-def]
    """At each fraction both baselines are fitted on exactly the embedding runs' training
    documents (refitted here from the split's indices: the same test predictions), every run's
    test accuracy has a bootstrap interval around it, and the saved model is still the embedding
    mode with the best validation accuracy."""
    from wordvecs.text.datasets import Tokenizer, stratified_split, stratified_subsample
    from wordvecs.training.baselines import mean_vectors_logreg, tfidf_logreg

    exp, out = trained
    data, cfg = make_data(), exp.config
    classes = data.classes
    y = np.array([classes.index(label) for label in data.labels])
    train_idx, val_idx, test_idx = stratified_split(data.labels, cfg.seed, cfg.val, cfg.test)
    texts = lambda idx: [data.texts[i] for i in idx]  # noqa: E731
    for f in (0.5, 1.0):
        sub = stratified_subsample(data.labels, train_idx, f, cfg.seed)
        frozen, tfidf, meanvec = (exp.run(m, f) for m in ("frozen", "tfidf", "meanvec"))
        assert frozen and tfidf and meanvec
        assert tfidf.train_size == meanvec.train_size == frozen.train_size == len(sub)
        assert tfidf.epochs == 0 and tfidf.train_seconds >= 0 and tfidf.params["C"] in (1, 10, 100)
        again = tfidf_logreg(texts(sub), y[sub], texts(val_idx), y[val_idx], seed=cfg.seed,
                             n_classes=3)
        np.testing.assert_array_equal(np.argmax(again.predict_proba(texts(test_idx)), axis=1),
                                      exp.predictions[("tfidf", f)])
        assert tfidf.test_accuracy == pytest.approx(np.mean(again.predict(texts(test_idx))
                                                            == y[test_idx]))
        mv = mean_vectors_logreg(make_vectors(), Tokenizer(), texts(sub), y[sub],
                                 texts(val_idx), y[val_idx], seed=cfg.seed, n_classes=3)
        np.testing.assert_array_equal(np.argmax(mv.predict_proba(texts(test_idx)), axis=1),
                                      exp.predictions[("meanvec", f)])
    for r in exp.runs:
        assert r.test_interval is not None
        low, high = r.test_interval
        assert 0 <= low <= r.test_accuracy <= high <= 1, r
    assert exp.best["mode"] in ("frozen", "finetune", "scratch")
    best = max((r for r in exp.runs if r.fraction == 1.0 and not r.baseline),
               key=lambda r: r.val_accuracy)
    assert exp.best["mode"] == best.mode
    rep = json.loads((out / "report.json").read_text())
    assert {(r["mode"], r["fraction"]) for r in rep["runs"]} >= {
        ("tfidf", 0.5), ("meanvec", 0.5), ("tfidf", 1.0), ("meanvec", 1.0)}
    assert all(len(r["test_interval"]) == 2 for r in rep["runs"])
    assert "predictions" not in rep


@pytest.mark.keras
def test_report_rows_intervals_and_verdict(trained) -> None:  # type: ignore[no-untyped-def]
    from wordvecs.training.baselines import ModeResult, verdict
    from wordvecs.training.report import accuracy_cell
    from wordvecs.training.train import MODE_NAMES, check_split

    exp, out = trained
    md = (out / "report.md").read_text()
    for r in exp.runs:
        low, high = r.test_interval
        cell = f"{r.test_accuracy:.3f} [{low:.3f}, {high:.3f}]"
        assert accuracy_cell(r) == cell
        assert f"| {r.mode} | {r.fraction:.0%} | {r.train_size:,} |" in md
        assert cell in md
    assert "| tfidf | 50% | 30 | - |" in md and "| meanvec | 100% | 63 | tiny-vectors |" in md
    data = make_data()
    _, _, test_idx = check_split(data, exp.config)
    y_te = np.array([data.classes.index(data.labels[i]) for i in test_idx])
    want = verdict([ModeResult(MODE_NAMES[r.mode], y_te, exp.predictions[(r.mode, 1.0)],
                               baseline=r.baseline) for r in exp.runs if r.fraction == 1.0],
                   seed=exp.config.seed)
    assert exp.verdict == want and f"At 100% of the training data: {want}" in md
    assert " wins (" in want and ("within the noise" in want or "larger than" in want)
    assert "among the embedding models" in md  # the saved model is not chosen on test


@pytest.mark.keras
def test_no_baselines(tmp_path: Path) -> None:
    from wordvecs.training.report import write_report
    from wordvecs.training.train import run_experiment

    exp = run_experiment(make_data(), make_vectors(), config(modes=("frozen",),
                         fractions=(1.0,), epochs=1, baselines=False), progress=False)
    assert [r.mode for r in exp.runs] == ["frozen"]
    write_report(exp, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "| tfidf |" not in md and "| meanvec |" not in md and "- baselines (" not in md
    assert "there is no baseline to compare it with" in exp.verdict


@pytest.mark.keras
def test_baselines_never_see_the_test_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test documents' labels shuffled (the split held fixed): the baselines predict the
    same; only their scores change."""
    import wordvecs.training.train as train_mod
    from wordvecs.text.datasets import stratified_split

    data = make_data()
    split = stratified_split(data.labels, 0, 0.1, 0.2)
    monkeypatch.setattr(train_mod, "stratified_split", lambda *a, **k: split)
    test_idx = split[2]
    labels = list(data.labels)
    rng = np.random.default_rng(5)
    moved = rng.permutation(test_idx)
    for i, j in zip(test_idx, moved):
        labels[i] = data.labels[j]
    assert labels != list(data.labels)
    shuffled = TextData(data.texts, labels, "memory", "shuffled")
    cfg = config(modes=("frozen",), fractions=(1.0,), epochs=1)
    a = train_mod.run_experiment(data, make_vectors(), cfg, progress=False)
    b = train_mod.run_experiment(shuffled, make_vectors(), cfg, progress=False)
    for mode in ("tfidf", "meanvec"):
        np.testing.assert_array_equal(a.predictions[(mode, 1.0)], b.predictions[(mode, 1.0)])
        ra, rb = a.run(mode, 1.0), b.run(mode, 1.0)
        assert ra and rb and ra.val_accuracy == rb.val_accuracy and ra.params == rb.params
    assert a.run("tfidf", 1.0).test_accuracy != b.run("tfidf", 1.0).test_accuracy  # type: ignore[union-attr]


def test_learning_curve_draws_baselines_dashed() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from wordvecs.training.report import learning_curve_figure
    from wordvecs.training.train import Experiment, RunResult, TrainConfig

    runs = [RunResult(mode, f, int(100 * f), 0.9, 0.9, 0.9, 3, 2, 1.0, 10, 5)
            for mode in ("frozen", "tfidf", "meanvec") for f in (0.3, 1.0)]
    exp = Experiment(TrainConfig(fractions=(0.3, 1.0)), {}, {"source": "glove-6b-50d"}, {}, "",
                     {}, runs, {}, "tensorflow", 1.0)
    fig = learning_curve_figure(exp)
    try:
        styles = {line.get_label(): line.get_linestyle() for line in fig.axes[0].lines}
        assert styles == {"frozen": "-", "tfidf (baseline)": "--", "meanvec (baseline)": "--"}
    finally:
        plt.close(fig)


@pytest.mark.keras
def test_avgmax_head_trains_saves_and_predicts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 23: a stronger head over word vectors, the mean and the max pooling together; it
    learns the toy topics, saves as a classifier (safe-mode Keras layers only) and predicts the
    same probabilities after loading."""
    import wordvecs
    from wordvecs.training.train import run_experiment

    exp = run_experiment(make_data(), make_vectors(),
                         config(modes=("frozen",), model="avgmax", fractions=(1.0,), epochs=40,
                                baselines=False), out=tmp_path / "run", progress=False)
    assert exp.runs[0].test_accuracy >= 0.8
    clf = wordvecs.load_classifier(tmp_path / "run")
    names = [la.__class__.__name__ for la in clf.model.layers]
    assert "GlobalMaxPooling1D" in names and "GlobalAveragePooling1D" in names
    assert "Concatenate" in names
    texts = ["goal match team", "bank shares market", "software chip data"]
    assert [p[0] for p in clf.predict(texts)] == ["sport", "money", "tech"]


# --- the stack, the sentence-embedding baseline, the mode set ------------------------------------
@pytest.mark.keras
def test_stack_is_the_mean_of_tfidf_and_every_other_model(trained) -> None:  # type: ignore[no-untyped-def]
    """The stack row is recomputed from its parts: TF-IDF and every other run at its fraction
    (the embedding modes and the dense baselines), each tempered on validation, averaged."""
    from wordvecs.training.baselines import fit_stack
    from wordvecs.training.train import check_split  # the validation labels: the split's

    exp, out = trained
    y_all = {c: i for i, c in enumerate(exp.dataset["classes"])}
    data = make_data()
    _, val_idx, _ = check_split(data, config())
    md = (out / "report.md").read_text()
    y_va = np.array([y_all[data.labels[i]] for i in val_idx])
    for f in (0.5, 1.0):
        stack = exp.run("stack", f)
        assert stack is not None and stack.params is not None
        comps = stack.params["components"]
        assert comps[0] == "tfidf" and len(comps) == 6
        assert set(comps) == {"tfidf", "frozen", "finetune", "scratch", "meanvec", "sentvec"}
        assert stack.params["weights"] == pytest.approx([1 / 6] * 6, abs=1e-4)
        st = fit_stack([exp.probabilities[(m, f)][0] for m in comps], y_va)
        assert list(st.temperatures) == pytest.approx(stack.params["temperatures"], abs=1e-4)
        combined = st.combine([exp.probabilities[(m, f)][1] for m in comps])
        np.testing.assert_array_equal(exp.predictions[("stack", f)], np.argmax(combined, axis=1))
        assert stack.train_seconds >= max(exp.run(m, f).train_seconds for m in comps)  # type: ignore[union-attr]
        assert not stack.baseline and not stack.history
        parts = ", ".join(f"{m} (temperature {t:.2g})"
                          for m, t in zip(comps, stack.params["temperatures"]))
        assert f"- stack at {f:.0%}: the mean of the probabilities of {parts} (" in md


@pytest.mark.keras
def test_sentvec_baseline_is_the_encoders_sentence_embeddings(trained) -> None:  # type: ignore[no-untyped-def]
    """sentvec's features are MiniLM's embed(): its test predictions are those of a logistic
    regression with the chosen C fitted on exactly those embeddings."""
    from sklearn.linear_model import LogisticRegression

    from wordvecs.encoders.encoder import load_encoder
    from wordvecs.training.train import check_split

    exp, _ = trained
    run = exp.run("sentvec", 1.0)
    assert run is not None and run.params is not None and run.params["encoder"]
    assert run.encode_seconds is not None and run.params["dim"] == 384
    data = make_data()
    tr, _, te = check_split(data, config())
    enc = load_encoder("minilm")
    labels = {c: i for i, c in enumerate(exp.dataset["classes"])}
    y_tr = np.array([labels[data.labels[i]] for i in tr])
    clf = LogisticRegression(C=run.params["C"], max_iter=1000, random_state=0).fit(
        enc.embed([data.texts[i] for i in tr]).astype(np.float64), y_tr)
    expect = clf.predict(enc.embed([data.texts[i] for i in te]).astype(np.float64))
    np.testing.assert_array_equal(exp.predictions[("sentvec", 1.0)], expect)


@pytest.mark.keras
def test_stack_without_baselines_still_uses_tfidf(tmp_path: Path) -> None:
    from wordvecs.training.train import run_experiment

    exp = run_experiment(make_data(), make_vectors(),
                         config(modes=("frozen", "stack"), fractions=(1.0,), baselines=False),
                         progress=False)
    assert [r.mode for r in exp.runs] == ["frozen", "stack"]  # TF-IDF used, not reported
    assert exp.run("stack", 1.0).params["components"] == ["tfidf", "frozen"]  # type: ignore[union-attr]
    assert ("tfidf", 1.0) in exp.probabilities and ("tfidf", 1.0) not in exp.predictions


def test_mode_sets() -> None:
    from wordvecs.cli.train_cmds import train as train_cmd
    from wordvecs.errors import UsageError
    from wordvecs.training.train import DEFAULT_MODES, MODES, TrainConfig

    assert TrainConfig().modes == DEFAULT_MODES == ("frozen", "finetune", "scratch", "stack")
    assert TrainConfig(modes="all").modes == MODES == TrainConfig(modes=("all",)).modes
    assert {"contextual", "contextual-finetune", "stack"} <= set(MODES)
    assert TrainConfig(modes="frozen, stack").modes == ("frozen", "stack")
    opt = next(p for p in train_cmd.params if p.name == "modes")
    assert tuple(opt.default.split(",")) == DEFAULT_MODES  # the CLI's default is the library's
    with pytest.raises(UsageError, match="name at least one more mode"):
        TrainConfig(modes=("stack",)).check()
    with pytest.raises(UsageError, match="unknown mode 'frozn'"):
        TrainConfig(modes=("frozn",)).check()
    with pytest.raises(UsageError, match="encoder_layers"):
        TrainConfig(encoder_layers=0).check()


def test_the_stack_console_line_says_mean_or_weights() -> None:
    """The console's line for the stack names its parts as the report does: "the mean of ..."
    for the equal weights of the default, each weight for fitted ones."""
    from wordvecs.training.train import RunResult, run_line

    base = dict(mode="stack", fraction=1.0, train_size=10, test_accuracy=0.9, macro_f1=0.9,
                val_accuracy=0.9, epochs=0, best_epoch=0, train_seconds=1.0,
                trainable_params=0, frozen_params=0)
    equal = run_line(RunResult(**base, params={  # type: ignore[arg-type]
        "components": ["tfidf", "frozen", "meanvec"], "weights": [0.3333] * 3}))
    assert ", the mean of tfidf, frozen, meanvec, " in equal and "weights" not in equal
    fitted = run_line(RunResult(**base, params={  # type: ignore[arg-type]
        "components": ["tfidf", "frozen"], "weights": [0.7, 0.3]}))
    assert ", weights tfidf 0.7 frozen 0.3, " in fitted
