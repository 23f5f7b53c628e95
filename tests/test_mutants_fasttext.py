"""Tests written for mutation testing (issue 16) of ``formats/fasttext.py`` and ``subwords.py``.

Each asserts behaviour against the real peers (fasttext-modern's and floret's own n-grams, hashes
and vectors) or against the file format's definition; the models are the ones ``test_fasttext``
trains (``WORDVECS_TEST_MODELS=DIR`` keeps them between runs).
"""

from __future__ import annotations

import numpy as np
import pytest

import test_fasttext
import wordvecs
from wordvecs import FormatError
from wordvecs.formats.fasttext import read_floret_text, read_model
from wordvecs.formats.text import ReadOptions
from wordvecs.sources import open_source
from wordvecs.subwords import (
    FLORET_SEED,
    FastTextSubwords,
    SubwordParams,
    fnv1a,
    ngrams,
    word_rows,
)

fasttext = pytest.importorskip("fasttext")
models, kernel, _peer = test_fasttext.models, test_fasttext.kernel, test_fasttext._peer

WORDS = ["kalomi", "日本ßa", "zzzz", "a", "ab", "x y", "naïveté", "😀ka", "KALO", "ka" * 20,
         "é", "日", "ßßß", "q"]


def test_ngrams_equal_fasttext_get_subwords(models):
    m = fasttext.load_model(str(models["u"]))  # minn 2, maxn 4
    for w in WORDS:
        grams = [g.decode("utf-8") for g in ngrams(f"<{w}>".encode(), 2, 4)]
        peer = list(m.get_subwords(w)[0])
        if w in m.words:
            peer = peer[1:]
        assert grams == peer, w


LONG = ["kalomineruta" * 4, "日本ßa" * 9, "x" * 31, "y" * 32, "z" * 33, "qu" * 24]


@pytest.fixture(scope="session")
def floret4(models):
    """A floret model with hashCount 4 (every half of MurmurHash3's 128 bits is a row)."""
    floret = pytest.importorskip("floret")
    from test_fasttext import _train

    path = models["u"].parent / "f4.bin"
    if not path.exists():
        src = models["u"].parent / "u.txt"
        _train(floret.train_unsupervised, src, dim=3, epoch=1, minn=2, maxn=5, bucket=50021,
               mode="floret", hashCount=4).save_model(str(path))
    return path


def _compiled():
    ft = wordvecs.subwords.compiled_kernel()
    if ft is None:
        pytest.skip("the compiled kernel is not built")
    return ft


@pytest.mark.parametrize("name", ["u", "s", "ftz", "ftz2", "floret", "floret_ft", "floret4"])
def test_word_rows_equal_the_peers_subword_ids(models, floret4, name):
    path = floret4 if name == "floret4" else models[name]
    v = wordvecs.load(path)
    peer = _peer(path)
    sw = v.subwords
    for w in WORDS + LONG + v.words[:30]:
        if w == "</s>" and sw.params.floret:
            continue  # floret's get_subwords(str) leaves out EOS's row 0; its vector has it
        rows = word_rows(sw.params, w.encode(), sw.ids.get(w, -1), sw.prune)
        assert rows == peer.get_subwords(w)[1].tolist(), w


def test_floret_hash_count_4_bit_for_bit(floret4, kernel):
    v = wordvecs.load(floret4)
    peer = _peer(floret4)
    assert v.subwords.params.hash_count == 4
    words = WORDS + LONG + v.words[:20]
    got, mask = v.subwords.word_vectors(words)
    assert np.array_equal(got, np.array([peer.get_word_vector(w) for w in words]))
    assert mask.all()


def test_vectors_and_mask_dtypes(models, kernel):
    v = wordvecs.load(models["u"])
    got, mask = v.subwords.word_vectors(WORDS)
    assert got.dtype == np.float32 and mask.dtype == np.bool_ and got.shape == (len(WORDS), 10)


def test_word_vector_is_the_peers(models):
    v = wordvecs.load(models["u"])
    peer = _peer(models["u"])
    for w in ("kalomiqu", v.words[4], "日本"):
        got = v.subwords.word_vector(w)
        assert got.shape == (10,) and np.array_equal(got, peer.get_word_vector(w))


def test_compiled_kernel_switch(monkeypatch):
    monkeypatch.setenv("WORDVECS_PURE_PYTHON", "1")
    assert wordvecs.subwords.compiled_kernel() is None
    monkeypatch.delenv("WORDVECS_PURE_PYTHON")
    import importlib.util

    built = importlib.util.find_spec("wordvecs._ftkernel") is not None
    assert (wordvecs.subwords.compiled_kernel() is not None) == built


def test_table_must_be_2d_float32():
    p = SubwordParams(minn=2, maxn=3, bucket=4, nwords=0)
    for bad in (np.zeros(4, dtype=np.float32), np.zeros((4, 2), dtype=np.float64)):
        with pytest.raises(ValueError, match=r"^table must be a 2-D float32 array$"):
            FastTextSubwords(bad, p, [])


