"""The frozen contextual encoder mode: a transformer as the first block of a text classifier.

The model is ``[token_ids, padding_mask] -> frozen BERT -> states (zeroed at padding) -> head ->
softmax``, with the same heads as the embedding modes (``avg``, ``cnn``, ``bilstm``). The encoder
never changes, so its states are computed once per document (a :class:`StateCache` keyed by text)
and the head alone is trained on them for every epoch; :func:`train_contextual` then joins encoder
and head into one end-to-end Keras model for prediction.

:func:`finetune_contextual` trains the top blocks of the encoder too (``contextual-finetune``):
the bottom blocks stay frozen, so their output is cached the same way (``StateCache(layer=...)``)
and only copies of the top blocks and the head run in each epoch.

Documents are truncated to ``max_len`` WordPiece tokens, ``[CLS]`` and ``[SEP]`` included
(default ``None``: the encoder's own length, its ``sentence_bert_config.json``
``max_seq_length``: 256 for MiniLM, the length of its sentence embeddings and of the
sentence-embedding baseline). ``windows`` > 1 reads a long document in up to that many windows
instead: its tokens cut into consecutive pieces of ``max_len - 2``, each encoded on its own as
``[CLS] piece [SEP]`` (the tokenizer's overflowing encodings), their states concatenated (the
head sees one sequence; the mean pooling of :data:`PROBE` is then the mean over every window's
tokens). Texts of one window are read exactly as with ``windows=1``. In the end-to-end models
a document is a (windows, tokens) array of ids (see :class:`FoldWindows` and
:class:`PackWindows`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from wordvecs.encoders.encoder import Encoder, load_encoder
from wordvecs.errors import DataError, UsageError
from wordvecs.keras import HEADS, head_layers, weight_bytes
from wordvecs.logreg import SENTENCE_CS, choose_c
from wordvecs.metrics import macro_f1

__all__ = ["HEADS", "PROBE", "StateCache", "WarmupLinearDecay",
           "build_head", "finetune_contextual", "train_contextual", "warmup_linear_decay"]

#: The head of a sentence-transformer: the mean of the states over the padding mask, L2-normalised
#: (the model's sentence embedding), then a softmax layer. :func:`finetune_contextual` starts it
#: from a logistic regression fitted on the frozen embeddings (a linear probe), then tunes all.
PROBE = "probe"


class StateCache:
    """Contextual states of documents, computed once each and kept (float32, unpadded).

    ``layer``: keep the output of that many transformer blocks instead of the final one (0 is the
    embeddings' output; the numbering of Hugging Face's ``hidden_states``); the default ``None``
    is the final output. :func:`finetune_contextual` caches the frozen blocks' output this way.
    ``max_len``: the truncation length (``None``: the encoder's own, see the module's text).
    ``windows``: the most windows of ``max_len`` tokens a document is read in (see the module's
    text); a document's states are its windows' states concatenated.
    Entries are keyed by (layer, text).
    """

    def __init__(self, encoder: Encoder | str | os.PathLike[str] = "minilm", *,
                 max_len: int | None = None, batch_size: int = 16,
                 layer: int | None = None, windows: int = 1) -> None:
        if type(windows) is not int or windows < 1:
            raise UsageError(f"windows must be a positive integer. Received: windows={windows!r}")
        self.encoder = load_encoder(encoder, max_length=max_len)
        own = self.encoder.tokenizer.max_length
        if max_len is not None and own != max_len:  # an Encoder given, loaded for another length
            raise UsageError(f"{self.encoder.name} truncates at {own} tokens, not max_len="
                             f"{max_len}: load it with load_encoder(..., max_length={max_len})")
        self.encoder.layer_model(layer)  # checks the layer
        #: The truncation length in tokens, [CLS] and [SEP] included (the encoder's own).
        self.max_len: int = own
        self.batch_size = batch_size
        n = self.encoder.config.num_hidden_layers
        #: Blocks whose output is kept (``num_hidden_layers`` for the final output).
        self.layer: int = n if layer is None else layer
        #: The most windows a document is read in.
        self.windows: int = windows
        self._states: dict[tuple[int, str], np.ndarray] = {}
        self._truncated: dict[str, bool] = {}
        self._windows: dict[str, tuple[int, ...]] = {}
        self.seconds = 0.0

    def __len__(self) -> int:
        return len(self._states)

    @property
    def nbytes(self) -> int:
        return int(sum(a.nbytes for a in self._states.values()))

    def _fill(self, texts: Sequence[str]) -> None:
        layer = self.layer
        todo = list(dict.fromkeys(t for t in texts if (layer, t) not in self._states))
        if not todo:
            return
        t0 = time.perf_counter()
        tok = self.encoder.tokenizer
        full = tok.tokenizer.encode_batch(todo)
        seqs: list[list[int]] = []  # every window of every document, in order
        for t, e in zip(todo, full):
            pieces = [e, *e.overflowing[: self.windows - 1]]
            seqs += [p.ids for p in pieces]
            self._truncated[t] = len(e.overflowing) > self.windows - 1
            self._windows[t] = tuple(len(p.ids) for p in pieces)
        out: list[np.ndarray] = [np.empty(0)] * len(seqs)
        order = np.argsort([len(s) for s in seqs], kind="stable")  # little padding per batch
        for start in range(0, len(order), self.batch_size):
            idx = order[start: start + self.batch_size]
            batch = [seqs[i] for i in idx]
            width = max(len(s) for s in batch)
            states, _ = self.encoder.states(batch, width, batch_size=len(batch), layer=layer)
            for row, i in enumerate(idx):
                out[i] = states[row, : len(seqs[i])].copy()
        first = 0
        for t in todo:  # a document's windows are consecutive in seqs
            n = len(self._windows[t])
            self._states[layer, t] = out[first] if n == 1 else np.concatenate(out[first: first + n])
            first += n
        self.seconds += time.perf_counter() - t0

    def window_lengths(self, text: str) -> tuple[int, ...]:
        """Tokens of each window of a cached document (one entry unless it is longer than
        ``max_len`` and ``windows`` > 1)."""
        return self._windows[text]

    def length(self, text: str) -> int:
        """Tokens of a cached document (every window's [CLS] and [SEP] included; at most
        ``windows * max_len``)."""
        return int(self._states[self.layer, text].shape[0])

    def get(self, texts: Sequence[str], length: int) -> tuple[np.ndarray, np.ndarray]:
        """States (n, length, dim), zero at padding, and the padding mask (n, length) int32."""
        self._fill(texts)
        out = np.zeros((len(texts), length, self.encoder.dim), dtype=np.float32)
        mask = np.zeros((len(texts), length), dtype=np.int32)
        for r, t in enumerate(texts):
            s = self._states[self.layer, t][:length]
            out[r, : len(s)] = s
            mask[r, : len(s)] = 1
        return out, mask

    def arrays(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Each document's states, unpadded: (tokens, dim) float32, the cache's own arrays."""
        self._fill(texts)
        return [self._states[self.layer, t] for t in texts]

    def truncated(self, texts: Sequence[str]) -> int:
        """How many of ``texts`` were cut (longer than ``windows`` windows of ``max_len``)."""
        self._fill(texts)
        return sum(self._truncated[t] for t in texts)


