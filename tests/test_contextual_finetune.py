"""The fine-tuning contextual mode: the top blocks of a (tiny random) BERT trained with the head on
the cached output of the frozen bottom blocks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.keras

pytest.importorskip("safetensors")
pytest.importorskip("tokenizers")

from test_bert import TINY_CONFIG, _toy_data, make_tiny  # noqa: E402

N_BLOCKS = TINY_CONFIG["num_hidden_layers"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny(tmp_path_factory.mktemp("tiny") / "tiny-bert")


@pytest.fixture(scope="module")
def tame(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BERT whose states keep the tokens apart (the random one's final states are nearly
    the same for every token): unit LayerNorms, small block weights, larger embeddings."""
    from test_bert import _tiny_tensors

    t = _tiny_tensors()
    for k in t:
        if k.endswith("LayerNorm.weight"):
            t[k] = np.ones_like(t[k])
        elif k.endswith("LayerNorm.bias"):
            t[k] = np.zeros_like(t[k])
        elif k.startswith("encoder."):
            t[k] = t[k] * 0.4
        elif k.startswith("embeddings."):
            t[k] = t[k] * 2
    return make_tiny(tmp_path_factory.mktemp("tame") / "tame-bert", tensors=t)


def _separable(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Two classes written with two disjoint sets of words."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    words = [["cat", "dog", "the", "running"], ["a", "b", "c", "!"]]
    return [" ".join(rng.choice(words[k], rng.integers(2, 6))) for k in y], y


def _ids(encoder, texts: list[str], length: int) -> tuple[np.ndarray, np.ndarray]:
    seqs = encoder.tokenizer.encode(texts)
    ids = np.zeros((len(texts), length), np.int32)
    mask = np.zeros_like(ids)
    for r, s in enumerate(seqs):
        ids[r, : len(s)], mask[r, : len(s)] = s, 1
    return ids, mask


def _weights(layer) -> list[np.ndarray]:
    return [np.asarray(w).copy() for w in layer.weights]


def test_state_cache_keeps_the_output_of_the_bottom_blocks(tiny: Path) -> None:
    from wordvecs.encoders.contextual import StateCache

    texts, _ = _toy_data(12, 5)
    final = StateCache(tiny, max_len=8)
    assert final.layer == N_BLOCKS  # the default: the last block's output, as before
    for layer in range(N_BLOCKS + 1):
        cache = StateCache(tiny, max_len=8, layer=layer)
        enc = cache.encoder
        states, mask = cache.get(texts, 8)
        assert len(cache) == len(set(texts)) and cache.layer == layer
        # the first `layer` blocks of the frozen encoder, run directly
        ids, m = _ids(enc, texts, 8)
        np.testing.assert_array_equal(mask, m)
        x = enc.model.get_layer("embeddings")(ids)
        for n in range(layer):
            x = enc.model.get_layer(f"layer_{n}")(x, padding_mask=m)
        want = np.asarray(x) * m[..., None]
        np.testing.assert_allclose(states, want, atol=1e-5)
        ref, _ = final.get(texts, 8)
        if layer < N_BLOCKS:
            assert np.abs(states - ref).max() > 1e-2  # not the final output
        else:
            np.testing.assert_allclose(states, ref, atol=1e-6)


def test_finetune_changes_the_top_blocks_only(tiny: Path) -> None:
    from wordvecs.encoders.contextual import StateCache, finetune_contextual
    from wordvecs.training.train import RunResult

    (tr, y_tr), (va, y_va), (te, y_te) = _toy_data(40, 0), _toy_data(16, 1), _toy_data(16, 2)
    cache = StateCache(tiny, max_len=8, layer=N_BLOCKS - 1)
    enc = cache.encoder
    before = {layer.name: _weights(layer) for layer in enc.model.layers if layer.weights}
    res = finetune_contextual(tr, y_tr, va, y_va, te, y_te, n_classes=2, head="avg", epochs=2,
                              seed=0, max_len=8, cache=cache, layers=1, learning_rate=1e-3)
    run = RunResult(**{k: res[k] for k in RunResult.__dataclass_fields__})
    assert run.mode == "contextual-finetune" and run.train_size == 40
    assert run.params == {"layers": 1, "learning_rate": 1e-3, "warmup": 0.1}
    full = res["model"]
    tuned = full.get_layer(f"tuned_layer_{N_BLOCKS - 1}")
    # the tuned top block started from the pre-trained one and moved away from it
    top = before[f"layer_{N_BLOCKS - 1}"]
    moved = [np.abs(np.asarray(w) - b).max() for w, b in zip(tuned.weights, top)]
    assert all(m > 0 for m in moved) and max(m for m in moved) < 0.1
    # the encoder is untouched: embeddings and every block, the bottom ones used by `full` too
    for layer in enc.model.layers:
        for w, b in zip(layer.weights, before.get(layer.name, [])):
            np.testing.assert_array_equal(np.asarray(w), b)
    # trainable = the tuned block and the head; frozen = the embeddings and the bottom blocks
    head = full.get_layer("avg_contextual_head")
    count = lambda ws: sum(int(np.prod(w.shape)) for w in ws)  # noqa: E731
    frozen = count(enc.model.get_layer("embeddings").weights) + sum(
        count(enc.model.get_layer(f"layer_{n}").weights) for n in range(N_BLOCKS - 1))
    assert run.frozen_params == frozen
    assert run.trainable_params == count(tuned.weights) + count(head.weights)
    assert run.weight_bytes == 4 * (frozen + run.trainable_params)
    assert res["state_bytes"] == cache.nbytes > 0 and res["encode_seconds"] > 0
    # a second run on the same cache encodes nothing again
    res2 = finetune_contextual(tr, y_tr, va, y_va, te, y_te, n_classes=2, head="avg",
                               epochs=1, max_len=8, cache=cache, layers=1)
    assert res2["encode_seconds"] == 0


@pytest.mark.parametrize("layers", [1, N_BLOCKS])
def test_end_to_end_model_equals_the_trained_one(tiny: Path, layers: int) -> None:
    from wordvecs.encoders.contextual import StateCache, finetune_contextual

    (tr, y_tr), (va, y_va), (te, y_te) = _toy_data(30, 0), _toy_data(10, 1), _toy_data(10, 2)
    cache = StateCache(tiny, max_len=8, layer=N_BLOCKS - layers)
    res = finetune_contextual(tr, y_tr, va, y_va, te, y_te, n_classes=2, head="cnn", epochs=2,
                              max_len=8, cache=cache, layers=layers, learning_rate=1e-3)
    full = res["model"]
    length = full.inputs[0].shape[1]
    ids, mask = _ids(cache.encoder, te, length)
    got = full.predict([ids, mask], verbose=0)
    # the same documents through the trained path: cached states -> tuned blocks -> head
    x, m = cache.get(te, length)
    for n in range(N_BLOCKS - layers, N_BLOCKS):
        x = full.get_layer(f"tuned_layer_{n}")(x, padding_mask=m)
    want = full.get_layer("cnn_contextual_head").predict([np.asarray(x) * m[..., None], m],
                                                         verbose=0)
    np.testing.assert_allclose(got, want, atol=1e-5)
    # the run's own probabilities came from batches of other widths (see _Buckets): the same
    np.testing.assert_allclose(res["test_probabilities"], got, atol=1e-5)
    np.testing.assert_array_equal(np.argmax(got, axis=1), res["test_predictions"])
    if layers == N_BLOCKS:  # every block tuned: only the embeddings stay frozen
        emb = cache.encoder.model.get_layer("embeddings")
        assert res["frozen_params"] == sum(int(np.prod(w.shape)) for w in emb.weights)


def test_buckets_pad_each_batch_to_its_own_longest_document() -> None:
    from wordvecs.encoders.contextual import _REACH, _WIDTH_STEP, _Buckets

    rng = np.random.default_rng(0)
    lengths = np.concatenate([rng.integers(3, 20, 900), rng.integers(100, 128, 100)])
    states = [np.full((n, 4), n, np.float32) for n in lengths]
    labels = (lengths > 50).astype(np.int32)
    data = _Buckets(states, labels, 32, seed=7)
    assert len(data) == -(-len(states) // 32)
    padded, orders = 0, []
    for _ in range(2):
        order = []
        for i in range(len(data)):
            (x, mask), y = data[i]
            idx = data.batches[i]
            real = mask.sum(axis=1)
            np.testing.assert_array_equal(real, lengths[idx])
            np.testing.assert_array_equal(y, labels[idx])
            np.testing.assert_array_equal(x[:, 0, 0], lengths[idx])  # each row is its document
            assert (x[mask == 0] == 0).all()
            width = x.shape[1]
            assert width % _WIDTH_STEP == 0 and width - _WIDTH_STEP < real.max() + _REACH <= width
            padded += x.shape[0] * width
            order.extend(idx)
        assert sorted(order) == list(range(len(states)))  # every document once an epoch
        orders.append(order)
        data.on_epoch_end()
    assert orders[0] != orders[1]  # a new order each epoch
    again = _Buckets(states, labels, 32, seed=7)
    assert [list(b) for b in again.batches] == [list(b) for b in _Buckets(
        states, labels, 32, seed=7).batches]
    # one array padded to the longest document + reach would hold 2 x 133 x 1000 positions;
    # batches of similar lengths hold little more than the documents themselves
    assert padded < 0.3 * 2 * (lengths.max() + _REACH) * len(states)
    assert padded < 2 * 2.2 * lengths.sum()
    # Keras' TensorFlow path reads the shapes of the first two batches: they differ
    assert data[0][0][0].shape[1] != data[1][0][0].shape[1]
    # evaluation: in order of length, mapped back by order()
    ev = _Buckets(states, None, 64, seed=None)
    assert len(ev[0]) == 1 and sorted(ev.order()) == list(range(len(states)))
    assert ev[0][0][0].shape[1] != ev[1][0][0].shape[1]


def test_learning_rate_warms_up_then_decays() -> None:
    from wordvecs.encoders.contextual import warmup_linear_decay

    s = warmup_linear_decay(1e-3, 100, warmup=0.1)
    lr = lambda step: float(np.asarray(s(step)))  # noqa: E731
    assert lr(0) == 0
    assert lr(5) == pytest.approx(5e-4)
    assert lr(10) == pytest.approx(1e-3)  # the end of the warm-up: the peak
    assert lr(55) == pytest.approx(5e-4)
    assert lr(99) == pytest.approx(1e-3 / 90)  # the last step: 1 of the 90 decay steps left
    assert lr(100) == 0 and lr(150) == 0
    flat = warmup_linear_decay(1e-3, 10, warmup=0.0)
    assert float(np.asarray(flat(0))) == pytest.approx(1e-3)


def test_head_gets_the_larger_rate() -> None:
    import keras

    from wordvecs.encoders.contextual import _two_rate_adam

    slow, fast = keras.Variable(np.zeros(3, np.float32)), keras.Variable(np.zeros(3, np.float32))
    opt = _two_rate_adam(1e-4, [fast], 10.0)
    grad = np.ones(3, np.float32)
    opt.apply([grad, grad], [slow, fast])
    # Adam's first step moves each weight by its rate
    np.testing.assert_allclose(np.asarray(slow), -1e-4, rtol=1e-3)
    np.testing.assert_allclose(np.asarray(fast), -1e-3, rtol=1e-3)


def test_layers_out_of_range_is_a_usage_error(tiny: Path) -> None:
    from wordvecs.encoders.contextual import StateCache, finetune_contextual
    from wordvecs.errors import UsageError

    tr, y = _toy_data(6, 0)
    for bad in (0, N_BLOCKS + 1, -1, 1.5, True):
        with pytest.raises(UsageError, match=rf"layers must be an integer from 1 to {N_BLOCKS}"):
            finetune_contextual(tr, y, tr, y, tr, y, n_classes=2, model=tiny, epochs=1,
                                max_len=8, layers=bad)
    with pytest.raises(UsageError, match="needs layer=1"):
        finetune_contextual(tr, y, tr, y, tr, y, n_classes=2, epochs=1, max_len=8, layers=1,
                            cache=StateCache(tiny, max_len=8))
    with pytest.raises(UsageError, match="warmup"):
        finetune_contextual(tr, y, tr, y, tr, y, n_classes=2, model=tiny, epochs=1,
                            max_len=8, layers=1, warmup=1.0)
    with pytest.raises(UsageError, match="layer must be an integer in"):
        StateCache(tiny, max_len=8, layer=N_BLOCKS + 1)


def test_finetune_learns_an_easy_task(tame: Path) -> None:
    import keras

    from wordvecs.encoders.contextual import finetune_contextual

    (tr, y_tr), (va, y_va), (te, y_te) = _separable(120, 0), _separable(40, 1), _separable(40, 2)
    rates: list[float] = []

    class Rates(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
            rates.append(float(np.asarray(self.model.optimizer.learning_rate)))

    res = finetune_contextual(tr, y_tr, va, y_va, te, y_te, n_classes=2, head="avg", epochs=8,
                              seed=0, max_len=8, model=tame, layers=N_BLOCKS, patience=8,
                              learning_rate=3e-3, head_learning_rate=1e-2, batch_size=16,
                              callbacks=[Rates()])
    assert res["val_accuracy"] >= 0.95 and res["test_accuracy"] >= 0.95
    assert res["history"]["val_loss"][-1] < 0.5 * res["history"]["val_loss"][0]
    # the optimizer followed the schedule: warm-up to the peak, then decay
    assert len(rates) == 8 * 8  # 120 documents in batches of 16, 8 epochs
    peak = int(np.argmax(rates))
    assert rates[0] == 0 and peak == round(0.1 * 64)
    assert rates[peak] == pytest.approx(3e-3) and rates[-1] == pytest.approx(3e-3 / 58)


def test_probe_head_starts_as_the_sentence_embedding_baseline(tame: Path) -> None:
    """The probe head's first stage is a logistic regression on the frozen sentence embeddings
    (Encoder.embed's, exactly); tuning that makes validation worse is undone (the probe kept)."""
    from sklearn.linear_model import LogisticRegression

    from wordvecs.encoders.contextual import StateCache, finetune_contextual
    from wordvecs.logreg import SENTENCE_CS as PROBE_CS

    (tr, y_tr), (va, y_va), (te, y_te) = _separable(80, 3), _separable(40, 4), _separable(40, 5)
    y_tr[:12] = 1 - y_tr[:12]  # some label noise: the probe is not perfect
    cache = StateCache(tame, max_len=12, layer=N_BLOCKS - 1)
    # a rate far too large ruins the tuned blocks: the probe is kept, as it was fitted
    res = finetune_contextual(tr, y_tr, va, y_va, te, y_te, n_classes=2, epochs=2, max_len=12,
                              cache=cache, layers=1, learning_rate=30.0, patience=2)
    params = res["params"]
    assert params["kept"] == "probe" and res["best_epoch"] == 0
    assert min(res["history"]["val_loss"]) >= params["probe_val_loss"]
    assert params["probe_C"] in PROBE_CS
    enc = cache.encoder
    lr = LogisticRegression(C=params["probe_C"], max_iter=1000, random_state=0)
    lr.fit(enc.embed(tr), y_tr)
    np.testing.assert_allclose(res["val_probabilities"], lr.predict_proba(enc.embed(va)),
                               atol=1e-4)
    np.testing.assert_allclose(res["test_probabilities"], lr.predict_proba(enc.embed(te)),
                               atol=1e-4)
    assert res["val_accuracy"] == pytest.approx(params["probe_val_accuracy"], abs=1e-4)
    # the C is the validation's choice among PROBE_CS (the smaller among equals)
    accs = [LogisticRegression(C=c, max_iter=1000, random_state=0).fit(enc.embed(tr), y_tr)
            .score(enc.embed(va), y_va) for c in PROBE_CS]
    assert params["probe_C"] == PROBE_CS[int(np.argmax(accs))]
    # a sensible rate tunes it (the blocks move), and the result is the tuned model
    good = finetune_contextual(tr, y_tr, va, y_va, te, y_te, n_classes=2, epochs=3, max_len=12,
                               cache=cache, layers=1, learning_rate=3e-3, patience=3)
    assert good["params"]["kept"] == "tuned" and good["best_epoch"] >= 1
    assert min(good["history"]["val_loss"]) < good["params"]["probe_val_loss"]
    assert good["params"]["probe_C"] == params["probe_C"]  # the same probe, then tuned
    assert np.abs(good["val_probabilities"] - res["val_probabilities"]).max() > 1e-4


def test_experiment_runs_the_finetune_mode_and_stacks_it(tame: Path) -> None:
    """`contextual-finetune` through run_experiment: its row, its cache at block L - k shared by
    the fractions, its settings, and the stack may take it as a part."""
    from wordvecs.text.datasets import TextData
    from wordvecs.training.train import TrainConfig, run_experiment

    texts, y = _separable(120, 1)
    data = TextData(texts, [["cats", "letters"][k] for k in y], "memory", "toy")
    config = TrainConfig(modes=("contextual-finetune", "scratch", "stack"), model="avg",
                         epochs=3, encoder_epochs=2, encoder=str(tame), encoder_layers=1,
                         contextual_max_len=12, fractions=(0.5, 1.0), sentence_baseline=False)
    exp = run_experiment(data, _words(), config, progress=False)
    runs = {(r.mode, r.fraction): r for r in exp.runs}
    assert set(runs) == {(m, f) for m in ("contextual-finetune", "scratch", "tfidf", "meanvec",
                                          "stack") for f in (0.5, 1.0)}
    ft = runs[("contextual-finetune", 1.0)]
    assert ft.params is not None and ft.params["kept"] in ("probe", "tuned")
    assert {k: ft.params[k] for k in ("layers", "learning_rate", "warmup")} == {
        "layers": 1, "learning_rate": 1e-4, "warmup": 0.1}
    assert ft.params["probe_C"] in (0.1, 1.0, 10.0, 100.0)
    assert 1 <= ft.epochs <= 2 and ft.max_len == 12 and ft.vectors.endswith("encoder")
    assert ft.encode_seconds is not None and runs[("contextual-finetune", 0.5)].train_size < \
        ft.train_size
    assert ("contextual-finetune", 1.0) in exp.probabilities
    stack = runs[("stack", 1.0)]
    assert stack.params["components"][0] == "tfidf"  # type: ignore[index]
    assert set(stack.params["components"]) == {  # type: ignore[index]
        "tfidf", "meanvec", "contextual-finetune", "scratch"}
    with pytest.raises(Exception, match="has 2 blocks"):
        run_experiment(data, _words(), TrainConfig(modes=("contextual-finetune",), epochs=1,
                                                   encoder=str(tame), encoder_layers=3,
                                                   contextual_max_len=12, baselines=False),
                       progress=False)


def _words():  # type: ignore[no-untyped-def]
    import wordvecs

    words = ["cat", "dog", "the", "running", "a", "b", "c"]
    rng = np.random.default_rng(0)
    return wordvecs.Vectors(words, rng.standard_normal((len(words), 4)).astype(np.float32))


def test_encoder_head_is_checked() -> None:
    from click.testing import CliRunner

    from wordvecs.cli import cli
    from wordvecs.errors import UsageError
    from wordvecs.training.train import TrainConfig

    assert TrainConfig().encoder_head == "probe"
    assert TrainConfig(encoder_head="cnn").encoder_head == "cnn"
    with pytest.raises(UsageError, match="encoder_head must be one of"):
        TrainConfig(encoder_head="linear").check()
    out = CliRunner().invoke(cli, ["train", ".", "--encoder-head", "linear"])
    assert out.exit_code == 2 and "--encoder-head" in out.output


def test_encoder_modes_truncate_where_the_encoder_does(tiny: Path) -> None:
    """By default the encoder modes keep as many tokens as the encoder's own sentence embeddings
    (and so the sentence-embedding baseline) do; a cache refuses an encoder loaded for another
    length instead of claiming a length it does not cut at."""
    from wordvecs.encoders.contextual import StateCache, train_contextual
    from wordvecs.encoders.encoder import load_encoder
    from wordvecs.errors import UsageError
    from wordvecs.training.train import TrainConfig

    own = load_encoder(tiny).tokenizer.max_length
    assert own == TINY_CONFIG["max_position_embeddings"] == 64  # no sentence_bert_config.json
    assert StateCache(tiny).max_len == own
    assert StateCache(tiny, layer=N_BLOCKS - 1).max_len == own
    assert StateCache(tiny, max_len=8).max_len == 8
    with pytest.raises(UsageError, match="truncates at 8 tokens, not max_len=12"):
        StateCache(load_encoder(tiny, max_length=8), max_len=12)
    long_text = " ".join(["cat dog the running"] * 30)  # well over 64 tokens
    tr, y = _separable(16, 0)
    res = train_contextual([long_text, *tr], np.r_[0, y], tr, y, tr, y, n_classes=2, model=tiny,
                           head="avg", epochs=1)
    assert res["max_len"] == own and res["truncated"]["train"] == 1
    assert TrainConfig().contextual_max_len is None
    with pytest.raises(UsageError, match="contextual_max_len must be at least 3"):
        TrainConfig(contextual_max_len=2).check()


def cli_train_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list]:
    """``wordvecs train`` arguments on a small CSV and vector file, and the list that collects
    the TrainConfig of each invocation (training itself replaced: only the options are read)."""
    from wordvecs.cli import train_cmds

    data = tmp_path / "d.csv"
    data.write_text("text,label\n" + "".join(f"cat dog {i},a\nb c {i},b\n" for i in range(10)))
    vecs = tmp_path / "v.txt"
    vecs.write_text("cat 0.1 0.2\ndog 0.3 0.4\n")
    seen: list = []
    monkeypatch.setattr(train_cmds, "run_and_report",
                        lambda data, vectors, config, *a, **k: seen.append(config))
    return ["train", str(data), "-v", str(vecs), "-o", str(tmp_path / "o"), "--quiet"], seen


def test_cli_encoder_max_len_reaches_the_config(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from wordvecs.cli import cli

    args, seen = cli_train_args(tmp_path, monkeypatch)
    assert CliRunner().invoke(cli, [*args, "--encoder-max-len", "96"]).exit_code == 0
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert [c.contextual_max_len for c in seen] == [96, None]
    out = CliRunner().invoke(cli, [*args, "--encoder-max-len", "2"])
    assert out.exit_code == 2 and "Invalid value for '--encoder-max-len'" in out.output
