"""Tests that kill mutants of ``wordvecs.evaluate`` (issue 16), against gensim 4.4 and scipy."""

from __future__ import annotations

import numpy as np
import pytest

import wordvecs
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


def test_pearson_clipped_to_one_like_scipy():
    from scipy.stats import pearsonr

    # an input whose normalised dot product rounds just past +-1 (found by a seeded search)
    rng = np.random.default_rng(0)
    for _ in range(1000):
        x = rng.standard_normal(7)
        xn = (x - x.mean()) / np.linalg.norm(x - x.mean())
        if np.dot(xn, xn) > 1.0 and np.dot(xn, -xn) < -1.0:
            break
    else:
        pytest.fail("no input rounds past 1")
    assert ev._pearson(x, x) == pearsonr(x, x)[0] == 1.0
    assert ev._pearson(x, -x) == pearsonr(x, -x)[0] == -1.0


def test_analogy_result_str_names_the_method():
    sec = ev.SectionResult("capital", 1, 2, 0)
    assert str(ev.AnalogyResult(1, 2, 0, (sec,), method="mul")).startswith("analogies (3CosMul)")
    assert str(ev.AnalogyResult(1, 2, 0, (sec,), method="add")).startswith("analogies (3CosAdd)")


def _small_model():
    """A small model with a short row (norm < 1), a zero row and case variants."""
    words = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "tiny", "zero",
             "Alpha", "café"]
    rng = np.random.default_rng(3)
    m = rng.standard_normal((len(words), 6)).astype(np.float32)
    m[words.index("tiny")] *= np.float32(0.05)
    m[words.index("zero")] = 0.0
    return words, m


def _pairs_peer(vectors, path, **kw):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vectors.dim)
    kv.add_vectors(vectors.words, vectors.matrix)
    with np.errstate(invalid="ignore", divide="ignore"):
        return kv.evaluate_word_pairs(str(path), **kw)


def _check_pairs(ours, theirs):
    pearson, spearman, oov = theirs
    assert ours.pearson == pytest.approx(pearson[0], abs=1e-7)
    assert ours.spearman == pytest.approx(spearman[0], abs=1e-7)
    assert ours.oov_ratio == pytest.approx(oov, abs=1e-9)


PAIRS = [("alpha", "beta", 1.0), ("gamma", "delta", 7.5), ("eps", "tiny", 3.0),
         ("zeta", "eta", 9.0), ("theta", "tiny", 2.0), ("zero", "beta", 4.0),
         ("alpha", "gamma", 6.0), ("delta", "eta", 0.5), ("tiny", "zeta", 8.0)]


def test_word_pairs_small_model_equals_gensim(tmp_path):
    words, m = _small_model()
    vecs = wordvecs.Vectors(words, m)
    lines = ["# a comment\twith\t2.0", "# alpha\tbeta\t3.0"]
    lines += [f"{a}\t{b}\t{s}" for a, b, s in PAIRS[:4]]
    lines += ["not a valid line", "alpha\tnope\t5.0"]  # invalid, then OOV, then more pairs
    lines += [f"{a}\t{b}\t{s}" for a, b, s in PAIRS[4:]]
    path = tmp_path / "pairs.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ours = ev.word_pairs(vecs, path)
    _check_pairs(ours, _pairs_peer(vecs, path))
    assert (ours.pairs, ours.skipped) == (len(PAIRS), 1)
    # another delimiter
    path2 = tmp_path / "pairs.csv"
    path2.write_text("\n".join(f"{a},{b},{s}" for a, b, s in PAIRS) + "\n", encoding="utf-8")
    _check_pairs(ev.word_pairs(vecs, path2, delimiter=","),
                 _pairs_peer(vecs, path2, delimiter=","))


def test_word_pairs_encoding_and_log(tmp_path, caplog):
    words, m = _small_model()
    vecs = wordvecs.Vectors(words, m)
    path = tmp_path / "latin1.tsv"
    text = "\n".join(f"{a}\t{b}\t{s}" for a, b, s in PAIRS) + "\ncafé\teta\t5.5\nbad line\n"
    path.write_bytes(text.encode("latin-1"))
    with caplog.at_level("INFO", logger="wordvecs.evaluate"):
        ours = ev.word_pairs(vecs, path, encoding="latin-1")
    _check_pairs(ours, _pairs_peer(vecs, path, encoding="latin-1"))
    assert ours.pairs == len(PAIRS) + 1
    assert f"skipping invalid line #{len(PAIRS) + 1} in {path}" in caplog.text


