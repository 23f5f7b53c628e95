"""Tests written to kill the mutants of ``training/classifier.py`` (issue 24, item 4;
benchmarks/mutation/mut-classifier.md): the saved-classifier folder, its checks, and predict.

Cheap on purpose (each mutant runs them): prediction and the field checks use stand-ins for the
model (``_FakeModel``, ``_FakeForward``: no Keras), the folder tests one hand-weighted Keras model
of a few hundred weights (no training), saved once and copied per test.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import logging
import shutil
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import wordvecs.training.classifier as clf_mod
from wordvecs.errors import ArgumentTypeError, DataError, VocabularyError, WriteError
from wordvecs.text.datasets import Vocabulary
from wordvecs.training.classifier import Classifier, Prediction, load_classifier

WORDS = ["goal", "bank", "code"]  # indices 2, 3, 4
LABELS = ["sport", "money", "tech"]
MAX_LEN = 4


def _message(exc_info: Any) -> str:
    return str(exc_info.value)


# --- stand-ins: a model and a forward pass without Keras ---------------------------------------

class Embedding:  # the class name is what Classifier._check looks for
    def __init__(self, input_dim: int) -> None:
        self.input_dim = input_dim


def _by_counts(x: np.ndarray) -> np.ndarray:
    """Each row's share of the tokens 2, 3, 4 (the three labels), plus a little for every label:
    a probability that tells which ids the model was given."""
    counts = np.stack([(x == i).sum(axis=1) for i in (2, 3, 4)], axis=1).astype(np.float64)
    counts += 0.1
    return counts / counts.sum(axis=1, keepdims=True)


class _FakeModel:
    """What Classifier reads of a Keras model: layers, input and output shapes, predict."""

    def __init__(self, rows: int | None = 5, n_out: int = 3, in_len: int | None = MAX_LEN,
                 answer: Any = _by_counts) -> None:
        self.layers = [object()] + ([] if rows is None else [Embedding(rows)])
        self.outputs = [SimpleNamespace(shape=(None, n_out))]
        self.inputs = [SimpleNamespace(shape=(None, in_len))]
        self.answer = answer
        self.calls: list[tuple[str, tuple[int, ...], dict[str, Any]]] = []
        self.seen: list[np.ndarray] = []

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        self.calls.append(("predict_on_batch", x.shape, {}))
        self.seen.append(x)
        return self.answer(x)

    def predict(self, x: np.ndarray, **kw: Any) -> np.ndarray:
        self.calls.append(("predict", x.shape, kw))
        self.seen.append(x)
        return self.answer(x)


class _FakeForward:
    def __init__(self, rows: int | None = 5, n_out: int = 3, max_len: int | None = MAX_LEN,
                 answer: Any = _by_counts) -> None:
        self.rows, self.n_out, self.max_len, self.answer = rows, n_out, max_len, answer
        self.seen: list[tuple[np.ndarray, Any]] = []

    def predict(self, x: np.ndarray, extra: Any) -> np.ndarray:
        self.seen.append((x, extra))
        return self.answer(x)


def _vocab(words: list[str] = WORDS) -> Vocabulary:
    return Vocabulary(words)


def _fake(**kw: Any) -> Classifier:
    model = kw.pop("model", None) or _FakeModel()
    return Classifier(model, kw.pop("vocabulary", None) or _vocab(), kw.pop("labels", LABELS),
                      kw.pop("max_len", MAX_LEN), **kw)


# --- the constructor's checks ---------------------------------------------------------------------

@pytest.mark.parametrize("labels,shown", [
    ("abc", "'abc'"), (["sport", "", "tech"], "['sport', '', 'tech']"),
    (["sport", 1, "tech"], "['sport', 1, 'tech']"), ([1, "money", "tech"], "[1, 'money', 'tech']"),
])
def test_labels_must_be_non_empty_strings(labels: Any, shown: str) -> None:
    with pytest.raises(DataError) as err:
        _fake(labels=labels)
    assert _message(err) == f"labels must be a list of non-empty strings. Received: {shown}"


def test_labels_must_be_distinct() -> None:
    with pytest.raises(DataError) as err:
        _fake(labels=("sport", "sport", "tech"))
    assert _message(err) == "labels must be distinct. Received: ['sport', 'sport', 'tech']"


def test_labels_tuple_and_default_prior() -> None:
    clf = _fake(labels=("sport", "money", "tech"), info={"note": "x"})
    assert clf.labels == LABELS and isinstance(clf.labels, list)
    assert clf.max_len == 4 and isinstance(clf.max_len, int)
    assert clf.info == {"note": "x"}
    assert clf.prior.dtype == np.float64 and clf.prior.tolist() == [1 / 3] * 3
    assert _fake().info == {}
    assert _fake(max_len=4.0).max_len == 4  # type: ignore[arg-type]


def test_prior_given_is_kept_as_float64() -> None:
    clf = _fake(prior=[0.5, 0.25, 0.25])
    assert clf.prior.dtype == np.float64 and clf.prior.tolist() == [0.5, 0.25, 0.25]
    ints = _fake(prior=[1, 0, 0]).prior  # shares are floats, whatever they are given as
    assert ints.dtype == np.float64 and ints.tolist() == [1.0, 0.0, 0.0]
    halves = _fake(prior=np.array([0.5, 0.25, 0.25], np.float16)).prior
    assert halves.dtype == np.float64 and halves.tolist() == [0.5, 0.25, 0.25]
    _fake(prior=[0.5, 0.25, 0.25 + 9e-7])  # within abs_tol=1e-6 of 1


@pytest.mark.parametrize("prior,shown", [
    ([0.5, 0.5], "[0.5, 0.5]"), ([0.5, 0.5, float("nan")], "[0.5, 0.5, nan]"),
    ([0.5, 0.5, float("inf")], "[0.5, 0.5, inf]"), ([-0.5, 1.0, 0.5], "[-0.5, 1.0, 0.5]"),
    ([0.5, 0.25, 0.25 + 2e-6], f"[0.5, 0.25, {0.25 + 2e-6}]"), ([0.2, 0.2, 0.2], "[0.2, 0.2, 0.2]"),
    (1.0, "[1.0]"), ([[0.5, 0.25, 0.25]], "[[0.5, 0.25, 0.25]]"),
])
def test_bad_prior(prior: Any, shown: str) -> None:
    with pytest.raises(DataError) as err:
        _fake(prior=prior)
    assert _message(err) == (f"prior must be 3 non-negative numbers that sum to 1. "
                             f"Received: {shown}")


def test_shapes_checked_against_the_model() -> None:
    with pytest.raises(VocabularyError) as err:
        _fake(model=_FakeModel(rows=1500))
    assert _message(err) == ("the model's Embedding has 1,500 rows but the vocabulary has 5 "
                             "indices")
    with pytest.raises(VocabularyError) as err:
        _fake(vocabulary=_vocab([f"w{i}" for i in range(1498)]))
    assert _message(err) == ("the model's Embedding has 5 rows but the vocabulary has 1,500 "
                             "indices")
    with pytest.raises(DataError) as err:
        _fake(labels=["sport", "money"])
    assert _message(err) == "the model predicts 3 classes but there are 2 labels"
    with pytest.raises(DataError) as err:
        _fake(max_len=5)
    assert _message(err) == "the model takes sequences of 4 tokens but max_len is 5"
    # the labels are checked before the prior: a label too many is said as such
    with pytest.raises(DataError, match="predicts 3 classes but there are 4 labels"):
        _fake(labels=[*LABELS, "x"], prior=[0.5, 0.5, 0, 0])


def test_no_embedding_or_no_length_is_not_checked() -> None:
    clf = _fake(model=_FakeModel(rows=None), vocabulary=_vocab(["a", "b"]))
    assert len(clf.vocabulary) == 4
    assert _fake(model=_FakeModel(in_len=None), max_len=7).max_len == 7


def test_shapes_checked_against_the_forward_pass() -> None:
    fwd = _FakeForward(rows=6)
    with pytest.raises(VocabularyError) as err:
        Classifier(None, _vocab(), LABELS, MAX_LEN, forward=fwd)
    assert _message(err) == "the model's Embedding has 6 rows but the vocabulary has 5 indices"
    with pytest.raises(DataError) as err:
        Classifier(None, _vocab(), LABELS, MAX_LEN, forward=_FakeForward(n_out=2))
    assert _message(err) == "the model predicts 2 classes but there are 3 labels"
    with pytest.raises(DataError) as err:
        Classifier(None, _vocab(), LABELS, MAX_LEN, forward=_FakeForward(max_len=9))
    assert _message(err) == "the model takes sequences of 9 tokens but max_len is 4"
    clf = Classifier(None, _vocab(["a"]), LABELS, 11,
                     forward=_FakeForward(rows=None, max_len=None))
    assert clf.forward == "numpy"
    with pytest.raises(DataError) as err:
        clf.model  # noqa: B018
    assert _message(err) == "this classifier has no Keras model"
    assert _fake().forward == "keras"


def test_repr() -> None:
    clf = Classifier(None, _vocab([f"w{i}" for i in range(1498)]), LABELS, 12,
                     forward=_FakeForward(rows=None, max_len=None))
    assert repr(clf) == "<Classifier 3 labels, vocabulary 1,500, max_len 12>"


# --- predict --------------------------------------------------------------------------------------

def test_single_string_and_bad_texts_refused() -> None:
    clf = _fake()
    with pytest.raises(ArgumentTypeError) as err:
        clf.predict("goal")  # type: ignore[arg-type]
    assert _message(err) == "predict takes a list of texts, not a single string"
    for texts, n in ((["goal", "  \n"], 2), (["goal", "bank", ""], 3), ([None], 1),
                     (["goal", 5], 2)):
        with pytest.raises(DataError) as err:
            clf.predict(texts)  # type: ignore[arg-type]
        assert _message(err) == f"text {n} is empty"
    with pytest.raises(DataError) as err:
        clf.predict(["goal", "goal b\ud800nk"])
    assert _message(err) == ("text 2 holds a lone surrogate (U+D800) at character 6; send "
                             "valid Unicode")
    assert clf.predict(["goal café"])[0][0] == "sport"  # not ASCII, but valid


def test_ids_given_to_the_model_padded_and_cut() -> None:
    model = _FakeModel()
    clf = _fake(model=model)
    details = clf.predict_details(["goal", "bank zzz bank code goal goal", "zzz qqq"])
    x = model.seen[0]
    assert x.dtype == np.int32 and x.shape == (3, 4)
    assert x.tolist() == [[2, 0, 0, 0], [3, 1, 3, 4], [1, 1, 0, 0]]
    # tokens and known tokens are counted over the whole text, not the first max_len
    assert [(d.tokens, d.known_tokens) for d in details] == [(1, 1), (6, 5), (2, 0)]
    assert [d.from_prior for d in details] == [False, False, True]
    assert model.calls == [("predict_on_batch", (3, 4), {})]


def test_details_and_predict() -> None:
    clf = _fake(prior=[0.2, 0.3, 0.5])
    texts = ["goal goal bank", "code", "zzz"]
    details = clf.predict_details(texts)
    expect = _by_counts(np.array([[2, 2, 3, 0], [4, 0, 0, 0], [1, 0, 0, 0]])).astype(np.float32)
    expect[2] = np.array([0.2, 0.3, 0.5], dtype=np.float32)
    assert [d.label for d in details] == ["sport", "tech", "tech"]
    for d, row in zip(details, expect):
        assert isinstance(d, Prediction) and isinstance(d.probability, float)
        assert d.probability == float(row.max())
        assert d.probabilities == {y: float(p) for y, p in zip(LABELS, row)}
        assert all(isinstance(p, float) for p in d.probabilities.values())
        assert isinstance(d.from_prior, bool)
    assert clf.predict(texts) == [(d.label, d.probability) for d in details]
    proba = clf.predict_proba(texts)
    assert proba.dtype == np.float32 and np.array_equal(proba, expect)


def test_no_texts() -> None:
    clf = _fake()
    proba = clf.predict_proba([])
    assert proba.shape == (0, 3) and proba.dtype == np.float32
    assert clf.predict_details([]) == [] and clf.predict([]) == []
    assert clf._proba([])[1:3] == ([], [])
    used = clf._proba([])[3]
    assert used.shape == (0,) and used.dtype == bool


def test_batches_over_256_go_through_predict() -> None:
    model = _FakeModel()
    clf = _fake(model=model)
    clf.predict_proba(["goal"] * 256)
    clf.predict_proba(["goal"] * 257)
    assert model.calls == [("predict_on_batch", (256, 4), {}),
                           ("predict", (257, 4), {"batch_size": 256, "verbose": 0})]


def test_non_finite_answers_get_the_prior(caplog: pytest.LogCaptureFixture) -> None:
    def answer(x: np.ndarray) -> np.ndarray:
        out = _by_counts(x)
        out[0, 1] = np.nan
        out[1, 0] = np.inf
        out[3, 2] = np.nan  # no known token: the prior anyway, not counted as the model's fault
        return out

    clf = _fake(model=_FakeModel(answer=answer), prior=[0.2, 0.3, 0.5])
    with caplog.at_level(logging.WARNING, logger="wordvecs.training.classifier"):
        details = clf.predict_details(["goal", "bank", "code", "zzz"])
    assert [r.getMessage() for r in caplog.records] == [
        "the model gave non-finite probabilities for 2 text(s); answered with the prior"]
    assert [d.from_prior for d in details] == [True, True, False, True]
    assert [d.known_tokens for d in details] == [1, 1, 1, 0]
    assert details[0].probabilities == {"sport": pytest.approx(0.2), "money": pytest.approx(0.3),
                                        "tech": pytest.approx(0.5)}
    assert details[2].label == "tech" and details[2].probability > 0.8
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="wordvecs.training.classifier"):
        _fake().predict(["code", "zzz"])
    assert caplog.records == []


def test_forward_pass_used_when_there_is_one() -> None:
    fwd = _FakeForward()
    clf = Classifier(None, _vocab(), LABELS, MAX_LEN, forward=fwd)
    assert clf.predict(["bank"])[0][0] == "money"
    (x, extra), = fwd.seen
    assert x.tolist() == [[3, 0, 0, 0]] and extra is None


@pytest.mark.keras
class _FakeSubwords:
    """A subword table stand-in: an unseen word that starts with "q" gets the extra row 5 (whose
    vector is ``extra``); other unseen words it cannot place either (they stay 1)."""

    def __init__(self) -> None:
        self.model = _FakeModel(rows=6)
        self.asked: list[tuple[Any, np.ndarray]] = []

    def encode(self, clf: Classifier, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        x = clf._encode(texts)[0]
        for i, text in enumerate(texts):
            for j, word in enumerate(text.split()[:MAX_LEN]):
                if x[i, j] == 1 and word.startswith("q"):
                    x[i, j] = 5
        return x, np.full((1, 3), 7, np.float32)

    def model_for(self, clf: Classifier, extra: np.ndarray) -> Any:
        self.asked.append((clf, extra))
        return self.model


def test_unseen_words_go_to_the_subword_table() -> None:
    sub = _FakeSubwords()
    model = _FakeModel()
    clf = _fake(model=model, subwords=sub)
    assert clf.subwords is sub
    details = clf.predict_details(["qqq", "goal qqq", "zzz", "zzz qqq"])
    assert model.seen == [] and sub.model.seen[0].tolist() == [[5, 0, 0, 0], [2, 5, 0, 0],
                                                               [1, 0, 0, 0], [1, 5, 0, 0]]
    # what the table places counts as known; a text it cannot place either gets the prior
    assert [d.known_tokens for d in details] == [1, 2, 0, 1]
    assert [d.from_prior for d in details] == [False, False, True, False]
    (asked_clf, extra), = sub.asked
    assert asked_clf is clf and extra.tolist() == [[7, 7, 7]]
    fwd = _FakeForward()
    clf = Classifier(None, _vocab(), LABELS, MAX_LEN, subwords=_FakeSubwords(), forward=fwd)
    clf.predict(["goal qqq"])
    (x, extra), = fwd.seen
    assert x.tolist() == [[2, 5, 0, 0]] and extra.tolist() == [[7, 7, 7]]


def test_evaluate() -> None:
    clf = _fake()
    texts = ["goal", "bank", "code", "goal bank bank", "zzz"]
    truth = ["sport", "money", "tech", "sport", "tech"]
    pred = [y for y, _ in clf.predict(texts)]
    assert pred == ["sport", "money", "tech", "money", "sport"]
    # F1 by hand (scikit-learn's f1_score(average="macro") gives the same; importing it here
    # would cost each mutant a second): sport 1/2, money 2/3, tech 2/3
    got = clf.evaluate(texts, truth)
    assert got == {"accuracy": 0.6, "documents": 5,
                   "macro_f1": pytest.approx((1 / 2 + 2 / 3 + 2 / 3) / 3)}
    assert isinstance(got["accuracy"], float)
    with pytest.raises(DataError) as err:
        clf.evaluate(["goal", "bank"], ["sport", "art"])
    assert _message(err) == ("row 2: label 'art' was never seen in training; the model knows "
                             "'sport', 'money', 'tech'")
    with pytest.raises(DataError) as err:
        clf.evaluate(["goal", "bank"], ["sport", "money", "tech"])
    assert _message(err) == "2 texts for 3 labels"


# --- a real Keras model, saved and loaded ------------------------------------------------------

def _keras_model(compiled: bool = True) -> Any:
    """The ``avg`` head of ``wordvecs train`` (the NumPy forward pass runs it) with weights set by
    hand: token 2 + i pushes label i."""
    from wordvecs.training.train import build_model

    model = build_model("avg", max_len=MAX_LEN, n_classes=3, rows=5, dim=3, mode="scratch")
    emb = np.zeros((5, 3), np.float32)
    emb[2:] = 4 * np.eye(3, dtype=np.float32)
    hidden = np.zeros((3, 64), np.float32)
    hidden[:, :3] = np.eye(3)
    out = np.zeros((64, 3), np.float32)
    out[:3] = np.eye(3)
    weights = {"Embedding": [emb], "Dense": None}
    dense = [la for la in model.layers if la.__class__.__name__ == "Dense"]
    dense[0].set_weights([hidden, np.zeros(64, np.float32)])
    dense[1].set_weights([out, np.zeros(3, np.float32)])
    next(la for la in model.layers if la.__class__.__name__ == "Embedding").set_weights(
        weights["Embedding"])
    model.optimizer.build(model.trainable_variables)  # Adam's slots exist, as after training
    if not compiled:  # (keras.models.clone_model would compile it again)
        plain = model.__class__.from_config(model.get_config())
        plain.set_weights(model.get_weights())
        assert getattr(plain, "optimizer", None) is None
        return plain
    return model


TEXTS = ["goal goal", "bank", "code bank code", "zzz"]


@pytest.fixture(scope="module")
def keras_clf() -> Classifier:
    return Classifier(_keras_model(), _vocab(), ["sport", "money", "tëch"], MAX_LEN,
                      info={"note": "ünï"}, prior=[0.25, 0.25, 0.5])


@pytest.fixture(scope="module")
def saved(keras_clf: Classifier, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return keras_clf.save(tmp_path_factory.mktemp("saved") / "clf")


@pytest.fixture
def folder(saved: Path, tmp_path: Path) -> Path:
    """A fresh copy to damage."""
    return Path(shutil.copytree(saved, tmp_path / "clf"))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _meta(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "classifier.json").read_text(encoding="utf-8"))


def _set_meta(folder: Path, meta: Any) -> None:
    (folder / "classifier.json").write_text(json.dumps(meta), encoding="utf-8")


def _rewrite(folder: Path, name: str, data: bytes) -> None:
    """Replace a file and its digest, as a deliberate attacker would."""
    (folder / name).write_bytes(data)
    meta = _meta(folder)
    meta["sha256"][name] = _sha(data)
    _set_meta(folder, meta)


def _load_error(folder: Path) -> str:
    with pytest.raises(DataError) as err:
        load_classifier(folder)
    return _message(err)


@pytest.mark.keras
def test_save_writes_the_four_files(keras_clf: Classifier, saved: Path, tmp_path: Path) -> None:
    assert sorted(p.name for p in saved.iterdir()) == sorted(clf_mod.CLASSIFIER_FILES)
    meta = _meta(saved)
    assert meta == {
        "format": 2, "max_len": 4, "tokenizer": keras_clf.vocabulary.tokenizer.to_dict(),
        "prior": [0.25, 0.25, 0.5], "note": "ünï",
        "sha256": {n: _sha((saved / n).read_bytes())
                   for n in ("model.keras", "vocabulary.json", "labels.json")}}
    for name, obj in (("labels.json", ["sport", "money", "tëch"]), ("classifier.json", meta)):
        assert (saved / name).read_bytes() == (
            json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    # into a folder that does not exist yet, parents too; nothing but the four files left
    deep = tmp_path / "a" / "b"
    assert keras_clf.save(deep) == deep
    assert sorted(p.name for p in deep.iterdir()) == sorted(clf_mod.CLASSIFIER_FILES)
    assert keras_clf.save(str(tmp_path / "s")) == tmp_path / "s"


@pytest.mark.keras
def test_save_leaves_the_optimizer_out(keras_clf: Classifier, saved: Path,
                                       tmp_path: Path) -> None:
    import h5py

    assert keras_clf.model.optimizer is not None
    with zipfile.ZipFile(saved / "model.keras") as zf:
        h5 = zf.read("model.weights.h5")
    def weights_in(h5: bytes) -> list[str]:
        names: list[str] = []
        with h5py.File(io.BytesIO(h5), "r") as f:
            f.visititems(lambda name, obj: names.append(name)
                         if isinstance(obj, h5py.Dataset) else None)
        return names

    assert not [n for n in weights_in(h5) if n.startswith("optimizer")]
    keras_clf.model.save(tmp_path / "direct.keras")  # Keras' own save keeps Adam's slots
    with zipfile.ZipFile(tmp_path / "direct.keras") as zf:
        assert [n for n in weights_in(zf.read("model.weights.h5")) if n.startswith("optimizer")]
    # an uncompiled model is saved as it is
    plain = Classifier(_keras_model(compiled=False), _vocab(), LABELS, MAX_LEN)
    plain.save(tmp_path / "p")
    assert np.allclose(load_classifier(tmp_path / "p").predict_proba(TEXTS),
                       plain.predict_proba(TEXTS), atol=1e-6)


@pytest.mark.parametrize("forward", ["keras", "numpy", "auto"])
@pytest.mark.keras
def test_round_trip(keras_clf: Classifier, saved: Path, forward: str,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORDVECS_FORWARD", forward)
    back = load_classifier(saved)
    assert back.forward == ("keras" if forward == "keras" else "numpy")
    assert back.labels == ["sport", "money", "tëch"] and back.max_len == 4
    assert back.vocabulary.words == WORDS
    assert back.prior.tolist() == [0.25, 0.25, 0.5]
    assert back.info == {"note": "ünï"} and back.subwords is None
    assert np.allclose(back.predict_proba(TEXTS), keras_clf.predict_proba(TEXTS), atol=1e-6)
    assert [y for y, _ in back.predict(TEXTS)] == ["sport", "money", "tëch", "tëch"]


@pytest.mark.keras
def test_numpy_classifier_builds_its_keras_model_on_demand(saved: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setenv("WORDVECS_FORWARD", "numpy")
    back = load_classifier(saved)
    assert back._model is None
    private = back._model_file.path
    assert private.name == "model.keras" and private.parent != saved
    assert private.read_bytes() == (saved / "model.keras").read_bytes()
    assert back._model_file.shown == saved / "model.keras"
    model = back.model
    assert back._model is model and back.model is model
    assert np.allclose(model.predict_on_batch(np.array([[2, 0, 0, 0]], np.int32)),
                       back._forward.predict(np.array([[2, 0, 0, 0]], np.int32), None),
                       atol=1e-6)
    back.save(tmp_path / "again")
    assert load_classifier(tmp_path / "again").predict(TEXTS) == back.predict(TEXTS)
    folder = back._model_file.folder
    assert folder.is_dir()
    del back, model
    gc.collect()
    assert not folder.exists()  # the private copy goes with the classifier


@pytest.mark.keras
def test_numpy_mode_refuses_a_graph_it_does_not_run(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    import keras

    inp = keras.Input(shape=(MAX_LEN,), dtype="int32")
    x = keras.layers.Embedding(5, 3)(inp)
    x = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inp, keras.layers.Dense(3, activation="softmax")(x))
    Classifier(model, _vocab(), LABELS, MAX_LEN).save(tmp_path / "odd")
    monkeypatch.setenv("WORDVECS_FORWARD", "numpy")
    assert _load_error(tmp_path / "odd") == (
        f"{tmp_path / 'odd' / 'model.keras'}: not a graph the NumPy forward pass runs (layers "
        "('Embedding', 'GlobalAveragePooling1D', 'Dense')); unset WORDVECS_FORWARD to use Keras")
    monkeypatch.setenv("WORDVECS_FORWARD", "auto")
    with caplog.at_level(logging.DEBUG, logger="wordvecs.training.classifier"):
        back = load_classifier(tmp_path / "odd")
    assert back.forward == "keras" and back._model_file is None
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG] == [
        f"{tmp_path / 'odd' / 'model.keras'}: predicting with Keras (layers ('Embedding', "
        "'GlobalAveragePooling1D', 'Dense'))"]


@pytest.mark.keras
def test_check_destination(keras_clf: Classifier, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError) as err:
        Classifier.check_destination(tmp_path / "file")
    assert _message(err) == f"{tmp_path / 'file'}: exists and is not a folder"
    with pytest.raises(DataError) as err:
        keras_clf.save(str(tmp_path / "file"), overwrite=True)
    assert _message(err) == f"{tmp_path / 'file'}: exists and is not a folder"
    Classifier.check_destination(tmp_path / "new")
    dst = tmp_path / "d"
    dst.mkdir()
    (dst / "labels.json").write_text("[]")
    (dst / "subwords").mkdir()
    (dst / "model.keras").symlink_to(tmp_path / "nowhere")  # a dangling link is taken too
    (dst / "notes.txt").write_text("mine")
    Classifier.check_destination(tmp_path)  # no classifier file directly in it
    with pytest.raises(DataError) as err:
        Classifier.check_destination(str(dst))
    assert _message(err) == (f"{dst}: already holds a saved classifier (model.keras, labels.json, "
                             "subwords); pass overwrite=True (--force) to replace it")
    with pytest.raises(WriteError, match="symbolic link"):
        Classifier.check_destination(dst, overwrite=True)
    (dst / "model.keras").unlink()
    Classifier.check_destination(dst, overwrite=True)
    (dst / "subwords" / "mine.txt").write_text("x")
    with pytest.raises(WriteError, match="never deletes"):
        Classifier.check_destination(dst, overwrite=True)


def test_check_destination_refuses_a_folder_under_a_file_name(tmp_path: Path) -> None:
    """An (empty) folder named like one of the classifier's files is never replaced by the file,
    not even with overwrite."""
    dst = tmp_path / "d"
    dst.mkdir()
    (dst / "labels.json").mkdir()
    with pytest.raises(WriteError) as err:
        Classifier.check_destination(dst, overwrite=True)
    assert _message(err) == (f"{dst / 'labels.json'}: is a folder; wordvecs does not replace a "
                             "folder with a file")


@pytest.mark.keras
def test_save_overwrite(keras_clf: Classifier, saved: Path, tmp_path: Path) -> None:
    dst = tmp_path / "d"
    keras_clf.save(dst)
    with pytest.raises(DataError, match="already holds a saved classifier"):
        keras_clf.save(dst)
    other = Classifier(keras_clf.model, keras_clf.vocabulary, ["a", "b", "c"], MAX_LEN)
    other.save(dst, overwrite=True)
    assert load_classifier(dst).labels == ["a", "b", "c"]
    assert [p.name for p in dst.iterdir() if p.name.startswith(".")] == []


@pytest.mark.keras
def test_failed_save_is_one_write_error(keras_clf: Classifier, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def full(path: Path, obj: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(clf_mod, "_write_json", full)
    with pytest.raises(WriteError) as err:
        keras_clf.save(tmp_path / "d")
    assert _message(err).startswith(f"cannot write {tmp_path / 'd'}: ")
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert list((tmp_path / "d").iterdir()) == []  # the hidden stage is gone


def test_is_subwords_dir(tmp_path: Path) -> None:
    from wordvecs.formats.subword_store import SUBWORD_FILES

    d = tmp_path / "subwords"
    d.mkdir()
    assert clf_mod._is_subwords_dir(d)
    for name in SUBWORD_FILES:
        (d / name).write_bytes(b"")
    assert clf_mod._is_subwords_dir(d)
    (d / "x.txt").write_bytes(b"")
    assert not clf_mod._is_subwords_dir(d)
    assert not clf_mod._is_subwords_dir(tmp_path / "none")


def test_write_json_is_utf8_whatever_the_locale(tmp_path: Path) -> None:
    """classifier.json is UTF-8 with the text as written (``ensure_ascii=False``), also where
    the process' locale is ASCII (``LC_CTYPE=C`` without Python's UTF-8 mode)."""
    import locale
    import sys

    if sys.flags.utf8_mode:
        pytest.skip("UTF-8 mode: the locale's encoding is not used")
    old = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        assert locale.getpreferredencoding(False) != "UTF-8"
        clf_mod._write_json(tmp_path / "x.json", {"note": "ünï"})
    finally:
        locale.setlocale(locale.LC_CTYPE, old)
    assert (tmp_path / "x.json").read_bytes() == '{\n  "note": "ünï"\n}\n'.encode()


# --- a damaged or hostile folder -----------------------------------------------------------------

@pytest.mark.keras
def test_missing_files_named_in_order(folder: Path) -> None:
    (folder / "labels.json").unlink()
    (folder / "model.keras").unlink()
    (folder / "classifier.json").rename(folder / "classifier.json.bak")
    (folder / "classifier.json").mkdir()  # a folder is not the file
    assert _load_error(folder) == (f"{folder}: not a saved classifier (missing model.keras, "
                                   "labels.json, classifier.json)")
    assert _load_error(folder / "nothing") == (
        f"{folder / 'nothing'}: not a saved classifier (missing model.keras, vocabulary.json, "
        "labels.json, classifier.json)")


@pytest.mark.keras
def test_damaged_json_messages(folder: Path) -> None:
    meta = folder / "classifier.json"
    meta.write_bytes(b'{"format": "\xff"}')
    assert _load_error(folder) == f"{meta}, byte offset 12: not UTF-8 JSON"
    meta.write_bytes(b'{\n\n"format": }')
    assert _load_error(folder) == f"{meta}: damaged JSON (Expecting value, line 3)"
    meta.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    assert _load_error(folder) == f"{meta}: JSON nested too deeply"
    meta.write_bytes(b"[1]")
    assert _load_error(folder) == f"{meta}: expected a JSON object, found list"


@pytest.mark.keras
def test_damaged_labels_messages(folder: Path) -> None:
    labels = folder / "labels.json"
    _rewrite(folder, "labels.json", b'["a", "\xfe"]')
    assert _load_error(folder) == f"{labels}, byte offset 7: not UTF-8 JSON"
    _rewrite(folder, "labels.json", b"[" * 100_000)
    assert _load_error(folder).startswith(f"{labels}: ")
    for value in ('"abc"', "[]", '["a", ""]', '["a", 1, "b"]', "{}", "null"):
        _rewrite(folder, "labels.json", value.encode())
        assert _load_error(folder) == (f"{labels}: expected a list of non-empty strings, found "
                                       f"{json.dumps(json.loads(value))}")
    long = ["x" * 30] * 3 + [7]
    _rewrite(folder, "labels.json", json.dumps(long).encode())
    assert _load_error(folder) == (f"{labels}: expected a list of non-empty strings, found "
                                   f"{json.dumps(long)[:80]}")


@pytest.mark.parametrize("fmt", [9, 0, 3, True, "2", None, 2.5])
@pytest.mark.keras
def test_unknown_format(folder: Path, fmt: Any) -> None:
    _set_meta(folder, {**_meta(folder), "format": fmt})
    assert _load_error(folder) == f"{folder}: classifier format {fmt!r}; this release reads 1 and 2"


@pytest.mark.keras
def test_format_2_without_its_digests(folder: Path) -> None:
    meta = _meta(folder)
    for digests in (None, [], {"model.keras": "x"},
                    {**meta["sha256"], "classifier.json": "x"}):
        _set_meta(folder, {**meta, "sha256": digests})
        assert _load_error(folder) == (f"{folder / 'classifier.json'}: 'sha256' must give the "
                                       "digest of model.keras, vocabulary.json, labels.json")
    _set_meta(folder, {k: v for k, v in meta.items() if k != "sha256"})
    assert "'sha256' must give the digest" in _load_error(folder)


@pytest.mark.parametrize("name", ["model.keras", "vocabulary.json", "labels.json"])
@pytest.mark.keras
def test_each_digest_checked(folder: Path, name: str) -> None:
    meta = _meta(folder)
    meta["sha256"][name] = _sha(b"something else")
    _set_meta(folder, meta)
    assert _load_error(folder) == (
        f"{folder / name}: changed since it was saved (its SHA-256 is not the one "
        "classifier.json records); save the classifier again")


@pytest.mark.keras
def test_digested_copies_the_model_and_returns_the_others(folder: Path, tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir()
    meta = _meta(folder)
    big = folder / "model.keras"
    data = big.read_bytes()
    assert clf_mod._digested(folder, "model.keras", meta["sha256"]["model.keras"],
                             private) == b""
    assert (private / "model.keras").read_bytes() == data
    labels = (folder / "labels.json").read_bytes()
    assert clf_mod._digested(folder, "labels.json", meta["sha256"]["labels.json"],
                             private) == labels
    assert not (private / "labels.json").exists()
    # a model file over 1 MiB: read in blocks, every block counted
    blob = bytes(range(256)) * 5000
    big.write_bytes(blob)
    assert clf_mod._digested(folder, "model.keras", _sha(blob), private) == b""
    assert (private / "model.keras").read_bytes() == blob


@pytest.mark.keras
def test_format_1_is_read_without_digests(folder: Path, caplog: pytest.LogCaptureFixture
                                          ) -> None:
    meta = _meta(folder)
    del meta["sha256"]
    meta["tokenizer"] = {"mode": "something else"}  # format 1 did not compare the tokenizers
    _set_meta(folder, {**meta, "format": 1})
    (folder / "labels.json").write_text('["a", "b", "c"]')  # no digest to tell
    with caplog.at_level(logging.WARNING, logger="wordvecs.training.classifier"):
        back = load_classifier(folder)
    assert back.labels == ["a", "b", "c"]
    assert back.predict(["bank"])[0][0] == "b"
    assert f"{folder}: a format-1 classifier has no digests; its files cannot be checked " \
           "against each other" in [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("value", ["4", 0, -1, True, 4.0, None])
@pytest.mark.keras
def test_max_len_must_be_a_positive_integer(folder: Path, value: Any) -> None:
    _set_meta(folder, {**_meta(folder), "max_len": value})
    assert _load_error(folder) == (f"{folder / 'classifier.json'}: max_len must be a positive "
                                   f"integer. Received: {value!r}")


@pytest.mark.keras
def test_max_len_1_reaches_the_shape_check(folder: Path) -> None:
    _set_meta(folder, {**_meta(folder), "max_len": 1})
    assert _load_error(folder) == (f"{folder}: the model takes sequences of 4 tokens but "
                                   "max_len is 1")


@pytest.mark.parametrize("prior", ["0.5", [0.5, "0.5"], [True, False, False], {"a": 1}])
@pytest.mark.keras
def test_prior_must_be_numbers(folder: Path, prior: Any) -> None:
    _set_meta(folder, {**_meta(folder), "prior": prior})
    assert _load_error(folder) == f"{folder / 'classifier.json'}: prior must be a list of numbers"


@pytest.mark.keras
def test_prior_absent_or_integers(folder: Path) -> None:
    meta = _meta(folder)
    _set_meta(folder, {**meta, "prior": [0, 1, 0]})
    assert load_classifier(folder).prior.tolist() == [0.0, 1.0, 0.0]
    _set_meta(folder, {k: v for k, v in meta.items() if k != "prior"})
    assert load_classifier(folder).prior.tolist() == [1 / 3] * 3
    _set_meta(folder, {**meta, "prior": [0.5, 0.5]})
    assert _load_error(folder) == (f"{folder}: prior must be 3 non-negative numbers that sum to "
                                   "1. Received: [0.5, 0.5]")


@pytest.mark.keras
def test_tokenizers_must_agree(folder: Path) -> None:
    meta = _meta(folder)
    _set_meta(folder, {**meta, "tokenizer": {**meta["tokenizer"], "lowercase": False}})
    assert _load_error(folder) == (f"{folder}: classifier.json and vocabulary.json name "
                                   "different tokenizers")
    _set_meta(folder, {k: v for k, v in meta.items() if k != "tokenizer"})
    assert load_classifier(folder).labels == ["sport", "money", "tëch"]


@pytest.mark.keras
def test_classifier_errors_name_the_folder(folder: Path) -> None:
    _rewrite(folder, "labels.json", b'["a", "b", "c", "d"]')
    assert _load_error(folder) == f"{folder}: the model predicts 3 classes but there are 4 labels"
    _rewrite(folder, "labels.json", b'["a", "a", "c"]')
    assert _load_error(folder) == f"{folder}: labels must be distinct. Received: ['a', 'a', 'c']"
    v = json.loads((folder / "vocabulary.json").read_text())
    _rewrite(folder, "labels.json", b'["a", "b", "c"]')
    _rewrite(folder, "vocabulary.json", json.dumps({**v, "words": [*v["words"], "zz"]}).encode())
    assert _load_error(folder) == (f"{folder}: the model's Embedding has 5 rows but the "
                                   "vocabulary has 6 indices")


@pytest.mark.keras
def test_a_damaged_vocabulary_is_named(folder: Path) -> None:
    """Vocabulary.loads is given the folder's vocabulary.json as the name its errors give."""
    _rewrite(folder, "vocabulary.json", b'{"words": ["a",\n ]}')
    with pytest.raises(VocabularyError) as err:
        load_classifier(folder)
    assert _message(err) == f"{folder / 'vocabulary.json'}: not JSON (Expecting value, line 2)"


