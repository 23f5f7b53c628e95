"""Text vectors: GloVe (no header), word2vec text and fastText ``.vec`` (a ``count dim`` header).

The file is streamed in chunks of whole lines. A kernel (compiled when built, else NumPy) finds the
fields of each line and parses the numbers of the rows kept; this module decides which rows are
kept (``vocab=``, ``limit=``, duplicates, bad lines) and reports what was odd.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_file
from ..errors import FormatError, WordvecsWarning
from ..progress import Progress, progress_enabled
from ..sources import Source
from ..vectors import Vectors
from ._kernel import get_kernel

__all__ = ["ReadOptions", "parse_header", "read_text", "write_text"]

CHUNK_BYTES = 32 << 20
_BOM = b"\xef\xbb\xbf"
_HEADER_RE = re.compile(rb"^\s*(-?\d+)\s+(-?\d+)\s*$")
_MAX_DIM = 1_000_000


@dataclass
class ReadOptions:
    """What a reader keeps and how it treats bad input (the keyword arguments of ``load``)."""

    vocab: frozenset[str] | None = None
    limit: int | None = None
    encoding: str = "utf-8"
    errors: str = "strict"  # strict | replace | skip
    on_bad_line: str = "error"  # error | skip
    progress: bool | None = None

    def __post_init__(self) -> None:
        if self.errors not in ("strict", "replace", "skip"):
            raise ValueError(f"errors must be 'strict', 'replace' or 'skip', not {self.errors!r}")
        if self.on_bad_line not in ("error", "skip"):
            raise ValueError(f"on_bad_line must be 'error' or 'skip', not {self.on_bad_line!r}")
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"limit must be >= 0, not {self.limit}")


@dataclass
class _Report:
    """What was odd in the input, turned into warnings at the end of a read."""

    duplicates: int = 0
    first_duplicate_line: int | None = None
    bad_lines: int = 0
    first_bad_line: int | None = None
    bad_encoding: int = 0
    first_bad_encoding_line: int | None = None
    nonfinite: int = 0
    header_count: int | None = None
    where: str = "line"  # what the first_* positions count: "line", or "byte offset" (binary)
    notes: list[str] = field(default_factory=list)

    def emit(self, name: str, rows: int, errors: str) -> None:
        if self.duplicates:
            warnings.warn(f"{name}: {self.duplicates:,} duplicate word(s) skipped, the first "
                          "occurrence kept (first duplicate at "
                          f"{self.where} {self.first_duplicate_line})",
                          WordvecsWarning, stacklevel=4)
        if self.bad_lines:
            warnings.warn(f"{name}: {self.bad_lines:,} bad line(s) skipped (first at line "
                          f"{self.first_bad_line})", WordvecsWarning, stacklevel=4)
        if self.bad_encoding:
            what = "replaced" if errors == "replace" else "skipped"
            warnings.warn(f"{name}: {self.bad_encoding:,} word(s) with invalid bytes {what} "
                          f"(first at {self.where} {self.first_bad_encoding_line})",
                          WordvecsWarning, stacklevel=4)
        if self.nonfinite:
            warnings.warn(f"{name}: {self.nonfinite:,} value(s) are nan or inf (or overflow "
                          "float32)", WordvecsWarning, stacklevel=4)
        for note in self.notes:
            warnings.warn(f"{name}: {note}", WordvecsWarning, stacklevel=4)


def parse_header(line: bytes) -> tuple[int, int] | None:
    """``(count, dim)`` when ``line`` is a word2vec header, else None."""
    m = _HEADER_RE.match(line)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return "_" not in token


def _chunks(source: Source, bar: Progress) -> Iterator[tuple[bytes, int]]:
    """Yield ``(chunk, number of its first line)``; every chunk but the last ends with ``\\n``."""
    compressed = not source.is_plain
    with source.open(on_read=bar.update if compressed else None) as fh:
        carry = b""
        line_no = 1
        first = True
        while True:
            try:
                block = fh.read(CHUNK_BYTES)
                if block and not block.endswith(b"\n"):
                    block += fh.readline()  # whole lines: nothing to carry (and copy) over
            except (OSError, EOFError, ValueError) as exc:
                raise FormatError(source.name, "the compressed stream is truncated or damaged",
                                  found=str(exc)) from None
            if not compressed:
                bar.update(len(block))
            if not block:
                break
            buf = carry + block if carry else block
            if first:
                if buf.startswith(_BOM):
                    buf = buf[len(_BOM):]
                first = False
            cut = buf.rfind(b"\n")
            if cut < 0:
                carry = buf
                continue
            if cut == len(buf) - 1:
                chunk, carry = buf, b""
            else:
                chunk, carry = buf[: cut + 1], buf[cut + 1:]
            yield chunk, line_no
            line_no += chunk.count(b"\n")
        if carry:
            yield carry, line_no


def _infer_dim(chunk: bytes, name: str, first_line: int) -> int:
    counts: Counter[int] = Counter()
    for line in chunk.split(b"\n", 1000)[:1000]:
        n = len(line.split())
        if n:
            counts[n - 1] += 1
    if not counts:
        raise FormatError(name, "no vectors found", expected="lines of a word followed by numbers")
    dim = counts.most_common(1)[0][0]
    if dim < 1:
        raise FormatError(name, line=first_line, expected="a word followed by numbers",
                          found="a single field")
    return dim


class _Output:
    """The growing float32 matrix; grown and shrunk in place (realloc), never copied whole."""

    def __init__(self, capacity: int, dim: int) -> None:
        self.array = np.empty((max(capacity, 16), dim), dtype=np.float32)
        self.rows = 0

    def reserve(self, k: int) -> np.ndarray:
        need = self.rows + k
        if need > self.array.shape[0]:
            self.array.resize((max(need, int(self.array.shape[0] * 1.5)), self.array.shape[1]),
                              refcheck=False)
        return self.array[self.rows:need]

    def finish(self) -> np.ndarray:
        self.array.resize((self.rows, self.array.shape[1]), refcheck=False)
        return self.array


def read_text(source: Source, *, header: bool, options: ReadOptions,
              format_name: str = "glove") -> Vectors:
    """Read a text vectors file (GloVe when ``header`` is False, word2vec / fastText when True)."""
    name = source.name
    kernel = get_kernel()
    vocab = options.vocab
    limit = options.limit
    report = _Report()
    words: list[str] = []
    index: dict[str, int] = {}
    out: _Output | None = None
    dim = 0
    seen_rows = 0  # vectors read from the file, kept or not (what `limit` counts)
    size = source.size
    bar = Progress(size, f"reading {source.path.name}",
                   enabled=progress_enabled(options.progress, size))
    decoded_bytes = 0
    try:
        for chunk, first_line in _chunks(source, bar):
            if out is None:
                chunk, first_line, dim, report.header_count = _start(
                    chunk, first_line, header, name)
                cap = _estimate_rows(chunk, size, source)
                if vocab is not None:
                    cap = min(cap, len(vocab))
                if limit is not None:
                    cap = min(cap, limit)
                out = _Output(cap, dim)
            decoded_bytes += len(chunk)
            seen_rows = _read_chunk(chunk, first_line, dim, name, kernel, options, report,
                                    words, index, out, seen_rows)
            if limit is not None and seen_rows >= limit:
                break
    finally:
        bar.close()
    if out is None:
        if limit == 0 or decoded_bytes == 0:
            raise FormatError(name, "the file is empty", expected="vectors")
        raise FormatError(name, "no vectors found")
    matrix = out.finish()
    hc = report.header_count
    if header and hc is not None and limit is None and hc != seen_rows:
        report.notes.append(f"the header says {hc:,} vectors; the file has {seen_rows:,}")
    report.emit(name, len(words), options.errors)
    vectors = Vectors(words, matrix, source=name, format=format_name)
    vectors._index = index
    return vectors


def _start(chunk: bytes, first_line: int, header: bool, name: str
           ) -> tuple[bytes, int, int, int | None]:
    """Consume the header (if any) and find the dimension from the first chunk."""
    header_count = None
    if header:
        pos = 0
        while True:  # skip leading blank lines
            nl = chunk.find(b"\n", pos)
            line = chunk[pos:] if nl < 0 else chunk[pos:nl]
            if line.strip() or nl < 0:
                break
            pos = nl + 1
            first_line += 1
        parsed = parse_header(line)
        if parsed is None:
            raise FormatError(name, line=first_line, expected="a header line 'count dim'",
                              found=repr(line[:60].decode("utf-8", "replace")))
        header_count, dim = parsed
        if not 0 < dim <= _MAX_DIM:
            raise FormatError(name, line=first_line, detail="absurd header",
                              expected=f"a dimension from 1 to {_MAX_DIM:,}", found=str(dim))
        chunk = chunk[nl + 1:] if nl >= 0 else b""
        first_line += 1
    else:
        dim = _infer_dim(chunk, name, first_line)
    return chunk, first_line, dim, header_count


def _estimate_rows(chunk: bytes, size: int, source: Source) -> int:
    lines = chunk.count(b"\n") + 1
    if not chunk:
        return 16
    per_line = len(chunk) / lines
    if source.is_plain:
        return int(size / per_line * 1.02) + 16
    return int(lines * 2) + 16  # compressed: unknown length; grows as needed


def _join_words(chunk: bytes, starts: np.ndarray, ends: np.ndarray) -> bytes:
    """``b"\\n".join(chunk[s:e] for s, e in zip(starts, ends))``, gathered by NumPy."""
    lens = ends - starts
    width = lens + 1
    offsets = np.cumsum(width) - width  # where each word starts in the result
    total = int(width.sum())
    src = np.arange(total, dtype=np.int64) - np.repeat(offsets - starts, width)
    np.minimum(src, len(chunk) - 1, out=src)  # the newline slot after a word that ends the chunk
    joined = np.frombuffer(chunk, dtype=np.uint8)[src]
    joined[offsets + lens] = 10
    return joined[:-1].tobytes()


def _decode_words(chunk: bytes, starts: np.ndarray, ends: np.ndarray, lines: list[int],
                  name: str, options: ReadOptions, report: _Report) -> list[str | None]:
    if not len(starts):
        return []
    try:
        return _join_words(chunk, starts, ends).decode(  # type: ignore[return-value]
            options.encoding).split("\n")
    except UnicodeDecodeError:
        pass
    raw = [chunk[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
    result: list[str | None] = []
    for b, line in zip(raw, lines):
        try:
            result.append(b.decode(options.encoding))
        except UnicodeDecodeError as exc:
            if options.errors == "strict":
                raise FormatError(name, line=line,
                                  detail=f"the word is not valid {options.encoding}"
                                  f" (byte {exc.start}: {b[exc.start:exc.end]!r})",
                                  found=repr(b[:60])) from None
            report.bad_encoding += 1
            if report.first_bad_encoding_line is None:
                report.first_bad_encoding_line = line
            result.append(b.decode(options.encoding, "replace") if options.errors == "replace"
                          else None)
    return result


def _bad_line(name: str, line: int, options: ReadOptions, report: _Report, **kw: Any) -> None:
    if options.on_bad_line == "error":
        raise FormatError(name, line=line, **kw)
    report.bad_lines += 1
    if report.first_bad_line is None or line < report.first_bad_line:
        report.first_bad_line = line


def _read_chunk(chunk: bytes, first_line: int, dim: int, name: str, kernel: Any,
                options: ReadOptions, report: _Report, words: list[str], index: dict[str, int],
                out: _Output, seen_rows: int) -> int:
    ws, we, vs, ve, nf = kernel.scan_lines(chunk, dim)
    nonblank = nf != 0
    short = np.flatnonzero(nonblank & (nf <= dim))
    good = np.flatnonzero(nf > dim)
    first_short = int(short[0]) if short.size else None
    if first_short is not None and options.on_bad_line == "error":
        good = good[good < first_short]  # rows after the first bad line are never needed
    if options.limit is not None and seen_rows + good.size > options.limit:
        good = good[: options.limit - seen_rows]
    seen_rows += good.size
    lines = (good + first_line).tolist()
    texts = _decode_words(chunk, ws[good], we[good], lines, name, options, report)
    vocab = options.vocab
    keep: list[int] = []
    keep_words: list[str] = []
    multi_rows = nf[good] > dim + 1
    if not multi_rows.any() and None not in texts:  # the usual chunk: set operations in C
        if vocab is None:
            keep, keep_words = list(range(len(texts))), texts  # type: ignore[assignment]
        else:
            keep = [j for j, w in enumerate(texts) if w in vocab]
            keep_words = [texts[j] for j in keep]  # type: ignore[misc]
        if len(set(keep_words)) == len(keep_words) and index.keys().isdisjoint(keep_words):
            texts = []  # nothing left for the loop below (and no placeholders needed)
        else:
            keep, keep_words = [], []
    multi = multi_rows.tolist()
    for j, w in enumerate(texts):
        if w is None:
            continue
        if multi[j] and all(_is_number(t) for t in w.split()[1:]):
            _bad_line(name, lines[j], options, report, expected=f"{dim} values after the word",
                      found=f"{len(w.split()) - 1 + dim}")
            continue
        if vocab is not None and w not in vocab:
            continue
        if w in index:  # an earlier chunk, or earlier in this one (placeholder -1)
            report.duplicates += 1
            if report.first_duplicate_line is None:
                report.first_duplicate_line = lines[j]
            continue
        keep.append(j)
        keep_words.append(w)
        index[w] = -1  # placeholder until the row is parsed
    rows = good[keep] if keep else good[:0]
    block = out.reserve(len(keep))
    starts, ends = vs[rows], ve[rows]
    done = 0
    while done < len(keep):
        bad = kernel.parse_rows(chunk, starts[done:], ends[done:], block[done:len(keep)])
        if bad < 0:
            break
        r = done + bad
        line = int(rows[r]) + first_line
        token = _first_non_number(chunk[int(starts[r]):int(ends[r])])
        if options.on_bad_line == "error" and (first_short is None
                                               or rows[r] < first_short):
            raise FormatError(name, line=line, expected="a number", found=repr(token))
        if options.on_bad_line == "error":
            break  # the short line before it is the first error
        _bad_line(name, line, options, report)
        index.pop(keep_words[r], None)
        keep.pop(r)
        keep_words.pop(r)
        rows = np.delete(rows, r)
        starts, ends = np.delete(starts, r), np.delete(ends, r)
        done = r
    if first_short is not None:
        line = first_short + first_line
        _bad_line(name, line, options, report, expected=f"{dim} values after the word",
                  found=f"{max(int(nf[first_short]) - 1, 0)}")
        for extra in short[1:].tolist():
            _bad_line(name, extra + first_line, options, report)
    n = len(keep)
    if n:
        filled = block[:n]
        finite = np.isfinite(filled)
        if not finite.all():
            report.nonfinite += int(finite.size - np.count_nonzero(finite))
        base = out.rows
        index.update(zip(keep_words, range(base, base + n)))
        words.extend(keep_words)
        out.rows += n
    return seen_rows


def _first_non_number(segment: bytes) -> str:
    for tok in segment.split():
        t = tok.decode("utf-8", "replace")
        if not _is_number(t):
            return t[:40]
    return segment[:40].decode("utf-8", "replace")


# --- writing ---------------------------------------------------------------------------------

def _format_values(block: np.ndarray, precision: int | None) -> list[Any]:
    """One string column per dimension: shortest float32 repr, or ``%.{precision}g``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if precision is None:
        return [pc.cast(pa.array(block[:, j]), pa.string()) for j in range(block.shape[1])]
    fmt = f"%.{precision}g"
    return [pa.array(np.char.mod(fmt, block[:, j]).astype(object)) for j in range(block.shape[1])]


