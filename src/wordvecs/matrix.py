"""`build_matrix`: the embedding matrix of a task vocabulary, with out-of-vocabulary policies.

Row 0 is padding (all zeros). Each vocabulary word goes through the unseen-word chain
(:mod:`wordvecs.resolve`): an exact hit gets its vector bit for bit, a case variant, a pieced or
segmented word the mean of its parts; the rows of words no step resolves follow the ``oov``
policy. Only the rows the vocabulary needs
are read, so building from a memory-mapped store or data package touches a few pages, not the
whole file (the ``"random"`` and ``"mean"`` policies also need the per-dimension mean and std of
all the vectors: one streaming pass, cached per :class:`~wordvecs.Vectors`).
"""

from __future__ import annotations

import os
import warnings
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from wordvecs.errors import UsageError, VocabularyError
from wordvecs.resolve import DEFAULT_STEPS, Chain
from wordvecs.vectors import Vectors, on_replace

__all__ = ["PAD_TOKEN", "UNK_TOKEN", "EmbeddingMatrix", "OOVPolicy", "build_matrix"]

PAD_TOKEN = ""
"""The padding token ``keras.layers.TextVectorization.get_vocabulary()`` puts at index 0."""

UNK_TOKEN = "[UNK]"
"""The out-of-vocabulary token TextVectorization puts at index 1: a special token, never missing."""

_SPECIAL = frozenset({UNK_TOKEN})


class OOVPolicy(str, Enum):
    """What the row of a word missing from the pre-trained vectors holds."""

    ZEROS = "zeros"
    RANDOM = "random"
    MEAN = "mean"

    @classmethod
    def parse(cls, value: str | OOVPolicy) -> OOVPolicy:
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(repr(p.value) for p in cls)
            raise UsageError(f"unknown oov policy {value!r}; choose one of {choices}") from None


