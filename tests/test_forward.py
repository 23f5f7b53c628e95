"""A saved classifier predicts in NumPy, without importing Keras (issue 26, item 1).

Every head ``wordvecs train`` writes (avg, cnn, bilstm, avgmax), with and without a subword
table, gives the Keras model's probabilities within 1e-5; ``wordvecs predict`` in a fresh process
imports neither Keras nor TensorFlow; a weights file that does not fit its config is a DataError;
a graph the NumPy pass does not know falls back to Keras.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from test_train import config, make_data, make_vectors
from wordvecs.errors import DataError, UsageError

SRC = Path(__file__).resolve().parents[1] / "src"
HEADS = ("avg", "cnn", "bilstm", "avgmax")
# known words, unknown words only, mixed, longer than max_len, repeated padding-like words
TEXTS = ["goal match team", "bank shares market profit", "zzz qqq xxyy", "the the the",
         "software chip data " * 20, "a goal", "unknownword goal", "internet mobile web phone",
         "said the coach of the league and the team won the cup"]
TYPOS = ["gooal matchh teamm", "bankk sharess", "softwarre chipp", "goal qqzz"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A classifier folder per head, trained by ``run_experiment`` (finetune: the padding row
    moves too, so the cnn and avgmax heads see a non-zero padding vector)."""
    pytest.importorskip("keras")
    from wordvecs.training.train import run_experiment

    out = {}
    for head in HEADS:
        d = tmp_path_factory.mktemp(head) / "run"
        run_experiment(make_data(), make_vectors(),
                       config(modes=("finetune",), model=head, fractions=(1.0,), epochs=2,
                              baselines=False), out=d, progress=False)
        out[head] = d
    return out


