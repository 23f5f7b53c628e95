"""embedding_layer on the active backend: weights, freezing, masking, save size, round trip."""

from __future__ import annotations

import os

import numpy as np
import pytest

import wordvecs

pytestmark = pytest.mark.keras

keras = pytest.importorskip("keras")

from wordvecs.keras import check_matrix_fits, embedding_layer  # noqa: E402


def _matrix(rows: int, dim: int, seed: int = 0) -> np.ndarray:
    m = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    m[0] = 0.0
    return m


def _model(layer: keras.layers.Layer, length: int = 6) -> keras.Model:
    inputs = keras.Input(shape=(length,), dtype="int32")
    x = layer(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


NATIVE = {"tensorflow": ("tensorflow",), "jax": ("jax", "jaxlib"), "torch": ("torch",)}


def test_runs_on_the_backend_asked_for() -> None:
    """KERAS_BACKEND (tensorflow unless set; conftest) is the backend these tests ran on."""
    wanted = os.environ["KERAS_BACKEND"]
    assert keras.backend.backend() == wanted
    layer = embedding_layer(_matrix(3, 2))
    assert isinstance(layer, keras.layers.Embedding)
    # the table and the layer's output are the backend's own tensors
    for value in (layer.embeddings.value, layer(np.array([[1, 2]]))):
        assert type(value).__module__.split(".")[0] in NATIVE[wanted], type(value)


def test_weights_equal_matrix_and_from_embedding_matrix(glove50: wordvecs.Vectors) -> None:
    em = wordvecs.build_matrix(glove50, ["", "[UNK]", "the", "king", "zzqxnotaword"])
    layer = embedding_layer(em, name="glove")
    assert layer.name == "glove"
    assert (layer.input_dim, layer.output_dim) == (5, 50)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.embeddings), em.matrix)
    out = keras.ops.convert_to_numpy(layer(np.array([[3, 0]])))
    np.testing.assert_array_equal(out[0, 0], glove50["king"])
    assert not out[0, 1].any()


def test_frozen_and_trainable_after_fit() -> None:
    m = _matrix(50, 8)
    x = np.random.default_rng(1).integers(1, 50, size=(32, 6))
    y = np.random.default_rng(2).integers(0, 2, size=(32, 1)).astype("float32")
    for trainable in (False, True):
        layer = embedding_layer(m, trainable=trainable)
        model = _model(layer)
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
        emb_params = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
        assert emb_params == (50 * 8 if trainable else 0)
        model.fit(x, y, epochs=1, batch_size=32, verbose=0)
        after = keras.ops.convert_to_numpy(layer.embeddings)
        assert np.array_equal(after, m) is (not trainable)


def test_save_size_and_round_trip(tmp_path) -> None:
    m = _matrix(20_001, 100)
    model = _model(embedding_layer(m))
    x = np.random.default_rng(3).integers(0, 20_001, size=(4, 6))
    path = tmp_path / "ours.keras"
    model.save(path)
    weight_bytes = sum(int(np.prod(w.shape)) * 4 for w in model.weights)
    size = path.stat().st_size
    assert size <= 1.1 * weight_bytes, (size, weight_bytes)

    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)),
                                  keras.ops.convert_to_numpy(model(x)))
    assert loaded.layers[1].trainable is False

    # the classic recipe writes the matrix into the JSON config
    classic = _model(keras.layers.Embedding(
        20_001, 100, embeddings_initializer=keras.initializers.Constant(m), trainable=False))
    classic_path = tmp_path / "constant.keras"
    classic.save(classic_path)
    assert size < classic_path.stat().st_size / 5


def test_mask_zero_propagates() -> None:
    layer = embedding_layer(_matrix(10, 4), mask_zero=True)
    mask = keras.ops.convert_to_numpy(layer.compute_mask(np.array([[3, 0, 5, 0]])))
    assert mask.tolist() == [[True, False, True, False]]
    assert embedding_layer(_matrix(10, 4)).compute_mask(np.array([[1, 0]])) is None


def test_mismatch_errors() -> None:
    m = _matrix(10, 50)
    check_matrix_fits(m, vocab_size=10, model_dim=50)
    with pytest.raises(wordvecs.VocabularyError,
                       match=r"the matrix has 10 rows but the vocabulary needs 12 \(largest "):
        check_matrix_fits(m, vocab_size=12)
    with pytest.raises(wordvecs.VocabularyError,
                       match="dim mismatch: vectors have 50 dims, the model expects 100"):
        check_matrix_fits(m, model_dim=100)
    with pytest.raises(wordvecs.VocabularyError, match=r"2-D .* shape \(10,\)"):
        embedding_layer(np.zeros(10, dtype=np.float32))
    with pytest.raises(wordvecs.VocabularyError, match="floats, got dtype <U1"):
        embedding_layer(np.array([["a"]]))
