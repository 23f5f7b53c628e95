"""build_matrix: exact rows, padding, vocab forms, oov policies, coverage, errors (no Keras)."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

import wordvecs
from wordvecs import EmbeddingMatrix, VocabularyError, build_matrix
from wordvecs.matrix import _stats

WORDS = ["the", "king", "queen", "zzqxnotaword", "cat", "ofthe123xyz"]


def test_lazy_exports() -> None:
    from wordvecs import matrix

    assert wordvecs.build_matrix is matrix.build_matrix
    assert wordvecs.EmbeddingMatrix is matrix.EmbeddingMatrix
    # that build_matrix imports no Keras is checked in a fresh interpreter: tests/test_imports.py


def test_rows_exact_on_real_glove(glove50: wordvecs.Vectors) -> None:
    vocab = {w: i for i, w in enumerate(WORDS, start=1)}
    em = build_matrix(glove50, vocab, fallback=False)  # exact hits only
    assert isinstance(em, EmbeddingMatrix)
    assert em.matrix.dtype == np.float32
    assert em.matrix.shape == (len(WORDS) + 1, 50) == (em.rows, em.dim)
    assert not em.matrix[0].any()
    for w, i in vocab.items():
        if w in glove50:
            np.testing.assert_array_equal(em.matrix[i], glove50[w])
        else:
            assert not em.matrix[i].any()
    assert em.found == ["the", "king", "queen", "cat"]
    assert em.missing == ["zzqxnotaword", "ofthe123xyz"]
    assert em.coverage == pytest.approx(4 / 6)
    assert em.token_coverage is None
    assert em.vocab == vocab


def test_textvectorization_list_vocab(glove50: wordvecs.Vectors) -> None:
    vocab = ["", "[UNK]", *WORDS]
    em = build_matrix(glove50, vocab, oov="mean")
    assert em.rows == len(vocab)
    assert not em.matrix[0].any()
    assert em.vocab == {w: i for i, w in enumerate(vocab) if i > 0}
    np.testing.assert_array_equal(em.matrix[vocab.index("king")], glove50["king"])
    # [UNK] is a special token: an oov row, neither found nor missing
    assert "[UNK]" not in em.found and "[UNK]" not in em.missing
    mean, _ = _stats(glove50)
    np.testing.assert_allclose(em.matrix[1], mean)
    np.testing.assert_allclose(em.matrix[vocab.index("zzqxnotaword")], mean)
    assert em.coverage == pytest.approx(5 / 6)  # ofthe123xyz: split into ofthe + 123 + xyz
    assert em.parts["ofthe123xyz"] == ("ofthe", "123", "xyz")


def test_mean_is_the_mean_of_all_vectors(small_vectors: wordvecs.Vectors) -> None:
    em = build_matrix(small_vectors, {"the": 1, "nope": 2}, oov="mean")
    np.testing.assert_allclose(em.matrix[2], small_vectors.matrix.mean(axis=0), rtol=1e-5,
                               atol=1e-6)


def test_dict_with_gaps_and_padding_entry(small_vectors: wordvecs.Vectors) -> None:
    em = build_matrix(small_vectors, {"": 0, "king": 2, "nope": 5}, oov="mean")
    assert em.rows == 6
    np.testing.assert_array_equal(em.matrix[2], small_vectors["king"])
    mean = small_vectors.matrix.mean(axis=0)
    for gap in (1, 3, 4, 5):  # unused indices get rows like missing words
        np.testing.assert_allclose(em.matrix[gap], mean, rtol=1e-5, atol=1e-6)
    assert not em.matrix[0].any()
    assert em.found == ["king"] and em.missing == ["nope"]  # gaps are not counted
    assert em.vocab == {"king": 2, "nope": 5}


def test_random_policy_stats_and_seed(glove50: wordvecs.Vectors) -> None:
    vocab = {"the": 1, **{f"zzmissing{i}": i + 2 for i in range(4000)}}
    a = build_matrix(glove50, vocab, oov="random", seed=7)
    b = build_matrix(glove50, vocab, oov="random", seed=7)
    c = build_matrix(glove50, vocab, oov="random", seed=8)
    np.testing.assert_array_equal(a.matrix, b.matrix)
    assert not np.array_equal(a.matrix, c.matrix)
    np.testing.assert_array_equal(a.matrix[1], glove50["the"])
    assert not a.matrix[0].any()
    rand = a.matrix[2:]
    full = glove50.matrix
    mean, std = full.mean(axis=0), full.std(axis=0)
    # 4,000 draws: the sample mean is within ~4 standard errors, the std within ~10 %
    assert np.all(np.abs(rand.mean(axis=0) - mean) < 4 * std / np.sqrt(len(rand)) + 1e-3)
    np.testing.assert_allclose(rand.std(axis=0), std, rtol=0.1)


def test_zeros_policy_default(small_vectors: wordvecs.Vectors) -> None:
    em = build_matrix(small_vectors, ["", "[UNK]", "nope", "x"])
    assert em.oov == "zeros"
    assert not em.matrix[:3].any()
    np.testing.assert_array_equal(em.matrix[3], small_vectors["x"])


def test_token_coverage_and_summary(glove50: wordvecs.Vectors) -> None:
    counts = Counter({"the": 90, "king": 5, "zzqxnotaword": 3, "ofthe123xyz": 2})
    em = build_matrix(glove50, ["", "[UNK]", *WORDS], counts=counts, fallback=False)
    assert em.token_coverage == pytest.approx(95 / 100)
    assert em.missing == ["zzqxnotaword", "ofthe123xyz"]  # most frequent first
    text = em.summary()
    assert "found:   4 of 6 words (66.7%)" in text
    assert "95.0%" in text
    assert "zzqxnotaword (3), ofthe123xyz (2)" in text
    assert text.index("zzqxnotaword") < text.index("ofthe123xyz")
    d = em.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["rows"] == 8 and d["dim"] == 50 and d["found"] == 4 and d["missing"] == 2
    assert d["token_coverage"] == pytest.approx(0.95)
    assert d["top_missing"][0] == {"word": "zzqxnotaword", "count": 3}


def test_summary_orders_missing_by_frequency(small_vectors: wordvecs.Vectors) -> None:
    vocab = ["", "[UNK]", "rare", "common", "the"]
    em = build_matrix(small_vectors, vocab, counts={"rare": 1, "common": 50, "the": 7})
    assert em.missing == ["common", "rare"]
    assert "most frequent missing: common (50), rare (1)" in em.summary()
    assert "missing: rare, common" in build_matrix(small_vectors, vocab).summary()


def test_lowercase_fallback(glove50: wordvecs.Vectors) -> None:
    vocab = ["", "[UNK]", "King", "PARIS", "the", "Zzqxnotaword"]
    plain = build_matrix(glove50, vocab, fallback=False)
    assert plain.found == ["the"]
    with pytest.deprecated_call():
        assert build_matrix(glove50, vocab, lowercase_fallback=False).found == ["the"]
    with pytest.deprecated_call():
        em = build_matrix(glove50, vocab, lowercase_fallback=True)
    assert em.found == ["King", "PARIS", "the"]
    assert em.via_lowercase == ["King", "PARIS"]
    assert em.missing == ["Zzqxnotaword"]
    np.testing.assert_array_equal(em.matrix[2], glove50["king"])
    np.testing.assert_array_equal(em.matrix[3], glove50["paris"])
    assert "by step: exact 1; case 2; zeros 1" in em.summary()
    assert "case: King -> king, PARIS -> paris" in em.summary()
    assert em.resolved_by == ["padding", "special", "case", "case", "exact", "zeros"]


def test_exact_form_wins_over_lowercase(small_vectors: wordvecs.Vectors) -> None:
    em = build_matrix(small_vectors, {"Paris": 1}, fallback=["case"])
    np.testing.assert_array_equal(em.matrix[1], small_vectors["Paris"])
    assert em.via_lowercase == []


def test_from_store_reads_only_needed_rows(
    small_vectors: wordvecs.Vectors, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = small_vectors.save(tmp_path / "small.store")
    store = wordvecs.load(path)
    vocab = ["", "[UNK]", "queen", "nope", "king"]
    seen: list[np.ndarray] = []
    real_rows = wordvecs.Vectors.rows

    def spy(self: wordvecs.Vectors, indices: object) -> np.ndarray:
        seen.append(np.asarray(indices))
        return real_rows(self, indices)  # type: ignore[arg-type]

    monkeypatch.setattr(wordvecs.Vectors, "rows", spy)
    from_store = build_matrix(store, vocab)
    assert [sorted(s.tolist()) for s in seen] == [sorted([store.index("queen"),
                                                          store.index("king")])]
    np.testing.assert_array_equal(from_store.matrix, build_matrix(small_vectors, vocab).matrix)
    assert isinstance(store.matrix, np.memmap) or store.matrix.base is not None


def test_accepts_a_path(small_vectors: wordvecs.Vectors, tmp_path) -> None:
    path = small_vectors.save(tmp_path / "v.store")
    em = build_matrix(str(path), {"king": 1})
    np.testing.assert_array_equal(em.matrix[1], small_vectors["king"])


@pytest.mark.parametrize(
    ("vocab", "message"),
    [
        ({"the": 0, "king": 1}, "vocabulary gives index 0 to 'the'; index 0 is reserved"),
        ({"the": -3}, "negative index -3"),
        ({"the": 1.0}, "index 1.0 (of type float)"),
        ({"the": "1"}, "index '1' (of type str)"),
        ({"the": True}, "of type bool"),
        ({}, "empty"),
        ([], "empty"),
        ([""], "empty"),
        ({"": 0}, "empty"),
        (["the", "king"], "padding token '' at index 0, got 'the'"),
        (["[UNK]", "the"], "got '[UNK]'"),
        (["", "a", "a"], "'a' appears twice"),
        (["", "a", ""], "padding token '' appears again at index 2"),
        ({"a": 1, "b": 1}, "index 1 to both 'a' and 'b'"),
        ({3: 1}, "key 3 (of type int)"),
        ("the", "got str"),
        (["", 5], "entry 1 is 5"),
    ],
)
def test_bad_vocab(small_vectors: wordvecs.Vectors, vocab: object, message: str) -> None:
    with pytest.raises(VocabularyError, match=None) as info:
        build_matrix(small_vectors, vocab)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_numpy_int_indices_ok(small_vectors: wordvecs.Vectors) -> None:
    em = build_matrix(small_vectors, {"king": np.int64(2)})
    assert em.rows == 3


def test_unknown_oov_policy(small_vectors: wordvecs.Vectors) -> None:
    with pytest.raises(ValueError, match=r"unknown oov policy 'gauss'.*'zeros', 'random', 'mean'"):
        build_matrix(small_vectors, {"king": 1}, oov="gauss")


def test_summary_of_a_hand_made_matrix() -> None:
    """An EmbeddingMatrix built without build_matrix (no per-step report) still summarises."""
    from wordvecs.matrix import EmbeddingMatrix

    em = EmbeddingMatrix(matrix=np.zeros((3, 2), np.float32), vocab={"a": 1, "b": 2},
                         found=["a"], missing=["b"])
    text = em.summary()
    assert "found:   1 of 2 words (50.0%)" in text and "missing: 1 words" in text
    assert em.to_dict()["found"] == 1 and "by step" not in text
