"""Tests that kill mutants of `wordvecs.vectors` (issue 16); each names what it pins down.

The subword cases use a small hand-made fastText table (:class:`FastTextSubwords`, the model a
``.bin`` loads into; `tests/test_fasttext.py` checks it against fasttext-modern bit for bit), so
they run without training a model. gensim's ``KeyedVectors`` is the peer for its API habits.
"""

from __future__ import annotations

import numpy as np
import pytest

import wordvecs
from wordvecs import Vectors
from wordvecs.errors import WordNotFound
from wordvecs.formats.store import store_extras
from wordvecs.matrix import build_matrix
from wordvecs.subwords import FastTextSubwords, SubwordParams

WORDS = ["the", "king", "queen", "man", "woman", "apple", "paris", "rome", "berlin", "cat",
         "dog", "mouse"]
DIM = 6


def _matrix(n: int = len(WORDS), dim: int = DIM, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def _subwords(prune_size: int = -1, dim: int = DIM) -> FastTextSubwords:
    """A fastText table: one row per word of WORDS, then 40 n-gram buckets (minn 2, maxn 3)."""
    bucket = 40
    table = np.random.default_rng(1).standard_normal((len(WORDS) + bucket, dim)).astype(np.float32)
    params = SubwordParams(minn=2, maxn=3, bucket=bucket, nwords=len(WORDS),
                           prune_size=prune_size)
    return FastTextSubwords(table, params, list(WORDS))


def _kv(v: Vectors):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(v.dim)
    kv.add_vectors(v.words, v.matrix)
    return kv


# --- construction ----------------------------------------------------------------------------
def test_constructor_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match=r"^matrix=None needs subwords= \(the rows are computed"):
        Vectors(WORDS, None)
    with pytest.raises(ValueError, match=r"^matrix must be 2-D, got shape \(12,\)"):
        Vectors(WORDS, np.zeros(len(WORDS), dtype=np.float32))
    with pytest.raises(ValueError, match=r"^subwords of dim 4 for a matrix of dim 6$"):
        Vectors(WORDS, _matrix(), subwords=_subwords(dim=4))


def test_matrix_none_with_subwords_is_fasttexts_vector_of_each_word() -> None:
    sw = _subwords()
    v = Vectors(WORDS, None, subwords=sw)
    assert v.shape == (len(WORDS), DIM) and len(v) == len(WORDS)
    assert v.subwords is sw
    expected = sw.word_vectors(WORDS)[0]
    np.testing.assert_array_equal(v["queen"], expected[2])
    # rows() reads only the rows asked for, in the shape of the indices
    np.testing.assert_array_equal(v.rows([[3, 0], [2, 3]]), expected[[[3, 0], [2, 3]]])
    assert v._lazy is None  # neither lookup computed the whole matrix (what `_raw` does)
    np.testing.assert_array_equal(v.matrix, expected)


def test_matching_subwords_with_a_matrix_are_kept_and_rows_are_the_matrix() -> None:
    sw = _subwords()
    m = _matrix()
    v = Vectors(WORDS, m, subwords=sw)
    assert v.subwords is sw
    # a word with a row gets that row (the matrix's), not a vector rebuilt from the table
    assert not np.array_equal(m[1], sw.word_vector("king"))
    np.testing.assert_array_equal(v["king"], m[1])
    np.testing.assert_array_equal(v["king"], v.matrix[v.index("king")])
    np.testing.assert_array_equal(v.rows([1, 4]), m[[1, 4]])


def test_words_from_a_tuple_source_and_format() -> None:
    v = Vectors(tuple(WORDS), _matrix(), source="here.txt", format="glove")
    assert v.words == WORDS and isinstance(v.words, list)
    assert list(v) == WORDS
    assert (v.source, v.format) == ("here.txt", "glove")
    assert repr(v) == "<Vectors 12 x 6, source='here.txt'>"
    assert repr(Vectors(WORDS, _matrix())) == "<Vectors 12 x 6>"
    # words from a tuple are a list like any other: the Arrow path (a store's, for a long list
    # before the index is built) and with_subwords see no Arrow array
    many = ["queen", "zzqx"] * 600
    assert Vectors(tuple(WORDS), _matrix()).lookup(many).tolist() == [2, -1] * 600
    assert Vectors(tuple(WORDS), _matrix()).with_subwords(_subwords()).words == WORDS


