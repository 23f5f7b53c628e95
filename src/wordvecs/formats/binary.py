"""word2vec binary: a ``count dim`` header line, then ``word<space><dim float32 LE>`` per entry.

Entries may or may not be followed by a newline (the original C tool writes one; gensim does not);
``\n`` and ``\r`` before a word are skipped, as gensim skips the newline. The entries are found by
the kernel (compiled ``scan_binary`` and ``copy_rows``, or their NumPy versions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from wordvecs._arrow import numpy_bools, string_array, string_spans, strings, utf8_spans
from wordvecs._atomic import atomic_file
from wordvecs.errors import FormatError
from wordvecs.formats._kernel import get_kernel
from wordvecs.formats._rows import _gather_spans, _Kept, _Output
from wordvecs.formats.text import ReadOptions, _Report, parse_header
from wordvecs.progress import Progress, progress_enabled
from wordvecs.sources import Source
from wordvecs.vectors import Vectors

__all__ = ["looks_like_text", "read_binary", "write_binary"]

CHUNK_BYTES = 16 << 20  # the largest chunk; a small file reads in ~64 chunks of at least 1 MB
MIN_CHUNK_BYTES = 1 << 20
MAX_WORD_BYTES = 1 << 16
MAX_ENTRIES = 1 << 20  # entries per scan, at most (bounds the per-scan arrays)
_TEXT_BYTES = frozenset(b"0123456789.-+eEinfaINFA \t\r\n")


def looks_like_text(vector_bytes: bytes) -> bool:
    """True when the bytes where a binary vector should be are decimal text instead."""
    sample = vector_bytes.split(b"\n", 1)[0]
    return len(sample) >= 3 and all(c in _TEXT_BYTES for c in sample)


def read_binary(source: Source, *, options: ReadOptions) -> Vectors:
    """Read a word2vec binary file, streaming; peak memory is the rows kept plus one chunk.

    The kernel finds the entries of each chunk (word spans; the vector follows the space), the
    words become one Arrow array (UTF-8 checked by Arrow) and the kept vectors are copied into the
    output: no Python object per entry. An entry cut by the end of a chunk is read with the next.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    name = source.name
    size = source.size
    kernel = get_kernel()
    report = _Report(where="byte offset")
    limit = options.limit
    compressed = not source.is_plain
    fast_words = options.encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    pool = pa.system_memory_pool()
    vocab_array = strings(sorted(options.vocab)) if options.vocab is not None else None
    bar = Progress(size, f"reading {source.path.name}",
                   enabled=progress_enabled(options.progress, size))
    with bar, source.open(on_read=bar.update if compressed else None) as fh:
        chunk = _Chunk(fh, None if compressed else bar,
                       min(CHUNK_BYTES, max(MIN_CHUNK_BYTES, size // 64)))
        buf, eof = chunk.fill(0)
        nl, header_count, dim = _header(name, buf)
        vec_bytes = 4 * dim
        # at most one entry per (vector + 2) bytes: the output is never sized from the header
        cap = (size if source.is_plain else 2 * len(buf)) // (vec_bytes + 2) + 16
        if options.vocab is not None:
            cap = min(cap, len(options.vocab))
        if limit is not None:
            cap = min(cap, limit)
        kept = _Kept(name, _Output(cap, dim), report)
        base = 0  # file offset of buf[0]
        pos = nl + 1
        seen = 0
        first = True
        while True:
            todo = MAX_ENTRIES if limit is None else min(MAX_ENTRIES, limit - seen)
            ws, we, pos, status = kernel.scan_binary(buf, pos, dim, todo, MAX_WORD_BYTES)
            if len(ws):
                if first:
                    first = False
                    vec = int(we[0]) + 1
                    if looks_like_text(bytes(buf[vec:vec + vec_bytes])):
                        raise FormatError(name, "this looks like a text file, not word2vec "
                                          "binary; read it with format='word2vec' or 'auto'",
                                          offset=base + vec)
                seen += len(ws)
                _take(buf, base, ws, we, dim, kept, options, fast_words, vocab_array, pool,
                      kernel, pc)
            if status == 1:
                raise FormatError(name, offset=base + pos, expected=f"a word and a space within "
                                  f"{MAX_WORD_BYTES} bytes", found="no space")
            if limit is not None and seen >= limit:
                break
            if status == 2:
                continue  # (MAX_ENTRIES read: the buffer has more)
            if eof:
                rest = bytes(buf[pos:])
                if rest.strip():
                    raise FormatError(name, offset=base + pos, detail="truncated file",
                                      expected=f"a word and {vec_bytes} bytes of vector",
                                      found=f"{len(rest)} bytes before the end of the file")
                break
            base += pos
            buf, eof = chunk.fill(pos)  # the entry cut by the end moves to the front
            pos = 0
    if limit is None:
        report.check_header(header_count, seen)
    v = kept.vectors("word2vec-binary")
    step = max(1, (1 << 20) // dim)
    report.nonfinite = sum(int(block.size - np.count_nonzero(np.isfinite(block)))
                           for block in (v.matrix[i:i + step] for i in range(0, len(v), step)))
    report.emit(name, len(v), options.errors)
    return v


def _header(name: str, buf: memoryview) -> tuple[int, int, int]:
    """``(offset of the header's line break, count, dim)`` of the first bytes of the file."""
    if not buf:
        raise FormatError(name, "the file is empty", expected="a word2vec binary header")
    nl = bytes(buf[:101]).find(b"\n")
    parsed = parse_header(bytes(buf[:nl])) if 0 <= nl <= 100 else None
    if parsed is None:
        raise FormatError(name, line=1, expected="a word2vec binary header 'count dim'",
                          found=repr(bytes(buf[:40])))
    header_count, dim = parsed
    if not 0 < dim <= 1_000_000:
        raise FormatError(name, line=1, detail="absurd header",
                          expected="a dimension from 1 to 1,000,000", found=str(dim))
    return nl, header_count, dim


class _Chunk:
    """One reused buffer: each fill moves the unread tail to the front and reads after it."""

    def __init__(self, fh: Any, bar: Progress | None, size: int) -> None:
        self.fh, self.bar, self.size = fh, bar, size
        self.buffer = bytearray(size)
        self.n = 0

    def fill(self, pos: int) -> tuple[memoryview, bool]:
        """``(the bytes from pos on and as many more as fit, True at the end of the file)``."""
        tail = self.n - pos
        if tail > len(self.buffer) // 2:  # an entry longer than half the buffer: make room
            self.buffer = self.buffer[pos:self.n] + bytearray(tail + self.size)
        elif tail:
            self.buffer[:tail] = self.buffer[pos:self.n]
        view = memoryview(self.buffer)
        n, eof = tail, False
        while n < len(self.buffer):  # (read errors are FormatErrors, raised by the source)
            got = self.fh.readinto(view[n:])
            if not got:
                eof = True
                break
            n += got
        if self.bar is not None:
            self.bar.update(n - tail)
        self.n = n
        return view[:n], eof


def _take(buf: memoryview, base: int, ws: np.ndarray, we: np.ndarray, dim: int, kept: _Kept,
          options: ReadOptions, fast_words: bool, vocab_array: Any, pool: Any, kernel: Any,
          pc: Any) -> None:
    """Keep the entries of one scan: their words (checked), then their vectors."""
    data, offsets = _gather_spans(buf, ws, we - ws)
    rows = None
    if fast_words and not (data == 0).any():
        import pyarrow as pa

        arr = string_array(data, offsets)
        try:
            arr.validate(full=True)
        except pa.ArrowInvalid:
            pass
        else:
            rows = np.arange(len(ws))
            if vocab_array is not None:
                mask = pc.is_in(arr, value_set=vocab_array, memory_pool=pool)
                rows = rows[numpy_bools(mask)]
                data, offsets = string_spans(pc.filter(arr, mask, memory_pool=pool))
    if rows is None:  # words one by one: invalid bytes and NUL bytes named by their offset
        rows, texts = _slow_words(buf, base, ws, we, kept, options)
        data, offsets = utf8_spans(texts)
    if kept.needs_compact(len(rows)):
        kept.compact()  # repeated words out before the output grows
    block = kept.out.reserve(len(rows))
    kernel.copy_rows(buf, we[rows] + 1, block)
    kept.words.append(data, offsets)
    kept.row_lines.append((base, ws[rows]))


def _slow_words(buf: memoryview, base: int, ws: np.ndarray, we: np.ndarray, kept: _Kept,
                options: ReadOptions) -> tuple[np.ndarray, list[str]]:
    report, name, vocab = kept.report, kept.name, options.vocab
    keep: list[int] = []
    texts: list[str] = []
    for j, (s, e) in enumerate(zip(ws.tolist(), we.tolist())):
        raw = bytes(buf[s:e])
        if b"\x00" in raw:
            raise FormatError(name, offset=base + s, detail="a NUL byte in the word",
                              found=repr(raw[:60]))
        try:
            w = raw.decode(options.encoding)
        except UnicodeDecodeError as exc:
            if options.errors == "strict":
                raise FormatError(name, offset=base + s,
                                  detail=f"the word is not valid {options.encoding} "
                                  f"(byte {exc.start}: {raw[exc.start:exc.end]!r})",
                                  found=repr(raw[:60])) from None
            report.bad_encoding += 1
            if report.first_bad_encoding_line is None:
                report.first_bad_encoding_line = base + s
            if options.errors == "skip":
                continue
            w = raw.decode(options.encoding, "replace")
        if vocab is not None and w not in vocab:
            continue
        keep.append(j)
        texts.append(w)
    return np.asarray(keep, dtype=np.int64), texts


def write_binary(vectors: Vectors, path: Path, *, precision: int | None = None,
                 overwrite: bool = False, progress: bool | None = None) -> Path:
    """Write word2vec binary (a newline after each vector, as the original C tool does).

    A word that would not read back is refused; a file at ``path`` is replaced only with
    ``overwrite=True``; its folder must exist.
    """
    from wordvecs.formats._writecheck import check_words

    check_words(vectors.words, "word2vec binary")
    matrix = vectors.matrix
    n, dim = matrix.shape
    with atomic_file(path, overwrite=overwrite, make_parents=False) as tmp, \
            open(tmp, "wb") as fh, Progress(
            n, f"writing {path.name}", enabled=progress_enabled(progress, n * dim * 4),
            unit="rows") as bar:
        fh.write(f"{n} {dim}\n".encode())
        step = 10_000
        words = vectors.words
        for i in range(0, n, step):
            block = np.ascontiguousarray(matrix[i:i + step], dtype="<f4")
            parts = []
            for w, row in zip(words[i:i + step], block):
                parts.append(w.encode("utf-8") + b" " + row.tobytes() + b"\n")
            fh.write(b"".join(parts))
            bar.update(len(block))
    return path
