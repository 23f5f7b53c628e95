"""Tests written from the mutation run of formats/store.py and store_index.py (survivors)."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import wordvecs
from wordvecs import Vectors
from wordvecs.errors import StoreError
from wordvecs.formats import store as st
from wordvecs.formats import store_index as si


def _index(words: pa.Array, check=lambda: None) -> si.StoreIndex:
    built = si.build_index(words.to_pylist())
    assert built is not None
    table, probe = built
    return si.StoreIndex(table, words, probe, Path("s.wv/index.npy"), check)


# --- store_index.StoreIndex ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_an_index_over_a_slice_of_words_finds_their_rows(kind):
    """A sliced Arrow array starts at ``offset`` and has more offsets behind it: only its own
    ``n + 1`` are read."""
    whole = pa.array(["zero", "one", "two", "three", "four"], type=kind)
    index = _index(whole.slice(1, 3))
    assert [index.find(w) for w in ["one", "two", "three"]] == [0, 1, 2]
    assert index.find("zero") is None and index.find("four") is None


def test_offsets_of_no_whole_items_are_a_store_error():
    """An offsets buffer whose size is no multiple of 8 bytes (Arrow accepts one longer than
    needed): one StoreError naming the count, not a TypeError."""
    offsets = np.array([0, 2], dtype="<i8").tobytes() + bytes(4)
    words = pa.Array.from_buffers(pa.large_string(), 1,
                                  [None, pa.py_buffer(offsets), pa.py_buffer(b"ab")])
    table = np.full(2, -1, dtype="<i4")
    with pytest.raises(StoreError) as err:
        si.StoreIndex(table, words, 0, Path("s.wv/index.npy"), lambda: None)
    assert str(err.value) == "s.wv/words.arrow: damaged store: 0 word offsets for 1 words"


def test_an_empty_store_opens_with_its_index(tmp_path):
    path = st.write_store(Vectors([], np.zeros((0, 3), dtype=np.float32)), tmp_path / "e.wv")
    assert st._parse_meta((path / "meta.json").read_bytes(), path)["version"] == 3
    v = wordvecs.load(path)
    assert len(v) == 0 and "a" not in v
    with pytest.raises(KeyError):
        v["a"]


def test_the_deferred_check_of_the_words_runs_once():
    calls = []
    index = _index(pa.array(["a", "b"], type=pa.large_string()), lambda: calls.append(1))
    index.check_words()
    index.check_words()
    assert calls == [1]


class _NoData:
    """An Arrow-like string array of one word whose bytes buffer is missing (Arrow's own arrays
    refuse one; a store's words are not checked in full until used)."""

    type = pa.large_string()
    offset = 0

    def __init__(self, end: int) -> None:
        self.end = end

    def __len__(self) -> int:
        return 1

    def buffers(self) -> list:
        return [None, pa.py_buffer(np.array([0, self.end], dtype="<i8").tobytes()), None]


def test_words_without_a_bytes_buffer_find_nothing_past_it():
    table = np.full(2, 0, dtype="<i4")  # every slot says row 0
    index = si.StoreIndex(table, _NoData(2), 1, Path("s.wv/index.npy"), lambda: None)
    assert index.find("XX") is None and index.find("ab") is None and index.find("") is None


def test_an_empty_word_without_a_bytes_buffer_is_found():
    table = np.full(2, 0, dtype="<i4")
    index = si.StoreIndex(table, _NoData(0), 0, Path("s.wv/index.npy"), lambda: None)
    assert index.find("") == 0 and index.find("a") is None


def test_a_probe_stops_after_max_probe_plus_one_slots():
    """``a`` lies one slot past its start, where ``b``'s row sits: found with max_probe 1, not 0."""

    start = zlib.crc32(b"a") & 3
    table = np.full(4, -1, dtype="<i4")
    table[start], table[(start + 1) & 3] = 1, 0
    words = pa.array(["a", "b"], type=pa.large_string())
    where = Path("s.wv/index.npy")
    assert si.StoreIndex(table, words, 0, where, lambda: None).find("a") is None
    assert si.StoreIndex(table, words, 1, where, lambda: None).find("a") == 0


def test_a_row_past_the_last_word_is_one_whole_error():

    table = np.full(2, 5, dtype="<i4")
    index = si.StoreIndex(table, pa.array(["a"], type=pa.large_string()), 0,
                          Path("s.wv/index.npy"), lambda: None)
    with pytest.raises(StoreError) as err:
        index.find("a")
    assert str(err.value) == (f"s.wv/index.npy: damaged store: row 5 in slot {zlib.crc32(b'a') & 1}"
                              " of a table for 1 words (wordvecs.load(..., verify=True) checks "
                              "every file)")


# --- store_index.build_index ---------------------------------------------------------------------

@pytest.mark.parametrize(("n", "slots"), [(0, 2), (1, 2), (2, 4), (3, 8), (4, 8), (5, 16),
                                          (8, 16), (9, 32)])
def test_the_table_is_the_least_power_of_two_at_least_twice_the_words(n, slots):
    table, _ = si.build_index([f"w{i}" for i in range(n)])
    assert table.shape == (slots,) and table.dtype == np.dtype("<i4")
    assert sorted(table[table >= 0].tolist()) == list(range(n))


def test_max_probe_is_the_longest_distance_from_a_word_s_start():
    assert si.build_index([])[1] == 0
    assert si.build_index(["a"])[1] == 0
    # "plumless" and "buckeroo" share their whole crc32: the second lies one slot on
    table, probe = si.build_index(["plumless", "buckeroo"])
    assert probe == 1
    start = zlib.crc32(b"plumless") & 3
    assert (table[start], table[(start + 1) & 3]) == (0, 1)


def test_a_run_of_exactly_max_probe_slots_still_gets_an_index(monkeypatch):
    monkeypatch.setattr(si, "MAX_PROBE", 1)
    assert si.build_index(["plumless", "buckeroo"])[1] == 1
    monkeypatch.setattr(si, "MAX_PROBE", 0)
    assert si.build_index(["plumless", "buckeroo"]) is None


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_an_index_over_no_words_finds_nothing(kind):
    """(A store of no words is read without its index: Arrow gives its column no chunk.)"""
    table, probe = si.build_index([])
    index = si.StoreIndex(table, pa.array([], type=kind), probe, Path("s.wv/index.npy"),
                          lambda: None)
    assert index.find("a") is None and index.find("") is None


def _dup_after_collision() -> list[str]:
    """Two words of one crc32, then a word listed twice whose crc32 sorts after theirs."""
    w = next(w for w in map(str, range(100)) if zlib.crc32(w.encode()) > zlib.crc32(b"plumless"))
    return ["plumless", "buckeroo", w, w]


@pytest.mark.parametrize("words", [["a", "b", "a"], ["plumless", "buckeroo", "buckeroo"],
                                   ["buckeroo", "plumless", "buckeroo"], _dup_after_collision()])
def test_a_word_listed_twice_gets_no_index(words, tmp_path):
    assert si.build_index(words) is None
    v = Vectors(words, np.arange(len(words) * 2, dtype=np.float32).reshape(-1, 2))
    path = st.write_store(v, tmp_path / "d.wv")
    assert not (path / "index.npy").exists()
    assert wordvecs.load(path)[words[-1]].tolist() == v.matrix[words.index(words[-1])].tolist()


# --- store: the metadata's errors, each as a whole message ---------------------------------------

def _store(tmp_path) -> Path:
    return st.write_store(Vectors(["a", "b"], np.eye(2, dtype=np.float32)), tmp_path / "s.wv")


def _edit(path: Path, edit) -> None:
    import json

    meta = json.loads((path / "meta.json").read_text())
    edit(meta)
    (path / "meta.json").write_text(json.dumps(meta))


def _set(*keys_value):
    *keys, value = keys_value

    def edit(meta):
        for key in keys[:-1]:
            meta = meta[key]
        meta[keys[-1]] = value
    return edit


_INT = "damaged store metadata: {} is {!r}; expected a non-negative integer"
_META_ERRORS = [
    (_set("format", "other"),
     "{m}: not a wordvecs store (format='other' where 'wordvecs-store' was expected)"),
    (_set("version", 9), "{p}: store format version 9; this wordvecs reads version 1 or 2 or 3 "
                         "(re-create the store with this version, or upgrade)"),
    (_set("count", "2"), "{m}: " + _INT.format("count", "2")),
    (_set("dim", -1), "{m}: " + _INT.format("dim", -1)),
    (_set("dtype", "float64"), "{m}: dtype 'float64'; expected 'float32'"),
    (_set("files", "vectors.npy", "bytes", True), "{m}: " + _INT.format("bytes", True)),
    (_set("files", "vectors.npy", 5), "{m}: damaged store metadata (files['vectors.npy']=5)"),
    (_set("index", "slots", "8"), "{m}: " + _INT.format("slots", "8")),
    (_set("index", "max_probe", -1), "{m}: " + _INT.format("max_probe", -1)),
    (_set("extras", {"x": 5}), "{m}: damaged store metadata (extra 'x')"),
    (_set("extras", {"x": {"files": [], "fields": 5}}), "{m}: damaged store metadata (extra 'x')"),
    (_set("extras", {"x": {"files": ["a.npy"]}}),
     "{m}: damaged store metadata (extras list files ['a.npy'] that 'files' does not)"),
]


@pytest.mark.parametrize(("edit", "message"), _META_ERRORS)
def test_each_metadata_error_is_one_whole_message(tmp_path, edit, message):
    path = _store(tmp_path)
    _edit(path, edit)
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert str(err.value) == message.format(m=path / "meta.json", p=path)


def test_max_probe_at_the_bound_opens(tmp_path):
    path = _store(tmp_path)
    _edit(path, _set("index", "max_probe", si.MAX_PROBE))
    assert st.read_store(path)["b"].tolist() == [0.0, 1.0]


def test_an_extra_listing_every_file_is_read_as_npy_files(tmp_path):
    """``extras`` may list every file ``files`` lists (not only fewer): each is then mapped as an
    ``.npy`` (the metadata's check lets them through; the first whose header cannot be read again
    from its descriptor stops the read)."""
    path = _store(tmp_path)
    _edit(path, _set("extras", {"x": {"files": ["vectors.npy", "words.arrow", "index.npy"]}}))
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert "damaged store: not a readable .npy file" in str(err.value)


# --- store: reading ------------------------------------------------------------------------------

def test_a_store_opens_where_no_folder_opens_by_descriptor(tmp_path, monkeypatch):
    path = _store(tmp_path)
    monkeypatch.setattr(st, "_DIR_FD", False)
    assert st.read_store(path)["b"].tolist() == [0.0, 1.0]


def test_a_store_replaced_while_read_is_read_again(tmp_path, monkeypatch):
    """The folder is swapped for a new store (the old one's vectors.npy gone) between reading
    meta.json and opening vectors.npy: the read starts again and gives the new store."""
    import shutil

    path = _store(tmp_path)
    new = st.write_store(Vectors(["c"], np.ones((1, 3), dtype=np.float32)), tmp_path / "n.wv")
    real, swapped = st._open_in, []

    def open_in(dfd, where, name):
        if name == "vectors.npy" and not swapped:
            swapped.append(1)
            os.rename(path, tmp_path / "old.wv")
            os.remove(tmp_path / "old.wv" / "vectors.npy")
            shutil.copytree(new, path)
        return real(dfd, where, name)

    monkeypatch.setattr(st, "_open_in", open_in)
    v = st.read_store(path)
    assert swapped and v.words == ["c"]


def test_a_store_removed_while_read_is_no_folder(tmp_path, monkeypatch):
    import shutil

    path = _store(tmp_path)
    real = st._open_in

    def open_in(dfd, where, name):
        if name == "vectors.npy" and path.exists():
            shutil.rmtree(path)
        return real(dfd, where, name)

    monkeypatch.setattr(st, "_open_in", open_in)
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert str(err.value) == f"{path}: not a wordvecs store (no folder)"


@pytest.mark.parametrize(("name", "message"), [
    ("meta.json", "{p}: not a wordvecs store (no meta.json)"),
    ("vectors.npy", "{p}: damaged store: vectors.npy is missing"),
])
def test_a_missing_file_is_named(tmp_path, name, message):
    path = _store(tmp_path)
    (path / name).unlink()
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert str(err.value) == message.format(p=path)


def _forge(path: Path, name: str, data: bytes) -> None:
    import hashlib

    (path / name).write_bytes(data)
    _edit(path, _set("files", name, {"bytes": len(data),
                                     "sha256": hashlib.sha256(data).hexdigest()}))


@pytest.mark.parametrize("index", [True, False])
def test_a_damaged_words_file_names_itself(tmp_path, index):
    path = st.write_store(Vectors(["a", "b"], np.eye(2, dtype=np.float32)), tmp_path / "s.wv",
                          index=index)
    _forge(path, "words.arrow", b"ARROW1\x00\x00" + bytes(40))
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert str(err.value).startswith(f"{path / 'words.arrow'}: damaged store (")


def _ipc_file(table: pa.Table) -> bytes:
    """The bytes of an Arrow IPC file holding ``table`` (as ``words.arrow`` is written)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()


def _words_file(words: pa.Array) -> bytes:
    return _ipc_file(pa.table({"word": words}))


@pytest.mark.parametrize("index", [True, False])
def test_verify_finds_words_that_are_not_utf8(tmp_path, index):
    path = st.write_store(Vectors(["a", "b"], np.eye(2, dtype=np.float32)), tmp_path / "s.wv",
                          index=index)
    bad = pa.Array.from_buffers(pa.large_string(), 2, [None, pa.py_buffer(
        np.array([0, 1, 2], dtype="<i8").tobytes()), pa.py_buffer(b"a\xff")])
    _forge(path, "words.arrow", _words_file(bad))
    st.read_store(path)  # opening does not read every byte
    with pytest.raises(StoreError) as err:
        st.read_store(path, verify=True)
    assert str(err.value).startswith(f"{path / 'words.arrow'}: damaged store: ")


@pytest.mark.parametrize(("eager", "checks_on_open"), [(2, 1), (1, 0)])
def test_the_offsets_check_is_deferred_above_eager_words_only(tmp_path, monkeypatch, eager,
                                                              checks_on_open):
    path = _store(tmp_path)
    calls = []
    real = st._check_offsets
    monkeypatch.setattr(st, "_EAGER_WORDS", eager)
    monkeypatch.setattr(st, "_check_offsets", lambda words, where: calls.append(where)
                        or real(words, where))
    st.read_store(path)
    assert len(calls) == checks_on_open


def test_a_store_s_source_is_its_path(tmp_path):
    path = _store(tmp_path)
    assert st.read_store(path).source == str(path)


def test_a_damaged_extra_file_names_itself(tmp_path):
    path = _store(tmp_path)
    _forge(path, "x.npy", b"not an npy file")
    _edit(path, _set("extras", {"x": {"files": ["x.npy"]}}))
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert str(err.value).startswith(f"{path / 'x.npy'}: damaged store: not a readable .npy file")


def test_an_unknown_extra_warns_and_the_next_is_still_applied(tmp_path, monkeypatch):
    """Extras are applied in order; one without a hook is skipped with a warning, not the rest;
    a hook gets ``fields`` as {} where the metadata has none."""
    from wordvecs.errors import WordvecsWarning

    path = _store(tmp_path)
    _forge(path, "y.npy", _npy_bytes(np.arange(3, dtype="<i8")))
    _edit(path, _set("extras", {"x": {"files": []}, "y": {"files": ["y.npy"]}}))
    seen = []

    def hook(vectors, fields, arrays):
        seen.append((fields, {k: v.tolist() for k, v in arrays.items()}))
        return Vectors(vectors.words, vectors.matrix * 2)

    monkeypatch.setitem(st._HOOKS, "y", hook)
    with pytest.warns(WordvecsWarning) as caught:
        v = st.read_store(path)
    assert [str(w.message) for w in caught] == [
        f"{path}: the store holds 'x', which this wordvecs does not use; the vectors were loaded "
        "without it"]
    assert seen == [({}, {"y.npy": [0, 1, 2]})]
    assert v["b"].tolist() == [0.0, 2.0]


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def test_verify_store_checks_every_digest(tmp_path):
    path = _store(tmp_path)
    assert st.verify_store(path) is None
    data = bytearray((path / "vectors.npy").read_bytes())
    data[-1] ^= 1
    (path / "vectors.npy").write_bytes(bytes(data))
    with pytest.raises(StoreError) as err:
        st.verify_store(path)
    assert str(err.value).startswith(f"{path / 'vectors.npy'}: damaged store: sha256 ")


def test_the_subwords_extra_goes_to_the_subword_table(tmp_path, monkeypatch):
    """The hook of ``subwords`` hands its fields, arrays and the store's path to the subword
    table's reader, and the vectors carry what it returns."""
    from wordvecs.formats import subword_store

    path = _store(tmp_path)
    _forge(path, "t.npy", _npy_bytes(np.arange(3, dtype="<i8")))
    _edit(path, _set("extras", {"subwords": {"files": ["t.npy"], "fields": {"k": 1}}}))
    seen = []

    class Table:
        dim = 2

    def read(fields, arrays, source):
        seen.append((dict(fields), {k: v.tolist() for k, v in arrays.items()}, source))
        return Table()

    monkeypatch.setattr(subword_store, "subwords_from_arrays", read)
    v = st.read_store(path)
    assert seen == [({"k": 1}, {"t.npy": [0, 1, 2]}, str(path))]
    assert isinstance(v.subwords, Table) and v["b"].tolist() == [0.0, 1.0]


def test_register_extra_keeps_the_hook_and_a_saver_only_when_given(monkeypatch):
    monkeypatch.setattr(st, "_HOOKS", {})
    monkeypatch.setattr(st, "_SAVERS", {})

    def hook(v, fields, arrays):
        return v

    def save(v):
        return None

    st.register_extra("z", hook)
    hooks, savers = st._HOOKS, st._SAVERS
    assert hooks == {"z": hook} and savers == {}
    st.register_extra("z", hook, save)
    assert savers == {"z": save}


def test_is_our_store_without_folder_descriptors(tmp_path, monkeypatch):
    path = _store(tmp_path)
    monkeypatch.setattr(st, "_DIR_FD", False)
    assert st.is_our_store(path)


@pytest.mark.parametrize(("meta", "ours"), [
    ("[]", False),
    ('{"format": "other", "files": {}}', False),
    ('{"format": "wordvecs-store", "files": ["vectors.npy"]}', False),
    ('{"format": "wordvecs-store", "files": {"vectors.npy": {}}}', True),
])
def test_is_our_store_reads_the_format_and_the_files(tmp_path, meta, ours):
    path = tmp_path / "s.wv"
    path.mkdir()
    (path / "meta.json").write_text(meta)
    (path / "vectors.npy").write_bytes(b"")
    assert st.is_our_store(path) is ours


def _npy_version(array: np.ndarray, version: tuple[int, int]) -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, version=version, allow_pickle=False)
    return buf.getvalue()


