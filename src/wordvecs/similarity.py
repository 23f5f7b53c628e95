"""Nearest neighbours, analogies and similarities over unit-normalised vectors.

The scoring is gensim's (``KeyedVectors.most_similar`` and ``most_similar_cosmul``): cosine over
unit-normalised float32 vectors, the query words never returned, an unknown word a ``KeyError``
that names it. The normalised matrix is computed once, lazily, and kept on the :class:`Vectors`.
Many queries at once go through one matrix product per block of queries
(:func:`most_similar_batch`, :func:`similar_by_vectors`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from wordvecs.errors import ArgumentTypeError, UsageError, require
from wordvecs.vectors import on_replace

if TYPE_CHECKING:
    from wordvecs.vectors import Vectors

__all__ = [
    "ApproximateIndex",
    "analogy",
    "doesnt_match",
    "most_similar",
    "most_similar_batch",
    "most_similar_cosmul",
    "normed",
    "relative_cosine_similarity",
    "similar_by_vector",
    "similar_by_vectors",
    "similarity",
    "unit_rows",
    "unitvec",
]

#: Rows normalised per chunk, so a large matrix never needs a second full-size temporary.
_CHUNK = 65536

Item = str | np.ndarray | tuple[str | np.ndarray, float]


def row_norms(matrix: np.ndarray) -> np.ndarray:
    """The float32 L2 norm of each row, computed exactly as gensim's ``fill_norms`` does."""
    out = np.empty(matrix.shape[0], dtype=np.float32)
    for start in range(0, matrix.shape[0], _CHUNK):
        out[start:start + _CHUNK] = np.linalg.norm(matrix[start:start + _CHUNK], axis=1)
    return out


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """``matrix`` with every row divided by its L2 norm, in float32 (an all-zero row stays zero)."""
    out = np.empty(matrix.shape, dtype=np.float32)
    for start in range(0, matrix.shape[0], _CHUNK):
        block = np.asarray(matrix[start:start + _CHUNK], dtype=np.float32)
        norms = np.linalg.norm(block, axis=1)
        norms[norms == 0] = 1.0
        np.divide(block, norms[:, None], out=out[start:start + _CHUNK])
    return out


def normed(vectors: Vectors) -> np.ndarray:
    """The unit-normalised float32 matrix of ``vectors``, computed on first use and kept
    (:attr:`Vectors.normed <wordvecs.vectors.Vectors.normed>`)."""
    return vectors.normed


def unitvec(vec: np.ndarray) -> np.ndarray:
    """gensim's ``matutils.unitvec``: scale in float64 by 1 / ||vec||, return float32."""
    v64 = np.asarray(vec, dtype=np.float64)
    length = float(np.sqrt(np.dot(v64, v64)))
    if length <= 0.0:
        return np.asarray(vec, dtype=np.float32)
    return (v64 * (1.0 / length)).astype(np.float32)


def _weighted(items: Sequence[Item], default: float) -> list[tuple[str | np.ndarray, float]]:
    out: list[tuple[str | np.ndarray, float]] = []
    for item in items:
        if isinstance(item, tuple):
            out.append((item[0], float(item[1])))
        else:
            out.append((item, default))
    return out


def _as_list(items: Item | Iterable[Item] | None) -> list[Item]:
    """gensim's ``_ensure_list``: one word or 1-D vector is a list of one, and a 2-D array is
    a list of its rows (each row one query vector)."""
    if items is None:
        return []
    if isinstance(items, np.ndarray):
        return list(items) if items.ndim == 2 else [items]
    if isinstance(items, str):
        return [items]
    if (isinstance(items, tuple) and len(items) == 2 and isinstance(items[1], int | float)
            and not isinstance(items[1], bool)):
        return [items]  # a single (item, weight) pair
    return list(items)


