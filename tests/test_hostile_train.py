"""A saved classifier under attack or damage (issue 14 items 10, 14, 16): every bad folder is a
one-line error, never a wrong label, a hang or a traceback; and what is saved holds no pickle."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wordvecs
from test_train import TOPICS, config, make_data, make_vectors
from wordvecs.cli import cli
from wordvecs.errors import DataError, VocabularyError

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny classifier trained on unbalanced data (30 sport, 30 money, 15 tech)."""
    from wordvecs.training.train import run_experiment

    data = make_data()
    keep = [i for i, y in enumerate(data.labels) if y != "tech" or i % 2 == 0]
    out = tmp_path_factory.mktemp("run") / "clf"
    run_experiment(data.subset(keep), make_vectors(), config(modes=("frozen",),
                   fractions=(1.0,), epochs=3), out=out, progress=False)
    return out


@pytest.fixture
def clf_dir(run_dir: Path, tmp_path: Path) -> Path:
    """A fresh copy to damage."""
    return Path(shutil.copytree(run_dir, tmp_path / "clf"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rewrite(folder: Path, name: str, content: bytes | str, *, fix_digest: bool = True) -> None:
    """Replace a file; with ``fix_digest`` also its digest, as a deliberate attacker would."""
    data = content.encode() if isinstance(content, str) else content
    (folder / name).write_bytes(data)
    if fix_digest and name != "classifier.json":
        meta = json.loads((folder / "classifier.json").read_text())
        meta["sha256"][name] = _sha(folder / name)
        (folder / "classifier.json").write_text(json.dumps(meta))


def _one_line_error(folder: Path) -> str:
    r = CliRunner().invoke(cli, ["predict", str(folder), "goal match"])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.output, r.output
    return lines[0]


def test_reordered_vocabulary_is_caught_by_the_digest(clf_dir: Path) -> None:
    v = json.loads((clf_dir / "vocabulary.json").read_text())
    v["words"] = v["words"][::-1]  # same size: only the digest can tell
    _rewrite(clf_dir, "vocabulary.json", json.dumps(v), fix_digest=False)
    with pytest.raises(DataError, match=r"vocabulary.json: changed since it was saved"):
        wordvecs.load_classifier(clf_dir)
    assert "changed since it was saved" in _one_line_error(clf_dir)


def test_labels_abc_refused_with_or_without_digest(clf_dir: Path) -> None:
    _rewrite(clf_dir, "labels.json", '"abc"', fix_digest=False)
    assert "labels.json: changed since it was saved" in _one_line_error(clf_dir)
    _rewrite(clf_dir, "labels.json", '"abc"')  # three characters, three outputs: no shape check
    assert "labels.json: expected a list of non-empty strings" in _one_line_error(clf_dir)


@pytest.mark.parametrize("name,edit,message", [
    ("labels.json", lambda x: [*x, "extra"], "predicts 3 classes but there are 4 labels"),
    ("labels.json", lambda x: [x[0], x[0], x[1]], "labels must be distinct"),
    ("labels.json", lambda x: [x[0], 1, x[2]], "expected a list of non-empty strings"),
    ("vocabulary.json", lambda v: {**v, "words": [*v["words"], "zzz"], "counts": [*v["counts"], 1]},
     "Embedding has .* rows but the vocabulary has"),
    ("vocabulary.json", lambda v: {**v, "tokenizer": {"pattern": r"(\w+\s?)+$"}},
     "regular expression"),
    ("vocabulary.json", lambda v: {**v, "words": [*v["words"][:-1], 7]}, "expected a string"),
    ("classifier.json", lambda m: {**m, "max_len": "20"}, "max_len must be a positive integer"),
    ("classifier.json", lambda m: {**m, "prior": [1, 0]}, "prior must be 3 non-negative"),
    ("classifier.json", lambda m: {**m, "format": 9}, "classifier format 9"),
    ("classifier.json", lambda m: [m], "expected a JSON object"),
])
def test_damaged_fields_refused(clf_dir: Path, name: str, edit, message: str  # type: ignore[no-untyped-def]
                                ) -> None:
    _rewrite(clf_dir, name, json.dumps(edit(json.loads((clf_dir / name).read_text()))))
    with pytest.raises((DataError, VocabularyError), match=message):
        wordvecs.load_classifier(clf_dir)


def test_deeply_nested_json(clf_dir: Path) -> None:
    _rewrite(clf_dir, "labels.json", "[" * 100_000 + "]" * 100_000)
    assert "nested too deeply" in _one_line_error(clf_dir)


def _rezip(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members = edit(members)
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)


def test_keras_config_naming_a_module_is_one_line_exit_2(clf_dir: Path) -> None:
    def edit(m: dict[str, bytes]) -> dict[str, bytes]:
        cfg = json.loads(m["config.json"])
        layer = cfg["config"]["layers"][1]
        layer["module"], layer["class_name"] = "os", "system"
        return {**m, "config.json": json.dumps(cfg).encode()}

    _rezip(clf_dir / "model.keras", edit)
    _rewrite(clf_dir, "model.keras", (clf_dir / "model.keras").read_bytes())
    line = _one_line_error(clf_dir)
    assert "names the module 'os'" in line and "model.keras" in line


@pytest.mark.parametrize("key,value", [("input_dim", 10_000_000), ("output_dim", 10_000_000),
                                       ("input_dim", -1), ("input_dim", "20")])
def test_keras_config_sizes_checked_before_keras_builds(clf_dir: Path, key: str, value,  # type: ignore[no-untyped-def]
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A 1.2 MB folder whose config declares an Embedding of 10,000,000 rows (digest
    recomputed) peaked at 6.7 GB: Keras built the layer before anything compared it with the
    vocabulary. The sizes are now checked against the weights file first; Keras is never called."""
    import keras

    def edit(m: dict[str, bytes]) -> dict[str, bytes]:
        cfg = json.loads(m["config.json"])
        emb = next(la for la in cfg["config"]["layers"] if la["class_name"] == "Embedding")
        emb["config"][key] = value
        return {**m, "config.json": json.dumps(cfg).encode()}

    _rezip(clf_dir / "model.keras", edit)
    _rewrite(clf_dir, "model.keras", (clf_dir / "model.keras").read_bytes())

    def never(*args, **kw):  # type: ignore[no-untyped-def]
        raise AssertionError("Keras was asked to build the crafted model")

    monkeypatch.setattr(keras.saving, "load_model", never)
    with pytest.raises(DataError, match=r"declares at least .* weights but its weights file"):
        wordvecs.load_classifier(clf_dir)


def test_keras_file_with_extra_member_or_not_a_zip(clf_dir: Path) -> None:
    _rezip(clf_dir / "model.keras", lambda m: {**m, "evil.pkl": b"\x80\x04K\x01."})
    _rewrite(clf_dir, "model.keras", (clf_dir / "model.keras").read_bytes())
    assert "not a Keras model file" in _one_line_error(clf_dir)
    _rewrite(clf_dir, "model.keras", b"PK\x03\x04 not really")
    assert "not a Keras model file" in _one_line_error(clf_dir)


def test_keras_loader_failure_is_one_line(clf_dir: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def edit(m: dict[str, bytes]) -> dict[str, bytes]:
        # as long as the real weights (a shorter file is refused before Keras, by size)
        size = len(m["model.weights.h5"])
        return {**m, "model.weights.h5": b"\x89HDF\r\n\x1a\n" + b"\0" * (size - 8)}

    _rezip(clf_dir / "model.keras", edit)
    _rewrite(clf_dir, "model.keras", (clf_dir / "model.keras").read_bytes())
    # the NumPy forward pass reads the weights first (issue 26): one line too, naming the file
    assert "model.keras: its weights file cannot be read" in _one_line_error(clf_dir)
    monkeypatch.setenv("WORDVECS_FORWARD", "keras")
    assert "model.keras: Keras cannot load it" in _one_line_error(clf_dir)


def test_keras_warnings_do_not_come_before_the_one_line_error(
        clf_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 24, item 7: for two crafted folders Keras printed its warnings before the one-line
    error; what Keras says while it fails on a file is left out of the answer."""
    import warnings

    import keras

    def warn_then_fail(*args, **kw):  # type: ignore[no-untyped-def]
        warnings.warn("Skipping variable loading for layer 'dense'", UserWarning, stacklevel=1)
        warnings.warn("A total of 3 objects could not be loaded", UserWarning, stacklevel=1)
        raise ValueError("Layer 'dense' expected 2 variables, but received 0 variables")

    monkeypatch.setattr(keras.saving, "load_model", warn_then_fail)
    monkeypatch.setenv("WORDVECS_FORWARD", "keras")  # the NumPy pass would not call Keras
    line = _one_line_error(clf_dir)
    assert "Keras cannot load it (ValueError: Layer 'dense' expected 2 variables" in line


def test_no_known_token_gives_the_training_prior(run_dir: Path) -> None:
    clf = wordvecs.load_classifier(run_dir)
    # 30 money, 30 sport, 15 tech; the split keeps each class's share in training.
    assert clf.labels == ["money", "sport", "tech"]
    assert clf.prior == pytest.approx([21 / 52, 21 / 52, 10 / 52])
    proba = clf.predict_proba(["zzz qqq !!", "goal match team"])
    assert np.all(np.isfinite(proba))
    assert proba[0] == pytest.approx(clf.prior)
    details = clf.predict_details(["zzz qqq", "goal zzz"])
    assert details[0].from_prior and details[0].known_tokens == 0 and details[0].tokens == 2
    assert not details[1].from_prior and details[1].known_tokens == 1
    assert details[0].label in ("money", "sport")
    r = CliRunner().invoke(cli, ["predict", str(run_dir), "zzz qqq"])
    assert r.exit_code == 0 and "nan" not in r.output
    assert "no word the vocabulary knows; answered with the training prior" in r.output


def test_save_refuses_to_replace_and_never_deletes_foreign_files(run_dir: Path,
                                                                 tmp_path: Path) -> None:
    clf = wordvecs.load_classifier(run_dir)
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "notes.txt").write_text("mine")
    clf.save(dst)
    with pytest.raises(DataError, match="already holds a saved classifier"):
        clf.save(dst)
    clf.save(dst, overwrite=True)
    assert (dst / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in dst.iterdir()) == sorted(
        ["notes.txt", "model.keras", "vocabulary.json", "labels.json", "classifier.json"])
    assert wordvecs.load_classifier(dst).predict(["goal match"])[0][0] == "sport"
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="not a folder"):
        clf.save(tmp_path / "file")


def test_saved_classifier_holds_no_pickle(run_dir: Path) -> None:
    """Every file is JSON or a .keras zip of JSON and HDF5 whose datasets are all numeric."""
    import io

    import h5py

    names = sorted(p.name for p in run_dir.iterdir())
    assert names == ["classifier.json", "labels.json", "model.keras", "vocabulary.json"]
    for p in run_dir.iterdir():
        data = p.read_bytes()
        assert not data.startswith(b"\x80"), p  # every pickle protocol >= 2 starts so
        if p.suffix == ".json":
            json.loads(data)
            continue
        with zipfile.ZipFile(p) as zf:
            assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
            json.loads(zf.read("config.json"))
            json.loads(zf.read("metadata.json"))
            h5 = zf.read("model.weights.h5")
        assert h5.startswith(b"\x89HDF\r\n\x1a\n")
        kinds: list[str] = []

        def visit(_: str, obj: object, kinds: list[str] = kinds) -> None:
            if isinstance(obj, h5py.Dataset):
                kinds.append(obj.dtype.kind)

        with h5py.File(io.BytesIO(h5), "r") as f:
            f.visititems(visit)
            assert not f.attrs.keys() or all(
                np.asarray(v).dtype.kind != "O" for v in f.attrs.values())
        assert kinds and set(kinds) <= {"f", "i", "u"}, kinds


def test_predicts_the_topics(run_dir: Path) -> None:
    clf = wordvecs.load_classifier(run_dir)
    texts = [" ".join(ws[:5]) for ws in TOPICS.values()]
    assert [y for y, _ in clf.predict(texts)] == list(TOPICS)
