"""Segmenter: exact costs, the part rules at their bounds, the ``counts`` path (mutation survivors).

The costs are checked against the formula computed here independently (wordninja's Zipf estimate
``log((r + 1) * ln N)``; with counts, ``-log(c / total)``), and every rule at both sides of its
bound, so a shifted default, an off-by-one or a ``break`` for ``continue`` fails a test.
"""

from __future__ import annotations

import itertools
import math
import string

import pytest

from wordvecs.segment import Segmenter


def _words(n: int, length: int) -> list[str]:
    """``n`` distinct words of letters only, each ``length`` long."""
    return ["".join(p) for p in itertools.islice(
        itertools.product(string.ascii_lowercase, repeat=length), n)]


def test_zipf_costs_exact() -> None:
    words = ["the", "of", "and", "cat", "dog"]
    seg = Segmenter(words)
    log_n = math.log(len(words))
    for r, w in enumerate(words):
        assert seg.cost(w) == pytest.approx(math.log((r + 1) * log_n), rel=1e-15)
    assert seg.cost("THE") == seg.cost("the")  # case-insensitive
    assert seg.cost("zebra") == math.inf


def test_zipf_cost_with_two_words_uses_ln2() -> None:
    seg = Segmenter(["cat", "dog"])
    assert seg.cost("cat") == pytest.approx(math.log(1 * math.log(2)), rel=1e-15)
    assert seg.cost("dog") == pytest.approx(math.log(2 * math.log(2)), rel=1e-15)
    # one word: ln N is taken as ln 2 (ln 1 = 0 would give -inf)
    assert Segmenter(["cat"]).cost("cat") == pytest.approx(math.log(math.log(2)), rel=1e-15)


def test_counts_costs_exact_and_ranked_by_count() -> None:
    counts = {"dog": 1, "a": 6, "cat": 3, "zero": 0}
    seg = Segmenter([], counts=counts, single_letter_rank=1)
    total = 10.0
    assert seg.cost("a") == pytest.approx(-math.log(6 / total), rel=1e-15)
    assert seg.cost("cat") == pytest.approx(-math.log(3 / total), rel=1e-15)
    assert seg.cost("dog") == pytest.approx(-math.log(1 / total), rel=1e-15)  # count 1 counts
    assert seg.cost("zero") == math.inf  # a zero count is no part, and no log(0) error
    # "a" is ranked first by count (though last but one in the mapping): a single letter below
    # single_letter_rank=1 must be rank 0
    assert "a" in seg
    assert seg.split("acat") == ("a", "cat")
    assert len(seg) == 3


def test_counts_ranked_highest_first_for_top() -> None:
    counts = {"cat": 1, "dog": 5, "owl": 3}
    seg = Segmenter([], counts=counts, top=2)
    assert "dog" in seg and "owl" in seg and "cat" not in seg


def test_max_len_bound_and_default() -> None:
    seg = Segmenter(["abcd", "abcde", "x"], max_len=4)
    assert "abcd" in seg and "abcde" not in seg
    assert seg.max_len == 4
    w20, w21 = "a" * 19 + "b", "c" * 20 + "d"
    seg = Segmenter([w20, w21])
    assert w20 in seg and w21 not in seg  # default max_len = 20
    assert seg.split(w20 + w20) == (w20, w20)


def test_rejected_words_do_not_stop_the_table() -> None:
    # a non-letter and an over-long word early in the list are skipped, not the end of the table
    seg = Segmenter(["the", "x1", "y" * 30, "cat", "sat"])
    assert "cat" in seg and "sat" in seg and "x1" not in seg
    seg = Segmenter(["the", "q", "cat"], single_letter_rank=1)
    assert "cat" in seg and "q" not in seg
    seg = Segmenter(["the", "of", "cat"], two_letter_rank=1)
    assert "cat" in seg and "of" not in seg


def test_single_letter_rank_bound_and_default() -> None:
    seg = Segmenter(["the", "a", "i"], single_letter_rank=2)
    assert "a" in seg and "i" not in seg  # rank 1 < 2 allowed; rank 2 is not
    filler = _words(200, 3)
    words = [*filler[:99], "a", "i", *filler[99:]]  # 'a' rank 99, 'i' rank 100
    seg = Segmenter(words)
    assert seg.single_letter_rank == 100
    assert "a" in seg and "i" not in seg


def test_two_letter_rank_bound_only_for_two_letters() -> None:
    seg = Segmenter(["the", "us", "im", "cat", "dog", "owl"], two_letter_rank=2)
    assert "us" in seg and "im" not in seg  # rank 1 < 2 allowed; rank 2 is not
    assert {"cat", "dog", "owl"} <= {w for w in ["cat", "dog", "owl"] if w in seg}
    # single letters are ruled by single_letter_rank alone, whatever two_letter_rank says
    seg = Segmenter(["the", "cat", "dog", "a"], two_letter_rank=1, single_letter_rank=10)
    assert "a" in seg
    # a two-letter word past single_letter_rank but before two_letter_rank is a part
    seg = Segmenter([*_words(5, 3), "us"], single_letter_rank=2)
    assert "us" in seg