def test_an_npy_of_format_2_opens(tmp_path):
    path = _store(tmp_path)
    _forge(path, "vectors.npy", _npy_version(np.eye(2, dtype="<f4"), (2, 0)))
    assert st.read_store(path)["b"].tolist() == [0.0, 1.0]


def test_an_npy_of_format_3_is_named(tmp_path):
    path = _store(tmp_path)
    data = _npy_version(np.eye(2, dtype="<f4"), (3, 0))
    _forge(path, "vectors.npy", data)
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert str(err.value) == (f"{path / 'vectors.npy'}: damaged store: not a readable .npy file "
                              f"({len(data)} bytes; npy format version (3, 0))")


def _with_extra(tmp_path, data: bytes) -> Path:
    path = _store(tmp_path)
    _forge(path, "x.npy", data)
    _edit(path, _set("extras", {"x": {"files": ["x.npy"]}}))
    return path


def test_an_extra_of_strings_is_refused(tmp_path):
    path = _with_extra(tmp_path, _npy_bytes(np.array(["ab"], dtype="<U2")))
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert str(err.value) == (f"{path / 'x.npy'}: damaged store: dtype <U2 (numbers, "
                              "little-endian, expected)")


def test_a_one_dimensional_array_marked_fortran_opens(tmp_path):
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<i8", "fortran_order": True,
                                               "shape": (3,)})
    path = _with_extra(tmp_path, buf.getvalue() + np.arange(3, dtype="<i8").tobytes())
    with pytest.warns(Warning):
        st.read_store(path)  # no hook for "x": mapped, checked, then left out


