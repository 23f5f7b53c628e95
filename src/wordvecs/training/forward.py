"""A saved classifier's forward pass in NumPy: prediction without importing Keras (issue 26).

``wordvecs train`` writes one of four small graphs (:data:`wordvecs.keras.HEADS`): an Embedding,
then a head (``avg``: masked mean, Dense; ``cnn``: Conv1D, max pooling; ``bilstm``: a
Bidirectional LSTM over the unmasked tokens; ``avgmax``: mean and max side by side, Dense), then
a Dense softmax. Importing TensorFlow to run that costs seconds and hundreds of megabytes, so a
loaded classifier whose Keras config is exactly one of those graphs runs it here instead, in
float32, with Keras' semantics (its masked mean, its LSTM gate order ``i, f, c, o`` and its
masking: a masked step leaves the state as it was). Anything else (another layer, another
option, another activation, a dtype other than float32) is :class:`Unsupported` and the caller
falls back to Keras.

The weights are read with ``h5py`` from ``model.weights.h5`` inside the ``.keras`` zip: only the
datasets of the layers the config names, each checked against the shape the config implies
before it is read (a file whose weights do not fit its config is a :class:`DataError` naming it).

``WORDVECS_FORWARD`` picks the path: ``auto`` (the default: NumPy when the graph is a known one),
``keras`` (always Keras), ``numpy`` (NumPy or a :class:`DataError` saying why not).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from wordvecs.errors import DataError, UsageError

__all__ = ["ENV", "NumpyForward", "Unsupported", "forward_mode", "load_forward"]

#: The environment variable that picks how a loaded classifier predicts.
ENV = "WORDVECS_FORWARD"
_MODES = ("auto", "keras", "numpy")
_BATCH = 256  # texts per NumPy pass (bounds the memory of a long --input)


class Unsupported(Exception):
    """The model is not one of the graphs the NumPy pass runs: use Keras."""


def forward_mode() -> str:
    """``auto``, ``keras`` or ``numpy``, from :data:`ENV` (a UsageError for anything else)."""
    mode = os.environ.get(ENV, "auto").strip().lower() or "auto"
    if mode not in _MODES:
        raise UsageError(f"{ENV}={os.environ.get(ENV)!r}; expected one of {', '.join(_MODES)}")
    return mode


# --- the config -----------------------------------------------------------------------------------
_IGNORED = object()  # a key that does not change inference (initializers, regularizers, names)


def _float32_policy(v: Any) -> bool:
    return v == "float32" or (isinstance(v, dict) and v.get("class_name") == "DTypePolicy"
                              and v.get("module") == "keras"
                              and v.get("config") == {"name": "float32"})


def _pos_int(v: Any) -> bool:
    return type(v) is int and 0 < v < 1 << 31


def _is(*values: Any) -> Callable[[Any], bool]:
    return lambda v: any(type(v) is type(x) and v == x for x in values)


def _none_or_zero(v: Any) -> bool:
    return v is None or (type(v) is int and v == 0)


_COMMON = {"name": _IGNORED, "trainable": _IGNORED, "dtype": _float32_policy}
_SPEC: dict[str, dict[str, Any]] = {
    "Embedding": {**_COMMON, "input_dim": _pos_int, "output_dim": _pos_int,
                  "embeddings_initializer": _IGNORED, "embeddings_regularizer": _IGNORED,
                  "activity_regularizer": _IGNORED, "embeddings_constraint": _IGNORED,
                  "mask_zero": _is(True, False), "quantization_config": _is(None),
                  "lora_rank": _none_or_zero, "lora_alpha": _IGNORED, "sparse": _is(False),
                  "input_length": _is(None)},
    "Dense": {**_COMMON, "units": _pos_int, "activation": _is("relu", "softmax", "linear"),
              "use_bias": _is(True, False), "kernel_initializer": _IGNORED,
              "bias_initializer": _IGNORED, "kernel_regularizer": _IGNORED,
              "bias_regularizer": _IGNORED, "activity_regularizer": _IGNORED,
              "kernel_constraint": _IGNORED, "bias_constraint": _IGNORED,
              "quantization_config": _is(None), "lora_rank": _none_or_zero,
              "lora_alpha": _IGNORED},
    "Conv1D": {**_COMMON, "filters": _pos_int, "kernel_size": lambda v: (
                   isinstance(v, list) and len(v) == 1 and _pos_int(v[0])),
               "strides": _is([1]), "padding": _is("valid"), "data_format": _is("channels_last"),
               "dilation_rate": _is([1]), "groups": _is(1), "activation": _is("relu", "linear"),
               "use_bias": _is(True, False), "kernel_initializer": _IGNORED,
               "bias_initializer": _IGNORED, "kernel_regularizer": _IGNORED,
               "bias_regularizer": _IGNORED, "activity_regularizer": _IGNORED,
               "kernel_constraint": _IGNORED, "bias_constraint": _IGNORED,
               "lora_rank": _none_or_zero, "lora_alpha": _IGNORED},
    "GlobalAveragePooling1D": {**_COMMON, "data_format": _is("channels_last"),
                               "keepdims": _is(False)},
    "GlobalMaxPooling1D": {**_COMMON, "data_format": _is("channels_last"),
                           "keepdims": _is(False)},
    "Concatenate": {**_COMMON, "axis": _is(-1)},
    "Dropout": {**_COMMON, "rate": _IGNORED, "seed": _IGNORED, "noise_shape": _IGNORED},
    "Bidirectional": {**_COMMON, "merge_mode": _is("concat"), "layer": _IGNORED,
                      "backward_layer": _IGNORED},
    "LSTM": {**_COMMON, "units": _pos_int, "activation": _is("tanh"),
             "recurrent_activation": _is("sigmoid"), "use_bias": _is(True, False),
             "return_sequences": _is(False), "return_state": _is(False),
             "go_backwards": _is(True, False), "stateful": _is(False), "unroll": _IGNORED,
             "zero_output_for_mask": _is(False), "unit_forget_bias": _IGNORED,
             "kernel_initializer": _IGNORED, "recurrent_initializer": _IGNORED,
             "bias_initializer": _IGNORED, "kernel_regularizer": _IGNORED,
             "recurrent_regularizer": _IGNORED, "bias_regularizer": _IGNORED,
             "activity_regularizer": _IGNORED, "kernel_constraint": _IGNORED,
             "recurrent_constraint": _IGNORED, "bias_constraint": _IGNORED,
             "dropout": _IGNORED, "recurrent_dropout": _IGNORED, "seed": _IGNORED,
             "use_cudnn": _IGNORED},
    "InputLayer": {"name": _IGNORED, "batch_shape": _IGNORED, "dtype": _is("int32", "int64"),
                   "sparse": _is(False), "ragged": _is(False), "optional": _is(False)},
    "NotEqual": {"name": _IGNORED},
}
#: The graphs ``wordvecs train`` writes (:func:`wordvecs.keras.head_layers`), as the classes of
#: their layers in order, the input and the mask op left out.
KNOWN_GRAPHS = {
    "avg": ("Embedding", "GlobalAveragePooling1D", "Dense", "Dropout", "Dense"),
    "cnn": ("Embedding", "Dropout", "Conv1D", "GlobalMaxPooling1D", "Dropout", "Dense"),
    "bilstm": ("Embedding", "Bidirectional", "Dropout", "Dense"),
    "avgmax": ("Embedding", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "Concatenate",
               "Dense", "Dropout", "Dense"),
}


def _check_layer_config(cls: str, cfg: Any) -> None:
    spec = _SPEC[cls]
    if not isinstance(cfg, dict):
        raise Unsupported(f"{cls}: config is not an object")
    for key, value in cfg.items():
        check = spec.get(key)
        if check is None:
            raise Unsupported(f"{cls}: option {key!r}")
        if check is not _IGNORED and not check(value):
            raise Unsupported(f"{cls}: {key}={value!r}")


def _refs(obj: Any) -> list[str]:
    """The layers whose outputs ``obj`` (a node's args or a kwarg) names, in order."""
    if isinstance(obj, dict):
        if obj.get("class_name") == "__keras_tensor__":
            hist = obj.get("config", {}).get("keras_history") if isinstance(
                obj.get("config"), dict) else None
            if not (isinstance(hist, list) and len(hist) == 3 and isinstance(hist[0], str)
                    and hist[1:] == [0, 0]):
                raise Unsupported("a tensor reference other than a layer's only output")
            return [hist[0]]
        raise Unsupported("an argument that is not a tensor")
    if isinstance(obj, list):
        return [r for x in obj for r in _refs(x)]
    raise Unsupported(f"an argument {obj!r}")


def _one_ref(value: Any) -> str:
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return value[0]
    raise Unsupported(f"model inputs/outputs {value!r}")


class _Layer:
    def __init__(self, cls: str, name: str, cfg: dict[str, Any], inputs: list[str],
                 mask: str | None) -> None:
        self.cls, self.name, self.cfg, self.inputs, self.mask = cls, name, cfg, inputs, mask


def _parse(config: Any) -> tuple[list[_Layer], str, str, int]:
    """The layers of a Functional config in order, its input and output names, its length."""
    if not isinstance(config, dict) or config.get("class_name") != "Functional":
        raise Unsupported("not a Functional model")
    if not str(config.get("module", "keras")).startswith("keras"):
        raise Unsupported("not a Keras model")
    body = config.get("config")
    if not isinstance(body, dict) or not isinstance(body.get("layers"), list):
        raise Unsupported("no layers")
    inp, out = _one_ref(body.get("input_layers")), _one_ref(body.get("output_layers"))
    layers: list[_Layer] = []
    seen: set[str] = set()
    for node in body["layers"]:
        layer = _parse_layer(node, seen)
        layers.append(layer)
        seen.add(layer.name)
    if not layers or layers[0].cls != "InputLayer" or layers[0].name != inp:
        raise Unsupported("the first layer is not the model's input")
    if layers[-1].name != out:
        raise Unsupported("the last layer is not the model's output")
    return layers, inp, out, int(layers[0].cfg["batch_shape"][1])


def _parse_layer(node: Any, seen: set[str]) -> _Layer:
    """One layer of the config: its class, options and inputs (all among ``seen``)."""
    if not isinstance(node, dict):
        raise Unsupported("a layer that is not an object")
    cls, name = node.get("class_name"), node.get("name")
    if cls not in _SPEC or not isinstance(name, str) or name in seen:
        raise Unsupported(f"layer {cls!r}")
    module = node.get("module")
    if module != ("keras.src.ops.numpy" if cls == "NotEqual" else "keras.layers"):
        raise Unsupported(f"layer {cls!r} of module {module!r}")
    cfg = node.get("config")
    _check_layer_config(cls, cfg)
    assert isinstance(cfg, dict)  # _check_layer_config refuses anything else
    nodes = node.get("inbound_nodes")
    if cls == "InputLayer":
        shape = cfg.get("batch_shape")
        if nodes != [] or not (isinstance(shape, list) and len(shape) == 2 and shape[0] is None
                               and _pos_int(shape[1])):
            raise Unsupported(f"input layer: shape {shape!r}")
        return _Layer(cls, name, cfg, [], None)
    if not (isinstance(nodes, list) and len(nodes) == 1 and isinstance(nodes[0], dict)
            and set(nodes[0]) == {"args", "kwargs"}):
        raise Unsupported(f"layer {name!r} called other than once")
    args, kwargs = nodes[0]["args"], nodes[0]["kwargs"]
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise Unsupported(f"layer {name!r}: its call")
    if cls == "NotEqual":  # the padding mask: not_equal(tokens, 0)
        if not (len(args) == 2 and type(args[1]) is int and args[1] == 0 and kwargs == {}):
            raise Unsupported("a mask other than tokens != 0")
        args = args[:1]
    inputs, mask = _refs(args), _mask_arg(cls, name, kwargs)
    if any(r not in seen for r in inputs) or (mask is not None and mask not in seen):
        raise Unsupported(f"layer {name!r}: inputs out of order")
    if len(inputs) != (2 if cls == "Concatenate" else 1):
        raise Unsupported(f"layer {name!r}: {len(inputs)} inputs")
    if cls == "Bidirectional":
        _check_bidirectional(cfg)
    return _Layer(cls, name, cfg, inputs, mask)


def _mask_arg(cls: str, name: str, kwargs: dict[str, Any]) -> str | None:
    """The layer whose output is the ``mask`` a call passes (None: none); ``training`` may be
    False; any other argument is not a known graph."""
    mask = None
    for key, value in kwargs.items():
        if key == "mask" and cls in ("GlobalAveragePooling1D", "Bidirectional"):
            mask = None if value is None else _refs([value])[0]
        elif not (key == "training" and value is False):
            raise Unsupported(f"layer {name!r}: argument {key}={value!r}")
    return mask


def _check_bidirectional(cfg: dict[str, Any]) -> None:
    """Two LSTMs of the same size with biases, the second going backwards."""
    for side, back in (("layer", False), ("backward_layer", True)):
        sub = cfg.get(side)
        if not (isinstance(sub, dict) and sub.get("class_name") == "LSTM"
                and sub.get("module") == "keras.layers"):
            raise Unsupported(f"Bidirectional {side}: not an LSTM")
        _check_layer_config("LSTM", sub.get("config"))
        if sub["config"].get("go_backwards") is not back or sub["config"].get(
                "use_bias") is not True or not _pos_int(sub["config"].get("units")):
            raise Unsupported(f"Bidirectional {side}: go_backwards, use_bias or units")
    if cfg["layer"]["config"]["units"] != cfg["backward_layer"]["config"]["units"]:
        raise Unsupported("Bidirectional: LSTMs of unequal size")


# --- the weights ----------------------------------------------------------------------------------
def _weight_shapes(layer: _Layer, width: dict[str, int]) -> dict[str, tuple[int, ...]]:
    """The variables of ``layer`` (h5 path under its group -> shape) that its config implies;
    ``width``: each earlier layer's output width."""
    c = layer.cfg
    shapes: dict[str, tuple[int, ...]]
    if layer.cls == "Embedding":
        return {"vars/0": (c["input_dim"], c["output_dim"])}
    if layer.cls == "Dense":
        shapes = {"vars/0": (width[layer.inputs[0]], c["units"])}
        return {**shapes, "vars/1": (c["units"],)} if c["use_bias"] else shapes
    if layer.cls == "Conv1D":
        shapes = {"vars/0": (c["kernel_size"][0], width[layer.inputs[0]], c["filters"])}
        return {**shapes, "vars/1": (c["filters"],)} if c["use_bias"] else shapes
    if layer.cls == "Bidirectional":
        units, dim = c["layer"]["config"]["units"], width[layer.inputs[0]]
        out: dict[str, tuple[int, ...]] = {}
        for side in ("forward_layer", "backward_layer"):
            out.update({f"{side}/cell/vars/0": (dim, 4 * units),
                        f"{side}/cell/vars/1": (units, 4 * units),
                        f"{side}/cell/vars/2": (4 * units,)})
        return out
    return {}


def _out_width(layer: _Layer, width: dict[str, int]) -> int:
    c = layer.cfg
    if layer.cls == "Embedding":
        return int(c["output_dim"])
    if layer.cls == "Dense":
        return int(c["units"])
    if layer.cls == "Conv1D":
        return int(c["filters"])
    if layer.cls == "Bidirectional":
        return 2 * int(c["layer"]["config"]["units"])
    if layer.cls == "Concatenate":
        return sum(width[r] for r in layer.inputs)
    if layer.cls in ("InputLayer", "NotEqual"):
        return 0
    return width[layer.inputs[0]]


def _read_weights(h5_path: Path, layers: list[_Layer], shown: Path) -> dict[str, list[np.ndarray]]:
    """Each weighted layer's arrays, read from ``h5_path`` after checking names, shapes, dtypes
    (``shown``: the file errors name)."""
    try:
        import h5py
    except ImportError:
        raise Unsupported("h5py is not installed (pip install 'wordvecs[serve]')") from None

    width: dict[str, int] = {}
    wanted: dict[str, dict[str, tuple[int, ...]]] = {}
    for layer in layers:
        shapes = _weight_shapes(layer, width)
        if shapes:
            wanted[layer.name] = shapes
        width[layer.name] = _out_width(layer, width)
    try:
        return _read_h5(h5py, h5_path, wanted, shown)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{shown}: its weights file cannot be read ({exc})") from None


def _read_h5(h5py: Any, h5_path: Path, wanted: dict[str, dict[str, tuple[int, ...]]],
             shown: Path) -> dict[str, list[np.ndarray]]:
    with h5py.File(h5_path, "r") as f:
        group = f.get("layers")
        if not isinstance(group, h5py.Group):
            raise Unsupported("no layers group in the weights file")
        by_name: dict[str, Any] = {}
        for key in group:
            sub = group.get(key)
            v = sub.get("vars") if isinstance(sub, h5py.Group) else None
            name = v.attrs.get("name") if isinstance(v, h5py.Group) else None
            if isinstance(name, bytes):
                name = name.decode("utf-8", "replace")
            if isinstance(name, str):
                by_name.setdefault(name, sub)
        out: dict[str, list[np.ndarray]] = {}
        for lname, shapes in wanted.items():
            g = by_name.get(lname)
            if g is None:
                raise Unsupported(f"no weights group for layer {lname!r}")
            arrays = []
            for path, shape in shapes.items():
                ds = g.get(path)
                if not isinstance(ds, h5py.Dataset):
                    raise DataError(f"{shown}: the weights file has no {path} for layer "
                                    f"{lname!r}")
                if tuple(ds.shape) != shape or ds.dtype != np.dtype("<f4"):
                    raise DataError(f"{shown}: layer {lname!r}'s weight {path} is "
                                    f"{ds.dtype} {tuple(ds.shape)} where its config implies "
                                    f"float32 {shape} (a damaged or crafted file)")
                arr = np.empty(shape, dtype=np.float32)
                if arr.size:
                    ds.read_direct(arr)
                arrays.append(arr)
            folders = {p.rpartition("/")[0] for p in shapes}
            for folder in folders:  # no weight the config does not name (Keras refuses those)
                held = g.get(folder)
                names = set(held.keys()) if isinstance(held, h5py.Group) else set()
                if names != {p.rpartition("/")[2] for p in shapes if p.startswith(folder + "/")}:
                    raise DataError(f"{shown}: layer {lname!r} holds weights {sorted(names)} "
                                    f"in {folder}; its config implies "
                                    f"{len([p for p in shapes if p.startswith(folder + '/')])}")
            out[lname] = arrays
    return out


# --- the forward pass -----------------------------------------------------------------------------
def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float32)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return np.asarray(e / np.sum(e, axis=-1, keepdims=True), dtype=np.float32)