# --- lookups ---------------------------------------------------------------------------------
def test_missing_word_suggestion_is_none_without_a_case_variant() -> None:
    v = Vectors(WORDS, _matrix())
    with pytest.raises(WordNotFound) as err:
        v.index("zzqx")
    assert err.value.suggestion is None
    assert str(err.value) == "word 'zzqx' not in vocabulary"
    with pytest.raises(WordNotFound) as err:
        v.index("King")
    assert err.value.suggestion == "king"
    with pytest.raises(WordNotFound) as err:
        v.index(5)  # not a str: no case variant to suggest
    assert err.value.suggestion is None and str(err.value) == "word 5 not in vocabulary"


def test_unseen_word_gets_the_subword_vector() -> None:
    sw = _subwords()
    v = Vectors(WORDS, _matrix(), subwords=sw)
    vec, found = sw.word_vectors(["kingdom"])
    assert found[0]
    np.testing.assert_array_equal(v["kingdom"], vec[0])
    np.testing.assert_array_equal(v.get("kingdom"), vec[0])
    # a word with no n-gram in the table (every n-gram pruned): fastText's zero vector, while
    # the word stays absent (not in the vectors, get gives its default)
    pruned = Vectors(WORDS, _matrix(), subwords=_subwords(prune_size=0))
    zero = pruned["kingdom"]
    assert zero.shape == (DIM,) and zero.dtype == np.float32 and not zero.any()
    assert "kingdom" not in pruned and pruned.get("kingdom") is None
    np.testing.assert_array_equal(pruned["king"], pruned.matrix[1])


def test_known_word_of_a_lazy_fasttext_matrix_even_when_pruned() -> None:
    sw = _subwords(prune_size=0)  # a known word still has its own dictionary row
    v = Vectors(WORDS, None, subwords=sw)
    np.testing.assert_array_equal(v["cat"], sw.table[WORDS.index("cat")])


def test_get_of_a_key_that_is_no_word_is_the_default() -> None:
    v = Vectors(WORDS, _matrix())
    assert v.get(["king"], "none") == "none"  # a list is no word (and no hashable key)
    assert v.get("zzqx") is None


def test_lookup_on_fresh_list_vectors() -> None:
    v = Vectors(WORDS, _matrix())
    assert v.lookup(["queen", "zzqx", "the"]).tolist() == [2, -1, 0]


def test_rows_of_no_indices() -> None:
    v = Vectors(WORDS, _matrix())
    assert v.rows([]).shape == (0, DIM) and v.rows([]).dtype == np.float32
    sub = Vectors(WORDS, None, subwords=_subwords())
    assert sub.rows([]).shape == (0, DIM)


def test_subset_keeps_source_format_and_subwords() -> None:
    sw = _subwords()
    v = Vectors(WORDS, _matrix(), source="s.vec", format="word2vec", subwords=sw)
    sub = v.subset(["rome", "king", "zzqx"])
    assert sub.words == ["king", "rome"]
    assert (sub.source, sub.format) == ("s.vec", "word2vec")
    assert sub.subwords is sw
    np.testing.assert_array_equal(sub["kingdom"], sw.word_vector("kingdom"))


def test_with_subwords_keeps_everything_else(tmp_path) -> None:
    sw = _subwords()
    m = _matrix()
    v = Vectors(WORDS, m, source="a.txt", format="glove").with_subwords(sw)
    assert (v.words, v.source, v.format, v.subwords) == (WORDS, "a.txt", "glove", sw)
    np.testing.assert_array_equal(v.matrix, m)
    # words held as Arrow (a store) are passed on as they are
    stored = wordvecs.load(Vectors(WORDS, m).save(tmp_path / "p.wv"))
    w = stored.with_subwords(sw)
    assert w.words == WORDS and w.subwords is sw
    np.testing.assert_array_equal(w.matrix, m)


def test_store_keeps_the_subword_table(tmp_path) -> None:
    sw = _subwords()
    v = Vectors(WORDS, sw.word_vectors(WORDS)[0], subwords=sw)
    back = wordvecs.load(v.save(tmp_path / "f.wv"))
    assert back.subwords is not None
    np.testing.assert_array_equal(back["kingdom"], sw.word_vector("kingdom"))
    np.testing.assert_array_equal(back.matrix, v.matrix)
    assert store_extras(Vectors(WORDS, _matrix())) == ()


