"""A BERT encoder in plain Keras 3 layers, its weights read from ``model.safetensors``.

The architecture is the original post-LayerNorm BERT (``model_type: "bert"``): word + position +
token-type embeddings, then blocks of self-attention and a GELU feed-forward layer, each followed
by a residual sum and LayerNormalization. The safetensors file is read with ``safetensors.numpy``
(no pickle, no torch); every tensor's name and shape is checked against ``config.json`` before any
is used. PyTorch's ``Linear`` stores (out, in); a Keras ``Dense`` kernel is (in, out), so kernels
are transposed on the way in.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras import ops

from wordvecs.encoders.files import ModelFiles
from wordvecs.errors import FormatError

__all__ = ["BertBlock", "BertConfig", "BertEmbeddings", "build_encoder", "expected_shapes",
           "read_weights", "set_weights"]

log = logging.getLogger(__name__)

#: The ``hidden_act`` values understood, and whether GELU is the tanh approximation.
_ACTIVATIONS = {"gelu": False, "gelu_new": True, "gelu_pytorch_tanh": True}
#: The ``model_type`` values whose weights follow BERT's names and layout.
MODEL_TYPES = ("bert",)


@dataclass(frozen=True)
class BertConfig:
    """The fields of ``config.json`` the encoder needs, checked."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float
    hidden_act: str

    @classmethod
    def from_files(cls, files: ModelFiles) -> BertConfig:
        """Read and check ``config.json``; :class:`FormatError` names the field that is wrong."""
        where = files.where("config.json")
        data = files.json("config.json")
        model_type = data.get("model_type")
        if model_type not in MODEL_TYPES:
            raise FormatError(where, "not a BERT-family encoder this release can run",
                              expected=f"model_type {' or '.join(map(repr, MODEL_TYPES))}",
                              found=repr(model_type))
        values: dict[str, Any] = {}
        for name in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                     "intermediate_size", "max_position_embeddings", "type_vocab_size"):
            v = data.get(name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise FormatError(where, f"field {name!r}", expected="a positive integer",
                                  found=repr(v))
            values[name] = v
        eps = data.get("layer_norm_eps", 1e-12)
        if not isinstance(eps, int | float) or isinstance(eps, bool) or not 0 < eps < 1:
            raise FormatError(where, "field 'layer_norm_eps'", expected="a number in (0, 1)",
                              found=repr(eps))
        act = data.get("hidden_act", "gelu")
        if act not in _ACTIVATIONS:
            raise FormatError(where, "field 'hidden_act'",
                              expected=" or ".join(map(repr, _ACTIVATIONS)), found=repr(act))
        pos = data.get("position_embedding_type", "absolute")
        if pos != "absolute":
            raise FormatError(where, "field 'position_embedding_type'", expected="'absolute'",
                              found=repr(pos))
        if values["hidden_size"] % values["num_attention_heads"]:
            raise FormatError(where, "hidden_size must be a multiple of num_attention_heads",
                              found=f"{values['hidden_size']} and "
                                    f"{values['num_attention_heads']}")
        return cls(layer_norm_eps=float(eps), hidden_act=act, **values)


def expected_shapes(c: BertConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor the encoder reads, by its name in the safetensors file, with its shape."""
    h, i = c.hidden_size, c.intermediate_size
    shapes: dict[str, tuple[int, ...]] = {
        "embeddings.word_embeddings.weight": (c.vocab_size, h),
        "embeddings.position_embeddings.weight": (c.max_position_embeddings, h),
        "embeddings.token_type_embeddings.weight": (c.type_vocab_size, h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
    }
    for n in range(c.num_hidden_layers):
        p = f"encoder.layer.{n}."
        for part in ("query", "key", "value"):
            shapes[f"{p}attention.self.{part}.weight"] = (h, h)
            shapes[f"{p}attention.self.{part}.bias"] = (h,)
        shapes[f"{p}attention.output.dense.weight"] = (h, h)
        shapes[f"{p}attention.output.dense.bias"] = (h,)
        shapes[f"{p}attention.output.LayerNorm.weight"] = (h,)
        shapes[f"{p}attention.output.LayerNorm.bias"] = (h,)
        shapes[f"{p}intermediate.dense.weight"] = (i, h)
        shapes[f"{p}intermediate.dense.bias"] = (i,)
        shapes[f"{p}output.dense.weight"] = (h, i)
        shapes[f"{p}output.dense.bias"] = (h,)
        shapes[f"{p}output.LayerNorm.weight"] = (h,)
        shapes[f"{p}output.LayerNorm.bias"] = (h,)
    return shapes


def read_weights(files: ModelFiles, config: BertConfig) -> dict[str, np.ndarray]:
    """The encoder's tensors as float32 arrays, each checked for presence, shape and finiteness.

    Names may carry a ``bert.`` prefix (checkpoints of ``BertFor...`` heads); other tensors (the
    pooler, a task head) are ignored.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load, load_file

    where = files.where("model.safetensors")
    local = files.local_path("model.safetensors")
    try:
        tensors = load_file(str(local)) if local is not None else load(
            files.read("model.safetensors"))
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        raise FormatError(where, f"not a readable safetensors file ({exc})") from None
    if ("embeddings.word_embeddings.weight" not in tensors
            and "bert.embeddings.word_embeddings.weight" in tensors):
        tensors = {k.removeprefix("bert."): v for k, v in tensors.items()}
    out: dict[str, np.ndarray] = {}
    expected = expected_shapes(config)
    missing = [k for k in expected if k not in tensors]
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise FormatError(where, f"missing tensor(s) {', '.join(missing[:3])}{more} "
                          f"for a {config.num_hidden_layers}-layer BERT of config.json")
    for name, shape in expected.items():
        arr = tensors[name]
        if tuple(arr.shape) != shape:
            raise FormatError(where, f"tensor {name!r} (from config.json)",
                              expected=f"shape {shape}", found=f"shape {tuple(arr.shape)}")
        if arr.dtype.kind != "f":
            raise FormatError(where, f"tensor {name!r}", expected="floating point",
                              found=str(arr.dtype))
        arr = np.asarray(arr, dtype=np.float32)
        if not np.isfinite(arr).all():
            raise FormatError(where, f"tensor {name!r} holds NaN or infinite values")
        out[name] = arr
    return out


# --- the Keras layers ----------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="wordvecs")
class BertEmbeddings(keras.layers.Layer):
    """Token + position + token-type (always type 0) embeddings, then LayerNormalization."""

    def __init__(self, vocab_size: int, hidden_size: int, max_positions: int,
                 type_vocab_size: int = 2, epsilon: float = 1e-12, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vocab_size, self.hidden_size = vocab_size, hidden_size
        self.max_positions, self.type_vocab_size, self.epsilon = (max_positions, type_vocab_size,
                                                                   epsilon)
        self.norm = keras.layers.LayerNormalization(epsilon=epsilon, name="norm")

    def build(self, input_shape: Any) -> None:
        h = self.hidden_size
        self.word = self.add_weight(shape=(self.vocab_size, h), initializer="zeros",
                                    name="word_embeddings")
        self.position = self.add_weight(shape=(self.max_positions, h), initializer="zeros",
                                        name="position_embeddings")
        self.token_type = self.add_weight(shape=(self.type_vocab_size, h), initializer="zeros",
                                          name="token_type_embeddings")
        self.norm.build((None, None, h))

    def call(self, token_ids: Any) -> Any:
        length = ops.shape(token_ids)[1]
        x = ops.take(self.word, token_ids, axis=0)
        x = x + ops.expand_dims(ops.take(self.position, ops.arange(length), axis=0), 0)
        x = x + self.token_type[0]
        return self.norm(x)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "hidden_size": self.hidden_size, "max_positions": self.max_positions,
                "type_vocab_size": self.type_vocab_size, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="wordvecs")
class BertBlock(keras.layers.Layer):
    """One post-LayerNorm transformer block: self-attention, then a GELU feed-forward layer."""

    def __init__(self, hidden_size: int, num_heads: int, intermediate_size: int,
                 epsilon: float = 1e-12, approximate_gelu: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hidden_size, self.num_heads = hidden_size, num_heads
        self.intermediate_size, self.epsilon = intermediate_size, epsilon
        self.approximate_gelu = approximate_gelu
        dense = keras.layers.Dense
        self.query = dense(hidden_size, name="query")
        self.key = dense(hidden_size, name="key")
        self.value = dense(hidden_size, name="value")
        self.attention_out = dense(hidden_size, name="attention_output")
        self.attention_norm = keras.layers.LayerNormalization(epsilon=epsilon,
                                                              name="attention_norm")
        self.intermediate = dense(intermediate_size, name="intermediate")
        self.ffn_out = dense(hidden_size, name="output")
        self.ffn_norm = keras.layers.LayerNormalization(epsilon=epsilon, name="output_norm")

    def build(self, input_shape: Any) -> None:
        h, i = self.hidden_size, self.intermediate_size
        for layer in (self.query, self.key, self.value, self.attention_out, self.intermediate):
            layer.build((None, None, h))
        self.ffn_out.build((None, None, i))
        self.attention_norm.build((None, None, h))
        self.ffn_norm.build((None, None, h))

    def _heads(self, x: Any) -> Any:
        b, t = ops.shape(x)[0], ops.shape(x)[1]
        x = ops.reshape(x, (b, t, self.num_heads, self.hidden_size // self.num_heads))
        return ops.transpose(x, (0, 2, 1, 3))

    def call(self, x: Any, padding_mask: Any) -> Any:
        b, t = ops.shape(x)[0], ops.shape(x)[1]
        q, k, v = self._heads(self.query(x)), self._heads(self.key(x)), self._heads(self.value(x))
        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2)))
        scores = scores / math.sqrt(self.hidden_size // self.num_heads)
        keep = ops.cast(padding_mask, scores.dtype)[:, None, None, :]
        scores = scores + (1.0 - keep) * -1e9  # padding keys get no attention
        context = ops.matmul(ops.softmax(scores, axis=-1), v)
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (b, t, self.hidden_size))
        x = self.attention_norm(x + self.attention_out(context))
        hidden = keras.activations.gelu(self.intermediate(x), approximate=self.approximate_gelu)
        return self.ffn_norm(x + self.ffn_out(hidden))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "hidden_size": self.hidden_size,
                "num_heads": self.num_heads, "intermediate_size": self.intermediate_size,
                "epsilon": self.epsilon, "approximate_gelu": self.approximate_gelu}


def build_encoder(config: BertConfig, name: str = "bert_encoder") -> Any:
    """A Keras model: ``[token_ids, padding_mask]`` (int32, (batch, length)) -> states.

    The states are (batch, length, hidden_size) float32, the last layer's output. Its weights are
    zeros until :func:`set_weights` fills them.
    """
    ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    mask = keras.Input(shape=(None,), dtype="int32", name="padding_mask")
    x = BertEmbeddings(config.vocab_size, config.hidden_size, config.max_position_embeddings,
                       config.type_vocab_size, config.layer_norm_eps, name="embeddings")(ids)
    approx = _ACTIVATIONS[config.hidden_act]
    for n in range(config.num_hidden_layers):
        x = BertBlock(config.hidden_size, config.num_attention_heads, config.intermediate_size,
                      config.layer_norm_eps, approx, name=f"layer_{n}")(x, padding_mask=mask)
    return keras.Model([ids, mask], x, name=name)


def set_weights(model: Any, weights: dict[str, np.ndarray], config: BertConfig) -> None:
    """Copy the checked safetensors arrays into the model built by :func:`build_encoder`."""
    emb = model.get_layer("embeddings")
    emb.word.assign(weights["embeddings.word_embeddings.weight"])
    emb.position.assign(weights["embeddings.position_embeddings.weight"])
    emb.token_type.assign(weights["embeddings.token_type_embeddings.weight"])
    _norm(emb.norm, weights, "embeddings.LayerNorm")
    for n in range(config.num_hidden_layers):
        block, p = model.get_layer(f"layer_{n}"), f"encoder.layer.{n}."
        _dense(block.query, weights, f"{p}attention.self.query")
        _dense(block.key, weights, f"{p}attention.self.key")
        _dense(block.value, weights, f"{p}attention.self.value")
        _dense(block.attention_out, weights, f"{p}attention.output.dense")
        _norm(block.attention_norm, weights, f"{p}attention.output.LayerNorm")
        _dense(block.intermediate, weights, f"{p}intermediate.dense")
        _dense(block.ffn_out, weights, f"{p}output.dense")
        _norm(block.ffn_norm, weights, f"{p}output.LayerNorm")


def _dense(layer: Any, w: dict[str, np.ndarray], prefix: str) -> None:
    layer.kernel.assign(np.ascontiguousarray(w[f"{prefix}.weight"].T))
    layer.bias.assign(w[f"{prefix}.bias"])


def _norm(layer: Any, w: dict[str, np.ndarray], prefix: str) -> None:
    layer.gamma.assign(w[f"{prefix}.weight"])
    layer.beta.assign(w[f"{prefix}.bias"])