def _relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0), NaN to 0 as TensorFlow's relu gives it (a masked mean of no token is 0/0)."""
    return np.where(x > 0, x, np.float32(0))


_ACT: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": _relu, "linear": lambda x: x, "softmax": _softmax}


def _lstm(x: np.ndarray, mask: np.ndarray | None, w: list[np.ndarray],
          backwards: bool) -> np.ndarray:
    """Keras' LSTM (gates i, f, c, o; sigmoid and tanh) over ``x`` (n, steps, dim): its last
    state; a masked step leaves the state as it was (Keras' masking)."""
    kernel, recurrent, bias = w
    n, steps, _ = x.shape
    units = recurrent.shape[0]
    z_in = x @ kernel + bias  # every step's input part at once
    h = np.zeros((n, units), dtype=np.float32)
    c = np.zeros((n, units), dtype=np.float32)
    order = range(steps - 1, -1, -1) if backwards else range(steps)
    for t in order:
        z = z_in[:, t] + h @ recurrent
        i = _sigmoid(z[:, :units])
        f = _sigmoid(z[:, units:2 * units])
        g = np.tanh(z[:, 2 * units:3 * units])
        o = _sigmoid(z[:, 3 * units:])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        if mask is None:
            h, c = h_new, c_new
        else:
            keep = mask[:, t:t + 1]
            h = np.where(keep, h_new, h)
            c = np.where(keep, c_new, c)
    return h