def write_text(vectors: Vectors, path: Path, *, header: bool, precision: int | None = None,
               progress: bool | None = None) -> Path:
    """Write GloVe text (``header=False``) or word2vec text (``header=True``) atomically."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if precision is not None and not 1 <= precision <= 17:
        raise ValueError(f"precision must be 1 to 17 significant digits, not {precision}")
    for w in vectors.words:
        if not w or any(c in w for c in "\n\r"):
            raise ValueError(f"cannot write the word {w!r} to a text file (empty or a line break)")
    matrix = vectors.matrix
    n = len(vectors)
    step = max(1, (4 << 20) // max(vectors.dim, 1))
    words = vectors.words
    with atomic_file(path) as tmp, open(tmp, "wb") as fh, Progress(
            n, f"writing {path.name}", enabled=progress_enabled(progress, n * vectors.dim * 4),
            unit="rows") as bar:
        if header:
            fh.write(f"{n} {vectors.dim}\n".encode())
        newline = None
        for i in range(0, n, step):
            block = np.asarray(matrix[i:i + step])
            cols = _format_values(block, precision)
            if newline is None or len(newline) != len(block):
                newline = pa.array(["\n"] * len(block))
            w = pa.array(words[i:i + step], type=pa.string())
            lines = pc.binary_join_element_wise(w, *cols, " ")
            lines = pc.binary_join_element_wise(lines, newline, "")
            buffers = lines.buffers()
            offsets = np.frombuffer(buffers[1], dtype=np.int32, count=len(lines) + 1,
                                    offset=lines.offset * 4)
            fh.write(memoryview(buffers[2])[offsets[0]:offsets[-1]])
            bar.update(len(block))
    return path


def sniff_text(head: bytes) -> tuple[bool, int] | None:
    """``(has_header, dim)`` when ``head`` looks like text vectors, else None."""
    if head.startswith(_BOM):
        head = head[len(_BOM):]
    lines = [ln for ln in head.split(b"\n")[:50] if ln.strip()]
    if not lines:
        return None
    hdr = parse_header(lines[0])
    if hdr is not None and len(lines) > 1 and len(lines[1].split()) != 2:
        return True, hdr[1]
    return False, max(len(lines[0].split()) - 1, 0)