def build_head(kind: str, *, length: int | None, dim: int, n_classes: int) -> Any:
    """The classifier head on contextual states: ``[states, padding_mask] -> probabilities``.

    The same layers as the embedding modes' models after their ``Embedding``, or :data:`PROBE`
    (a sentence-transformer's mean pooling and normalisation, then softmax); ``length`` ``None``
    takes documents of any length (the fine-tuning mode's batches are each as wide as they need).
    """
    import keras

    states = keras.Input(shape=(length, dim), dtype="float32", name="states")
    mask = keras.Input(shape=(length,), dtype="int32", name="padding_mask")
    keep = keras.ops.cast(mask, "bool")
    if kind == PROBE:
        pooled = keras.layers.GlobalAveragePooling1D(name="mean_pooling")(states, mask=keep)
        embedding = keras.layers.UnitNormalization(name="sentence_embedding")(pooled)
        out = keras.layers.Dense(n_classes, activation="softmax", name="label")(embedding)
        return keras.Model([states, mask], out, name=f"{kind}_contextual_head")
    if kind not in HEADS:
        raise UsageError(f"unknown head {kind!r}; expected one of {', '.join((*HEADS, PROBE))}")
    out = head_layers(keras, kind, states, n_classes, mask=keep)
    return keras.Model([states, mask], out, name=f"{kind}_contextual_head")


@keras.saving.register_keras_serializable(package="wordvecs")
class FoldWindows(keras.layers.Layer):
    """Documents read in windows, ``(batch, windows, tokens, ...)``, as one batch of windows:
    ``(batch * windows, tokens, ...)`` (each window then goes through the encoder on its own)."""

    def call(self, x: Any) -> Any:
        shape = keras.ops.shape(x)
        return keras.ops.reshape(x, (-1, *shape[2:]))

    def compute_output_spec(self, x: Any) -> Any:
        shape = x.shape
        n = None if shape[0] is None or shape[1] is None else shape[0] * shape[1]
        return keras.KerasTensor((n, *shape[2:]), dtype=x.dtype)


@keras.saving.register_keras_serializable(package="wordvecs")
class PackWindows(keras.layers.Layer):
    """``[states of the windows (batch * windows, tokens, dim), zero at padding, padding mask
    (batch, windows, tokens)]`` -> ``[each document's windows' real tokens concatenated, in
    order, then zeros (batch, width, dim), its padding mask (batch, width)]``: the states a
    :class:`StateCache` keeps for a document read in windows. ``width`` ``None``: every
    position of the windows then ``extra`` zero positions (``windows * tokens + extra``);
    otherwise exactly ``width`` (it must not be below the longest document)."""

    def __init__(self, width: int | None = None, extra: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.width, self.extra = width, extra

    def call(self, states: Any, mask: Any) -> Any:
        ops = keras.ops
        shape = ops.shape(mask)
        b, n = shape[0], shape[1] * shape[2]
        dim = states.shape[-1]
        m = ops.reshape(ops.cast(mask, "int32"), (b, n))
        # the real tokens first, each group in its order: sort by (padding, position)
        key = (1 - m) * n + ops.expand_dims(ops.arange(n, dtype="int32"), 0)
        order = ops.argsort(key, axis=-1)
        flat = order + ops.expand_dims(ops.arange(b, dtype="int32") * n, 1)
        x = ops.take(ops.reshape(states, (-1, dim)), flat, axis=0)  # (b, n, dim)
        m = ops.take(ops.reshape(m, (-1,)), flat, axis=0)
        if self.width is not None:
            return x[:, : self.width], m[:, : self.width]
        if self.extra:
            x = ops.pad(x, [[0, 0], [0, self.extra], [0, 0]])
            m = ops.pad(m, [[0, 0], [0, self.extra]])
        return x, m

    def compute_output_spec(self, states: Any, mask: Any) -> Any:
        b, k, w = mask.shape
        n = self.width if self.width is not None else (
            None if k is None or w is None else k * w + self.extra)
        return (keras.KerasTensor((b, n, states.shape[-1]), dtype=states.dtype),
                keras.KerasTensor((b, n), dtype="int32"))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "width": self.width, "extra": self.extra}


