"""Reading and writing every format, checked against real peers: Python/NumPy parsing and gensim."""

from __future__ import annotations

import bz2
import gzip
import lzma
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import wordvecs
from wordvecs import Vectors, WordNotFound
from wordvecs.formats import _kernel, _pykernel

GENSIM_FILES = [  # (file, binary, no_header): gensim's own test data that gensim itself loads
    ("test_glove.txt", False, True),
    ("euclidean_vectors.bin", True, False),
    ("toy-model.vec", False, False),
    ("lee_fasttext.vec", False, False),
    ("crime-and-punishment.vec", False, False),
    ("high_precision.kv.txt", False, False),
    ("high_precision.kv.bin", True, False),
    ("word2vec_pre_kv_c", False, False),
    ("poincare_vectors.bin", True, False),
]


def reference(path: Path, dim: int) -> tuple[list[str], np.ndarray]:
    """What numpy, pandas and gensim give: np.float32(float(token)) for every token."""
    words, rows = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) == 2 and len(rows) == 0 and not words:
            continue  # header
        words.append(" ".join(fields[:-dim]))
        rows.append([np.float32(float(t)) for t in fields[-dim:]])
    return words, np.array(rows, dtype=np.float32)


@pytest.fixture(scope="module")
def glove_sample(tmp_path_factory, glove50) -> Path:
    """The first 5,000 rows of GloVe 6B 50d written as the published file is: '%.5g' values."""
    path = tmp_path_factory.mktemp("glove") / "glove.sample.50d.txt"
    m = glove50.matrix[:5000]
    with open(path, "w", encoding="utf-8") as fh:
        for w, row in zip(glove50.words[:5000], m):
            fh.write(w + " " + " ".join("%.5g" % x for x in row) + "\n")
    return path


def test_glove_values_bit_exact_and_in_file_order(glove_sample, kernel):
    v = wordvecs.load(glove_sample)
    words, ref = reference(glove_sample, 50)
    assert v.words == words
    assert v.matrix.dtype == np.float32 and v.matrix.flags.c_contiguous
    assert v.matrix.tobytes() == ref.tobytes()


