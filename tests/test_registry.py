"""The format registry (a format is one entry: reader, sniffer, writer, names), the one sha256
helper, and the public `Vectors` methods that replaced other modules' reads of its fields."""

from __future__ import annotations

import hashlib
import importlib
import os

import numpy as np
import pytest

import wordvecs
from wordvecs import Vectors
from wordvecs._hashing import sha256_fd, sha256_file
from wordvecs.formats import FORMATS, SNIFF_ORDER, VectorFormat, canonical_format, spec_of
from wordvecs.formats.detect import sniff


def test_every_entry_names_functions_that_exist() -> None:
    for spec in FORMATS.values():
        for ref in (spec.reader, spec.writer, spec.sniffer):
            if ref is not None:
                module, _, name = ref.partition(":")
                assert callable(getattr(importlib.import_module(module), name)), ref
    assert set(FORMATS) == set(VectorFormat) - {VectorFormat.AUTO}


def test_aliases_keep_fasttext_bin_apart_from_word2vec_binary() -> None:
    assert canonical_format("bin") is VectorFormat.WORD2VEC_BINARY
    assert canonical_format("ftz") is VectorFormat.FASTTEXT_BIN
    assert canonical_format("fasttext") is VectorFormat.WORD2VEC  # a .vec is word2vec text
    assert spec_of("txt").name is VectorFormat.GLOVE
    with pytest.raises(ValueError, match="auto"):
        spec_of("auto")


def test_models_are_sniffed_before_text() -> None:
    ranks = [s.name for s in SNIFF_ORDER]
    assert ranks.index(VectorFormat.FASTTEXT_BIN) < ranks.index(VectorFormat.WORD2VEC)
    assert ranks.index(VectorFormat.WORD2VEC) < ranks.index(VectorFormat.WORD2VEC_BINARY)
    assert ranks[-1] is VectorFormat.GLOVE


@pytest.mark.parametrize("name", ["v.txt", "v.vec", "v.bin"])
def test_sniff_names_what_each_writer_wrote(tmp_path, name) -> None:
    v = Vectors(["a", "b"], np.arange(6, dtype=np.float32).reshape(2, 3))
    path = v.save(tmp_path / name)
    fmt = sniff(path.read_bytes())
    assert fmt is FORMATS[fmt].name and FORMATS[fmt].suffix == os.path.splitext(name)[1]
    assert wordvecs.load(path).format == fmt.value


def test_one_sha256_for_paths_and_descriptors(tmp_path) -> None:
    path = tmp_path / "f"
    data = os.urandom(3 << 20)
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_file(path) == expected
    fd = os.open(path, os.O_RDONLY)
    try:
        os.lseek(fd, 5, os.SEEK_SET)
        assert sha256_fd(fd) == expected  # from the first byte, whatever the offset
        assert os.lseek(fd, 0, os.SEEK_CUR) == 5  # and the offset is left where it was
    finally:
        os.close(fd)


def test_head_keeps_a_mapped_matrix_and_arrow_words(tmp_path) -> None:
    v = Vectors(["a", "b", "c"], np.arange(9, dtype=np.float32).reshape(3, 3))
    stored = wordvecs.load(v.save(tmp_path / "s.wv"))
    first = stored.head(2)
    assert first.words == ["a", "b"] and (first.source, first.format) == (stored.source, "store")
    assert isinstance(first.matrix, np.memmap)  # a view of the mapped file, not a copy
    np.testing.assert_array_equal(first.matrix, v.matrix[:2])
    with pytest.raises(ValueError, match="n must be >= 0"):
        v.head(-1)


def test_replace_all_drops_normed_and_calls_the_hooks() -> None:
    from wordvecs.vectors import _REPLACE_HOOKS, on_replace

    seen: list[Vectors] = []
    v = Vectors(["a"], np.ones((1, 2), dtype=np.float32))
    before = v.normed
    on_replace(seen.append)
    try:
        v.replace_all(["a", "b"], np.ones((2, 2), dtype=np.float32))
    finally:
        _REPLACE_HOOKS.remove(seen.append)
    assert seen == [v] and v.normed is not before and v.normed.shape == (2, 2)
