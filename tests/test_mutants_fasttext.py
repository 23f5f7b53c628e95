"""Tests written for mutation testing (issue 16) of ``formats/fasttext.py`` and ``subwords.py``.

Each asserts behaviour against the real peers (fasttext-modern's and floret's own n-grams, hashes
and vectors) or against the file format's definition; the models are the ones ``test_fasttext``
trains (``WORDVECS_TEST_MODELS=DIR`` keeps them between runs).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_fasttext import _peer, kernel, models  # noqa: F401  (fixtures shared with that file)

import wordvecs
from wordvecs.subwords import ngrams

fasttext = pytest.importorskip("fasttext")

WORDS = ["kalomi", "日本ßa", "zzzz", "a", "ab", "x y", "naïveté", "😀ka", "KALO", "ka" * 20,
         "é", "日", "ßßß", "q"]


def test_ngrams_equal_fasttext_get_subwords(models):
    m = fasttext.load_model(str(models["u"]))  # minn 2, maxn 4
    for w in WORDS:
        grams = [g.decode("utf-8") for g in ngrams(f"<{w}>".encode(), 2, 4)]
        peer = list(m.get_subwords(w)[0])
        if w in m.words:
            peer = peer[1:]
        assert grams == peer, w
