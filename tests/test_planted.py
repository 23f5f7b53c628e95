"""The two planted bugs the suite did not catch (issue 24): each test here fails with its bug.

1. The word2vec header expression in ``formats/text.py`` losing its end anchor: a GloVe file whose
   first word is a number (``1 0.5 0.25``) then fails as an "absurd header", and ``2 2 extra``
   reads as a word2vec header.
2. Prediction keeping the *last* ``max_len`` tokens of a long text where training keeps the
   first: the probabilities change and nothing else notices.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

import wordvecs
from wordvecs.formats.text import parse_header


@pytest.mark.parametrize("line, expected", [
    (b"3 2", (3, 2)), (b"  3   2  \r", (3, 2)), (b"3 2\n", (3, 2)),
    (b"1 0.5 0.25", None), (b"2 2 extra", None), (b"3 2.0", None), (b"3 2 7", None),
    (b"three 2", None), (b"3", None), (b"x 3 2", None),
])
def test_parse_header_takes_two_integers_and_nothing_else(line: bytes, expected) -> None:
    assert parse_header(line) == expected


def test_glove_file_whose_first_word_is_a_number(tmp_path: Path) -> None:
    path = tmp_path / "numbers.txt"
    path.write_text("1 0.5 0.25\n2 2 0.75\nfoo 0.125 -1\n")
    v = wordvecs.load(path)
    assert v.words == ["1", "2", "foo"] and v.format == "glove"
    assert np.array_equal(v.matrix, np.array([[0.5, 0.25], [2, 0.75], [0.125, -1]],
                                             dtype=np.float32))


def test_two_numbers_and_a_word_is_no_word2vec_header(tmp_path: Path) -> None:
    """``2 2 extra`` as a first line: a GloVe row of the word ``2``? No: its fields are not
    numbers, so the file is refused as a bad row, never read as a header of 2 words of dim 2."""
    path = tmp_path / "odd.txt"
    path.write_text("2 2 extra\nfoo 0.5 0.25\nbar 1 2\n")
    with pytest.raises(wordvecs.FormatError) as err:
        v = wordvecs.load(path)
        assert v.format == "glove", v.format  # reached only if it loaded: not as word2vec
    assert "line 1" in str(err.value)


@pytest.mark.keras
def test_prediction_keeps_the_first_max_len_tokens_as_training_does() -> None:
    """A text longer than ``max_len``: prediction must see the same tokens as training did
    (``Vocabulary.encode`` keeps the first ``max_len``), with and without a subword table."""
    from test_classifier_save import _with_subwords
    from test_train import config, make_data, make_vectors
    from wordvecs.training.train import run_experiment

    with tempfile.TemporaryDirectory() as d:
        run_experiment(make_data(), make_vectors(), config(modes=("frozen",), fractions=(1.0,),
                       epochs=30, max_len=4), out=Path(d) / "clf", progress=False)
        clf = wordvecs.load_classifier(Path(d) / "clf")
    assert clf.max_len == 4
    head, tail = "goal match team score", "bank money market shares profit"
    long = f"{head} {tail}"
    train_ids = clf.vocabulary.encode([long], clf.max_len)
    assert np.array_equal(train_ids, clf.vocabulary.encode([head], clf.max_len))
    for c in (clf, _with_subwords(clf)):
        got = c.predict_proba([long, head, tail])
        assert np.allclose(got[0], got[1], atol=1e-6)  # only the first four tokens count
        assert not np.allclose(got[0], got[2], atol=1e-3)
        details = c.predict_details([long])[0]
        assert details.tokens >= 4