@dataclass(eq=False)
class EmbeddingMatrix:
    """A task's embedding matrix and how the pre-trained vectors covered its vocabulary.

    Attributes:
        matrix: float32, shape (largest index + 1, dim); row 0 (padding) is all zeros.
        vocab: word -> row, padding excluded (``'[UNK]'`` included: it has a row).
        found: vocabulary words that got a vector from a step of the chain, in index order.
        missing: vocabulary words left to the OOV policy; most frequent first when ``counts``
            were given, else in index order. Special tokens (``'[UNK]'``) are never listed.
        oov: the policy that filled the rows of missing words (``"zeros"``, ``"random"``,
            ``"mean"``); ``'[UNK]'`` and unused indices get such rows too.
        token_coverage: share of the tokens (by ``counts``) whose word was found; ``None``
            without ``counts`` or when the counts of the vocabulary words sum to 0.
        missing_counts: the count of each missing word, when ``counts`` were given.
        resolved_by: per row, what filled it: a step of the chain (``"exact"``, ``"case"``,
            ``"unicode"``, ``"split"``, ``"segment"``, ``"subword"``), the policy's name for a
            missing word, ``"padding"`` (row 0), ``"special"`` (``'[UNK]'``) or ``"unused"``.
        parts: word -> the vector words whose rows (mean) make its row, for the words a step
            other than ``exact`` resolved.
        report: counts per step, a few examples of each, the most frequent missing words
            (:func:`wordvecs.resolve.describe`).
    """

    matrix: np.ndarray
    vocab: dict[str, int]
    found: list[str]
    missing: list[str]
    oov: str = "zeros"
    token_coverage: float | None = None
    missing_counts: dict[str, int] | None = None
    resolved_by: list[str] = field(default_factory=list)
    parts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Number of rows: the largest index + 1 (row 0 is padding)."""
        return int(self.matrix.shape[0])

    @property
    def dim(self) -> int:
        """Number of dimensions of each row."""
        return int(self.matrix.shape[1])

    @property
    def coverage(self) -> float:
        """Share of the vocabulary (special tokens excluded) that got a vector from the chain."""
        total = len(self.found) + len(self.missing)
        return len(self.found) / total if total else 0.0

    @property
    def steps(self) -> dict[str, int]:
        """Vocabulary words per step, the policy's name counting the missing ones."""
        return dict(self.report.get("steps", {}))

    @property
    def via_lowercase(self) -> list[str]:
        """Words found through a case variant (the ``case`` step), in index order."""
        by = self.resolved_by
        return [w for w in self.found if self.vocab[w] < len(by) and by[self.vocab[w]] == "case"]

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.matrix if dtype is None else self.matrix.astype(dtype)

    def __repr__(self) -> str:
        return (f"<EmbeddingMatrix {self.rows:,} x {self.dim}, found {len(self.found):,}, "
                f"missing {len(self.missing):,}, oov={self.oov!r}>")

    def top_missing(self, top: int = 10) -> list[tuple[str, int | None]]:
        """The ``top`` most frequent missing words with their counts (``None`` without counts)."""
        counts = self.missing_counts or {}
        return [(w, counts.get(w) if self.missing_counts is not None else None)
                for w in self.missing[:top]]

    def summary(self, top: int = 10) -> str:
        """A few lines a person reads: size, found, rows per step with examples, missing words."""
        from wordvecs.resolve import summary_lines

        total = len(self.found) + len(self.missing)
        lines = [f"embedding matrix: {self.rows:,} rows x {self.dim} dims (row 0 = padding)",
                 f"found:   {len(self.found):,} of {total:,} words ({self.coverage:.1%})"]
        if self.token_coverage is not None:
            lines.append(f"tokens:  {self.token_coverage:.1%} of the tokens have a vector")
        lines.append(f"missing: {len(self.missing):,} words, rows filled with {self.oov!r}")
        report = dict(self.report)
        report["top_missing"] = [{"word": w, "count": c} for w, c in self.top_missing(top)]
        lines.extend(summary_lines(report, len(self.missing)))
        return "\n".join(lines)

    def to_dict(self, top: int = 10) -> dict[str, Any]:
        """JSON-able numbers for a report (``steps``: words per step; ``examples`` of each)."""
        return {
            "rows": self.rows,
            "dim": self.dim,
            "found": len(self.found),
            "missing": len(self.missing),
            "via_lowercase": len(self.via_lowercase),
            "coverage": float(self.coverage),
            "token_coverage": None if self.token_coverage is None else float(self.token_coverage),
            "oov": self.oov,
            "steps": self.steps,
            "examples": {k: [list(e) for e in v]
                         for k, v in self.report.get("examples", {}).items()},
            "top_missing": [{"word": w, "count": c} for w, c in self.top_missing(top)],
        }