def test_save_passes_progress_on(tmp_path, capsys) -> None:
    v = Vectors(WORDS, _matrix())
    v.save(tmp_path / "a.txt", progress=False)
    assert capsys.readouterr().err == ""
    v.save(tmp_path / "b.txt", progress=True)
    assert "writing b.txt" in capsys.readouterr().err
    assert (tmp_path / "a.txt").read_bytes() == (tmp_path / "b.txt").read_bytes()


# --- gensim's defaults -----------------------------------------------------------------------
def test_similarity_defaults_and_arguments_like_gensim() -> None:
    v = Vectors([f"w{i}" for i in range(30)], _matrix(30, 8))
    kv = _kv(v)

    def same(ours, theirs):
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)

    same(v.most_similar("w3"), kv.most_similar("w3"))  # topn 10
    same(v.most_similar("w3", restrict_vocab=12), kv.most_similar("w3", restrict_vocab=12))
    same(v.similar_by_word("w3"), kv.similar_by_word("w3"))
    q = v["w5"] + v["w7"]
    same(v.similar_by_vector(q), kv.similar_by_vector(q))
    same(v.similar_by_vector(q, restrict_vocab=9), kv.similar_by_vector(q, restrict_vocab=9))
    batched = v.similar_by_vector(np.stack([q, v["w1"]]), topn=3, restrict_vocab=20)
    same(batched[0], kv.similar_by_vector(q, topn=3, restrict_vocab=20))
    same(batched[1], kv.similar_by_vector(v["w1"], topn=3, restrict_vocab=20))
    same(v.analogy("w1", "w2", "w3"), kv.most_similar(["w2", "w3"], ["w1"], topn=1))
    same(v.analogy("w1", "w2", "w3", topn=4, restrict_vocab=15),
         kv.most_similar(["w2", "w3"], ["w1"], topn=4, restrict_vocab=15))


def test_most_similar_passes_the_indexer_on() -> None:
    from wordvecs.similarity import ApproximateIndex

    v = Vectors([f"w{i}" for i in range(40)], _matrix(40, 8))
    index = ApproximateIndex.build(v)
    got = v.most_similar("w3", topn=5, indexer=index)
    assert got == index.search(v.normed[3], 5, exclude=[3])
    assert len(got) == 5 and "w3" not in [w for w, _ in got]


def test_get_vector_is_a_raw_copy_like_gensim() -> None:
    v = Vectors(WORDS, _matrix())
    kv = _kv(v)
    got = v.get_vector("queen")
    np.testing.assert_array_equal(got, kv.get_vector("queen"))  # norm=False by default
    np.testing.assert_allclose(v.get_vector("queen", norm=True),
                               kv.get_vector("queen", norm=True), rtol=1e-6)
    got[:] = 0
    assert v.matrix[2].any()  # the result is a copy


def test_add_vectors_keeps_a_known_word_unless_replace() -> None:
    v = Vectors(list(WORDS), _matrix())
    kv = _kv(v)
    new = np.full((2, DIM), 7.0, dtype=np.float32)
    v.add_vectors(["king", "zebra"], new)
    kv.add_vectors(["king", "zebra"], new)
    np.testing.assert_array_equal(v.matrix, kv.vectors)
    assert v.words == kv.index_to_key


def test_vectors_for_all_infers_by_default() -> None:
    sw = _subwords()
    v = Vectors(WORDS, _matrix(), subwords=sw)
    out = v.vectors_for_all(["king", "kingdom"])
    assert out.words == ["king", "kingdom"]
    np.testing.assert_array_equal(out["kingdom"], sw.word_vector("kingdom"))
    assert v.vectors_for_all(["king", "kingdom"], allow_inference=False).words == ["king"]


# --- in-place changes ------------------------------------------------------------------------
def test_replace_refuses_a_row_count_mismatch() -> None:
    v = Vectors(list(WORDS), _matrix())
    with pytest.raises(ValueError, match=r"^2 words for 3 matrix rows$"):
        v.replace_all(["a", "b"], np.zeros((3, 5), dtype=np.float32))


def test_add_vectors_drops_the_cached_stats() -> None:
    v = Vectors(list(WORDS), _matrix())
    first = build_matrix(v, ["", "king", "zzqx"], oov="mean").matrix
    np.testing.assert_allclose(first[2], v.matrix.mean(axis=0), rtol=1e-5, atol=1e-6)
    v.add_vectors(["far"], np.full((1, DIM), 100.0, dtype=np.float32))
    again = build_matrix(v, ["", "king", "zzqx"], oov="mean").matrix
    np.testing.assert_allclose(again[2], v.matrix.mean(axis=0), rtol=1e-5, atol=1e-6)
