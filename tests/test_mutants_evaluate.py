"""Tests that kill mutants of ``wordvecs.evaluate`` (issue 16), against gensim 4.4 and scipy."""

from __future__ import annotations

import numpy as np
import pytest

from wordvecs import evaluate as ev


@pytest.fixture(scope="module")
def kv(glove50):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(glove50.dim)
    kv.add_vectors(glove50.words, glove50.matrix)
    return kv


def test_rank_equals_scipy_rankdata():
    from scipy.stats import rankdata

    x = np.array([3.0, 1.0, 3.0, 2.0, 2.0, 2.0, 5.0, 0.5, 3.0])
    np.testing.assert_array_equal(ev._rank(x), rankdata(x))
