"""build_matrix and EmbeddingMatrix: what the mutation run found untested (benchmarks/MUTATION.md).

Small vector sets built here, every value compared with what numpy computes from the same rows.
"""

from __future__ import annotations

import numpy as np
import pytest

import wordvecs
from wordvecs import build_matrix
from wordvecs.matrix import _stats


def _vectors(n: int = 40, dim: int = 6, seed: int = 0) -> wordvecs.Vectors:
    rng = np.random.default_rng(seed)
    words = [f"w{'abcdefghijklmnopqrstuvwxyz'[i % 26]}{i}" for i in range(n)]
    return wordvecs.Vectors(words, rng.standard_normal((n, dim)).astype(np.float32) * 3 + 1)


def test_stats_equal_numpy_over_chunks() -> None:
    v = _vectors(37, 5)
    ref = v.matrix.astype(np.float64)
    for chunk in (1, 4, 36, 37, 1000):
        mean, std = _stats(wordvecs.Vectors(list(v.words), v.matrix.copy()), chunk_rows=chunk)
        assert mean.dtype == np.float32 and std.dtype == np.float32
        np.testing.assert_allclose(mean, ref.mean(axis=0).astype(np.float32), rtol=1e-6,
                                   atol=1e-6)
        np.testing.assert_allclose(std, ref.std(axis=0).astype(np.float32), rtol=1e-5, atol=1e-6)


def test_stats_default_chunk_spans_rows() -> None:
    # more rows than one default chunk (65,536): the last rows must count
    n, dim = 65_540, 2
    m = np.zeros((n, dim), dtype=np.float32)
    m[-4:] = 1000.0
    mean, std = _stats(wordvecs.Vectors([f"w{i}" for i in range(n)], m))
    ref = m.astype(np.float64)
    np.testing.assert_allclose(mean, ref.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, ref.std(axis=0), rtol=1e-6)


def test_stats_cached_per_vectors() -> None:
    v = _vectors()
    first = _stats(v)
    assert _stats(v) is first
    assert _stats(_vectors()) is not first


