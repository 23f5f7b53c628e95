"""Random bytes and mutated valid files give vectors or a WordvecsError: never another exception,
never a hang (each example has a deadline)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wordvecs
from _streams import COMPRESSORS
from wordvecs import WordvecsError
from wordvecs.formats import _kernel

_GLOVE = b"the 0.1 -0.2 3e-1\nof 1 2 3\n. . . 4 5 6\nna\xc3\xafve 7 8 9\n"
_W2V = b"4 3\n" + _GLOVE
_BIN = b"2 3\n" + b"the " + np.float32([1, 2, 3]).tobytes() + b"\nof " + \
    np.float32([4, 5, 6]).tobytes() + b"\n"
SEEDS = [_GLOVE, _W2V, _BIN]

SETTINGS = settings(max_examples=150, deadline=5000,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _load(tmp_path, data: bytes, **kw) -> None:
    path = tmp_path / "fuzz.vec"
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in _kernel_names():
            _kernel.set_kernel(k)
            try:
                v = wordvecs.load(path, **kw)
            except WordvecsError:
                continue
            finally:
                _kernel.set_kernel(None)
            assert v.matrix.shape == (len(v.words), v.dim)
            assert v.matrix.dtype == np.float32


def _kernel_names() -> list[str]:
    return ["python"] + (["c"] if _kernel.compiled_kernel() is not None else [])


@SETTINGS
@given(data=st.binary(max_size=400))
def test_random_bytes(tmp_path, data):
    _load(tmp_path, data)


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from([b" ", b"\n", b"\r\n", b"\t", b"x", b"1e999",
                                                  b"\xff", b"-", b"nan", b"\x00"]))
        elif op == "delete" and data:
            del data[pos]
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


@SETTINGS
@given(data=mutated(), on_bad_line=st.sampled_from(["error", "skip"]),
       errors=st.sampled_from(["strict", "replace", "skip"]))
def test_mutated_files(tmp_path, data, on_bad_line, errors):
    _load(tmp_path, data, on_bad_line=on_bad_line, errors=errors)


@SETTINGS
@given(data=mutated(), fmt=st.sampled_from(["glove", "word2vec", "word2vec-binary"]))
def test_mutated_files_with_forced_format(tmp_path, data, fmt):
    _load(tmp_path, data, format=fmt)


@st.composite
def damaged_streams(draw):
    """A valid file of each format, compressed, then cut, flipped or extended."""
    kind = draw(st.sampled_from(sorted(COMPRESSORS)))
    data = bytearray(COMPRESSORS[kind](draw(st.sampled_from(SEEDS)) * draw(st.integers(1, 50))))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "append", "zero"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "append":
            data += draw(st.binary(min_size=1, max_size=20))
        elif op == "zero" and data:
            data[pos:pos + 8] = bytes(len(data[pos:pos + 8]))
    return bytes(data)


@SETTINGS
@given(data=damaged_streams(), fmt=st.sampled_from(["auto", "glove", "word2vec",
                                                    "word2vec-binary"]))
def test_damaged_compressed_streams(tmp_path, data, fmt):
    _load(tmp_path, data, format=fmt)


@settings(max_examples=60, deadline=5000,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(["vectors.npy", "words.arrow", "meta.json"]), data=st.data())
def test_damaged_store(tmp_path_factory, which, data):
    """A store whose files are cut or flipped: vectors, or a WordvecsError (``verify=True``
    too)."""
    d = tmp_path_factory.mktemp("store")
    v = wordvecs.Vectors(["a", "bb", "ccc"], np.arange(12, dtype=np.float32).reshape(3, 4))
    store = v.save(d / "s.wv")
    f = store / which
    raw = bytearray(f.read_bytes())
    pos = data.draw(st.integers(0, len(raw) - 1))
    if data.draw(st.booleans()):
        del raw[pos:]
    else:
        raw[pos] ^= data.draw(st.integers(1, 255))
    f.write_bytes(bytes(raw))
    for verify in (False, True):
        try:
            got = wordvecs.load(store, verify=verify)
            assert np.asarray(got.matrix).shape == (len(got.words), got.dim)
        except WordvecsError:
            pass


# --- a fixed set of damages on every run (issue 24, item 8): every bit of a small store ---------
def _usable(v: wordvecs.Vectors) -> None:
    """Everything a user does first with loaded vectors works (or says WordvecsError)."""
    words = v.words
    assert np.asarray(v.matrix).shape == (len(words), v.dim)
    for w in words[:3]:
        assert v[w].shape == (v.dim,)
    v.lookup(["a", "bb", "zzz"])


@pytest.mark.slow
@pytest.mark.parametrize("which", ["vectors.npy", "words.arrow", "meta.json"])
def test_every_bit_of_a_small_store_flipped(tmp_path, which):
    """Each bit of each byte of one store file flipped in turn (a named, exhaustive set: a
    failure names the byte and the bit, and is never luck): the store loads to usable vectors or
    raises a WordvecsError, with and without ``verify``. Byte 320 of words.arrow ^ 128 once gave
    vectors whose ``.words`` raised a bare UnicodeDecodeError."""
    v = wordvecs.Vectors(["a", "bb", "ccc"], np.arange(12, dtype=np.float32).reshape(3, 4))
    store = v.save(tmp_path / "s.wv")
    f = store / which
    good = f.read_bytes()
    failures = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for pos in range(len(good)):
            for bit in range(8):
                raw = bytearray(good)
                raw[pos] ^= 1 << bit
                f.write_bytes(bytes(raw))
                for verify in (False, True):
                    try:
                        _usable(wordvecs.load(store, verify=verify))
                    except WordvecsError:
                        pass
                    except Exception as exc:
                        failures.append(f"byte {pos} bit {bit} verify={verify}: "
                                        f"{type(exc).__name__}: {exc}")
    f.write_bytes(good)
    assert not failures, f"{len(failures)} damages escaped: {failures[:5]}"
