"""Writing and opening stores and files as a hostile or unlucky user would (issue 14).

Nothing wordvecs did not write is replaced or deleted; a damaged or forged store is a
``StoreError``, never a traceback or a wrong result; a word a text file cannot hold is refused;
a full, read-only or size-limited disk is one ``WriteError``; old temporaries are cleaned.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import wordvecs
from wordvecs import Vectors
from wordvecs.cli import cli
from wordvecs.errors import StoreError, UnwritableError, WordvecsWarning, WriteError


def _vectors(n: int = 5, dim: int = 3) -> Vectors:
    m = np.arange(n * dim, dtype=np.float32).reshape(n, dim)
    return Vectors([f"w{i}" for i in range(n)], m)


def _one_line_error(res, *needles: str) -> str:
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.output
    assert "Traceback" not in res.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _tree(path) -> dict[str, bytes]:
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p.relative_to(path)): p.read_bytes() for p in files}


# --- 1. nothing of the user's is replaced or deleted -------------------------------------------

@pytest.mark.parametrize("overwrite", [False, True])
def test_save_never_deletes_a_foreign_folder(tmp_path, overwrite):
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "a").write_text("keep")
    (d / "b.txt").write_text("keep too")
    before = _tree(d)
    with pytest.raises(WriteError, match=f"{d}: is a folder that is not a wordvecs store"):
        _vectors().save(d, overwrite=overwrite)
    assert _tree(d) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_a_store_holding_other_files_is_not_replaced(tmp_path):
    path = _vectors().save(tmp_path / "s.wv")
    (path / "notes.txt").write_text("mine")
    with pytest.raises(WriteError, match="not a wordvecs store"):
        _vectors(2).save(path, overwrite=True)
    assert (path / "notes.txt").read_text() == "mine" and len(wordvecs.load(path)) == 5


def test_a_store_is_replaced_only_with_overwrite(tmp_path):
    path = _vectors().save(tmp_path / "s.wv")
    with pytest.raises(WriteError, match="already there; pass overwrite=True"):
        _vectors(2).save(path)
    assert len(wordvecs.load(path)) == 5
    _vectors(2).save(path, overwrite=True)
    assert len(wordvecs.load(path, verify=True)) == 2


@pytest.mark.parametrize("name", ["v.txt", "v.vec", "v.bin", "v.wv"])
def test_a_file_at_the_destination_is_replaced_only_with_overwrite(tmp_path, name):
    dst = tmp_path / name
    dst.write_text("the user's file\n")
    with pytest.raises(WriteError, match=f"{dst}: a file is already there"):
        _vectors().save(dst)
    assert dst.read_text() == "the user's file\n"
    _vectors().save(dst, overwrite=True)
    assert wordvecs.load(dst).words == _vectors().words


@pytest.mark.parametrize("name", ["v.txt", "v.bin", "v.wv"])
def test_a_symlink_at_the_destination_is_never_followed(tmp_path, name):
    target = tmp_path / "target"
    target.write_text("precious")
    (tmp_path / name).symlink_to(target)
    with pytest.raises(WriteError, match="symbolic link"):
        _vectors().save(tmp_path / name, overwrite=True)
    assert target.read_text() == "precious" and (tmp_path / name).is_symlink()


def test_a_file_writer_never_replaces_a_folder(tmp_path):
    path = _vectors().save(tmp_path / "s")
    with pytest.raises(WriteError, match="is a folder"):
        _vectors().save(path, format="glove", overwrite=True)
    assert len(wordvecs.load(path)) == 5


@pytest.mark.parametrize("name", ["v.txt", "v.bin", "v.wv"])
def test_no_missing_parent_folder_is_created(tmp_path, name):
    with pytest.raises(WriteError, match=f"the folder {tmp_path / 'no' / 'such'} does not exist"):
        _vectors().save(tmp_path / "no" / "such" / name)
    assert list(tmp_path.iterdir()) == []


def test_a_destination_taken_during_the_save_is_not_replaced(tmp_path, monkeypatch):
    """Another process creates the destination while we write: a clear error, its files kept."""
    dst = tmp_path / "s.wv"
    real_save = np.save

    def save_then_race(file, *a, **k):
        real_save(file, *a, **k)
        dst.mkdir(exist_ok=True)
        (dst / "theirs").write_text("theirs")

    monkeypatch.setattr(np, "save", save_then_race)
    with pytest.raises(WriteError, match="not a wordvecs store"):
        _vectors().save(dst, overwrite=True)
    assert _tree(dst) == {"theirs": b"theirs"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.wv"]


@pytest.mark.parametrize("name, fmt, check", [
    ("x.txt", "glove", lambda p: p.read_text().startswith("w0 0 1 2\n")),
    ("x.vec", "word2vec", lambda p: p.read_text().startswith("5 3\nw0 ")),
    ("x.bin", "word2vec-binary", lambda p: p.read_bytes().startswith(b"5 3\nw0 \x00\x00")),
    ("x.wv", "store", lambda p: (p / "meta.json").is_file()),
    ("x", "store", lambda p: (p / "meta.json").is_file()),
])
def test_the_format_follows_the_extension(tmp_path, name, fmt, check):
    path = _vectors().save(tmp_path / name)
    assert check(path)
    v = wordvecs.load(path)
    assert v.format == fmt and v.words == _vectors().words


@pytest.mark.parametrize("name, fmt", [("x.txt", "store"), ("x.vec", "word2vec-binary"),
                                       ("x.bin", "glove"), ("x.wv", "word2vec"),
                                       ("x.txt.gz", None), ("x.vec.xz", "word2vec")])
def test_a_name_that_contradicts_the_format_is_refused(tmp_path, name, fmt):
    with pytest.raises(UnwritableError, match=f"{tmp_path / name}: "):
        _vectors().save(tmp_path / name, format=fmt)
    assert list(tmp_path.iterdir()) == []


# --- 1. the same on the command line ----------------------------------------------------------

@pytest.fixture
def small_vec(tmp_path):
    return _vectors().save(tmp_path / "small.vec")


def test_convert_never_deletes_a_foreign_folder(tmp_path, small_vec):
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "a").write_text("keep")
    for extra in ([], ["--force"]):
        res = CliRunner().invoke(cli, ["convert", str(small_vec), str(d), *extra])
        _one_line_error(res, str(d), "not a wordvecs store")
    assert _tree(d) == {"sub/a": b"keep"}


def test_convert_replaces_a_store_only_with_force(tmp_path, small_vec):
    dst = tmp_path / "out.wv"
    assert CliRunner().invoke(cli, ["convert", str(small_vec), str(dst)]).exit_code == 0
    res = CliRunner().invoke(cli, ["convert", str(small_vec), str(dst), "--limit", "2"])
    _one_line_error(res, str(dst), "already there", "--force")
    assert len(wordvecs.load(dst)) == 5
    res = CliRunner().invoke(cli, ["convert", str(small_vec), str(dst), "--limit", "2", "--force"])
    assert res.exit_code == 0, res.output
    assert len(wordvecs.load(dst)) == 2


def test_convert_picks_the_format_from_the_extension(tmp_path, small_vec):
    res = CliRunner().invoke(cli, ["convert", str(small_vec), str(tmp_path / "out.txt")])
    assert res.exit_code == 0 and "(glove)" in res.output, res.output
    assert (tmp_path / "out.txt").read_text().startswith("w0 0 1 2\n")
    res = CliRunner().invoke(cli, ["convert", str(small_vec), str(tmp_path / "f.vec"),
                                   "--to", "fasttext"])
    assert res.exit_code == 0, res.output
    assert wordvecs.load(tmp_path / "f.vec").format == "word2vec"
    res = CliRunner().invoke(cli, ["convert", str(small_vec), str(tmp_path / "o.txt"),
                                   "--to", "store"])
    _one_line_error(res, "o.txt", "format='store'")


def test_convert_and_plot_create_no_missing_folder(tmp_path, small_vec):
    res = CliRunner().invoke(cli, ["convert", str(small_vec), str(tmp_path / "no" / "o.wv")])
    _one_line_error(res, "does not exist")
    store = wordvecs.load("glove-6b-50d", limit=200).save(tmp_path / "g.wv")
    res = CliRunner().invoke(cli, ["plot", "the", "of", "and", "-v", str(store),
                                   "--out", str(tmp_path / "no" / "map.png")])
    _one_line_error(res, "does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.wv", "small.vec"]


def test_plot_replaces_an_image_only_with_force(tmp_path):
    store = wordvecs.load("glove-6b-50d", limit=200).save(tmp_path / "g.wv")
    out = tmp_path / "map.png"
    out.write_bytes(b"mine")
    args = ["plot", "the", "of", "and", "-v", str(store), "--out", str(out)]
    _one_line_error(CliRunner().invoke(cli, args), str(out), "--force")
    assert out.read_bytes() == b"mine"
    assert CliRunner().invoke(cli, [*args, "--force"]).exit_code == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.wv", "map.png"]


# --- 3. a damaged or forged store is a StoreError ---------------------------------------------

@pytest.fixture
def store(tmp_path):
    return _vectors().save(tmp_path / "s.wv")


def _meta(store) -> dict:
    return json.loads((store / "meta.json").read_text())


def _replace_file(store, name: str, data: bytes) -> None:
    """Put ``data`` in place of ``name`` with a matching size and digest: a forged store."""
    (store / name).write_bytes(data)
    meta = _meta(store)
    meta["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (store / "meta.json").write_text(json.dumps(meta))


def _arrow_bytes(array) -> bytes:
    sink = pa.BufferOutputStream()
    table = pa.table({"word": array})
    with pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()


def _bad_utf8() -> pa.Array:
    data = b"w0w1w2w3\xff\xfe"
    offsets = np.array([0, 2, 4, 6, 8, 10], np.int32)
    return pa.Array.from_buffers(pa.string(), 5, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _bad_offsets() -> pa.Array:
    offsets = np.array([0, 2, 9, 4, 8, 10], np.int32)
    return pa.Array.from_buffers(pa.string(), 5, [None, pa.py_buffer(offsets),
                                                  pa.py_buffer(b"w0w1w2w3w4")])


@pytest.mark.parametrize("words, message", [
    (_bad_offsets(), "word offsets out of order or out of bounds"),  # Arrow would crash on them
    (pa.array([1, 2, 3, 4, 5]), "expected one column of strings"),
    (pa.array([b"w0", b"w1", b"w2", b"w3", b"w4"]), "expected one column of strings"),
    (pa.array(["w0", None, "w2", "w3", "w4"]), r"1 missing \(null\) words"),
    (pa.array(["w0", "w1"]), "2 words where the metadata says 5"),
])
def test_forged_words_are_refused(store, words, message):
    _replace_file(store, "words.arrow", _arrow_bytes(words))
    with pytest.raises(StoreError, match=message):
        wordvecs.load(store)


def test_words_that_are_not_utf8_are_refused_by_verify(store):
    """The UTF-8 check reads every word, so it runs with verify=True (a plain open stays cheap)."""
    _replace_file(store, "words.arrow", _arrow_bytes(_bad_utf8()))
    with pytest.raises(StoreError, match="Invalid UTF8"):
        wordvecs.load(store, verify=True)


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.update(count="5"), "count is '5'; expected a non-negative integer"),
    (lambda m: m.update(dim=True), "dim is True"),
    (lambda m: m.update(count=-1), "count is -1"),
    (lambda m: m.update(version="1"), "store format version '1'"),
    (lambda m: m.update(version=True), "store format version True"),
    (lambda m: m["files"]["vectors.npy"].update(bytes=str(m["files"]["vectors.npy"]["bytes"])),
     "bytes is '"),
    (lambda m: m["files"]["vectors.npy"].update(sha256=None), "sha256 of vectors.npy is None"),
    (lambda m: m.update(files=[]), "files=[]"),
    (lambda m: m.update(version=1, files={**m["files"],
                                          "../../etc/passwd": m["files"]["vectors.npy"]}),
     "version-1 store holds exactly"),
    (lambda m: m.update(version=2, files={**m["files"], "/etc/passwd": m["files"]["vectors.npy"]}),
     "not part of the layout"),
    (lambda m: m.update(version=2, extras={"x": {"files": ["../x.npy"]}},
                        files={**m["files"], "../x.npy": m["files"]["vectors.npy"]}),
     "not part of the layout"),
    (lambda m: m.update(version=1, extras={"x": {"files": []}}),
     "version-1 store holds exactly"),
])
def test_forged_metadata_is_refused(store, edit, message):
    meta = _meta(store)
    edit(meta)
    (store / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(StoreError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        wordvecs.load(store)


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000 + "]" * 100_000, "damaged store metadata"),
    ('{"format": "wordvecs-store", "version": 1, "count": ' + "[" * 50_000 + "]" * 50_000 + "}",
     "damaged store metadata"),
    ("[1, 2]", "not a JSON object"),
    ("\xff", "damaged store metadata"),
    (" " * (2 << 20), "damaged store metadata"),
])
def test_unreadable_metadata_is_refused(store, text, message):
    (store / "meta.json").write_text(text, encoding="latin-1")
    with pytest.raises(StoreError, match=message):
        wordvecs.load(store)
    res = CliRunner().invoke(cli, ["info", str(store)])
    _one_line_error(res, "meta.json")


def _npy(array: np.ndarray, **header) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


@pytest.mark.parametrize("data, message", [
    (b"", "not a readable .npy file"),
    (b"\x93NUMPY\x01\x00", "not a readable .npy file"),
    (_npy(np.zeros((5, 3), np.float64)), "dtype float64 where the metadata says float32"),
    (_npy(np.zeros((5, 3), ">f4")), "little-endian"),
    (_npy(np.zeros((3, 5), np.float32)), r"shape \(3, 5\) where the metadata says \(5, 3\)"),
    (_npy(np.asfortranarray(np.zeros((5, 3), np.float32))), "Fortran order"),
    (_npy(np.zeros((5, 3), np.float32))[:-4], "bytes where the header says"),
    (_npy(np.zeros((5, 3), np.float32)).replace(b"'<f4'", b"'|O' "), "not a readable|dtype"),
])
def test_forged_vectors_are_refused(store, data, message):
    _replace_file(store, "vectors.npy", data)
    with pytest.raises(StoreError, match=message):
        wordvecs.load(store)
    _one_line_error(CliRunner().invoke(cli, ["info", str(store)]), "vectors.npy")


def test_an_empty_vectors_file_is_one_line_at_the_cli(store):
    _replace_file(store, "vectors.npy", b"")  # its size and digest in meta.json: not "Aborted!"
    _one_line_error(CliRunner().invoke(cli, ["info", str(store)]), "vectors.npy", "damaged store")


def test_a_link_inside_a_store_is_not_followed(store, tmp_path):
    outside = tmp_path / "outside.npy"
    (store / "vectors.npy").rename(outside)
    (store / "vectors.npy").symlink_to(outside)
    with pytest.raises(StoreError, match="symbolic link"):
        wordvecs.load(store)


def test_a_fifo_inside_a_store_does_not_hang(store):
    _replace_file(store, "words.arrow", b"")  # meta.json says 0 bytes: the size check passes
    (store / "words.arrow").unlink()
    os.mkfifo(store / "words.arrow")
    code = f"import wordvecs; wordvecs.load({str(store)!r})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "not a regular file" in out.stderr


def test_verify_checks_the_words_too(store):
    """Damage words.arrow only, keeping its size and structure: only its digest tells."""
    data = bytearray((store / "words.arrow").read_bytes())
    at = data.index(b"w0w1w2")
    data[at:at + 2] = b"x0"
    (store / "words.arrow").write_bytes(bytes(data))
    assert wordvecs.load(store).words[0] == "x0"  # a cheap open does not read the digests
    with pytest.raises(StoreError, match=r"words.arrow: damaged store: sha256"):
        wordvecs.load(store, verify=True)


def test_an_empty_store_opens(tmp_path):
    v = wordvecs.load(Vectors([], np.zeros((0, 4), np.float32)).save(tmp_path / "e.wv"),
                      verify=True)
    assert v.shape == (0, 4) and v.words == []


# --- layout: version 1 still opens, version-2 extras are checked and handed to a hook ----------

def test_a_version_1_store_of_the_first_release_opens(tmp_path):
    from wordvecs.formats.store import write_store

    store = write_store(_vectors(), tmp_path / "s.wv", index=False)
    meta = _meta(store)
    assert meta["version"] == 1 and set(meta["files"]) == {"vectors.npy", "words.arrow"}
    meta.pop("byte_order")
    (store / "meta.json").write_text(json.dumps(meta))  # as the first release wrote it
    assert wordvecs.load(store, verify=True).words == _vectors().words


def test_extras_round_trip_through_a_hook(tmp_path, monkeypatch):
    from wordvecs.formats import store as st_mod

    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    extra = st_mod.StoreExtra("subwords", {"buckets.npy": table}, {"minn": 3, "maxn": 6})
    path = st_mod.write_store(_vectors(), tmp_path / "x.wv", extras=(extra,), index=False)
    meta = _meta(path)
    assert meta["version"] == 2 and set(meta["files"]) == {"vectors.npy", "words.arrow",
                                                           "buckets.npy"}
    seen = {}

    def hook(vectors, fields, arrays):
        seen.update(fields=dict(fields), arrays={k: np.array(a) for k, a in arrays.items()})
        return vectors

    monkeypatch.setitem(st_mod._HOOKS, "subwords", hook)
    assert wordvecs.load(path, verify=True).words == _vectors().words
    assert seen["fields"] == {"minn": 3, "maxn": 6}
    np.testing.assert_array_equal(seen["arrays"]["buckets.npy"], table)
    monkeypatch.delitem(st_mod._HOOKS, "subwords")
    with pytest.warns(WordvecsWarning, match="holds 'subwords'"):
        wordvecs.load(path)
    data = bytearray((path / "buckets.npy").read_bytes())
    data[-1] ^= 1
    (path / "buckets.npy").write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"buckets.npy: damaged store: sha256"):
        wordvecs.load(path, verify=True)
    (path / "buckets.npy").write_bytes(bytes(data[:-4]))
    with pytest.raises(StoreError, match=r"buckets.npy: damaged store: .* bytes where"):
        wordvecs.load(path)
    (path / "buckets.npy").unlink()
    with pytest.raises(StoreError, match=r"buckets.npy is missing"):
        wordvecs.load(path)


@pytest.mark.parametrize("name", ["../x.npy", "vectors.npy", "x.bin", "meta.json"])
def test_an_extra_must_have_a_plain_new_name(tmp_path, name):
    from wordvecs.formats import store as st_mod

    extra = st_mod.StoreExtra("e", {name: np.zeros(3, np.float32)})
    with pytest.raises(ValueError, match="file name"):
        st_mod.write_store(_vectors(), tmp_path / "x.wv", extras=(extra,))
    assert list(tmp_path.iterdir()) == []


# --- 4. words a text file cannot hold ---------------------------------------------------------

@pytest.mark.parametrize("fmt", ["glove", "word2vec", "word2vec-binary"])
@pytest.mark.parametrize("word, why", [
    ("", "empty"), (" a", "a space"), ("a ", "a space"), ("a b", "a space"), ("a\tb", "a tab"),
    ("a\nb", "a line break"), ("a\rb", "a carriage return"), ("a\x00", "a NUL"),
    ("\u3000a", "begins or ends with whitespace"), ("a\u2028", "begins or ends with whitespace"),
    ("\ud800", "lone surrogate"),
])
def test_text_writers_refuse_words_that_would_not_read_back(tmp_path, fmt, word, why):
    v = Vectors(["ok", "fine", word], np.zeros((3, 2), np.float32))
    with pytest.raises(UnwritableError, match=f"words\\[2\\] = .*: .*{why}"):
        v.save(tmp_path / "v.out", format=fmt)
    assert list(tmp_path.iterdir()) == []


def test_a_leading_bom_is_refused_only_where_it_is_lost(tmp_path):
    v = Vectors(["\ufeffa", "b"], np.zeros((2, 2), np.float32))
    with pytest.raises(UnwritableError, match=r"words\[0\] = .*U\+FEFF"):
        v.save(tmp_path / "v.txt")
    for name in ("v.vec", "v.bin", "v.wv"):
        assert wordvecs.load(v.save(tmp_path / name)).words == v.words


_WORD = st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=6),
                 st.from_regex(r"[-+0-9.e \t]{1,4}", fullmatch=True))
_VALUE = st.one_of(st.floats(width=32, allow_nan=False), st.integers(-2, 9).map(float))


def test_a_glove_file_whose_first_line_reads_as_a_header_is_refused(tmp_path):
    v = Vectors(["3", "a"], np.float32([[1.0], [2.0]]))
    with pytest.raises(UnwritableError, match="its line '3 1' reads as a word2vec"):
        v.save(tmp_path / "v.txt")
    assert wordvecs.load(v.save(tmp_path / "v.vec")).words == ["3", "a"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(words=st.lists(_WORD, min_size=1, max_size=5, unique=True),
       dim=st.integers(1, 3), data=st.data())
@pytest.mark.parametrize("fmt", ["glove", "word2vec", "word2vec-binary"])
def test_what_a_writer_accepts_reads_back(tmp_path, fmt, words, dim, data):
    values = data.draw(st.lists(_VALUE, min_size=len(words) * dim,
                                max_size=len(words) * dim))
    m = np.array(values, np.float32).reshape(len(words), dim)
    v = Vectors(words, m)
    path = tmp_path / "v.out"
    try:
        v.save(path, format=fmt, overwrite=True)
    except UnwritableError:
        assume(False)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = wordvecs.load(path)  # sniffed, as a user would load it
    assert back.words == words
    assert back.matrix.tobytes() == m.tobytes()


# --- 5. a full, read-only or size-limited disk ------------------------------------------------

FSIZE = """
import resource, signal, sys
import numpy as np, wordvecs
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
v = wordvecs.Vectors([f"w{i}" for i in range(2000)], np.ones((2000, 10), np.float32))
v.save(sys.argv[1])
"""


@pytest.mark.parametrize("name", ["v.txt", "v.bin", "v.wv"])
def test_a_file_size_limit_is_one_error_and_leaves_nothing(tmp_path, name):
    out = subprocess.run([sys.executable, "-c", FSIZE, str(tmp_path / name)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(f"wordvecs.errors.WriteError: cannot write {tmp_path / name}: ")
    assert last.endswith(("file too large (a file size limit, or the file system's)",
                          "the disk is full, or a file size limit")), last
    assert list(tmp_path.iterdir()) == []


def test_a_file_size_limit_at_the_cli(tmp_path, small_vec):
    code = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            "resource.setrlimit(resource.RLIMIT_FSIZE, (4000, 4000)); "
            "from wordvecs.cli import main; sys.argv[0] = 'wordvecs'; main()")
    out = subprocess.run([sys.executable, "-c", code, "convert", "glove-6b-50d",
                          str(tmp_path / "o.wv"), "--limit", "100"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().startswith(f"Error: cannot write {tmp_path / 'o.wv'}: ")
    assert "file size limit" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.vec"]


@pytest.mark.parametrize("code, reason", [(errno.ENOSPC, "no space left on the device"),
                                          (errno.EROFS, "read-only file system"),
                                          (errno.EDQUOT, "disk quota exceeded")])
@pytest.mark.parametrize("name", ["o.txt", "o.bin", "o.wv"])
@pytest.mark.parametrize("where", ["write", "create"])
def test_disk_full_and_read_only_are_one_line(tmp_path, small_vec, monkeypatch, code, reason,
                                               name, where):
    import builtins

    real_open, real_mkdir = builtins.open, os.mkdir
    dst = tmp_path / name

    def failing_open(file, mode="r", *a, **k):
        if ".tmp-" in str(file) and ("w" in mode or "a" in mode):
            raise OSError(code, os.strerror(code), str(file))
        return real_open(file, mode, *a, **k)

    def failing_mkdir(path, *a, **k):
        if ".tmp-" in str(path):
            raise OSError(code, os.strerror(code), str(path))
        return real_mkdir(path, *a, **k)

    if where == "write":
        monkeypatch.setattr(np, "save", lambda *a, **k: (_ for _ in ()).throw(
            OSError(code, os.strerror(code))))
        monkeypatch.setattr(builtins, "open", failing_open)
    else:
        monkeypatch.setattr(os, "mkdir", failing_mkdir)
        monkeypatch.setattr(builtins, "open", failing_open)
    res = CliRunner().invoke(cli, ["convert", str(small_vec), str(dst)])
    _one_line_error(res, f"cannot write {dst}: {reason}")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.vec"]


# --- 6. old temporaries of killed saves --------------------------------------------------------

@pytest.mark.parametrize("name", ["s.wv", "v.txt"])
def test_old_temporaries_beside_the_target_are_removed(tmp_path, name):
    old = time.time() - 2 * 86400
    stale_dir = tmp_path / f".{name}.tmp-0123456789ab"
    stale_dir.mkdir()
    (stale_dir / "vectors.npy").write_bytes(b"half")
    stale_file = tmp_path / f".{name}.tmp-00000000000f"
    stale_file.write_bytes(b"half")
    fresh = tmp_path / f".{name}.tmp-aaaaaaaaaaaa"  # another save may be writing it now
    fresh.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("keep")
    link = tmp_path / f".{name}.tmp-bbbbbbbbbbbb"
    link.symlink_to(elsewhere)
    others = [tmp_path / f".{name}.tmp-0123456789abc", tmp_path / f".{name}.tmp-0123456789aZ",
              tmp_path / ".other.tmp-0123456789ab", tmp_path / f"{name}.tmp-0123456789ab"]
    for p in others:
        p.mkdir()
    for p in (stale_dir, stale_file, fresh, elsewhere, link, *others):
        os.utime(p, (old, old), follow_symlinks=False)
    os.utime(fresh, None)
    _vectors().save(tmp_path / name)
    left = {p.name for p in tmp_path.iterdir()}
    assert stale_dir.name not in left and stale_file.name not in left
    assert {fresh.name, link.name, "elsewhere", name, *(p.name for p in others)} == left
    assert (elsewhere / "keep").read_text() == "keep"
