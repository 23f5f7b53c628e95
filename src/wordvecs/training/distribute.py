"""Training over many devices and hosts with Keras 3's own distribution API (JAX backend).

:func:`plan` builds a :class:`Plan` around a ``keras.distribution`` ``DataParallel`` (``"data"``:
the model replicated, every batch split over all devices) or ``ModelParallel`` (``"model"``: the
embedding table's rows sharded over a ``model`` mesh axis, batches split over a ``batch`` axis).
The plan takes care of what JAX will not do for the user:

* JAX cannot shard unevenly. The table gets zero rows at its end up to a multiple of the shards;
  no token id reaches them, so no output and no gradient of a real row changes, and
  :meth:`Plan.undistributed` cuts them off again. A last batch that does not divide over the data
  shards is padded with copies of its first row at sample weight 0, the real rows weighted
  ``padded / real`` so that the mean loss, hence the gradient, is that of the real rows;
  :class:`_ExactEpochMetrics` then takes the padding back out of the epoch's reported means.
* ``Embedding(weights=[m])`` builds the whole table from its initializer and then copies it. Here
  the layer is built with a zeros initializer inside the distribution scope, the zeros are
  freed, and the table is placed one device shard at a time from the host matrix (which may be a
  memory map): host memory grows by about one table, not three.
* The table's ``LayoutMap`` key is exact (``embedding/embeddings``): a pattern like
  ``.*embedding.*`` also matches the layer's output.

Many processes: :func:`initialize` (or ``plan(coordinator=..., num_processes=...,
process_id=...)``, or the ``KERAS_DISTRIBUTION_*`` environment variables) joins them before any
computation; each process then feeds only its slice of each global batch, every process calls
:meth:`Plan.undistributed` (a collective) and only :attr:`Plan.is_chief` saves.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wordvecs.errors import UsageError, WordvecsError, require

__all__ = ["MODES", "DistributeError", "Plan", "epoch_order", "from_options", "initialize",
           "parse_mesh", "plan"]

MODES = ("data", "model")
_ENV = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
        "KERAS_DISTRIBUTION_PROCESS_ID")


class DistributeError(WordvecsError, ValueError):
    """A distribution that cannot work: wrong backend, mesh, batch size or process setting."""


def _keras_jax() -> Any:
    """Keras, after checking that its backend is JAX (the only one with the distribution API)."""
    keras: Any = require("keras", "jax")
    backend = keras.backend.backend()
    if backend != "jax":
        raise DistributeError(
            f"--distribute needs the JAX backend (Keras' distribution API runs on JAX only); the "
            f"backend is {backend!r}: set KERAS_BACKEND=jax (pip install 'wordvecs[jax]')")
    return keras


def parse_mesh(text: str | Sequence[int]) -> tuple[int, int]:
    """``"2x4"`` (or ``(2, 4)``) -> ``(batch, model)``; a single ``"8"`` means ``(8, 1)``."""
    if isinstance(text, str):
        parts = text.lower().split("x")
        if not all(re.fullmatch(r"\s*\d+\s*", p) for p in parts) or len(parts) > 2:
            raise DistributeError(f"mesh {text!r}: expected BATCHxMODEL, e.g. 2x4")
        dims = [int(p) for p in parts]
    else:
        dims = [int(d) for d in text]
    if len(dims) == 1:
        dims.append(1)
    if len(dims) != 2 or min(dims) < 1:
        raise DistributeError(f"mesh {text!r}: expected two positive sizes BATCHxMODEL, e.g. 2x4")
    return dims[0], dims[1]


def initialize(coordinator: str | None = None, num_processes: int | None = None,
               process_id: int | None = None) -> bool:
    """Join a multi-process run (``keras.distribution.initialize``) before any computation.

    Arguments left out come from ``KERAS_DISTRIBUTION_JOB_ADDRESSES`` / ``_NUM_PROCESSES`` /
    ``_PROCESS_ID``. Returns False (and does nothing) when neither arguments nor variables ask
    for more than one process, or when this process has already joined.
    """
    keras = _keras_jax()
    import jax

    given = (coordinator, num_processes, process_id)
    if all(v is None for v in given) and not any(os.environ.get(k) for k in _ENV):
        return False
    coordinator = coordinator or os.environ.get(_ENV[0])
    try:
        n = int(num_processes if num_processes is not None else os.environ.get(_ENV[1], ""))
        i = int(process_id if process_id is not None else os.environ.get(_ENV[2], ""))
    except ValueError:
        raise DistributeError("a multi-process run needs --num-processes N and --process-id I "
                              f"(or {_ENV[1]} and {_ENV[2]})") from None
    if not coordinator or not re.fullmatch(r"[^\s:,]+:\d{1,5}(,[^\s:,]+:\d{1,5})*", coordinator):
        raise DistributeError(f"coordinator {coordinator!r}: expected HOST:PORT, e.g. "
                              "10.0.0.1:1234")
    if n < 1 or not 0 <= i < n:
        raise DistributeError(f"process id {i} out of range for {n} processes (0 to {n - 1})")
    if jax.distributed.is_initialized():
        return False
    keras.distribution.initialize(coordinator, n, i)
    return True


@dataclass
class Plan:
    """A Keras distribution and what wordvecs needs to train under it (see the module notes)."""

    mode: str
    distribution: Any
    batch_shards: int
    model_shards: int
    table: str = "embedding"

    # --- facts --------------------------------------------------------------------------------
    @property
    def num_processes(self) -> int:
        return int(self.distribution.num_processes)

    @property
    def process_id(self) -> int:
        import jax

        return int(jax.process_index())

    @property
    def is_chief(self) -> bool:
        """True in process 0, the one that writes files."""
        return self.process_id == 0

    def padded_rows(self, rows: int) -> int:
        """Rows of the sharded table: ``rows`` rounded up to a multiple of the model shards."""
        return -(-int(rows) // self.model_shards) * self.model_shards

    def scope(self) -> contextlib.AbstractContextManager[None]:
        """The distribution's scope: build, compile and train the model inside it."""
        return self.distribution.scope()  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return (f"<Plan {self.mode}: mesh batch={self.batch_shards} x model={self.model_shards}, "
                f"{self.num_processes} process(es)>")

    # --- the table ----------------------------------------------------------------------------
    def embedding_layer(self, matrix: Any, *, trainable: bool = False, mask_zero: bool = False,
                        name: str | None = None) -> Any:
        """A built ``Embedding`` holding ``matrix`` (rows, dim), its rows padded and sharded.

        Call inside :meth:`scope`. ``matrix`` may be a NumPy array, a memory map or an
        :class:`~wordvecs.EmbeddingMatrix`; it is read one device shard at a time.
        """
        from wordvecs.keras import _check_table
        from wordvecs.matrix import EmbeddingMatrix

        keras = _keras_jax()
        if isinstance(matrix, EmbeddingMatrix):
            matrix = matrix.matrix
        rows, dim = _check_table(matrix)
        name = name or self.table
        if name != self.table:
            raise DistributeError(f"the plan shards the layer named {self.table!r}, not {name!r}")
        layer = keras.layers.Embedding(self.padded_rows(rows), dim,
                                       embeddings_initializer="zeros", mask_zero=mask_zero,
                                       trainable=trainable, name=name)
        with self.scope():
            layer.build()
            _place(layer.embeddings, matrix, rows)
        layer._wordvecs_rows = rows  # what undistributed() cuts the table back to
        return layer

    def model_embedding(self, mode: str, matrix: Any, rows: int, dim: int, *,
                        mask_zero: bool = False) -> Any:
        """The table of ``wordvecs train``'s model in ``mode`` (frozen, finetune, scratch)."""
        from wordvecs.keras import check_matrix_fits

        if mode == "scratch":
            return self.embedding_layer(self.random_table(rows, dim), trainable=True,
                                        mask_zero=mask_zero)
        if matrix is None:
            raise UsageError(f"mode {mode!r} needs a pre-trained matrix")
        check_matrix_fits(matrix, vocab_size=rows, model_dim=dim)
        return self.embedding_layer(matrix, trainable=mode == "finetune", mask_zero=mask_zero)

    def random_table(self, rows: int, dim: int) -> np.ndarray:
        """A ``scratch`` table's start: the numbers an unsharded ``Embedding(rows, dim)`` draws.

        Drawn on the host with Keras' default ``uniform`` initializer, from Keras' global seed,
        before any other layer is built (as a single-device model would), so a scratch run
        starts where the single-device one does.
        """
        keras = _keras_jax()
        init = keras.initializers.get("uniform")
        with _no_distribution(keras):
            return np.asarray(init((int(rows), int(dim)), dtype="float32"))

    # --- data ---------------------------------------------------------------------------------
    def _check_batch(self, batch_size: int) -> None:
        if batch_size % self.batch_shards:
            raise DistributeError(
                f"batch size {batch_size} does not split over {self.batch_shards} data shards; "
                f"use a multiple of {self.batch_shards}")

    def local_rows(self, global_rows: int) -> slice:
        """The rows of a global batch of ``global_rows`` that this process feeds."""
        import jax

        layout = self.distribution.get_data_layout((global_rows,)).backend_layout
        spans = [idx[0] for idx in layout.addressable_devices_indices_map((global_rows,)).values()]
        start = min(s.start or 0 for s in spans)
        stop = max(global_rows if s.stop is None else s.stop for s in spans)
        if jax.process_count() == 1:
            return slice(0, global_rows)
        return slice(start, stop)

    def fit(self, model: Any, x: np.ndarray, y: np.ndarray, *, batch_size: int = 32,
            epochs: int = 1, validation_data: tuple[np.ndarray, np.ndarray] | None = None,
            callbacks: Sequence[Any] = (), shuffle: bool = True, seed: int | None = None,
            verbose: int = 0) -> Any:
        """``model.fit`` under the distribution, every batch padded to split evenly.

        Every process passes the same global ``x`` and ``y``; each feeds its slice. Shuffling
        draws ``np.random.permutation`` at each epoch's first batch, as Keras' own ``fit``
        does, so a seeded run shuffles as the single-device one (process 0's order is sent to
        the others); with ``seed``, the order is :func:`epoch_order` instead.
        """
        keras = _keras_jax()
        self._check_batch(batch_size)
        train = _Batches(keras, self, x, y, batch_size, shuffle, seed)
        val = None
        if validation_data is not None:
            val = _Batches(keras, self, *validation_data, batch_size, False, seed)
        exact = _ExactEpochMetrics(keras, train, val)
        with self.scope():
            _weigh_metrics(model)
            return model.fit(train, validation_data=val, epochs=epochs, verbose=verbose,
                             shuffle=False,  # the batches shuffle themselves
                             callbacks=[exact, *callbacks])

    def predict(self, model: Any, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """``model.predict`` under the distribution; ``x`` padded to split evenly, then cut."""
        _keras_jax()
        self._check_batch(batch_size)
        if self.num_processes > 1:  # outputs would span hosts: every process predicts alone
            plain = self.undistributed(model)
            return np.asarray(plain.predict(x, batch_size=batch_size, verbose=0))
        n = len(x)
        padded = -(-n // self.batch_shards) * self.batch_shards
        if padded > n:
            x = np.concatenate([x, np.repeat(x[:1], padded - n, axis=0)])
        with self.scope():
            out = model.predict(x, batch_size=batch_size, verbose=0)
        return np.asarray(out)[:n]

    # --- saving -------------------------------------------------------------------------------
    def undistributed(self, model: Any, rows: int | None = None) -> Any:
        """The same model on one device, its table cut back to ``rows``, ready to save.

        A collective: in a multi-process run every process must call it. ``rows`` defaults to
        the rows given to :meth:`embedding_layer` (remembered on the layer).
        """
        keras = _keras_jax()
        emb = _find_layer(model, self.table)
        rows = int(rows if rows is not None else getattr(emb, "_wordvecs_rows", emb.input_dim))
        config = model.get_config()
        for layer in config["layers"]:
            if layer["config"].get("name") == self.table:
                layer["config"]["input_dim"] = rows
        values = [_to_host(w.value) for w in model.weights]
        with _no_distribution(keras):
            plain = model.__class__.from_config(config)
            for w, v in zip(plain.weights, values, strict=True):
                w.assign(v[:rows] if w.shape[0] != v.shape[0] else v)
        return plain


def plan(mode: str, *, mesh: str | Sequence[int] | None = None, coordinator: str | None = None,
         num_processes: int | None = None, process_id: int | None = None,
         table: str = "embedding") -> Plan:
    """A :class:`Plan` for ``mode`` ``"data"`` or ``"model"`` over every device of every process.

    ``mesh`` (``"BATCHxMODEL"``) defaults to all devices on the batch axis for ``"data"``, and for
    ``"model"`` to one batch shard per process and each process's devices on the model axis
    (a table's rows then stay within a host, which saving needs). ``coordinator``,
    ``num_processes``, ``process_id``: join a multi-process run first (see :func:`initialize`).
    """
    if mode not in MODES:
        raise DistributeError(f"unknown distribution {mode!r}; expected one of {', '.join(MODES)}")
    keras = _keras_jax()
    initialize(coordinator, num_processes, process_id)
    import jax

    devices = keras.distribution.list_devices()
    n = len(devices)
    if mesh is None:
        shape = (n, 1) if mode == "data" else (jax.process_count(), jax.local_device_count())
    else:
        shape = parse_mesh(mesh)
    if shape[0] * shape[1] != n:
        raise DistributeError(f"mesh {shape[0]}x{shape[1]} needs {shape[0] * shape[1]} devices; "
                              f"there are {n}")
    if mode == "data" and shape[1] != 1:
        raise DistributeError(f"--distribute data replicates the model: the mesh is {n}x1, not "
                              f"{shape[0]}x{shape[1]} (use --distribute model to shard)")
    dm = keras.distribution
    if mode == "data":
        mesh_ = dm.DeviceMesh((n,), ["batch"], devices)
        dist = dm.DataParallel(device_mesh=mesh_, auto_shard_dataset=False)
    else:
        mesh_ = dm.DeviceMesh(shape, ["batch", "model"], devices)
        layout = dm.LayoutMap(mesh_)
        layout[f"{table}/embeddings"] = ("model", None)  # exact key: rows over `model`
        dist = dm.ModelParallel(layout_map=layout, batch_dim_name="batch",
                                auto_shard_dataset=False)
    return Plan(mode, dist, shape[0], shape[1], table)


def from_options(distribute: str | None, mesh: str | None = None, coordinator: str | None = None,
                 num_processes: int | None = None, process_id: int | None = None) -> Plan | None:
    """The plan ``wordvecs train --distribute ... --mesh ... --coordinator ...`` asks for."""
    if distribute is None:
        given = [name for name, v in (("--mesh", mesh), ("--coordinator", coordinator),
                                      ("--num-processes", num_processes),
                                      ("--process-id", process_id)) if v is not None]
        if given:
            verb = "needs" if len(given) == 1 else "need"
            raise DistributeError(f"{', '.join(given)} {verb} --distribute data or model")
        return None
    return plan(distribute, mesh=mesh, coordinator=coordinator, num_processes=num_processes,
                process_id=process_id)


# --- helpers ------------------------------------------------------------------------------------
@contextlib.contextmanager
def _no_distribution(keras: Any) -> Iterator[None]:
    current = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(current)


def _find_layer(model: Any, name: str) -> Any:
    for layer in model.layers:
        if layer.name == name:
            return layer
    raise DistributeError(f"the model has no layer named {name!r} (the table the plan shards)")


def _place(variable: Any, matrix: Any, rows: int) -> None:
    """Fill a sharded variable from ``matrix`` one device shard at a time; rows past ``rows``: 0."""
    import jax

    old = variable.value
    sharding = old.sharding
    shape = tuple(old.shape)
    dtype = np.dtype(old.dtype)
    old.delete()  # the zeros go before the table comes: one table on the devices at a time
    groups: dict[tuple[int, int], list[Any]] = {}  # row span -> the devices that hold it
    for device, index in sharding.addressable_devices_indices_map(shape).items():
        start = index[0].start or 0
        stop = shape[0] if index[0].stop is None else index[0].stop
        groups.setdefault((start, stop), []).append(device)
    placed = {}
    for (start, stop), devices in groups.items():
        block = np.zeros((stop - start, shape[1]), dtype=dtype)  # one shard on the host at a time
        if start < rows:
            block[: min(stop, rows) - start] = matrix[start:min(stop, rows)]
            _release(matrix, start, min(stop, rows))
        for device in devices:
            placed[device] = jax.device_put(block, device).block_until_ready()
        del block
    arrays = [placed[d] for d in sharding.addressable_devices_indices_map(shape)]
    value = jax.make_array_from_single_device_arrays(shape, sharding, arrays)
    variable._value = value  # same shape and layout: what assign() would store, without a copy


def _weigh_metrics(model: Any) -> None:
    """Recompile so that ``metrics`` count sample weights (the padding rows weigh 0).

    Keras' ``metrics`` ignore sample weights; the same metrics as ``weighted_metrics`` give the
    same numbers on unpadded batches (every weight 1) and the real rows' numbers on a padded one.
    """
    cfg = getattr(getattr(model, "_compile_config", None), "config", None)
    if not cfg or not cfg.get("metrics"):
        return
    metrics = cfg["metrics"]
    if isinstance(metrics, dict):
        return  # per-output metrics: left as they are
    weighted = list(cfg.get("weighted_metrics") or [])
    model.compile(**{**cfg, "metrics": None, "weighted_metrics": weighted + list(metrics)})


def _release(matrix: Any, start: int, stop: int) -> None:
    """Drop rows just copied from a memory map out of this process's resident memory."""
    mm = getattr(matrix, "_mmap", None)
    if mm is None or not hasattr(mm, "madvise") or not matrix.flags.c_contiguous:
        return
    import mmap

    try:
        base = np.frombuffer(mm, dtype=np.uint8).ctypes.data  # where the map starts
        row = matrix.strides[0]
        first = matrix.ctypes.data - base + start * row
        lo = first - first % mmap.PAGESIZE
        hi = min(matrix.ctypes.data - base + stop * row, len(mm))
        if hi > lo:
            mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
    except (OSError, ValueError, TypeError):  # pragma: no cover - best effort
        pass


def _to_host(value: Any) -> np.ndarray:
    if getattr(value, "is_fully_addressable", True):
        return np.asarray(value)
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(value, tiled=True))


def _global_permutation(n: int) -> np.ndarray:
    """``np.random.permutation(n)`` (what Keras' fit draws), process 0's in every process."""
    order = np.random.permutation(n)
    import jax

    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        order = np.asarray(multihost_utils.broadcast_one_to_all(order))
    return order


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order of ``n`` rows in ``epoch`` when :meth:`Plan.fit` shuffles (the same everywhere)."""
    return np.random.default_rng([seed, epoch]).permutation(n)


class _Batches:
    """A ``keras.utils.PyDataset`` of (x, y, sample_weight) whose batches split evenly."""

    def __new__(cls, keras: Any, plan: Plan, x: np.ndarray, y: np.ndarray, batch_size: int,
                shuffle: bool, seed: int | None) -> Any:
        x, y = np.asarray(x), np.asarray(y)
        if len(x) != len(y) or len(x) == 0:
            raise DistributeError(f"{len(x)} inputs for {len(y)} labels")

        class Batches(keras.utils.PyDataset):  # type: ignore[misc,name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.batch_size = batch_size
                self.epoch = 0  # set by _ExactEpochMetrics.on_epoch_begin
                self.order = np.arange(len(x))
                self._order_epoch = -1
                last = len(x) - (len(self) - 1) * batch_size
                self.last_real = last
                self.last_padded = -(-last // plan.batch_shards) * plan.batch_shards

            def __len__(self) -> int:
                return math.ceil(len(x) / batch_size)

            def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
                if shuffle and self._order_epoch != self.epoch:
                    self.order = (epoch_order(len(x), seed, self.epoch) if seed is not None
                                  else _global_permutation(len(x)))
                    self._order_epoch = self.epoch
                idx = self.order[i * batch_size:(i + 1) * batch_size]
                real = len(idx)
                padded = -(-real // plan.batch_shards) * plan.batch_shards
                weights = np.ones(padded, dtype=np.float32)
                if padded > real:
                    idx = np.concatenate([idx, np.repeat(idx[:1], padded - real)])
                    weights[:real] = padded / real
                    weights[real:] = 0.0
                local = plan.local_rows(padded)
                idx = idx[local]
                return x[idx], y[idx], weights[local]

        return Batches()


class _ExactEpochMetrics:
    """Takes the padding of the last batch back out of the epoch means Keras reports.

    Keras weighs each batch's metrics by its (padded) batch size: ``total += value * padded``.
    From the running means before and after the last batch this callback recovers that
    batch's value and re-weighs it by its real size, for training and validation metrics,
    before EarlyStopping and History read them.
    """

    def __new__(cls, keras: Any, train: Any, val: Any) -> Any:
        class Exact(keras.callbacks.Callback):  # type: ignore[misc,name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.seen: dict[str, list[dict[str, float]]] = {"train": [], "val": []}

            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                self.seen = {"train": [], "val": []}
                # The batches are made lazily, in the epoch that uses them; the order is drawn
                # at each epoch's first batch (Keras' fit also draws one while building the
                # model, which this mirrors: the batch it peeks at is drawn before this call).
                train.epoch, train._order_epoch = epoch, -1

            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                self._keep("train", train, logs)

            def on_test_batch_end(self, batch: int, logs: Any = None) -> None:
                self._keep("val", val, logs)

            def _keep(self, kind: str, data: Any, logs: Any) -> None:
                if data is None or data.last_padded == data.last_real or not logs:
                    return
                seen = self.seen[kind]
                seen.append({k: float(v) for k, v in logs.items()})
                del seen[:-2]

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                if logs is None:
                    return
                for kind, data, prefix in (("train", train, ""), ("val", val, "val_")):
                    seen = self.seen[kind]
                    if data is None or len(seen) < 2:
                        continue  # nothing padded, or a single batch (its mean is exact)
                    c0 = (len(data) - 1) * data.batch_size
                    r, p = data.last_real, data.last_padded
                    for k, m1 in seen[-1].items():
                        key = prefix + k
                        if key not in logs or k not in seen[-2]:
                            continue
                        t0 = seen[-2][k] * c0
                        last = (m1 * (c0 + p) - t0) / p
                        logs[key] = (t0 + last * r) / (c0 + r)

        return Exact()
