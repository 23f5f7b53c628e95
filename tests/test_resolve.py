"""The unseen-word chain: each step on real GloVe, no false friends, determinism, the report."""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import wordvecs
from wordvecs import build_matrix
from wordvecs.resolve import Chain, case_variants, split_pieces
from wordvecs.segment import Segmenter
from wordvecs.text.datasets import tokenize

sys.path.insert(0, str(Path(__file__).parent))
from social_posts import make_posts


def _mean(v: wordvecs.Vectors, parts: tuple[str, ...]) -> np.ndarray:
    """The reference: numpy's float64 mean of the parts' rows, stored as float32."""
    return np.mean([v[p].astype(np.float64) for p in parts], axis=0).astype(np.float32)


def test_exact_rows_bit_identical(glove50: wordvecs.Vectors) -> None:
    rng = np.random.default_rng(1)
    idx = rng.choice(len(glove50), 500, replace=False)
    words = [glove50.words[i] for i in idx]
    res = Chain(glove50).resolve(words)
    assert res.steps == ["exact"] * len(words)
    got = res.vectors(glove50)
    assert got.tobytes() == glove50.matrix[idx].tobytes()
    em = build_matrix(glove50, ["", "[UNK]", *dict.fromkeys(words)])
    assert em.matrix[2:].tobytes() == glove50.matrix[idx].tobytes()


def test_known_words_are_never_split(glove50: wordvecs.Vectors) -> None:
    words = glove50.words[:2000] + glove50.words[100_000:102_000]
    assert set(Chain(glove50).resolve(words).steps) == {"exact"}
    seg = Chain(glove50).segmenter
    # words of the table whose parts cost less than the whole: still never cut
    for w in ["americana", "indecision", "apolitical", "afterschool", "byelection", "airline"]:
        assert seg.split(w) is None


def test_each_step_on_glove(glove50: wordvecs.Vectors) -> None:
    words = ["King", "PARIS", "ｋｉｎｇ", "ki\u200bng", "self-driving", "AmericanAir",
             "coachella2015", "don’t", "new_york", "americanair", "deflategate",
             "thankyouverymuch", "zzqxnotaword"]
    res = Chain(glove50).resolve(words)
    got = dict(zip(words, zip(res.steps, res.parts)))
    assert got["King"] == ("case", ("king",))
    assert got["PARIS"] == ("case", ("paris",))
    assert got["ｋｉｎｇ"] == ("unicode", ("king",))  # NFKC of fullwidth letters
    assert got["ki\u200bng"] == ("unicode", ("king",))  # zero-width space dropped
    assert got["self-driving"] == ("split", ("self", "driving"))
    assert got["AmericanAir"] == ("split", ("american", "air"))  # camelCase, then lowercase
    assert got["coachella2015"] == ("split", ("coachella", "2015"))
    assert got["don’t"] == ("split", ("do", "n't"))  # as GloVe writes the clitic
    assert got["new_york"] == ("split", ("new", "york"))
    assert got["americanair"] == ("segment", ("american", "air"))
    assert got["deflategate"] == ("segment", ("deflate", "gate"))
    assert got["thankyouverymuch"] == ("segment", ("thank", "you", "very", "much"))
    assert got["zzqxnotaword"] == ("", ())
    vecs = res.vectors(glove50)
    for k, w in enumerate(words):
        parts = got[w][1]
        if len(parts) == 1:
            assert vecs[k].tobytes() == glove50[parts[0]].tobytes()
        elif parts:  # a word of parts: the plain mean of their rows
            np.testing.assert_array_equal(vecs[k], _mean(glove50, parts))
        else:
            assert not vecs[k].any()


def test_parts_must_all_be_known_and_no_rare_single_letters(glove50: wordvecs.Vectors) -> None:
    words = ["self-zzqxq", "iphone6s", "kelly_n74", "lmao", "2489", "a-b-c-d-e-f",
             "sarah\ufffdfood", "one-two-three-four-five-six"]
    res = Chain(glove50).resolve(words)
    assert res.steps == [""] * len(words), list(zip(words, res.parts))


