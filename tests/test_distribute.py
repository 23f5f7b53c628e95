"""wordvecs.training.distribute on 8 simulated CPU devices (JAX), against the single-device run.

JAX reads ``XLA_FLAGS`` once, when it starts, so the distributed work runs in child processes
(this file run as a script: ``python tests/test_distribute.py CASE OUT``) with
``--xla_force_host_platform_device_count`` and ``KERAS_BACKEND=jax`` set before anything
imports JAX. The children report what they measured (sharding, shapes, differences, weights) in
a JSON file or a ``.npz``; the tests below make the assertions.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# The children take minutes on a busy 2-core machine: they run once, in the plain `pytest` run
# (`make test`), not again in each backend's `pytest -m keras`.
slow = pytest.mark.slow

HERE = Path(__file__).resolve()
SRC = HERE.parents[1] / "src"
ROWS, DIM, LEN, CLASSES = 50, 8, 6, 3


def _child_env(devices: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
               KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]))
    for k in [k for k in env if k.startswith("KERAS_DISTRIBUTION_")]:
        del env[k]
    return env


def _run(case: str, out: Path, *args: str, devices: int = 8, timeout: int = 600) -> None:
    proc = subprocess.run([sys.executable, str(HERE), case, str(out), *args],
                          env=_child_env(devices), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One child with 8 devices runs every single-process case (JAX starts once)."""
    out = tmp_path_factory.mktemp("dist")
    _run("single", out)
    facts = json.loads((out / "facts.json").read_text())
    facts["dir"] = out
    return facts


# --- what the tests assert ------------------------------------------------------------------------
@slow
def test_table_sharded_by_rows_uneven_rows_padded(single: dict[str, Any]) -> None:
    t = single["table"]
    assert t["spec"] == ["model", None]
    assert t["global_shape"] == [50_004, 4]  # 50,001 rows padded to a multiple of 4 shards
    # mesh 2x4: 8 shards, each a quarter of the rows, each row block held by 2 devices
    assert sorted(map(tuple, t["shard_shapes"])) == [(12_501, 4)] * 8
    assert sorted(t["row_starts"]) == [0, 0, 12_501, 12_501, 25_002, 25_002, 37_503, 37_503]
    assert t["real_rows_equal"] is True
    assert t["padding_rows_zero"] is True
    assert t["layer_input_dim"] == 50_004
    assert t["undistributed_rows"] == 50_001
    assert single["data_plan_spec"] == [None, None]  # data parallel: the table replicated


@slow
@pytest.mark.parametrize("run", ["model-2x4", "model-1x8", "data-8"])
def test_trained_weights_and_predictions_equal_single_device(single: dict[str, Any],
                                                             run: str) -> None:
    r = single["runs"][run]
    # 37 rows, batches of 8: the last batch (5 rows) does not split over 2 or 8 data shards
    assert r["last_batch"] == {"real": 5, "padded": {"model-2x4": 6, "model-1x8": 5,
                                                     "data-8": 8}[run]}
    assert r["weights_max_diff"] < 1e-6
    assert r["predictions_max_diff"] < 1e-6
    assert r["weights_changed"] > 1e-3  # it did train (fine-tuned table and head)
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        assert r["history_max_diff"][key] < 1e-6, key
    if run.startswith("model"):
        assert r["table_spec_after_fit"] == ["model", None]
        assert r["adam_slot_specs"] == [["model", None], ["model", None]]


@slow
def test_padding_without_the_metric_fix_would_differ(single: dict[str, Any]) -> None:
    """Keras alone (no re-weighing) reports other epoch numbers for a padded last batch."""
    assert single["runs"]["model-2x4"]["unfixed_loss_diff"] > 1e-4


@slow
def test_scratch_starts_where_single_device_starts(single: dict[str, Any]) -> None:
    assert single["scratch_init_max_diff"] == 0.0


@slow
def test_keras_round_trip_loads_without_distribution(single: dict[str, Any]) -> None:
    keras = pytest.importorskip("keras")
    saved = np.load(single["dir"] / "expected.npz", allow_pickle=False)
    model = keras.saving.load_model(single["dir"] / "model.keras", compile=False)
    emb = model.get_layer("embedding")
    assert emb.input_dim == ROWS  # the padding rows are gone
    got = keras.ops.convert_to_numpy(model(saved["x"]))
    np.testing.assert_allclose(got, saved["predictions"], atol=1e-6)