def test_an_npy_longer_than_its_header_says_is_named(tmp_path):
    data = _npy_bytes(np.arange(3, dtype="<i8"))
    path = _with_extra(tmp_path, data + bytes(8))
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert str(err.value) == (f"{path / 'x.npy'}: damaged store: {len(data) + 8} bytes where the "
                              f"header says {len(data)}")


def test_a_words_file_of_two_columns_is_named(tmp_path):
    path = _store(tmp_path)
    table = pa.table({"word": ["a", "b"], "n": pa.array([1, 2], type=pa.int32())})
    _forge(path, "words.arrow", _ipc_file(table))
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert str(err.value) == (f"{path / 'words.arrow'}: damaged store: columns ['word', 'n'] of "
                              "types ['string', 'int32']; expected one column of strings")


def test_a_store_saved_again_at_every_read_gives_up_after_the_retries(tmp_path, monkeypatch):
    path = _store(tmp_path)
    calls = []

    def raced(p, verify):
        calls.append(p)
        raise st._Raced

    monkeypatch.setattr(st, "_read_once", raced)
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert len(calls) == 8
    assert str(err.value) == (f"{path}: the store was saved again 8 times while being read; try "
                              "again once the saves are over")


def test_an_extra_of_one_byte_is_read(tmp_path, monkeypatch):
    path = _with_extra(tmp_path, _npy_bytes(np.array([7], dtype=np.int8)))
    seen = []
    monkeypatch.setitem(st._HOOKS, "x", lambda v, fields, arrays: seen.append(
        arrays["x.npy"].tolist()) or v)
    st.read_store(path)
    assert seen == [[7]]


