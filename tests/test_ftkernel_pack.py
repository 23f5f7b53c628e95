"""The compiled kernel's word packing (``pack_words``): the same bytes and dictionary entries as
``subwords.encode`` and ``ids.get(word, -1)`` word by word, which the pure-Python path uses."""

from __future__ import annotations

import numpy as np
import pytest

from wordvecs.subwords import compiled_kernel, encode

kernel = compiled_kernel()
pytestmark = pytest.mark.skipif(kernel is None or not hasattr(kernel, "pack_words"),
                                reason="compiled subword kernel not built")

WORDS = ["", "a", "naïve", "日本語", "emoji😀", "raw\udcff\udc80bytes", "\x00nul", "a" * 5000,
         "deflategate", "a"]


def _pack(words, ids):
    offsets = np.full(len(words) + 1, -7, dtype=np.int64)
    entries = np.full(len(words), -7, dtype=np.int64)
    data = kernel.pack_words(words, ids, offsets, entries)
    return data, offsets, entries


def test_pack_equals_python_encode_and_lookup() -> None:
    ids = {"a": 3, "日本語": 0, "raw\udcff\udc80bytes": 2**40}
    data, offsets, entries = _pack(WORDS, ids)
    encoded = [encode(w) for w in WORDS]
    assert data == b"".join(encoded)
    assert offsets.tolist() == [0, *np.cumsum([len(b) for b in encoded]).tolist()]
    assert entries.tolist() == [ids.get(w, -1) for w in WORDS]
    assert [data[offsets[k]:offsets[k + 1]] for k in range(len(WORDS))] == encoded


def test_pack_accepts_tuples_and_no_dictionary() -> None:
    data, offsets, entries = _pack(tuple(WORDS[:3]), None)
    assert data == b"".join(encode(w) for w in WORDS[:3])
    assert entries.tolist() == [-1, -1, -1]
    data, offsets, entries = _pack([], {})
    assert data == b"" and offsets.tolist() == [0]


def test_pack_leaves_no_utf8_copy_on_the_str() -> None:
    # a non-ASCII str asked for its UTF-8 through PyUnicode_AsUTF8AndSize keeps a cached copy (its
    # size grows); the kernel encodes into a temporary instead
    import sys

    word = "".join(["naïve"] * 100)
    before = sys.getsizeof(word)
    _pack([word], None)
    assert sys.getsizeof(word) == before


def test_pack_errors_match_python() -> None:
    with pytest.raises(UnicodeEncodeError):
        encode("\ud800")  # a lone high surrogate has no byte to escape to
    with pytest.raises(UnicodeEncodeError):
        _pack(["ok", "\ud800"], None)
    with pytest.raises(TypeError, match="words must be str, got bytes at 1"):
        _pack(["ok", b"bytes"], None)
    with pytest.raises(ValueError, match="inconsistent"):
        kernel.pack_words(["a", "b"], None, np.zeros(2, np.int64), np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="inconsistent"):
        kernel.pack_words(["a"], ["not", "a", "dict"], np.zeros(2, np.int64), np.zeros(1, np.int64))
    with pytest.raises(TypeError):  # an entry that is not an int
        _pack(["a"], {"a": "three"})
