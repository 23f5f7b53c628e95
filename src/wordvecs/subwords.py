"""Subword vectors: every word gets a vector from its character n-grams, as fastText computes it.

:class:`SubwordModel` is the seam the unseen-word chain uses (``vectors.subwords``);
:class:`FastTextSubwords` implements it for fastText ``.bin``/``.ftz`` and floret models.

``word_vectors(words)`` equals fastText's ``get_word_vector`` bit for bit: the same n-grams of
``"<word>"`` (``minn`` to ``maxn`` UTF-8 characters), the same hash (FNV-1a over *signed* chars,
or floret's MurmurHash3_x64_128 into ``hash_count`` buckets), the same float32 summation order
(the word's own row first, then its n-grams in order) and the same scaling by
``float32(1.0 / count)``. The compiled kernel (``wordvecs._ftkernel``) does it in C; without it a
pure-Python path gives the same bits (``WORDVECS_PURE_PYTHON=1`` forces it; the tests run both).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol, runtime_checkable

import numpy as np

from wordvecs.errors import UsageError

__all__ = ["FastTextSubwords", "SubwordModel", "SubwordParams", "fnv1a", "murmur3", "ngrams"]

EOS = b"</s>"
FLORET_SEED = 2166136261


@runtime_checkable
class SubwordModel(Protocol):
    """What the unseen-word chain needs from a subword model."""

    dim: int

    def word_vectors(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """float32 (len(words), dim): fastText's get_word_vector of each word, bit for bit;
        and a bool mask, True where the word got at least one row."""
        ...


@dataclass(frozen=True)
class SubwordParams:
    """How words map to rows of the table: fastText's ``Args`` and dictionary sizes that matter."""

    minn: int
    maxn: int
    bucket: int
    nwords: int
    hash: str = "fnv1a"  # or "murmur3" (floret)
    hash_count: int = 1  # floret: rows per n-gram (1 to 4)
    seed: int = FLORET_SEED  # floret's MurmurHash seed
    prune_size: int = -1  # -1 not pruned; 0 every n-gram pruned; > 0 rows kept (.ftz)

    @property
    def floret(self) -> bool:
        """True for floret's hashing (no own row for dictionary words but entry 0)."""
        return self.hash == "murmur3"


def fnv1a(data: bytes) -> int:
    """fastText's ``Dictionary::hash``: 32-bit FNV-1a, each byte sign-extended first."""
    h = 2166136261
    for b in data:
        h = ((h ^ (b | 0xFFFFFF00 if b >= 128 else b)) * 16777619) & 0xFFFFFFFF
    return h


_M64 = 0xFFFFFFFFFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M64