def build_matrix(
    vectors: Vectors | str | os.PathLike[str],
    vocab: Mapping[str, int] | Sequence[str],
    *,
    oov: str | OOVPolicy = "zeros",
    fallback: bool | Iterable[str] | Chain | None = None,
    lowercase_fallback: bool | None = None,
    seed: int = 0,
    counts: Mapping[str, int] | None = None,
) -> EmbeddingMatrix:
    """The embedding matrix of ``vocab``: row i is the best vector there is for the word at i.

    Each word goes through the unseen-word chain (:mod:`wordvecs.resolve`): its exact row, a case
    variant, a Unicode-normalised form, the mean of its known pieces (``self-driving``), the mean
    of the words it is glued from (``americanair`` -> ``american air``), its subword vector; the
    words no step resolves get rows by the ``oov`` policy. Only the rows needed are read.

    Args:
        vectors: the pre-trained vectors (or anything :func:`wordvecs.load` opens).
        vocab: a dict word -> index, index 0 being reserved for padding; or a list in index
            order as ``keras.layers.TextVectorization.get_vocabulary()`` returns it (``''`` at 0
            for padding, ``'[UNK]'`` at 1). ``'[UNK]'`` is a special token: its row follows
            ``oov`` and it counts neither as found nor as missing. Indices a dict never uses get
            rows like missing words but are not counted.
        oov: the rows of missing words: ``"zeros"``; ``"random"`` (normal, with the pre-trained
            vectors' own mean and std per dimension, seeded by ``seed``); ``"mean"`` (the mean
            vector); ``"subword"`` (the ``subword`` step on, then zeros).
        fallback: the chain's steps: ``None`` or ``True`` all of them
            (:data:`wordvecs.resolve.DEFAULT_STEPS`); ``False`` exact hits only; a list of step
            names; or a :class:`wordvecs.resolve.Chain` with its own settings.
        lowercase_fallback: deprecated (use ``fallback``): ``True`` means exact then ``case``,
            ``False`` exact only, as before the chain.
        seed: the seed of the ``"random"`` policy.
        counts: word -> frequency (a ``Counter``), to report the share of tokens covered and
            to list the most frequent words first.

    Raises:
        VocabularyError: an empty vocabulary, a word at index 0, negative or non-integer
            indices, two words at one index, a list that does not start with ``''``.
        ValueError: an unknown ``oov`` policy or step.
    """
    from wordvecs.resolve import describe

    subword = (oov.value if isinstance(oov, OOVPolicy) else oov) == "subword"
    policy = OOVPolicy.ZEROS if subword else OOVPolicy.parse(oov)
    if not isinstance(vectors, Vectors):
        from wordvecs.loading import load

        vectors = load(vectors)
    if lowercase_fallback is not None:
        warnings.warn("build_matrix(lowercase_fallback=...) is deprecated: the chain's 'case' "
                      "step does it (fallback=['case'])", DeprecationWarning, stacklevel=2)
        if fallback is None:
            fallback = ["case"] if lowercase_fallback else False
    if isinstance(fallback, Chain):
        if fallback.vectors is not vectors:
            raise UsageError("the Chain given as fallback was made for other vectors")
        chain = fallback
    else:
        steps: list[str] = (list(DEFAULT_STEPS) if fallback is None or fallback is True else
                            [] if fallback is False else list(fallback))
        chain = Chain(vectors, [*steps, "subword"] if subword else steps)
    word_index = _normalise_vocab(vocab)
    n_rows = max(word_index.values()) + 1
    dim = vectors.dim

    words = [w for w in word_index if w not in _SPECIAL]
    res = chain.resolve(words)
    has = res.resolved
    indices = np.fromiter((word_index[w] for w in words), dtype=np.int64, count=len(words))
    matrix = np.zeros((n_rows, dim), dtype=np.float32)
    if has.any():
        matrix[indices[has]] = res.vectors(vectors)[has]

    resolved_by = ["unused"] * n_rows
    resolved_by[0] = "padding"
    for w in word_index:
        if w in _SPECIAL:
            resolved_by[word_index[w]] = "special"
    for i, step in zip(indices.tolist(), res.steps):
        resolved_by[i] = step or policy.value
    filled = np.zeros(n_rows, dtype=bool)
    filled[0] = True
    filled[indices[has]] = True
    empty = np.flatnonzero(~filled)  # missing words, specials, unused indices
    if policy is not OOVPolicy.ZEROS and len(empty):
        mean, std = _stats(vectors)
        if policy is OOVPolicy.MEAN:
            matrix[empty] = mean
        else:
            rng = np.random.default_rng(seed)
            matrix[empty] = rng.standard_normal((len(empty), dim)) * std + mean

    order = np.argsort(indices, kind="stable").tolist()
    found = [words[i] for i in order if has[i]]
    missing = [words[i] for i in order if not has[i]]
    parts = {w: p for w, s, p in zip(words, res.steps, res.parts) if s and s != "exact"}
    ordered = [words[i] for i in order]
    report = describe(ordered, [res.steps[i] for i in order], [res.parts[i] for i in order],
                      policy=policy.value, counts=counts)
    token_coverage: float | None = None
    missing_counts: dict[str, int] | None = None
    if counts is not None:
        missing_counts = {w: int(counts.get(w, 0)) for w in missing}
        missing.sort(key=lambda w: -missing_counts[w])  # stable: ties keep index order
        hit = sum(int(counts.get(w, 0)) for w in found)
        total = hit + sum(missing_counts.values())
        token_coverage = hit / total if total else None
    vocab_out = {w: int(i) for w, i in word_index.items()}
    return EmbeddingMatrix(matrix=matrix, vocab=vocab_out, found=found, missing=missing,
                           oov=policy.value, token_coverage=token_coverage,
                           missing_counts=missing_counts, resolved_by=resolved_by, parts=parts,
                           report=report)


