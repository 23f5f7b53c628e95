"""The store's word index: a hash table written with the store and memory-mapped when it opens.

``index.npy`` (a version-3 store) is one little-endian int32 array of ``slots`` entries, a power of
two at least twice the word count: open addressing with linear probing, slot ``s`` holding a row
number or -1 (empty). A word starts at slot ``crc32(its UTF-8 bytes) & (slots - 1)`` and lies at
most ``max_probe`` slots further on. Vectors that list a word twice get no index (the first row
is the word's row, and the table could not prove a row is the first): their store is written as
before, and the dict is built on the first lookup.

The index is never trusted alone: the row a probe finds is returned only when its word in
``words.arrow`` (read from the Arrow offsets and bytes) equals the query byte for byte, and a probe
stops after ``max_probe + 1`` slots. A damaged or crafted table can therefore only miss a word
(a :class:`KeyError`), never give another word's row, nor loop.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wordvecs.errors import StoreError

__all__ = ["HASH", "INDEX_FILE", "MAX_PROBE", "StoreIndex", "build_index"]

INDEX_FILE = "index.npy"
HASH = "crc32"  # zlib.crc32 of the word's UTF-8 bytes: stable across processes and versions
MAX_PROBE = 512  # a longer run (words made to collide): the store is written without an index
_EMPTY = -1


def build_index(words: Sequence[str]) -> tuple[np.ndarray, int] | None:
    """The table of ``words`` (row ``i`` is ``words[i]``) and its longest probe; None (no index
    is written) when a word is listed twice, or lies more than :data:`MAX_PROBE` slots from its
    start (words made to collide).

    A word listed twice would leave a later row on the word's probe path, or one a damaged
    table could point to: such a row has the word, yet is not the first row, the one
    ``key_to_index`` gives. With every word once, a row whose word is the query is its row.

    Linear probing, all words a round: each word still out tries its slot, the lowest row wins a
    free slot, the others step on.
    """
    n = len(words)
    hashes = np.fromiter((zlib.crc32(w.encode("utf-8")) for w in words), dtype=np.int64, count=n)
    if _has_duplicates(words, hashes):
        return None
    bits = max(1, (2 * n - 1).bit_length())
    mask = (1 << bits) - 1
    pos = hashes & mask
    rows = np.arange(n, dtype=np.int32)
    table = np.full(mask + 1, _EMPTY, dtype="<i4")
    lowest = np.full(mask + 1, np.iinfo(np.int32).max, dtype=np.int32)
    probe = 0
    while len(rows):
        if probe > MAX_PROBE:
            return None
        free = table[pos] == _EMPTY
        np.minimum.at(lowest, pos[free], rows[free])
        won = free & (lowest[pos] == rows)
        table[pos[won]] = rows[won]
        lowest[pos[free]] = np.iinfo(np.int32).max
        rows, pos = rows[~won], (pos[~won] + 1) & mask
        probe += 1
    return table, max(probe - 1, 0)


def _has_duplicates(words: Sequence[str], hashes: np.ndarray) -> bool:
    """True when a word is listed twice: equal words have equal hashes, so only the words of a
    shared hash are compared."""
    order = np.argsort(hashes, kind="stable")
    ranked = hashes[order]
    shared = np.flatnonzero(ranked[1:] == ranked[:-1])
    groups: dict[int, set[str]] = {}
    for k in shared:
        group = groups.setdefault(int(ranked[k]), {words[order[k]]})
        word = words[order[k + 1]]
        if word in group:
            return True
        group.add(word)
    return False


class StoreIndex:
    """Finds a word's row in a store through its memory-mapped table (see the module's notes).

    ``words`` is the store's Arrow string array (one chunk); ``check_words`` is the full check of
    its offsets, deferred from opening to the first use of the array as a whole
    (:meth:`check_words`), so opening costs the same whatever the count.
    """

    __slots__ = ("_check", "find")

    def __init__(self, table: np.ndarray, words: Any, max_probe: int, where: Path,
                 check_words: Callable[[], None]) -> None:
        import pyarrow as pa

        n = len(words)
        data = words.buffers()[2]
        try:
            raw = memoryview(words.buffers()[1]).cast("B")
            offsets = (raw.cast("q") if pa.types.is_large_string(words.type)
                       else raw.cast("i"))[words.offset:words.offset + n + 1]
        except (TypeError, ValueError, AttributeError):  # no buffer, or a size not whole items
            offsets = memoryview(b"").cast("q")
        if n == 0:  # no word to find (Arrow may give an empty array no offsets buffer)
            offsets = memoryview(bytes(8)).cast("q")
        if len(offsets) != n + 1:
            raise StoreError(f"{where.with_name('words.arrow')}: damaged store: "
                             f"{len(offsets)} word offsets for {n} words")
        self.find = _finder(table.data.cast("B").cast("i"), offsets,
                            memoryview(data) if data is not None else memoryview(b""),
                            max_probe + 1, where)
        self._check: Callable[[], None] | None = check_words

    def check_words(self) -> None:
        """The deferred check of the words' offsets (once; :class:`StoreError` when damaged)."""
        if self._check is not None:
            self._check()
            self._check = None


def _finder(slots: memoryview, offsets: memoryview, data: memoryview, probes: int,
            where: Path) -> Callable[[str], int | None]:
    """``find(word)``: the row of ``word``, None when the table does not hold it. A closure over
    the mapped buffers (no attribute lookups: a lookup is a few hundred nanoseconds)."""
    mask, size, crc32 = len(slots) - 1, len(data), zlib.crc32

    def find(word: str) -> int | None:
        try:
            key = word.encode()
        except (UnicodeEncodeError, AttributeError):  # a lone surrogate, or not a str
            return None
        n = len(key)
        s = crc32(key) & mask
        left = probes
        try:
            while left:
                row = slots[s]
                if row < 0:
                    return None
                a = offsets[row]
                b = offsets[row + 1]  # (an IndexError for a row past the last)
                if b - a == n and data[a:b].tobytes() == key and a >= 0 and b <= size:
                    return row
                s = (s + 1) & mask
                left -= 1
        except IndexError:
            raise StoreError(f"{where}: damaged store: row {row} in slot {s} of a table for "
                             f"{len(offsets) - 1:,} words (wordvecs.load(..., verify=True) "
                             "checks every file)") from None
        return None

    return find