def _fmix(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & _M64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & _M64
    return k ^ (k >> 33)


def murmur3(data: bytes, seed: int = FLORET_SEED) -> tuple[int, int]:
    """MurmurHash3_x64_128 of ``data`` as floret calls it: the two 64-bit halves."""
    c1, c2 = 0x87C37B91114253D5, 0x4CF5AD432745937F
    h1 = h2 = seed & 0xFFFFFFFF
    n = len(data)
    nblocks = n // 16
    for i in range(nblocks):
        k1 = int.from_bytes(data[16 * i:16 * i + 8], "little")
        k2 = int.from_bytes(data[16 * i + 8:16 * i + 16], "little")
        k1 = (_rotl((k1 * c1) & _M64, 31) * c2) & _M64
        h1 ^= k1
        h1 = (_rotl(h1, 27) + h2) & _M64
        h1 = (h1 * 5 + 0x52DCE729) & _M64
        k2 = (_rotl((k2 * c2) & _M64, 33) * c1) & _M64
        h2 ^= k2
        h2 = (_rotl(h2, 31) + h1) & _M64
        h2 = (h2 * 5 + 0x38495AB5) & _M64
    tail = data[16 * nblocks:]
    if len(tail) > 8:
        k2 = int.from_bytes(tail[8:], "little")
        h2 ^= (_rotl((k2 * c2) & _M64, 33) * c1) & _M64
    if tail:
        k1 = int.from_bytes(tail[:8], "little")
        h1 ^= (_rotl((k1 * c1) & _M64, 31) * c2) & _M64
    h1 ^= n
    h2 ^= n
    h1 = (h1 + h2) & _M64
    h2 = (h2 + h1) & _M64
    h1, h2 = _fmix(h1), _fmix(h2)
    h1 = (h1 + h2) & _M64
    h2 = (h2 + h1) & _M64
    return h1, h2


def ngrams(word: bytes, minn: int, maxn: int) -> list[bytes]:
    """The character n-grams fastText's ``computeSubwords`` takes of ``word`` (already
    ``<``/``>``-wrapped), in its order: UTF-8 characters, single characters only inside."""
    out = []
    n_bytes = len(word)
    for i in range(n_bytes):
        if (word[i] & 0xC0) == 0x80:
            continue
        j = i
        n = 1
        while j < n_bytes and n <= maxn:
            j += 1
            while j < n_bytes and (word[j] & 0xC0) == 0x80:
                j += 1
            if n >= minn and not (n == 1 and (i == 0 or j == n_bytes)):
                out.append(word[i:j])
            n += 1
    return out


def _bucket_rows(p: SubwordParams, gram: bytes, prune: np.ndarray | None) -> list[int]:
    if p.floret:
        h1, h2 = murmur3(gram, p.seed)
        keys = [h1 & 0xFFFFFFFF, h1 >> 32, h2 & 0xFFFFFFFF, h2 >> 32][:p.hash_count]
    else:
        keys = [fnv1a(gram)]
    rows = []
    for key in keys:
        h = key % p.bucket
        if p.prune_size == 0:
            continue
        if p.prune_size > 0:
            assert prune is not None
            h = int(prune[h])
            if h < 0:
                continue
        rows.append(p.nwords + h)
    return rows


def word_rows(p: SubwordParams, word: bytes, entry: int, prune: np.ndarray | None = None
              ) -> list[int]:
    """The input rows fastText sums for ``word`` (dictionary entry ``entry`` or -1), in order."""
    rows = [entry] if entry >= 0 and (not p.floret or entry == 0) else []
    if word != EOS:
        wrapped = b"<" + word + b">"
        grams = [wrapped] if p.floret else []
        for gram in grams + ngrams(wrapped, p.minn, p.maxn):
            rows.extend(_bucket_rows(p, gram, prune))
    return rows


def py_word_vectors(table: np.ndarray, p: SubwordParams, words: Sequence[bytes],
                    entries: np.ndarray, prune: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The pure-Python kernel: the same bits as the compiled one."""
    dim = table.shape[1]
    out = np.zeros((len(words), dim), dtype=np.float32)
    mask = np.zeros(len(words), dtype=bool)
    nrows = table.shape[0]
    for k, word in enumerate(words):
        rows = [r for r in word_rows(p, word, int(entries[k]), prune) if 0 <= r < nrows]
        if not rows:
            continue
        acc = np.zeros(dim, dtype=np.float32)
        for r in rows:
            acc += table[r]  # one float32 add per element, in fastText's order
        acc *= np.float32(1.0 / len(rows))
        out[k] = acc
        mask[k] = True
    return out, mask


def compiled_kernel() -> ModuleType | None:
    """``wordvecs._ftkernel`` when it was built (and not disabled), else None."""
    if os.environ.get("WORDVECS_PURE_PYTHON"):
        return None
    return _KERNEL[0] if _KERNEL else _import_kernel()


_KERNEL: list[ModuleType | None] = []  # the import's outcome, once (v[word] asks per word)


def _import_kernel() -> ModuleType | None:
    try:
        from wordvecs import _ftkernel  # type: ignore[attr-defined]
    except ImportError:
        _ftkernel = None
    _KERNEL.append(_ftkernel)
    return _ftkernel


def encode(word: str) -> bytes:
    """A word's bytes as fastText sees them (``surrogateescape`` gives back undecodable bytes)."""
    try:
        return word.encode("utf-8")
    except UnicodeEncodeError:
        return word.encode("utf-8", "surrogateescape")


class FastTextSubwords:
    """A fastText / floret input table with its dictionary: the vector of any word.

    ``table`` is the input matrix (dictionary rows, then buckets; memory-mapped for a plain .bin),
    ``entries`` the dictionary (words, then labels) whose index is a row of ``table``.
    """

    def __init__(self, table: np.ndarray, params: SubwordParams,
                 entries: Sequence[str] | Callable[[], Sequence[str]],
                 prune: np.ndarray | None = None) -> None:
        if table.ndim != 2 or table.dtype != np.float32:
            raise UsageError("table must be a 2-D float32 array")
        self.table = table
        self.params = params
        self._entries = entries  # or a function giving them (a store decodes them on first use)
        self.prune = prune
        self.dim = int(table.shape[1])
        self._ids: dict[str, int] | None = None
        self._context: tuple[np.ndarray, object] | None = None  # the kernel's, for word_vector

    def __repr__(self) -> str:
        p = self.params
        return (f"<FastTextSubwords {p.hash} minn={p.minn} maxn={p.maxn} bucket={p.bucket:,} "
                f"rows={self.table.shape[0]:,} dim={self.dim}>")

    @property
    def entries(self) -> Sequence[str]:
        """The dictionary: words, then labels (a label's index is a row too, as in fastText)."""
        if callable(self._entries):
            self._entries = self._entries()
        return self._entries

    @property
    def ids(self) -> dict[str, int]:
        """Dictionary entry of each word (and label), built on first use."""
        if self._ids is None:
            entries = self.entries
            # written last to first, so the first occurrence of a word wins (as fastText's find)
            self._ids = dict(zip(reversed(entries), range(len(entries) - 1, -1, -1)))
        return self._ids

    def describe(self) -> dict[str, object]:
        """The parameters, for ``wordvecs info`` and the store."""
        p = self.params
        d: dict[str, object] = {"hash": p.hash, "minn": p.minn, "maxn": p.maxn,
                                "bucket": p.bucket, "rows": int(self.table.shape[0])}
        if p.floret:
            d["hash_count"] = p.hash_count
        if p.prune_size >= 0:
            d["pruned_to"] = p.prune_size
        return d

    def word_vectors(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """fastText's ``get_word_vector`` of each word (float32, bit for bit) and a mask, True
        where the word got at least one row (else its vector is all zeros, as in fastText)."""
        kernel = compiled_kernel()
        if kernel is None:
            get = self.ids.get
            entries = np.fromiter((get(w, -1) for w in words), dtype=np.int64, count=len(words))
            return self.rows_of([encode(w) for w in words], entries)
        n = len(words)
        offsets = np.empty(n + 1, dtype=np.int64)
        entries = np.empty(n, dtype=np.int64)
        # the bytes and entries in C: the same as encode() and ids.get(w, -1) word by word
        data = kernel.pack_words(words, self.ids, offsets, entries)
        return self._compiled(kernel, data, offsets, entries)

    def word_vector(self, word: str) -> np.ndarray:
        """The vector of one word (a new array): ``word_vectors([word])[0][0]``, the same bits, in
        one call of the compiled kernel (``v[word]`` one word at a time)."""
        kernel = compiled_kernel()
        if kernel is None or type(word) is not str:
            return self.word_vectors([word])[0][0]
        if self._context is None or self._context[0] is not self.table:
            self._context = (self.table, self._make_context(kernel))
        out = np.empty(self.dim, dtype=np.float32)
        kernel.word_vector(self._context[1], word, self.ids, out)
        return out

    def _make_context(self, kernel: ModuleType) -> object:
        """The compiled kernel's hold on the table and the parameters (made once)."""
        p = self.params
        table = self.table if self.table.flags.c_contiguous else np.ascontiguousarray(self.table)
        prune = self.prune if self.prune is not None else np.zeros(0, dtype=np.int32)
        return kernel.context(table, self.dim, p.nwords, p.minn, p.maxn, p.bucket,
                              1 if p.floret else 0, p.hash_count, p.seed, 1 if p.floret else 0,
                              np.ascontiguousarray(prune, dtype=np.int32), p.prune_size)

    def rows_of(self, words: Sequence[bytes], entries: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """Vectors of words given as bytes with their dictionary entries (-1: unseen)."""
        kernel = compiled_kernel()
        if kernel is None:
            return py_word_vectors(self.table, self.params, words, entries, self.prune)
        n = len(words)
        offsets = np.zeros(n + 1, dtype=np.int64)
        if n:
            np.cumsum([len(w) for w in words], out=offsets[1:])
        return self._compiled(kernel, b"".join(words), offsets, entries)

    def _compiled(self, kernel: ModuleType, data: bytes, offsets: np.ndarray, entries: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        """The compiled kernel over words packed as bytes with their offsets and entries."""
        p = self.params
        n = len(offsets) - 1
        out = np.empty((n, self.dim), dtype=np.float32)
        mask = np.zeros(n, dtype=np.uint8)
        table = self.table if self.table.flags.c_contiguous else np.ascontiguousarray(self.table)
        prune = self.prune if self.prune is not None else np.zeros(0, dtype=np.int32)
        kernel.word_vectors(table, self.dim,
                            data, offsets, np.ascontiguousarray(entries, np.int64),
                            out, mask, p.nwords, p.minn, p.maxn, p.bucket,
                            1 if p.floret else 0, p.hash_count, p.seed, 1 if p.floret else 0,
                            np.ascontiguousarray(prune, dtype=np.int32), p.prune_size)
        return out, mask.astype(bool)