def _windowed(model: Any, ids: Any, mask: Any) -> Any:
    """``model`` (``[ids, mask] -> states``) on each window of ``ids``, ``mask`` (batch,
    windows, tokens), the states zero at padding: (batch * windows, tokens, dim)."""
    fold = FoldWindows(name="fold_windows")
    folded_mask = fold(mask)
    return _zero_padding()([model([fold(ids), folded_mask]), folded_mask])


def _end_to_end(encoder: Encoder, head: Any, length: int, windows: int = 1) -> Any:
    """One Keras model from token ids and padding mask to probabilities, the encoder frozen:
    inputs (batch, ``length``), or (batch, ``windows``, ``max_len``) when ``windows`` > 1."""
    import keras

    if windows > 1:
        shape: tuple[int, ...] = (windows, encoder.tokenizer.max_length)
        ids = keras.Input(shape=shape, dtype="int32", name="token_ids")
        mask = keras.Input(shape=shape, dtype="int32", name="padding_mask")
        states, packed_mask = PackWindows(width=length, name="pack_windows")(
            _windowed(encoder.model, ids, mask), mask)
        return keras.Model([ids, mask], head([states, packed_mask]),
                           name="contextual_classifier")
    ids = keras.Input(shape=(length,), dtype="int32", name="token_ids")
    mask = keras.Input(shape=(length,), dtype="int32", name="padding_mask")
    states = encoder.model([ids, mask])
    zeroed = _zero_padding()([states, mask])
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


def _checked_labels(train_texts: Sequence[str], train_labels: Any, val_texts: Sequence[str],
                    val_labels: Any, test_texts: Sequence[str], test_labels: Any,
                    n_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three splits' labels as class indices, each split non-empty, a label a text."""
    y_tr = _labels(train_labels, n_classes, "training")
    y_va = _labels(val_labels, n_classes, "validation")
    y_te = _labels(test_labels, n_classes, "test")
    for name, texts, y in (("training", train_texts, y_tr), ("validation", val_texts, y_va),
                           ("test", test_texts, y_te)):
        if len(texts) != len(y):
            raise DataError(f"{len(texts)} {name} texts for {len(y)} labels")
        if not len(texts):
            raise DataError(f"no {name} texts")
    return y_tr, y_va, y_te


def _check_cache(cache: StateCache, max_len: int | None, windows: int | None) -> None:
    """:class:`UsageError` unless ``cache`` reads documents as ``max_len`` and ``windows`` ask
    (``None``: any)."""
    if max_len is not None and cache.max_len != max_len:
        raise UsageError(f"the cache truncates at {cache.max_len} tokens, not max_len={max_len}")
    if windows is not None and cache.windows != windows:
        raise UsageError(f"the cache reads documents in up to {cache.windows} windows, not "
                         f"windows={windows}")


def _states(cache: StateCache, train_texts: Sequence[str], val_texts: Sequence[str],
            test_texts: Sequence[str]
            ) -> tuple[tuple[tuple[np.ndarray, np.ndarray], ...], int, float]:
    """The splits' cached states and masks, padded to one length (the longest document, at
    least 5), that length, and the seconds spent encoding documents not cached before."""
    before = cache.seconds
    cache._fill([*train_texts, *val_texts, *test_texts])
    length = max(5, *(cache.length(t) for t in (*train_texts, *val_texts, *test_texts)))
    xs = tuple(cache.get(list(t), length) for t in (train_texts, val_texts, test_texts))
    return xs, length, cache.seconds - before


@dataclass
class _Fitted:
    """A trained model's history, seconds, and validation and test probabilities."""

    history: dict[str, list[float]]
    seconds: float
    p_va: np.ndarray
    p_te: np.ndarray
    #: The validation loss before training (``keep_start``), and whether the starting weights
    #: were kept (no epoch did better).
    start_loss: float | None = None
    kept_start: bool = False


def _fit(model: Any, xs: Sequence[tuple[np.ndarray, np.ndarray]],
         ys: tuple[np.ndarray, np.ndarray], *, epochs: int, batch_size: int, patience: int,
         callbacks: Sequence[Any]) -> _Fitted:
    """Train ``model`` early-stopped on the validation loss (the best weights restored), then
    predict the validation and test splits."""
    (x_tr, x_va, x_te), (y_tr, y_va) = xs, ys
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                         restore_best_weights=True)
    t0 = time.perf_counter()
    hist = model.fit(list(x_tr), y_tr, validation_data=(list(x_va), y_va), epochs=epochs,
                     batch_size=batch_size, shuffle=True, verbose=0, callbacks=[stop, *callbacks])
    seconds = time.perf_counter() - t0
    return _Fitted({k: [float(v) for v in vs] for k, vs in hist.history.items()}, seconds,
                   np.asarray(model.predict(list(x_va), batch_size=256, verbose=0)),
                   np.asarray(model.predict(list(x_te), batch_size=256, verbose=0)))