def query_vector(vectors: Vectors, positive: Item | Iterable[Item] | None,
                 negative: Item | Iterable[Item] | None = ()) -> tuple[np.ndarray, list[int]]:
    """The unit mean of the query (gensim's ``get_mean_vector``) and the rows of its words."""
    items = (_weighted(_as_list(positive), 1.0) + _weighted(_as_list(negative), -1.0))
    if not items:
        raise UsageError("cannot compute similarity with no input: give at least one word")
    mean = np.zeros(vectors.dim, dtype=np.float32)
    rows: list[int] = []
    total = 0.0
    unit = normed(vectors)
    for key, weight in items:
        if isinstance(key, np.ndarray):
            vec = np.asarray(key, dtype=np.float32)
            if vec.shape != (vectors.dim,):
                raise UsageError(f"a query vector must have shape ({vectors.dim},), "
                                 f"got {vec.shape}")
        else:
            row = vectors.index(key)
            rows.append(row)
            vec = unit[row]
        mean += np.float64(weight) * vec
        total += abs(weight)
    if total > 0:
        mean = mean / total
    return unitvec(mean), rows


def _top(scores: np.ndarray, topn: int, exclude: Sequence[int] = ()) -> np.ndarray:
    """Rows of the ``topn`` best scores, best first, without ``exclude`` (gensim's tie order)."""
    k = min(topn + len(exclude), scores.size)
    neg = -scores
    if k >= scores.size:
        best = np.argsort(neg)[:k]
    else:
        part = np.argpartition(neg, k)[:k]
        best = part.take(np.argsort(neg.take(part)))
    if exclude:
        best = best[~np.isin(best, np.asarray(exclude, dtype=np.int64))]
    return best[:topn]


def _none_wanted(topn: Any) -> bool:
    """gensim's first test: an integer ``topn`` below 1 (``0``, ``np.uint8(0)``) asks for no
    words."""
    return isinstance(topn, Integral) and int(topn) < 1


def _all_wanted(topn: Any) -> bool:
    """gensim's ``if not topn: return dists``: ``topn=None`` asks for every similarity."""
    return not topn


def _limit(vectors: Vectors, restrict_vocab: int | None) -> int:
    n = len(vectors)
    if restrict_vocab is None:
        return n
    if restrict_vocab < 1:
        raise UsageError(f"restrict_vocab must be a positive integer. Received: {restrict_vocab}")
    return min(n, int(restrict_vocab))


@overload
def most_similar(vectors: Vectors, positive: Item | Iterable[Item] | None = None,
                 negative: Item | Iterable[Item] | None = (), *, topn: None,
                 restrict_vocab: int | None = None,
                 indexer: ApproximateIndex | None = None) -> np.ndarray: ...
@overload
def most_similar(vectors: Vectors, positive: Item | Iterable[Item] | None = None,
                 negative: Item | Iterable[Item] | None = (), topn: int = 10,
                 restrict_vocab: int | None = None,
                 indexer: ApproximateIndex | None = None) -> list[tuple[str, float]]: ...
def most_similar(vectors: Vectors, positive: Item | Iterable[Item] | None = None,
                 negative: Item | Iterable[Item] | None = (), topn: int | None = 10,
                 restrict_vocab: int | None = None,
                 indexer: ApproximateIndex | None = None) -> Any:
    """The ``topn`` words nearest the mean of ``positive`` minus ``negative`` (gensim's scoring).

    Items are words, vectors, or ``(item, weight)`` pairs; a 2-D array gives one vector per row.
    The query words are never returned. ``restrict_vocab`` searches only the first N words;
    ``indexer`` answers approximately. ``topn=None`` gives, as gensim, the float32 array of the
    similarity of every word (of the first ``restrict_vocab``) in row order, query words included.
    """
    if _none_wanted(topn):
        return []
    mean, rows = query_vector(vectors, positive, negative)
    if indexer is not None and not _all_wanted(topn):
        assert topn is not None
        return indexer.search(mean, int(topn), exclude=rows)
    n = _limit(vectors, restrict_vocab)
    scores = normed(vectors)[:n] @ mean
    if _all_wanted(topn):
        return scores
    assert topn is not None
    words = vectors.words
    return [(words[i], float(scores[i])) for i in _top(scores, int(topn), rows)]


def similar_by_vector(vectors: Vectors, vector: np.ndarray, topn: int = 10,
                      restrict_vocab: int | None = None) -> list[tuple[str, float]]:
    """The ``topn`` words nearest ``vector`` by cosine."""
    return most_similar(vectors, [np.asarray(vector)], topn=topn, restrict_vocab=restrict_vocab)