@pytest.mark.parametrize("name", ["u", "ftz"])
def test_repr_and_describe(models, name):
    v = wordvecs.load(models[name])
    peer = _peer(models[name])
    rows = peer.get_input_matrix().shape[0] if name == "u" else len(v.subwords.table)
    sw = v.subwords
    assert f"rows={rows:,} dim=10>" in repr(sw) and "fnv1a minn=2 maxn=4" in repr(sw)
    d = sw.describe()
    assert d["rows"] == rows and d["bucket"] == peer.f.getArgs().bucket
    if name == "ftz":  # the prune index keeps rows - nwords buckets
        assert d["pruned_to"] == rows - len(peer.words)
    else:
        assert "pruned_to" not in d and "hash_count" not in d


def _hand_made(prune_size: int, prune, nrows: int, seed: int = FLORET_SEED, floret=False):
    rng = np.random.default_rng(4)
    table = rng.standard_normal((nrows, 3)).astype(np.float32)
    p = SubwordParams(minn=2, maxn=4, bucket=20, nwords=2, prune_size=prune_size, seed=seed,
                      hash="murmur3" if floret else "fnv1a", hash_count=3 if floret else 1)
    return FastTextSubwords(table, p, ["ab", "cd"], prune)


def _both(sw, words, monkeypatch):
    _compiled()
    c = sw.word_vectors(words)
    monkeypatch.setenv("WORDVECS_PURE_PYTHON", "1")
    py = sw.word_vectors(words)
    monkeypatch.delenv("WORDVECS_PURE_PYTHON")
    return c, py


def test_pruned_to_zero_and_one_same_as_compiled(monkeypatch):
    words = ["ab", "cd", "abc", "zzzq", "日本"]
    none = _hand_made(0, np.zeros(0, dtype=np.int32), 2)
    assert word_rows(none.params, b"abc", 1, none.prune) == [1]  # every n-gram pruned
    assert none.describe()["pruned_to"] == 0
    one = np.full(20, -1, dtype=np.int32)
    one[[fnv1a(b"<z") % 20]] = 0
    for sw in (none, _hand_made(1, one, 3), _hand_made(1, one, 3, floret=True)):
        c, py = _both(sw, words, monkeypatch)
        assert np.array_equal(c[0], py[0]) and np.array_equal(c[1], py[1])
    rows = word_rows(_hand_made(1, one, 3).params, b"zzzq", -1, one)
    kept = fnv1a(b"<z") % 20  # the one bucket kept: row nwords + 0 for each n-gram in it
    assert rows == [2 for g in ngrams(b"<zzzq>", 2, 4) if fnv1a(g) % 20 == kept] and rows


def test_seed_and_short_table_same_as_compiled(monkeypatch):
    words = ["ab", "cd", "abcdef", "zzzq", "日本", "x" * 40]
    for sw in (_hand_made(-1, None, 22, seed=7, floret=True),
               _hand_made(-1, None, 9, floret=True), _hand_made(-1, None, 9)):
        c, py = _both(sw, words, monkeypatch)
        assert np.array_equal(c[0], py[0]) and np.array_equal(c[1], py[1])
    a = _hand_made(-1, None, 22, seed=7, floret=True)
    b = _hand_made(-1, None, 22, floret=True)
    assert word_rows(a.params, b"abcdef", -1) != word_rows(b.params, b"abcdef", -1)


def test_fortran_order_table(models, kernel):
    v = wordvecs.load(models["u"])
    sw = v.subwords
    f = FastTextSubwords(np.asfortranarray(sw.table), sw.params, sw.entries, sw.prune)
    assert np.array_equal(f.word_vectors(WORDS)[0], sw.word_vectors(WORDS)[0])
    peer = _peer(models["u"])
    assert np.array_equal(f.word_vectors(["kalomi"])[0][0], peer.get_word_vector("kalomi"))


# --- floret's text table: what it accepts and where its errors point ---------------------------
def _floret_text(tmp_path, header: str, rows: list[str], name="t.floret", end="\n"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + end)
    return path


def _err(path) -> FormatError:
    with pytest.raises(FormatError) as err:
        read_floret_text(open_source(path), options=ReadOptions())
    return err.value


def test_floret_text_bounds_and_exact_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("WORDVECS_PURE_PYTHON", "1")
    rows = ["0 0.5", "1 -1.25", "2 2"]
    for hc in (1, 4):  # dim 1, hashCount 1 and 4, maxn 1024 are all allowed
        v = wordvecs.load(_floret_text(tmp_path, f"3 1 2 1024 {hc} 7 < >", rows), format="floret")
        assert v.format == "floret" and v.source.endswith("t.floret") and len(v) == 0
        assert v.matrix.shape == (0, 1) and v.subwords.params.hash_count == hc
        assert np.array_equal(v.subwords.table, np.array([[0.5], [-1.25], [2]], np.float32))
        assert v.subwords.params.seed == 7 and v.subwords.params.maxn == 1024
    blank = _floret_text(tmp_path, "3 1 2 4 1 7 < >", ["", *rows, ""])  # blank lines skipped
    table = read_floret_text(open_source(blank), options=ReadOptions()).subwords.table
    assert np.array_equal(table[:, 0], [0.5, -1.25, 2])


