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
