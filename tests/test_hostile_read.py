"""Hostile and unlucky inputs to the readers (issue 14, items 7, 9, 11, 16; issue 16's reader
tests): pipes, decompression bombs, over-long lines, stray carriage returns and NUL bytes, files
that change while they are read, damaged compressed streams. Every case ends in seconds with
vectors or a clean error naming the file and the line or byte offset."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import subprocess
import sys
import textwrap
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wordvecs
from _streams import COMPRESSORS
from wordvecs import FormatError, SourceError
from wordvecs.cli import cli
from wordvecs.formats import _rows as rows_mod
from wordvecs.formats import binary as binary_mod
from wordvecs.formats import text as text_mod

ROWS = b"".join(b"w%d %d.5 -%d.25 0.125\n" % (i, i, i) for i in range(10_000))


def _expected_rows() -> np.ndarray:
    i = np.arange(10_000, dtype=np.float64)
    return np.stack([i + 0.5, -(i + 0.25), np.full_like(i, 0.125)], axis=1).astype(np.float32)


# --- item 7: a pipe or FIFO is read once -----------------------------------------------------

def _fifo_with_writer(tmp_path: Path, data: bytes) -> tuple[Path, threading.Thread]:
    fifo = tmp_path / "vectors.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        try:
            with open(fifo, "wb") as fh:  # blocks until the reader opens the FIFO
                for i in range(0, len(data), 4096):  # small writes: the reader sees partial reads
                    fh.write(data[i:i + 4096])
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return fifo, writer


def _load_with_timeout(path: Path, timeout: float = 20, **kw):
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["v"] = wordvecs.load(path, **kw)
        except BaseException as exc:
            result["exc"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"loading {path} hung for {timeout} s"
    if "exc" in result:
        raise result["exc"]  # type: ignore[misc]
    return result["v"]


@pytest.mark.parametrize("compress", [None, gzip.compress, bz2.compress, lzma.compress])
def test_fifo_is_read_once_with_every_row(tmp_path, kernel, compress):
    data = ROWS if compress is None else compress(ROWS)
    fifo, writer = _fifo_with_writer(tmp_path, data)
    v = _load_with_timeout(fifo)
    writer.join(5)
    assert len(v) == 10_000
    assert v.words[0] == "w0" and v.words[-1] == "w9999"
    np.testing.assert_array_equal(v.matrix, _expected_rows())


def test_fifo_word2vec_binary(tmp_path):
    data = b"2 3\nthe " + np.float32([1, 2, 3]).tobytes() + b"\nof " + \
        np.float32([4, 5, 6]).tobytes() + b"\n"
    fifo, _writer = _fifo_with_writer(tmp_path, data)
    v = _load_with_timeout(fifo)
    assert v.words == ["the", "of"]
    np.testing.assert_array_equal(v.matrix, [[1, 2, 3], [4, 5, 6]])


def test_process_substitution_keeps_every_row(tmp_path):
    """``wordvecs info <(cat f.txt)``: /dev/fd/N is a pipe; it lost 2,678 of 10,000 rows."""
    f = tmp_path / "f.txt"
    f.write_bytes(ROWS)
    code = ("import sys, wordvecs; v = wordvecs.load(sys.argv[1]); print(len(v), v.words[0])")
    cmd = f'{sys.executable} -c "{code}" <(cat {f})'
    env = dict(os.environ, PYTHONPATH=str(Path(wordvecs.__file__).parents[1]))
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=60,
                         env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["10000", "w0"]


def test_zip_from_a_pipe_is_refused_clearly(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("v.txt", ROWS)
    fifo, _writer = _fifo_with_writer(tmp_path, buf.getvalue())
    with pytest.raises(SourceError, match="zip archive cannot be read from a pipe"):
        _load_with_timeout(fifo)


# --- item 16: a damaged compressed stream is a FormatError with the byte offset ----------------

def _corrupt(blob: bytes, kind: str) -> bytes:
    data = bytearray(blob)
    mid = len(data) // 2
    for i in range(mid, mid + 64):  # 64 bytes of garbage in the middle of the stream
        data[i] ^= 0x5A
    return bytes(data)


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
@pytest.mark.parametrize("damage", ["corrupt", "cut"])
def test_damaged_compressed_stream_is_a_format_error_with_offset(tmp_path, kind, damage):
    blob = COMPRESSORS[kind](ROWS * 4)
    blob = _corrupt(blob, kind) if damage == "corrupt" else blob[:len(blob) * 2 // 3]
    p = tmp_path / f"v.{kind}"
    p.write_bytes(blob)
    with pytest.raises(FormatError) as err:
        wordvecs.load(p)
    msg = str(err.value)
    assert msg.startswith(str(p))
    assert "byte offset" in msg and err.value.offset is not None
    assert 0 < err.value.offset <= len(blob)


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_cli_damaged_stream_one_line_exit_2(tmp_path, kind):
    p = tmp_path / f"v.{kind}"
    p.write_bytes(_corrupt(COMPRESSORS[kind](ROWS * 4), kind))
    res = CliRunner().invoke(cli, ["info", str(p)])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(p) in lines[0] and "byte offset" in lines[0]


def test_damaged_binary_in_gzip(tmp_path):
    data = b"300 3\n" + b"".join(b"w%d " % i + np.float32([i, 1, 2]).tobytes() + b"\n"
                                 for i in range(300))
    blob = _corrupt(gzip.compress(data * 30), "gz")
    p = tmp_path / "v.bin.gz"
    p.write_bytes(blob)
    with pytest.raises(FormatError, match="gz stream is damaged"):
        wordvecs.load(p, format="word2vec-binary")


# --- item 11: a file that changes while it is read --------------------------------------------

@pytest.mark.parametrize("change", ["truncate", "grow"])
@pytest.mark.parametrize("fmt", ["glove", "word2vec-binary"])
def test_file_changed_while_read_is_an_error(tmp_path, monkeypatch, kernel, change, fmt):
    p = tmp_path / "v.txt"
    if fmt == "glove":
        p.write_bytes(ROWS * 4)
        monkeypatch.setattr(text_mod, "CHUNK_BYTES", 1 << 16)
        monkeypatch.setattr(text_mod, "MIN_CHUNK_BYTES", 1 << 16)
    else:
        n = 20_000
        p.write_bytes(b"%d 3\n" % n + b"".join(b"w%d " % i + np.float32([i, 1, 2]).tobytes()
                                               for i in range(n)))
        monkeypatch.setattr(binary_mod, "CHUNK_BYTES", 1 << 16)
    size = p.stat().st_size
    from wordvecs import sources

    real = sources._Raw.readinto
    calls: list[int] = []

    def readinto(self, b):  # the file changes after the first read, as another process would
        n = real(self, b)
        if not calls and self.count > (1 << 16):  # in the read proper (sniffing reads 64 KB)
            calls.append(n)
            if change == "truncate":
                os.truncate(p, size // 2)
            else:
                with open(p, "ab") as fh:
                    fh.write(ROWS[:1000])
        return n

    monkeypatch.setattr(sources._Raw, "readinto", readinto)
    with pytest.raises(FormatError, match="changed while it was read") as err:
        wordvecs.load(p, format=fmt)
    assert f"{size:,} bytes (its size when opened)" in str(err.value)


# --- item 11: a lone carriage return, a NUL byte ---------------------------------------------

@pytest.mark.parametrize("data, line", [
    (b"x 0 0 0\ny 1 1 1\na 1 2 3\rb 4 5 6\nz 2 2 2\n", 3),  # two rows run together
    (b"a 1 2 3\rb 4 5 6\n", 1),  # the only line
    (b"a 1 2 3\rb 4 5 6\rc 7 8 9\r", 1),  # old Mac line ends
    (b"x 0 0 0\r\ny 1 1 1\r\na 1 2\r3\r\n", 3),  # in a CRLF file
])
def test_lone_carriage_return_is_an_error_naming_the_line(tmp_path, kernel, data, line):
    p = tmp_path / "v.txt"
    p.write_bytes(data)
    with pytest.raises(FormatError, match=r"carriage return") as err:
        wordvecs.load(p)
    assert err.value.line == line


def test_lone_carriage_return_in_word2vec_text_and_skip(tmp_path, kernel):
    p = tmp_path / "v.vec"
    p.write_bytes(b"3 3\nx 0 0 0\na 1 2 3\rb 4 5 6\nz 2 2 2\n")
    with pytest.raises(FormatError, match=r"carriage return") as err:
        wordvecs.load(p)
    assert err.value.line == 3
    with pytest.warns(wordvecs.WordvecsWarning, match="1 bad line"):
        v = wordvecs.load(p, on_bad_line="skip")
    assert v.words == ["x", "z"]


def test_crlf_still_reads(tmp_path, kernel):
    p = tmp_path / "v.txt"
    p.write_bytes(b"a 1 2 3\r\nb 4 5 6\r\n")
    v = wordvecs.load(p)
    assert v.words == ["a", "b"]


@pytest.mark.parametrize("where", [10, 20_000])  # in the first 4 KB, and far past it
def test_nul_byte_in_a_word_is_an_error_naming_the_line(tmp_path, kernel, where):
    rows = [b"w%d 1 2 3\n" % i for i in range(30_000)]
    rows[where] = b"bad\x00word 1 2 3\n"
    p = tmp_path / "v.txt"
    p.write_bytes(b"".join(rows))
    with pytest.raises(FormatError, match="NUL") as err:
        wordvecs.load(p, format="glove")
    assert err.value.line == where + 1
    with pytest.warns(wordvecs.WordvecsWarning, match="1 bad line"):
        v = wordvecs.load(p, format="glove", on_bad_line="skip")
    assert len(v) == 29_999 and "bad\x00word" not in v


# --- item 9: memory stays bounded on repeats and over-long lines ------------------------------

_BOUNDED = textwrap.dedent('''
    import gzip, resource, sys, warnings
    path, what, limit_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
    block = {"repeat": b"the 0.1 0.2 0.3\\n" * (1 << 16),
             "line": b"1 " * (1 << 19)}[what]  # 1 MB
    member = gzip.compress(block, 1)  # gzip members concatenate: a 1 GB bomb in a blink
    with open(path, "wb") as fh:
        if what == "line":
            fh.write(gzip.compress(b"w "))
        for _ in range(int(sys.argv[4])):
            fh.write(member)
        fh.write(gzip.compress(b"\\nlast 1 2 3\\n"))
    import wordvecs
    from wordvecs import FormatError
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    peak = int([ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmPeak")][0])
    resource.setrlimit(resource.RLIMIT_AS, (peak * 1024 + (limit_mb << 20), hard))
    warnings.simplefilter("ignore")
    try:
        v = wordvecs.load(path, **({"vocab": {"the", "last"}} if "vocab" in sys.argv else {}))
    except FormatError as exc:
        print("FormatError", exc.line, str(exc)[-80:])
    else:
        print("vectors", len(v), list(v.words), v.matrix.ravel().tolist())
''')


def _bounded(tmp_path, what: str, mb: int, *extra: str) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(Path(wordvecs.__file__).parents[1]),
               WORDVECS_THREADS="2")
    out = subprocess.run([sys.executable, "-c", _BOUNDED, str(tmp_path / "bomb.gz"), what,
                          "300", str(mb), *extra], capture_output=True, text=True, timeout=120,
                         env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


@pytest.mark.parametrize("vocab", [False, True])
def test_repeated_row_bomb_stays_within_memory(tmp_path, vocab):
    """128 MB of one 16-byte row (8.4 million copies of 'the') under 300 MB of address space
    above the interpreter's own: the repeats are dropped as they come."""
    words = _bounded(tmp_path, "repeat", 128, *(["vocab"] if vocab else []))
    assert words[0] == "vectors", words
    assert words[1:4] == ["2", "['the',", "'last']"]


