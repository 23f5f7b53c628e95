"""Tests that kill mutants of ``wordvecs.similarity`` (issue 16), against gensim 4.4."""

from __future__ import annotations

import numpy as np
import pytest

import wordvecs
from wordvecs import similarity as sim


@pytest.fixture(scope="module")
def kv(glove50):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(glove50.dim)
    kv.add_vectors(glove50.words, glove50.matrix)
    return kv


def _first(glove50, n, query):
    """gensim's KeyedVectors over the first ``n`` words and the (never returned) query words:
    gensim 4.4's ``most_similar_cosmul`` takes ``restrict_vocab`` but ignores it, so the
    restricted peer is a smaller model."""
    from gensim.models import KeyedVectors

    words = list(glove50.words[:n]) + [w for w in query if w not in glove50.words[:n]]
    kv = KeyedVectors(glove50.dim)
    kv.add_vectors(words, np.stack([glove50[w] for w in words]))
    return kv


def _same(ours: list[tuple[str, float]], theirs: list[tuple[str, float]]) -> None:
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-6)


def test_cosmul_two_negatives_equals_gensim(glove50, kv):
    pos, neg = ["king", "woman"], ["man", "boy"]
    _same(sim.most_similar_cosmul(glove50, pos, neg, topn=7),
          kv.most_similar_cosmul(pos, neg, topn=7))


def test_cosmul_single_positive_no_negative_equals_gensim(glove50, kv):
    # no negatives: gensim divides the product by 1 + 1e-6; the same words and scores
    _same(sim.most_similar_cosmul(glove50, "frog", topn=5), kv.most_similar_cosmul("frog", topn=5))
    ours = sim.most_similar_cosmul(glove50, ["paris"], topn=5)
    theirs = kv.most_similar_cosmul(["paris"], topn=5)
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=2e-7)
    # a single string on both sides is one word each (gensim's shorthand)
    _same(sim.most_similar_cosmul(glove50, "king", "man", topn=4),
          kv.most_similar_cosmul("king", "man", topn=4))


def test_cosmul_topn_and_restrict_vocab_like_gensim(glove50, kv):
    assert len(sim.most_similar_cosmul(glove50, ["king"])) == 10  # gensim's default topn
    _same(sim.most_similar_cosmul(glove50, ["king"], topn=1),
          kv.most_similar_cosmul(["king"], topn=1))
    _same(sim.most_similar_cosmul(glove50, ["king", "woman"], ["man"], topn=5, restrict_vocab=500),
          _first(glove50, 500, ["king", "woman", "man"]).most_similar_cosmul(
              ["king", "woman"], ["man"], topn=5))
    with pytest.raises(ValueError, match="no input"):
        sim.most_similar_cosmul(glove50, [], ["man"])


def test_restrict_vocab_one_and_errors(glove50, kv):
    _same(glove50.most_similar("king", topn=3, restrict_vocab=1),
          kv.most_similar("king", topn=3, restrict_vocab=1))
    _same(glove50.most_similar("the", topn=3, restrict_vocab=2),
          kv.most_similar("the", topn=3, restrict_vocab=2))
    with pytest.raises(ValueError, match="restrict_vocab must be a positive integer"):
        glove50.most_similar("king", restrict_vocab=0)
    with pytest.raises(ValueError, match="no input"):
        glove50.most_similar([])
    _same(glove50.most_similar("king", topn=1), kv.most_similar("king", topn=1))


def test_single_weighted_pair_is_one_item(glove50, kv):
    _same(glove50.most_similar(("king", 2.0), topn=5), kv.most_similar([("king", 2.0)], topn=5))
    _same(glove50.most_similar(("king", 3), topn=5), kv.most_similar([("king", 3)], topn=5))


def test_similar_by_vector_defaults_and_restrict(glove50, kv):
    vec = glove50["frog"] * 3.0
    _same(sim.similar_by_vector(glove50, vec), kv.similar_by_vector(vec))
    assert len(sim.similar_by_vector(glove50, vec)) == 10
    _same(sim.similar_by_vector(glove50, vec, topn=4, restrict_vocab=300),
          kv.similar_by_vector(vec, topn=4, restrict_vocab=300))


