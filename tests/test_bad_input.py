"""Every row of the foundation issue's bad-input table, on both text kernels where text is read."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import struct
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import wordvecs
from wordvecs import FormatError, SourceError, StoreError, WordvecsWarning


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def no_warnings(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", WordvecsWarning)
        return fn(*args, **kw)


# --- words containing spaces ------------------------------------------------------------------

def test_word_with_spaces_takes_all_but_last_dim_fields(tmp_path, kernel):
    p = write(tmp_path / "v.txt",
              b"the 0.1 0.2 0.3\n. . . 1 2 3\nat name@domain.com 4 5 6\nx\xc2\xa0y 7 8 9\n")
    v = no_warnings(wordvecs.load, p)
    assert v.words == ["the", ". . .", "at name@domain.com", "x\u00a0y"]
    assert v.dim == 3
    np.testing.assert_array_equal(v[". . ."], np.float32([1, 2, 3]))
    np.testing.assert_array_equal(v["at name@domain.com"], np.float32([4, 5, 6]))


def test_word_with_spaces_at_the_start_does_not_change_dim(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b". . . 1 2\nthe 3 4\nof 5 6\n")
    v = wordvecs.load(p)
    assert v.dim == 2 and v.words == [". . .", "the", "of"]


# --- duplicates -------------------------------------------------------------------------------

def test_duplicates_keep_first_and_warn_once(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"a 1 1\nb 2 2\na 3 3\nc 4 4\nb 5 5\n")
    with pytest.warns(WordvecsWarning, match=r"2 duplicate word\(s\).*line 3") as rec:
        v = wordvecs.load(p)
    assert len([w for w in rec if issubclass(w.category, WordvecsWarning)]) == 1
    assert v.words == ["a", "b", "c"]
    np.testing.assert_array_equal(v.matrix, np.float32([[1, 1], [2, 2], [4, 4]]))
    assert v.index("c") == 2  # no empty rows


# --- BOM, CRLF, blank lines -------------------------------------------------------------------

def test_bom_crlf_and_blank_lines(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"\xef\xbb\xbfthe 1 2\r\n\r\n\nof 3 4\r\n  \r\nand 5 6")
    v = no_warnings(wordvecs.load, p)
    assert v.words == ["the", "of", "and"]
    np.testing.assert_array_equal(v.matrix, np.float32([[1, 2], [3, 4], [5, 6]]))


def test_word2vec_text_with_trailing_spaces_and_crlf(tmp_path, kernel):
    p = write(tmp_path / "v.vec", b"2 3\r\nthe 1 2 3 \r\nof 4 5 6 \r\n")
    v = no_warnings(wordvecs.load, p)
    assert v.format == "word2vec" and v.words == ["the", "of"] and v.dim == 3


# --- encoding ---------------------------------------------------------------------------------

def test_invalid_utf8_is_an_error_naming_file_line_and_bytes(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"the 1 2\nbad\xff\xfeword 3 4\n")
    with pytest.raises(FormatError) as exc:
        wordvecs.load(p)
    msg = str(exc.value)
    assert "v.txt" in msg and "line 2" in msg and "\\xff" in msg
    assert exc.value.line == 2


@pytest.mark.parametrize("errors, words", [("replace", ["the", "bad\ufffd\ufffdword", "of"]),
                                           ("skip", ["the", "of"])])
def test_invalid_utf8_replace_or_skip_counts_and_warns(tmp_path, kernel, errors, words):
    p = write(tmp_path / "v.txt", b"the 1 2\nbad\xff\xfeword 3 4\nof 5 6\n")
    with pytest.warns(WordvecsWarning, match=r"1 word\(s\) with invalid bytes.*line 2"):
        v = wordvecs.load(p, errors=errors)
    assert v.words == words


# --- wrong number of values, not a number -----------------------------------------------------

@pytest.mark.parametrize("line, found", [(b"of 3\n", "found 1"), (b"of 3 4 5\n", "found 3")])
def test_wrong_number_of_values(tmp_path, kernel, line, found):
    p = write(tmp_path / "v.txt", b"the 1 2\nand 1 2\n" + line + b"a 7 8\n")
    with pytest.raises(FormatError, match=rf"v\.txt, line 3: expected 2 values.*{found}"):
        wordvecs.load(p)


def test_value_that_is_not_a_number(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"the 1 2\nof 3 x4\nand 5 6\n")
    with pytest.raises(FormatError, match=r"v\.txt, line 2: expected a number; found 'x4'"):
        wordvecs.load(p)


def test_bad_lines_skipped_counted_and_warned(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"the 1 2\nof 3 x4\nand 5\nto 7 8\nin 9 nan0\n")
    with pytest.warns(WordvecsWarning, match=r"3 bad line\(s\) skipped \(first at line 2\)"):
        v = wordvecs.load(p, on_bad_line="skip")
    assert v.words == ["the", "to"]
    np.testing.assert_array_equal(v.matrix, np.float32([[1, 2], [7, 8]]))
    assert v.index("to") == 1


def test_first_error_in_file_order_is_reported(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"the 1 2\nof 3 x\nand 5\n")
    with pytest.raises(FormatError, match="line 2"):
        wordvecs.load(p)
    p = write(tmp_path / "w.txt", b"the 1 2\nof 3\nand 5 x\n")
    with pytest.raises(FormatError, match="line 2"):
        wordvecs.load(p)


# --- nan, inf, overflow -----------------------------------------------------------------------

def test_nonfinite_values_warn_with_count(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"a nan 1\nb inf -inf\nc 1e39 2\nd 1 2\n")
    with pytest.warns(WordvecsWarning, match=r"4 value\(s\) are nan or inf"):
        v = wordvecs.load(p)
    assert np.isnan(v["a"][0]) and v["b"][0] == np.inf and v["b"][1] == -np.inf
    assert v["c"][0] == np.inf  # overflows float32, as np.float32(1e39) does


# --- headers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [5, 1, 0, -3, 10**11])
def test_header_count_wrong_or_absurd_gives_real_count_and_warns(tmp_path, kernel, count):
    p = write(tmp_path / "v.vec", f"{count} 2\n".encode() + b"a 1 2\nb 3 4\n")
    with pytest.warns(WordvecsWarning, match=rf"header says {count:,} vectors; the file has 2"):
        v = wordvecs.load(p)
    assert len(v) == 2


def test_binary_header_count_wrong_or_absurd(tmp_path):
    body = b"a " + np.float32([1, 2]).tobytes() + b"\nb " + np.float32([3, 4]).tobytes() + b"\n"
    for count in (7, -1, 10**11):
        p = write(tmp_path / "v.bin", f"{count} 2\n".encode() + body)
        with pytest.warns(WordvecsWarning, match="the file has 2"):
            v = wordvecs.load(p)
        assert v.words == ["a", "b"]


def test_header_dim_absurd_is_an_error(tmp_path, kernel):
    p = write(tmp_path / "v.vec", b"2 100000000000\na 1 2\nb 3 4\n")
    with pytest.raises(FormatError, match=r"line 1: absurd header"):
        wordvecs.load(p)


def test_header_dim_disagrees_with_rows(tmp_path, kernel):
    p = write(tmp_path / "v.vec", b"2 3\na 1 2\nb 3 4\n")
    with pytest.raises(FormatError, match=r"line 2: expected 3 values after the word; found 2"):
        wordvecs.load(p)


# --- truncated binary, text vs binary ---------------------------------------------------------

def _binary(words, matrix, newline=True):
    out = f"{len(words)} {matrix.shape[1]}\n".encode()
    for w, row in zip(words, matrix):
        out += w.encode() + b" " + row.astype("<f4").tobytes() + (b"\n" if newline else b"")
    return out


# header 4 bytes; entries of 19, 20, 21 bytes start at offsets 4, 23, 43 (64 bytes in all)
@pytest.mark.parametrize("cut, offset", [(2, 43), (5, 43), (17, 43), (20, 43), (23, 23),
                                         (40, 23)])  # (cut 1 drops only the optional newline)
def test_truncated_binary_names_exact_byte_offset(tmp_path, kernel, cut, offset):
    data = _binary(["a", "bb", "ccc"], np.arange(12, dtype=np.float32).reshape(3, 4))
    assert len(data) == 64
    p = write(tmp_path / "v.bin", data[:-cut])
    with pytest.raises(FormatError, match=rf"v\.bin, byte offset {offset}: truncated file") as e:
        wordvecs.load(p)
    assert e.value.offset == offset


def test_binary_without_space_does_not_hang(tmp_path):
    p = write(tmp_path / "v.bin", b"3 4\n" + bytes(range(128, 256)) * 2000)
    with pytest.raises(FormatError, match="byte offset"):
        wordvecs.load(p, format="word2vec-binary")


def test_text_read_as_binary_is_detected(tmp_path):
    p = write(tmp_path / "v.vec", b"2 3\nthe 0.1 0.2 0.3\nof 0.4 0.5 0.6\n")
    with pytest.raises(FormatError, match="look like word2vec"):
        wordvecs.load(p, format="word2vec-binary")


def test_binary_read_as_text_is_detected(tmp_path):
    p = write(tmp_path / "v.bin", _binary(["a", "b"], np.ones((2, 3), np.float32) * 0.3))
    with pytest.raises(FormatError, match="look like word2vec-binary"):
        wordvecs.load(p, format="glove")


# --- empty, missing, directory, zip -----------------------------------------------------------

def test_empty_file(tmp_path):
    with pytest.raises(FormatError, match=r"e\.txt: the file is empty"):
        wordvecs.load(write(tmp_path / "e.txt", b""))
    with pytest.raises(FormatError, match="empty"):
        wordvecs.load(write(tmp_path / "blank.txt", b"\n\n  \n"))


def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match=r"nope\.txt: no such file"):
        wordvecs.load(tmp_path / "nope.txt")


def test_directory_that_is_not_a_store(tmp_path):
    with pytest.raises(SourceError, match="is a directory"):
        wordvecs.load(tmp_path)


def test_zip_with_several_members_lists_them(tmp_path):
    z = tmp_path / "glove.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("glove.50d.txt", "a 1 2\n")
        zf.writestr("glove.100d.txt", "a 1 2 3\n")
    with pytest.raises(SourceError, match=r"2 members.*glove\.50d\.txt, glove\.100d\.txt"):
        wordvecs.load(z)
    assert wordvecs.load(f"{z}#glove.100d.txt").dim == 3
    with pytest.raises(SourceError, match=r"no member 'x\.txt'"):
        wordvecs.load(f"{z}#x.txt")


def test_not_a_vectors_file(tmp_path):
    p = write(tmp_path / "x.dat", bytes(range(256)) * 10)
    with pytest.raises(FormatError, match="not a word vectors file"):
        wordvecs.load(p)


@pytest.mark.parametrize("opener", [gzip.open, bz2.open, lzma.open])
def test_truncated_compressed_file(tmp_path, opener):
    p = tmp_path / "v.txt.x"
    with opener(p, "wb") as fh:
        fh.write(b"".join(b"w%d 0.5 0.25\n" % i for i in range(20000)))
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match="damaged or cut short"):
        wordvecs.load(p)


# --- stores -----------------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path, small_vectors):
    return small_vectors.save(tmp_path / "s.wv")


def test_store_of_another_version(store):
    meta = json.loads((store / "meta.json").read_text())
    meta["version"] = 99
    (store / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(StoreError, match="format version 99; this wordvecs reads version 1"):
        wordvecs.load(store)


@pytest.mark.parametrize("damage", ["truncate-vectors", "drop-words", "bad-json", "flip-byte"])
def test_damaged_store(store, damage):
    if damage == "truncate-vectors":
        f = store / "vectors.npy"
        f.write_bytes(f.read_bytes()[:-4])
    elif damage == "drop-words":
        (store / "words.arrow").unlink()
    elif damage == "bad-json":
        (store / "meta.json").write_text("{not json")
    else:
        f = store / "vectors.npy"
        data = bytearray(f.read_bytes())
        data[-1] ^= 0xFF
        f.write_bytes(bytes(data))
        wordvecs.load(store)  # cheap open checks sizes only ...
        with pytest.raises(StoreError, match="sha256"):  # ... verify=True reads every byte
            wordvecs.load(store, verify=True)
        return
    with pytest.raises(StoreError, match=r"s\.wv"):
        wordvecs.load(store)


def test_binary_header_only_is_empty_vectors(tmp_path):
    p = write(tmp_path / "v.bin", b"0 4\n")
    v = wordvecs.load(p, format="word2vec-binary")
    assert len(v) == 0 and v.dim == 4


def test_binary_float_values_exact(tmp_path):
    m = np.array([[1.5, -0.0, 3.4028235e38, 1e-45]], np.float32)
    v = wordvecs.load(write(tmp_path / "v.bin", _binary(["w"], m, newline=False)))
    assert v.matrix.tobytes() == m.tobytes()
    assert struct.unpack("<f", v.matrix[0, 1].tobytes())[0] == 0.0


def test_not_a_vectors_file_is_described_not_quoted(tmp_path):
    # the error names the file and what it looks like, but never prints what it holds
    secret = "alice:$6$saltsalt$hashedpasswordhashedpassword:19000:0:99999:7:::\n"
    p = write(tmp_path / "shadow", (secret * 3).encode())
    with pytest.raises(FormatError) as info:
        wordvecs.load(p)
    msg = str(info.value)
    assert str(p) in msg and "not a word vectors file" in msg
    assert "text whose first line has 1 field, 0 of them numbers" in msg
    assert "alice" not in msg and "salt" not in msg and "hashed" not in msg
    from click.testing import CliRunner

    from wordvecs.cli import cli

    res = CliRunner().invoke(cli, ["info", str(p)])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "salt" not in res.output and "Traceback" not in res.output
    p = write(tmp_path / "x.dat", bytes(range(128, 256)) * 10)
    with pytest.raises(FormatError, match=r"found binary data \(1,280 bytes read; the first line"):
        wordvecs.load(p)


def test_add_of_a_file_that_is_no_vectors_is_one_line_without_its_content(tmp_path,
                                                                          monkeypatch):
    """``wordvecs add x /etc/passwd``-style: one line, exit 2, the file described not quoted,
    nothing placed in the cache."""
    from click.testing import CliRunner

    from wordvecs.cli import cli

    home = tmp_path / "home"
    monkeypatch.setenv("WORDVECS_HOME", str(home))
    p = write(tmp_path / "passwd", b"root:x:0:0:root:/root:/bin/bash\n"
                                   b"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
    res = CliRunner().invoke(cli, ["add", "x", str(p)])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in res.output
    assert str(p) in lines[0] and "text whose first line has 1 field, 0 of them numbers" in lines[0]
    assert "root" not in lines[0].replace(str(p), "") and "/bin/bash" not in lines[0]
    assert [q for q in home.rglob("*") if "locks" not in q.relative_to(home).parts] == []