#: Zero positions after the last token of every document in a batch of :class:`_Buckets`: the
#: CNN head's window (5), so that every document ends in at least one all-padding window as in
#: one array padded to the longest document + ``_REACH``; a batch's width is then rounded up to
#: a multiple of ``_WIDTH_STEP`` (a few distinct shapes: a few traces).
_REACH = 5
_WIDTH_STEP = 8


class _Buckets(keras.utils.PyDataset):
    """Batches of documents of similar length, each batch padded only to its own longest document
    (+ ``_REACH``, rounded up to ``_WIDTH_STEP``), built from a cache's unpadded states.

    Short texts waste most of one array padded to the longest document (the reviews: 2.4x the
    tokens); a transformer block's cost grows with the width (its attention with its square).
    ``seed`` given (training): the documents are shuffled, sorted by length within pools of
    ``_POOL`` batches, cut into batches, and the batches shuffled: a new order each epoch.
    ``seed`` ``None`` (evaluation, prediction): in order of length; :meth:`order` maps the
    concatenated batches back to the documents. Every document of a batch gets at least
    ``_REACH`` zero positions, so the heads (the CNN's windows and avgmax's max read padding)
    give the same output as on one array padded to the longest document + ``_REACH``.

    ``windows`` (documents read in windows, :class:`StateCache`): each document's window lengths
    (its states are the windows' states concatenated); a batch is then (documents, windows,
    tokens, dim), as many windows as its document with the most, each as wide as its longest
    window rounded up to ``_WIDTH_STEP`` (the model packs them, :class:`PackWindows`, and adds
    the ``_REACH`` zeros).
    """

    _POOL = 50

    def __init__(self, states: Sequence[np.ndarray], labels: np.ndarray | None,
                 batch_size: int, *, seed: int | None,
                 windows: Sequence[tuple[int, ...]] | None = None) -> None:
        super().__init__()
        self.states = states
        self.windows = windows
        self.labels = labels
        self.batch_size = max(int(batch_size), 1)
        self.seed = seed
        self.lengths = np.array([len(s) for s in states], dtype=np.int64)
        self.dim = int(states[0].shape[1])
        self.epoch = 0
        self.batches = self._plan()

    def width(self, idx: np.ndarray) -> int:
        return -(-(int(self.lengths[idx].max()) + _REACH) // _WIDTH_STEP) * _WIDTH_STEP

    def shape(self, idx: np.ndarray) -> tuple[int, ...]:
        """A batch's (width,), or (windows, width) for documents read in windows."""
        if self.windows is None:
            return (self.width(idx),)
        w = max(max(self.windows[i]) for i in idx)
        return (max(len(self.windows[i]) for i in idx), -(-w // _WIDTH_STEP) * _WIDTH_STEP)

    def _plan(self) -> list[np.ndarray]:
        n, bs = len(self.states), self.batch_size
        if self.seed is None:
            order = np.argsort(self.lengths, kind="stable")
            batches = [order[i: i + bs] for i in range(0, n, bs)]
        else:
            rng = np.random.default_rng([self.seed, self.epoch])
            perm, pool = rng.permutation(n), bs * self._POOL
            batches = []
            for p in range(0, n, pool):  # only the last pool may be short: ceil(n / bs) batches
                chunk = perm[p: p + pool]
                chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
                batches += [chunk[i: i + bs] for i in range(0, len(chunk), bs)]
            batches = [batches[i] for i in rng.permutation(len(batches))]
        # Keras' TensorFlow path fixes the input shapes from the first two batches: two
        # different widths there leave the length open for the others.
        widths = [self.shape(b) for b in batches]
        if len(batches) > 2 and widths[0] == widths[1]:
            other = next((j for j in range(2, len(batches)) if widths[j] != widths[0]), None)
            if other is not None:
                batches[1], batches[other] = batches[other], batches[1]
        return batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> tuple[Any, ...]:
        idx = self.batches[i]
        shape = self.shape(idx)
        x = np.zeros((len(idx), *shape, self.dim), dtype=np.float32)
        mask = np.zeros((len(idx), *shape), dtype=np.int32)
        for r, k in enumerate(idx):
            s = self.states[k]
            if self.windows is None:
                x[r, : len(s)] = s
                mask[r, : len(s)] = 1
                continue
            start = 0
            for j, n in enumerate(self.windows[k]):
                x[r, j, :n] = s[start: start + n]
                mask[r, j, :n] = 1
                start += n
        return ((x, mask),) if self.labels is None else ((x, mask), self.labels[idx])

    def on_epoch_end(self) -> None:
        if self.seed is not None:
            self.epoch += 1
            self.batches = self._plan()

    def order(self) -> np.ndarray:
        """The documents in the order of the batches' rows."""
        return np.concatenate(self.batches)


def _predict_buckets(model: Any, states: Sequence[np.ndarray],
                     windows: Sequence[tuple[int, ...]] | None = None) -> np.ndarray:
    """``model``'s outputs for ``states``, batched by length, in the documents' order."""
    data = _Buckets(states, None, 128, seed=None, windows=windows)
    p = np.asarray(model.predict(data, verbose=0))
    out = np.empty_like(p)
    out[data.order()] = p
    return out


def _fit_buckets(model: Any, states: Sequence[Sequence[np.ndarray]],
                 ys: tuple[np.ndarray, np.ndarray], *, epochs: int, batch_size: int,
                 patience: int, seed: int, callbacks: Sequence[Any],
                 keep_start: bool = False,
                 windows: Sequence[Sequence[tuple[int, ...]] | None] = (None, None, None)
                 ) -> _Fitted:
    """:func:`_fit` on batches of similar-length documents (:class:`_Buckets`).

    ``keep_start``: the starting weights (a fitted linear probe) are a candidate too: when no
    epoch's validation loss is below theirs, they are restored."""
    (s_tr, s_va, s_te), (y_tr, y_va) = states, ys
    w_tr, w_va, w_te = windows
    val = _Buckets(s_va, y_va, 128, seed=None, windows=w_va)
    start_loss, start = None, None
    t0 = time.perf_counter()
    if keep_start:
        start = model.get_weights()
        start_loss = float(np.asarray(model.evaluate(val, verbose=0)[0]))
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                         restore_best_weights=True)
    hist = model.fit(_Buckets(s_tr, y_tr, batch_size, seed=seed, windows=w_tr),
                     validation_data=val,
                     epochs=epochs, verbose=0, callbacks=[stop, *callbacks])
    history = {k: [float(v) for v in vs] for k, vs in hist.history.items()}
    kept = start_loss is not None and not min(history["val_loss"]) < start_loss
    if kept:
        model.set_weights(start)
    seconds = time.perf_counter() - t0
    return _Fitted(history, seconds, _predict_buckets(model, s_va, w_va),
                   _predict_buckets(model, s_te, w_te), start_loss, kept)


def _linear_probe(features: Any, label: Any, states: Sequence[Sequence[np.ndarray]],
                  ys: tuple[np.ndarray, np.ndarray], *, n_classes: int, seed: int,
                  windows: Sequence[Sequence[tuple[int, ...]] | None] = (None, None)
                  ) -> dict[str, Any]:
    """Set the softmax layer ``label`` to a logistic regression (scikit-learn, lbfgs) fitted on
    ``features`` of the training documents (the frozen sentence embeddings), ``C`` of
    :data:`wordvecs.logreg.SENTENCE_CS` chosen by validation accuracy (the smaller among
    equals: :func:`wordvecs.logreg.choose_c`, the sentence-embedding baseline's search). Returns the
    probe's ``C`` and validation accuracy; ``{}`` when the training labels hold one class."""
    (s_tr, s_va), (y_tr, y_va) = states, ys
    classes = np.unique(y_tr)
    if len(classes) < 2:
        return {}
    f_tr = _predict_buckets(features, s_tr, windows[0])
    f_va = _predict_buckets(features, s_va, windows[1])
    settings, clf, acc, _ = choose_c(f_tr, y_tr, f_va, y_va, SENTENCE_CS, seed)
    c = settings["C"]
    w = np.zeros((f_tr.shape[1], n_classes), dtype=np.float32)
    b = np.full(n_classes, -10.0, dtype=np.float32)  # a class never seen in training
    b[classes] = 0.0
    if clf.coef_.shape[0] == 1:  # two classes: one weight vector, the logit of the second
        w[:, classes[1]], b[classes[1]] = clf.coef_[0], clf.intercept_[0]
    else:
        w[:, classes], b[classes] = clf.coef_.T, clf.intercept_
    label.set_weights([w, b])
    return {"probe_C": float(c), "probe_val_accuracy": round(acc, 4)}


def _result(mode: str, full: Any, cache: StateCache, fitted: _Fitted,
            ys: tuple[np.ndarray, np.ndarray], *, n_classes: int, fraction: float,
            train_texts: Sequence[str], val_texts: Sequence[str], test_texts: Sequence[str],
            encode_seconds: float, max_len: int, params: dict[str, Any] | None
            ) -> dict[str, Any]:
    """An encoder mode's run: the fields of RunResult and the extras its callers document."""
    y_va, y_te = ys
    pred_va, pred_te = np.argmax(fitted.p_va, axis=1), np.argmax(fitted.p_te, axis=1)
    history = fitted.history
    name = cache.encoder.name
    return {
        "mode": mode, "fraction": fraction, "train_size": len(train_texts),
        "test_accuracy": float(np.mean(pred_te == y_te)),
        "macro_f1": macro_f1(y_te, pred_te, n_classes),
        "val_accuracy": float(np.mean(pred_va == y_va)),
        "epochs": len(history["loss"]),
        "best_epoch": int(np.argmin(history["val_loss"])) + 1,
        "train_seconds": round(fitted.seconds, 2),
        "trainable_params": int(sum(np.prod(w.shape) for w in full.trainable_weights)),
        "frozen_params": int(sum(np.prod(w.shape) for w in full.non_trainable_weights)),
        "history": history,
        "encode_seconds": round(encode_seconds, 2), "max_len": max_len,
        "windows": cache.windows,
        "truncated": {"train": cache.truncated(list(train_texts)),
                      "validation": cache.truncated(list(val_texts)),
                      "test": cache.truncated(list(test_texts))},
        "state_bytes": cache.nbytes, "encoder": name, "model": full,
        "vectors": f"{name} encoder", "weight_bytes": weight_bytes(full),
        "test_interval": None, "params": params, "test_predictions": pred_te,
        "val_probabilities": fitted.p_va, "test_probabilities": fitted.p_te,
    }


def train_contextual(train_texts: Sequence[str], train_labels: Sequence[int] | np.ndarray,
                     val_texts: Sequence[str], val_labels: Sequence[int] | np.ndarray,
                     test_texts: Sequence[str], test_labels: Sequence[int] | np.ndarray, *,
                     n_classes: int, head: str = "cnn", model: str | os.PathLike[str] = "minilm",
                     epochs: int = 20, seed: int = 0, max_len: int | None = None,
                     batch_size: int = 32, patience: int = 3, learning_rate: float = 1e-3,
                     fraction: float = 1.0, cache: StateCache | None = None,
                     callbacks: Sequence[Any] = (), windows: int | None = None
                     ) -> dict[str, Any]:
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
    ``windows``: read documents in up to that many windows of ``max_len`` tokens (see the
    module's text; ``None``: the cache's, else 1); the end-to-end model then takes token ids
    and mask of shape (batch, ``windows``, ``max_len``).
    """
    import keras

    if cache is None:
        cache = StateCache(model, max_len=max_len, windows=windows or 1)
    else:
        _check_cache(cache, max_len, windows)
    if cache.layer != cache.encoder.config.num_hidden_layers:
        raise UsageError(f"the cache keeps the output of block {cache.layer}, not the final one")
    y_tr, y_va, y_te = _checked_labels(train_texts, train_labels, val_texts, val_labels,
                                       test_texts, test_labels, n_classes)
    xs, length, encode_seconds = _states(cache, train_texts, val_texts, test_texts)

    keras.utils.set_random_seed(seed)
    head_model = build_head(head, length=length, dim=cache.encoder.dim, n_classes=n_classes)
    head_model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                       loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fitted = _fit(head_model, xs, (y_tr, y_va), epochs=epochs,
                  batch_size=batch_size, patience=patience, callbacks=callbacks)
    full = _end_to_end(cache.encoder, head_model, length, cache.windows)
    return _result("contextual", full, cache, fitted, (y_va, y_te), n_classes=n_classes,
                   fraction=fraction, train_texts=train_texts, val_texts=val_texts,
                   test_texts=test_texts, encode_seconds=encode_seconds,
                   max_len=cache.max_len, params=None)


# --- fine-tuning the top blocks ------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="wordvecs")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to ``peak`` over ``warmup_steps``, then linear decay to 0 at
    ``total_steps`` (0 after it); :func:`warmup_linear_decay` builds one from a fraction."""

    def __init__(self, peak: float, total_steps: int, warmup_steps: int) -> None:
        self.peak, self.total_steps, self.warmup_steps = peak, total_steps, warmup_steps

    def __call__(self, step: Any) -> Any:
        ops = keras.ops
        step = ops.cast(step, "float32")
        up = step / float(max(self.warmup_steps, 1))
        down = (self.total_steps - step) / float(max(self.total_steps - self.warmup_steps, 1))
        return self.peak * ops.clip(ops.where(step < self.warmup_steps, up, down), 0.0, 1.0)

    def get_config(self) -> dict[str, Any]:
        return {"peak": self.peak, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps}


def warmup_linear_decay(peak: float, total_steps: int, warmup: float = 0.1) -> WarmupLinearDecay:
    """A Keras learning-rate schedule: linear warm-up from 0 to ``peak`` over the first
    ``warmup`` fraction of ``total_steps`` optimizer steps, then linear decay to 0 at
    ``total_steps`` (as Hugging Face's ``get_linear_schedule_with_warmup``). Built from
    ``keras.ops``, so it runs on every backend."""
    if not 0 <= warmup < 1:
        raise UsageError(f"warmup must be a fraction of the steps in [0, 1), got {warmup!r}")
    if total_steps < 1:
        raise UsageError(f"total_steps must be at least 1, got {total_steps!r}")
    return WarmupLinearDecay(float(peak), int(total_steps), round(warmup * total_steps))


def _two_rate_adam(schedule: Any, fast: Sequence[Any], factor: float) -> Any:
    """Adam on ``schedule``, the variables ``fast`` (the head) at ``factor`` times its rate.

    Keras takes one optimizer per model; the per-variable rate is applied in ``update_step``,
    which every backend calls once per variable with the index known at trace time."""
    fast_ids = {id(v) for v in fast}

    class TwoRateAdam(keras.optimizers.Adam):
        def build(self, var_list: Sequence[Any]) -> None:
            super().build(var_list)
            self._fast = {i for i, v in enumerate(var_list) if id(v) in fast_ids}

        def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
            if self._get_variable_index(variable) in self._fast:
                learning_rate = learning_rate * factor
            super().update_step(gradient, variable, learning_rate)

    return TwoRateAdam(schedule)


def _copy_block(block: Any, name: str) -> Any:
    """A trainable copy of a frozen :class:`BertBlock`, its pre-trained weights included."""
    from wordvecs.encoders.bert import BertBlock

    config = {k: v for k, v in block.get_config().items()
              if k in ("hidden_size", "num_heads", "intermediate_size", "epsilon",
                       "approximate_gelu")}
    new = BertBlock(**config, name=name)
    new.build((None, None, config["hidden_size"]))
    new.set_weights(block.get_weights())
    new.trainable = True
    return new


def _zero_padding() -> Any:
    return keras.layers.Lambda(
        lambda a: a[0] * keras.ops.expand_dims(keras.ops.cast(a[1], "float32"), -1),
        name="zero_padding")


def finetune_contextual(train_texts: Sequence[str], train_labels: Sequence[int] | np.ndarray,
                        val_texts: Sequence[str], val_labels: Sequence[int] | np.ndarray,
                        test_texts: Sequence[str], test_labels: Sequence[int] | np.ndarray, *,
                        n_classes: int, head: str = PROBE,
                        model: str | os.PathLike[str] = "minilm", epochs: int = 4, seed: int = 0,
                        max_len: int | None = None, batch_size: int = 32, patience: int = 2,
                        learning_rate: float | None = None, fraction: float = 1.0,
                        cache: StateCache | None = None, callbacks: Sequence[Any] = (),
                        layers: int = 2, warmup: float = 0.1,
                        head_learning_rate: float = 1e-3,
                        windows: int | None = None) -> dict[str, Any]:
    """Fine-tune the encoder's top ``layers`` transformer blocks together with ``head``.

    The bottom ``L - layers`` blocks (and the embeddings) stay frozen, so their output is computed
    once per document (a :class:`StateCache` with ``layer=L - layers``); the model trained is
    ``[those states, padding_mask] -> copies of the top blocks (the pre-trained weights,
    trainable) -> zero at padding -> head -> softmax``. ``layers = num_hidden_layers`` tunes every
    block; the embeddings layer always stays frozen. The encoder itself is never changed (the
    tuned blocks are copies).

    The default head, :data:`PROBE`, is a sentence-transformer's: the mean of the states over the
    padding mask, L2-normalised (the model's sentence embedding, exactly as
    :meth:`~wordvecs.encoders.encoder.Encoder.embed` makes it before any tuning), then softmax.
    It is trained in two stages ("linear probe, then fine-tune", Kumar et al., ICLR 2022): first
    the softmax layer alone, as a logistic regression on the frozen sentence embeddings with its
    ``C`` chosen on validation (the sentence-embedding baseline's model), then the blocks and the
    head together, all at the blocks' rate; the probe itself stays a candidate, kept when no
    epoch's validation loss is below its own (``params["kept"]``: ``"probe"`` or ``"tuned"``;
    ``best_epoch`` 0). A head from random weights would first pull the pre-trained features
    towards its own noise; started from the probe, tuning begins where the baseline ends. The
    other heads (``avg``, ``cnn``, ``bilstm``, ``avgmax``) start from random weights.

    Learning rates: one Adam whose rate follows :func:`warmup_linear_decay` (linear warm-up over
    the first ``warmup`` fraction of all ``epochs * batches`` steps, then linear decay to 0). The
    blocks peak at ``learning_rate`` (default ``1e-4``: pre-trained weights need small steps); the
    head, when it starts from random weights, peaks at ``head_learning_rate`` (``1e-3``, the
    frozen mode's rate) on the same warm-up and decay. Early stopping on the validation loss
    (``patience`` epochs), the best weights restored. Batches hold documents of similar length,
    each padded only to its own longest one (:class:`_Buckets`): on short texts most of one
    array padded to the longest document would be padding, and the blocks' cost grows with it.

    ``windows`` > 1 (or a cache made so): a long document is read in up to that many windows of
    ``max_len`` tokens; every block, the frozen ones and the tuned ones, reads each window on
    its own, and the head reads their states concatenated (:class:`PackWindows`); the probe's
    sentence embedding is then the mean over all the windows' tokens. The end-to-end model
    takes token ids and mask of shape (batch, ``windows``, tokens).

    Returns what :func:`train_contextual` returns, with ``mode="contextual-finetune"`` and
    ``params`` = ``{"layers", "learning_rate", "warmup"}`` (with the probe: and ``"probe_C"``,
    ``"probe_val_accuracy"``, ``"probe_val_loss"``, ``"kept"``); ``model`` is the end-to-end model
    (token ids and padding mask in, probabilities out): its trainable weights are the tuned
    blocks and the head, the frozen ones the embeddings and the bottom blocks. ``state_bytes``
    sizes the cache of the frozen blocks' output.
    """
    encoder = cache.encoder if cache is not None else load_encoder(model, max_length=max_len)
    n_blocks = encoder.config.num_hidden_layers
    if (not isinstance(layers, int) or isinstance(layers, bool)
            or not 1 <= layers <= n_blocks):
        raise UsageError(f"layers must be an integer from 1 to {n_blocks} (the transformer "
                         f"blocks of {encoder.name}), got {layers!r}")
    if not 0 <= warmup < 1:
        raise UsageError(f"warmup must be a fraction of the steps in [0, 1), got {warmup!r}")
    lr = 1e-4 if learning_rate is None else float(learning_rate)
    if not lr > 0 or not head_learning_rate > 0:
        raise UsageError("learning rates must be positive")
    bottom = n_blocks - layers
    if cache is None:
        cache = StateCache(encoder, max_len=max_len, layer=bottom, windows=windows or 1)
    else:
        _check_cache(cache, max_len, windows)
    if cache.layer != bottom:
        raise UsageError(f"the cache keeps the output of {cache.layer} blocks; tuning the top "
                         f"{layers} of {n_blocks} needs layer={bottom}")
    y_tr, y_va, y_te = _checked_labels(train_texts, train_labels, val_texts, val_labels,
                                       test_texts, test_labels, n_classes)
    if head not in (*HEADS, PROBE):
        raise UsageError(f"unknown head {head!r}; expected one of {', '.join((*HEADS, PROBE))}")
    before = cache.seconds
    splits = (train_texts, val_texts, test_texts)
    states = tuple(cache.arrays(list(t)) for t in splits)
    encode_seconds = cache.seconds - before
    in_windows = cache.windows > 1
    lengths = tuple([cache.window_lengths(t) for t in texts] if in_windows else None
                    for texts in splits)
    # the end-to-end model's width: every document of the data with _REACH zeros after it, as
    # in training (see _Buckets), so its outputs are the trained model's; read in windows:
    # the longest window of the data (the model packs them and adds the zeros)
    length = (max(max(w) for split in lengths for w in split or ()) if in_windows
              else max(len(s) for split in states for s in split) + _REACH)

    keras.utils.set_random_seed(seed)
    dim = encoder.dim
    blocks = [_copy_block(encoder.model.get_layer(f"layer_{n}"), f"tuned_layer_{n}")
              for n in range(bottom, n_blocks)]
    head_model = build_head(head, length=None, dim=dim, n_classes=n_classes)

    def top(x: Any, mask: Any, doc_mask: Any) -> tuple[Any, Any]:
        """The tuned blocks on the frozen ones' states ``x`` and padding ``mask`` (in windows:
        one row a window, ``doc_mask`` the documents' (batch, windows, tokens) mask, the
        windows then packed): the head's input and mask."""
        for block in blocks:
            x = block(x, padding_mask=mask)
        x = _zero_padding()([x, mask])
        if in_windows:
            return PackWindows(extra=_REACH, name="pack_windows")(x, doc_mask)
        return x, mask

    # in windows, each window goes through the blocks on its own: one row a window
    fold: Any = FoldWindows(name="fold_windows") if in_windows else (lambda a: a)
    shape: tuple[None, ...] = (None, None) if in_windows else (None,)
    inputs = keras.Input(shape=(*shape, dim), dtype="float32", name="states")
    mask = keras.Input(shape=shape, dtype="int32", name="padding_mask")
    zeroed, head_mask = top(fold(inputs), fold(mask), mask)
    out = head_model([zeroed, head_mask])
    tuned = keras.Model([inputs, mask], out, name="finetuned_top")
    params: dict[str, Any] = {"layers": layers, "learning_rate": lr, "warmup": warmup}
    if head == PROBE:  # the linear probe first, on the blocks as pre-trained
        embed = keras.Model(head_model.inputs,
                            head_model.get_layer("sentence_embedding").output)
        params.update(_linear_probe(keras.Model([inputs, mask], embed([zeroed, head_mask])),
                                    head_model.get_layer("label"), states[:2], (y_tr, y_va),
                                    n_classes=n_classes, seed=seed, windows=lengths[:2]))

    steps = epochs * -(-len(train_texts) // batch_size)  # = epochs * len(_Buckets(train))
    schedule = warmup_linear_decay(lr, max(steps, 1), warmup)
    factor = 1.0 if "probe_C" in params else head_learning_rate / lr  # a fitted probe: one rate
    tuned.compile(optimizer=_two_rate_adam(schedule, head_model.trainable_variables, factor),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fitted = _fit_buckets(tuned, states, (y_tr, y_va), epochs=epochs, batch_size=batch_size,
                          patience=patience, seed=seed, callbacks=callbacks,
                          keep_start="probe_C" in params, windows=lengths)
    if "probe_C" in params and fitted.start_loss is not None:
        params["probe_val_loss"] = round(fitted.start_loss, 4)
        params["kept"] = "probe" if fitted.kept_start else "tuned"

    ids_shape = (cache.windows, length) if in_windows else (length,)
    ids_in = keras.Input(shape=ids_shape, dtype="int32", name="token_ids")
    mask_in = keras.Input(shape=ids_shape, dtype="int32", name="padding_mask")
    fold = FoldWindows(name="fold_windows") if in_windows else (lambda a: a)
    window_mask = fold(mask_in)
    x = encoder.layer_model(bottom)([fold(ids_in), window_mask])
    full = keras.Model([ids_in, mask_in], head_model(list(top(x, window_mask, mask_in))),
                       name="finetuned_contextual_classifier")
    res = _result("contextual-finetune", full, cache, fitted, (y_va, y_te),
                  n_classes=n_classes, fraction=fraction, train_texts=train_texts,
                  val_texts=val_texts, test_texts=test_texts, encode_seconds=encode_seconds,
                  max_len=cache.max_len, params=params)
    if fitted.kept_start:
        res["best_epoch"] = 0  # the probe, before any fine-tuning
    return res
