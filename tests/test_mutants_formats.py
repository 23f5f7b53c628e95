"""Tests written to kill the mutants of ``formats/text.py`` and ``formats/binary.py`` that the
reader tests let live (issue 24, item 4; benchmarks/mutation/mut-formats.md).

Most check a whole error message or warning (file, line or byte offset, what was expected and
found), or compare what is read with Python's own parsing of the same bytes."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import wordvecs
from wordvecs import FormatError, UsageError, Vectors, WordvecsWarning
from wordvecs.errors import UnwritableError, WriteError
from wordvecs.formats import text as text_mod
from wordvecs.formats.text import ReadOptions


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def load_warned(path: Path, **kw) -> tuple[Vectors, list[str]]:
    """The vectors and the messages of every WordvecsWarning the read gave."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        v = wordvecs.load(path, **kw)
    return v, [str(w.message) for w in rec if issubclass(w.category, WordvecsWarning)]


def error_of(path: Path, **kw) -> FormatError:
    with pytest.raises(FormatError) as err:
        wordvecs.load(path, **kw)
    return err.value


# --- text: words the slow path handles (NUL bytes, several fields, invalid bytes) ---------------

def test_nul_byte_in_a_word_names_file_line_and_the_word(tmp_path, kernel):
    word = b"n\x00" + b"x" * 70
    p = write(tmp_path / "v.txt", b"a 1 2\n" + word + b" 3 4\n")
    err = error_of(p, format="glove")
    assert str(err) == f"{p}, line 2: a NUL byte in the word; found {word[:60].decode()!r}"
    assert err.path == str(p) and err.line == 2


def test_nul_byte_rows_skipped_and_counted(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"a 1 2\nb\x00 3 4\nc 5 6\nd\x00 7 8\n")
    v, msgs = load_warned(p, format="glove", on_bad_line="skip")
    assert v.words == ["a", "c"]
    np.testing.assert_array_equal(v.matrix, np.float32([[1, 2], [5, 6]]))
    assert msgs == [f"{p}: 2 bad line(s) skipped (first at line 2)"]


def test_a_file_of_nul_rows_skipped_is_empty_not_a_crash(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"a\x00 1 2\nb\x00 3 4\n")
    v, msgs = load_warned(p, format="glove", on_bad_line="skip")
    assert len(v) == 0 and v.dim == 2
    assert msgs == [f"{p}: 2 bad line(s) skipped (first at line 1)"]


def test_too_many_values_skipped_and_counted(tmp_path, kernel):
    # 'b 1 2 3' in a 2-d file: the extra field is a number, so the row has too many values
    p = write(tmp_path / "v.txt", b"a 1 2\nb 1 2 3\nc 5 6\nd 1 2 3\ne 7 8\n")
    err = error_of(p)
    assert str(err) == f"{p}, line 2: expected 2 values after the word; found 3"
    v, msgs = load_warned(p, on_bad_line="skip")
    assert v.words == ["a", "c", "e"]
    assert msgs == [f"{p}: 2 bad line(s) skipped (first at line 2)"]


def test_vocab_on_the_slow_path_keeps_every_listed_word(tmp_path, kernel):
    # a word with a space sends the chunk down the slow path; words not asked for come first
    p = write(tmp_path / "v.txt", b"x y 0 0\na 1 2\nz 9 9\nb 3 4\nc d 5 6\n")
    v = wordvecs.load(p, vocab={"b", "c d", "a"})
    assert v.words == ["a", "b", "c d"]
    np.testing.assert_array_equal(v.matrix, np.float32([[1, 2], [3, 4], [5, 6]]))


def test_invalid_bytes_name_the_byte_and_the_word(tmp_path, kernel):
    word = b"ab\xffc" + b"y" * 70
    p = write(tmp_path / "v.txt", b"a 1 2\n" + word + b" 3 4\n")
    err = error_of(p, format="glove")
    assert str(err) == (f"{p}, line 2: the word is not valid utf-8 (byte 2: b'\\xff'); "
                        f"found {word[:60]!r}")
    err = error_of(p, format="glove", encoding="utf_8")
    assert "the word is not valid utf_8 (byte 2: b'\\xff')" in str(err)


@pytest.mark.parametrize("errors, words", [
    ("replace", ["a", "b\ufffd", "c", "d\ufffd\ufffd"]),
    ("skip", ["a", "c"]),
])
def test_invalid_bytes_counted(tmp_path, kernel, errors, words):
    p = write(tmp_path / "v.txt", b"a 1 2\nb\xff 3 4\nc 5 6\nd\xfe\xff 7 8\n")
    v, msgs = load_warned(p, format="glove", errors=errors)
    assert v.words == words
    what = "replaced" if errors == "replace" else "skipped"
    assert msgs == [f"{p}: 2 word(s) with invalid bytes {what} (first at line 2)"]


# --- text: the token named in a bad-value error ---------------------------------------------

def test_bad_value_names_its_token_cut_to_40_characters(tmp_path, kernel):
    tok = "v" * 50
    p = write(tmp_path / "v.txt", f"a 1 2\nb 3 {tok}\n".encode())
    assert str(error_of(p)) == f"{p}, line 2: expected a number; found {tok[:40]!r}"


def test_bad_value_with_invalid_bytes_is_named_not_a_crash(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"a 1 2\nb 3 4\xff\n")
    found = repr("4\ufffd")
    assert str(error_of(p, format="glove")) == f"{p}, line 2: expected a number; found {found}"


def test_digits_float_reads_but_the_kernel_does_not(tmp_path, kernel):
    # float() takes any Unicode decimal digits; the kernel (like NumPy's loadtxt on bytes) only
    # ASCII: the error then shows the first 40 bytes of the values, cut inside a 3-byte digit
    digits = "\u0967\u0968\u0969" * 5  # Devanagari 1 2 3: 3 bytes each in UTF-8
    assert float(digits) == 123123123123123.0
    p = write(tmp_path / "v.txt", f"a 1 2\nb 3 {digits}\n".encode())
    seg = f"3 {digits}".encode()[:40].decode("utf-8", "replace")
    assert seg.endswith("\ufffd")
    assert str(error_of(p)) == f"{p}, line 2: expected a number; found {seg!r}"


# --- text: over-long lines -------------------------------------------------------------------