@pytest.mark.keras
def test_hostile_model_file_errors_name_the_folder(folder: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks on model.keras name the folder's file, not the loader's private copy: the
    config check, the NumPy forward pass's weights reader, and Keras' loader."""
    m = _members(folder)
    _rewrite(folder, "model.keras",
             _zip(tmp_path / "a.keras", {**m, "evil.pkl": b"x"}).read_bytes())
    assert _load_error(folder) == (
        f"{folder / 'model.keras'}: not a Keras model file of a wordvecs classifier (members "
        "['config.json', 'evil.pkl', 'metadata.json', 'model.weights.h5']; expected "
        "['config.json', 'metadata.json', 'model.weights.h5'])")
    # not HDF5, as many bytes as the weights: the config check passes, the loaders then fail
    _rewrite(folder, "model.keras", _zip(tmp_path / "b.keras", {
        **m, "model.weights.h5": b"\0" * len(m["model.weights.h5"])}).read_bytes())
    for mode in ("numpy", "auto"):
        monkeypatch.setenv("WORDVECS_FORWARD", mode)
        assert _load_error(folder) == (
            f"{folder / 'model.keras'}: its weights file cannot be read (Unable to synchronously "
            "open file (file signature not found))")
    monkeypatch.setenv("WORDVECS_FORWARD", "keras")
    assert _load_error(folder) == (
        f"{folder / 'model.keras'}: Keras cannot load it (OSError: Unable to synchronously open "
        "file (file signature not found))")


@pytest.mark.keras
def test_unknown_keys_become_info_and_subwords_are_loaded(folder: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    from wordvecs.training.subword_predict import SubwordFallback

    calls: list[tuple[Path, Any]] = []

    def load(path: Path, expected: Any = None) -> None:
        calls.append((path, expected))

    monkeypatch.setattr(SubwordFallback, "load", load)
    meta = _meta(folder)
    _set_meta(folder, {**meta, "run": {"epochs": 3}, "subwords": {"files": {"a": 1}}})
    back = load_classifier(folder)
    assert back.info == {"note": "ünï", "run": {"epochs": 3}}
    assert calls == [(folder / "subwords", {"a": 1})]
    _set_meta(folder, {**meta, "subwords": ["odd"]})
    load_classifier(folder)
    assert calls[1] == (folder / "subwords", None)
    _set_meta(folder, {**meta, "subwords": {}})
    load_classifier(folder)
    assert calls[2] == (folder / "subwords", None)


# --- the Keras file's own checks -----------------------------------------------------------------

def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return path


def _members(folder: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(folder / "model.keras") as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _config_error(path: Path) -> str:
    with pytest.raises(DataError) as err:
        clf_mod._check_keras_config(path, Path("shown/model.keras"))
    return _message(err)


@pytest.mark.keras
def test_keras_members(folder: Path, tmp_path: Path) -> None:
    m = _members(folder)
    expected = "['config.json', 'metadata.json', 'model.weights.h5']"
    bad = _zip(tmp_path / "a.keras", {**m, "evil.pkl": b"x"})
    assert _config_error(bad) == (
        "shown/model.keras: not a Keras model file of a wordvecs classifier (members "
        f"['config.json', 'evil.pkl', 'metadata.json', 'model.weights.h5']; expected {expected})")
    bad = _zip(tmp_path / "b.keras", {"metadata.json": m["metadata.json"]})
    assert _config_error(bad) == ("shown/model.keras: not a Keras model file of a wordvecs "
                                  f"classifier (members ['metadata.json']; expected {expected})")
    # the weights file may be missing here (the config then declares more than 0 bytes hold)
    ok = _zip(tmp_path / "c.keras", {"config.json": b'{"module": "keras"}'})
    clf_mod._check_keras_config(ok, Path("x"))
    (tmp_path / "d.keras").write_bytes(b"PK\x03\x04 not really")
    assert _config_error(tmp_path / "d.keras").startswith(
        "shown/model.keras: not a Keras model file (")
    assert _config_error(tmp_path / "none.keras").startswith(
        "shown/model.keras: not a Keras model file ([Errno 2]")


def test_keras_config_size_limit(tmp_path: Path) -> None:
    limit = 16 << 20
    assert limit == clf_mod._MAX_CONFIG_BYTES
    at = json.dumps({"a": "x" * (limit - 9)}).encode()
    assert len(at) == limit
    clf_mod._check_keras_config(_zip(tmp_path / "a.keras", {"config.json": at}), Path("x"))
    over = json.dumps({"a": "x" * (limit - 8)}).encode()
    assert _config_error(_zip(tmp_path / "b.keras", {"config.json": over})) == (
        "shown/model.keras: config.json is 16,777,217 bytes, more than a classifier's config "
        "takes")


def test_keras_config_damaged(tmp_path: Path) -> None:
    assert _config_error(_zip(tmp_path / "a.keras", {"config.json": b"{"})).startswith(
        "shown/model.keras: config.json is damaged (Expecting property name")
    assert _config_error(_zip(tmp_path / "b.keras", {"config.json": b'"\xff"'})).startswith(
        "shown/model.keras: config.json is damaged ('utf-8' codec can't decode")
    assert _config_error(_zip(tmp_path / "c.keras", {"config.json": b"[" * 100_000})) == (
        "shown/model.keras: config.json nested too deeply")


@pytest.mark.parametrize("module,ok", [
    ("keras", True), ("keras.layers", True), ("keras.src.models.functional", True),
    ("kerasx", False), ("os", False), ("Keras", False), ("xkeras.layers", False), (5, False),
    (None, False),
])
def test_keras_config_modules(tmp_path: Path, module: Any, ok: bool) -> None:
    config = {"module": "keras", "class_name": "Functional", "config": {"layers": [
        {"module": "keras.layers", "class_name": "InputLayer", "config": {}},
        [{"class_name": "Lambda", "config": {"function": {"module": module,
                                                          "class_name": "system"}}}]]}}
    path = _zip(tmp_path / "a.keras", {"config.json": json.dumps(config).encode()})
    if ok:
        clf_mod._check_keras_config(path, Path("x"))
    else:
        assert _config_error(path) == (
            f"shown/model.keras: the model's config names the module {module!r} (class "
            "'system'); a classifier holds Keras layers only")
    # a node with no "module" key is not refused
    clf_mod._check_keras_config(
        _zip(tmp_path / "b.keras", {"config.json": b'{"class_name": "X", "config": {}}'}),
        Path("x"))


def test_keras_config_sizes_against_the_weights_file(tmp_path: Path) -> None:
    layers = [{"module": "keras.layers", "class_name": "Embedding",
               "config": {"input_dim": 10, "output_dim": 3}},
              {"module": "keras.layers", "class_name": "Dense", "config": {"units": 4}},
              [{"class_name": "Conv1D", "config": {"filters": 5}}]]
    config = json.dumps({"config": {"layers": layers}}).encode()
    declared = 10 * 3 + 4 + 5
    clf_mod._check_keras_config(_zip(tmp_path / "a.keras", {
        "config.json": config, "model.weights.h5": b"\0" * (2 * declared)}), Path("x"))
    assert _config_error(_zip(tmp_path / "b.keras", {
        "config.json": config, "model.weights.h5": b"\0" * (2 * declared - 1)})) == (
        f"shown/model.keras: the model's config declares at least {declared:,} weights but its "
        f"weights file holds {2 * declared - 1:,} bytes (a damaged or crafted config: sizes are "
        "checked before the model is built)")
    big = json.dumps({"config": {"layers": [{"class_name": "Dense",
                                             "config": {"units": 1000}}]}}).encode()
    assert _config_error(_zip(tmp_path / "c.keras", {"config.json": big})) == (
        "shown/model.keras: the model's config declares at least 1,000 weights but its weights "
        "file holds 0 bytes (a damaged or crafted config: sizes are checked before the model is "
        "built)")


@pytest.mark.parametrize("node,least", [
    ({"class_name": "Embedding", "config": {"input_dim": 7, "output_dim": 3, "units": 100}}, 21),
    ({"class_name": "Dense", "config": {"units": 5, "filters": 100}}, 5),
    ({"class_name": "Conv1D", "config": {"filters": 6}}, 6),
    ({"class_name": "Dropout", "config": {"rate": 0.5}}, 0),
    ({"class_name": "Dense", "config": [("units", 5)]}, 0),
    ({"class_name": 5, "config": {"units": 5}}, 0),
    ({"config": {"units": 5}}, 0),
    ({"class_name": "Dense"}, 0),
    ({"class_name": "Dense", "config": {"units": 1}}, 1),
    ({"class_name": "Dense", "config": {"units": 0}}, 1 << 62),
    ({"class_name": "Dense", "config": {"units": -3}}, 1 << 62),
    ({"class_name": "Dense", "config": {"units": "5"}}, 1 << 62),
    ({"class_name": "Dense", "config": {"units": True}}, 1 << 62),
    ({"class_name": "Dense", "config": {"units": 5.0}}, 1 << 62),
    ({"class_name": "Dense", "config": {"units": None}}, 1 << 62),
    ({"class_name": "Embedding", "config": {"input_dim": 7}}, 1 << 62),
    ({"class_name": "Embedding", "config": {"output_dim": 7, "input_dim": 0}}, 1 << 62),
    ({"class_name": "Embedding", "config": {}}, 1 << 62),
])
def test_least_weights(node: dict[str, Any], least: int) -> None:
    assert clf_mod._least_weights(node) == least


@pytest.mark.keras
def test_keras_loader_failure_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    import warnings

    import keras

    def fail(*args: Any, **kw: Any) -> None:
        raise ValueError("  " + "e" * 300 + "\nsecond line\n")

    monkeypatch.setattr(keras.saving, "load_model", fail)
    with pytest.raises(DataError) as err:
        clf_mod._load_keras_model(tmp_path / "m.keras", Path("shown.keras"))
    assert _message(err) == f"shown.keras: Keras cannot load it (ValueError: {'e' * 200})"
    assert err.value.__cause__ is None and err.value.__suppress_context__

    def fail_quietly(*args: Any, **kw: Any) -> None:
        raise KeyError()

    monkeypatch.setattr(keras.saving, "load_model", fail_quietly)
    with pytest.raises(DataError) as err:
        clf_mod._load_keras_model(tmp_path / "m.keras", Path("shown.keras"))
    assert _message(err) == "shown.keras: Keras cannot load it (KeyError: )"
    seen: list[tuple[Any, dict[str, Any]]] = []

    def warn(*args: Any, **kw: Any) -> str:
        seen.append((args, kw))
        warnings.warn("careful", UserWarning, stacklevel=1)
        warnings.warn("careful", UserWarning, stacklevel=1)  # said twice, logged twice
        return "model"

    monkeypatch.setattr(keras.saving, "load_model", warn)
    with caplog.at_level(logging.WARNING, logger="wordvecs.training.classifier"):
        assert clf_mod._load_keras_model(tmp_path / "m.keras", Path("shown.keras")) == "model"
    assert seen == [((tmp_path / "m.keras",), {"compile": False, "safe_mode": True})]
    assert [r.getMessage() for r in caplog.records] == ["shown.keras: Keras: careful"] * 2


def test_model_file_is_a_private_copy(tmp_path: Path) -> None:
    src = tmp_path / "checked.keras"
    src.write_bytes(b"model bytes")
    mf = clf_mod._ModelFile(src, Path("shown"))
    assert not src.exists() and mf.path.read_bytes() == b"model bytes"
    assert mf.path == mf.folder / "model.keras" and mf.shown == Path("shown")
    assert mf.folder.name.startswith("wordvecs-model-")
    folder = mf.folder
    del mf
    gc.collect()
    assert not folder.exists()


def test_model_file_gone_before_its_owner_is_no_error(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A private copy removed by someone else (a /tmp cleaner) leaves nothing to say when the
    classifier goes: no "Exception ignored" from the finalizer."""
    import sys

    raised: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", raised.append)
    src = tmp_path / "checked.keras"
    src.write_bytes(b"model bytes")
    mf = clf_mod._ModelFile(src, Path("shown"))
    shutil.rmtree(mf.folder)
    del mf
    gc.collect()
    assert raised == []


# --- a folder re-saved while it is read ----------------------------------------------------------

@pytest.mark.keras
def test_load_reads_again_when_classifier_json_changed(folder: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    real = clf_mod._load_from
    calls = {"n": 0}

    def racing(path: Path, raw: bytes, private: Path) -> Classifier:
        calls["n"] += 1
        if calls["n"] == 1:  # a save lands now: new labels, new digests, new classifier.json
            _rewrite(folder, "labels.json", b'["a", "b", "c"]')
            raise DataError("labels.json: changed since it was saved")
        return real(path, raw, private)

    monkeypatch.setattr(clf_mod, "_load_from", racing)
    monkeypatch.setattr(clf_mod.time, "sleep", lambda s: None)
    assert load_classifier(folder).labels == ["a", "b", "c"] and calls["n"] == 2


@pytest.mark.keras
def test_load_error_on_an_unchanged_folder_is_raised_at_once(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}

    def fails(path: Path, raw: bytes, private: Path) -> Classifier:
        calls["n"] += 1
        raise OSError(5, "I/O error")

    monkeypatch.setattr(clf_mod, "_load_from", fails)
    with pytest.raises(OSError):
        load_classifier(folder)
    assert calls["n"] == 1

    def vanishes(path: Path, raw: bytes, private: Path) -> Classifier:
        calls["n"] += 1
        if calls["n"] == 2:
            (folder / "classifier.json").unlink()
            (folder / "classifier.json").mkdir()  # re-reading it fails: counted as a change
            raise DataError("gone")
        raise AssertionError("read again although the folder is no classifier now")

    monkeypatch.setattr(clf_mod, "_load_from", vanishes)
    monkeypatch.setattr(clf_mod.time, "sleep", lambda s: None)
    assert _load_error(folder).endswith("not a saved classifier (missing classifier.json)")
    assert calls["n"] == 2


@pytest.mark.keras
def test_load_gives_up_after_eight_tries(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tries: list[Path] = []
    sleeps: list[float] = []

    def raced(path: Path) -> Classifier:
        tries.append(path)
        raise clf_mod._Raced

    monkeypatch.setattr(clf_mod, "_load_once", raced)
    monkeypatch.setattr(clf_mod.time, "sleep", sleeps.append)
    assert _load_error(str(folder)) == (
        f"{folder}: its files kept changing while being read (another process is saving a "
        "classifier there); try again when it is done")
    assert tries == [folder] * 8
    assert sleeps == pytest.approx([0.01 * n for n in range(1, 9)])


@pytest.mark.keras
def test_private_folder_is_removed_after_a_load(folder: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Path] = []
    real = clf_mod._load_from

    def spy(path: Path, raw: bytes, private: Path) -> Classifier:
        made.append(private)
        assert private.is_dir() and private.name.startswith("wordvecs-classifier-")
        return real(path, raw, private)

    monkeypatch.setattr(clf_mod, "_load_from", spy)
    monkeypatch.setenv("WORDVECS_FORWARD", "keras")
    load_classifier(folder)
    assert not made[0].exists()


@pytest.mark.keras
def test_a_stage_left_by_a_killed_save_is_cleaned_by_the_next(keras_clf: Classifier,
                                                              tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    import os
    import re

    from wordvecs import _atomic

    dst = tmp_path / "d"
    monkeypatch.setattr(clf_mod, "shutil", SimpleNamespace(rmtree=lambda *a, **kw: None))
    keras_clf.save(dst)  # as if killed before its clean-up: the hidden stage stays
    monkeypatch.undo()
    stage, = (p for p in dst.iterdir() if p.name.startswith("."))
    assert re.fullmatch(r"\.classifier\.tmp-[0-9a-f]{12}", stage.name)
    old = stage.stat().st_mtime - _atomic.STALE_SECONDS - 60
    os.utime(stage, (old, old))
    keras_clf.save(dst, overwrite=True)
    assert sorted(p.name for p in dst.iterdir()) == sorted(clf_mod.CLASSIFIER_FILES)


@pytest.mark.keras
def test_save_and_load_with_a_subword_table(keras_clf: Classifier, tmp_path: Path) -> None:
    from wordvecs.formats.subword_store import SUBWORD_FILES
    from wordvecs.subwords import FastTextSubwords, SubwordParams
    from wordvecs.training.subword_predict import SubwordFallback

    table = np.random.default_rng(3).standard_normal((len(WORDS) + 20, 3)).astype(np.float32)
    sw = FastTextSubwords(table, SubwordParams(minn=2, maxn=3, bucket=20, nwords=len(WORDS)),
                          list(WORDS))
    fallback = SubwordFallback.from_vectors(sw, WORDS)
    clf = Classifier(keras_clf.model, keras_clf.vocabulary, keras_clf.labels, MAX_LEN,
                     prior=keras_clf.prior, subwords=fallback)
    dst = clf.save(tmp_path / "d")
    meta = _meta(dst)
    files = meta["subwords"]["files"]
    assert meta["subwords"] == {"files": files, "rows": fallback.subwords.table.shape[0],
                                "bytes": fallback.nbytes}
    assert files and {p.name for p in (dst / "subwords").iterdir()} <= SUBWORD_FILES
    back = load_classifier(dst)
    assert back.subwords is not None and back.info == {}
    texts = ["goals", "bankers code", "zzz"]
    assert np.allclose(back.predict_proba(texts), clf.predict_proba(texts), atol=1e-6)
    before = {p.name for p in (dst / "subwords").iterdir()}
    clf.save(dst, overwrite=True)  # the table replaces the earlier one (ours: it may)
    assert {p.name for p in (dst / "subwords").iterdir()} == before
    assert load_classifier(dst).subwords is not None
    keras_clf.save(dst, overwrite=True)  # without a table: the old one goes
    assert not (dst / "subwords").exists() and "subwords" not in _meta(dst)


@pytest.mark.keras
def test_a_save_failing_before_its_stage_exists_is_one_write_error(
        keras_clf: Classifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(dst: Path) -> None:
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(clf_mod.atomic, "clean_stale", refused)
    with pytest.raises(WriteError) as err:  # not the clean-up's FileNotFoundError
        keras_clf.save(tmp_path / "d")
    assert _message(err).startswith(f"cannot write {tmp_path / 'd'}: ")
    assert list((tmp_path / "d").iterdir()) == []