def test_two_letter_rank_default() -> None:
    filler = _words(20_001, 4)
    words = [*filler[:19_999], "us", "im", *filler[19_999:]]  # 'us' rank 19,999, 'im' 20,000
    seg = Segmenter(words, top=30_000)
    assert "us" in seg and "im" not in seg


def test_settings_kept() -> None:
    seg = Segmenter(["the"], top=7, single_letter_rank=3, max_len=9)
    assert (seg.top, seg.single_letter_rank, seg.max_len) == (7, 3, 9)


def test_contains_and_cost_of_non_words() -> None:
    seg = Segmenter(["Paris", "the"])
    assert "paris" in seg and "PARIS" in seg
    assert 5 not in seg and None not in seg
    assert seg.cost("par") == math.inf  # a prefix of a word is no word
    assert "par" not in seg


def _brute_force(seg: Segmenter, s: str) -> float:
    """The least total cost over every split of ``s`` into at least two parts (exhaustive)."""
    n = len(s)
    best = math.inf
    for cuts in itertools.product((False, True), repeat=n - 1):
        bounds = [0, *[i + 1 for i, c in enumerate(cuts) if c], n]
        if len(bounds) < 3:
            continue
        best = min(best, sum(seg.cost(s[a:b]) for a, b in itertools.pairwise(bounds)))
    return best


def test_split_is_the_least_cost_split_by_exhaustive_search() -> None:
    words = ["the", "a", "in", "thein", "side", "inside", "out", "outs", "id", "eout", "sid",
             "ide", "ou", "t", "he", "then", "ins", "tout", "so", "do", "ex"]
    seg = Segmenter(words, single_letter_rank=30)
    rng = __import__("random").Random(5)
    for _ in range(300):
        s = "".join(rng.choice(words) for _ in range(rng.randint(2, 4)))
        if len(s) > 14:
            continue
        got = seg.split(s)
        ref = _brute_force(seg, s)
        if s in seg:
            assert got is None
            continue
        if ref == math.inf:
            assert got is None
            continue
        assert got is not None and "".join(got) == s
        assert sum(seg.cost(p) for p in got) == pytest.approx(ref, rel=1e-12), (s, got)


def test_split_basics() -> None:
    seg = Segmenter(["American", "air", "the", "a", "lines"], single_letter_rank=10)
    assert seg.split("americanair") == ("American", "air")  # the vector set's spelling
    assert seg.split("AMERICANAIR") == ("American", "air")
    assert seg.split("airlines") == ("air", "lines")
    assert seg.split("air") is None  # a known word is never split
    assert seg.split("a") is None and seg.split("") is None
    assert seg.split("air2lines") is None and seg.split("air-lines") is None
    assert seg.split("airxlines") is None  # no cover of the whole string
    assert seg.split("aa") == ("a", "a")  # two characters is long enough
    assert seg.split("airair") == ("air", "air")


def test_split_parts_at_most_max_len() -> None:
    seg = Segmenter(["abcdef", "ab", "cdef", "gh"], max_len=6)
    assert seg.split("abcdefgh") == ("abcdef", "gh")
    seg = Segmenter(["abcdef", "ab", "cdef", "gh"], max_len=5)
    assert seg.split("abcdefgh") == ("ab", "cdef", "gh")
    # a part may end at the very last character, and start after a long prefix
    seg = Segmenter(["xy", "abcdefghij"], max_len=10)
    assert seg.split("xyabcdefghij") == ("xy", "abcdefghij")
    assert seg.split("abcdefghijxy") == ("abcdefghij", "xy")


def test_split_ties_keep_the_first_split() -> None:
    # 'ab'+'c' and 'a'+'bc' cost the same with counts; the first found (shortest first part)
    counts = {"ab": 10, "c": 10, "a": 10, "bc": 10}
    seg = Segmenter([], counts=counts, single_letter_rank=10)
    assert seg.split("abc") == ("a", "bc")
    assert [seg.split("abc") for _ in range(3)] == [("a", "bc")] * 3


def test_top_default_is_100000() -> None:
    filler = _words(100_001, 4)
    seg = Segmenter(filler)
    assert filler[99_999] in seg and filler[100_000] not in seg
    assert len(seg) == 100_000


def test_case_variant_does_not_stop_the_table() -> None:
    seg = Segmenter(["Paris", "paris", "PARIS", "cat", "dog"])
    assert "cat" in seg and "dog" in seg and len(seg) == 3
    assert seg.split("parisdog") == ("Paris", "dog")  # the first (most frequent) spelling
    assert seg.cost("paris") == seg.cost("Paris") == pytest.approx(math.log(math.log(5)))