def test_a_fifo_or_a_link_in_a_store_is_named(tmp_path):
    path = _store(tmp_path)
    (path / "vectors.npy").unlink()
    os.mkfifo(path / "vectors.npy")
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert str(err.value) == f"{path / 'vectors.npy'}: damaged store: not a regular file"
    (path / "vectors.npy").unlink()
    (path / "vectors.npy").symlink_to(path / "words.arrow")
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert str(err.value) == f"{path / 'vectors.npy'}: damaged store: a symbolic link, not a file"


def test_metadata_of_exactly_the_limit_opens(tmp_path):
    path = _store(tmp_path)
    text = (path / "meta.json").read_text().rstrip()
    pad = " " * (st._MAX_META_BYTES - len(text.encode()))
    (path / "meta.json").write_text(text[:-1] + pad + "}")  # its last byte closes the object
    assert (path / "meta.json").stat().st_size == st._MAX_META_BYTES
    assert st.read_store(path)["b"].tolist() == [0.0, 1.0]


# --- store: writing ------------------------------------------------------------------------------

def _v() -> Vectors:
    return Vectors(["a", "b"], np.eye(2, dtype=np.float32))


@pytest.mark.parametrize(("extras", "message"), [
    ((st.StoreExtra("a b", {}),), "store extra name 'a b': letters, digits, '_', '.', '-'"),
    ((st.StoreExtra("x", {"x.npy": np.array(["s"])}),),
     "store extra 'x': x.npy must hold numbers, not <U1"),
    ((st.StoreExtra("x", {"t.npy": np.arange(2)}), st.StoreExtra("y", {"t.npy": np.arange(2)})),
     "store extra 'y': file name 't.npy' is not a plain 'NAME.npy' or is taken"),
])
def test_a_bad_extra_is_one_whole_usage_error(tmp_path, extras, message):
    from wordvecs.errors import UsageError

    with pytest.raises(UsageError) as err:
        st.write_store(_v(), tmp_path / "s.wv", extras=extras)
    assert str(err.value) == message