def _normalise_vocab(vocab: Mapping[str, int] | Sequence[str]) -> dict[str, int]:
    """word -> index (>= 1), padding excluded; every check of a vocabulary's shape is here."""
    if isinstance(vocab, str) or not isinstance(vocab, Mapping | Sequence):
        raise VocabularyError(
            "vocab must be a dict word -> index or a list in index order "
            f"(TextVectorization.get_vocabulary()); got {type(vocab).__name__}")
    if len(vocab) == 0:
        raise VocabularyError("the vocabulary is empty")
    if not isinstance(vocab, Mapping):
        return _vocab_of_list(list(vocab))
    return _vocab_of_mapping(vocab)


def _vocab_of_list(words: list[Any]) -> dict[str, int]:
    """word -> index of a list vocabulary in index order (``''`` at index 0)."""
    if words[0] != PAD_TOKEN:
        raise VocabularyError(
            f"a list vocabulary must hold the padding token '' at index 0, got {words[0]!r} "
            "(index 0 is reserved for padding; TextVectorization(mask_token=None) leaves it "
            "out: pass a dict word -> index starting at 1, or keep the default mask token)")
    if len(words) == 1:
        raise VocabularyError("the vocabulary is empty (only the padding token '')")
    out: dict[str, int] = {}
    for i, w in enumerate(words[1:], start=1):
        if not isinstance(w, str):
            raise VocabularyError(f"vocabulary entry {i} is {w!r} (of type "
                                  f"{type(w).__name__}), not a string")
        if w in out:
            raise VocabularyError(f"word {w!r} appears twice in the vocabulary, at index "
                                  f"{out[w]} and {i}")
        if w == PAD_TOKEN:
            raise VocabularyError(f"the padding token '' appears again at index {i}")
        out[w] = i
    return out


def _vocab_of_mapping(vocab: Mapping[Any, Any]) -> dict[str, int]:
    """A dict vocabulary word -> index, checked (``'' -> 0``, the padding, left out)."""
    out: dict[str, int] = {}
    seen: dict[int, str] = {}
    for w, i in vocab.items():
        if not isinstance(w, str):
            raise VocabularyError(f"vocabulary key {w!r} (of type {type(w).__name__}) is not "
                                  "a string")
        if isinstance(i, bool) or not isinstance(i, int | np.integer):
            raise VocabularyError(f"vocabulary gives {w!r} the index {i!r} (of type "
                                  f"{type(i).__name__}); indices must be integers")
        i = int(i)
        if i == 0:
            if w == PAD_TOKEN:  # a dict made from get_vocabulary(): '' -> 0 is the padding
                continue
            raise VocabularyError(f"vocabulary gives index 0 to {w!r}; index 0 is reserved "
                                  "for padding")
        if i < 0:
            raise VocabularyError(f"vocabulary gives {w!r} the negative index {i}")
        if i in seen:
            raise VocabularyError(f"vocabulary gives index {i} to both {seen[i]!r} and {w!r}")
        seen[i] = w
        out[w] = i
    if not out:
        raise VocabularyError("the vocabulary is empty (only the padding token '')")
    return out


_STATS: weakref.WeakKeyDictionary[Vectors, tuple[np.ndarray, np.ndarray]] = (
    weakref.WeakKeyDictionary())


def _forget_stats(vectors: Vectors) -> None:
    """``add_vectors`` changed ``vectors`` in place: their cached statistics are stale."""
    _STATS.pop(vectors, None)


on_replace(_forget_stats)


def _stats(vectors: Vectors, chunk_rows: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std of all the vectors: one streaming pass in float64, cached."""
    cached = _STATS.get(vectors)
    if cached is not None:
        return cached
    n, dim = vectors.shape
    total = np.zeros(dim, dtype=np.float64)
    total_sq = np.zeros(dim, dtype=np.float64)
    for start in range(0, n, chunk_rows):
        block = vectors.rows(np.arange(start, min(start + chunk_rows, n))).astype(np.float64)
        total += block.sum(axis=0)
        total_sq += np.square(block).sum(axis=0)
    mean = total / max(n, 1)
    std = np.sqrt(np.maximum(total_sq / max(n, 1) - np.square(mean), 0.0))
    result = (mean.astype(np.float32), std.astype(np.float32))
    _STATS[vectors] = result
    return result