def similar_by_vectors(vectors: Vectors, queries: np.ndarray, topn: int = 10, *,
                       restrict_vocab: int | None = None,
                       exclude: Sequence[Sequence[int]] | None = None,
                       batch: int = 256) -> list[list[tuple[str, float]]]:
    """The ``topn`` nearest words of each row of ``queries`` (one matrix product per batch).

    ``exclude`` gives, per query, rows never to return (the query words themselves).
    """
    q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
    if q.shape[1] != vectors.dim:
        raise UsageError(f"queries must have {vectors.dim} columns, got {q.shape[1]}")
    unit_q = np.stack([unitvec(r) for r in q]) if len(q) else q
    n = _limit(vectors, restrict_vocab)
    unit = normed(vectors)[:n]
    words = vectors.words
    out: list[list[tuple[str, float]]] = []
    for start in range(0, len(q), batch):
        scores = unit_q[start:start + batch] @ unit.T
        for j, row in enumerate(scores):
            ex = list(exclude[start + j]) if exclude is not None else []
            out.append([(words[i], float(row[i])) for i in _top(row, topn, ex)])
    return out


def analogy(vectors: Vectors, a: str, b: str, c: str, topn: int = 1,
            method: Literal["add", "mul"] = "add",
            restrict_vocab: int | None = None) -> list[tuple[str, float]]:
    """"``a`` is to ``b`` as ``c`` is to ?": 3CosAdd (``"add"``) or 3CosMul (``"mul"``)."""
    if method == "add":
        return most_similar(vectors, [b, c], [a], topn=topn, restrict_vocab=restrict_vocab)
    if method == "mul":
        return most_similar_cosmul(vectors, [b, c], [a], topn=topn,
                                   restrict_vocab=restrict_vocab)
    raise UsageError(f"method must be 'add' or 'mul'. Received: method={method!r}")


@overload
def most_similar_cosmul(vectors: Vectors, positive: Item | Iterable[Item] | None = None,
                        negative: Item | Iterable[Item] | None = (), *, topn: None,
                        restrict_vocab: int | None = None) -> np.ndarray: ...
@overload
def most_similar_cosmul(vectors: Vectors, positive: Item | Iterable[Item] | None = None,
                        negative: Item | Iterable[Item] | None = (), topn: int = 10,
                        restrict_vocab: int | None = None) -> list[tuple[str, float]]: ...
def most_similar_cosmul(vectors: Vectors, positive: Item | Iterable[Item] | None = None,
                        negative: Item | Iterable[Item] | None = (), topn: int | None = 10,
                        restrict_vocab: int | None = None) -> Any:
    """3CosMul (Levy and Goldberg, 2014) as gensim's ``most_similar_cosmul`` scores it.

    Items are words or vectors (used as given, as gensim does); a 2-D array gives one vector per
    row. The query words are never returned; ``topn=None`` gives the array of every score.
    """
    if _none_wanted(topn):
        return []
    pos = _as_list(positive)
    neg = _as_list(negative)
    if not pos:
        raise UsageError("cannot compute similarity with no input: give at least one word")
    unit = normed(vectors)
    query_rows: list[int] = []

    def term(item: Item) -> np.ndarray:
        if isinstance(item, np.ndarray):
            vec = np.asarray(item, dtype=np.float32)
            if vec.shape != (vectors.dim,):
                raise UsageError(f"a query vector must have shape ({vectors.dim},), "
                                 f"got {vec.shape}")
            return vec
        if not isinstance(item, str):
            raise ArgumentTypeError(f"most_similar_cosmul takes words and vectors; got {item!r}")
        row = vectors.index(item)
        query_rows.append(row)
        return np.asarray(unit[row])

    pos_terms = [term(x) for x in pos]
    neg_terms = [term(x) for x in neg]
    n = _limit(vectors, restrict_vocab)
    empty = np.empty((0, vectors.dim), dtype=np.float32)
    scores = cosmul_scores(unit[:n], np.stack(pos_terms),
                           np.stack(neg_terms) if neg_terms else empty)
    if _all_wanted(topn):
        return scores
    assert topn is not None
    words = vectors.words
    return [(words[i], float(scores[i])) for i in _top(scores, int(topn), sorted(set(query_rows)))]


