"""The store's word index (version 3): the first lookup needs no dict, and a damaged or crafted
index can only miss a word, never give another word's vector."""

from __future__ import annotations

import hashlib
import json
import zlib

import numpy as np
import pytest

import wordvecs
from wordvecs import Vectors
from wordvecs.errors import StoreError, WordNotFound
from wordvecs.formats import store as st
from wordvecs.formats import store_index as si

# "plumless" and "buckeroo" share their whole crc32; the rest mixes scripts, NUL, space, emoji
WORDS = ["the", "plumless", "buckeroo", "naïve", "Ünïcödé", "日本語", "a\x00b", " ", "😀", "",
         "The", "x" * 300, "e\u0301", "é", "İ", "ß", "ss"]


def _vectors(words: list[str] = WORDS) -> Vectors:
    """Row i is all i: a wrong row is always a wrong vector."""
    n = len(words)
    return Vectors(list(words), np.repeat(np.arange(n, dtype=np.float32)[:, None], 4, axis=1))


def _meta(path) -> dict:
    return json.loads((path / "meta.json").read_text())


def _write_meta(path, meta: dict) -> None:
    (path / "meta.json").write_text(json.dumps(meta))


def _forge(path, name: str, data: bytes) -> None:
    """Replace ``name`` with ``data``, its size and digest updated in meta.json."""
    (path / name).write_bytes(data)
    meta = _meta(path)
    meta["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    _write_meta(path, meta)


def _npy(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _no_dict(monkeypatch) -> None:
    def refuse(self):
        raise AssertionError("the dict of every word was built")

    monkeypatch.setattr(Vectors, "key_to_index", property(refuse))


@pytest.fixture
def store(tmp_path):
    return _vectors().save(tmp_path / "s.wv")


def test_a_saved_store_carries_the_index(store):
    meta = _meta(store)
    assert meta["version"] == 3 and "index.npy" in meta["files"]
    table = np.load(store / "index.npy", allow_pickle=False)
    assert table.dtype == np.dtype("<i4") and len(table) == meta["index"]["slots"] >= 2 * len(WORDS)
    assert sorted(table[table >= 0].tolist()) == list(range(len(WORDS)))


def test_the_first_lookup_builds_no_dict(store, monkeypatch):
    _no_dict(monkeypatch)
    v = wordvecs.load(store)
    assert isinstance(v._stored, si.StoreIndex) and isinstance(v._raw, np.memmap)
    first = {w: i for i, w in enumerate(WORDS)}
    for w, i in first.items():
        assert v[w].tolist() == [i] * 4, w
        assert w in v and v.index(w) == i and v.has_index_for(w) and v.get_index(w) == i
        assert v.get(w).tolist() == [i] * 4
    assert v.lookup([*first, "nope"]).tolist() == [*first.values(), -1]
    assert v._words is None  # the words were never turned into a list either


@pytest.mark.parametrize("word", ["nope", "THE", "plumles", "\ud800", "the ", "x" * 299])
def test_a_missing_word_is_a_key_error(store, word):
    v = wordvecs.load(store)
    assert word not in v and v.get(word) is None and v.lookup([word]).tolist() == [-1]
    with pytest.raises(WordNotFound):
        v[word]
    with pytest.raises(KeyError):
        v.index(word)


def test_a_miss_builds_no_dict_and_still_suggests(store, monkeypatch):
    """A missing word's suggestion (the chain's case step) asks the index too."""
    _no_dict(monkeypatch)
    v = wordvecs.load(store)
    with pytest.raises(WordNotFound, match=r"'NAÏVE' not in vocabulary \(did you mean 'naïve'\?\)"):
        v["NAÏVE"]
    assert v.get("THE", fallback=True).tolist() == [0] * 4
    assert v._index is None


def test_other_keys_are_not_words(store, monkeypatch):
    assert _vectors().lookup([5, None, b"the", "the"]).tolist() == [-1, -1, -1, 0]  # (the dict)
    _no_dict(monkeypatch)
    v = wordvecs.load(store)
    assert 5 not in v and None not in v and b"the" not in v
    assert v.lookup([5, None, b"the", "the"]).tolist() == [-1, -1, -1, 0]
    assert v[1].tolist() == [1] * 4  # an int is a row, as in gensim


def test_a_duplicate_word_is_found_at_its_first_row(tmp_path):
    """A word listed twice: no index (a table cannot prove a row is a word's first), so the store
    is written as before and the dict gives the first row."""
    words = ["a", "b", "a", "c", "a", "b"]
    path = _vectors(words).save(tmp_path / "d.wv")
    assert _meta(path)["version"] == 1 and not (path / "index.npy").exists()
    v = wordvecs.load(path)
    assert (v.index("a"), v.index("b"), v.index("c")) == (0, 1, 3)
    assert v["a"].tolist() == [0] * 4 and v["b"].tolist() == [1] * 4


def test_words_on_one_probe_path_all_look_up_right(tmp_path):
    """Many words on one start slot (the table is 2**k slots; crc32 picks the start): each is
    found at its own row after the others on its path."""
    pool = [f"w{i}" for i in range(4000)]
    home = [zlib.crc32(w.encode()) & 63 for w in pool]
    words = [*[w for w, h in zip(pool, home) if h == 5][:20], "z", *pool[:9]]
    v = wordvecs.load(_vectors(words).save(tmp_path / "c.wv"))
    assert _meta(tmp_path / "c.wv")["index"]["slots"] == 64
    for i, w in enumerate(words):
        assert v.index(w) == words.index(w) and v[w].tolist() == [words.index(w)] * 4, i


def test_every_flipped_byte_of_the_index_never_gives_a_wrong_row(store):
    """Flip each byte of the table in turn: every word then gives its own vector, a KeyError
    (missed), or a StoreError naming index.npy; never another word's vector. ``verify`` sees it."""
    good = (store / "index.npy").read_bytes()
    header = len(good) - 4 * _meta(store)["index"]["slots"]
    first = {w: i for i, w in enumerate(WORDS)}
    missed = 0
    for at in range(header, len(good)):
        for flip in (0x01, 0x80):
            data = bytearray(good)
            data[at] ^= flip
            (store / "index.npy").write_bytes(bytes(data))
            v = wordvecs.load(store)
            for w, i in first.items():
                try:
                    got = v[w]
                except KeyError:
                    missed += 1
                    continue
                except StoreError as exc:
                    assert "index.npy: damaged store" in str(exc)
                    continue
                assert got.tolist() == [i] * 4, (at, flip, w)
    assert missed  # the damage was seen by some lookups
    with pytest.raises(StoreError, match=r"index\.npy: damaged store: sha256"):
        wordvecs.load(store, verify=True)


@pytest.mark.parametrize("fill", [0, 3, 10])
def test_a_table_of_one_row_everywhere_finds_only_that_row(store, fill):
    """Every slot forged to one row: that row's word is found, the others miss, and a probe for
    an absent word stops though no slot is empty."""
    slots = _meta(store)["index"]["slots"]
    _forge(store, "index.npy", _npy(np.full(slots, fill, dtype="<i4")))
    v = wordvecs.load(store)
    for i, w in enumerate(WORDS):
        if i == fill:
            assert v[w].tolist() == [fill] * 4 and v.index(w) == fill
        else:
            assert w not in v and v.get(w) is None and v.lookup([w]).tolist() == [-1]
    assert "absent" not in v
    with pytest.raises(KeyError):
        v[WORDS[fill + 1]]


def test_a_row_past_the_end_is_a_store_error(store):
    slots = _meta(store)["index"]["slots"]
    _forge(store, "index.npy", _npy(np.full(slots, 10**6, dtype="<i4")))
    with pytest.raises(StoreError, match=r"index.npy: damaged store: row 1000000"):
        wordvecs.load(store)["the"]


@pytest.mark.parametrize("data, message", [
    (_npy(np.zeros(64, np.int64)), "dtype int64 where the metadata says int32"),
    (_npy(np.zeros(32, "<i4")), r"shape \(32,\) where the metadata says \(64,\)"),
    (_npy(np.zeros((8, 8), "<i4")), r"shape \(8, 8\)"),
    (_npy(np.zeros(64, ">i4")), "little-endian"),
    (b"\x93NUMPY", "not a readable .npy file"),
])
def test_a_forged_index_file_is_refused_on_open(store, data, message):
    assert _meta(store)["index"]["slots"] == 64
    _forge(store, "index.npy", data)
    with pytest.raises(StoreError, match="index.npy: damaged store.*" + message):
        wordvecs.load(store)


@pytest.mark.parametrize("edit, message", [
    (lambda m: m["index"].update(max_probe=si.MAX_PROBE + 1), "max_probe <= 512"),
    (lambda m: m["index"].update(max_probe=-1), "max_probe is -1"),
    (lambda m: m["index"].update(slots=48), "index of 48 slots"),
    (lambda m: m["index"].update(slots=16), "index of 16 slots"),
    (lambda m: m["index"].update(hash="fnv1a"), "hash 'crc32'"),
    (lambda m: m["index"].update(file="../x.npy"), "file 'index.npy'"),
    (lambda m: m.pop("index"), "index=None"),
    (lambda m: m["files"].pop("index.npy"), "files="),
    (lambda m: m.update(version=2), "not part of the layout"),
])
def test_forged_index_metadata_is_refused(store, edit, message):
    meta = _meta(store)
    edit(meta)
    _write_meta(store, meta)
    with pytest.raises(StoreError, match=message):
        wordvecs.load(store)


def test_an_old_version_store_opens_and_builds_its_dict(tmp_path):
    old = st.write_store(_vectors(), tmp_path / "old.wv", index=False)
    meta = _meta(old)
    assert meta["version"] == 1 and set(meta["files"]) == {"vectors.npy", "words.arrow"}
    v = wordvecs.load(old, verify=True)
    assert v._stored is None and v._index is None
    assert v["naïve"].tolist() == [3] * 4 and v._index is not None  # the dict, built lazily
    with pytest.raises(KeyError):
        v["nope"]


def test_a_version_3_store_with_its_index_taken_out_is_a_version_2_store(store):
    meta = _meta(store)
    meta.update(version=2)
    meta.pop("index")
    meta["files"].pop("index.npy")
    _write_meta(store, meta)
    (store / "index.npy").unlink()
    v = wordvecs.load(store, verify=True)
    assert v._stored is None and v.index("buckeroo") == 2 and v.words == WORDS


def test_an_older_reader_names_the_version(store, monkeypatch):
    monkeypatch.setattr(st, "READ_VERSIONS", (1, 2))
    with pytest.raises(StoreError, match="store format version 3; this wordvecs reads version 1 "
                                         "or 2"):
        wordvecs.load(store)


def test_words_that_collide_too_much_are_written_without_an_index(tmp_path, monkeypatch):
    monkeypatch.setattr(si, "MAX_PROBE", 0)
    words = ["plumless", "buckeroo"]  # one crc32: the second lies one slot on
    path = _vectors(words).save(tmp_path / "c.wv")
    assert _meta(path)["version"] == 1 and not (path / "index.npy").exists()
    assert wordvecs.load(path).index("buckeroo") == 1


def _bad_offsets_store(path) -> None:
    import pyarrow as pa

    offsets = np.array([0, 2, 9, 4, 8, 10], np.int32)  # out of order: Arrow would crash on them
    words = pa.Array.from_buffers(pa.string(), 5, [None, pa.py_buffer(offsets),
                                                   pa.py_buffer(b"w0w1w2w3w4")])
    sink = pa.BufferOutputStream()
    table = pa.table({"word": words})
    with pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    _forge(path, "words.arrow", sink.getvalue().to_pybytes())


def test_the_offsets_check_of_a_big_store_waits_for_the_words(tmp_path, monkeypatch):
    """Over _EAGER_WORDS words the offsets are checked when the words are first used as a whole,
    not at open (a flat open); lookups check the spans they read."""
    path = _vectors([f"w{i}" for i in range(5)]).save(tmp_path / "b.wv")
    _bad_offsets_store(path)
    with pytest.raises(StoreError, match="word offsets out of order"):
        wordvecs.load(path)  # a small store: checked at open, as before
    monkeypatch.setattr(st, "_EAGER_WORDS", 0)
    v = wordvecs.load(path)
    assert v["w0"].tolist() == [0] * 4  # its span is sound
    for w in ("w1", "w2"):  # w1's span is 2:9, w2's 9:4: neither is read as a word
        assert w not in v and v.get(w) is None
    for use in (lambda: v.words, lambda: v.head(2), lambda: list(v), lambda: v.key_to_index,
                lambda: v["w1"]):  # a miss looks for a suggestion in the words
        with pytest.raises(StoreError, match=r"words\.arrow: damaged store: word offsets"):
            use()
    with pytest.raises(StoreError, match="word offsets out of order"):
        wordvecs.load(path, verify=True)


def test_a_store_of_many_words_matches_the_vectors_in_memory(tmp_path, monkeypatch):
    rng = np.random.default_rng(7)
    letters = list("abcdéfghïjklmnopqrstuvwxyz日本")
    words = list(dict.fromkeys("".join(rng.choice(letters, size=rng.integers(0, 9)))
                               for _ in range(3000)))
    mem = Vectors(words, rng.standard_normal((len(words), 5)).astype(np.float32))
    monkeypatch.setattr(st, "_EAGER_WORDS", 0)
    v = wordvecs.load(mem.save(tmp_path / "m.wv"))
    queries = [*words[::7], "absent", "zz" * 9, ""]
    assert v.lookup(queries).tolist() == mem.lookup(queries).tolist()
    for w in words[:500]:
        np.testing.assert_array_equal(v[w], mem[w])
    assert v._index is None  # all through the index
    assert v.words == words and v.key_to_index == mem.key_to_index


def test_a_vector_is_a_copy(store):
    v = wordvecs.load(store)
    got = v["the"]
    got[:] = 99
    assert v["the"].tolist() == [0] * 4 and got.flags.writeable
    mem = _vectors()
    got = mem["the"]
    got[:] = 99
    assert mem["the"].tolist() == [0] * 4