def test_an_extra_named_in_capitals_is_written(tmp_path):
    path = st.write_store(_v(), tmp_path / "s.wv", extras=(st.StoreExtra("Sub", {}),))
    assert "Sub" in json.loads((path / "meta.json").read_text())["extras"]


# --- store: what write_store writes (the second run's survivors) --------------------------------

def test_a_store_is_replaced_only_when_told(tmp_path):
    from wordvecs.errors import WriteError

    path = _store(tmp_path)
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    with pytest.raises(WriteError) as err:
        st.write_store(Vectors(["c"], np.ones((1, 2), dtype=np.float32)), path)
    assert str(err.value) == (f"{path}: a wordvecs store is already there; pass overwrite=True "
                              "(on the command line: --force) to replace it")
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    st.write_store(Vectors(["c"], np.ones((1, 2), dtype=np.float32)), path, overwrite=True)
    assert st.read_store(path).words == ["c"]


def test_the_files_a_store_holds_are_exactly_these(tmp_path):
    """meta.json byte for byte (keys, order, two-space indent, a final newline), one column
    ``word`` of large strings, the matrix as little-endian float32, and nothing else."""
    import hashlib

    from wordvecs._version import __version__

    v = Vectors(["ab", "cd"], np.array([[1, 2], [3, 4]], dtype=np.float32), source="in.vec")
    path = st.write_store(v, tmp_path / "s.wv")
    assert sorted(os.listdir(path)) == ["index.npy", "meta.json", "vectors.npy", "words.arrow"]
    files = {name: {"bytes": (path / name).stat().st_size,
                    "sha256": hashlib.sha256((path / name).read_bytes()).hexdigest()}
             for name in ["vectors.npy", "words.arrow", "index.npy"]}
    meta = {"format": "wordvecs-store", "version": 3, "count": 2, "dim": 2, "dtype": "float32",
            "byte_order": "little", "files": files, "source": "in.vec",
            "created_by": f"wordvecs {__version__}",
            "index": {"file": "index.npy", "hash": "crc32", "slots": 4,
                      "max_probe": si.build_index(["ab", "cd"])[1]}}
    assert (path / "meta.json").read_bytes() == (json.dumps(meta, indent=2) + "\n").encode()
    table = pa.ipc.open_file(pa.py_buffer((path / "words.arrow").read_bytes())).read_all()
    assert table.schema == pa.schema([("word", pa.large_string())])
    assert table.column(0).to_pylist() == ["ab", "cd"]
    matrix = np.load(path / "vectors.npy")
    assert matrix.dtype.str == "<f4" and matrix.tolist() == [[1, 2], [3, 4]]