def test_word_pairs_default_restrict_vocab_is_gensims(glove50, kv, tmp_path):
    words = glove50.words
    path = tmp_path / "edge.tsv"
    rows = [("king", "queen", 8.0), ("frog", "toad", 7.0), ("paris", "france", 9.0),
            ("good", "bad", 3.0), ("computer", "banana", 0.5),
            (words[299_999], "king", 1.0), (words[300_000], "queen", 2.0)]
    path.write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in rows), encoding="utf-8")
    ours = ev.word_pairs(glove50, path)
    _check_pairs(ours, kv.evaluate_word_pairs(str(path)))
    assert (ours.pairs, ours.skipped) == (6, 1)


def test_result_objects_read_like_gensims_log():
    sec = ev.SectionResult("capital-common-countries", 3, 4, 2)
    assert sec.accuracy == 0.75
    assert str(sec) == "capital-common-countries: 3 / 4 = 75.00% (2 skipped)"
    assert ev.SectionResult("empty", 0, 0, 5).accuracy == 0.0
    res = ev.AnalogyResult(1234, 2000, 500, (sec,), method="add", restrict_vocab=10)
    assert res.accuracy == pytest.approx(0.617)
    assert res.oov_ratio == pytest.approx(20.0)  # 500 of 2,500 questions skipped
    assert ev.AnalogyResult(0, 0, 0, ()).oov_ratio == 0.0
    assert ev.AnalogyResult(0, 0, 0, ()).accuracy == 0.0
    assert str(res).splitlines() == [
        "analogies (3CosAdd): 1,234 / 2,000 = 61.70% (500 skipped)",
        "  capital-common-countries: 3 / 4 = 75.00% (2 skipped)"]
    assert repr(res) == ("<AnalogyResult 1,234 / 2,000 = 61.70%, 500 skipped, 1 sections, "
                         "method='add'>")
    pairs = ev.WordPairsResult(0.5, 0.25, 10.0, 1234, 5)
    assert str(pairs) == "word pairs: pearson 0.5000, spearman 0.2500 (1,234 pairs, 5 skipped)"


def test_data_path_names_and_errors(tmp_path):
    assert ev.data_path("google").name == "questions-words.txt"
    assert ev.data_path("simlex999").name == "simlex999.txt"
    assert ev.data_path("wordsim353.tsv").name == "wordsim353.tsv"
    with pytest.raises(ValueError, match=r"no bundled data set 'nope'; known: google, "
                                         r"simlex999, wordsim353$"):
        ev.data_path("nope")
    assert ev._resolve(None, "google", ev.ANALOGY_SETS) == ev.data_path("google")
    assert ev._resolve("simlex999", "wordsim353", ev.PAIR_SETS) == ev.data_path("simlex999")
    assert ev._resolve(tmp_path / "x.txt", "google", ev.ANALOGY_SETS) == tmp_path / "x.txt"


QUESTIONS = [("man", "king", "woman", "queen"), ("paris", "france", "berlin", "germany"),
             ("good", "better", "bad", "worse"), ("big", "bigger", "small", "smaller"),
             ("go", "went", "see", "saw"), ("japan", "tokyo", "china", "beijing")]


@pytest.mark.parametrize("method", ["add", "mul"])
def test_gensim_predict_equals_gensim(glove50, method):
    """The exact (tie) path alone: the word gensim's own query answers, over a restricted
    vocabulary (a KeyedVectors of the first rows, as gensim's cosmul ignores restrict_vocab)."""
    import warnings

    from gensim.models import KeyedVectors

    n = 10000
    small = KeyedVectors(glove50.dim)
    small.add_vectors(glove50.words[:n], glove50.matrix[:n])
    answer = small.most_similar if method == "add" else small.most_similar_cosmul
    matrix = glove50.matrix[:n]
    norms = ev.row_norms(matrix)
    keys = list(glove50.words[:n])
    for a, b, c, _ in QUESTIONS:
        q = np.array([glove50.index(w) for w in (a, b, c)] + [0])
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Call to deprecated `init_sims`")
            expected = next(w for w, _ in answer(positive=[b, c], negative=[a], topn=5)
                            if w not in {a, b, c})
        assert ev._gensim_predict(method, matrix, norms, q, keys) == expected


@pytest.mark.parametrize("name", ["wordsim353", "simlex999"])
def test_word_pairs_equal_gensim_to_float64_noise(glove50, kv, name):
    """The similarities are gensim's float32 cosines bit for bit, so the correlations agree to
    float64 rounding, not just to float32's."""
    ours = ev.word_pairs(glove50, name)
    pearson, spearman, oov = kv.evaluate_word_pairs(str(ev.data_path(name)))
    assert ours.pearson == pytest.approx(pearson[0], abs=1e-13)
    assert ours.spearman == pytest.approx(spearman[0], abs=1e-13)
    assert ours.oov_ratio == pytest.approx(oov, abs=1e-13)