def test_no_false_friends_on_random_strings(glove50: wordvecs.Vectors) -> None:
    """Whatever the chain makes of random strings, every part is a word of the vectors, a
    single-letter part is 'a' or 'i', and a two-letter part is among the 20,000 most frequent."""
    rng = random.Random(3)
    top = glove50.words[:30_000]
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789-_", k=rng.randint(4, 16)))
             for _ in range(3000)]
    words += [rng.choice(top) + rng.choice(top) for _ in range(1000)]
    res = Chain(glove50).resolve(words)
    index = glove50.key_to_index
    used = 0
    for step, parts in zip(res.steps, res.parts):
        if step in ("split", "segment"):
            used += 1
            assert 1 <= len(parts) <= 5
            for p in parts:
                assert p in index
                if p.isalpha() and len(p) == 1:
                    assert p in ("a", "i")
                if p.isalpha() and len(p) == 2:
                    assert index[p] < 20_000
    assert used > 900  # the glued pairs are resolved
    seg = Chain(glove50).segmenter
    for w in words:
        parts = seg.split(w)
        if parts is not None:  # a segmentation covers the word exactly, in order
            assert "".join(parts).lower() == w.lower()


def test_deterministic(glove50: wordvecs.Vectors) -> None:
    texts, _ = make_posts(300, seed=5)
    words = sorted({t for x in texts for t in tokenize(x)})
    a = Chain(glove50).resolve(words)
    shuffled = words[::-1]
    b = Chain(glove50).resolve(shuffled)
    fresh = Segmenter(glove50.words)
    assert dict(zip(words, a.parts)) == dict(zip(shuffled, b.parts))
    assert dict(zip(words, a.steps)) == dict(zip(shuffled, b.steps))
    for w, s, p in zip(words, a.steps, a.parts):
        if s == "segment" and len(split_pieces(w)) == 1:
            assert fresh.split(w) == p
    assert a.vectors(glove50).tobytes() == b.vectors(glove50)[::-1].tobytes()


def test_case_variants_follow_the_vectors_casing(small_vectors: wordvecs.Vectors) -> None:
    assert case_variants("PARIS", cased=False) == ["paris"]
    assert case_variants("paris", cased=True) == ["Paris", "PARIS"]
    # small_vectors holds 'Paris': a cased set, so Title case is tried
    res = Chain(small_vectors).resolve(["PARIS", "KING", "Queen"])
    assert res.steps == ["case"] * 3
    assert res.parts == [("Paris",), ("king",), ("queen",)]
    # the missing-word suggestion is the case step's answer
    with pytest.raises(KeyError, match="did you mean 'Paris'"):
        small_vectors["PARIS"]


def test_accents_stripped_only_when_the_vectors_have_none() -> None:
    rng = np.random.default_rng(0)
    ascii_set = wordvecs.Vectors(["naive", "cafe"], rng.standard_normal((2, 4)).astype("f4"))
    accented = wordvecs.Vectors(["naive", "café"], rng.standard_normal((2, 4)).astype("f4"))
    assert Chain(ascii_set).resolve(["naïve"]).parts == [("naive",)]
    assert Chain(accented).resolve(["naïve"]).steps == [""]
    assert Chain(accented, strip_accents=True).resolve(["naïve"]).parts == [("naive",)]


def test_steps_are_configurable(glove50: wordvecs.Vectors) -> None:
    words = ["King", "self-driving", "americanair"]
    assert Chain(glove50, []).resolve(words).steps == ["", "", ""]
    assert Chain(glove50, ["case", "split"]).resolve(words).steps == ["case", "split", ""]
    assert Chain(glove50, ["segment"]).resolve(words).steps == ["", "", "segment"]
    with pytest.raises(ValueError, match=r"unknown resolver step.*'typo'"):
        Chain(glove50, ["typo"])


def test_counts_change_the_segmentation(glove50: wordvecs.Vectors) -> None:
    # by row order "expertsexchange" is experts + exchange; counts can say otherwise
    base = Chain(glove50).resolve(["expertsexchange"]).parts[0]
    assert base == ("experts", "exchange")
    counts = {"expert": 1000, "sex": 1000, "change": 1000, "experts": 1, "exchange": 1}
    assert Chain(glove50, counts=counts).resolve(["expertsexchange"]).parts[0] == (
        "expert", "sex", "change")


class NgramDouble:
    """A TEST DOUBLE of the SubwordModel protocol (the fastText helper's real model replaces it
    after merging): the mean of the vectors of the word's known character 3-grams."""

    def __init__(self, v: wordvecs.Vectors) -> None:
        self.v = v
        self.dim = v.dim

    def word_vectors(self, words):  # type: ignore[no-untyped-def]
        out = np.zeros((len(words), self.dim), np.float32)
        mask = np.zeros(len(words), bool)
        for k, w in enumerate(words):
            grams = [w[i:i + 3] for i in range(len(w) - 2) if w[i:i + 3] in self.v]
            if grams:
                out[k] = np.mean([self.v[g] for g in grams], axis=0)
                mask[k] = True
        return out, mask