@pytest.mark.parametrize("where", ["middle", "end"])
def test_line_too_long_names_line_and_size(tmp_path, monkeypatch, kernel, where):
    monkeypatch.setattr(text_mod, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(text_mod, "CHUNK_BYTES", 256)
    monkeypatch.setattr(text_mod, "MIN_CHUNK_BYTES", 256)
    long = b"w" * 3000 + b" 1"  # longer than the buffer grows to (MAX_LINE_BYTES + a chunk)
    data = b"a 1\nb 2\n" + long + (b"\nc 3\n" if where == "middle" else b"")
    p = write(tmp_path / "v.txt", data)
    err = error_of(p, format="glove")
    assert err.line == 3
    assert str(err).startswith(f"{p}, line 3: the line is too long; expected at most 1,000 "
                               "bytes; found ")
    seen = int(re.search(r"found ([\d,]+) bytes without", str(err)).group(1).replace(",", ""))
    assert seen > 1000


# --- writing ---------------------------------------------------------------------------------

def small() -> Vectors:
    return Vectors(["a", "b"], np.float32([[0.123456789, 2.5], [-1.0, 1e-3]]))


@pytest.mark.parametrize("precision", [0, 18, -1])
def test_precision_out_of_range(tmp_path, precision):
    with pytest.raises(UsageError) as err:
        text_mod.write_text(small(), tmp_path / "v.txt", header=False, precision=precision)
    assert str(err.value) == f"precision must be 1 to 17 significant digits, not {precision}"


@pytest.mark.parametrize("precision", [1, 2, 17])
def test_precision_in_range_is_what_printf_gives(tmp_path, precision):
    v = small()
    path = text_mod.write_text(v, tmp_path / "v.txt", header=False, precision=precision)
    fmt = f"%.{precision}g"
    assert path.read_text() == "".join(
        w + " " + " ".join(fmt % x for x in row) + "\n" for w, row in zip(v.words, v.matrix))


def test_write_word2vec_passes_its_options(tmp_path):
    v = small()
    path = text_mod.write_word2vec(v, tmp_path / "v.vec", precision=2)
    assert path.read_text() == "2 2\na 0.12 2.5\nb -1 0.001\n"
    with pytest.raises(WriteError):
        text_mod.write_word2vec(v, path, precision=2)
    text_mod.write_word2vec(v, path, precision=3, overwrite=True)
    assert path.read_text().splitlines()[1] == "a 0.123 2.5"


def test_write_glove_has_no_header(tmp_path):
    path = text_mod.write_glove(small(), tmp_path / "v.txt", precision=2)
    assert path.read_text() == "a 0.12 2.5\nb -1 0.001\n"


def test_write_text_never_replaces_a_file_by_default(tmp_path):
    path = write(tmp_path / "v.txt", b"keep")
    with pytest.raises(WriteError):
        text_mod.write_text(small(), path, header=False)
    assert path.read_bytes() == b"keep"


@pytest.mark.parametrize("header, fmt", [(True, "word2vec text"), (False, "GloVe text")])
def test_unwritable_word_names_the_format(tmp_path, header, fmt):
    v = Vectors(["a", "b c\n"], np.zeros((2, 1), np.float32))
    with pytest.raises(UnwritableError, match=rf"^cannot write words\[1\] = 'b c\\n' as {fmt}: "):
        text_mod.write_text(v, tmp_path / "v.txt", header=header)


def test_a_bom_starts_only_a_glove_file(tmp_path):
    v = Vectors(["\ufeffa", "b"], np.float32([[1.0], [2.0]]))
    with pytest.raises(UnwritableError, match=r"^cannot write words\[0\] = '\\ufeffa' as GloVe"):
        text_mod.write_text(v, tmp_path / "v.txt", header=False)
    path = text_mod.write_text(v, tmp_path / "v.vec", header=True)
    assert wordvecs.load(path).words == v.words


def test_glove_first_line_that_reads_as_a_header_is_refused(tmp_path):
    v = Vectors(["3", "a"], np.float32([[2.5], [1.0]]))
    path = text_mod.write_text(v, tmp_path / "v.txt", header=False)  # '3 2.5' is no header
    assert wordvecs.load(path).words == ["3", "a"]
    with pytest.raises(UnwritableError) as err:  # '3 2' is
        text_mod.write_text(v, tmp_path / "w.txt", header=False, precision=1)
    assert str(err.value) == ("cannot write words[0] = '3' as GloVe text: its line '3 2' reads "
                              "as a word2vec 'count dim' header; write word2vec text (.vec) "
                              "instead")
    assert not (tmp_path / "w.txt").exists()
    path = text_mod.write_text(v, tmp_path / "w.vec", header=True, precision=1)
    assert path.read_text() == "2 1\n3 2\na 1\n"


def test_glove_first_line_check_uses_only_the_first_row(tmp_path):
    v = Vectors(["a", "3"], np.float32([[2.0], [1.0]]))
    path = text_mod.write_text(v, tmp_path / "v.txt", header=False)
    assert path.read_text() == "a 2\n3 1\n"


def test_write_text_never_makes_folders(tmp_path):
    with pytest.raises(WriteError):
        text_mod.write_text(small(), tmp_path / "missing" / "v.txt", header=False)
    assert not (tmp_path / "missing").exists()


def test_write_text_in_several_blocks(tmp_path):
    # 4 << 20 values a block: 1,024 rows of 4,096; the last block is one row (a new newline column)
    rng = np.random.default_rng(0)
    m = np.zeros((1025, 4096), np.float32)
    m[:, :2] = rng.integers(-9, 9, (1025, 2))
    v = Vectors([f"w{i}" for i in range(1025)], m)
    path = text_mod.write_text(v, tmp_path / "v.txt", header=False)
    back = wordvecs.load(path)
    assert back.words == v.words
    np.testing.assert_array_equal(back.matrix, m)


# --- progress bars ---------------------------------------------------------------------------

class Bars:
    """Stands in for Progress: records each bar's arguments and its updates."""

    def __init__(self) -> None:
        self.made: list[dict] = []

    def __call__(self, total, desc, *, enabled, unit="B"):
        bar = {"total": total, "desc": desc, "enabled": enabled, "unit": unit, "done": 0}
        self.made.append(bar)
        outer = self

        class Bar:
            def update(self, n):
                bar["done"] += n

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                outer.closed = True

        return Bar()


def bars_on_a_terminal(monkeypatch, module, min_bytes: int) -> Bars:
    """Record the bars of ``module`` as if stderr were a terminal, with ``MIN_BYTES`` set."""
    import sys

    import wordvecs.progress as progress_mod

    bars = Bars()
    monkeypatch.setattr(module, "Progress", bars)
    monkeypatch.setattr(progress_mod, "MIN_BYTES", min_bytes)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    return bars


@pytest.mark.parametrize("progress", [True, False])
def test_write_text_progress_bar(tmp_path, monkeypatch, progress):
    bars = Bars()
    monkeypatch.setattr(text_mod, "Progress", bars)
    text_mod.write_text(small(), tmp_path / "v.txt", header=False, progress=progress)
    assert bars.made == [{"total": 2, "desc": "writing v.txt", "enabled": progress,
                          "unit": "rows", "done": 2}]


@pytest.mark.parametrize("threshold, shown", [(24, True), (25, False)])
def test_write_text_progress_bar_by_size(tmp_path, monkeypatch, threshold, shown):
    # on a terminal, the bar shows for at least MIN_BYTES of float32 values (here 3 x 2 x 4)
    bars = bars_on_a_terminal(monkeypatch, text_mod, threshold)
    v = Vectors(["a", "b", "c"], np.ones((3, 2), np.float32))
    text_mod.write_text(v, tmp_path / "v.txt", header=False)
    assert [b["enabled"] for b in bars.made] == [shown]


@pytest.mark.parametrize("chunk", [None, 64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_text_progress_bar(tmp_path, monkeypatch, kernel, suffix, chunk):
    import gzip

    if chunk:  # many chunks, some lines carried over: each counts only the bytes it read
        monkeypatch.setattr(text_mod, "CHUNK_BYTES", chunk)
        monkeypatch.setattr(text_mod, "MIN_CHUNK_BYTES", chunk)

    data = b"".join(b"w%d %d 1\n" % (i, i) for i in range(500))
    p = tmp_path / f"v.txt{suffix}"
    p.write_bytes(gzip.compress(data) if suffix else data)
    bars = Bars()
    monkeypatch.setattr(text_mod, "Progress", bars)
    v = wordvecs.load(p, progress=True)
    assert len(v) == 500
    [bar] = bars.made
    size = p.stat().st_size
    assert bar == {"total": size, "desc": f"reading {p.name}", "enabled": True, "unit": "B",
                   "done": size}


# --- text: options, warnings, headers, the dimension ------------------------------------------

@pytest.mark.parametrize("kw, message", [
    ({"errors": "ignore"}, "errors must be 'strict', 'replace' or 'skip', not 'ignore'"),
    ({"on_bad_line": "warn"}, "on_bad_line must be 'error' or 'skip', not 'warn'"),
    ({"limit": -1}, "limit must be >= 0, not -1"),
])
def test_read_options_refused(kw, message):
    with pytest.raises(UsageError) as err:
        ReadOptions(**kw)
    assert str(err.value) == message


def test_read_options_accepted():
    for errors in ("strict", "replace", "skip"):
        assert ReadOptions(errors=errors).errors == errors
    for on_bad_line in ("error", "skip"):
        assert ReadOptions(on_bad_line=on_bad_line).on_bad_line == on_bad_line
    assert ReadOptions(limit=0).limit == 0


def test_limit_zero_reads_no_rows(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"a 1 2\nb 3 4\n")
    v, msgs = load_warned(p, limit=0)
    assert len(v) == 0 and v.dim == 2 and msgs == []


def test_duplicates_warning_names_count_and_first_line(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"a 1 1\nb 2 2\nb 3 3\na 4 4\n")
    v, msgs = load_warned(p)
    assert v.words == ["a", "b"]
    assert msgs == [f"{p}: 2 duplicate word(s) skipped, the first occurrence kept (first "
                    "duplicate at line 3)"]


def test_nonfinite_values_counted(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"a 1 nan\nb inf -inf\nc 1e39 2\nd 1 2\n")
    v, msgs = load_warned(p)
    with np.errstate(over="ignore"):  # 1e39 overflows float32 to inf, as the reader's does
        ref = np.float32([[float(t) for t in line.split()[1:]] for line in
                          p.read_text().splitlines()])
    np.testing.assert_array_equal(v.matrix, ref)
    assert msgs == [f"{p}: 4 value(s) are nan or inf (or overflow float32)"]


@pytest.mark.parametrize("limit", [None, 1])
def test_header_count_that_is_not_the_files(tmp_path, kernel, limit):
    p = write(tmp_path / "v.vec", b"3 2\na 1 2\nb 3 4\n")
    v, msgs = load_warned(p, limit=limit)
    assert len(v) == (2 if limit is None else 1)
    # with a limit the file is not read to its end: the header is not checked
    assert msgs == ([f"{p}: the header says 3 vectors; the file has 2"] if limit is None else [])


def test_header_after_blank_lines_and_the_line_numbers_after_it(tmp_path, kernel):
    p = write(tmp_path / "v.vec", b"\n  \n2 2\na 1 2\nb x 4\n")
    err = error_of(p, format="word2vec")
    assert str(err) == f"{p}, line 5: expected a number; found 'x'"


def test_header_only(tmp_path, kernel):
    for data in (b"2 3\n", b"2 3"):
        p = write(tmp_path / "v.vec", data)
        v, msgs = load_warned(p, format="word2vec")
        assert len(v) == 0 and v.dim == 3
        assert msgs == [f"{p}: the header says 2 vectors; the file has 0"]


@pytest.mark.parametrize("data, message", [
    (b"x y\na 1 2\n", "line 1: expected a header line 'count dim'; found 'x y'"),
    (b"\n\nab" + b"c" * 80 + b"\n", "line 3: expected a header line 'count dim'; found "
     + repr("ab" + "c" * 58)),
    (b"2 0\n", "line 1: absurd header; expected a dimension from 1 to 1,000,000; found 0"),
    (b"2 -3\n", "line 1: absurd header; expected a dimension from 1 to 1,000,000; found -3"),
    (b"2 1000001\n", "line 1: absurd header; expected a dimension from 1 to 1,000,000; found "
     "1000001"),
])
def test_bad_word2vec_text_header(tmp_path, kernel, data, message):
    p = write(tmp_path / "v.vec", data)
    assert str(error_of(p, format="word2vec")) == f"{p}, {message}"


def test_largest_dimension_allowed(tmp_path):
    p = write(tmp_path / "v.vec", b"1 1000000\na" + b" 1" * 1_000_000 + b"\n")
    v = wordvecs.load(p, format="word2vec")
    assert v.dim == 1_000_000 and v.words == ["a"] and float(v.matrix.sum()) == 1e6


@pytest.mark.parametrize("data, message", [
    (b"\xef\xbb\xbf", ": the file is empty; expected vectors"),  # (b"": refused before)
    (b"abc\nd\n", ", line 1: expected a word followed by numbers; found a single field"),
])
def test_glove_with_no_vectors(tmp_path, kernel, data, message):
    p = write(tmp_path / "v.txt", data)
    assert str(error_of(p, format="glove")) == f"{p}{message}"


def test_lone_carriage_returns_only(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"\n\na 1 2\rb 3 4\rc 5 6\r")
    err = error_of(p, format="glove")
    assert str(err) == f"{p}, line 3: {text_mod._LONE_CR['detail']}"


@pytest.mark.parametrize("tail, dim", [(b"", 2), (b"z 1 2 3", 2), (b"z 1 2 3\n", 2)])
def test_dimension_from_the_first_thousand_lines_first_seen_on_a_tie(tmp_path, kernel, tail,
                                                                      dim):
    # lines 1-500 have 2 values, 501-1000 have 3: a tie, so the first seen (2) wins; a line
    # after the thousandth never counts, with or without its line break
    rows = [b"a%d 1 2\n" % i for i in range(500)] + [b"b%d 1 2 3\n" % i for i in range(500)]
    p = write(tmp_path / "v.txt", b"".join(rows) + tail)
    v, msgs = load_warned(p, format="glove", on_bad_line="skip")
    assert v.dim == dim and len(v) == 500
    assert msgs == [f"{p}: {500 + bool(tail)} bad line(s) skipped (first at line 501)"]


def test_dimension_most_common_wins(tmp_path, kernel):
    rows = [b"a 1 2\n"] + [b"b%d 1 2 3\n" % i for i in range(3)]
    p = write(tmp_path / "v.txt", b"".join(rows))
    v, msgs = load_warned(p, format="glove", on_bad_line="skip")
    assert v.dim == 3 and v.words == ["b0", "b1", "b2"]
    assert msgs == [f"{p}: 1 bad line(s) skipped (first at line 1)"]


def test_underscores_are_not_digits_in_a_value(tmp_path, kernel):
    # float() takes "1_000"; a vectors file does not: the value is bad, and a field "1_0"
    # after a word is part of the word, not an extra value
    assert float("1_000") == 1000.0
    p = write(tmp_path / "v.txt", b"a 1 2\nb 1_000 2\n")
    assert str(error_of(p)) == f"{p}, line 2: expected a number; found '1_000'"
    p = write(tmp_path / "v.txt", b"a 1 2\nx 1_0 3 4\n")
    v = wordvecs.load(p)
    assert v.words == ["a", "x 1_0"]


def test_estimate_rows_overestimates_a_plain_file_slightly(tmp_path):
    from wordvecs.sources import open_source

    data = b"".join(b"w%03d 1 2\n" % i for i in range(1000))  # 11 bytes a line
    p = write(tmp_path / "v.txt", data)
    source = open_source(p)
    per_line = len(data) / 1001  # (the last line break counts one more line)
    assert text_mod._estimate_rows(memoryview(data), len(data), source) == int(
        len(data) / per_line * 1.02) + 16
    assert text_mod._estimate_rows(memoryview(b""), 0, source) == 16
    import gzip

    gz = write(tmp_path / "v.txt.gz", gzip.compress(data))
    # compressed: the length is unknown; twice the rows of the chunk at hand (it grows as needed)
    assert text_mod._estimate_rows(memoryview(data), gz.stat().st_size, open_source(gz)) == int(
        len(data) / per_line * 2) + 16


# --- word2vec binary -------------------------------------------------------------------------

from wordvecs.formats import binary as binary_mod  # noqa: E402


def binary(words: list[bytes], matrix: np.ndarray, sep: bytes = b"\n",
           count: int | None = None) -> bytes:
    head = f"{len(words) if count is None else count} {matrix.shape[1]}\n".encode()
    return head + b"".join(w + b" " + row.astype("<f4").tobytes() + sep
                           for w, row in zip(words, matrix))


def offsets_of(words: list[bytes], dim: int, sep: bytes = b"\n") -> list[int]:
    """The byte offset of each entry's word (the header is 'N dim\\n')."""
    pos = len(f"{len(words)} {dim}\n")
    out = []
    for w in words:
        out.append(pos)
        pos += len(w) + 1 + 4 * dim + len(sep)
    return out


M3 = np.float32([[1, 2], [3, 4], [5, 6]])


def test_binary_nul_byte_names_offset_and_word(tmp_path):
    words = [b"a", b"b\x00" + b"x" * 70, b"c"]
    p = write(tmp_path / "v.bin", binary(words, M3))
    err = error_of(p, format="word2vec-binary")
    off = offsets_of(words, 2)[1]
    assert str(err) == (f"{p}, byte offset {off}: a NUL byte in the word; "
                        f"found {words[1][:60]!r}")
    assert err.offset == off and err.path == str(p)


def test_binary_invalid_bytes_name_offset_byte_and_word(tmp_path):
    words = [b"a", b"ab\xffc" + b"y" * 70, b"c"]
    p = write(tmp_path / "v.bin", binary(words, M3))
    err = error_of(p, format="word2vec-binary")
    off = offsets_of(words, 2)[1]
    assert str(err) == (f"{p}, byte offset {off}: the word is not valid utf-8 (byte 2: "
                        f"b'\\xff'); found {words[1][:60]!r}")
    assert err.offset == off
    err = error_of(p, format="word2vec-binary", encoding="utf_8")
    assert "the word is not valid utf_8 (byte 2: b'\\xff')" in str(err)


@pytest.mark.parametrize("errors", ["replace", "skip"])
def test_binary_invalid_bytes_counted(tmp_path, errors):
    words = [b"a", b"b\xff", b"c", b"d\xfe", b"e"]
    m = np.arange(10, dtype=np.float32).reshape(5, 2)
    p = write(tmp_path / "v.bin", binary(words, m))
    v, msgs = load_warned(p, format="word2vec-binary", errors=errors)
    keep = [0, 1, 2, 3, 4] if errors == "replace" else [0, 2, 4]
    assert v.words == [w.decode("utf-8", "replace") for w in np.array(words, object)[keep]]
    np.testing.assert_array_equal(v.matrix, m[keep])
    what = "replaced" if errors == "replace" else "skipped"
    off = offsets_of(words, 2)[1]
    assert msgs == [f"{p}: 2 word(s) with invalid bytes {what} (first at byte offset {off})"]


def test_binary_vocab_on_the_slow_path(tmp_path):
    words = [b"x\xff", b"a", b"z", b"b"]
    m = np.arange(8, dtype=np.float32).reshape(4, 2)
    p = write(tmp_path / "v.bin", binary(words, m))
    v, msgs = load_warned(p, format="word2vec-binary", errors="skip", vocab={"b", "a"})
    assert v.words == ["a", "b"]
    assert msgs == [f"{p}: 1 word(s) with invalid bytes skipped (first at byte offset 4)"]
    np.testing.assert_array_equal(v.matrix, m[[1, 3]])
    v = wordvecs.load(write(tmp_path / "w.bin", binary(words[1:], m[1:])), vocab={"b", "q"})
    assert v.words == ["b"]
    np.testing.assert_array_equal(v.matrix, m[[3]])


def test_binary_duplicates_named_by_offset(tmp_path):
    words = [b"a", b"b", b"a"]
    p = write(tmp_path / "v.bin", binary(words, M3))
    v, msgs = load_warned(p)
    assert v.words == ["a", "b"]
    np.testing.assert_array_equal(v.matrix, M3[:2])
    off = offsets_of(words, 2)[2]
    assert msgs == [f"{p}: 1 duplicate word(s) skipped, the first occurrence kept (first "
                    f"duplicate at byte offset {off})"]


def test_binary_nonfinite_counted(tmp_path):
    m = np.float32([[np.nan, 1], [np.inf, -np.inf], [0, 1]])
    p = write(tmp_path / "v.bin", binary([b"a", b"b", b"c"], m))
    v, msgs = load_warned(p)
    assert v.matrix.tobytes() == m.tobytes()
    assert msgs == [f"{p}: 3 value(s) are nan or inf (or overflow float32)"]


def test_binary_nonfinite_counted_over_several_blocks(tmp_path):
    # counted a block of (1 << 20) // dim rows at a time: 2 rows of 2**19 values
    m = np.zeros((3, 1 << 19), np.float32)
    m[0, 0] = m[1, 5] = m[2, -1] = np.nan
    p = write(tmp_path / "v.bin", binary([b"a", b"b", b"c"], m))
    v, msgs = load_warned(p)
    assert v.matrix.tobytes() == m.tobytes()
    assert msgs == [f"{p}: 3 value(s) are nan or inf (or overflow float32)"]


@pytest.mark.parametrize("limit", [None, 2])
def test_binary_header_count_checked_only_when_read_to_the_end(tmp_path, limit):
    p = write(tmp_path / "v.bin", binary([b"a", b"b", b"c"], M3, count=5))
    v, msgs = load_warned(p, limit=limit)
    assert len(v) == (3 if limit is None else 2)
    assert msgs == ([f"{p}: the header says 5 vectors; the file has 3"] if limit is None
                    else [])


@pytest.mark.parametrize("data, message", [
    (b"x y\n", "line 1: expected a word2vec binary header 'count dim'; found b'x y\\n'"),
    (b"2 0\n", "line 1: absurd header; expected a dimension from 1 to 1,000,000; found 0"),
    (b"2 1000001\n", "line 1: absurd header; expected a dimension from 1 to 1,000,000; found "
     "1000001"),
    (b"2 3" + b" " * 98 + b"\n", "line 1: expected a word2vec binary header 'count dim'; "
     "found b'2 3" + " " * 37 + "'"),
])
def test_binary_bad_header(tmp_path, data, message):
    p = write(tmp_path / "v.bin", data)
    assert str(error_of(p, format="word2vec-binary")) == f"{p}, {message}"


def test_binary_header_line_of_100_bytes_is_read(tmp_path):
    p = write(tmp_path / "v.bin", b"1 2" + b" " * 97 + b"\na " + np.float32([1, 2]).tobytes())
    v = wordvecs.load(p, format="word2vec-binary")
    assert v.words == ["a"] and v.matrix.tolist() == [[1, 2]]


def test_binary_empty_file(tmp_path):
    p = write(tmp_path / "v.bin", b"")
    err = binary_error(p)
    assert str(err) == f"{p}: the file is empty; expected a word2vec binary header"


def test_binary_largest_dimension_allowed(tmp_path):
    m = np.ones((1, 1_000_000), np.float32)
    v = wordvecs.load(write(tmp_path / "v.bin", binary([b"a"], m)), format="word2vec-binary")
    assert v.dim == 1_000_000 and float(v.matrix.sum()) == 1e6


def read_binary(path: Path, **kw) -> Vectors:
    """The binary reader itself (``load`` refuses a file that sniffs as another format first)."""
    from wordvecs.sources import open_source

    return binary_mod.read_binary(open_source(path), options=ReadOptions(**kw))


def binary_error(path: Path, **kw) -> FormatError:
    with pytest.raises(FormatError) as err:
        read_binary(path, **kw)
    return err.value


@pytest.mark.parametrize("data, offset", [
    (b"2 3\ndog 0.1 0.2 0.3\nof 0.4 0.5 0.6\n", 8),
    (b"2 1\nlongword 0.5\nof 0.25\n", 13),  # a word longer than a vector (4 bytes)
])
def test_binary_text_is_named_at_its_offset(tmp_path, data, offset):
    p = write(tmp_path / "v.bin", data)
    err = binary_error(p)
    assert str(err) == (f"{p}, byte offset {offset}: this looks like a text file, not word2vec "
                        "binary; read it with format='word2vec' or 'auto'")


@pytest.mark.parametrize("sample, text", [
    (b"0.1", True), (b"-1e5 inf NaN\n\xff\xff", True), (b"0.", False), (b"0.1x", False),
    (b"1.5\t+2E3\r", True), (b"", False), (b"0.1\nxyz\n", True), (b"0.1\n\n", True),
    (b"\n0.1", False), (b"12", False), (b"123", True), (b"1234", True),
])
def test_looks_like_text(sample, text):
    assert binary_mod.looks_like_text(sample) is text


def test_binary_word_without_space(tmp_path):
    monkey = binary_mod.MAX_WORD_BYTES
    data = b"1 2\n" + b"w" * (monkey + 10)
    p = write(tmp_path / "v.bin", data)
    assert str(binary_error(p)) == (
        f"{p}, byte offset 4: expected a word and a space within {monkey} bytes; "
        "found no space")


def test_binary_truncated_entry(tmp_path):
    data = binary([b"a", b"bb"], M3[:2], sep=b"")
    p = write(tmp_path / "v.bin", data[:-3])
    assert str(error_of(p, format="word2vec-binary")) == (
        f"{p}, byte offset 14: truncated file; expected a word and 8 bytes of vector; "
        "found 8 bytes before the end of the file")


@pytest.mark.parametrize("chunk", [64, 1 << 20])
@pytest.mark.parametrize("limit", [0, 1, 3, 50, 299, 300, 400])
def test_binary_limit_over_chunks(tmp_path, monkeypatch, chunk, limit):
    monkeypatch.setattr(binary_mod, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(binary_mod, "MIN_CHUNK_BYTES", chunk)
    words = [b"w%d" % i for i in range(300)]
    m = np.arange(600, dtype=np.float32).reshape(300, 2)
    p = write(tmp_path / "v.bin", binary(words, m))
    v, msgs = load_warned(p, limit=limit)
    assert v.words == [w.decode() for w in words[:limit]]
    assert v.matrix.tobytes() == m[:limit].tobytes()
    assert msgs == []


def test_binary_long_entries_grow_the_buffer(tmp_path, monkeypatch):
    # entries longer than half the chunk: the buffer grows to hold one
    monkeypatch.setattr(binary_mod, "CHUNK_BYTES", 64)
    monkeypatch.setattr(binary_mod, "MIN_CHUNK_BYTES", 64)
    rng = np.random.default_rng(1)
    m = rng.standard_normal((20, 50)).astype(np.float32)
    words = [b"w%d" % i + b"x" * i for i in range(20)]
    v = wordvecs.load(write(tmp_path / "v.bin", binary(words, m)))
    assert v.words == [w.decode() for w in words] and v.matrix.tobytes() == m.tobytes()


@pytest.mark.parametrize("chunk", [None, 64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_binary_progress_bar(tmp_path, monkeypatch, suffix, chunk):
    import gzip

    if chunk:  # many refills: each counts only the bytes it read
        monkeypatch.setattr(binary_mod, "CHUNK_BYTES", chunk)
        monkeypatch.setattr(binary_mod, "MIN_CHUNK_BYTES", chunk)

    m = np.arange(1000, dtype=np.float32).reshape(500, 2)
    data = binary([b"w%d" % i for i in range(500)], m)
    p = tmp_path / f"v.bin{suffix}"
    p.write_bytes(gzip.compress(data) if suffix else data)
    bars = Bars()
    monkeypatch.setattr(binary_mod, "Progress", bars)
    v = wordvecs.load(p, progress=True, format="word2vec-binary")
    assert len(v) == 500
    size = p.stat().st_size
    assert bars.made == [{"total": size, "desc": f"reading {p.name}", "enabled": True,
                          "unit": "B", "done": size}]


# --- writing word2vec binary -----------------------------------------------------------------

def test_write_binary_bytes(tmp_path):
    v = Vectors(["a", "ü"], np.float32([[1, 2], [3, 4]]))
    path = binary_mod.write_binary(v, tmp_path / "v.bin")
    assert path.read_bytes() == binary([b"a", "ü".encode()], v.matrix)
    with pytest.raises(WriteError):
        binary_mod.write_binary(v, path)
    binary_mod.write_binary(Vectors(["b"], np.float32([[5, 6]])), path, overwrite=True)
    assert path.read_bytes() == binary([b"b"], np.float32([[5, 6]]))
    with pytest.raises(WriteError):
        binary_mod.write_binary(v, tmp_path / "missing" / "v.bin")


def test_write_binary_refuses_unreadable_words(tmp_path):
    v = Vectors(["a", "b c"], np.zeros((2, 1), np.float32))
    with pytest.raises(UnwritableError, match=r"^cannot write words\[1\] = 'b c' as word2vec "
                       "binary: "):
        binary_mod.write_binary(v, tmp_path / "v.bin")


def test_write_binary_many_blocks(tmp_path):
    n = 20_005  # 10,000 rows a block
    m = np.arange(n, dtype=np.float32).reshape(n, 1)
    words = [f"w{i}" for i in range(n)]
    path = binary_mod.write_binary(Vectors(words, m), tmp_path / "v.bin")
    v = wordvecs.load(path)
    assert v.words == words and v.matrix.tobytes() == m.tobytes()


@pytest.mark.parametrize("progress", [True, False])
def test_write_binary_progress_bar(tmp_path, monkeypatch, progress):
    bars = Bars()
    monkeypatch.setattr(binary_mod, "Progress", bars)
    binary_mod.write_binary(small(), tmp_path / "v.bin", progress=progress)
    assert bars.made == [{"total": 2, "desc": "writing v.bin", "enabled": progress,
                          "unit": "rows", "done": 2}]


@pytest.mark.parametrize("threshold, shown", [(24, True), (25, False)])
def test_write_binary_progress_bar_by_size(tmp_path, monkeypatch, threshold, shown):
    bars = bars_on_a_terminal(monkeypatch, binary_mod, threshold)
    binary_mod.write_binary(Vectors(["a", "b", "c"], np.ones((3, 2), np.float32)),
                            tmp_path / "v.bin")
    assert [b["enabled"] for b in bars.made] == [shown]


def test_binary_word_of_nul_bytes_only(tmp_path):
    p = write(tmp_path / "v.bin", binary([b"\x00"], M3[:1]))
    assert str(binary_error(p)) == f"{p}, byte offset 4: a NUL byte in the word; found b'\\x00'"


def test_binary_every_word_skipped(tmp_path):
    p = write(tmp_path / "v.bin", binary([b"a\xff", b"b\xfe"], M3[:2]))
    v, msgs = load_warned(p, format="word2vec-binary", errors="skip")
    assert len(v) == 0 and v.dim == 2
    assert msgs == [f"{p}: 2 word(s) with invalid bytes skipped (first at byte offset 4)"]


def test_dimension_counts_lines_not_bytes(tmp_path, kernel):
    # 100 rows of 2 values fill the first 1,000 bytes; 200 rows of 3 follow: 3 is the dimension
    rows = [b"a%02d 1 2\n" % i for i in range(100)] + [b"b%03d 1 2 3\n" % i for i in range(200)]
    p = write(tmp_path / "v.txt", b"".join(rows))
    v, msgs = load_warned(p, format="glove", on_bad_line="skip")
    assert v.dim == 3 and len(v) == 200
    assert msgs == [f"{p}: 100 bad line(s) skipped (first at line 1)"]


# --- encodings other than UTF-8 (the words are decoded by Python, not Arrow) -------------------

@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
@pytest.mark.parametrize("words", [[b"caf\xc3\xa9", b"na\xefve"], [b"caf\xc3\xa9", b"b"]])
def test_text_in_another_encoding(tmp_path, kernel, encoding, words):
    # b"\xc3\xa9" is "é" in UTF-8 but two characters in Latin-1 (and the second list is all
    # valid UTF-8: it must still be decoded as Latin-1)
    p = write(tmp_path / "v.txt", words[0] + b" 1 2\n" + words[1] + b" 3 4\n")
    v = wordvecs.load(p, format="glove", encoding=encoding)
    assert v.words == [w.decode(encoding) for w in words]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
@pytest.mark.parametrize("words", [[b"caf\xc3\xa9", b"na\xefve"], [b"caf\xc3\xa9", b"b"]])
def test_binary_in_another_encoding(tmp_path, encoding, words):
    v = read_binary(write(tmp_path / "v.bin", binary(words, M3[:2])), encoding=encoding)
    assert v.words == [w.decode(encoding) for w in words]


@pytest.mark.parametrize("encoding", ["utf-8", "UTF_8", "utf8", "Utf-8"])
def test_utf8_spellings_read_alike(tmp_path, kernel, encoding):
    p = write(tmp_path / "v.txt", "é 1 2\nb 3 4\n".encode())
    assert wordvecs.load(p, encoding=encoding).words == ["é", "b"]
    q = write(tmp_path / "v.bin", binary(["é".encode(), b"b"], M3[:2]))
    assert read_binary(q, encoding=encoding).words == ["é", "b"]


@pytest.mark.parametrize("fmt", ["glove", "word2vec-binary"])
@pytest.mark.parametrize("extra, shown", [(0, True), (1, False)])
def test_read_progress_bar_by_size(tmp_path, monkeypatch, fmt, extra, shown):
    # progress=None: on a terminal, a bar for a file of MIN_BYTES or more
    p = write(tmp_path / "v.txt", b"a 1 2\nb 3 4\n") if fmt == "glove" else write(
        tmp_path / "v.bin", binary([b"a", b"b"], M3[:2]))
    bars = bars_on_a_terminal(monkeypatch, text_mod if fmt == "glove" else binary_mod,
                              p.stat().st_size + extra)
    wordvecs.load(p, format=fmt)
    assert [b["enabled"] for b in bars.made] == [shown]


@pytest.mark.parametrize("fmt", ["glove", "word2vec-binary"])
def test_chunk_size_from_the_file_size(tmp_path, monkeypatch, kernel, fmt):
    # a 64th of the file a chunk (at least MIN_CHUNK_BYTES): here ~100 bytes, so many chunks
    mod = text_mod if fmt == "glove" else binary_mod
    monkeypatch.setattr(mod, "MIN_CHUNK_BYTES", 16)
    m = np.arange(1000, dtype=np.float32).reshape(500, 2)
    words = [b"w%d" % i for i in range(500)]
    if fmt == "glove":
        data = b"".join(w + b" %d %d\n" % tuple(row) for w, row in zip(words, m))
    else:
        data = binary(words, m)
    v = wordvecs.load(write(tmp_path / "v.dat", data), format=fmt)
    assert v.words == [w.decode() for w in words] and v.matrix.tobytes() == m.tobytes()


def test_binary_only_the_first_vector_is_checked_for_text(tmp_path, monkeypatch):
    # a later vector whose bytes happen to be ASCII digits is still a vector
    monkeypatch.setattr(binary_mod, "MAX_ENTRIES", 1)  # one entry a scan
    m = np.frombuffer(b"\x00\x00\x80?1234", "<f4").reshape(2, 1)
    v = wordvecs.load(write(tmp_path / "v.bin", binary([b"a", b"b"], m)))
    assert v.words == ["a", "b"] and v.matrix.tobytes() == m.tobytes()


def test_binary_offsets_after_many_refills(tmp_path, monkeypatch):
    # the offsets in warnings and errors count from the start of the file, not of the chunk
    monkeypatch.setattr(binary_mod, "CHUNK_BYTES", 64)
    monkeypatch.setattr(binary_mod, "MIN_CHUNK_BYTES", 64)
    words = [b"w%d" % i for i in range(100)] + [b"w7"]
    m = np.arange(202, dtype=np.float32).reshape(101, 2)
    data = binary(words, m)
    p = write(tmp_path / "v.bin", data)
    v, msgs = load_warned(p)
    assert len(v) == 100
    off = offsets_of(words, 2)[100]
    assert msgs == [f"{p}: 1 duplicate word(s) skipped, the first occurrence kept (first "
                    f"duplicate at byte offset {off})"]
    p = write(tmp_path / "v.bin", data[:-5])
    assert str(error_of(p)) == (f"{p}, byte offset {off}: truncated file; expected a word and "
                                "8 bytes of vector; found 7 bytes before the end of the file")


def read_text_direct(path: Path, header: bool = False, **kw) -> Vectors:
    """The text reader itself (``load`` refuses a file of blank lines before it is reached)."""
    from wordvecs.sources import open_source

    return text_mod.read_text(open_source(path), header=header, options=ReadOptions(**kw))


def test_blank_lines_only_have_no_vectors(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"\n  \n\t\n\n")
    with pytest.raises(FormatError) as err:
        read_text_direct(p)
    assert str(err.value) == f"{p}: no vectors found; expected lines of a word followed by numbers"


def test_blank_lines_never_decide_the_dimension(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"a 1 2\n\n\n\n\nb 3 4\n\n\n")
    v = wordvecs.load(p)
    assert v.dim == 2 and v.words == ["a", "b"]


def test_glove_lone_carriage_return_skipped(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"x 0 0 0\na 1 2 3\rb 4 5 6\nz 2 2 2\n")
    assert str(error_of(p)) == f"{p}, line 2: {text_mod._LONE_CR['detail']}"
    v, msgs = load_warned(p, on_bad_line="skip")
    assert v.words == ["x", "z"]
    assert msgs == [f"{p}: 1 bad line(s) skipped (first at line 2)"]


def test_single_fields_and_a_lone_carriage_return(tmp_path, kernel):
    # no line has a word and numbers: that is the error, not the carriage return of line 2
    p = write(tmp_path / "v.txt", b"abc\nx 1\r2\n")
    assert str(error_of(p, format="glove")) == (
        f"{p}, line 1: expected a word followed by numbers; found a single field")


def test_the_thousandth_line_counts_whole(tmp_path, kernel):
    # lines 1-499 have 2 values, 500-1000 have 3: 3 wins by 501 to 499, with line 1000 read whole
    rows = [b"a%d 1 2\n" % i for i in range(499)] + [b"b%d 1 2 3\n" % i for i in range(501)]
    p = write(tmp_path / "v.txt", b"".join(rows))
    v, msgs = load_warned(p, format="glove", on_bad_line="skip")
    assert v.dim == 3 and len(v) == 501
    assert msgs == [f"{p}: 499 bad line(s) skipped (first at line 1)"]


def test_the_line_after_the_thousandth_never_counts(tmp_path, kernel):
    # 500 rows of 2 values, 500 single words (a tie: the first seen wins), then a row: its
    # first bytes must not tip the count to the single words
    rows = ([b"a%d 1 2\n" % i for i in range(500)] + [b"w%d\n" % i for i in range(500)]
            + [b"x 1 2\n"])
    p = write(tmp_path / "v.txt", b"".join(rows))
    v, msgs = load_warned(p, format="glove", on_bad_line="skip")
    assert v.dim == 2 and len(v) == 501
    assert msgs == [f"{p}: 500 bad line(s) skipped (first at line 501)"]


def test_nonfinite_counted_on_both_sides_of_a_skipped_row(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"a nan 2\nb x 2\nc inf 3\nd 4 -inf\n")
    v, msgs = load_warned(p, on_bad_line="skip")
    assert v.words == ["a", "c", "d"]
    assert msgs == [f"{p}: 1 bad line(s) skipped (first at line 2)",
                    f"{p}: 3 value(s) are nan or inf (or overflow float32)"]


def test_nonfinite_counted_over_chunks(tmp_path, monkeypatch, kernel):
    monkeypatch.setattr(text_mod, "CHUNK_BYTES", 64)
    monkeypatch.setattr(text_mod, "MIN_CHUNK_BYTES", 64)
    rows = [b"w%d %d 1\n" % (i, i) for i in range(100)]
    rows[3] = b"w3 nan 1\n"
    rows[97] = b"w97 inf -inf\n"
    p = write(tmp_path / "v.txt", b"".join(rows))
    v, msgs = load_warned(p)
    assert len(v) == 100
    assert msgs == [f"{p}: 3 value(s) are nan or inf (or overflow float32)"]


def test_short_rows_named_and_counted(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"a 1 2\nb\nc 3 4\nd 5\ne\nf 6 7\ng 8\n")
    assert str(error_of(p)) == f"{p}, line 2: expected 2 values after the word; found 0"
    v, msgs = load_warned(p, on_bad_line="skip")
    assert v.words == ["a", "c", "f"]
    assert msgs == [f"{p}: 4 bad line(s) skipped (first at line 2)"]
    p = write(tmp_path / "v.txt", b"a 1 2\nd 5\n")
    assert str(error_of(p)) == f"{p}, line 2: expected 2 values after the word; found 1"


def test_word_of_nul_bytes_only(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"\x00 1 2\n")
    assert str(error_of(p, format="glove")) == (
        f"{p}, line 1: a NUL byte in the word; found '\\x00'")


@pytest.mark.parametrize("limit", [1, 50, 299, 300, 400])
def test_text_limit_over_chunks(tmp_path, monkeypatch, kernel, limit):
    monkeypatch.setattr(text_mod, "CHUNK_BYTES", 64)
    monkeypatch.setattr(text_mod, "MIN_CHUNK_BYTES", 64)
    words = [f"w{i}" for i in range(300)]
    p = write(tmp_path / "v.txt", "".join(f"{w} {i} 1\n" for i, w in enumerate(words)).encode())
    v, msgs = load_warned(p, limit=limit)
    assert v.words == words[:limit] and msgs == []
    np.testing.assert_array_equal(v.matrix[:, 0], np.arange(min(limit, 300), dtype=np.float32))


def test_duplicate_named_at_its_line_after_blank_and_skipped_lines(tmp_path, kernel):
    p = write(tmp_path / "v.txt", b"a 1 1\n\nb 2 2\nc x 3\nd 4 4\na 3 3\n")
    v, msgs = load_warned(p, on_bad_line="skip")
    assert v.words == ["a", "b", "d"]
    assert msgs == [f"{p}: 1 duplicate word(s) skipped, the first occurrence kept (first "
                    "duplicate at line 6)", f"{p}: 1 bad line(s) skipped (first at line 4)"]


def test_dimension_from_the_first_megabyte_only(tmp_path, monkeypatch, kernel):
    # the sniff reads at most 1 MB: 300 rows of 2 values and ~4 KB fill it; the 400 rows of 3
    # values after them are not seen, though they are the most common in the file
    monkeypatch.setattr(text_mod, "MIN_CHUNK_BYTES", 4 << 20)  # one chunk holds the whole file
    rows = ([b"a%03d" % i + b"x" * 4000 + b" 1 2\n" for i in range(300)]
            + [b"b%d 1 2 3\n" % i for i in range(400)])
    p = write(tmp_path / "v.txt", b"".join(rows))
    v, msgs = load_warned(p, format="glove", on_bad_line="skip")
    assert v.dim == 2 and len(v) == 300
    assert msgs == [f"{p}: 400 bad line(s) skipped (first at line 301)"]


def test_bad_header_with_invalid_bytes_is_named_not_a_crash(tmp_path, kernel):
    p = write(tmp_path / "v.vec", b"\xff\xfe 3\na 1 2 3\n")
    found = repr("\ufffd\ufffd 3")
    assert str(error_of(p, format="word2vec")) == (
        f"{p}, line 1: expected a header line 'count dim'; found {found}")


# --- where the read warnings point (stacklevel) ------------------------------------------------

def test_every_read_warning_names_the_line_of_the_caller(monkeypatch):
    # emit's warnings go through wordvecs.errors.warn, which names the first frame outside the
    # package (here: this test's line), however deep emit sits. Under mutmut each mutated
    # function adds trampoline frames, all inside the (mutated) package: still this line.
    report = text_mod._Report(duplicates=2, first_duplicate_line=3, bad_lines=4, first_bad_line=5,
                              bad_encoding=6, first_bad_encoding_line=7, nonfinite=8,
                              notes=["a note", "another"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _line_after()
        report.emit("v.txt", 9, "replace")
    assert [(str(w.message), w.category, w.filename, w.lineno) for w in caught] == [
        (m, WordvecsWarning, __file__, line) for m in [
            "v.txt: 2 duplicate word(s) skipped, the first occurrence kept (first duplicate at "
            "line 3)",
            "v.txt: 4 bad line(s) skipped (first at line 5)",
            "v.txt: 6 word(s) with invalid bytes replaced (first at line 7)",
            "v.txt: 8 value(s) are nan or inf (or overflow float32)",
            "v.txt: a note", "v.txt: another"]]


def _line_after() -> int:
    """The line number after the caller's line."""
    import sys

    return sys._getframe(1).f_lineno + 1


@pytest.mark.parametrize("how", ["load", "load-vocab", "read-source", "open-store"])
def test_read_warnings_point_at_the_users_call(tmp_path, how):
    """A duplicate word's warning names the line of the user's call, whichever way in: a fixed
    ``stacklevel`` named a line of wordvecs (``FormatSpec.read``) for ``wordvecs.load``."""
    from wordvecs.reading import read_source

    path = write(tmp_path / "v.txt", b"a 1 2\nb 3 4\na 5 6\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if how == "load":
            line = _line_after()
            wordvecs.load(path, format="glove")
        elif how == "load-vocab":
            line = _line_after()
            wordvecs.load(path, format="glove", vocab=["a"])
        elif how == "read-source":
            line = _line_after()
            read_source(str(path), "glove", ReadOptions())
        else:  # a store with an extra this wordvecs does not know
            import json

            store = Vectors(["a", "b"], np.eye(2, dtype=np.float32)).save(tmp_path / "s.wv")
            meta = json.loads((store / "meta.json").read_text())
            meta["extras"] = {"future": {"files": [], "fields": {}}}
            (store / "meta.json").write_text(json.dumps(meta))
            line = _line_after()
            wordvecs.load(store)
    mine = [w for w in caught if issubclass(w.category, WordvecsWarning)]
    assert mine and all((w.filename, w.lineno) == (__file__, line) for w in mine), [
        (str(w.message), w.filename, w.lineno) for w in mine]


def test_only_the_first_chunk_loses_a_bom(tmp_path, monkeypatch, kernel):
    # every word after the first starts with U+FEFF (the BOM's bytes): each chunk of ~100 bytes
    # starts with such a line, and only the file's own BOM, at byte 0, is dropped
    monkeypatch.setattr(text_mod, "MIN_CHUNK_BYTES", 16)
    bom = b"\xef\xbb\xbf"
    data = bom + b"".join(bom + b"w%d %d\n" % (i, i) for i in range(500))
    v = wordvecs.load(write(tmp_path / "v.txt", data), format="glove")
    assert v.words == ["\ufeffw%d" % i for i in range(500)]
    np.testing.assert_array_equal(v.matrix[:, 0], np.arange(500, dtype=np.float32))


@pytest.mark.parametrize("end", [b"", b"\nb 2\n"])
def test_a_line_of_exactly_the_longest_allowed_is_read(tmp_path, monkeypatch, kernel, end):
    # after a BOM (not part of the line): a first line of exactly MAX_LINE_BYTES, the whole file
    # at its end (no line break), or one not ending in the first chunk of 256 bytes (its line
    # break is byte 257)
    bom = b"\xef\xbb\xbf"
    size = 100 if end == b"" else 253
    monkeypatch.setattr(text_mod, "MAX_LINE_BYTES", size)
    monkeypatch.setattr(text_mod, "CHUNK_BYTES", 256)
    monkeypatch.setattr(text_mod, "MIN_CHUNK_BYTES", 256)
    line = b"w" * (size - 2) + b" 1"
    v = wordvecs.load(write(tmp_path / "v.txt", bom + line + end), format="glove")
    assert v.words == ["w" * (size - 2)] + (["b"] if end else [])
    np.testing.assert_array_equal(v.matrix, np.float32([[1]] + ([[2]] if end else [])))


def test_line_too_long_after_a_bom_counts_the_line_only(tmp_path, monkeypatch, kernel):
    # the first chunk (256 bytes: the BOM and 253 bytes of the first line) has no line break
    monkeypatch.setattr(text_mod, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(text_mod, "CHUNK_BYTES", 256)
    monkeypatch.setattr(text_mod, "MIN_CHUNK_BYTES", 256)
    p = write(tmp_path / "v.txt", b"\xef\xbb\xbf" + b"w" * 300 + b" 1\nb 2\n")
    assert str(error_of(p, format="glove")) == (
        f"{p}, line 1: the line is too long; expected at most 100 bytes; found 253 bytes "
        "without a line break")


@pytest.mark.parametrize("before", [b"\n", b"a 1\n"])
def test_a_file_shorter_than_a_chunk_is_read_whole_past_the_line_limit(tmp_path, monkeypatch,
                                                                       kernel, before):
    # the limit stops a line that no buffer holds; a file of one chunk is held whole: its last
    # line (150 bytes, no line break) is read though longer than MAX_LINE_BYTES
    monkeypatch.setattr(text_mod, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(text_mod, "CHUNK_BYTES", 256)
    monkeypatch.setattr(text_mod, "MIN_CHUNK_BYTES", 256)
    v = wordvecs.load(write(tmp_path / "v.txt", before + b"w" * 148 + b" 1"), format="glove")
    assert v.words == (["a"] if before == b"a 1\n" else []) + ["w" * 148]
    np.testing.assert_array_equal(v.matrix, np.ones((len(v), 1), np.float32))


@pytest.mark.parametrize("data, line, seen", [
    # 72 short lines first: the last line starts the last buffer, one used before, whose bytes past
    # the end of the file still hold line breaks
    (b"".join(b"w%02d 1234\n" % i for i in range(72)) + b"x" * 118 + b" 1", 73, 120),
    (b"\xef\xbb\xbf" + b"x" * 148 + b" 1", 1, 150),  # the BOM is not part of the line
    (b"x" * 148 + b" 1", 1, 150),  # a new buffer (zero bytes past the end of the file)
])
def test_last_line_too_long_at_the_end_of_the_file(tmp_path, monkeypatch, kernel, data, line,
                                                   seen):
    monkeypatch.setattr(text_mod, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(text_mod, "CHUNK_BYTES", 256)
    monkeypatch.setattr(text_mod, "MIN_CHUNK_BYTES", 256)
    p = write(tmp_path / "v.txt", data)
    assert str(error_of(p, format="glove")) == (
        f"{p}, line {line}: the line is too long; expected at most 100 bytes; found {seen} bytes "
        "without a line break")


def test_read_stops_at_the_chunk_that_reaches_the_limit(tmp_path, monkeypatch, kernel):
    # the line past MAX_LINE_BYTES comes chunks after the limit: it is never read
    monkeypatch.setattr(text_mod, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(text_mod, "CHUNK_BYTES", 64)
    monkeypatch.setattr(text_mod, "MIN_CHUNK_BYTES", 64)
    data = b"".join(b"w%02d %d\n" % (i, i) for i in range(40)) + b"x" * 300 + b" 1\n"
    p = write(tmp_path / "v.txt", data)
    v = wordvecs.load(p, format="glove", limit=2)
    assert v.words == ["w00", "w01"]
    assert str(error_of(p, format="glove")).startswith(  # read to the end, it is refused
        f"{p}, line 41: the line is too long")


def test_read_text_called_alone_names_the_format_glove(tmp_path, kernel):
    from wordvecs.sources import Source

    p = write(tmp_path / "v.txt", b"a 1 2\n")
    v = text_mod.read_text(Source(p, None), header=False, options=ReadOptions())
    assert v.format == "glove" and v.words == ["a"]


def test_numbers_are_parsed_in_a_thread_named_wordvecs_parse(tmp_path, monkeypatch, kernel):
    # (what a thread dump or a profiler shows)
    import threading

    real = text_mod.get_kernel()
    names = []

    class Kernel:
        def __getattr__(self, attr):
            return getattr(real, attr)

        def parse_rows(self, *args):
            names.append(threading.current_thread().name)
            return real.parse_rows(*args)

    monkeypatch.setattr(text_mod, "get_kernel", Kernel)
    v = wordvecs.load(write(tmp_path / "v.txt", b"a 1 2\nb 3 4\n"), format="glove")
    assert v.words == ["a", "b"] and names == ["wordvecs-parse_0"]