@slow
def test_errors_are_clear(single: dict[str, Any]) -> None:
    e = single["errors"]
    assert e["mesh"] == "mesh 3x3 needs 9 devices; there are 8"
    assert e["batch"].startswith("batch size 12 does not split over 8 data shards")
    assert e["data_mesh"].startswith("--distribute data replicates the model")


@slow
def test_cli_train_distributed_equals_single_device(single: dict[str, Any]) -> None:
    c = single["cli"]
    assert c["codes"]["one"][0] == 0 and c["codes"]["dist"][0] == 0, c["codes"]
    assert c["modes"] == [["finetune"] * 2, ["scratch"] * 2]
    assert c["train_size"] % 32 != 0  # a last batch that is not full
    assert c["history_max_diff"] < 1e-6
    assert all(a == b for a, b in c["test_accuracy"])
    assert c["proba_max_diff"] < 1e-6
    code, output = c["no_distribute"]
    assert code == 2 and output.strip().splitlines() == [
        "Error: --mesh needs --distribute data or model"]


@pytest.mark.keras
def test_parse_mesh_and_backend_error() -> None:
    import wordvecs.training.distribute as wd

    assert wd.parse_mesh("2x4") == (2, 4)
    assert wd.parse_mesh("8") == (8, 1)
    for bad in ("2x", "ax4", "0x8", "1x2x3"):
        with pytest.raises(wd.DistributeError, match="mesh"):
            wd.parse_mesh(bad)
    keras = pytest.importorskip("keras")
    if keras.backend.backend() == "jax":
        pytest.skip("the backend error needs another backend")
    with pytest.raises(wd.DistributeError, match="set KERAS_BACKEND=jax"):
        wd.plan("model")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@slow
