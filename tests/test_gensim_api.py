"""gensim's KeyedVectors habits on Vectors, compared with gensim 4.4 on the real GloVe 6B 50d."""

from __future__ import annotations

import numpy as np
import pytest

import wordvecs
from wordvecs.errors import WordNotFound


@pytest.fixture(scope="module")
def kv(glove50):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(glove50.dim)
    kv.add_vectors(glove50.words, glove50.matrix)
    return kv


def test_indexing_like_gensim(glove50, kv):
    np.testing.assert_array_equal(glove50[0], kv[0])
    np.testing.assert_array_equal(glove50[np.int64(691)], kv[691])
    assert glove50[691].tolist() == glove50["king"].tolist()
    np.testing.assert_array_equal(glove50[["king", "queen"]], kv[["king", "queen"]])
    np.testing.assert_array_equal(glove50[["king", 7]], kv[["king", 7]])
    np.testing.assert_array_equal(glove50[:3], kv.vectors[:3])
    np.testing.assert_array_equal(glove50[np.array([5, 2])], kv.vectors[[5, 2]])
    assert glove50[10:5].shape == (0, 50)
    assert glove50[[]].shape == (0, 50)
    out = glove50[:2]
    out[:] = 0  # a copy, as for a single word
    assert glove50[0].any()
    with pytest.raises(WordNotFound):
        glove50[len(glove50)]
    with pytest.raises(KeyError):
        kv[len(kv)]
    with pytest.raises(WordNotFound):
        glove50[["king", "qqqxxz"]]
    with pytest.raises(WordNotFound):
        glove50[np.array([0, -1])]
    with pytest.raises(TypeError, match="cannot index"):
        glove50[1.5]
    assert glove50.get_index("king") == kv.get_index("king") == 691
    assert glove50.get_index("qqqxxz", -1) == kv.get_index("qqqxxz", -1) == -1
    assert glove50.has_index_for("king") and not glove50.has_index_for("qqqxxz")
    assert glove50.index_to_key[:5] == kv.index_to_key[:5]
    assert glove50.vector_size == kv.vector_size == 50
    np.testing.assert_array_equal(glove50.get_vector("king", norm=True),
                                  kv.get_vector("king", norm=True))


@pytest.mark.parametrize(("a", "b"), [("cat", "dog"), ("king", "queen"), ("car", "banana")])
def test_distance_and_n_similarity(glove50, kv, a, b):
    assert glove50.distance(a, b) == pytest.approx(float(kv.distance(a, b)), abs=1e-7)
    ws1, ws2 = [a, "the"], [b, "house", "river"]
    assert glove50.n_similarity(ws1, ws2) == pytest.approx(float(kv.n_similarity(ws1, ws2)),
                                                           abs=1e-7)
    with pytest.raises(ZeroDivisionError):
        glove50.n_similarity([], [b])


def test_distances_exact(glove50, kv):
    ours = glove50.distances("king", ["queen", "man", "frog"])
    np.testing.assert_array_equal(ours, kv.distances("king", ["queen", "man", "frog"]))
    np.testing.assert_array_equal(glove50.distances("frog"), kv.distances("frog"))
    vec = glove50["paris"]
    np.testing.assert_array_equal(glove50.distances(vec, ["london"]),
                                  kv.distances(vec, ["london"]))


@pytest.mark.parametrize(("a", "b"), [("king", "queen"), ("frog", "toad"), ("paris", "cheese")])
def test_rank_and_closer_than(glove50, kv, a, b):
    assert glove50.rank(a, b) == kv.rank(a, b)
    assert glove50.closer_than(a, b) == kv.closer_than(a, b)


def test_mean_vector_variants(glove50, kv):
    keys = ["king", "queen", "qqqxxz", 42]
    np.testing.assert_array_equal(glove50.get_mean_vector(keys), kv.get_mean_vector(keys))
    for kwargs in ({"pre_normalize": False}, {"post_normalize": True},
                   {"weights": [1.0, -2.0, 3.0, 0.5]}):
        ours = glove50.get_mean_vector(keys, **kwargs)
        theirs = kv.get_mean_vector(keys, **kwargs)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
    arr = glove50["frog"] * 2
    np.testing.assert_array_equal(glove50.get_mean_vector([arr, "toad"]),
                                  kv.get_mean_vector([arr, "toad"]))
    with pytest.raises(KeyError):
        glove50.get_mean_vector(keys, ignore_missing=False)
    with pytest.raises(ValueError, match="same number"):
        glove50.get_mean_vector(keys, weights=[1.0])
    with pytest.raises(ValueError, match="no input"):
        glove50.get_mean_vector([])