def test_over_long_line_is_an_early_clean_error(tmp_path):
    """A 200 MB line: a FormatError naming line 1 once 64 MB have no line break."""
    words = _bounded(tmp_path, "line", 200)
    assert words[:2] == ["FormatError", "1"], words
    assert "bytes without a line break" in " ".join(words)


def test_repeats_dropped_while_reading_match_a_plain_reference(tmp_path, monkeypatch, kernel):
    """Duplicates dropped chunk by chunk (a tiny compaction threshold) keep the first good row
    of each word, as a dict over the lines does; bad rows (skipped) never count as the first."""
    monkeypatch.setattr(text_mod, "CHUNK_BYTES", 1 << 12)
    monkeypatch.setattr(text_mod, "MIN_CHUNK_BYTES", 1 << 12)
    monkeypatch.setattr(rows_mod, "COMPACT_SLACK_BYTES", 64)
    rng = np.random.default_rng(5)
    lines, ref = [], {}
    for i in range(3000):
        w = f"w{rng.integers(0, 400)}"
        if rng.random() < 0.03:
            lines.append(f"{w} 1 x 3")  # a bad value: skipped, never the first occurrence
            continue
        lines.append(f"{w} {i} {-i} 0.5")
        ref.setdefault(w, [i, -i, 0.5])
    p = tmp_path / "v.txt"
    p.write_text("\n".join(lines) + "\n")
    with pytest.warns(wordvecs.WordvecsWarning) as rec:
        v = wordvecs.load(p, on_bad_line="skip")
    assert v.words == list(ref)
    np.testing.assert_array_equal(v.matrix, np.float32(list(ref.values())))
    first_dup = next(n for n, ln in enumerate(lines, 1)
                     if ln.split()[0] in {x.split()[0] for x in lines[:n - 1]
                                          if "x" not in x.split()[1:]} and "x" not in ln)
    msg = " ".join(str(r.message) for r in rec)
    n_dups = sum(1 for ln in lines if "x" not in ln.split()[1:]) - len(ref)
    assert f"{n_dups:,} duplicate word(s) skipped" in msg
    assert f"first duplicate at line {first_dup})" in msg