class WithSubwords(wordvecs.Vectors):
    @property
    def subwords(self):  # type: ignore[no-untyped-def]
        return NgramDouble(self)


def test_subword_step_uses_the_model_and_its_mask() -> None:
    rng = np.random.default_rng(0)
    words = ["abc", "bcd", "the"]
    v = WithSubwords(words, rng.standard_normal((3, 4)).astype("f4"))
    res = Chain(v).resolve(["abcd", "zzzz", "the"])
    assert res.steps == ["subword", "", "exact"]
    vecs = res.vectors(v)
    np.testing.assert_array_equal(vecs[0], np.mean([v["abc"], v["bcd"]], axis=0))
    assert not vecs[1].any()
    em = build_matrix(v, ["", "[UNK]", "abcd", "zzzz"], oov="subword")
    assert em.resolved_by == ["padding", "special", "subword", "zeros"]
    assert em.steps == {"subword": 1, "zeros": 1}
    # without a subword model, oov="subword" is zeros
    plain = wordvecs.Vectors(words, v.matrix)
    assert build_matrix(plain, ["", "abcd"], oov="subword").missing == ["abcd"]


def test_vectors_get_fallback(glove50: wordvecs.Vectors) -> None:
    assert glove50.get("americanair") is None
    got = glove50.get("americanair", fallback=True)
    np.testing.assert_array_equal(got, _mean(glove50, ("american", "air")))
    assert glove50.get("zzqxnotaword", "none", fallback=True) == "none"
    assert glove50.get("king", fallback=True).tobytes() == glove50["king"].tobytes()


def test_matrix_report_counts_steps(glove50: wordvecs.Vectors) -> None:
    vocab = ["", "[UNK]", "the", "King", "self-driving", "americanair", "zzqxnotaword", "qqqzx"]
    counts = Counter({"the": 50, "King": 4, "self-driving": 3, "americanair": 9,
                      "zzqxnotaword": 2, "qqqzx": 7})
    em = build_matrix(glove50, vocab, counts=counts)
    assert em.steps == {"exact": 1, "case": 1, "split": 1, "segment": 1, "zeros": 2}
    assert em.resolved_by == ["padding", "special", "exact", "case", "split", "segment",
                              "zeros", "zeros"]
    assert em.found == ["the", "King", "self-driving", "americanair"]
    assert em.missing == ["qqqzx", "zzqxnotaword"]
    text = em.summary()
    assert "by step: exact 1; case 1; split 1; segment 1; zeros 2" in text
    assert "segment: americanair -> american + air" in text
    assert "split: self-driving -> self + driving" in text
    assert "most frequent missing: qqqzx (7), zzqxnotaword (2)" in text
    d = em.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["steps"] == em.steps
    assert d["examples"]["segment"] == [["americanair", "american + air"]]


def test_social_posts_coverage_gain(glove50: wordvecs.Vectors) -> None:
    """The proof of issue 12: on posts, the chain covers 15+ points more of the vocabulary than
    the exact-and-lowercase lookup (see docs/benchmarks.md for the figures)."""
    from wordvecs.text.datasets import Vocabulary

    texts, _ = make_posts(6000)
    vocab = Vocabulary.from_texts(texts, None)
    base = build_matrix(glove50, vocab.token_list(), fallback=["case"])
    full = build_matrix(glove50, vocab.token_list(), counts=vocab.word_counts())
    assert full.coverage - base.coverage >= 0.15, (base.coverage, full.coverage)
    assert full.steps["split"] > 100 and full.steps["segment"] > 100


def test_info_vocab_shows_the_steps(small_vectors: wordvecs.Vectors, tmp_path) -> None:
    from click.testing import CliRunner

    from wordvecs.cli import cli

    path = small_vectors.save(tmp_path / "v.txt", format="glove")
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("king\nKING\nking-queen\nkingqueen\nnope\n")
    res = CliRunner().invoke(cli, ["info", str(path), "--vocab", str(vocab)])
    assert res.exit_code == 0, res.output
    assert "coverage: 4 of 5 words" in res.output and "(80.0%; exact 20.0%)" in res.output
    assert "by step: exact 1; case 1; split 1; segment 1; missing 1" in res.output
    assert "split: king-queen -> king + queen" in res.output
    assert "missing: nope" in res.output