def test_an_extra_is_written_little_endian(tmp_path):
    """A big-endian array of an extra is stored as little-endian (a reader refuses '>' dtypes)."""
    extra = st.StoreExtra("x", {"x.npy": np.arange(3, dtype=">i8")}, {"k": 1})
    path = st.write_store(_v(), tmp_path / "s.wv", extras=(extra,))
    stored = np.load(path / "x.npy")
    assert stored.dtype.str == "<i8" and stored.tolist() == [0, 1, 2]
    assert json.loads((path / "meta.json").read_text())["extras"] == {
        "x": {"files": ["x.npy"], "fields": {"k": 1}}}


def test_a_word_a_store_cannot_hold_is_named_and_nothing_is_written(tmp_path):
    from wordvecs.errors import UnwritableError

    v = Vectors(["a", "\ud800"], np.eye(2, dtype=np.float32))
    with pytest.raises(UnwritableError) as err:
        st.write_store(v, tmp_path / "s.wv")
    assert str(err.value) == ("cannot write words[1] = '\\ud800' as a store: not valid Unicode "
                              "(a lone surrogate)")
    assert list(tmp_path.iterdir()) == []


def _subword_vectors() -> Vectors:
    from wordvecs.subwords import FastTextSubwords, SubwordParams

    words = ["ab", "cd"]
    table = np.arange((2 + 4) * 2, dtype=np.float32).reshape(6, 2)
    params = SubwordParams(minn=2, maxn=3, bucket=4, nwords=2)
    return Vectors(words, table[:2].copy(), subwords=FastTextSubwords(table, params, words))