def test_most_similar_to_given_and_by_word(glove50, kv):
    given = ["house", "toad", "computer"]
    assert glove50.most_similar_to_given("frog", given) == kv.most_similar_to_given("frog", given)
    ours = glove50.similar_by_word("paris", topn=7, restrict_vocab=100000)
    theirs = kv.similar_by_word("paris", topn=7, restrict_vocab=100000)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-6)


def test_add_vectors_like_gensim(glove50):
    from gensim.models import KeyedVectors

    words = glove50.words[:200]
    base = glove50.rows(np.arange(200))
    ours = wordvecs.Vectors(list(words), base.copy())
    kv = KeyedVectors(50)
    kv.add_vectors(list(words), base.copy())
    assert ours.most_similar("the", topn=3)  # builds the normalised cache
    rng = np.random.default_rng(1)
    new = rng.standard_normal((3, 50)).astype(np.float32)
    keys = ["zzword", "the", "yyword"]
    for replace in (False, True):
        ours.add_vectors(keys, new, replace=replace)
        kv.add_vectors(keys, new, replace=replace)
        assert ours.index_to_key == kv.index_to_key
        np.testing.assert_array_equal(ours.vectors, kv.vectors)
        assert ours.index("zzword") == kv.get_index("zzword")
    # caches built before the change are dropped: the new word is a neighbour
    assert ours.most_similar(positive=[new[0]], topn=1)[0][0] == "zzword"
    ours.add_vectors("single", new[1])
    assert ours.index("single") == len(ours) - 1
    with pytest.raises(ValueError, match="shape"):
        ours.add_vectors(["a", "b"], new)


def test_vectors_for_all_and_conversion(glove50):
    sub = glove50.vectors_for_all(["king", "qqqxxz", "queen", "king"])
    assert sub.words == ["king", "queen"]
    np.testing.assert_array_equal(sub["queen"], glove50["queen"])

    kv = sub.to_gensim()
    assert kv.index_to_key == ["king", "queen"]
    np.testing.assert_array_equal(kv["queen"], glove50["queen"])
    assert kv.most_similar("king", topn=1)[0][0] == "queen"
    back = wordvecs.Vectors.from_gensim(kv)
    assert back.words == sub.words
    np.testing.assert_array_equal(back.matrix, sub.matrix)

    dup = wordvecs.Vectors(["a", "b", "a"], np.eye(3, dtype=np.float32))
    kv2 = dup.to_gensim()
    assert kv2.index_to_key == ["a", "b"]
    np.testing.assert_array_equal(kv2["a"], [1, 0, 0])

    from gensim.models import KeyedVectors

    bad = KeyedVectors(2)
    bad.add_vectors([1, 2], np.ones((2, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="key 0"):
        wordvecs.Vectors.from_gensim(bad)


def test_public_names_and_readable_results(glove50):
    from wordvecs import ApproximateIndex, evaluate
    from wordvecs.similarity import ApproximateIndex as same

    assert ApproximateIndex is same
    small = wordvecs.Vectors(glove50.words[:3000], glove50.rows(np.arange(3000)))
    result = evaluate.analogies(small)
    text = str(result)
    first = text.splitlines()[0]
    assert first == (f"analogies (3CosAdd): {result.correct:,} / {result.total:,} = "
                     f"{result.accuracy:.2%} ({result.skipped:,} skipped)")
    assert len(text.splitlines()) == 1 + len(result.sections)
    assert str(result.sections[0]).startswith(result.sections[0].name + ": ")
    assert "sections=" not in repr(result) and "AnalogyResult" in repr(result)
    pairs = evaluate.word_pairs(small)
    assert str(pairs).startswith(f"word pairs: pearson {pairs.pearson:.4f}")
