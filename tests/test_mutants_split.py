"""Tests that kill mutants of the stratified split and subsample (issue 16).

What they pin is the docstrings' contract: fractions checked, each class's share kept (rounded)
unless it would leave the class without a training example, the three parts disjoint and whole,
int64 indices that index an array even when a part is empty, seed 0 by default. (``macro_f1``'s
mutants are all killed by ``tests/test_train.py``, against scikit-learn's ``f1_score``.)
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wordvecs.text.datasets import stratified_split, stratified_subsample

LABELS = ["a"] * 50 + ["b"] * 30 + ["c"] * 20


@pytest.mark.parametrize(("val", "test"), [(-0.1, 0.2), (0.1, -0.2), (1.0, 0.0), (0.0, 1.0),
                                           (1.5, 0.0), (0.5, 1.5), (0.5, 0.5), (0.6, 0.6),
                                           (0.9, 0.3)])
def test_split_refuses_fractions_that_are_not_a_split(val: float, test: float) -> None:
    with pytest.raises(ValueError, match=r"^val and test must be fractions that sum below 1\. "
                                         rf"Received: val={val}, test={test}$"):
        stratified_split(LABELS, val=val, test=test)


def test_split_accepts_fractions_just_below_one() -> None:
    tr, va, te = stratified_split(LABELS, val=0.45, test=0.45)
    assert len(tr) + len(va) + len(te) == 100 and len(tr) >= 3


def test_split_default_seed_is_zero() -> None:
    default = stratified_split(LABELS)
    assert all(np.array_equal(x, y) for x, y in zip(default, stratified_split(LABELS, seed=0)))
    assert not np.array_equal(default[2], stratified_split(LABELS, seed=1)[2])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=5),
       st.sampled_from([0.0, 0.2, 0.5, 0.7]), st.sampled_from([0.0, 0.2, 0.25]),
       st.integers(0, 3))
def test_split_validation_share_per_class(sizes: list[int], val: float, test: float,
                                          seed: int) -> None:
    labels = [f"c{k}" for k, n in enumerate(sizes) for _ in range(n)]
    tr, va, te = stratified_split(labels, seed=seed, val=val, test=test)
    for k, n in enumerate(sizes):
        n_test = sum(labels[i] == f"c{k}" for i in te)
        n_val = sum(labels[i] == f"c{k}" for i in va)
        # validation gets its rounded share of what is left after test, one kept for training
        assert n_val == min(round(n * val), n - 1 - n_test)
        assert sum(labels[i] == f"c{k}" for i in tr) == n - n_test - n_val >= 1


def test_split_two_examples_half_to_validation() -> None:
    tr, va, te = stratified_split(["a", "a"], val=0.5, test=0.0)
    assert (len(tr), len(va), len(te)) == (1, 1, 0)


def test_split_parts_are_int64_indices_even_when_empty() -> None:
    x = np.arange(100) * 10
    for part in stratified_split(LABELS, val=0.0, test=0.0) + stratified_split([]):
        assert part.dtype == np.int64
        assert x[part].shape == part.shape  # usable as an index, empty or not
    tr, va, te = stratified_split([])
    assert (tr.size, va.size, te.size) == (0, 0, 0)


def test_subsample_refuses_fractions_outside_zero_one() -> None:
    idx = np.arange(100)
    for fraction in (0.0, -0.5, 1.5, 2.0):
        with pytest.raises(ValueError, match=r"^fraction must be in \(0, 1\]\. Received: "
                                             rf"fraction={fraction}$"):
            stratified_subsample(LABELS, idx, fraction)


def test_subsample_of_all_is_the_indices_as_given() -> None:
    idx = np.array([7, 3, 95, 60], dtype=np.int32)
    out = stratified_subsample(LABELS, idx, 1.0)
    assert out.tolist() == [7, 3, 95, 60] and out.dtype == np.int64
    assert stratified_subsample(LABELS, [4, 1], 1).tolist() == [4, 1]


def test_subsample_share_per_class_at_least_one() -> None:
    labels = ["a"] * 40 + ["b"] * 5 + ["c"]
    keep = stratified_subsample(labels, np.arange(len(labels)), 0.1, seed=2)
    # round(40 * 0.1) = 4; round(0.5) = 0 and round(0.1) = 0: one each, never more
    assert Counter(labels[i] for i in keep) == {"a": 4, "b": 1, "c": 1}


def test_subsample_default_seed_is_zero() -> None:
    idx = np.arange(100)
    default = stratified_subsample(LABELS, idx, 0.3)
    assert np.array_equal(default, stratified_subsample(LABELS, idx, 0.3, seed=0))
    assert not np.array_equal(default, stratified_subsample(LABELS, idx, 0.3, seed=1))


def test_subsample_of_no_indices_is_an_empty_int64_index() -> None:
    out = stratified_subsample(LABELS, np.array([], dtype=np.int64), 0.5)
    assert out.dtype == np.int64 and out.size == 0
    assert np.arange(10)[out].size == 0
