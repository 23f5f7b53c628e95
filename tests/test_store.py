"""The store: memory-mapped opening, metadata, and atomic writes that never leave a half store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import wordvecs
from wordvecs import Vectors


def test_store_layout_and_metadata(tmp_path, small_vectors):
    path = small_vectors.save(tmp_path / "s.wv")
    assert sorted(p.name for p in path.iterdir()) == ["meta.json", "vectors.npy", "words.arrow"]
    meta = json.loads((path / "meta.json").read_text())
    assert meta["format"] == "wordvecs-store" and meta["version"] == 1
    assert (meta["count"], meta["dim"], meta["dtype"]) == (10, 8, "float32")
    assert set(meta["files"]) == {"vectors.npy", "words.arrow"}
    assert all(len(f["sha256"]) == 64 for f in meta["files"].values())
    # plain numpy reads the matrix without pickle
    m = np.load(path / "vectors.npy", allow_pickle=False)
    assert m.tobytes() == small_vectors.matrix.tobytes()


def test_store_opens_memory_mapped(tmp_path, small_vectors):
    v = wordvecs.load(small_vectors.save(tmp_path / "s.wv"))
    assert isinstance(v._raw, np.memmap) and v.format == "store"
    assert v.matrix is v._raw  # no copy: C order already
    assert v.words == small_vectors.words
    assert v.lookup(["queen", "nope"]).tolist() == [2, -1]
    np.testing.assert_array_equal(v["naïve"], small_vectors["naïve"])


def test_store_lookup_of_many_words_uses_arrow(tmp_path):
    words = [f"w{i}" for i in range(5000)]
    v = Vectors(words, np.arange(10000, dtype=np.float32).reshape(5000, 2))
    s = wordvecs.load(v.save(tmp_path / "s.wv"))
    query = [f"w{i}" for i in range(0, 6000, 3)]
    expected = [i if i < 5000 else -1 for i in range(0, 6000, 3)]
    assert s.lookup(query).tolist() == expected
    assert s._index is None  # answered without building a dict


def test_store_format_argument(tmp_path, small_vectors):
    path = small_vectors.save(tmp_path / "s.wv")
    assert len(wordvecs.load(path, format="store")) == 10
    with pytest.raises(wordvecs.SourceError, match="not a wordvecs store"):
        wordvecs.load(tmp_path / "nothing.wv", format="store")


def test_overwrite_replaces_old_store(tmp_path, small_vectors):
    path = tmp_path / "s.wv"
    small_vectors.save(path)
    Vectors(["a"], np.ones((1, 3), np.float32)).save(path)
    assert wordvecs.load(path).words == ["a"]
    assert [p.name for p in tmp_path.iterdir()] == ["s.wv"]


def test_failed_save_leaves_nothing_and_keeps_old(tmp_path, small_vectors, monkeypatch):
    path = tmp_path / "s.wv"
    small_vectors.save(path)
    import wordvecs.formats.store as store

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(store, "_sha256", boom)
    with pytest.raises(OSError, match="disk full"):
        Vectors(["a"], np.ones((1, 3), np.float32)).save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["s.wv"]  # no temporary left behind
    monkeypatch.undo()
    assert wordvecs.load(path, verify=True).words == small_vectors.words


@pytest.mark.parametrize("fmt", ["glove", "word2vec-binary"])
def test_failed_text_save_leaves_no_file(tmp_path, small_vectors, monkeypatch, fmt):
    import wordvecs._atomic as atomic

    monkeypatch.setattr(atomic.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("nope")))
    with pytest.raises(OSError):
        small_vectors.save(tmp_path / "v.txt", format=fmt)
    assert list(tmp_path.iterdir()) == []


SAVER = """
import sys, numpy as np, wordvecs
v = wordvecs.Vectors([f"w{i}" for i in range(300000)],
                     np.random.default_rng(0).standard_normal((300000, 32)).astype(np.float32))
print("ready", flush=True)
while True:
    v.save(sys.argv[1])
"""


@pytest.mark.slow
def test_killed_save_never_leaves_a_store_that_loads_wrong(tmp_path):
    """SIGKILL a process in the middle of saves: the target is absent, or a complete store."""
    target = tmp_path / "k.wv"
    for delay in (0.05, 0.2, 0.45, 0.7):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(target)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if target.exists():
            v = wordvecs.load(target, verify=True)
            assert v.shape == (300000, 32)
        else:
            with pytest.raises(wordvecs.WordvecsError):
                wordvecs.load(target)
        leftovers = [p for p in tmp_path.iterdir() if p.name != "k.wv"]
        for p in leftovers:  # hidden temporaries: each is half-written and refused, or complete
            assert p.name.startswith(".k.wv.tmp-")
            try:
                v = wordvecs.load(p, format="store", verify=True)
            except wordvecs.WordvecsError:
                continue
            assert v.shape == (300000, 32)
