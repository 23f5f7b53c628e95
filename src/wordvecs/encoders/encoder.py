"""A loaded encoder: config, checked weights, tokenizer and the compiled Keras model together.

:meth:`Encoder.pool` runs many token sequences through the model in batches of equal shape:
sequences are sorted by length and padded to a few bucket lengths, so the jit-compiled predict
function is traced once per bucket, not once per batch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from wordvecs.encoders.bert import BertConfig, build_encoder, read_weights, set_weights
from wordvecs.encoders.files import ModelFiles, find_model
from wordvecs.encoders.tokenizer import WordPiece, load_tokenizer
from wordvecs.errors import ArgumentTypeError, UsageError
from wordvecs.progress import Progress

__all__ = ["Encoder", "load_encoder"]

log = logging.getLogger(__name__)

#: Padded lengths: a sequence is padded to the first bucket that holds it.
_BUCKETS = (3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


def _bucket(n: int, cap: int) -> int:
    for b in _BUCKETS:
        if b >= n:
            return min(b, cap) if cap >= n else n
    return n


@dataclass
class Encoder:
    """A BERT-family encoder ready to run; build one with :func:`load_encoder`."""

    files: ModelFiles
    config: BertConfig
    tokenizer: WordPiece
    model: Any
    _pooler: Any = None
    _layer_models: dict[int, Any] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.files.name

    @property
    def dim(self) -> int:
        return self.config.hidden_size

    def __repr__(self) -> str:
        c = self.config
        return (f"<Encoder {self.name}: {c.num_hidden_layers} layers, {c.hidden_size} dims, "
                f"{self.tokenizer.vocab_size:,} tokens>")

    def _pooling_model(self) -> Any:
        """[ids, mask, weights] -> sum(weights * states) / sum(weights), in one compiled call."""
        if self._pooler is None:
            import keras
            from keras import ops

            ids, mask = self.model.inputs
            weights = keras.Input(shape=(None,), dtype="float32", name="pool_weights")
            states = self.model([ids, mask])

            def pool(args: list[Any]) -> Any:
                s, w = args
                total = ops.sum(s * ops.expand_dims(w, -1), axis=1)
                return total / ops.maximum(ops.sum(w, axis=1, keepdims=True), 1e-9)

            pooled = keras.layers.Lambda(pool, name="mean_pool")([states, weights])
            self._pooler = keras.Model([ids, mask, weights], pooled, name="pooled_encoder")
        return self._pooler

    def pool(self, seqs: Sequence[Sequence[int]], *, skip_ends: bool = False,
             batch_size: int = 256, progress: bool = False, desc: str = "encoding") -> np.ndarray:
        """float32 (len(seqs), dim): the mean of each sequence's output states.

        ``skip_ends`` leaves the first and last token ([CLS] and [SEP]) out of the mean (a
        sequence of two tokens or fewer then keeps them all).
        """
        n = len(seqs)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=n)
        order = np.argsort(lengths, kind="stable")
        cap = self.tokenizer.max_length
        pooler = self._pooling_model()
        with Progress(n, desc, enabled=progress, unit="seq") as bar:
            start = 0
            while start < n:
                width = _bucket(int(lengths[order[start]]), cap)
                stop = start
                while stop < n and stop - start < batch_size and lengths[order[stop]] <= width:
                    stop += 1
                idx = order[start:stop]
                rows = batch_size if n > batch_size else len(idx)
                ids = np.zeros((rows, width), dtype=np.int32)
                mask = np.zeros((rows, width), dtype=np.int32)
                weights = np.zeros((rows, width), dtype=np.float32)
                mask[:, 0] = 1  # rows that only fill the batch attend to one token
                for r, i in enumerate(idx):
                    s = seqs[i]
                    ids[r, : len(s)] = s
                    mask[r, : len(s)] = 1
                    if skip_ends and len(s) > 2:
                        weights[r, 1: len(s) - 1] = 1.0
                    else:
                        weights[r, : len(s)] = 1.0
                pooled = pooler.predict_on_batch([ids, mask, weights])
                out[idx] = np.asarray(pooled)[: len(idx)]
                bar.update(len(idx))
                start = stop
        return out

    def layer_model(self, layer: int | None = None) -> Any:
        """The frozen encoder cut after ``layer`` transformer blocks: ``[token_ids,
        padding_mask] -> states`` (the numbering of Hugging Face's ``hidden_states``: 0 is the
        embeddings' output, ``num_hidden_layers`` (or ``None``) the final output, the model
        itself). Its layers are the encoder's own (shared weights, frozen)."""
        n = self.config.num_hidden_layers
        if layer is None or layer == n:
            return self.model
        if not isinstance(layer, int) or isinstance(layer, bool) or not 0 <= layer <= n:
            raise UsageError(f"layer must be an integer in [0, {n}] (blocks of {self.name}), "
                             f"got {layer!r}")
        if layer not in self._layer_models:
            import keras

            name = "embeddings" if layer == 0 else f"layer_{layer - 1}"
            self._layer_models[layer] = keras.Model(
                self.model.inputs, self.model.get_layer(name).output,
                name=f"{self.model.name}_to_{layer}")
        return self._layer_models[layer]

    def states(self, seqs: Sequence[Sequence[int]], length: int, *, batch_size: int = 32,
               layer: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Contextual states (n, length, dim) float32 and the padding mask (n, length) int32.

        ``layer``: the output of that many blocks (see :meth:`layer_model`); default the last.
        """
        model = self.layer_model(layer)
        n = len(seqs)
        ids = np.zeros((n, length), dtype=np.int32)
        mask = np.zeros((n, length), dtype=np.int32)
        for r, s in enumerate(seqs):
            s = list(s)[:length]
            ids[r, : len(s)] = s
            mask[r, : len(s)] = 1
        out = np.zeros((n, length, self.dim), dtype=np.float32)
        for start in range(0, n, batch_size):
            sl = slice(start, start + batch_size)
            out[sl] = np.asarray(model.predict_on_batch([ids[sl], mask[sl]]))
        return out, mask

    def embed(self, texts: Sequence[str], *, batch_size: int = 32,
              progress: bool = False) -> np.ndarray:
        """Sentence vectors as sentence-transformers makes them: mean of all token states
        ([CLS] and [SEP] included) over the padding mask, then L2-normalised. ``progress``: a
        bar over the texts."""
        if isinstance(texts, str):
            raise ArgumentTypeError("embed takes a list of texts, not a single string")
        vecs = self.pool(self.tokenizer.encode(list(texts)), batch_size=batch_size,
                         progress=progress, desc="sentence embeddings")
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return (vecs / np.maximum(norms, 1e-12)).astype(np.float32)


#: Truncation length of sentences when the model does not state one (sentence_bert_config.json).
DEFAULT_MAX_LENGTH = 256


def _max_length(files: ModelFiles, config: BertConfig) -> int:
    if files.has("sentence_bert_config.json"):
        v = files.json("sentence_bert_config.json").get("max_seq_length")
        if isinstance(v, int) and 3 <= v <= config.max_position_embeddings:
            return v
    return min(DEFAULT_MAX_LENGTH, config.max_position_embeddings)


def load_encoder(model: str | os.PathLike[str] | Encoder, *,
                 max_length: int | None = None) -> Encoder:
    """Load a named encoder (``"minilm"``) or a model folder / zip of the Hugging Face layout.

    ``max_length``: the truncation length in tokens, [CLS] and [SEP] included (default: the
    model's ``sentence_bert_config.json`` ``max_seq_length``, else 256). Loaded models are kept
    (one per path, length and modification time), so a second call is free.
    """
    if isinstance(model, Encoder):
        return model
    files = find_model(model)
    path = files.path.resolve()
    stamp = (path / "model.safetensors" if files.zip_prefix is None else path).stat().st_mtime_ns
    return _load(path, files.zip_prefix, files.name, stamp, max_length)


@lru_cache(maxsize=8)
def _load(path: Path, prefix: str | None, name: str, stamp: int,
          max_length: int | None) -> Encoder:
    files, config, model = _load_model(path, prefix, name, stamp)
    tokenizer = load_tokenizer(files, config, max_length or _max_length(files, config))
    return Encoder(files, config, tokenizer, model)


@lru_cache(maxsize=4)
def _load_model(path: Path, prefix: str | None, name: str,
                stamp: int) -> tuple[ModelFiles, BertConfig, Any]:
    """The weights, once per model file, whatever the truncation length of its users."""
    files = ModelFiles(path, name, prefix)
    config = BertConfig.from_files(files)
    load_tokenizer(files, config, 3)  # a bad tokenizer file fails before the weights are read
    weights = read_weights(files, config)
    model = build_encoder(config)
    set_weights(model, weights, config)
    model.trainable = False
    log.info("loaded %s: %d layers, %d dims", name, config.num_hidden_layers, config.hidden_size)
    return files, config, model