def test_similar_by_vectors_unnormalised_restricted_and_empty(glove50, kv):
    queries = np.stack([glove50["king"] * 4.0, glove50["paris"] * 0.25])
    got = sim.similar_by_vectors(glove50, queries)
    for q, ours in zip(queries, got):
        _same(ours, kv.similar_by_vector(q))  # scores are cosines, whatever the query's length
    got = sim.similar_by_vectors(glove50, queries, topn=3, restrict_vocab=200)
    for q, ours in zip(queries, got):
        _same(ours, kv.similar_by_vector(q, topn=3, restrict_vocab=200))
    assert sim.similar_by_vectors(glove50, np.empty((0, glove50.dim), dtype=np.float32)) == []
    with pytest.raises(ValueError, match="queries must have 50 columns, got 3"):
        sim.similar_by_vectors(glove50, np.ones((2, 3)))


def test_analogy_defaults_and_restrict_like_gensim(glove50, kv):
    got = sim.analogy(glove50, "man", "king", "woman")
    _same(got, kv.most_similar(["king", "woman"], ["man"], topn=1))
    _same(sim.analogy(glove50, "man", "king", "woman", topn=3, restrict_vocab=400),
          kv.most_similar(["king", "woman"], ["man"], topn=3, restrict_vocab=400))
    _same(sim.analogy(glove50, "man", "king", "woman", topn=3, method="mul", restrict_vocab=400),
          _first(glove50, 400, ["king", "woman", "man"]).most_similar_cosmul(
              ["king", "woman"], ["man"], topn=3))


def test_doesnt_match_message(glove50):
    with pytest.raises(ValueError, match="cannot select a word from an empty list"):
        sim.doesnt_match(glove50, [])


def test_unit_rows_beyond_one_chunk_and_in_float32():
    rng = np.random.default_rng(1)
    m = rng.standard_normal((sim._CHUNK + 5000, 3)).astype(np.float32)
    ref = m / np.linalg.norm(m, axis=1, keepdims=True)
    np.testing.assert_allclose(sim.unit_rows(m), ref, rtol=1e-6, atol=1e-7)
    # a float16 matrix is normalised in float32, not in float16
    h = rng.standard_normal((50, 7)).astype(np.float16)
    h32 = h.astype(np.float32)
    np.testing.assert_allclose(sim.unit_rows(h), h32 / np.linalg.norm(h32, axis=1, keepdims=True),
                               rtol=1e-6, atol=1e-7)


# --- ApproximateIndex ---


@pytest.fixture(scope="module")
def small_index(glove50):
    pytest.importorskip("usearch")
    sub = wordvecs.load(glove50, limit=2000)
    return sub, sim.ApproximateIndex.build(sub, threads=1)


def test_index_scores_are_cosines_and_row_zero_is_indexed(small_index):
    sub, index = small_index
    unit = sim.normed(sub)
    for word in ["the", "king", "paris"]:  # "the" is row 0
        exact = sub.most_similar(word, topn=5)
        approx = sub.most_similar(word, topn=5, indexer=index)
        assert [w for w, _ in approx] == [w for w, _ in exact]
        np.testing.assert_allclose([s for _, s in approx], [s for _, s in exact], atol=1e-5)
    keys = index.search_many(unit[:3], threads=1)
    assert keys.dtype == np.int64 and keys.shape == (3, 10)
    assert list(keys[:, 0]) == [0, 1, 2]  # each row is its own nearest neighbour
    assert len(index.search(unit[5])) == 10


def test_index_over_several_add_steps(glove50):
    pytest.importorskip("usearch")
    sub = wordvecs.load(glove50, limit=20_500)  # two calls of index.add (20,000 rows each)
    index = sim.ApproximateIndex.build(sub, connectivity=4, expansion_add=16, threads=1)
    unit = sim.normed(sub)
    rows = np.array([0, 19_999, 20_000, 20_499])
    keys = index.search_many(unit[rows], 1, threads=1)
    assert list(keys[:, 0]) == list(rows)


def test_index_progress_bar(glove50, capsys):
    pytest.importorskip("usearch")
    sub = wordvecs.load(glove50, limit=300)
    sim.ApproximateIndex.build(sub, threads=1, progress=True)
    err = capsys.readouterr().err
    assert "building the index" in err and "/300" in err and "word/s" in err
    sim.ApproximateIndex.build(sub, threads=1, progress=False)
    assert capsys.readouterr().err == ""


def test_index_without_usearch_names_the_extra(glove50, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "usearch.index", None)
    with pytest.raises(wordvecs.errors.MissingExtraError,
                       match=r"usearch is not installed: pip install 'wordvecs\[ann\]'"):
        sim.ApproximateIndex.build(wordvecs.load(glove50, limit=10))