# --- word2vec binary: entries across chunk refills, \r before words, NUL bytes ------------------

def _entries(n: int, dim: int, seps: list[bytes], seed: int = 0) -> tuple[bytes, list[str],
                                                                          np.ndarray]:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" + "x" * int(rng.integers(0, 12)) for i in range(n)]
    m = rng.standard_normal((n, dim)).astype(np.float32)
    body = b"".join(w.encode() + b" " + row.astype("<f4").tobytes() + seps[i % len(seps)]
                    for i, (w, row) in enumerate(zip(words, m)))
    return f"{n} {dim}\n".encode() + body, words, m


@pytest.mark.parametrize("chunk", [16, 37, 64, 101, 1000, 1 << 20])
@pytest.mark.parametrize("seps", [[b"\n"], [b""], [b"\r\n"], [b"\r"], [b"", b"\n", b"\r", b"\r\n"]])
def test_binary_entries_across_chunk_refills(tmp_path, monkeypatch, kernel, chunk, seps):
    """Every entry is read whole whichever chunk boundary cuts it (chunks down to 16 bytes, so
    most entries straddle a refill), with \\n, \\r, both or nothing between entries."""
    monkeypatch.setattr(binary_mod, "CHUNK_BYTES", chunk)
    data, words, m = _entries(300, 5, seps)
    p = tmp_path / "v.bin"
    p.write_bytes(data)
    v = wordvecs.load(p, format="word2vec-binary")
    assert v.words == words
    assert v.matrix.tobytes() == m.tobytes()


