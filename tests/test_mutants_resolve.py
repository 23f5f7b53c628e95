"""The unseen-word chain's report: what the mutation run found untested (benchmarks/MUTATION.md).

Counts per step checked against ``collections.Counter`` over the same steps.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

import wordvecs
from wordvecs.resolve import STEPS, Chain, describe


def _vectors() -> wordvecs.Vectors:
    words = ["the", "king", "paris", "self", "driving", "american", "air"]
    rng = np.random.default_rng(0)
    return wordvecs.Vectors(words, rng.standard_normal((len(words), 4)).astype(np.float32))


def test_resolution_counts_equal_counter() -> None:
    words = ["the", "King", "KING", "PARIS", "self-driving", "americanair", "zzqx", "the"]
    res = Chain(_vectors()).resolve(words)
    assert res.steps == ["exact", "case", "case", "case", "split", "segment", "", "exact"]
    ref = Counter(s for s in res.steps if s)
    got = res.counts()
    assert got == dict(ref) == {"exact": 2, "case": 3, "split": 1, "segment": 1}
    assert list(got) == [s for s in STEPS if s in ref]  # chain order
    assert Chain(_vectors()).resolve(["zzqx"]).counts() == {}


def _missing(n: int) -> list[str]:
    return [f"q{c}zz" for c in "abcdefghijklmnopqrstuvwxyz"[:n]]


def test_describe_defaults() -> None:
    words = ["King", "PARIS", "Self", "AIR", *_missing(12)]
    steps = ["case"] * 4 + [""] * 12
    parts = [("king",), ("paris",), ("self",), ("air",)] + [()] * 12
    rep = describe(words, steps, parts)
    assert rep["steps"] == {"case": 4, "zeros": 12}  # unresolved words named by the policy
    assert rep["examples"] == {"case": [["King", "king"], ["PARIS", "paris"], ["Self", "self"]]}
    assert rep["top_missing"] == [{"word": w, "count": None} for w in _missing(10)]
    rep = describe(words, steps, parts, policy="mean", examples=1, top=2)
    assert rep["steps"] == {"case": 4, "mean": 12}
    assert rep["examples"] == {"case": [["King", "king"]]}
    assert [m["word"] for m in rep["top_missing"]] == _missing(2)


def test_describe_words_without_counts_count_zero() -> None:
    words = ["qazz", "qbzz", "qczz", "qdzz"]
    counts = {"qazz": 0, "qczz": 5}  # qbzz and qdzz have none: 0, stable after qazz
    rep = describe(words, [""] * 4, [()] * 4, counts=counts)
    assert rep["top_missing"] == [{"word": "qczz", "count": 5}, {"word": "qazz", "count": 0},
                                  {"word": "qbzz", "count": 0}, {"word": "qdzz", "count": 0}]


def test_describe_subword_example_names_the_step() -> None:
    rep = describe(["abcd"], ["subword"], [()])
    assert rep["examples"] == {"subword": [["abcd", "subword"]]}


def test_vectors_dim_argument() -> None:
    res = Chain(_vectors()).resolve(["zzqx", "the"])
    assert res.vectors(_vectors()).shape == (2, 4)
    res = Chain(_vectors()).resolve(["zzqx"])
    assert res.vectors(_vectors(), dim=7).shape == (1, 7)


def test_rank_bounds_of_split_parts() -> None:
    rng = np.random.default_rng(1)
    v = wordvecs.Vectors(["the", "a", "us", "self"], rng.standard_normal((4, 3)).astype("f4"))
    assert Chain(v, ["split"], single_letter_rank=1).resolve(["self-a"]).steps == [""]
    assert Chain(v, ["split"], single_letter_rank=2).resolve(["self-a"]).steps == ["split"]
    assert Chain(v, ["split"], two_letter_rank=2).resolve(["self-us"]).steps == [""]
    assert Chain(v, ["split"], two_letter_rank=3).resolve(["self-us"]).steps == ["split"]


def test_max_parts_is_inclusive_and_one_piece_is_no_split() -> None:
    v = _vectors()
    assert Chain(v, ["split"], max_parts=2).resolve(["self-driving"]).steps == ["split"]
    assert Chain(v, ["split"], max_parts=1).resolve(["self-driving"]).steps == [""]
    # a word that is one piece is not the split step's: without 'case', 'King' stays unresolved
    assert Chain(v, ["split"]).resolve(["King"]).steps == [""]


def test_replacement_character_blocks_segmentation() -> None:
    res = Chain(_vectors()).resolve(["americanair", "americanair\ufffd"])
    assert res.steps == ["segment", ""]


def test_cased_vectors_pieces_take_title_case() -> None:
    rng = np.random.default_rng(2)
    words = ["the", "Paris", "London", "of"]
    v = wordvecs.Vectors(words, rng.standard_normal((4, 3)).astype("f4"))
    res = Chain(v).resolve(["PARIS-LONDON"])
    assert (res.steps, res.parts) == (["split"], [("Paris", "London")])


def test_unicode_step_alone_does_not_do_case() -> None:
    rng = np.random.default_rng(3)
    v = wordvecs.Vectors(["the", "könig"], rng.standard_normal((2, 3)).astype("f4"))
    assert Chain(v, ["unicode"]).resolve(["KÖNIG"]).steps == [""]  # NFKC changes nothing
    assert Chain(v, ["unicode"]).resolve(["ｋönig"]).steps == ["unicode"]


class _Float64Model:
    dim = 4

    def word_vectors(self, words):  # type: ignore[no-untyped-def]
        return np.full((len(words), 4), 0.1, dtype=np.float64), np.ones(len(words), bool)


class _WithModel(wordvecs.Vectors):
    subwords = _Float64Model()


def test_subword_vectors_stored_as_float32() -> None:
    v = _WithModel(["the"], np.zeros((1, 4), np.float32))
    res = Chain(v).resolve(["zzqx"])
    assert res.steps == ["subword"]
    assert res.subword[0].dtype == np.float32
    np.testing.assert_array_equal(res.subword[0], np.full(4, 0.1, np.float32))


def test_case_variants_leave_the_word_out() -> None:
    from wordvecs.resolve import case_variants

    assert case_variants("king", False) == []
    assert case_variants("King", False) == ["king"]
    assert case_variants("King", True) == ["king", "KING"]
    assert case_variants("iPhone", True) == ["iphone", "Iphone", "IPHONE"]
