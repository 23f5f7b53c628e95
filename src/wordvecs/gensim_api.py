"""gensim's ``KeyedVectors`` habits on :class:`~wordvecs.Vectors`, with gensim's semantics.

Each function here reproduces the gensim 4.x method of the same name, down to its float
arithmetic (the tests compare them with gensim on the real GloVe 6B 50d vectors), so code written
for gensim keeps its results. :class:`~wordvecs.Vectors` exposes them as methods; conversion both
ways (:func:`from_gensim`, :func:`to_gensim`) needs gensim installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from wordvecs.errors import ArgumentTypeError, UsageError, WordNotFound, require
from wordvecs.similarity import most_similar, normed, similarity, unitvec

if TYPE_CHECKING:
    from wordvecs.vectors import Vectors

__all__ = [
    "add_vectors",
    "closer_than",
    "cosine_similarities",
    "distance",
    "distances",
    "from_gensim",
    "get_index",
    "get_mean_vector",
    "item",
    "most_similar_to_given",
    "n_similarity",
    "rank",
    "similar_by_word",
    "to_gensim",
    "vectors_for_all",
]

_KEY_TYPES = (str, int, np.integer)


def get_index(vectors: Vectors, key: Any) -> int:
    """The row of ``key``: a word, or (as in gensim) an int that is already a row number."""
    if isinstance(key, str):
        return vectors.index(key)
    if isinstance(key, int | np.integer) and not isinstance(key, bool):
        if 0 <= key < len(vectors):
            return int(key)
        raise WordNotFound(key)
    raise ArgumentTypeError(f"a key is a word (str) or a row number (int); got {key!r} "
                            f"(of type {type(key).__name__})")


def _has_index(vectors: Vectors, key: Any) -> bool:
    if isinstance(key, str):
        return key in vectors
    return bool(isinstance(key, int | np.integer) and not isinstance(key, bool)
                and 0 <= key < len(vectors))


def item(vectors: Vectors, key: Any) -> np.ndarray:
    """``vectors[key]``: one vector for a word or row number; a 2-D array for a list of keys,
    an integer array or a slice (rows in order). Every result is a float32 copy."""
    if isinstance(key, slice):
        return np.array(vectors.matrix[key], dtype=np.float32, copy=True)
    if isinstance(key, _KEY_TYPES) and not isinstance(key, bool):
        return np.array(vectors.matrix[get_index(vectors, key)], dtype=np.float32, copy=True)
    if isinstance(key, np.ndarray) and key.dtype.kind in "iu":
        if key.size and (key.min() < 0 or key.max() >= len(vectors)):
            bad = key[(key < 0) | (key >= len(vectors))].flat[0]
            raise WordNotFound(int(bad))
        return vectors.rows(key.ravel()).reshape(*key.shape, vectors.dim)
    if isinstance(key, Iterable) and not isinstance(key, bytes):
        keys = list(key)
        return vectors.rows(np.asarray([get_index(vectors, k) for k in keys], dtype=np.int64)) \
            if keys else np.empty((0, vectors.dim), dtype=np.float32)
    raise ArgumentTypeError(f"cannot index Vectors with {key!r} (of type {type(key).__name__}): "
                            "give a word, a row number, a list of them, or a slice")


def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
    """Cosine of ``vector_1`` with each row of ``vectors_all`` (gensim's arithmetic)."""
    norm = np.linalg.norm(vector_1)
    all_norms = np.linalg.norm(vectors_all, axis=1)
    dot_products = np.dot(vectors_all, vector_1)
    return dot_products / (norm * all_norms)


def distance(vectors: Vectors, w1: str, w2: str) -> float:
    """Cosine distance, ``1 - similarity``."""
    return 1 - similarity(vectors, w1, w2)


def distances(vectors: Vectors, word_or_vector: str | np.ndarray,
              other_words: Sequence[str] = ()) -> np.ndarray:
    """Cosine distances from a word or vector to ``other_words`` (every word when empty)."""
    if isinstance(word_or_vector, _KEY_TYPES):
        input_vector = vectors.matrix[get_index(vectors, word_or_vector)]
    else:
        input_vector = np.asarray(word_or_vector)
    other = vectors.matrix if not other_words else item(vectors, list(other_words))
    return 1 - cosine_similarities(input_vector, other)


def get_mean_vector(vectors: Vectors, keys: Sequence[Any], weights: Any = None,
                    pre_normalize: bool = True, post_normalize: bool = False,
                    ignore_missing: bool = True) -> np.ndarray:
    """The weighted mean of the vectors of ``keys`` (words or arrays), as gensim computes it.

    Unknown words are skipped (``ignore_missing=True``) or a ``KeyError``; ints are row numbers.
    """
    if len(keys) == 0:
        raise UsageError("cannot compute mean with no input")
    if weights is None:
        w = np.ones(len(keys), dtype=np.float32)
    elif isinstance(weights, list | tuple):
        w = np.array(weights, dtype=np.float32)
    else:
        w = np.asarray(weights)
    if w.ndim != 1 or len(keys) != w.shape[0]:
        raise UsageError("keys and weights array must have same number of elements")
    mean: np.ndarray = np.zeros(vectors.dim, np.float32)
    unit = normed(vectors) if pre_normalize else vectors.matrix
    total_weight: Any = 0
    for idx, key in enumerate(keys):
        if isinstance(key, np.ndarray):
            mean += w[idx] * key
            total_weight += abs(w[idx])
        elif _has_index(vectors, key):
            mean += w[idx] * unit[get_index(vectors, key)]
            total_weight += abs(w[idx])
        elif not ignore_missing:
            raise WordNotFound(key)
    if total_weight > 0:
        mean = mean / total_weight
    if post_normalize:
        mean = unitvec(mean).astype(np.float32)
    return mean


def n_similarity(vectors: Vectors, ws1: Sequence[str], ws2: Sequence[str]) -> float:
    """Cosine similarity of the means of two sets of words."""
    if not (len(ws1) and len(ws2)):
        raise ZeroDivisionError("At least one of the passed list is empty.")
    mean1 = get_mean_vector(vectors, ws1, pre_normalize=False)
    mean2 = get_mean_vector(vectors, ws2, pre_normalize=False)
    return float(np.dot(unitvec(mean1), unitvec(mean2)))


def closer_than(vectors: Vectors, key1: str, key2: str) -> list[str]:
    """The words closer to ``key1`` than ``key2`` is."""
    all_distances = distances(vectors, key1)
    e1 = get_index(vectors, key1)
    e2 = get_index(vectors, key2)
    closer = np.where(all_distances < all_distances[e2])[0]
    words = vectors.words
    return [words[i] for i in closer if i != e1]


def rank(vectors: Vectors, key1: str, key2: str) -> int:
    """The rank of ``key2`` among the neighbours of ``key1`` (1 = nearest)."""
    return len(closer_than(vectors, key1, key2)) + 1


def most_similar_to_given(vectors: Vectors, key1: str, keys_list: Sequence[str]) -> str:
    """The word of ``keys_list`` most similar to ``key1``."""
    return keys_list[int(np.argmax([similarity(vectors, key1, k) for k in keys_list]))]


def similar_by_word(vectors: Vectors, word: str, topn: int | None = 10,
                    restrict_vocab: int | None = None) -> Any:
    """``most_similar([word])`` (``topn=None``: the array of every similarity, as gensim)."""
    return most_similar(vectors, [word], topn=topn,  # type: ignore[call-overload]
                        restrict_vocab=restrict_vocab)


def add_vectors(vectors: Vectors, keys: str | Sequence[str], weights: Any,
                replace: bool = False) -> None:
    """Add words and their vectors in place (gensim's ``add_vectors``).

    New words are appended in order; a word already present keeps its vector unless
    ``replace=True``. The matrix becomes an in-memory copy (a store on disk is not changed).
    """
    if isinstance(keys, str):
        keys = [keys]
        weights = np.asarray(weights).reshape(1, -1)
    keys = list(keys)
    w = np.asarray(weights)
    if w.ndim != 2 or w.shape != (len(keys), vectors.dim):
        raise UsageError(f"weights must have shape ({len(keys)}, {vectors.dim}) for "
                         f"{len(keys)} keys; got {w.shape}")
    for k in keys:
        if not isinstance(k, str):
            raise ArgumentTypeError(f"a key must be a str; got {k!r} (of type {type(k).__name__})")
    index = vectors.key_to_index
    present = np.fromiter((k in index for k in keys), dtype=bool, count=len(keys))
    new_words = [k for k, p in zip(keys, present) if not p]
    matrix = np.vstack((vectors.matrix, w[~present].astype(np.float32)))
    if replace and present.any():
        matrix[[index[k] for k, p in zip(keys, present) if p]] = w[present]
    vectors.replace_all(vectors.words + new_words, matrix)


def vectors_for_all(vectors: Vectors, keys: Iterable[str], allow_inference: bool = True) -> Vectors:
    """A new :class:`Vectors` with the given words that have a vector (deduplicated, in order).

    With ``allow_inference`` a word outside the vocabulary still gets a vector where the vectors
    can make one (fastText subwords).
    """
    from wordvecs.vectors import Vectors

    subwords = getattr(vectors, "subwords", None)
    seen: set[str] = set()
    vocab: list[str] = []
    for key in keys:
        if key in seen:
            continue
        seen.add(key)
        if key in vectors or (allow_inference and subwords is not None):
            vocab.append(key)
    rows = [np.asarray(vectors[k], dtype=np.float32) for k in vocab]
    matrix = np.stack(rows) if rows else np.empty((0, vectors.dim), dtype=np.float32)
    return Vectors(vocab, matrix, source=vectors.source, format=vectors.format)


def _gensim_keyedvectors() -> Any:
    return require("gensim.models", "gensim").KeyedVectors


def to_gensim(vectors: Vectors) -> Any:
    """A gensim ``KeyedVectors`` holding a copy of the words and the matrix."""
    kv = _gensim_keyedvectors()(vectors.dim, count=0, dtype=np.float32)
    words = vectors.words
    kv.index_to_key = list(words)
    kv.key_to_index = dict(vectors.key_to_index)
    if len(kv.key_to_index) != len(words):  # duplicate words: gensim needs one row per key
        keep = sorted(kv.key_to_index.values())
        kv.index_to_key = [words[i] for i in keep]
        kv.key_to_index = {w: i for i, w in enumerate(kv.index_to_key)}
        kv.vectors = vectors.rows(np.asarray(keep, dtype=np.int64))
    else:
        kv.vectors = np.array(vectors.matrix, dtype=np.float32, copy=True)
    kv.norms = None
    return kv


def from_gensim(kv: Any) -> Vectors:
    """A :class:`Vectors` from a gensim ``KeyedVectors`` (its words must be strings)."""
    from wordvecs.vectors import Vectors

    words = list(kv.index_to_key)
    for i, w in enumerate(words):
        if not isinstance(w, str):
            raise ArgumentTypeError(f"gensim key {i} is {w!r} (of type {type(w).__name__}); "
                                    "wordvecs keys are words (str)")
    matrix = np.array(kv.vectors, dtype=np.float32, copy=True, order="C")
    return Vectors(words, matrix, source=getattr(kv, "source", None), format="gensim")
