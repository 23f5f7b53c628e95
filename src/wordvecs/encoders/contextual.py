"""The frozen contextual encoder mode: a transformer as the first block of a text classifier.

The model is ``[token_ids, padding_mask] -> frozen BERT -> states (zeroed at padding) -> head ->
softmax``, with the same heads as the embedding modes (``avg``, ``cnn``, ``bilstm``). The encoder
never changes, so its states are computed once per document (a :class:`StateCache` keyed by text)
and the head alone is trained on them for every epoch; :func:`train_contextual` then joins encoder
and head into one end-to-end Keras model for prediction.

Documents are truncated to ``max_len`` WordPiece tokens, ``[CLS]`` and ``[SEP]`` included
(default :data:`DEFAULT_MAX_LEN` = 128; MiniLM was trained on 128 and accepts up to 256).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from wordvecs.encoders.encoder import Encoder, load_encoder
from wordvecs.errors import DataError, UsageError
from wordvecs.keras import HEADS, head_layers, weight_bytes
from wordvecs.metrics import macro_f1

__all__ = ["DEFAULT_MAX_LEN", "HEADS", "StateCache", "build_head", "train_contextual"]

#: Truncation length of a document in WordPiece tokens, [CLS] and [SEP] included.
DEFAULT_MAX_LEN = 128


class StateCache:
    """Contextual states of documents, computed once each and kept (float32, unpadded)."""

    def __init__(self, encoder: Encoder | str | os.PathLike[str] = "minilm", *,
                 max_len: int = DEFAULT_MAX_LEN, batch_size: int = 16) -> None:
        self.encoder = load_encoder(encoder, max_length=max_len)
        self.max_len = max_len
        self.batch_size = batch_size
        self._states: dict[str, np.ndarray] = {}
        self._truncated: dict[str, bool] = {}
        self.seconds = 0.0

    def __len__(self) -> int:
        return len(self._states)

    @property
    def nbytes(self) -> int:
        return int(sum(a.nbytes for a in self._states.values()))

    def _fill(self, texts: Sequence[str]) -> None:
        todo = list(dict.fromkeys(t for t in texts if t not in self._states))
        if not todo:
            return
        t0 = time.perf_counter()
        tok = self.encoder.tokenizer
        full = tok.tokenizer.encode_batch(todo)
        seqs = [e.ids for e in full]
        order = np.argsort([len(s) for s in seqs], kind="stable")  # little padding per batch
        for start in range(0, len(order), self.batch_size):
            idx = order[start: start + self.batch_size]
            batch = [seqs[i] for i in idx]
            width = max(len(s) for s in batch)
            states, _ = self.encoder.states(batch, width, batch_size=len(batch))
            for row, i in enumerate(idx):
                self._states[todo[i]] = states[row, : len(seqs[i])].copy()
                self._truncated[todo[i]] = bool(full[i].overflowing)
        self.seconds += time.perf_counter() - t0

    def length(self, text: str) -> int:
        """Tokens of a cached document ([CLS] and [SEP] included, at most ``max_len``)."""
        return int(self._states[text].shape[0])

    def get(self, texts: Sequence[str], length: int) -> tuple[np.ndarray, np.ndarray]:
        """States (n, length, dim), zero at padding, and the padding mask (n, length) int32."""
        self._fill(texts)
        out = np.zeros((len(texts), length, self.encoder.dim), dtype=np.float32)
        mask = np.zeros((len(texts), length), dtype=np.int32)
        for r, t in enumerate(texts):
            s = self._states[t][:length]
            out[r, : len(s)] = s
            mask[r, : len(s)] = 1
        return out, mask

    def truncated(self, texts: Sequence[str]) -> int:
        """How many of ``texts`` were cut at ``max_len`` tokens."""
        self._fill(texts)
        return sum(self._truncated[t] for t in texts)


def build_head(kind: str, *, length: int, dim: int, n_classes: int) -> Any:
    """The classifier head on contextual states: ``[states, padding_mask] -> probabilities``.

    The same layers as the embedding modes' models after their ``Embedding``.
    """
    import keras

    states = keras.Input(shape=(length, dim), dtype="float32", name="states")
    mask = keras.Input(shape=(length,), dtype="int32", name="padding_mask")
    keep = keras.ops.cast(mask, "bool")
    if kind not in HEADS:
        raise UsageError(f"unknown head {kind!r}; expected one of {', '.join(HEADS)}")
    out = head_layers(keras, kind, states, n_classes, mask=keep)
    return keras.Model([states, mask], out, name=f"{kind}_contextual_head")


def _end_to_end(encoder: Encoder, head: Any, length: int) -> Any:
    """One Keras model from token ids and padding mask to probabilities, the encoder frozen."""
    import keras

    ids = keras.Input(shape=(length,), dtype="int32", name="token_ids")
    mask = keras.Input(shape=(length,), dtype="int32", name="padding_mask")
    states = encoder.model([ids, mask])
    zeroed = keras.layers.Lambda(
        lambda a: a[0] * keras.ops.expand_dims(keras.ops.cast(a[1], "float32"), -1),
        name="zero_padding")([states, mask])
    return keras.Model([ids, mask], head([zeroed, mask]), name="contextual_classifier")


def _labels(labels: Sequence[int] | np.ndarray, n_classes: int, split: str) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{split} labels must be class indices (integers), got {y.dtype} "
                        f"of shape {y.shape}")
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise DataError(f"{split} labels must be in [0, {n_classes}); found "
                        f"{int(y.min())}..{int(y.max())}")
    return y.astype(np.int32)


def train_contextual(train_texts: Sequence[str], train_labels: Sequence[int] | np.ndarray,
                     val_texts: Sequence[str], val_labels: Sequence[int] | np.ndarray,
                     test_texts: Sequence[str], test_labels: Sequence[int] | np.ndarray, *,
                     n_classes: int, head: str = "cnn", model: str | os.PathLike[str] = "minilm",
                     epochs: int = 20, seed: int = 0, max_len: int = DEFAULT_MAX_LEN,
                     batch_size: int = 32, patience: int = 3, learning_rate: float = 1e-3,
                     fraction: float = 1.0, cache: StateCache | None = None,
                     callbacks: Sequence[Any] = ()) -> dict[str, Any]:
    """Train ``head`` on the frozen encoder's states; score it on the test split.

    Returns the fields of :class:`wordvecs.training.train.RunResult` (``mode="contextual"``) plus
    ``encode_seconds`` (states of documents not cached yet), ``max_len``, ``truncated`` (test,
    validation and training documents cut at ``max_len``), ``state_bytes`` (the cache) and
    ``model`` (the end-to-end Keras model: token ids and padding mask in, probabilities out);
    ``vectors`` names the encoder and ``weight_bytes`` sizes the end-to-end model;
    ``test_predictions`` the test documents' predicted class indices, ``val_probabilities`` and
    ``test_probabilities`` the head's outputs (``test_interval`` and ``params`` are ``None``:
    the experiment adds the interval).
    Pass one ``cache`` to several calls (fractions, heads) to encode each document once.
    """
    import keras

    if cache is None:
        cache = StateCache(model, max_len=max_len)
    elif cache.max_len != max_len:
        raise UsageError(f"the cache truncates at {cache.max_len} tokens, not max_len={max_len}")
    y_tr = _labels(train_labels, n_classes, "training")
    y_va = _labels(val_labels, n_classes, "validation")
    y_te = _labels(test_labels, n_classes, "test")
    for name, texts, y in (("training", train_texts, y_tr), ("validation", val_texts, y_va),
                           ("test", test_texts, y_te)):
        if len(texts) != len(y):
            raise DataError(f"{len(texts)} {name} texts for {len(y)} labels")
        if not len(texts):
            raise DataError(f"no {name} texts")
    before = cache.seconds
    cache._fill([*train_texts, *val_texts, *test_texts])
    length = max(5, *(cache.length(t) for t in (*train_texts, *val_texts, *test_texts)))
    x_tr = cache.get(list(train_texts), length)
    x_va = cache.get(list(val_texts), length)
    x_te = cache.get(list(test_texts), length)
    encode_seconds = cache.seconds - before

    keras.utils.set_random_seed(seed)
    head_model = build_head(head, length=length, dim=cache.encoder.dim, n_classes=n_classes)
    head_model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                       loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                         restore_best_weights=True)
    t0 = time.perf_counter()
    hist = head_model.fit(list(x_tr), y_tr, validation_data=(list(x_va), y_va), epochs=epochs,
                          batch_size=batch_size, shuffle=True, verbose=0,
                          callbacks=[stop, *callbacks])
    seconds = time.perf_counter() - t0
    history = {k: [float(v) for v in vs] for k, vs in hist.history.items()}
    p_te = np.asarray(head_model.predict(list(x_te), batch_size=256, verbose=0))
    p_va = np.asarray(head_model.predict(list(x_va), batch_size=256, verbose=0))
    pred_te, pred_va = np.argmax(p_te, axis=1), np.argmax(p_va, axis=1)
    full = _end_to_end(cache.encoder, head_model, length)
    trainable = int(sum(np.prod(w.shape) for w in full.trainable_weights))
    frozen = int(sum(np.prod(w.shape) for w in full.non_trainable_weights))
    return {
        "mode": "contextual", "fraction": fraction, "train_size": len(train_texts),
        "test_accuracy": float(np.mean(pred_te == y_te)),
        "macro_f1": macro_f1(y_te, pred_te, n_classes),
        "val_accuracy": float(np.mean(pred_va == y_va)),
        "epochs": len(history["loss"]),
        "best_epoch": int(np.argmin(history["val_loss"])) + 1,
        "train_seconds": round(seconds, 2), "trainable_params": trainable,
        "frozen_params": frozen, "history": history,
        "encode_seconds": round(encode_seconds, 2), "max_len": max_len,
        "truncated": {"train": cache.truncated(list(train_texts)),
                      "validation": cache.truncated(list(val_texts)),
                      "test": cache.truncated(list(test_texts))},
        "state_bytes": cache.nbytes, "encoder": cache.encoder.name, "model": full,
        "vectors": f"{cache.encoder.name} encoder", "weight_bytes": weight_bytes(full),
        "test_interval": None, "params": None, "test_predictions": pred_te,
        "val_probabilities": p_va, "test_probabilities": p_te,
    }