def test_binary_scan_limit_in_a_chunk(tmp_path, monkeypatch, kernel):
    """MAX_ENTRIES entries per scan: a buffer with more is scanned again from where it stopped."""
    monkeypatch.setattr(binary_mod, "MAX_ENTRIES", 7)
    data, words, m = _entries(100, 3, [b"\n"])
    p = tmp_path / "v.bin"
    p.write_bytes(data)
    v = wordvecs.load(p)
    assert v.words == words and v.matrix.tobytes() == m.tobytes()
    v = wordvecs.load(p, limit=20)
    assert v.words == words[:20] and v.matrix.tobytes() == m[:20].tobytes()


def test_binary_carriage_return_before_a_word_is_skipped(tmp_path, kernel):
    row = np.float32([1, 2]).tobytes()
    p = tmp_path / "v.bin"
    p.write_bytes(b"3 2\na " + row + b"\r\rb " + row + b"\r\n\nc " + row + b"\r")
    v = wordvecs.load(p, format="word2vec-binary")
    assert v.words == ["a", "b", "c"]


@pytest.mark.parametrize("index", [0, 250])
def test_binary_nul_in_a_word_names_its_offset(tmp_path, kernel, index):
    data, words, _m = _entries(300, 4, [b"\n"])
    start = data.index(words[index].encode() + b" ", len("300 4\n") if index == 0 else 100)
    bad = data[:start] + b"n\x00" + data[start + 2:]
    p = tmp_path / "v.bin"
    p.write_bytes(bad)
    with pytest.raises(FormatError, match="NUL") as err:
        wordvecs.load(p, format="word2vec-binary")
    assert err.value.offset == start