def relative_cosine_similarity(vectors: Vectors, wa: str, wb: str, topn: int = 10) -> float:
    """gensim's relative cosine similarity (Leeuwenberg et al., 2016): ``similarity(wa, wb)``
    over the sum of the similarities of ``wa``'s ``topn`` nearest words."""
    sims = most_similar(vectors, [wa], topn=topn)
    if not sims:
        raise UsageError("Cannot calculate relative cosine similarity without any similar words.")
    return float(similarity(vectors, wa, wb)) / sum(sim for _, sim in sims)


def cosmul_scores(unit: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """Equation (4) of Levy and Goldberg, cosines shifted to [0, 1], over the rows of ``unit``."""
    num = np.ones(unit.shape[0], dtype=np.float32)
    for term in pos:
        num *= (1 + unit @ term) / 2
    den = np.ones(unit.shape[0], dtype=np.float32)
    for term in neg:
        den *= (1 + unit @ term) / 2
    return num / (den + np.float32(1e-6)) if len(neg) else num / np.float32(1 + 1e-6)


def similarity(vectors: Vectors, w1: str, w2: str) -> float:
    """Cosine similarity of two words."""
    u1 = unitvec(vectors[w1])
    u2 = unitvec(vectors[w2])
    return float(np.dot(u1, u2))


def doesnt_match(vectors: Vectors, words: Iterable[str]) -> str:
    """The word furthest from the mean of ``words`` (gensim's ``doesnt_match``)."""
    words = list(words)
    if not words:
        raise UsageError("cannot select a word from an empty list")
    rows = [vectors.index(w) for w in words]
    unit = normed(vectors)[rows]
    mean = unitvec(unit.mean(axis=0, dtype=np.float32))
    dists = unit @ mean
    return sorted(zip(dists.tolist(), words), reverse=True)[-1][1]


@dataclass
class ApproximateIndex:
    """An approximate nearest-neighbour index (usearch HNSW, cosine) over a :class:`Vectors`.

    Pass it as ``indexer=`` to :meth:`Vectors.most_similar`: the same call, answered from the
    graph instead of a full scan. Needs ``pip install 'wordvecs[ann]'``.
    """

    vectors: Vectors
    index: Any

    @classmethod
    def build(cls, vectors: Vectors, *, connectivity: int = 16, expansion_add: int = 128,
              expansion_search: int = 64, dtype: str = "f32", threads: int = 0,
              progress: bool | None = None) -> ApproximateIndex:
        """Index every row of ``vectors`` (unit-normalised, inner product).

        ``progress``: a bar over the rows added (default: on a terminal, for 50,000 rows or
        more; the graph of 400,000 words takes minutes to build).
        """
        Index = require("usearch.index", "ann").Index
        unit = normed(vectors)
        index = Index(ndim=vectors.dim, metric="ip", dtype=dtype, connectivity=connectivity,
                      expansion_add=expansion_add, expansion_search=expansion_search)
        from wordvecs.progress import Progress, progress_enabled

        n = len(vectors)
        show = progress_enabled(progress, None) and (progress or n >= 50_000)
        step = 20_000
        with Progress(n, "building the index", enabled=show, unit="word") as bar:
            for start in range(0, n, step):
                stop = min(start + step, n)
                index.add(np.arange(start, stop, dtype=np.uint64), unit[start:stop],
                          threads=threads)
                bar.update(stop - start)
        return cls(vectors, index)

    def search(self, query: np.ndarray, topn: int = 10,
               exclude: Sequence[int] = ()) -> list[tuple[str, float]]:
        """The ``topn`` rows nearest the unit vector ``query`` (cosine), without ``exclude``."""
        found = self.index.search(np.asarray(query, dtype=np.float32), topn + len(exclude))
        words = self.vectors.words
        skip = set(exclude)
        out = [(words[int(k)], float(1.0 - d)) for k, d in zip(found.keys, found.distances)
               if int(k) not in skip]
        return out[:topn]

    def search_many(self, queries: np.ndarray, topn: int = 10, threads: int = 0) -> np.ndarray:
        """Row indices of the ``topn`` neighbours of each unit query, shape (len(queries), topn)."""
        found = self.index.search(np.asarray(queries, dtype=np.float32), topn, threads=threads)
        return np.asarray(found.keys, dtype=np.int64)


#: Queries scored together, and the scores of one matrix product (a tile: 1,024 queries x 4,096
#: words, 16 MB, whatever the number of words): large enough that BLAS's threads pay off.
_QUERIES = 1024
_TILE_SCORES = 2**22
#: Words in the sample that sets each query's threshold (every n // _SAMPLE-th word).
_SAMPLE = 16384
#: How far below the sampled threshold a word is still a candidate: the scores of the matrix
#: product differ from gensim's (another summation order) by a few units in the last place.
_MARGIN = 1e-5
#: Candidates' scores are computed as gensim computes them (its dot, then its division by the
#: norm): the same bits, or, where BLAS takes another path for a few rows (a row count that is not
#: a multiple of its block), within a unit in the last place (6e-8). Two of the best closer than
#: this, a tie or nearly, are decided with gensim's full computation over every word (its order
#: of exact ties is the one its argpartition gives).
_TIE = 5e-7


def _gensim_query(vectors: Vectors, item: str | np.ndarray, norms: np.ndarray
                  ) -> tuple[np.ndarray, int]:
    """gensim's ``get_mean_vector([item], pre_normalize=True, post_normalize=True)`` of one word
    or vector, with the row to leave out (-1 for a vector)."""
    if isinstance(item, str):
        row = vectors.index(item)
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero row: NaN, as gensim
            vec = vectors.matrix[row] / norms[row]
    else:
        vec, row = np.asarray(item), -1
        if vec.shape != (vectors.dim,):
            raise UsageError(f"a query vector must have shape ({vectors.dim},), got {vec.shape}")
    mean = np.zeros(vectors.dim, dtype=np.float32)
    mean += np.float64(1.0) * vec
    return unitvec(mean / np.float64(1.0)), row


def _gensim_answer(matrix: np.ndarray, norms: np.ndarray, words: list[str], mean: np.ndarray,
                   row: int, topn: int) -> list[tuple[str, float]]:
    """gensim's ``most_similar`` of one query, step by step (its dot, division and argsort)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        dists = np.dot(matrix, mean) / norms
    best = _top(dists, topn + (row >= 0))
    return [(words[i], float(dists[i])) for i in best if i != row][:topn]


def most_similar_batch(vectors: Vectors, queries: Iterable[str | np.ndarray] | np.ndarray,
                       topn: int = 10, restrict_vocab: int | None = None
                       ) -> list[list[tuple[str, float]]]:
    """The ``topn`` neighbours of each of many words or vectors: for each query what
    ``most_similar(query, topn=topn, restrict_vocab=restrict_vocab)`` gives it, the same words in
    the same order and the same scores (within 1e-6) as gensim's, in one pass over the matrix.

    ``queries``: words and 1-D vectors, or a 2-D array (one query vector per row). A word query
    never returns the word itself; a vector query leaves nothing out. Each query is one query, not
    a combined one (``most_similar([a, b])`` is the mean of ``a`` and ``b``).

    The scores of a block of queries against every word are one matrix product over the
    unit-normalised matrix (blocks of at most 64 MB of scores); a threshold taken from a sample of
    each row keeps the few candidates, whose scores are then computed as gensim computes them. A
    query whose best scores are within 5e-7 of each other (a tie, or a near tie that float rounding
    could swap) is answered with gensim's own computation over every word, so ties come out in
    gensim's order.
    """
    if isinstance(queries, np.ndarray) and queries.ndim == 2:
        items: list[str | np.ndarray] = list(queries)
    elif isinstance(queries, str | np.ndarray):
        raise UsageError("most_similar_batch takes a list of queries (words or vectors), or a "
                         "2-D array; most_similar takes one")
    else:
        items = list(queries)
    if _none_wanted(topn):
        return [[] for _ in items]
    if not isinstance(topn, Integral):
        raise UsageError(f"topn must be a positive integer. Received: {topn!r}")
    topn = int(topn)
    n = _limit(vectors, restrict_vocab)
    matrix = vectors.matrix
    norms = _norms(vectors)
    means = np.empty((len(items), vectors.dim), dtype=np.float32)
    own = np.empty(len(items), dtype=np.int64)
    for j, item in enumerate(items):  # every word checked before any work: the same KeyError
        means[j], own[j] = _gensim_query(vectors, item, norms)
    if not items:
        return []
    unit = normed(vectors)[:n]
    matrix, norms = np.asarray(matrix[:n]), norms[:n]  # a plain view: no memmap per row pick
    words = vectors.words
    k = topn + 1  # the query word's own row, then topn others
    # a lower bound of each query's k-th best score: its k-th best among a sample of the words
    sample = np.ascontiguousarray(unit[::max(1, n // _SAMPLE)])
    sub = max(1, _TILE_SCORES // max(len(sample), 1))  # queries per product with the sample
    out: list[list[tuple[str, float]]] = []
    for start in range(0, len(items), _QUERIES):
        q = means[start:start + _QUERIES]
        cut = np.full(len(q), -np.inf, dtype=np.float32)
        if len(sample) > k:
            for lo in range(0, len(q), sub):
                part = -(q[lo:lo + sub] @ sample.T)
                cut[lo:lo + sub] = -np.partition(part, k - 1, axis=1)[:, k - 1] - _MARGIN
        found_rows, found_cols = [], []
        q_t = np.ascontiguousarray(q.T)
        width = max(1024, _TILE_SCORES // len(q))  # words per tile
        for lo in range(0, n, width):  # one pass over the matrix for this block of queries
            tile = unit[lo:lo + width] @ q_t  # words x queries: BLAS's faster layout here
            c, r = np.divmod(np.flatnonzero(tile >= cut[None, :]), len(q))
            found_rows.append(r)
            found_cols.append(c + lo)
        hit_rows = np.concatenate(found_rows)
        by_query = np.argsort(hit_rows, kind="stable")
        hit_cols = np.concatenate(found_cols)[by_query]
        bounds = np.searchsorted(hit_rows[by_query], np.arange(len(q) + 1))
        for j in range(len(q)):
            out.append(_answer(matrix, norms, words, q[j], int(own[start + j]),
                                hit_cols[bounds[j]:bounds[j + 1]], topn))
    return out


def _answer(matrix: np.ndarray, norms: np.ndarray, words: list[str], mean: np.ndarray, row: int,
            cand: np.ndarray, topn: int) -> list[tuple[str, float]]:
    """One query's neighbours among its candidate rows ``cand`` (every row that can be in its
    answer), scored as gensim scores them; gensim's full computation when two are near a tie."""
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero row: NaN, as gensim
        exact = np.dot(matrix[cand], mean) / norms[cand]
    want = topn + (row >= 0)  # gensim takes topn + 1 for a word, then drops the word
    order = np.argsort(-exact, kind="stable")[:want + 1]
    top = exact[order]
    gaps = top[:-1] - top[1:]  # within the answer, and at its boundary
    if len(cand) < want or np.isnan(top).any() or (len(gaps) and gaps.min() < _TIE):
        return _gensim_answer(matrix, norms, words, mean, row, topn)
    rows = cand[order[:want]].tolist()
    scores = top[:want].tolist()
    return [(words[i], s) for i, s in zip(rows, scores) if i != row][:topn]


_NORMS: weakref.WeakKeyDictionary[Vectors, np.ndarray] = weakref.WeakKeyDictionary()


def _norms(vectors: Vectors) -> np.ndarray:
    """The row norms of ``vectors`` (gensim's ``fill_norms``), computed once and kept."""
    got = _NORMS.get(vectors)
    if got is None:
        got = _NORMS[vectors] = row_norms(vectors.matrix)
    return got


def _forget_norms(vectors: Vectors) -> None:
    _NORMS.pop(vectors, None)


on_replace(_forget_norms)
