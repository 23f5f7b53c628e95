"""The rows a reader keeps: the growing float32 output, the words in one UTF-8 buffer, where each
row came from (a line, or a byte offset), and the exact drop of repeated words and bad rows.

Shared by the text and word2vec binary readers. Repeated words are dropped (the first occurrence
kept) before the output grows and whenever the rows written pass twice the rows kept plus
``COMPACT_SLACK_BYTES`` of output: a file that repeats one row a million times needs the memory
of its distinct words, not of its rows.
"""

from __future__ import annotations

import mmap
import sys
from typing import Any

import numpy as np

from wordvecs._arrow import string_array
from wordvecs.errors import VocabularyError
from wordvecs.formats._kernel import get_kernel
from wordvecs.vectors import Vectors

# rows written beyond twice the rows kept at the last check, at most: then duplicates are dropped
COMPACT_SLACK_BYTES = 256 << 20


def _no_huge_pages(array: np.ndarray) -> None:
    """Ask Linux not to back ``array`` with transparent huge pages (best effort).

    NumPy asks for them on large arrays; where the kernel compacts memory to find them
    (``defrag=madvise``), first touching a fresh 480 MB matrix stalled for up to 0.5 s here.
    The parse writes every row once, so 4 KB pages cost nothing.
    """
    if sys.platform != "linux" or array.nbytes < (8 << 20):
        return
    try:
        import ctypes

        page = mmap.PAGESIZE
        start = array.ctypes.data
        aligned = -(-start // page) * page
        length = (start + array.nbytes - aligned) // page * page
        if length > 0:
            ctypes.CDLL(None).madvise(ctypes.c_void_p(aligned), ctypes.c_size_t(length),
                                      _MADV_NOHUGEPAGE)
    except (OSError, AttributeError):
        pass


_MADV_NOHUGEPAGE = 15


def _grow(array: np.ndarray, need: int) -> np.ndarray:
    """``array`` with room for ``need`` rows, grown in place by at least half (realloc: the
    array may move, so no view of it may be in use)."""
    if need > len(array):
        array.resize((max(need, len(array) * 3 // 2), *array.shape[1:]), refcheck=False)
    return array


class _Output:
    """The growing float32 matrix; grown and shrunk in place (realloc), never copied whole."""

    def __init__(self, capacity: int, dim: int) -> None:
        self.array = np.empty((max(capacity, 16), dim), dtype=np.float32)
        _no_huge_pages(self.array)
        self.rows = 0

    def fits(self, k: int) -> bool:
        """True when ``k`` more rows fit without growing (growing moves the array)."""
        return self.rows + k <= self.array.shape[0]

    def reserve(self, k: int) -> np.ndarray:
        need = self.rows + k
        _grow(self.array, need)
        block = self.array[self.rows:need]
        self.rows = need
        return block

    def compact(self, keep: np.ndarray) -> None:
        """Keep only the rows where ``keep`` is True, in place (a block at a time)."""
        src = np.flatnonzero(keep)
        step = max(1, (4 << 20) // max(4 * self.array.shape[1], 1))
        for i in range(0, len(src), step):  # a row never moves right: earlier blocks are done
            blk = src[i:i + step]
            self.array[i:i + len(blk)] = self.array[blk]
        self.rows = len(src)

    def finish(self, dead: list[int]) -> np.ndarray:
        if dead:  # rows whose values turned out bad (on_bad_line="skip"): close the gaps
            keep = np.ones(self.rows, dtype=bool)
            keep[dead] = False
            return np.ascontiguousarray(self.array[: self.rows][keep])
        self.array.resize((self.rows, self.array.shape[1]), refcheck=False)
        return self.array


def _word_hashes(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The kernel's 64-bit hash of each word (``data[offsets[i]:offsets[i + 1]]``).

    Equal words have equal hashes, so hashes all different prove there is no duplicate; equal
    hashes are then checked exactly. Far less memory than a hash table of
    strings, and computed once, at the end, when the read buffers are gone.
    """
    return get_kernel().word_hashes(data, offsets)


class _Words:
    """The kept words, appended chunk by chunk into growing buffers (UTF-8 bytes and int32
    offsets): the final Arrow array wraps them without a copy."""

    def __init__(self, rows: int) -> None:
        self.rows = max(rows, 16)
        self.n = 0
        self.data: np.ndarray | None = None  # sized from the first chunk's words
        self.offsets = np.zeros(self.rows + 1, dtype=np.int32)

    def append(self, data: np.ndarray, offsets: np.ndarray) -> None:
        k = len(offsets) - 1
        start, stop = int(offsets[0]), int(offsets[-1])
        used = int(self.offsets[self.n])
        if self.data is None:
            per_word = (stop - start) / k if k else 8.0
            self.data = np.empty(int(self.rows * per_word * 1.1) + 64, dtype=np.uint8)
        if used + stop - start >= 2**31:
            raise VocabularyError("the words of one file exceed 2 GB")
        self.data = _grow(self.data, used + stop - start)
        self.offsets = _grow(self.offsets, self.n + k + 1)
        self.data[used:used + stop - start] = data[start:stop]
        self.offsets[self.n + 1:self.n + k + 1] = offsets[1:] - (start - used)
        self.n += k

    def spans(self) -> tuple[np.ndarray, np.ndarray]:
        """The words' bytes and offsets so far (views of the buffers)."""
        used = int(self.offsets[self.n])
        data = self.data if self.data is not None else np.zeros(0, dtype=np.uint8)
        return data[:used], self.offsets[: self.n + 1]

    def compact(self, keep: np.ndarray) -> None:
        """Keep only the words where ``keep`` is True, in place (a block at a time)."""
        data, offsets = self.spans()
        src = np.flatnonzero(keep)
        lens = (offsets[1:] - offsets[:-1])[src]
        new = np.zeros(len(src) + 1, dtype=np.int32)
        np.cumsum(lens, out=new[1:])
        step = 1 << 16
        for i in range(0, len(src), step):  # a word never moves right: earlier blocks are done
            blk = src[i:i + step]
            part, _ = _gather_spans(data, offsets[blk], lens[i:i + step])
            data[new[i]:new[i] + len(part)] = part
        self.offsets[: len(new)] = new
        self.n = len(src)

    def finish(self) -> Any:
        """The words as an Arrow string array (the buffers shrink to fit first)."""
        used = int(self.offsets[self.n])
        data = self.data if self.data is not None else np.zeros(0, dtype=np.uint8)
        data.resize(used, refcheck=False)
        self.offsets.resize(self.n + 1, refcheck=False)
        return string_array(data, self.offsets)


class _Kept:
    """The rows kept so far, their words and origins, and what was odd (a ``_Report``)."""

    def __init__(self, name: str, out: _Output, report: Any) -> None:
        self.name, self.out, self.report = name, out, report
        self.words = _Words(out.array.shape[0])  # the kept rows' words, in order
        # where each kept row came from, per chunk: (first line or base offset, the rows'
        # lines / offsets in the chunk, or their number when every line of the chunk is a row);
        # read only for what was odd
        self.row_lines: list[tuple[int, np.ndarray | int]] = []
        self.dead: list[int] = []  # rows whose values turned out bad (skipped)
        self.slack = max(1, COMPACT_SLACK_BYTES // (4 * out.array.shape[1]))
        self.compact_at = self.slack  # rows written before duplicates are first looked for

    def needs_compact(self, k: int) -> bool:
        """True when ``k`` more rows do not fit, or would pass the compaction threshold."""
        return self.out.rows + k > self.compact_at or not self.out.fits(k)

    def _lines(self) -> np.ndarray:
        """The line number (or byte offset) of each kept row."""
        parts = [first + (np.arange(rows) if isinstance(rows, int) else rows)
                 for first, rows in self.row_lines]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def compact(self) -> None:
        """Drop the rows whose values were bad and the rows of words seen before (the first
        occurrence is kept), in place; no parse may be running. Sets the next threshold."""
        data, offsets = self.words.spans()
        if not self.words.n:
            self.compact_at = self.slack
            return
        alive = None
        if self.dead:  # rows skipped for a bad value never held a word for good
            alive = np.ones(self.words.n, dtype=bool)
            alive[np.asarray(self.dead, dtype=np.int64)] = False
        dup = _duplicates(data, offsets, alive)
        if not dup.size and alive is None:
            self.compact_at = 2 * self.out.rows + self.slack
            return
        keep = np.ones(self.words.n, dtype=bool) if alive is None else alive
        keep[dup] = False
        lines = self._lines()
        if dup.size:
            self.report.duplicates += int(dup.size)
            first = int(lines[dup].min())
            old = self.report.first_duplicate_line
            self.report.first_duplicate_line = first if old is None else min(old, first)
        self.row_lines = [(0, lines[keep])]
        self.dead = []
        self.out.compact(keep)
        self.words.compact(keep)
        self.compact_at = 2 * self.out.rows + self.slack

    def vectors(self, format_name: str) -> Vectors:
        """The vectors; a duplicate word keeps its first row (found from 64-bit word hashes,
        checked byte for byte where two hashes are equal)."""
        self.compact()
        words = self.words.finish()
        matrix = self.out.finish([])
        return Vectors(words, matrix, source=self.name, format=format_name)


def _duplicates(data: np.ndarray, offsets: np.ndarray, alive: np.ndarray | None = None
                ) -> np.ndarray:
    """The sorted indices of the words equal to an earlier word (among the ``alive`` ones).

    Hashes all different prove there is none; words whose hashes are equal are
    compared byte for byte with the first word of their hash, and a hash shared by different
    words (a 64-bit collision) is settled exactly, word by word.
    """
    h = _word_hashes(data, offsets)
    if alive is not None:
        h = h[alive]
    if not get_kernel().any_equal(h):  # the common answer needs nothing more
        return np.zeros(0, dtype=np.int64)
    idx = np.arange(len(offsets) - 1) if alive is None else np.flatnonzero(alive)
    order = np.argsort(h, kind="stable")  # equal hashes stay in row order
    hs = h[order]
    head = np.ones(len(hs), dtype=bool)
    head[1:] = hs[1:] != hs[:-1]
    group = np.cumsum(head) - 1
    first = order[np.flatnonzero(head)][group]
    cand = np.flatnonzero(~head)
    later, earlier = idx[order[cand]], idx[first[cand]]
    same = get_kernel().same_words(data, offsets, later, earlier)
    if same.all():
        return np.sort(later)
    odd = np.isin(group, np.unique(group[cand[~same]]))  # groups with a collision
    dups = later[same & ~odd[cand]].tolist()
    for g in np.unique(group[odd]).tolist():
        seen: set[bytes] = set()
        for r in idx[order[group == g]].tolist():
            w = data[int(offsets[r]):int(offsets[r + 1])].tobytes()
            if w in seen:
                dups.append(r)
            seen.add(w)
    return np.sort(np.asarray(dups, dtype=np.int64))


def _gather_spans(chunk: bytes | memoryview | np.ndarray, starts: np.ndarray, lens: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The bytes of spans ``chunk[s:s + n]`` one after another, and their int32 offsets."""
    return get_kernel().gather_spans(chunk, starts, lens)  # type: ignore[no-any-return]
