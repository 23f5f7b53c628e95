"""The unseen-word chain's report: what the mutation run found untested (benchmarks/MUTATION.md).

Counts per step checked against ``collections.Counter`` over the same steps.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

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


# --- issue 16, second pass (helper mut-core): the mutants left untriaged or not run ------------
def _zeros(words: list[str]) -> wordvecs.Vectors:
    return wordvecs.Vectors(words, np.zeros((len(words), 2), dtype=np.float32))


def _casing_set(upper_in_head: int, upper_after: int = 0) -> wordvecs.Vectors:
    """10,000 lowercase-or-UPPER words (``upper_in_head`` of them UPPER), then ``upper_after``
    more UPPER words beyond the first 10,000."""
    words = [f"w{i:05d}" for i in range(10_000 - upper_in_head)]
    words += [f"ZQ{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(upper_in_head)]
    words += [f"ZR{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(upper_after)]
    return _zeros(words)


def test_casing_is_judged_on_the_first_10000_words_above_one_in_a_thousand() -> None:
    # 'Zqaa' has only the UPPER variant 'ZQAA' in the set: the case step finds it only when the
    # set counts as cased (more than 0.1% of its first 10,000 words not lowercase)
    def found(v: wordvecs.Vectors) -> list[str]:
        return Chain(v, ["case"]).resolve(["Zqaa"]).steps

    assert found(_casing_set(11)) == ["case"]
    assert found(_casing_set(10)) == [""]  # exactly 0.1%: uncased (only 'zqaa' is tried)
    assert found(_casing_set(10, upper_after=5)) == [""]  # words after the first 10,000 unseen
    assert found(_casing_set(0)) == [""]


def test_accents_are_stripped_when_no_word_has_one() -> None:
    # non-ASCII words without accents ('日本', 'ß') do not make the set an accented one
    v = _zeros(["the", "cafe", "日本", "straße"])
    assert Chain(v).strip_accents is True
    assert Chain(v, ["unicode"]).resolve(["café"]).parts == [("cafe",)]
    accented = _zeros(["the", "cafe", "naïve"])
    assert Chain(accented).strip_accents is False
    assert Chain(accented, ["unicode"]).resolve(["café"]).steps == [""]


def test_segmenter_cached_per_vector_set() -> None:
    v = _vectors()
    seg = Chain(v).segmenter
    assert Chain(v).segmenter is seg  # a second chain over the same vectors reuses it
    assert Chain(v, top=50).segmenter is not seg  # other settings, another index
    assert Chain(v, counts={"self": 3}).segmenter is not Chain(v, counts={"self": 3}).segmenter


def test_default_rank_bounds_of_parts() -> None:
    # a one-letter part must rank below 100, a two-letter one below 20,000
    # (docs/unseen-words.md: 'the top 20,000'), 0-based row order
    def split(words: list[str], word: str) -> list[str]:
        return Chain(_zeros(words), ["split"]).resolve([word]).steps

    filler = [f"f{i:05d}" for i in range(20_001)]
    assert split(["ray", *filler[:98], "x"], "x-ray") == ["split"]  # 'x' at row 99
    assert split(["ray", *filler[:99], "x"], "x-ray") == [""]  # row 100
    assert split(["ray", *filler[:19_998], "qx"], "qx-ray") == ["split"]  # row 19,999
    assert split(["ray", *filler[:19_999], "qx"], "qx-ray") == [""]  # row 20,000


def test_default_top_of_segmentation_is_100000() -> None:
    def name(i: int) -> str:
        return "q" + "".join(chr(97 + (i // 26 ** k) % 26) for k in range(4))

    words = [name(i) for i in range(100_001)]
    words[5] = "king"
    inside = list(words)
    inside[99_999] = "zebra"  # the 100,000th word: a part
    words[100_000] = "zebra"  # the 100,001st: not
    assert Chain(_zeros(inside), ["segment"]).resolve(["kingzebra"]).parts == [("king", "zebra")]
    assert Chain(_zeros(words), ["segment"]).resolve(["kingzebra"]).steps == [""]


def test_unknown_step_message_lists_them() -> None:
    with pytest.raises(ValueError, match=r"^unknown resolver step\(s\) 'bogus', 'zz'; choose from "
                                         r"exact, case, unicode, split, segment, subword$"):
        Chain(_vectors(), ["case", "zz", "bogus"])


def test_segment_with_known_pieces_around_a_glued_one() -> None:
    v = _vectors()
    res = Chain(v, ["segment"]).resolve(["self-americanair", "Self-americanair"])
    assert res.parts == [("self", "american", "air")] * 2
    assert Chain(v, ["segment"], max_parts=3).resolve(["self-americanair"]).steps == ["segment"]
    assert Chain(v, ["segment"], max_parts=2).resolve(["self-americanair"]).steps == [""]


def _fasttext(words: list[str], prune_size: int = -1) -> wordvecs.Vectors:
    """``words`` with a hand-made fastText table (minn 2, maxn 3, 40 buckets); ``prune_size=0``:
    every n-gram pruned, so no unseen word gets a subword vector."""
    from wordvecs.subwords import FastTextSubwords, SubwordParams

    table = np.random.default_rng(4).standard_normal((len(words) + 40, 3)).astype(np.float32)
    params = SubwordParams(minn=2, maxn=3, bucket=40, nwords=len(words), prune_size=prune_size)
    sw = FastTextSubwords(table, params, list(words))
    return wordvecs.Vectors(words, sw.word_vectors(words)[0], subwords=sw)


def test_with_subwords_the_subword_step_runs_before_split_and_segment() -> None:
    words = ["the", "king", "queen", "cafe", "self", "american", "air"]
    asked = ["King", "café", "king-queen", "americanair"]
    v = _fasttext(words)
    assert Chain(v).steps == ("exact", "case", "unicode", "subword", "split", "segment")
    assert Chain(v).resolve(asked).steps == ["case", "unicode", "subword", "subword"]
    pruned = _fasttext(words, prune_size=0)  # no n-gram: split and segment still run after it
    assert Chain(pruned).steps == ("exact", "case", "unicode", "subword", "split", "segment")
    res = Chain(pruned).resolve(asked)
    assert res.steps == ["case", "unicode", "split", "segment"]
    assert res.parts == [("king",), ("cafe",), ("king", "queen"), ("american", "air")]
    assert Chain(_vectors()).steps == STEPS  # without subwords, the documented order