def test_binary_duplicates_keep_the_first_and_name_its_offset(tmp_path, kernel):
    row = np.float32([1, 2]).tobytes()
    other = np.float32([3, 4]).tobytes()
    data = b"3 2\na " + row + b"\nb " + row + b"\na " + other + b"\n"
    p = tmp_path / "v.bin"
    p.write_bytes(data)
    with pytest.warns(wordvecs.WordvecsWarning, match=r"1 duplicate word\(s\).*byte offset 26\)"):
        v = wordvecs.load(p)
    assert v.words == ["a", "b"]
    np.testing.assert_array_equal(v.matrix, [[1, 2], [1, 2]])


def test_binary_kernels_agree_with_gensim(tmp_path, glove50):
    """GloVe 50d (first 20,000 rows) written as binary: both kernels equal gensim's loader,
    and with vocab= the kept rows are gensim's rows of those words."""
    from gensim.models import KeyedVectors

    from wordvecs.formats import _kernel

    sub = wordvecs.Vectors(list(glove50.words[:20_000]), np.asarray(glove50.matrix[:20_000]))
    p = tmp_path / "g.bin"
    sub.save(p, format="word2vec-binary")
    kv = KeyedVectors.load_word2vec_format(str(p), binary=True)
    vocab = set(sub.words[::7])
    for k in ["python", "c"] if _kernel.compiled_kernel() is not None else ["python"]:
        _kernel.set_kernel(k)
        try:
            v = wordvecs.load(p)
            small = wordvecs.load(p, vocab=vocab)
        finally:
            _kernel.set_kernel(None)
        assert v.words == kv.index_to_key
        assert v.matrix.tobytes() == kv.vectors.astype(np.float32).tobytes()
        assert small.words == [w for w in kv.index_to_key if w in vocab]
        np.testing.assert_array_equal(small.matrix, kv[small.words])


def test_one_member_zip_needs_no_member_name(tmp_path, kernel):
    z = tmp_path / "vectors.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sub/glove.small.txt", ROWS)
    v = wordvecs.load(z)
    assert len(v) == 10_000 and v.source == f"{z}#sub/glove.small.txt"
    np.testing.assert_array_equal(v.matrix, _expected_rows())