def test_mixed_notation_bit_exact(tmp_path, kernel):
    rng = np.random.default_rng(7)
    vals = np.concatenate([rng.standard_normal(3000), rng.standard_normal(300) * 1e-40,
                           rng.standard_normal(300) * 1e30, [0.0, -0.0, 1e-45, 3.4028235e38]])
    fmts = ["%.5g", "%.8e", "%r", "%.17g", "%.3f", "%.25f"]
    tokens = [(fmts[i % len(fmts)] % x) if fmts[i % len(fmts)] != "%r" else repr(float(x))
              for i, x in enumerate(vals)]
    tokens += ["1" + "3" * 40 + "e-41", "-0", "+1.5", ".5", "5.", "1E5", "nan", "inf", "-inf"]
    tokens = tokens[: len(tokens) // 8 * 8]
    lines = [f"w{i} " + " ".join(tokens[i * 8:(i + 1) * 8]) for i in range(len(tokens) // 8)]
    path = tmp_path / "mixed.txt"
    path.write_text("\n".join(lines) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v = wordvecs.load(path)
    ref = np.array([np.float32(float(t)) for t in tokens], dtype=np.float32).reshape(-1, 8)
    assert v.matrix.view(np.uint32).tolist() == ref.view(np.uint32).tolist()


@pytest.mark.parametrize("name, binary, no_header", GENSIM_FILES)
def test_gensim_test_data_loads_to_gensims_vectors(name, binary, no_header):
    from gensim.models import KeyedVectors
    from gensim.test.utils import datapath

    kv = KeyedVectors.load_word2vec_format(datapath(name), binary=binary, no_header=no_header)
    v = wordvecs.load(datapath(name))
    assert v.format == ("word2vec-binary" if binary else "glove" if no_header else "word2vec")
    assert v.words == list(kv.index_to_key)
    assert v.matrix.tobytes() == kv.vectors.astype(np.float32).tobytes()


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("write_header", [True, False])
def test_files_written_by_gensim_load_to_gensims_vectors(tmp_path, glove50, binary, write_header,
                                                         kernel):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(50)
    kv.add_vectors(glove50.words[:3000], glove50.matrix[:3000])
    path = tmp_path / ("g.bin" if binary else "g.txt")
    if binary and not write_header:
        pytest.skip("word2vec binary always has a header")
    kv.save_word2vec_format(str(path), binary=binary, write_header=write_header)
    back = KeyedVectors.load_word2vec_format(str(path), binary=binary, no_header=not write_header)
    v = wordvecs.load(path)
    assert v.words == list(back.index_to_key)
    assert v.matrix.tobytes() == back.vectors.tobytes()


def test_gensim_reads_what_we_write(tmp_path, glove50):
    from gensim.models import KeyedVectors

    v = wordvecs.load(glove50, limit=2000)
    for fmt, binary in (("word2vec", False), ("word2vec-binary", True)):
        path = v.save(tmp_path / f"out.{fmt}", format=fmt)
        kv = KeyedVectors.load_word2vec_format(str(path), binary=binary)
        assert list(kv.index_to_key) == v.words
        assert kv.vectors.tobytes() == v.matrix.tobytes()


# --- round trips ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["glove", "word2vec", "word2vec-binary", "store"])
def test_round_trip_bit_for_bit(tmp_path, glove50, fmt, kernel):
    v = wordvecs.load(glove50, limit=3000)
    path = v.save(tmp_path / f"v.{fmt}", format=fmt)
    back = wordvecs.load(path)
    assert back.words == v.words
    assert back.matrix.tobytes() == v.matrix.tobytes()  # shortest repr parses back exactly


def test_round_trip_special_values_and_unicode_words(tmp_path, kernel):
    m = np.array([[np.nan, np.inf], [-np.inf, -0.0], [1e-45, 3.4028235e38], [0.1, -2.5e-7]],
                 np.float32)
    v = Vectors(["naïve", "日本", "a\u00a0b", "ünï"], m)  # a space proper is refused by text
    for fmt in ("glove", "word2vec", "store"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            back = wordvecs.load(v.save(tmp_path / f"s.{fmt}", format=fmt))
        assert back.words == v.words
        assert back.matrix.view(np.uint32)[1:].tolist() == m.view(np.uint32)[1:].tolist()
        assert np.isnan(back.matrix[0, 0]) and back.matrix[0, 1] == np.inf


def test_text_precision(tmp_path, kernel):
    v = Vectors(["a"], np.float32([[0.123456789, 12345.678]]))
    path = v.save(tmp_path / "p.txt", format="glove", precision=3)
    assert path.read_text() == "a 0.123 1.23e+04\n"


def test_binary_cannot_hold_words_with_spaces(tmp_path):
    v = Vectors(["a b"], np.zeros((1, 2), np.float32))
    with pytest.raises(ValueError, match="space"):
        v.save(tmp_path / "x.bin", format="word2vec-binary")
    assert not (tmp_path / "x.bin").exists()


@pytest.mark.parametrize("opener, suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"),
                                            (lzma.open, ".xz")])
def test_compressed_sources(tmp_path, glove_sample, opener, suffix, kernel):
    comp = tmp_path / ("glove" + suffix)
    with opener(comp, "wb") as fh:
        fh.write(glove_sample.read_bytes())
    assert wordvecs.load(comp).matrix.tobytes() == wordvecs.load(glove_sample).matrix.tobytes()


def test_zip_member(tmp_path, glove_sample, kernel):
    z = tmp_path / "glove.6B.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(glove_sample, "glove.6B.50d.txt")
        zf.writestr("README", "hello")
    v = wordvecs.load(f"{z}#glove.6B.50d.txt")
    assert v.matrix.tobytes() == wordvecs.load(glove_sample).matrix.tobytes()


def test_compressed_binary(tmp_path, glove50):
    v = wordvecs.load(glove50, limit=1000)
    path = v.save(tmp_path / "v.bin", format="word2vec-binary")
    with gzip.open(tmp_path / "v.bin.gz", "wb") as fh:
        fh.write(path.read_bytes())
    assert wordvecs.load(tmp_path / "v.bin.gz").matrix.tobytes() == v.matrix.tobytes()


def test_binary_without_newlines(tmp_path, glove50):
    words, m = glove50.words[:50], glove50.matrix[:50]
    data = b"50 50\n" + b"".join(w.encode() + b" " + r.tobytes() for w, r in zip(words, m))
    (tmp_path / "nonl.bin").write_bytes(data)
    v = wordvecs.load(tmp_path / "nonl.bin")
    assert v.words == words and v.matrix.tobytes() == m.tobytes()


# --- vocab and limit --------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["glove", "word2vec", "word2vec-binary", "store"])
def test_vocab_keeps_only_those_words_in_file_order(tmp_path, glove50, fmt, kernel):
    v = wordvecs.load(glove50, limit=3000)
    path = v.save(tmp_path / f"v.{fmt}", format=fmt)
    wanted = ["king", "the", "queen", "notaword-xyz", "of"]
    for vocab in (set(wanted), wanted, dict.fromkeys(wanted, 1)):
        sub = wordvecs.load(path, vocab=vocab)
        assert sub.words == [w for w in v.words if w in set(wanted)]
        for w in sub.words:
            np.testing.assert_array_equal(sub[w], v[w])


@pytest.mark.parametrize("fmt", ["glove", "word2vec-binary", "store"])
def test_limit(tmp_path, glove50, fmt, kernel):
    v = wordvecs.load(glove50, limit=500)
    path = v.save(tmp_path / f"v.{fmt}", format=fmt)
    sub = wordvecs.load(path, limit=10)
    assert sub.words == v.words[:10]
    assert sub.matrix.tobytes() == v.matrix[:10].tobytes()
    assert len(wordvecs.load(path, limit=0)) == 0


def test_vocab_must_be_a_collection(glove50):
    with pytest.raises(TypeError, match="single string"):
        wordvecs.load(glove50, vocab="king")


# --- the packaged set and the Vectors API ------------------------------------------------------

def test_packaged_glove_is_memory_mapped_in_place(glove50):
    assert glove50.shape == (400_000, 50)
    assert isinstance(glove50._raw, np.memmap) and not glove50._raw.flags.owndata
    assert glove50.words[:5] == ["the", ",", ".", "of", "to"]
    m = glove50.matrix
    assert m.flags.c_contiguous and m.dtype == np.float32
    np.testing.assert_array_equal(m[glove50.index("king")], glove50["king"])
    assert wordvecs.load("glove.6B.50d").shape == (400_000, 50)


def test_vectors_api(small_vectors):
    v = small_vectors
    assert len(v) == 10 and v.dim == 8 and "king" in v and "nope" not in v
    assert v.index("queen") == 2
    row = v["king"]
    row[:] = 0
    assert v["king"].any()  # a copy
    assert v.get("nope") is None and v.get("nope", 5) == 5
    np.testing.assert_array_equal(v.get("man"), v.matrix[3])
    assert v.lookup(["queen", "zzz", "the"]).tolist() == [2, -1, 0]
    with pytest.raises(KeyError, match=r"'Queen'.*did you mean 'queen'") as exc:
        v["Queen"]
    assert isinstance(exc.value, WordNotFound) and exc.value.word == "Queen"
    with pytest.raises(KeyError, match=r"'nope' not in vocabulary$"):
        v.index("nope")
    assert repr(v) == "<Vectors 10 x 8>"


def test_vectors_validation():
    with pytest.raises(ValueError, match="float32"):
        Vectors(["a"], np.zeros((1, 2)))
    with pytest.raises(ValueError, match="2 words for 1 matrix rows"):
        Vectors(["a", "b"], np.zeros((1, 2), np.float32))


def test_unknown_format_names_choices(tmp_path, small_vectors):
    with pytest.raises(ValueError, match="unknown format 'csv'; expected one of"):
        small_vectors.save(tmp_path / "x", format="csv")
    with pytest.raises(ValueError, match="unknown format"):
        wordvecs.load(tmp_path / "x", format="csv")


# --- chunking and duplicate detection -----------------------------------------------------------

def _lines(n: int, dim: int, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    words = [f"w{i}" for i in range(n)]
    return words, rng.standard_normal((n, dim)).astype(np.float32)


def test_many_small_chunks_give_the_same_vectors(tmp_path, monkeypatch, kernel):
    """Chunk boundaries everywhere, lines longer than a chunk, and duplicates across chunks
    (found in chunks read both the fast way and, for a bad UTF-8 word, the slow way)."""
    from wordvecs.formats import text

    rng = np.random.default_rng(3)
    words, m = _lines(300, 40, rng)  # a line is ~500 bytes: longer than the 64-byte chunks
    body = "".join(w + " " + " ".join(repr(float(x)) for x in row) + "\n"
                   for w, row in zip(words, m)).encode()
    extra = b"w5 1" + b" 2" * 39 + b"\nbad\xffword" + b" 3" * 40 + b"\nw299 4" + b" 4" * 39 + b"\n"
    path = tmp_path / "v.txt"
    path.write_bytes(body + extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = wordvecs.load(path, errors="replace")  # one chunk
    monkeypatch.setattr(text, "CHUNK_BYTES", 64)
    monkeypatch.setattr(text, "MIN_CHUNK_BYTES", 64)
    with pytest.warns(wordvecs.WordvecsWarning, match=r"2 duplicate word\(s\).*line 301"):
        small = wordvecs.load(path, errors="replace")
    assert small.words == whole.words == [*words, "bad\ufffdword"]
    assert small.matrix.tobytes() == whole.matrix.tobytes()
    assert small.matrix[:300].tobytes() == m.tobytes()


def test_hash_collisions_never_make_false_duplicates(tmp_path, monkeypatch, kernel):
    """Every word hashing alike sends the read to the exact check, which finds only real
    duplicates."""
    from wordvecs.formats import _rows

    monkeypatch.setattr(_rows, "_word_hashes",
                        lambda data, offsets: np.zeros(len(offsets) - 1, dtype=np.uint64))
    path = tmp_path / "v.txt"
    path.write_bytes(b"a 1 2\nb 3 4\nc 5 6\nb 7 8\n")
    with pytest.warns(wordvecs.WordvecsWarning, match=r"1 duplicate word\(s\).*line 4"):
        v = wordvecs.load(path)
    assert v.words == ["a", "b", "c"]
    np.testing.assert_array_equal(v.matrix, np.float32([[1, 2], [3, 4], [5, 6]]))


def test_word_hashes_are_equal_exactly_for_equal_words(kernel):
    from wordvecs._arrow import utf8_spans

    words = ["the", "teh", "eth", "a", "aa", "", "ünï", "the", "x" * 5000, "x" * 4999 + "y", ""]
    h = _kernel.get_kernel().word_hashes(*utf8_spans(words)).tolist()
    assert h[0] == h[7] and h[5] == h[10] and len(set(h)) == len(set(words))


@pytest.mark.skipif(_kernel.compiled_kernel() is None, reason="the compiled kernel is not built")
def test_both_kernels_hash_alike():

    rng = np.random.default_rng(3)
    lens = rng.integers(0, 40, 200_000)  # more words than one batch of the NumPy kernel
    offsets = np.zeros(len(lens) + 1, dtype=np.int32)
    np.cumsum(lens, out=offsets[1:])
    data = rng.integers(0, 256, int(offsets[-1]), dtype=np.uint8)
    c = _kernel.compiled_kernel().word_hashes(data, offsets)
    assert c.dtype == np.uint64 and np.array_equal(c, _pykernel.word_hashes(data, offsets))
    assert np.array_equal(c[5:9], _pykernel.word_hashes(data, offsets[5:10]))  # offsets from > 0


def test_arrow_arrays_from_buffers_equal_pa_array():
    import pyarrow as pa

    from wordvecs._arrow import bools, numpy_bools, numpy_ints, strings

    words = ["the", "", "ünï", "x" * 300, "日本"]
    assert strings(words).equals(pa.array(words, pa.string()))
    assert strings(words, large=True).equals(pa.array(words, pa.large_string()))
    mask = np.random.default_rng(0).random(77) < 0.5
    assert bools(mask).equals(pa.array(mask))
    assert np.array_equal(numpy_bools(bools(mask).slice(5, 60)), mask[5:65])
    ints = pa.array(np.arange(-5, 40, dtype=np.int32)).slice(3, 30)
    assert numpy_ints(ints).dtype == np.int64 and numpy_ints(ints).tolist() == ints.to_pylist()
    holes = pa.array([1, None, 3, None, 5, 6, None, 8, 9, 10], pa.int32()).slice(1, 8)
    assert numpy_ints(holes, null=-1).tolist() == [-1, 3, -1, 5, 6, -1, 8, 9]


def test_reading_and_looking_up_never_import_pandas(tmp_path):
    """pa.array imports pandas (0.17 s) wherever it is installed: the read and the lookups
    build their Arrow arrays without it."""
    import subprocess
    import sys

    path = tmp_path / "v.txt"
    path.write_text("".join(f"w{i} {i} 1\n" for i in range(3000)) + "w1 5 5\n", encoding="utf-8")
    code = ("import sys, warnings, wordvecs\n"
            "warnings.simplefilter('ignore')\n"
            f"v = wordvecs.load({str(path)!r}, vocab=[f'w{{i}}' for i in range(0, 3000, 2)])\n"
            "assert len(v) == 1500 and list(v.lookup(['w2'] * 2000))[:1] == [1]\n"
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