def test_a_store_keeps_a_fasttext_subword_table(tmp_path):
    """The ``subwords`` extra: its files and fields in meta.json, and the table read back."""
    from wordvecs.formats.subword_store import subword_arrays

    v = _subword_vectors()
    assert st._subwords_extra(Vectors(["a"], np.ones((1, 2), dtype=np.float32))) is None
    path = st.write_store(v, tmp_path / "s.wv")
    arrays, fields = subword_arrays(v.subwords)
    assert json.loads((path / "meta.json").read_text())["extras"] == {
        "subwords": {"files": list(arrays), "fields": fields}}
    w = st.read_store(path)
    assert w.subwords is not None and list(w.subwords.entries) == ["ab", "cd"]
    assert np.array_equal(w.subwords.table, v.subwords.table)
    assert np.array_equal(w["xyz"], v["xyz"])  # an unseen word, from the n-grams


def test_is_store_needs_a_folder_with_meta_json(tmp_path):
    path = _store(tmp_path)
    assert st.is_store(path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "dir.wv").mkdir()
    (tmp_path / "dir.wv" / "meta.json").mkdir()
    (tmp_path / "file.wv").write_text("{}")
    assert not st.is_store(tmp_path / "empty")
    assert not st.is_store(tmp_path / "dir.wv")
    assert not st.is_store(tmp_path / "file.wv")
    assert not st.is_store(tmp_path / "none.wv")