def test_add_means_are_gensims_query_vectors_bit_for_bit(glove50, kv):
    """``most_similar`` asks ``get_mean_vector`` with float64 weights (1, 1, -1): the batched
    means must be those float32 vectors exactly, a zero mean (b + c = a) staying zero."""
    from wordvecs.similarity import normed

    rng = np.random.default_rng(0)
    rows = rng.integers(0, 5000, size=(200, 3))
    rows[0] = [7, 7, 7]  # a = b = c: b + c - a = a, nonzero
    unit = normed(glove50)
    ours = ev._add_means(unit, rows)
    weights = np.array([1.0, 1.0, -1.0])
    for got, (a, b, c) in zip(ours, rows):
        keys = [kv.index_to_key[b], kv.index_to_key[c], kv.index_to_key[a]]
        want = kv.get_mean_vector(keys, weights, pre_normalize=True, post_normalize=True)
        np.testing.assert_array_equal(got, want)
    zero = ev._add_means(np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]], dtype=np.float32),
                         np.array([[2, 0, 1]]))  # b + c - a = e0 - e0 - 0
    np.testing.assert_array_equal(zero, [[0.0, 0.0]])
    flat = ev._add_means(np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32),
                         np.array([[1, 0, 1]]))  # (e0 + e1) - e1 = e0
    np.testing.assert_array_equal(flat, [[1.0, 0.0]])


def test_analogies_small_file_log_progress_and_sections(glove50, kv, tmp_path, caplog, capsys):
    path = tmp_path / "q.txt"
    path.write_text(": capitals\nathens greece berlin germany\nparis france tokyo japan\n"
                    "bad line here\nzzqxv king man woman\n: family\nboy girl brother sister\n"
                    ": empty\nzzqxv a b c\n", encoding="utf-8")
    with caplog.at_level("INFO", logger="wordvecs.evaluate"):
        ours = ev.analogies(glove50, path, restrict_vocab=50000, progress=True)
    err = capsys.readouterr().err
    assert "analogies" in err and "/3" in err and "q/s" in err
    assert f"skipping invalid line #3 in {path}" in caplog.text
    assert "questions decided by gensim's exact arithmetic" in caplog.text
    _, theirs = kv.evaluate_word_analogies(str(path), restrict_vocab=50000)
    assert [(s.name, s.correct, s.total) for s in ours.sections] == [
        (t["section"], len(t["correct"]), len(t["correct"]) + len(t["incorrect"]))
        for t in theirs[:-1]]
    assert [s.skipped for s in ours.sections] == [1, 0, 1]
    assert (ours.correct, ours.total, ours.skipped) == (len(theirs[-1]["correct"]), 3, 2)
    assert ours.restrict_vocab == 50000 and ours.method == "add"
    ev.analogies(glove50, path, restrict_vocab=50000, progress=False)
    assert capsys.readouterr().err == ""
    one = ev.analogies(glove50, path, restrict_vocab=1)  # only "the": every question skipped
    assert (one.correct, one.total, one.skipped) == (0, 0, 5)


def test_analogies_argument_errors(glove50, tmp_path):
    with pytest.raises(ValueError, match=r"method must be 'add' or 'mul'. Received: method='pow'"):
        ev.analogies(glove50, tmp_path / "q.txt", method="pow")  # type: ignore[arg-type]
    with pytest.raises(ValueError,
                       match=r"restrict_vocab must be a positive integer. Received: 0"):
        ev.analogies(glove50, tmp_path / "q.txt", restrict_vocab=0)
    path = tmp_path / "q.txt"
    path.write_text("\n: s\n", encoding="utf-8")  # an empty line before the header is invalid too
    with pytest.raises(ValueError, match=r"q.txt, line 1: missing section header"):
        ev.analogies(glove50, path)


@pytest.mark.parametrize("method", ["add", "mul"])
def test_analogies_fast_path_decides_almost_every_question(glove50, method, caplog):
    # the exact path re-decides near-ties with gensim's arithmetic, so totals equal gensim's even
    # when the batched scoring (_best, _scores, the tie test) is broken and every question falls
    # through to it: the fast path must decide the questions itself, and agree with the exact one
    import logging
    import re

    qs = ev.data_path("google")
    with caplog.at_level(logging.INFO, logger="wordvecs.evaluate"):
        res = ev.analogies(glove50, qs, restrict_vocab=30000, method=method)
    m = re.search(r"analogies: (\d+) of (\d+) questions decided by gensim's exact arithmetic",
                  caplog.text)
    assert m is not None
    exact, total = int(m.group(1)), int(m.group(2))
    assert total == res.total > 10_000
    assert exact <= total // 100  # float32 near-ties and case variants are rare
