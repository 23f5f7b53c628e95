"""Saving a classifier over what is already there (issue 24, items 1 and 3).

A save never writes through a link nor replaces a file of the user's without ``overwrite``, an
earlier classifier's ``subwords/`` does not outlive it, and a loader racing a save gets one whole
classifier (the old or the new), never the labels of one with the model of the other.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import wordvecs
from test_train import config, make_data, make_vectors
from wordvecs.errors import DataError, WriteError
from wordvecs.training.classifier import Classifier

pytestmark = pytest.mark.keras

TEXTS = ["goal match team", "bank money market", "code software chip"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from wordvecs.training.train import run_experiment

    out = tmp_path_factory.mktemp("run") / "clf"
    run_experiment(make_data(), make_vectors(), config(modes=("frozen",), fractions=(1.0,),
                   epochs=30), out=out, progress=False)
    return out


def _with_subwords(clf):  # type: ignore[no-untyped-def]
    """The classifier with a small hand-made fastText subword table (dim of its Embedding)."""
    from wordvecs.subwords import FastTextSubwords, SubwordParams
    from wordvecs.training.subword_predict import SubwordFallback

    dim = next(la for la in clf.model.layers
               if la.__class__.__name__ == "Embedding").output_dim
    words = clf.vocabulary.words
    table = np.random.default_rng(3).standard_normal((len(words) + 50, dim)).astype(np.float32)
    sw = FastTextSubwords(table, SubwordParams(minn=2, maxn=3, bucket=50, nwords=len(words)),
                          list(words))
    return Classifier(clf.model, clf.vocabulary, clf.labels, clf.max_len,
                               prior=clf.prior,
                               subwords=SubwordFallback.from_vectors(sw, words))


def _permuted(clf):  # type: ignore[no-untyped-def]
    """The same classifier with its labels (and the output units) in another order: the same
    answers, so a label list from one save and a model from the other give wrong labels."""
    import keras

    order = [2, 0, 1]
    model = keras.models.clone_model(clf.model)
    model.set_weights(clf.model.get_weights())
    last = model.layers[-1]
    kernel, bias = last.get_weights()
    last.set_weights([kernel[:, order], bias[order]])
    return Classifier(model, clf.vocabulary, [clf.labels[i] for i in order],
                               clf.max_len, prior=clf.prior[order])


def test_save_never_writes_through_links_in_subwords(trained: Path, tmp_path: Path) -> None:
    clf = _with_subwords(wordvecs.load_classifier(trained))
    victim, victim2 = tmp_path / "victim.txt", tmp_path / "victim2.txt"
    victim.write_text("precious")
    victim2.write_text("precious too")
    dst = tmp_path / "d"
    (dst / "subwords").mkdir(parents=True)
    os.symlink(victim, dst / "subwords" / "subwords.json")
    os.symlink(victim2, dst / "subwords" / "subwords.entry_bytes.npy")
    with pytest.raises(DataError, match=r"already holds a saved classifier \(subwords\)"):
        clf.save(dst)
    clf.save(dst, overwrite=True)  # the old subwords/ is swapped out whole, links and all
    assert victim.read_text() == "precious" and victim2.read_text() == "precious too"
    assert not any(p.is_symlink() for p in (dst / "subwords").iterdir())
    back = wordvecs.load_classifier(dst)
    assert back.subwords is not None
    assert np.allclose(back.predict_proba(TEXTS), clf.predict_proba(TEXTS), atol=1e-6)


def test_save_never_replaces_a_link_or_a_users_file(trained: Path, tmp_path: Path) -> None:
    clf = _with_subwords(wordvecs.load_classifier(trained))
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    for name in ("model.keras", "labels.json", "classifier.json"):
        dst = tmp_path / f"link-{name}"
        dst.mkdir()
        os.symlink(victim, dst / name)
        with pytest.raises(DataError, match="already holds a saved classifier"):
            clf.save(dst)
        with pytest.raises(WriteError, match="symbolic link"):
            clf.save(dst, overwrite=True)
        assert victim.read_text() == "precious"
        assert sorted(p.name for p in dst.iterdir()) == [name]  # nothing else left behind
    # a file of the user's inside subwords/: refused without --force, never touched
    dst = tmp_path / "mine"
    (dst / "subwords").mkdir(parents=True)
    (dst / "subwords" / "subwords.table.npy").write_bytes(b"my own bytes")
    with pytest.raises(DataError, match="already holds a saved classifier"):
        clf.save(dst)
    assert (dst / "subwords" / "subwords.table.npy").read_bytes() == b"my own bytes"
    # a folder of the user's under that name is never replaced, even with overwrite
    (dst / "subwords" / "notes.txt").write_text("mine")
    with pytest.raises(WriteError, match=r"never deletes"):
        clf.save(dst, overwrite=True)
    assert (dst / "subwords" / "notes.txt").read_text() == "mine"


def test_resave_without_subwords_removes_the_old_table(trained: Path, tmp_path: Path) -> None:
    plain = wordvecs.load_classifier(trained)
    dst = tmp_path / "d"
    _with_subwords(plain).save(dst)
    assert (dst / "subwords").is_dir()
    (dst / "notes.txt").write_text("mine")
    plain.save(dst, overwrite=True)
    assert sorted(p.name for p in dst.iterdir()) == sorted(
        ["notes.txt", "model.keras", "vocabulary.json", "labels.json", "classifier.json"])
    assert wordvecs.load_classifier(dst).subwords is None
    assert "subwords" not in json.loads((dst / "classifier.json").read_text())


def test_train_with_a_link_in_subwords_refused_before_training(tmp_path: Path) -> None:
    """`wordvecs train -o d`: the check before any training refuses what a save may not
    replace, with --force too."""
    from click.testing import CliRunner

    from wordvecs.cli import cli

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "d"
    out.mkdir()
    os.symlink(victim, out / "classifier.json")
    data = tmp_path / "d.csv"
    d = make_data()
    data.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in zip(d.texts, d.labels)))
    r = CliRunner().invoke(cli, ["train", str(data), "--vectors", str(tmp_path / "none.txt"),
                                 "--out", str(out), "--force"])
    assert r.exit_code == 2 and "symbolic link" in r.output, r.output
    assert victim.read_text() == "precious"


@pytest.mark.parametrize("forward", ["keras", "numpy"])
def test_a_load_racing_a_save_never_mixes_two_classifiers(trained: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          forward: str) -> None:
    """A loader that reads labels.json of save A and model.keras of save B (B: the same model
    with labels and output units permuted) gave wrong labels with no error: the save B lands
    in the middle of the load, deterministically, just before Keras (or the NumPy forward pass,
    issue 26) reads the model."""
    import wordvecs.training.classifier as clf_mod

    a = wordvecs.load_classifier(trained)
    b = _permuted(a)
    truth = [p[0] for p in a.predict(TEXTS)]
    assert [p[0] for p in b.predict(TEXTS)] == truth
    assert b.labels != a.labels
    dst = tmp_path / "d"
    a.save(dst)
    monkeypatch.setenv("WORDVECS_FORWARD", forward)
    hooked = "_keras" if forward == "keras" else "load_forward"
    real = getattr(clf_mod, hooked)
    calls = {"n": 0}

    def save_b_then_read(*args):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            b.save(dst, overwrite=True)
        return real(*args)

    monkeypatch.setattr(clf_mod, hooked, save_b_then_read)
    loaded = wordvecs.load_classifier(dst)
    assert calls["n"] >= 1 and loaded.forward == forward
    assert [p[0] for p in loaded.predict(TEXTS)] == truth
    monkeypatch.setattr(clf_mod, hooked, real)
    assert wordvecs.load_classifier(dst).labels == b.labels


def test_a_killed_save_leaves_the_old_classifier_whole(trained: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A save that fails half-way (here: the disk fills while the labels are written) leaves
    the earlier classifier loadable and no temporary behind."""
    import wordvecs.training.classifier as clf_mod

    a = wordvecs.load_classifier(trained)
    dst = tmp_path / "d"
    a.save(dst)
    before = {p.name: p.read_bytes() for p in dst.iterdir()}

    def full(path, obj):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(clf_mod, "_write_json", full)
    with pytest.raises(WriteError, match="no space left"):
        _permuted(a).save(dst, overwrite=True)
    assert {p.name: p.read_bytes() for p in dst.iterdir()} == before
    assert wordvecs.load_classifier(dst).labels == a.labels
    shutil.rmtree(dst)