@pytest.mark.parametrize(("header", "rows", "line", "expected", "found"), [
    ("3 1 2 4 1 7 <", [], 1, "a floret header 'bucket dim minn maxn hashCount hashSeed BOW EOW'",
     "b'3 1 2 4 1 7 <'"),
    ("3 1 2 4 x 7 < >", [], 1, "a floret header", "b'3 1 2 4 x 7 < >'"),
    ("3 1 2 4 1 7 [ ]", [], 1, "BOW '<' and EOW '>'", "b'[ ]'"),
    ("3 0 2 4 1 7 < >", [], 1, "dim 1..1048576, hashCount 1..4, bucket > 0", "3 0 2 4 1 7 < >"),
    ("3 1 2 4 0 7 < >", [], 1, "dim 1..1048576", None),
    ("3 1 2 4 5 7 < >", [], 1, "dim 1..1048576", None),
    ("3 1 2 1025 1 7 < >", [], 1, "dim 1..1048576", None),
    ("3 1 2 4 1 4294967296 < >", [], 1, "dim 1..1048576", None),
    ("0 1 2 4 1 7 < >", [], 1, "dim 1..1048576", None),
    ("3 1 2 4 1 7 < >", ["0 1", "1 2"], 4, "3 rows of an index and 1 values", "2 rows"),
    ("3 1 2 4 1 7 < >", ["0 1", "1 2 3", "2 1"], 3, "3 rows of an index and 1 values",
     "2 values"),
    ("3 1 2 4 1 7 < >", ["0 1", "1 zz", "2 1"], 3, "1 numbers", None),
    ("3 1 2 4 1 7 < >", ["0 1", "2 1", "1 1"], 3, "row index 1", "b'2'"),
])
def test_floret_text_errors_name_the_line(tmp_path, header, rows, line, expected, found):
    e = _err(_floret_text(tmp_path, header, rows))
    assert e.line == line and e.expected.startswith(expected)
    if found is not None:
        assert e.found == found
    assert "t.floret" in str(e)


def test_floret_text_header_only(tmp_path):
    e = _err(_floret_text(tmp_path, "2 1 2 4 1 7 < >", [], end=""))  # no newline at all
    assert e.line == 2 and e.found == "0 rows"
    e = _err(_floret_text(tmp_path, "3 1 2 4 1 7 < >", [], name="h.floret"))
    assert e.found == "0 rows" and "h.floret" in str(e)
    e = _err(_floret_text(tmp_path, "3 0 2 4 1 7 < >", [], end=""))
    assert e.detail == "absurd header" and e.line == 1


@pytest.mark.parametrize("name", ["u", "s", "ftz", "floret"])
def test_header_fields_equal_the_peers_args(models, name):
    h = read_model(open_source(models[name]))[0]
    a = _peer(models[name]).f.getArgs()
    for field in ("dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "bucket", "minn", "maxn",
                  "lrUpdateRate"):
        assert getattr(h, field) == getattr(a, field), field
    assert h.fields["t"] == a.t and int(h.fields["loss"]) == int(a.loss)
    assert h.model == {"u": "skipgram", "s": "supervised", "ftz": "supervised",
                       "floret": "skipgram"}[name] and h.version == 12
    if name == "floret":
        assert (h.mode, h.hashCount) == (int(a.mode), a.hashCount)


def test_header_errors_name_offset_expected_found(models, tmp_path):
    import struct

    data = models["tiny"].read_bytes()

    def err(blob: bytes) -> FormatError:
        path = tmp_path / "h.bin"
        path.write_bytes(blob)
        with pytest.raises(FormatError) as e:
            read_model(open_source(path))
        return e.value

    e = err(struct.pack("<i", 12345) + data[4:])
    assert (e.offset, e.expected, e.found) == (0, "the fastText magic number 793712314", "12345")
    e = err(data[:6])  # cut inside the version
    assert (e.offset, e.expected) == (6, "a format version") and "ends early" in str(e)
    e = err(data[:2])
    assert (e.offset, e.expected) == (2, "the fastText magic number 793712314")
    bad = bytearray(data)
    struct.pack_into("<i", bad, 8, 0)  # dim 0: neither fastText's nor floret's layout
    e = err(bytes(bad))
    assert e.offset == 8 and e.detail == "inconsistent header" and "dim 1..1048576" in e.expected
    bad = bytearray(data)
    struct.pack_into("<i", bad, 8 + 4 * 8, 0)  # bucket 0 while maxn = 3
    e = err(bytes(bad))
    assert (e.offset, e.expected, e.found) == (40, "a bucket count > 0 (maxn > 0)", "0")