def test_mean_and_random_rows_use_stats() -> None:
    v = _vectors(50, 4)
    ref = v.matrix.astype(np.float64)
    em = build_matrix(v, ["", "[UNK]", "wa0", "zzz"], oov="mean", fallback=False)
    np.testing.assert_allclose(em.matrix[3], ref.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(em.matrix[1], ref.mean(axis=0), rtol=1e-6)
    assert em.matrix[2].tobytes() == v["wa0"].tobytes()
    big = build_matrix(v, ["", *[f"zz{'abcdefghij'[i % 10]}{i}" for i in range(4000)]],
                       oov="random", fallback=False, seed=3)
    rows = big.matrix[1:].astype(np.float64)
    tol = 0.1 * float(ref.std(axis=0).min())  # 4,000 draws: the mean is within ~0.02 std
    np.testing.assert_allclose(rows.mean(axis=0), ref.mean(axis=0), atol=tol)
    np.testing.assert_allclose(rows.std(axis=0), ref.std(axis=0), rtol=0.06)


def test_array_protocol() -> None:
    v = _vectors()
    em = build_matrix(v, ["", "wa0", "wb1"], fallback=False)
    assert np.asarray(em) is em.matrix
    as64 = np.asarray(em, dtype=np.float64)
    assert as64.dtype == np.float64
    np.testing.assert_array_equal(as64, em.matrix.astype(np.float64))


def _missing_vocab(k: int) -> list[str]:
    return ["", "wa0", *[f"q{'abcdefghijklmnopqrstuvwxyz'[i]}zz" for i in range(k)]]


def test_top_missing_default_ten_with_and_without_counts() -> None:
    v = _vectors()
    vocab = _missing_vocab(12)
    em = build_matrix(v, vocab, fallback=False)
    assert em.top_missing() == [(w, None) for w in vocab[2:12]]
    assert em.top_missing(3) == [(w, None) for w in vocab[2:5]]
    counts = {w: 100 - i for i, w in enumerate(vocab)}
    em = build_matrix(v, vocab, fallback=False, counts=counts)
    assert em.top_missing() == [(w, counts[w]) for w in vocab[2:12]]


def test_to_dict_values() -> None:
    v = _vectors()
    vocab = ["", "[UNK]", "wa0", "WB1", *_missing_vocab(11)[2:]]
    counts = {w: i + 1 for i, w in enumerate(vocab)}
    em = build_matrix(v, vocab, counts=counts, fallback=["case"])
    d = em.to_dict()
    found, missing = ["wa0", "WB1"], vocab[4:]
    hit = counts["wa0"] + counts["WB1"]
    assert d == {
        "rows": len(vocab),
        "dim": 6,
        "found": 2,
        "missing": 11,
        "via_lowercase": 1,
        "coverage": pytest.approx(2 / 13, rel=1e-12),
        "token_coverage": pytest.approx(hit / (hit + sum(counts[w] for w in missing)),
                                        rel=1e-12),
        "oov": "zeros",
        "steps": {"exact": 1, "case": 1, "zeros": 11},
        "examples": {"case": [["WB1", "wb1"]]},
        "top_missing": [{"word": w, "count": counts[w]}
                        for w in sorted(missing, key=lambda w: -counts[w])[:10]],
    }
    assert em.found == found
    assert type(d["coverage"]) is float and type(d["token_coverage"]) is float
    assert len(em.to_dict(top=2)["top_missing"]) == 2
    assert build_matrix(v, vocab, fallback=False).to_dict()["token_coverage"] is None


def test_summary_lines_exact() -> None:
    v = _vectors()
    vocab = ["", "wa0", "WB1", *_missing_vocab(11)[2:]]
    em = build_matrix(v, vocab, fallback=["case"])
    lines = em.summary().splitlines()
    assert lines[0] == f"embedding matrix: {len(vocab)} rows x 6 dims (row 0 = padding)"
    assert lines[1] == "found:   2 of 13 words (15.4%)"
    assert lines[2] == "missing: 11 words, rows filled with 'zeros'"
    assert lines[3] == "by step: exact 1; case 1; zeros 11"
    assert lines[4] == "  case: WB1 -> wb1"
    assert lines[5] == "missing: " + ", ".join(vocab[3:13]) + ", ..."
    assert len(lines) == 6
    assert em.summary(top=11).splitlines()[5] == "missing: " + ", ".join(vocab[3:])
    counts = dict.fromkeys(vocab, 4)
    em = build_matrix(v, vocab, fallback=["case"], counts=counts)
    lines = em.summary().splitlines()
    assert lines[2] == "tokens:  15.4% of the tokens have a vector"
    assert lines[-1].startswith("most frequent missing: qazz (4), qbzz (4),")


def test_single_row_vectors_mean_is_that_row() -> None:
    # n = 1: the mean of one row is the row, its std 0 (a divisor of max(n, 2) would halve it)
    v = wordvecs.Vectors(["only"], np.array([[2.0, -4.0, 0.5]], dtype=np.float32))
    mean, std = _stats(v)
    np.testing.assert_array_equal(mean, v.matrix[0])
    np.testing.assert_array_equal(std, np.zeros(3, np.float32))
    em = build_matrix(v, ["", "only", "nope"], oov="mean", fallback=False)
    np.testing.assert_array_equal(em.matrix[2], v.matrix[0])


def test_to_dict_and_summary_of_a_bare_matrix() -> None:
    # an EmbeddingMatrix made by hand (no chain report) still reports itself
    em = wordvecs.EmbeddingMatrix(matrix=np.zeros((3, 2), np.float32), vocab={"a": 1, "b": 2},
                                  found=["a"], missing=["b"], resolved_by=["padding", "exact",
                                                                           "zeros"])
    d = em.to_dict()
    assert d["examples"] == {} and d["steps"] == {}
    assert d["top_missing"] == [{"word": "b", "count": None}]
    assert (d["rows"], d["dim"], d["found"], d["missing"]) == (3, 2, 1, 1)


@pytest.mark.parametrize(("vocab", "message"), [
    ("a b c", "vocab must be a dict word -> index or a list in index order "
              "(TextVectorization.get_vocabulary()); got str"),
    (5, "vocab must be a dict word -> index or a list in index order "
        "(TextVectorization.get_vocabulary()); got int"),
    ([], "the vocabulary is empty"),
    ({}, "the vocabulary is empty"),
    (["a", "b"], "a list vocabulary must hold the padding token '' at index 0, got 'a' "
                 "(index 0 is reserved for padding; TextVectorization(mask_token=None) leaves it "
                 "out: pass a dict word -> index starting at 1, or keep the default mask token)"),
    ([""], "the vocabulary is empty (only the padding token '')"),
    (["", "a", 3], "vocabulary entry 2 is 3 (of type int), not a string"),
    (["", "a", "b", "a"], "word 'a' appears twice in the vocabulary, at index 1 and 3"),
    (["", "a", ""], "the padding token '' appears again at index 2"),
    ({3: 1}, "vocabulary key 3 (of type int) is not a string"),
    ({"a": True}, "vocabulary gives 'a' the index True (of type bool); indices must be integers"),
    ({"a": 1.0}, "vocabulary gives 'a' the index 1.0 (of type float); indices must be integers"),
    ({"a": 0}, "vocabulary gives index 0 to 'a'; index 0 is reserved for padding"),
    ({"a": -2}, "vocabulary gives 'a' the negative index -2"),
    ({"a": 1, "b": 1}, "vocabulary gives index 1 to both 'a' and 'b'"),
    ({"": 0}, "the vocabulary is empty (only the padding token '')"),
])
def test_vocabulary_errors_word_for_word(vocab: object, message: str) -> None:
    with pytest.raises(wordvecs.errors.VocabularyError) as err:
        build_matrix(_vectors(), vocab)  # type: ignore[arg-type]
    assert str(err.value) == message


def test_dict_vocabulary_with_padding_and_numpy_indices() -> None:
    v = _vectors()
    em = build_matrix(v, {"": 0, "wa0": np.int64(2), "wb1": 1}, fallback=False)
    assert em.vocab == {"wa0": 2, "wb1": 1} and em.rows == 3
    assert all(type(i) is int for i in em.vocab.values())
    assert em.matrix[2].tobytes() == v["wa0"].tobytes()
    assert em.resolved_by == ["padding", "exact", "exact"]


def test_lowercase_fallback_warns_at_the_caller() -> None:
    v = _vectors()
    with pytest.warns(DeprecationWarning) as rec:
        em = build_matrix(v, ["", "WA0", "wb1"], lowercase_fallback=True)
    assert str(rec[0].message) == ("build_matrix(lowercase_fallback=...) is deprecated: the "
                                   "chain's 'case' step does it (fallback=['case'])")
    # stacklevel=2: the warning names the line that called build_matrix (under mutmut, its
    # trampoline is the frame between them; see benchmarks/MUTATION.md)
    assert rec[0].filename == __file__ or rec[0].filename.endswith("mutmut/mutation/trampoline.py")
    assert em.resolved_by == ["padding", "case", "exact"]
    with pytest.warns(DeprecationWarning):
        assert build_matrix(v, ["", "WA0"], lowercase_fallback=False).missing == ["WA0"]


def test_chain_as_fallback() -> None:
    from wordvecs.resolve import Chain

    v = _vectors()
    em = build_matrix(v, ["", "WA0", "wb1", "nope"], fallback=Chain(v, ["case"]))
    assert em.resolved_by == ["padding", "case", "exact", "zeros"]
    assert em.parts == {"WA0": ("wa0",)}  # only words a step other than exact resolved
    em = build_matrix(v, ["", "WA0", "wb1"], fallback=Chain(v, []))
    assert em.resolved_by == ["padding", "zeros", "exact"]
    with pytest.raises(ValueError) as err:
        build_matrix(v, ["", "wa0"], fallback=Chain(_vectors()))
    assert str(err.value) == "the Chain given as fallback was made for other vectors"


def test_subword_step_only_with_oov_subword_or_in_the_steps() -> None:
    from test_resolve import WithSubwords  # the n-gram model of test_resolve

    rng = np.random.default_rng(0)
    v = WithSubwords(["abc", "bcd", "the"], rng.standard_normal((3, 4)).astype("f4"))
    vocab = ["", "abcd", "the"]
    assert build_matrix(v, vocab, fallback=False).resolved_by == ["padding", "zeros", "exact"]
    em = build_matrix(v, vocab, fallback=False, oov="subword")
    assert em.resolved_by == ["padding", "subword", "exact"]
    np.testing.assert_array_equal(em.matrix[1], np.mean([v["abc"], v["bcd"]], axis=0))


def test_random_default_seed_is_0_and_unused_rows_labelled() -> None:
    v = _vectors()
    vocab = {"wa0": 1, "nope": 3}
    a = build_matrix(v, vocab, oov="random", fallback=False)
    b = build_matrix(v, vocab, oov="random", fallback=False, seed=0)
    c = build_matrix(v, vocab, oov="random", fallback=False, seed=1)
    assert a.matrix.tobytes() == b.matrix.tobytes() != c.matrix.tobytes()
    assert a.resolved_by == ["padding", "exact", "unused", "random"]
    assert a.missing == ["nope"] and a.found == ["wa0"]


def test_policy_name_in_report_and_oov() -> None:
    v = _vectors()
    em = build_matrix(v, ["", "wa0", "nope", "nada"], oov="mean", fallback=False)
    assert em.oov == "mean"
    assert em.steps == {"exact": 1, "mean": 2}
    assert em.resolved_by == ["padding", "exact", "mean", "mean"]
    assert em.missing_counts is None and em.token_coverage is None


def test_counts_order_examples_and_default_to_zero() -> None:
    v = _vectors()
    vocab = ["", "WA0", "WB1", "WC2", "WD3", "gone", "lost"]
    counts = {"WA0": 1, "WB1": 2, "WC2": 3, "WD3": 9, "lost": 5}  # 'gone' has no count
    em = build_matrix(v, vocab, fallback=["case"], counts=counts)
    assert em.report["examples"]["case"] == [["WD3", "wd3"], ["WC2", "wc2"], ["WB1", "wb1"]]
    assert em.missing == ["lost", "gone"]
    assert em.missing_counts == {"gone": 0, "lost": 5}
    assert em.top_missing() == [("lost", 5), ("gone", 0)]
    assert em.token_coverage == pytest.approx(15 / 20, rel=1e-12)
    # without counts: examples in index order
    em = build_matrix(v, vocab, fallback=["case"])
    assert em.report["examples"]["case"] == [["WA0", "wa0"], ["WB1", "wb1"], ["WC2", "wc2"]]


def test_token_coverage_none_when_counts_sum_to_zero() -> None:
    v = _vectors()
    em = build_matrix(v, ["", "wa0", "nope"], fallback=False, counts={"other": 7})
    assert em.token_coverage is None
    assert em.missing_counts == {"nope": 0}
