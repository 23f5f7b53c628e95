"""A big table under ``--distribute model``: host memory to place it, and the cost of fine-tuning.

Each measurement runs in a fresh child process (JAX reads ``XLA_FLAGS`` once; peak memory is
per process) on simulated CPU devices, ``XLA_FLAGS=--xla_force_host_platform_device_count=8``:

* ``memory``: a ROWS x DIM float32 table saved as ``.npy``, opened memory-mapped, placed on a
  1x8 ``model`` mesh (rows over 8 shards) by ``Plan.embedding_layer`` (zeros, freed, then one
  shard at a time) against the naive ``Embedding(weights=[m])`` built inside the same
  distribution. Peak resident memory (``VmHWM`` from ``/proc/self/status``) minus the resident
  memory before the table, divided by the table's size.
* ``steps``: seconds per training step of a small classifier (mean pooling, softmax) with that
  table frozen and fine-tuned with Adam (a dense update of every row each step).

    PYTHONPATH=src python benchmarks/bench_distribute.py [--rows 1000000] [--dim 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def _child_memory(path: str, how: str) -> dict[str, float]:
    import keras

    import wordvecs.training.distribute as wd

    plan = wd.plan("model", mesh="1x8")
    m = np.load(path, mmap_mode="r")
    before = _status("VmRSS")
    t0 = time.perf_counter()
    with plan.scope():
        if how == "wordvecs":
            layer = plan.embedding_layer(m)
        else:
            layer = keras.layers.Embedding(m.shape[0], m.shape[1], weights=[m], trainable=False,
                                           name="embedding")
            layer.build()
    seconds = time.perf_counter() - t0
    value = layer.embeddings.value
    assert tuple(value.sharding.spec)[:1] == ("model",), value.sharding.spec
    assert float(np.asarray(value[-1:, :]).sum()) == float(m[-1].sum())
    return {"before": before, "peak": _status("VmHWM"), "after": _status("VmRSS"),
            "seconds": seconds}


def _child_steps(rows: int, dim: int, steps: int) -> dict[str, float]:
    import keras

    import wordvecs.training.distribute as wd

    plan = wd.plan("model", mesh="1x8")
    m = np.random.default_rng(0).standard_normal((rows, dim), dtype=np.float32)
    x = np.random.default_rng(1).integers(1, rows, size=(32 * (steps + 2), 50)).astype(np.int32)
    y = np.random.default_rng(2).integers(0, 4, size=len(x)).astype(np.int32)
    out = {}
    for mode in ("frozen", "finetune"):
        with plan.scope():
            inputs = keras.Input((50,), dtype="int32")
            h = plan.embedding_layer(m, trainable=mode == "finetune")(inputs)
            h = keras.layers.GlobalAveragePooling1D()(h)
            model = keras.Model(inputs, keras.layers.Dense(4, activation="softmax")(h))
            model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
            model.fit(x[:64], y[:64], batch_size=32, epochs=1, verbose=0)  # compile, warm up
            t0 = time.perf_counter()
            model.fit(x[64:], y[64:], batch_size=32, epochs=1, verbose=0)
            out[mode] = (time.perf_counter() - t0) / steps
        del model
    return out


def _run_child(*args: str) -> dict[str, float]:
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
               KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, str(HERE), "--child", *args], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--skip-steps", action="store_true", help="memory only")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        kind, *rest = a.child
        res = (_child_memory(rest[0], rest[1]) if kind == "memory"
               else _child_steps(int(rest[0]), int(rest[1]), int(rest[2])))
        print(json.dumps(res))
        return

    size = a.rows * a.dim * 4
    print(f"table {a.rows:,} x {a.dim} float32 = {size / 2**30:.2f} GiB; 8 simulated CPU devices,"
          " mesh 1x8 (rows over 8 shards)")
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "table.npy")
        mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                       shape=(a.rows, a.dim))
        rng = np.random.default_rng(0)
        for start in range(0, a.rows, 100_000):
            stop = min(start + 100_000, a.rows)
            mm[start:stop] = rng.standard_normal((stop - start, a.dim), dtype=np.float32)
        mm.flush()
        del mm
        res = {how: _run_child("memory", path, how) for how in ("wordvecs", "naive")}
    for how, r in res.items():
        grow = r["peak"] - r["before"]
        print(f"  {how:<9} peak +{grow / 2**30:.2f} GiB = {grow / size:.2f}x the table, "
              f"held after +{(r['after'] - r['before']) / 2**30:.2f} GiB, {r['seconds']:.1f} s")
    ours = res["wordvecs"]["peak"] - res["wordvecs"]["before"]
    naive = res["naive"]["peak"] - res["naive"]["before"]
    print(f"  naive / wordvecs peak growth: {naive / ours:.2f}x; time "
          f"{res['naive']['seconds'] / res['wordvecs']['seconds']:.2f}x")
    if not a.skip_steps:
        s = _run_child("steps", str(a.rows), str(a.dim), str(a.steps))
        print(f"training step, batch 32 x 50 tokens, Adam: frozen {s['frozen'] * 1e3:.0f} ms, "
              f"fine-tuned {s['finetune'] * 1e3:.0f} ms ({s['finetune'] / s['frozen']:.0f}x)")


if __name__ == "__main__":
    main()