def _load(path: Path, mode: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from wordvecs.training.classifier import load_classifier

    monkeypatch.setenv("WORDVECS_FORWARD", mode)
    clf = load_classifier(path)
    monkeypatch.delenv("WORDVECS_FORWARD")
    return clf


@pytest.mark.keras
@pytest.mark.parametrize("head", HEADS)
def test_numpy_equals_keras_on_every_head(saved, head: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fast = _load(saved[head], "auto", monkeypatch)
    slow = _load(saved[head], "keras", monkeypatch)
    assert fast.forward == "numpy" and fast._model is None  # no Keras model built
    assert slow.forward == "keras"
    got, want = fast.predict_proba(TEXTS), slow.predict_proba(TEXTS)
    assert got.dtype == np.float32 and got.shape == (len(TEXTS), len(fast.labels))
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
    assert fast.predict_details(TEXTS) is not None
    assert [p[0] for p in fast.predict(TEXTS)] == [p[0] for p in slow.predict(TEXTS)]
    # the raw pass on ids Keras sees: padding in the middle (masked steps keep the LSTM's state),
    # unknown-word ids. An all-padding row never reaches a model (a text of unknown words gets
    # the prior on both paths: TEXTS above), and what the backends make of its masked mean of
    # nothing differs (NaN through ReLU is 0 on TensorFlow, NaN on JAX): left out here.
    rng = np.random.default_rng(7)
    ids = rng.integers(0, len(fast.vocabulary), size=(40, fast.max_len)).astype(np.int32)
    ids[rng.random(ids.shape) < 0.3] = 0
    ids[:, 0] = np.maximum(ids[:, 0], 1)  # every row holds a token
    ids[3:6] = 1
    np.testing.assert_allclose(fast._forward.predict(ids),
                               np.asarray(slow.model.predict_on_batch(ids)),
                               atol=1e-5, rtol=0)
    scores = fast.evaluate(make_data(n=5, seed=3).texts, make_data(n=5, seed=3).labels)
    assert scores == slow.evaluate(make_data(n=5, seed=3).texts, make_data(n=5, seed=3).labels)


def _hand_subwords(clf):  # type: ignore[no-untyped-def]
    """A fastText-like subword table (minn 2, maxn 4, 200 buckets) for ``clf``'s words."""
    from wordvecs.subwords import FastTextSubwords, SubwordParams
    from wordvecs.training.subword_predict import SubwordFallback

    words = [w for w in clf.vocabulary.index if clf.vocabulary.index[w] > 1]
    dim = clf._forward.dim if clf._forward is not None else clf.model.layers[1].output_dim
    table = np.random.default_rng(1).standard_normal((len(words) + 200, dim)).astype(np.float32)
    sw = FastTextSubwords(table, SubwordParams(minn=2, maxn=4, bucket=200, nwords=len(words)),
                          words)
    return SubwordFallback.from_vectors(sw, words)


@pytest.mark.keras
@pytest.mark.parametrize("head", HEADS)
def test_numpy_equals_keras_with_a_subword_table(saved, head: str, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                 monkeypatch) -> None:
    from wordvecs.training.classifier import Classifier

    base = _load(saved[head], "keras", monkeypatch)
    Classifier(base.model, base.vocabulary, base.labels, base.max_len, prior=base.prior,
               subwords=_hand_subwords(base)).save(tmp_path / "sub")
    fast = _load(tmp_path / "sub", "auto", monkeypatch)
    slow = _load(tmp_path / "sub", "keras", monkeypatch)
    assert fast.forward == "numpy" and fast.subwords is not None
    _, extra = fast.subwords.encode(fast, TYPOS)
    assert len(extra) > 0  # the typos do get subword rows past the Embedding
    texts = TYPOS + TEXTS
    np.testing.assert_allclose(fast.predict_proba(texts), slow.predict_proba(texts),
                               atol=1e-5, rtol=0)
    # the subword rows change the answer (the extra rows are used, not the unknown-word row)
    plain = _load(saved[head], "auto", monkeypatch)
    assert not np.allclose(plain.predict_proba(TYPOS), fast.predict_proba(TYPOS), atol=1e-6)


@pytest.mark.keras
@pytest.mark.slow
def test_numpy_equals_keras_with_a_fasttext_bin(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``wordvecs train`` with a fastText ``.bin``: the classifier keeps its subword table."""
    pytest.importorskip("fasttext")
    import wordvecs
    from test_train_families import _fasttext_bin
    from wordvecs.training.train import run_experiment

    vectors = wordvecs.load(str(_fasttext_bin(tmp_path)))
    run_experiment(make_data(), vectors, config(modes=("frozen",), model="bilstm",
                                                fractions=(1.0,), epochs=2, baselines=False),
                   out=tmp_path / "run", progress=False)
    fast = _load(tmp_path / "run", "auto", monkeypatch)
    slow = _load(tmp_path / "run", "keras", monkeypatch)
    assert fast.forward == "numpy" and fast.subwords is not None
    texts = TYPOS + TEXTS
    np.testing.assert_allclose(fast.predict_proba(texts), slow.predict_proba(texts),
                               atol=1e-5, rtol=0)


_HEAVY = re.compile(r"\|\s+(keras|tensorflow|jax|torch)(\.\S+)?\s*$", re.M)


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH",
                                                                                     "")]))
    env.pop("WORDVECS_FORWARD", None)
    return env


@pytest.mark.keras
@pytest.mark.parametrize("head", ["cnn", "bilstm"])
def test_predict_in_a_fresh_process_imports_no_keras(saved, head: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``python -m wordvecs predict DIR TEXT``: the answer Keras gives, and no Keras or
    TensorFlow module imported (``-X importtime`` lists every module the process imported)."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "wordvecs", "predict",
                           str(saved[head]), "--jsonl", "goal match team", "zzz software"],
                          capture_output=True, text=True, env=_env(), timeout=120)
    wall = time.perf_counter() - t0
    print(f"\n{head}: fresh `wordvecs predict` took {wall:.2f} s wall")
    assert done.returncode == 0, done.stderr[-2000:]
    heavy = sorted({m.group(1) for m in _HEAVY.finditer(done.stderr)})
    assert heavy == [], f"imported {heavy}"
    assert "wordvecs.training.forward" in done.stderr  # the check sees the imports at all
    got = [json.loads(line)["probabilities"] for line in done.stdout.splitlines()]
    slow = _load(saved[head], "keras", monkeypatch)
    want = slow.predict_proba(["goal match team", "zzz software"])
    np.testing.assert_allclose([[g[y] for y in slow.labels] for g in got], want, atol=2e-6)


@pytest.mark.keras
def test_serving_imports_no_keras(saved) -> None:  # type: ignore[no-untyped-def]
    """The service's app answers from the NumPy pass; the process never imports Keras."""
    pytest.importorskip("httpx")
    pytest.importorskip("starlette")
    code = (
        "import sys, json\n"
        "from starlette.testclient import TestClient\n"
        "from wordvecs.training.classifier import load_classifier\n"
        "from wordvecs.training.serve import create_app\n"
        f"clf = load_classifier({str(saved['avg'])!r})\n"
        "with TestClient(create_app(clf)) as c:\n"
        "    r = c.post('/predict', json={'texts': ['goal match', 'bank']})\n"
        "    assert r.status_code == 200, r.text\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('keras', 'tensorflow'))))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_the_cli_itself_imports_no_keras() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "wordvecs", "predict",
                           "--help"], capture_output=True, text=True, env=_env(), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not _HEAVY.search(done.stderr)


def test_the_serve_extra_needs_no_tensorflow() -> None:
    """``pip install 'wordvecs[serve]'`` brings h5py (the weights) and no Keras backend."""
    meta = tomllib.loads((SRC.parent / "pyproject.toml").read_text(encoding="utf-8"))
    extras = meta["project"]["optional-dependencies"]

    def closure(name: str) -> set[str]:
        out: set[str] = set()
        for req in extras[name]:
            pkg = re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0].lower()
            if pkg == "wordvecs":
                for sub in re.findall(r"\[([^\]]+)\]", req)[0].split(","):
                    out |= closure(sub.strip())
            else:
                out.add(pkg)
        return out

    deps = closure("serve") | {re.split(r"[<>=!~; ]", r, maxsplit=1)[0].lower()
                               for r in meta["project"]["dependencies"]}
    assert "h5py" in deps
    assert not deps & {"tensorflow", "tensorflow-cpu", "keras", "jax", "torch"}


# --- hostile and unknown models -------------------------------------------------------------------
def _rewrite_weights(src: Path, dst: Path, change) -> None:  # type: ignore[no-untyped-def]
    """A copy of the classifier ``src`` at ``dst`` whose weights file went through ``change``
    (an open h5py file), its digest recorded again: only the new check can catch it."""
    import h5py

    shutil.copytree(src, dst)
    with zipfile.ZipFile(src / "model.keras") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    buf = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buf, "r+") as f:
        change(f)
    members["model.weights.h5"] = buf.getvalue()
    with zipfile.ZipFile(dst / "model.keras", "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    meta = json.loads((dst / "classifier.json").read_text())
    meta["sha256"]["model.keras"] = hashlib.sha256((dst / "model.keras").read_bytes()).hexdigest()
    (dst / "classifier.json").write_text(json.dumps(meta))


def _embedding_group(f):  # type: ignore[no-untyped-def]
    return next(f["layers"][k] for k in f["layers"]
                if f["layers"][k]["vars"].attrs.get("name") == "embedding")


@pytest.mark.keras
@pytest.mark.parametrize("how", ["rows", "dtype", "extra"])
def test_weights_that_do_not_fit_the_config_are_a_data_error(saved, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                             how: str) -> None:
    from wordvecs.training.classifier import load_classifier

    def change(f) -> None:  # type: ignore[no-untyped-def]
        g = _embedding_group(f)["vars"]
        table = g["0"][()]
        del g["0"]
        if how == "rows":  # one row more than the config's input_dim
            g["0"] = np.concatenate([table, table[:1]])
        elif how == "dtype":
            g["0"] = table.astype(np.float64)
        else:
            g["0"] = table
            g["1"] = table[:1]

    _rewrite_weights(saved["avg"], tmp_path / "bad", change)
    with pytest.raises(DataError, match=r"model\.keras"):
        load_classifier(tmp_path / "bad")


@pytest.mark.keras
def test_an_unknown_graph_falls_back_to_keras(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import keras

    from wordvecs.text.datasets import Vocabulary
    from wordvecs.training.classifier import Classifier

    vocab = Vocabulary(["goal", "match", "bank", "shares"])
    inputs = keras.Input(shape=(6,), dtype="int32")
    x = keras.layers.Embedding(len(vocab), 4)(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    x = keras.layers.Dense(5, activation="tanh")(x)  # an activation the NumPy pass lacks
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    clf = Classifier(keras.Model(inputs, outputs), vocab, ["a", "b"], 6)
    clf.save(tmp_path / "odd")
    loaded = _load(tmp_path / "odd", "auto", monkeypatch)
    assert loaded.forward == "keras"
    np.testing.assert_allclose(loaded.predict_proba(["goal bank"]),
                               clf.predict_proba(["goal bank"]), atol=1e-6)
    with pytest.raises(DataError, match="not a graph the NumPy forward pass runs"):
        _load(tmp_path / "odd", "numpy", monkeypatch)


@pytest.mark.keras
def test_a_numpy_classifier_still_has_its_keras_model_and_saves(saved, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                monkeypatch) -> None:
    fast = _load(saved["cnn"], "auto", monkeypatch)
    assert fast._model is None
    assert [la.__class__.__name__ for la in fast.model.layers][-1] == "Dense"  # built on demand
    fast.save(tmp_path / "again")
    again = _load(tmp_path / "again", "auto", monkeypatch)
    assert again.forward == "numpy"
    np.testing.assert_allclose(again.predict_proba(TEXTS), fast.predict_proba(TEXTS), atol=1e-7)


def test_a_bad_forward_setting_is_a_usage_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from wordvecs.training.forward import forward_mode

    monkeypatch.setenv("WORDVECS_FORWARD", "tensorflow")
    with pytest.raises(UsageError, match="WORDVECS_FORWARD"):
        forward_mode()
    monkeypatch.setenv("WORDVECS_FORWARD", "Keras")
    assert forward_mode() == "keras"
