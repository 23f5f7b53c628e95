"""The pure-Python/NumPy text kernel: what the compiled kernel does, slower, with the same results.

Two functions make the kernel; the compiled ``wordvecs._ckernel`` has the same signatures.

``scan_lines(buf, dim) -> (word_start, word_end, vec_start, vec_end, nfields)``
    One entry per line of ``buf`` (lines end at ``\\n``; the last may lack it), all int64 arrays of
    byte offsets into ``buf``. Fields are separated by runs of ASCII white space (space, \\t,
    \\v, \\f); trailing white space is ignored. ``nfields`` is 0 for a blank line, -1 for a line
    with a ``\\r`` that is not part of its trailing white space (a lone carriage return: two rows
    run together, or old Mac line ends; never read as a field separator). When
    ``nfields > dim`` the last ``dim`` fields are the vector (``vec_start:vec_end``) and
    everything before them, trimmed, is the word (``word_start:word_end``), which may then contain
    spaces. When ``nfields <= dim`` (a bad line) the offsets are 0.

``parse_rows(buf, vec_start, vec_end, out) -> (bad, nonfinite)``
    Parse the ``dim`` = ``out.shape[1]`` numbers of each span into ``out`` (float32, C order), each
    value exactly ``np.float32(float(token))``. ``bad`` is -1, or the index of the first row that
    does not hold exactly ``dim`` numbers (rows before it are filled); ``nonfinite`` counts the
    nan and inf values (overflow included) in the rows filled.

``word_hashes(data, offsets) -> uint64 array``
    A 64-bit polynomial hash of each word ``data[offsets[i]:offsets[i + 1]]``: the sum of
    ``(byte + 1) * 0x100000001B3 ** position``, plus the word's length, modulo 2**64. Equal words
    have equal hashes; the reader proves a file has no duplicate word when all hashes differ.

``gather_spans(buf, starts, lens) -> (data, offsets)``
    The bytes ``buf[starts[i]:starts[i] + lens[i]]`` one after another (uint8) and their int32
    offsets; every span must lie inside ``buf``.

``any_equal(hashes) -> bool``
    False when no two of the uint64 values are equal (the reader's proof that no word repeats);
    True when two are, or (the compiled kernel, about once in 50,000 files of 400,000 words) may
    be: the reader then compares the words themselves.

``same_words``, ``scan_binary`` and ``copy_rows`` (the exact duplicate check, and the entries of
a word2vec binary buffer and their vectors) are documented where they are defined.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NAME", "any_equal", "copy_rows", "gather_spans", "parse_rows", "same_words",
           "scan_binary", "scan_lines", "word_hashes"]

NAME = "python"
_ODD_SPACE = (b"\t", b"\r", b"\x0b", b"\x0c")
_BATCH_VALUES = 1 << 21  # values parsed per np.fromstring call: bounds the float64 temporary


def scan_lines(buf: bytes | memoryview, dim: int) -> tuple[np.ndarray, ...]:
    buf = bytes(buf)  # a chunk may come as a memoryview of the reader's buffer
    n = buf.count(b"\n")
    if buf and not buf.endswith(b"\n"):
        n += 1
    word_start = np.zeros(n, np.int64)
    word_end = np.zeros(n, np.int64)
    vec_start = np.zeros(n, np.int64)
    vec_end = np.zeros(n, np.int64)
    nfields = np.zeros(n, np.int64)
    ws, we, vs, ve, nf = [0] * n, [0] * n, [0] * n, [0] * n, [0] * n
    pos = 0
    size = len(buf)
    find = buf.find
    # \t, \r, \v, \f inside a line separate fields too; when the buffer has none, a line of
    # exactly `dim` single spaces is a plain row.
    plain = not any(c in buf for c in (b"\t", b"\r", b"\x0b", b"\x0c"))
    for i in range(n):
        nl = find(b"\n", pos)
        end = size if nl < 0 else nl
        line = buf[pos:end].rstrip()
        if line and not plain and b"\r" in line:
            nf[i] = -1
        elif line:
            if (line.count(b" ") == dim and b"  " not in line and line[0] != 32
                    and (plain or not any(c in line for c in _ODD_SPACE))):
                sp = line.index(b" ")
                ws[i], we[i], vs[i] = pos, pos + sp, pos + sp + 1
                ve[i], nf[i] = pos + len(line), dim + 1
            else:
                count = len(line.split())
                nf[i] = count
                if count > dim:
                    parts = line.rsplit(None, dim)
                    head = parts[0]
                    word = head.strip()
                    lead = len(head) - len(head.lstrip())
                    ws[i] = pos + lead
                    we[i] = pos + lead + len(word)
                    vs[i] = pos + line.index(parts[1], len(head))
                    ve[i] = pos + len(line)
        pos = end + 1
    word_start[:] = ws
    word_end[:] = we
    vec_start[:] = vs
    vec_end[:] = ve
    nfields[:] = nf
    return word_start, word_end, vec_start, vec_end, nfields


def _parse_one(segment: bytes, dim: int) -> np.ndarray | None:
    if b"(" in segment:  # NumPy reads "nan(123)"; Python's float() does not
        return None
    try:
        vals = np.fromstring(segment, dtype=np.float64, sep=" ")  # type: ignore[call-overload]
    except ValueError:
        return None
    return vals if vals.size == dim else None


def parse_rows(buf: bytes | memoryview, vec_start: np.ndarray, vec_end: np.ndarray,
               out: np.ndarray) -> tuple[int, int]:
    bad = _parse_rows(buf, vec_start, vec_end, out)
    filled = out if bad < 0 else out[:bad]
    return bad, int(filled.size - np.count_nonzero(np.isfinite(filled)))


def _parse_rows(buf: bytes | memoryview, vec_start: np.ndarray, vec_end: np.ndarray,
                out: np.ndarray) -> int:
    buf = bytes(buf)
    k, dim = out.shape
    rows_per_batch = max(1, _BATCH_VALUES // max(dim, 1))
    starts = vec_start.tolist()
    ends = vec_end.tolist()
    for b0 in range(0, k, rows_per_batch):
        b1 = min(k, b0 + rows_per_batch)
        joined = b" ".join([buf[s:e] for s, e in zip(starts[b0:b1], ends[b0:b1])])
        try:
            vals = None if b"(" in joined else np.fromstring(  # type: ignore[call-overload]
                joined, dtype=np.float64, sep=" ")
        except ValueError:
            vals = None
        if vals is None or vals.size != (b1 - b0) * dim:
            for r in range(b0, b1):
                row = _parse_one(buf[starts[r]:ends[r]], dim)
                if row is None:
                    return r
                with np.errstate(over="ignore"):
                    out[r] = row
            continue
        with np.errstate(over="ignore"):
            out[b0:b1] = vals.reshape(b1 - b0, dim)
    return -1


_HASH_BASE = np.uint64(0x100000001B3)
_hash_powers = np.ones(1, dtype=np.uint64)
_HASH_BATCH = 1 << 16  # words per batch: bounds the per-byte temporaries


def word_hashes(data: bytes | memoryview | np.ndarray, offsets: np.ndarray) -> np.ndarray:
    data = np.frombuffer(data, dtype=np.uint8)
    offsets = np.asarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    out = np.empty(max(n, 0), dtype=np.uint64)
    for b0 in range(0, n, _HASH_BATCH):
        b1 = min(n, b0 + _HASH_BATCH)
        out[b0:b1] = _hash_batch(data, offsets[b0:b1 + 1])
    return out


def _hash_batch(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    global _hash_powers
    lens = np.diff(offsets)
    longest = int(lens.max()) if len(lens) else 0
    if longest > len(_hash_powers):
        powers = np.ones(longest, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for i in range(1, longest):
                powers[i] = powers[i - 1] * _HASH_BASE
        _hash_powers = powers
    start = int(offsets[0])
    pos = np.arange(int(offsets[-1]) - start, dtype=np.int64) - np.repeat(offsets[:-1] - start,
                                                                           lens)
    with np.errstate(over="ignore"):
        terms = (data[start:int(offsets[-1])].astype(np.uint64) + np.uint64(1)) * _hash_powers[pos]
        if not len(terms):
            return lens.astype(np.uint64)
        sums = np.add.reduceat(terms, np.minimum(offsets[:-1] - start, len(terms) - 1))
        sums[lens == 0] = 0  # (reduceat gives an empty word the next word's first term)
        return sums + lens.astype(np.uint64)


def gather_spans(buf: bytes | memoryview | np.ndarray, starts: np.ndarray, lens: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    raw = np.frombuffer(buf, dtype=np.uint8)
    starts = np.asarray(starts, dtype=np.int64)
    lens = np.asarray(lens, dtype=np.int64)
    if len(starts) != len(lens):
        raise ValueError("starts and lens must have one length")
    bad = np.flatnonzero((starts < 0) | (lens < 0) | (starts + lens > len(raw)))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"span {i} ({int(starts[i])}:+{int(lens[i])}) is outside the buffer "
                         f"({len(raw)} bytes)")
    if int(lens.sum()) >= 2**31:
        raise ValueError("the spans exceed 2 GB (int32 offsets)")
    offsets = np.zeros(len(lens) + 1, dtype=np.int32)
    np.cumsum(lens, out=offsets[1:])
    src = np.arange(int(offsets[-1]), dtype=np.int64) - np.repeat(offsets[:-1] - starts, lens)
    return raw[src], offsets


def any_equal(hashes: np.ndarray) -> bool:
    h = np.sort(np.asarray(hashes, dtype=np.uint64))
    return bool((h[1:] == h[:-1]).any())


def same_words(data: bytes | memoryview | np.ndarray, offsets: np.ndarray, a: np.ndarray,
               b: np.ndarray) -> np.ndarray:
    """``word[a[i]] == word[b[i]]`` byte for byte (word ``i`` is ``data[offsets[i]:
    offsets[i + 1]]``), for each ``i``."""
    data = np.frombuffer(data, dtype=np.uint8)
    off = np.asarray(offsets, dtype=np.int64)
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    la, lb = off[a + 1] - off[a], off[b + 1] - off[b]
    same = la == lb
    sel = np.flatnonzero(same)
    for i in range(0, len(sel), _HASH_BATCH):
        part = sel[i:i + _HASH_BATCH]
        lens = la[part]
        x, pos = gather_spans(data, off[a[part]], lens)
        y, _ = gather_spans(data, off[b[part]], lens)
        diff = np.zeros(len(x) + 1, dtype=np.int64)
        np.cumsum(x != y, out=diff[1:])
        same[part] = diff[pos[1:]] == diff[pos[:-1]]
    return same


def scan_binary(buf: bytes | memoryview, pos: int, dim: int, max_entries: int, max_word: int
                ) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The word2vec binary entries of ``buf`` from ``pos``: ``(word_start, word_end, next,
    status)``. ``\\n`` and ``\\r`` before a word are skipped; the word runs to the next space and
    the vector is the ``4 * dim`` bytes after that space. ``next`` is where the first entry not
    read starts; ``status`` 0: the buffer ends before that entry is whole, 1: it has no space
    within ``max_word`` bytes, 2: ``max_entries`` were read."""
    buf = bytes(buf)
    size = len(buf)
    vec = 4 * dim
    ws: list[int] = []
    we: list[int] = []
    status = 0
    while True:
        if len(ws) == max_entries:
            status = 2
            break
        while pos < size and buf[pos] in (10, 13):
            pos += 1
        if pos >= size:
            break
        sp = buf.find(b" ", pos, pos + max_word)
        if sp < 0:
            status = 1 if size - pos >= max_word else 0
            break
        if sp + 1 + vec > size:
            break
        ws.append(pos)
        we.append(sp)
        pos = sp + 1 + vec
    return np.asarray(ws, dtype=np.int64), np.asarray(we, dtype=np.int64), pos, status


def copy_rows(buf: bytes | memoryview, starts: np.ndarray, out: np.ndarray) -> None:
    """Row ``i`` of ``out`` (float32) is the ``4 * dim`` little-endian bytes at ``starts[i]``."""
    u8 = np.frombuffer(buf, dtype=np.uint8)
    k, dim = out.shape
    step = max(1, (1 << 20) // max(4 * dim, 1))
    cols = np.arange(4 * dim, dtype=np.int64)
    for i in range(0, k, step):
        idx = np.asarray(starts[i:i + step], dtype=np.int64)[:, None] + cols
        out[i:i + step] = u8[idx].view("<f4").reshape(len(idx), dim)
