"""Keras 3 glue: a frozen (or trainable) ``Embedding`` layer holding pre-trained vectors.

Works with every Keras 3 backend (TensorFlow, JAX, PyTorch); Keras is imported only inside the
functions here, so ``import wordvecs`` stays light.

Coming from the classic Keras 2 recipe
---------------------------------------
Before (Keras 2 tutorials)::

    layer = Embedding(num_tokens, dim, embeddings_initializer=Constant(matrix),
                      trainable=False, input_length=max_len)
    model = Sequential([layer, ...])

After (Keras 3, with wordvecs)::

    em = wordvecs.build_matrix(wordvecs.load("glove-6b-50d"), vectorizer.get_vocabulary())
    inputs = keras.Input(shape=(max_len,), dtype="int64")
    x = wordvecs.keras.embedding_layer(em)(inputs)   # Embedding(..., weights=[em.matrix])

What changed and why:

* ``input_length`` is gone in Keras 3 (a warning says "Just remove it"): the sequence length
  belongs to the input, ``keras.Input(shape=(max_len,))``.
* ``embeddings_initializer=Constant(matrix)`` stores the *whole matrix* as a list of numbers in
  the model's JSON config. Saving a model with a 20,001 x 100 matrix that way made a 48.6 MB
  ``.keras`` file, 40 MB of it JSON, slow to save and to load. ``embedding_layer`` passes the
  matrix as the layer's weights (``weights=[matrix]``, Keras >= 3.3) with a ``"zeros"``
  initializer in the config, so the saved file holds the matrix once, in binary: about the size
  of the weights (8 MB for that matrix).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from wordvecs.errors import UsageError, VocabularyError, require

if TYPE_CHECKING:
    from wordvecs.matrix import EmbeddingMatrix

__all__ = ["HEADS", "check_matrix_fits", "embedding_layer", "head_layers", "keras_module",
           "token_counts", "weight_bytes"]

#: The classifier heads after the embedding (or the contextual states), in :func:`head_layers`.
HEADS = ("avg", "cnn", "bilstm", "avgmax")


#: Called (once) before Keras is first imported through :func:`keras_module`: the command line
#: sets it to quiet TensorFlow's start-up lines, only when Keras is actually needed.
before_import: Callable[[], None] | None = None


def keras_module() -> Any:
    """Keras itself, imported on first use; :class:`MissingExtraError` names the extra."""
    global before_import
    if before_import is not None and "keras" not in sys.modules:
        hook, before_import = before_import, None
        hook()
    return require("keras", "keras")


def head_layers(keras: Any, kind: str, x: Any, n_classes: int, mask: Any = None) -> Any:
    """The layers after the embedding (``avg``, ``cnn``, ``bilstm``, ``avgmax``), ending in the
    softmax; every mode shares them, the contextual one too. ``avgmax`` puts the (masked) mean
    and the max of the token vectors side by side, the pooling that a stronger head over word
    vectors starts from (the max sees the padding row too: Keras' max pooling takes no mask).
    ``mask``: an explicit padding mask (an Embedding's own mask flows without it)."""
    kw = {} if mask is None else {"mask": mask}
    if kind == "avg":
        x = keras.layers.GlobalAveragePooling1D()(x, **kw)
        x = keras.layers.Dense(64, activation="relu")(x)
        x = keras.layers.Dropout(0.3)(x)
    elif kind == "cnn":
        x = keras.layers.Dropout(0.2)(x)
        x = keras.layers.Conv1D(128, 5, activation="relu")(x)
        x = keras.layers.GlobalMaxPooling1D()(x)
        x = keras.layers.Dropout(0.5)(x)
    elif kind == "avgmax":
        mean = keras.layers.GlobalAveragePooling1D()(x, **kw)
        top = keras.layers.GlobalMaxPooling1D()(x)
        x = keras.layers.Concatenate()([mean, top])
        x = keras.layers.Dense(64, activation="relu")(x)
        x = keras.layers.Dropout(0.3)(x)
    elif kind == "bilstm":
        x = keras.layers.Bidirectional(keras.layers.LSTM(32))(x, **kw)
        x = keras.layers.Dropout(0.3)(x)
    else:
        raise UsageError(f"unknown model {kind!r}; expected one of {', '.join(HEADS)}")
    return keras.layers.Dense(n_classes, activation="softmax", name="label")(x)


def weight_bytes(model: Any) -> int:
    """Bytes of all of ``model``'s weights at their own dtypes."""
    return int(sum(int(np.prod(w.shape)) * np.dtype(str(w.dtype)).itemsize
                   for w in model.weights))


def _check_table(matrix: Any) -> tuple[int, int]:
    """(rows, dim) of a 2-D float table, checked without copying it (it may be a memory map)."""
    shape = tuple(getattr(matrix, "shape", ()))
    if len(shape) != 2:
        raise VocabularyError(f"the embedding matrix must be 2-D (rows, dim), got shape "
                              f"{shape}")
    if shape[0] < 1 or shape[1] < 1:
        raise VocabularyError(f"the embedding matrix is empty: shape {shape}")
    dtype = np.dtype(getattr(matrix, "dtype", np.float32))
    if not np.issubdtype(dtype, np.floating):
        raise VocabularyError(f"the embedding matrix must hold floats, got dtype {dtype}")
    return int(shape[0]), int(shape[1])


def _as_matrix(matrix: np.ndarray | EmbeddingMatrix) -> np.ndarray:
    from wordvecs.matrix import EmbeddingMatrix

    if isinstance(matrix, EmbeddingMatrix):
        matrix = matrix.matrix
    arr = np.asarray(matrix)
    _check_table(arr)
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_matrix_fits(
    matrix: np.ndarray | EmbeddingMatrix,
    vocab_size: int | None = None,
    model_dim: int | None = None,
) -> None:
    """Raise :class:`~wordvecs.errors.VocabularyError` if ``matrix`` does not fit a model.

    Args:
        matrix: an array (rows, dim) or an :class:`~wordvecs.EmbeddingMatrix`.
        vocab_size: rows the vocabulary needs (its largest index + 1, padding included).
        model_dim: the embedding dim the model expects.
    """
    arr = _as_matrix(matrix)
    rows, dim = arr.shape
    if vocab_size is not None and rows != vocab_size:
        raise VocabularyError(f"the matrix has {rows:,} rows but the vocabulary needs "
                              f"{vocab_size:,} (largest index + 1)")
    if model_dim is not None and dim != model_dim:
        raise VocabularyError(f"dim mismatch: vectors have {dim} dims, the model expects "
                              f"{model_dim}")


def embedding_layer(
    matrix_or_EmbeddingMatrix: np.ndarray | EmbeddingMatrix,
    *,
    trainable: bool = False,
    mask_zero: bool = False,
    name: str | None = None,
) -> Any:
    """A ``keras.layers.Embedding`` (input_dim = rows, output_dim = dim) holding the matrix.

    The matrix is set as the layer's weights, not a ``Constant`` initializer, so a saved model
    stays the size of its weights (see the module notes). ``trainable=False`` freezes it
    (transfer learning); ``mask_zero=True`` makes index 0 (padding) produce a mask.
    """
    arr = _as_matrix(matrix_or_EmbeddingMatrix)
    keras: Any = require("keras", "keras")
    rows, dim = arr.shape
    return keras.layers.Embedding(
        int(rows),
        int(dim),
        embeddings_initializer="zeros",  # cheap; overwritten by the weights at once
        mask_zero=mask_zero,
        weights=[arr],
        trainable=trainable,
        name=name,
    )


def token_counts(vectorizer: Any, texts: Any, *, batch_size: int = 4096) -> dict[str, int]:
    """How often each word of a ``TextVectorization``'s vocabulary occurs in ``texts``.

    Counts the token ids the vectorizer gives (after its standardisation, split and
    ``output_sequence_length``: the tokens the model will see), ``'[UNK]'`` included and the
    padding ``''`` left out: the ``counts=`` that :func:`wordvecs.build_matrix` takes to report
    token coverage and the most frequent missing words.
    """
    keras: Any = require("keras", "keras")
    vocab = vectorizer.get_vocabulary()
    texts = np.asarray(list(texts), dtype=object)
    total = np.zeros(len(vocab), dtype=np.int64)
    for start in range(0, len(texts), batch_size):
        ids = np.asarray(keras.ops.convert_to_numpy(vectorizer(texts[start:start + batch_size])))
        if ids.size and (ids.min() < 0 or ids.max() >= len(vocab)):
            raise VocabularyError("the vectorizer gave ids outside its vocabulary (is it set to "
                                  "output_mode='int'?)")
        total += np.bincount(ids.ravel(), minlength=len(vocab))
    return {w: int(c) for w, c in zip(vocab, total.tolist()) if w != ""}
