"""word2vec binary: a ``count dim`` header line, then ``word<space><dim float32 LE>`` per entry.

Entries may or may not be followed by a newline (the original C tool writes one; gensim does not);
a newline before a word is skipped, as gensim does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._atomic import atomic_file
from ..errors import FormatError
from ..progress import Progress, progress_enabled
from ..sources import Source
from ..vectors import Vectors
from .text import ReadOptions, _Report, parse_header

__all__ = ["looks_like_text", "read_binary", "write_binary"]

CHUNK_BYTES = 16 << 20
MAX_WORD_BYTES = 1 << 16
_TEXT_BYTES = frozenset(b"0123456789.-+eEinfaINFA \t\r\n")


def looks_like_text(vector_bytes: bytes) -> bool:
    """True when the bytes where a binary vector should be are decimal text instead."""
    sample = vector_bytes.split(b"\n", 1)[0]
    return len(sample) >= 3 and all(c in _TEXT_BYTES for c in sample)


def read_binary(source: Source, *, options: ReadOptions) -> Vectors:
    """Read a word2vec binary file, streaming; peak memory is the rows kept plus one chunk."""
    name = source.name
    size = source.size
    report = _Report(where="byte offset")
    limit = options.limit
    words: list[str] = []
    index: dict[str, int] = {}
    blocks: list[np.ndarray] = []
    compressed = not source.is_plain
    bar = Progress(size, f"reading {source.path.name}",
                   enabled=progress_enabled(options.progress, size))
    with bar, source.open(on_read=bar.update if compressed else None) as fh:
        def read(n: int) -> bytes:
            data = fh.read(n)  # (read errors are FormatErrors, raised by the source)
            if not compressed:
                bar.update(len(data))
            return data

        buf = read(CHUNK_BYTES)
        if not buf:
            raise FormatError(name, "the file is empty", expected="a word2vec binary header")
        nl = buf.find(b"\n")
        parsed = parse_header(buf[:nl]) if 0 <= nl <= 100 else None
        if parsed is None:
            raise FormatError(name, line=1, expected="a word2vec binary header 'count dim'",
                              found=repr(buf[:40]))
        header_count, dim = parsed
        if not 0 < dim <= 1_000_000:
            raise FormatError(name, line=1, detail="absurd header",
                              expected="a dimension from 1 to 1,000,000", found=str(dim))
        vec_bytes = 4 * dim
        base = nl + 1  # file offset of buf[pos]
        buf = buf[nl + 1:]
        pos = 0
        seen = 0
        eof = False
        first = True
        while True:
            if limit is not None and seen >= limit:
                break
            offsets: list[int] = []
            entry_words: list[bytes] = []
            entry_starts: list[int] = []
            while True:
                while pos < len(buf) and buf[pos] in (10, 13):  # newline before a word
                    pos += 1
                if pos >= len(buf):
                    break
                sp = buf.find(b" ", pos, pos + MAX_WORD_BYTES)
                if sp < 0 or sp + 1 + vec_bytes > len(buf):
                    if sp < 0 and len(buf) - pos >= MAX_WORD_BYTES:
                        raise FormatError(name, offset=base + pos,
                                          expected=f"a word and a space within {MAX_WORD_BYTES} "
                                          "bytes", found="no space")
                    break
                if first:
                    first = False
                    if looks_like_text(buf[sp + 1: sp + 1 + vec_bytes]):
                        raise FormatError(name, "this looks like a text file, not word2vec "
                                          "binary; read it with format='word2vec' or 'auto'",
                                          offset=base + sp + 1)
                entry_words.append(buf[pos:sp])
                entry_starts.append(base + pos)
                offsets.append(sp + 1)
                pos = sp + 1 + vec_bytes
                seen += 1
                if limit is not None and seen >= limit:
                    break
            _take(buf, offsets, entry_words, entry_starts, dim, name, options, report, words,
                  index, blocks)
            if limit is not None and seen >= limit:
                break
            if eof:
                rest = buf[pos:]
                if rest.strip():
                    raise FormatError(name, offset=base + pos, detail="truncated file",
                                      expected=f"a word and {vec_bytes} bytes of vector",
                                      found=f"{len(rest)} bytes before the end of the file")
                break
            more = read(CHUNK_BYTES)
            if not more:
                eof = True
            base += pos
            buf = buf[pos:] + more
            pos = 0
    if limit is None:
        report.check_header(header_count, seen)
    matrix = np.concatenate(blocks) if len(blocks) > 1 else (
        blocks[0] if blocks else np.empty((0, dim), np.float32))
    finite = np.isfinite(matrix)
    if not finite.all():
        report.nonfinite = int(finite.size - np.count_nonzero(finite))
    report.emit(name, len(words), options.errors)
    v = Vectors(words, matrix, source=name, format="word2vec-binary")
    v._index = index
    return v


def _take(buf: bytes, offsets: list[int], raw_words: list[bytes], starts: list[int], dim: int,
          name: str, options: ReadOptions, report: _Report, words: list[str],
          index: dict[str, int], blocks: list[np.ndarray]) -> None:
    keep: list[int] = []
    vocab = options.vocab
    for j, raw in enumerate(raw_words):
        try:
            w = raw.decode(options.encoding)
        except UnicodeDecodeError as exc:
            if options.errors == "strict":
                raise FormatError(name, offset=starts[j],
                                  detail=f"the word is not valid {options.encoding} "
                                  f"(byte {exc.start}: {raw[exc.start:exc.end]!r})",
                                  found=repr(raw[:60])) from None
            report.bad_encoding += 1
            if report.first_bad_encoding_line is None:
                report.first_bad_encoding_line = starts[j]
            if options.errors == "skip":
                continue
            w = raw.decode(options.encoding, "replace")
        if vocab is not None and w not in vocab:
            continue
        if w in index:
            report.duplicates += 1
            if report.first_duplicate_line is None:
                report.first_duplicate_line = starts[j]
            continue
        index[w] = len(words)
        words.append(w)
        keep.append(offsets[j])
    if not keep:
        return
    u8 = np.frombuffer(buf, dtype=np.uint8)
    gather = np.asarray(keep, dtype=np.int64)[:, None] + np.arange(4 * dim, dtype=np.int64)
    rows = u8[gather].view("<f4").reshape(len(keep), dim)
    blocks.append(rows.astype(np.float32, copy=False))


def write_binary(vectors: Vectors, path: Path, *, precision: int | None = None,
                 progress: bool | None = None) -> Path:
    """Write word2vec binary (a newline after each vector, as the original C tool does)."""
    for w in vectors.words:
        if not w or " " in w or "\n" in w:
            raise ValueError(f"cannot write the word {w!r} in word2vec binary (empty, or holds "
                             "a space or a line break)")
    matrix = vectors.matrix
    n, dim = matrix.shape
    with atomic_file(path) as tmp, open(tmp, "wb") as fh, Progress(
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