class NumpyForward:
    """A known classifier graph with its weights: :meth:`predict` gives its probabilities.

    ``rows``: the Embedding's rows; ``n_out``: classes; ``max_len``: tokens per text;
    ``head``: which of :data:`KNOWN_GRAPHS` it is.
    """

    def __init__(self, layers: list[_Layer], weights: dict[str, list[np.ndarray]],
                 head: str, max_len: int) -> None:
        self._layers = layers
        self._weights = weights
        self.head = head
        self.max_len = max_len
        emb = next(la for la in layers if la.cls == "Embedding")
        self._embedding = emb.name
        self.rows = int(emb.cfg["input_dim"])
        self.dim = int(emb.cfg["output_dim"])
        self.n_out = int(layers[-1].cfg["units"])

    def __repr__(self) -> str:
        return (f"<NumpyForward {self.head}: {self.rows:,} x {self.dim} embedding, "
                f"{self.n_out} classes>")

    def predict(self, ids: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        """Probabilities (n, classes) for the token ids (n, max_len); ``extra``: rows appended
        to the Embedding for ids past it (a subword fallback's unseen words)."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.shape[1] != self.max_len:
            raise DataError(f"expected token ids of shape (n, {self.max_len}); got {ids.shape}")
        n_extra = 0 if extra is None else len(extra)
        if ids.size and (ids.min() < 0 or ids.max() >= self.rows + n_extra):
            raise DataError(f"token ids outside the Embedding's {self.rows + n_extra:,} rows")
        if extra is not None and n_extra and extra.shape != (n_extra, self.dim):
            raise DataError(f"extra Embedding rows of shape {extra.shape}; expected "
                            f"(n, {self.dim})")
        parts = [self._run(ids[s:s + _BATCH], extra) for s in range(0, len(ids), _BATCH)]
        if not parts:
            return np.zeros((0, self.n_out), dtype=np.float32)
        return np.concatenate(parts)

    def _run(self, ids: np.ndarray, extra: np.ndarray | None) -> np.ndarray:
        values: dict[str, np.ndarray] = {}
        with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 of an all-masked mean: NaN
            for layer in self._layers:
                values[layer.name] = self._layer(layer, values, ids, extra)
        return np.asarray(values[self._layers[-1].name], dtype=np.float32)

    def _layer(self, layer: _Layer, values: dict[str, np.ndarray], ids: np.ndarray,
               extra: np.ndarray | None) -> np.ndarray:
        cls, c = layer.cls, layer.cfg
        w = self._weights.get(layer.name, [])
        x = values[layer.inputs[0]] if layer.inputs else ids
        mask = values[layer.mask] if layer.mask is not None else None
        if cls == "InputLayer":
            return ids
        if cls == "NotEqual":
            return np.asarray(x != 0)
        if cls == "Embedding":
            table = w[0]
            if extra is None or not len(extra):
                return table[x]
            out = table[np.minimum(x, self.rows - 1)]
            past = x >= self.rows
            out[past] = extra[x[past] - self.rows]
            return out
        if cls == "Dropout":
            return x
        if cls == "GlobalAveragePooling1D":
            if mask is None:
                return np.asarray(np.mean(x, axis=1, dtype=np.float32))
            m = mask.astype(np.float32)[:, :, None]
            return np.asarray(np.sum(x * m, axis=1) / np.sum(m, axis=1), dtype=np.float32)
        if cls == "GlobalMaxPooling1D":
            return np.max(x, axis=1)
        if cls == "Concatenate":
            return np.concatenate([values[r] for r in layer.inputs], axis=-1)
        if cls == "Dense":
            y = x @ w[0]
            if c["use_bias"]:
                y = y + w[1]
            return _ACT[c["activation"]](np.asarray(y, dtype=np.float32))
        if cls == "Conv1D":
            k = c["kernel_size"][0]
            n, steps, dim = x.shape
            windows = np.lib.stride_tricks.sliding_window_view(x, k, axis=1)  # n, T, dim, k
            flat = windows.transpose(0, 1, 3, 2).reshape(n * (steps - k + 1), k * dim)
            y = (flat @ w[0].reshape(k * dim, -1)).reshape(n, steps - k + 1, -1)
            if c["use_bias"]:
                y = y + w[1]
            return _ACT[c["activation"]](np.asarray(y, dtype=np.float32))
        if cls == "Bidirectional":
            fwd = _lstm(x, mask, w[:3], backwards=False)
            bwd = _lstm(x, mask, w[3:], backwards=True)
            return np.concatenate([fwd, bwd], axis=-1)
        raise AssertionError(cls)  # pragma: no cover - _parse admits no other class


def _check_wiring(layers: list[_Layer], inp: str) -> str:
    """The head the graph is (one of :data:`KNOWN_GRAPHS`), its wiring checked: masks are
    ``tokens != 0``, an Embedding reads the tokens, a masking Embedding feeds only layers given
    that mask, the output is a softmax over the last layer."""
    by = {la.name: la for la in layers}
    classes = tuple(la.cls for la in layers if la.cls not in ("InputLayer", "NotEqual"))
    head = next((h for h, g in KNOWN_GRAPHS.items() if g == classes), None)
    if head is None:
        raise Unsupported(f"layers {classes}")
    for la in layers:
        if la.cls in ("Embedding", "NotEqual") and la.inputs != [inp]:
            raise Unsupported(f"{la.name} does not read the tokens")
        if la.mask is not None and by[la.mask].cls != "NotEqual":
            raise Unsupported(f"{la.name}: a mask other than tokens != 0")
        if la.cls not in ("Embedding", "NotEqual") and any(by[r].cls == "InputLayer"
                                                            for r in la.inputs):
            raise Unsupported(f"{la.name} reads the tokens")
        if any(by[r].cls == "NotEqual" for r in la.inputs):
            raise Unsupported(f"{la.name} takes the mask as data")
        for r in la.inputs:
            src = by[r]
            if src.cls == "Embedding" and src.cfg["mask_zero"] and (
                    la.cls not in ("GlobalAveragePooling1D", "Bidirectional")
                    or la.mask is None):
                raise Unsupported(f"{la.name}: an implicit padding mask")
    if layers[-1].cls != "Dense" or layers[-1].cfg["activation"] != "softmax":
        raise Unsupported("the output is not a softmax Dense")
    if head == "cnn":
        conv = next(la for la in layers if la.cls == "Conv1D")
        if conv.cfg["kernel_size"][0] > int(layers[0].cfg["batch_shape"][1]):
            raise Unsupported("a convolution wider than the sequence")
    return head


def load_forward(keras_file: Path, scratch: Path, shown: Path) -> NumpyForward:
    """The NumPy forward pass of the ``.keras`` file ``keras_file`` (already checked by
    ``_check_keras_config``); its weights are extracted into the folder ``scratch``. Raises
    :class:`Unsupported` for a graph it does not run, :class:`DataError` (naming ``shown``) for
    weights that do not fit the config."""
    import json

    try:
        with zipfile.ZipFile(keras_file) as zf:
            config = json.loads(zf.read("config.json"))
            if "model.weights.h5" not in zf.namelist():
                raise Unsupported("no weights file")
            h5 = scratch / "model.weights.h5"
            with zf.open("model.weights.h5") as src, open(h5, "wb") as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    dst.write(block)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise DataError(f"{shown}: not a Keras model file ({exc})") from None
    layers, inp, _, max_len = _parse(config)
    head = _check_wiring(layers, inp)
    try:
        weights = _read_weights(h5, layers, shown)
    finally:
        h5.unlink(missing_ok=True)
    return NumpyForward(layers, weights, head, max_len)