def test_two_processes_data_parallel(tmp_path: Path) -> None:
    """Two processes on 127.0.0.1 (2 devices each) train one model; process 0 alone saves."""
    port = str(_free_port())
    procs = [subprocess.Popen([sys.executable, str(HERE), "process", str(tmp_path), port, str(i)],
                              env=_child_env(2), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    try:
        errs = [p.communicate(timeout=180)[1] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0, 0], errs[0][-2000:] + errs[1][-2000:]
    w0 = np.load(tmp_path / "weights-0.npz", allow_pickle=False)
    w1 = np.load(tmp_path / "weights-1.npz", allow_pickle=False)
    assert sorted(w0.files) == sorted(w1.files)
    for k in w0.files:
        np.testing.assert_array_equal(w0[k], w1[k])
    facts = [json.loads((tmp_path / f"facts-{i}.json").read_text()) for i in range(2)]
    assert [(f["devices"], f["processes"]) for f in facts] == [(4, 2), (4, 2)]
    # each process feeds its half of every global batch of 8
    assert [f["local_rows"] for f in facts] == [[0, 4], [4, 8]]
    assert facts[0]["weights_vs_single_device"] < 1e-6
    assert sorted(p.name for p in (tmp_path / "clf").iterdir()) == [
        "classifier.json", "labels.json", "model.keras", "vocabulary.json"]
    assert "weights_vs_single_device" not in facts[1]  # process 1 neither saved nor compared


# --- the children ---------------------------------------------------------------------------------
def _data(n: int = 37, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((ROWS, DIM)).astype(np.float32)
    m[0] = 0
    x = rng.integers(0, ROWS, (n, LEN)).astype(np.int32)
    y = rng.integers(0, CLASSES, n).astype(np.int32)
    xv = rng.integers(0, ROWS, (13, LEN)).astype(np.int32)
    yv = rng.integers(0, CLASSES, 13).astype(np.int32)
    return m, x, y, xv, yv


def _model(keras: Any, emb: Any) -> Any:
    inputs = keras.Input((LEN,), dtype="int32")
    h = keras.layers.GlobalAveragePooling1D()(emb(inputs))
    h = keras.layers.Dense(16, activation="relu")(h)
    outputs = keras.layers.Dense(CLASSES, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _spec(value: Any) -> list[Any]:
    return list(value.sharding.spec) + [None] * (value.ndim - len(value.sharding.spec))


def _child_single(out: Path) -> None:
    import keras

    import wordvecs.training.distribute as wd
    from wordvecs.keras import embedding_layer

    facts: dict[str, Any] = {}
    # an uneven table: 50,001 rows over 4 model shards
    big = np.random.default_rng(1).standard_normal((50_001, 4)).astype(np.float32)
    plan = wd.plan("model", mesh="2x4")
    with plan.scope():
        layer = plan.embedding_layer(big)
    v = layer.embeddings.value
    host = np.asarray(v)
    facts["table"] = {
        "spec": _spec(v), "global_shape": list(v.shape),
        "shard_shapes": [list(s.data.shape) for s in v.addressable_shards],
        "row_starts": [s.index[0].start or 0 for s in v.addressable_shards],
        "real_rows_equal": bool(np.array_equal(host[:50_001], big)),
        "padding_rows_zero": not host[50_001:].any(), "layer_input_dim": layer.input_dim}
    keras.utils.set_random_seed(0)
    with plan.scope():
        inputs = keras.Input((LEN,), dtype="int32")
        emb = plan.embedding_layer(big)
        small = keras.Model(inputs, emb(inputs))
    facts["table"]["undistributed_rows"] = plan.undistributed(small).layers[1].input_dim
    data_plan = wd.plan("data")
    with data_plan.scope():
        facts["data_plan_spec"] = _spec(data_plan.embedding_layer(big).embeddings.value)

    m, x, y, xv, yv = _data()
    runs: dict[str, Any] = {}
    keras.utils.set_random_seed(3)
    ref = _model(keras, embedding_layer(m, trainable=True, mask_zero=True, name="embedding"))
    before = [w.copy() for w in ref.get_weights()]
    ref_hist = ref.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0,
                       validation_data=(xv, yv)).history
    ref_w = ref.get_weights()
    ref_pred = np.asarray(ref.predict(xv, verbose=0))
    for name, mode, mesh in (("model-2x4", "model", "2x4"), ("model-1x8", "model", "1x8"),
                             ("data-8", "data", None)):
        p = wd.plan(mode, mesh=mesh)
        keras.utils.set_random_seed(3)
        with p.scope():
            model = _model(keras, p.embedding_layer(m, trainable=True, mask_zero=True))
        hist = p.fit(model, x, y, batch_size=8, epochs=2, shuffle=False,
                     validation_data=(xv, yv)).history
        plain = p.undistributed(model)
        w = plain.get_weights()
        train_batches = wd._Batches(keras, p, x, y, 8, False, 0)
        r = {"last_batch": {"real": train_batches.last_real,
                            "padded": train_batches.last_padded},
             "weights_max_diff": max(float(np.abs(a - b).max()) for a, b in zip(w, ref_w)),
             "weights_changed": max(float(np.abs(a - b).max()) for a, b in zip(w, before)),
             "predictions_max_diff": float(np.abs(p.predict(model, xv, 8) - ref_pred).max()),
             "history_max_diff": {k: float(np.abs(np.subtract(hist[k], ref_hist[k])).max())
                                  for k in ref_hist}}
        if mode == "model":
            table = model.get_layer("embedding").embeddings
            r["table_spec_after_fit"] = _spec(table.value)
            r["adam_slot_specs"] = [_spec(s.value) for s in model.optimizer.variables
                                    if tuple(s.shape) == tuple(table.shape)]
        if name == "model-2x4":
            plain.save(out / "model.keras")
            np.savez(out / "expected.npz", x=xv, predictions=np.asarray(plain(xv)))
            # the same run with Keras' own numbers (no re-weighing of the padded batch)
            keras.utils.set_random_seed(3)
            with p.scope():
                model = _model(keras, p.embedding_layer(m, trainable=True, mask_zero=True))
                unfixed = model.fit(wd._Batches(keras, p, x, y, 8, False, 0), epochs=2,
                                    shuffle=False, verbose=0).history
            r["unfixed_loss_diff"] = float(np.abs(np.subtract(unfixed["loss"],
                                                              ref_hist["loss"])).max())
        runs[name] = r
    facts["runs"] = runs

    keras.utils.set_random_seed(5)
    single_init = keras.ops.convert_to_numpy(keras.layers.Embedding(ROWS, DIM)(
        np.arange(ROWS)))
    keras.utils.set_random_seed(5)
    facts["scratch_init_max_diff"] = float(np.abs(plan.random_table(ROWS, DIM)
                                                  - single_init).max())

    errors = {}
    for key, call in (("mesh", lambda: wd.plan("model", mesh="3x3")),
                      ("batch", lambda: wd.plan("data").fit(ref, x, y, batch_size=12)),
                      ("data_mesh", lambda: wd.plan("data", mesh="2x4"))):
        try:
            call()
        except wd.DistributeError as exc:
            errors[key] = str(exc)
    facts["errors"] = errors
    facts["cli"] = _child_cli(out)
    (out / "facts.json").write_text(json.dumps(facts))


def _child_cli(out: Path) -> dict[str, Any]:
    """``wordvecs train`` with and without ``--distribute model --mesh 2x4``."""
    import csv

    from click.testing import CliRunner

    from test_train import make_data, make_vectors
    from wordvecs.cli import cli
    from wordvecs.training.train import load_classifier

    d = make_data()
    data = out / "news.csv"
    with open(data, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("text", "label"), *zip(d.texts, d.labels)])
    vec = make_vectors().save(out / "tiny.txt", format="glove")
    reports, probs, codes = {}, {}, {}
    for name, extra in (("one", []), ("dist", ["--distribute", "model", "--mesh", "2x4"])):
        r = CliRunner().invoke(cli, ["train", str(data), "--vectors", str(vec), "--model", "avg",
                                     "--epochs", "2", "--modes", "finetune,scratch",
                                     "--no-baselines", "--out", str(out / name), "-q", *extra])
        codes[name] = [r.exit_code, r.output[-2000:]]
        if r.exit_code == 0:
            reports[name] = json.loads((out / name / "report.json").read_text())
            probs[name] = load_classifier(out / name).predict_proba(d.texts[:20])
    facts: dict[str, Any] = {"codes": codes}
    if len(reports) == 2:
        one, dist = reports["one"]["runs"], reports["dist"]["runs"]
        facts["modes"] = [[a["mode"], b["mode"]] for a, b in zip(one, dist)]
        facts["history_max_diff"] = max(
            float(np.abs(np.subtract(a["history"][k], b["history"][k])).max())
            for a, b in zip(one, dist) for k in a["history"])
        facts["test_accuracy"] = [[a["test_accuracy"], b["test_accuracy"]]
                                  for a, b in zip(one, dist)]
        facts["proba_max_diff"] = float(np.abs(probs["one"] - probs["dist"]).max())
        facts["train_size"] = one[0]["train_size"]
    r = CliRunner().invoke(cli, ["train", str(data), "--vectors", str(vec), "--mesh", "2x4",
                                 "--out", str(out / "bad")])
    facts["no_distribute"] = [r.exit_code, r.output]
    return facts


def _child_process(out: Path, port: str, pid: str) -> None:
    import keras

    import wordvecs.training.distribute as wd
    from wordvecs.keras import embedding_layer
    from wordvecs.text.datasets import Vocabulary
    from wordvecs.training.train import Classifier

    p = wd.plan("data", coordinator=f"127.0.0.1:{port}", num_processes=2, process_id=int(pid))
    m, x, y, _, _ = _data(n=32)
    keras.utils.set_random_seed(3)
    with p.scope():
        model = _model(keras, p.embedding_layer(m, trainable=True, mask_zero=True))
    p.fit(model, x, y, batch_size=8, epochs=2, shuffle=True, seed=4)
    plain = p.undistributed(model)  # every process: a collective
    weights = plain.get_weights()
    np.savez(out / f"weights-{pid}.npz", **{f"w{i}": w for i, w in enumerate(weights)})
    rows = p.local_rows(8)
    facts: dict[str, Any] = {"devices": len(keras.distribution.list_devices()),
                             "processes": p.num_processes, "local_rows": [rows.start, rows.stop]}
    if p.is_chief:
        texts = [" ".join(f"w{i}" for i in range(k, k + 3)) for k in range(ROWS)]
        vocab = Vocabulary.from_texts(texts, ROWS)
        Classifier(plain, vocab, [str(c) for c in range(CLASSES)], LEN).save(out / "clf")
        # the same training on one device, the same shuffling (the batches' own permutation)
        keras.utils.set_random_seed(3)
        with wd._no_distribution(keras):
            ref = _model(keras, embedding_layer(m, trainable=True, mask_zero=True,
                                                name="embedding"))
            for epoch in range(2):
                order = wd.epoch_order(len(x), 4, epoch)
                ref.fit(x[order], y[order], batch_size=8, epochs=1, shuffle=False, verbose=0)
        diff = max(float(np.abs(a - b).max()) for a, b in zip(weights, ref.get_weights()))
        facts["weights_vs_single_device"] = diff
    (out / f"facts-{pid}.json").write_text(json.dumps(facts))


if __name__ == "__main__":
    case, target = sys.argv[1], Path(sys.argv[2])
    if case == "single":
        _child_single(target)
    elif case == "process":
        _child_process(target, sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(f"unknown case {case!r}")