# --- store: words.arrow crafted with bad offsets, a bad name; a file that cannot be opened -------

def _with_offsets(path: Path, offsets: list[int]) -> None:
    """Rewrite the offsets [0, 2, 4] of the store's words ["ab", "cd"] in place (Arrow's writer
    refuses bad offsets; its reader takes them as they are)."""
    data = (path / "words.arrow").read_bytes()
    good = np.array([0, 2, 4], dtype="<i8").tobytes()
    assert data.count(good) == 1
    _forge(path, "words.arrow", data.replace(good, np.array(offsets, dtype="<i8").tobytes()))


@pytest.mark.parametrize("index", [True, False])
@pytest.mark.parametrize("offsets", [[0, 2, 9], [-1, 1, 4], [0, 3, 2], [0, 5, 4]])
def test_word_offsets_out_of_order_or_bounds_are_refused_at_open(tmp_path, index, offsets):
    path = st.write_store(Vectors(["ab", "cd"], np.eye(2, dtype=np.float32)), tmp_path / "s.wv",
                          index=index)
    _with_offsets(path, offsets)
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert str(err.value) == (f"{path / 'words.arrow'}: damaged store: word offsets out of order "
                              "or out of bounds")


@pytest.mark.parametrize("index", [True, False])
def test_words_in_order_and_bounds_open(tmp_path, index):
    """[0, 0, 4]: an empty first word; the offsets check lets every good layout through."""
    path = st.write_store(Vectors(["ab", "cd"], np.eye(2, dtype=np.float32)), tmp_path / "s.wv",
                          index=index)
    _with_offsets(path, [0, 0, 4])
    assert st.read_store(path).words == ["", "abcd"]


@pytest.mark.parametrize("index", [True, False])
def test_a_column_name_that_is_not_utf8_is_one_whole_error(tmp_path, index):
    path = st.write_store(_v(), tmp_path / "s.wv", index=index)
    table = pa.table({"wqrd": pa.array(["a", "b"], type=pa.large_string())})
    _forge(path, "words.arrow", _ipc_file(table).replace(b"wqrd", b"w\xffrd"))
    with pytest.raises(StoreError) as err:
        st.read_store(path)
    assert str(err.value) == (f"{path / 'words.arrow'}: damaged store (UnicodeDecodeError: "
                              "'utf-8' codec can't decode byte 0xff in position 1: invalid start "
                              "byte)")


def test_a_socket_in_a_store_cannot_be_opened_and_is_named(tmp_path, monkeypatch):
    """open() of a socket fails with ENXIO (even as root, where permissions never do)."""
    import socket

    path = _store(tmp_path)
    (path / "vectors.npy").unlink()
    monkeypatch.chdir(path)  # a socket's path is at most 107 bytes
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("vectors.npy")
        with pytest.raises(StoreError) as err:
            st.read_store(path)
    assert str(err.value) == f"{path / 'vectors.npy'}: cannot open (No such device or address)"


# --- store: the offsets check on Arrow arrays as they come ---------------------------------------

@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_the_offsets_check_of_a_slice_reads_its_own_offsets(kind):
    """A slice has offsets before and after its own ``n + 1``: they are not its own."""
    words = pa.array(["ab", "c", "de", "f"], type=kind)
    st._check_offsets(words.slice(1, 2), Path("s.wv/words.arrow"))
    st._check_offsets(words.slice(0, 1), Path("s.wv/words.arrow"))


def test_the_offsets_check_without_a_bytes_buffer():
    """No bytes buffer holds 0 bytes: an empty word fits, a word of one byte does not."""
    where = Path("s.wv/words.arrow")
    st._check_offsets(_NoData(0), where)
    with pytest.raises(StoreError) as err:
        st._check_offsets(_NoData(1), where)
    assert str(err.value) == ("s.wv/words.arrow: damaged store: word offsets out of order or out "
                              "of bounds")
