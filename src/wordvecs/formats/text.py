"""Text vectors: GloVe (no header), word2vec text and fastText ``.vec`` (a ``count dim`` header).

The file is streamed in chunks of whole lines. A kernel (compiled when built, else NumPy) finds the
fields of each line and parses the numbers of the rows kept; this module decides which rows are
kept (``vocab=``, ``limit=``, duplicates, bad lines) and reports what was odd.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wordvecs._arrow import numpy_bools, string_array, string_spans, strings, utf8_spans
from wordvecs._atomic import atomic_file
from wordvecs.errors import FormatError, UsageError, warn
from wordvecs.formats._kernel import get_kernel
from wordvecs.formats._rows import _gather_spans, _Kept, _Output
from wordvecs.progress import Progress, progress_enabled
from wordvecs.sources import Source
from wordvecs.vectors import Vectors

__all__ = ["ReadOptions", "parse_header", "read_glove", "read_text", "read_word2vec", "write_glove",
           "write_text", "write_word2vec"]

CHUNK_BYTES = 16 << 20  # the largest chunk; a small file reads in ~64 chunks of at least 1 MB
MIN_CHUNK_BYTES = 1 << 20
MAX_LINE_BYTES = 64 << 20  # a longer line is an error (1,000,000 values fit in 25 MB)
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
            raise UsageError(f"errors must be 'strict', 'replace' or 'skip', not {self.errors!r}")
        if self.on_bad_line not in ("error", "skip"):
            raise UsageError(f"on_bad_line must be 'error' or 'skip', not {self.on_bad_line!r}")
        if self.limit is not None and self.limit < 0:
            raise UsageError(f"limit must be >= 0, not {self.limit}")


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
    where: str = "line"  # what the first_* positions count: "line", or "byte offset" (binary)
    notes: list[str] = field(default_factory=list)

    def check_header(self, header_count: int, real: int) -> None:
        """Note a word2vec header whose count is not the file's (never used to allocate)."""
        if header_count != real:
            self.notes.append(f"the header says {header_count:,} vectors; the file has {real:,}")

    def emit(self, name: str, rows: int, errors: str) -> None:
        if self.duplicates:
            warn(f"{name}: {self.duplicates:,} duplicate word(s) skipped, the first occurrence "
                 f"kept (first duplicate at {self.where} {self.first_duplicate_line})")
        if self.bad_lines:
            warn(f"{name}: {self.bad_lines:,} bad line(s) skipped (first at line "
                 f"{self.first_bad_line})")
        if self.bad_encoding:
            what = "replaced" if errors == "replace" else "skipped"
            warn(f"{name}: {self.bad_encoding:,} word(s) with invalid bytes {what} "
                 f"(first at {self.where} {self.first_bad_encoding_line})")
        if self.nonfinite:
            warn(f"{name}: {self.nonfinite:,} value(s) are nan or inf (or overflow float32)")
        for note in self.notes:
            warn(f"{name}: {note}")


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


class _LineTooLong(Exception):
    """Raised by _chunks for a line longer than MAX_LINE_BYTES (the reader names the line)."""

    def __init__(self, seen: int) -> None:
        super().__init__(seen)
        self.seen = seen


def _chunks(source: Source, bar: Progress, chunk_bytes: int = CHUNK_BYTES
            ) -> Iterator[memoryview]:
    """Yield chunks of whole lines (the last may lack its ``\\n``), without copying them.

    Two buffers are filled in turn with ``readinto``; a chunk stays valid until two more chunks
    have been yielded, which is what lets the parse of one chunk overlap the reading of the next.
    """
    compressed = not source.is_plain
    with source.open(on_read=bar.update if compressed else None) as fh:
        bufs = [bytearray(chunk_bytes), bytearray(chunk_bytes)]
        which = 0
        carry = b""
        first = True
        eof = False
        view = memoryview(b"")
        while not eof:
            buf = bufs[which]
            n = len(carry)
            if n > len(buf) // 2:  # a line longer than half a chunk: make room
                bufs[which] = bytearray()
                del buf, view  # the old buffer goes first; the new one ends just past the
                buf = bufs[which] = bytearray(  # longest line allowed
                    min(2 * n + chunk_bytes, MAX_LINE_BYTES + chunk_bytes))
            buf[:n] = carry
            view = memoryview(buf)
            while n < len(buf):  # (read errors are FormatErrors, raised by the source)
                got = fh.readinto(view[n:])  # type: ignore[attr-defined]
                if not got:
                    eof = True
                    break
                n += got
            if not compressed:
                bar.update(n - len(carry))
            start = 0
            if first:
                first = False
                if buf.startswith(_BOM):
                    start = len(_BOM)
            end = n if eof else buf.rfind(b"\n", start, n) + 1
            if end <= start and not eof:  # no line ends in this buffer: read on
                if n - start > MAX_LINE_BYTES:
                    raise _LineTooLong(n - start)
                carry = bytes(view[start:n])
                continue
            if eof and n - start > MAX_LINE_BYTES and buf.rfind(b"\n", start, n) < 0:
                raise _LineTooLong(n - start)
            carry = bytes(view[end:n])
            if end > start:
                yield view[start:end]
            which ^= 1


def _infer_dim(head: bytes, name: str, first_line: int, kernel: Any) -> int:
    """The most common number of fields, less one, among the first 1,000 lines of ``head``."""
    newlines = np.flatnonzero(np.frombuffer(head, dtype=np.uint8) == 10)
    if len(newlines) >= 1000:
        head = head[: int(newlines[999]) + 1]
    nf = kernel.scan_lines(head, _MAX_FIELDS)[4]  # (more than any line has: only counts)
    if not (nf > 0).any() and (nf < 0).any():
        raise FormatError(name, line=first_line + int(np.argmax(nf < 0)), **_LONE_CR)
    nf = nf[nf > 0]
    if not nf.size:
        raise FormatError(name, "no vectors found", expected="lines of a word followed by numbers")
    counts = np.bincount(nf)
    dim = int(nf[np.argmax(counts[nf] == counts.max())]) - 1  # on a tie, the first seen
    if dim < 1:
        raise FormatError(name, line=first_line, expected="a word followed by numbers",
                          found="a single field")
    return dim


_MAX_FIELDS = 1 << 62
_LONE_CR: dict[str, Any] = {
    "detail": "a carriage return (\\r) inside the line: two rows run together, or old Mac line "
    "ends (a lone \\r is not a line break; \\r\\n is)"}


@dataclass
class _Job:
    """One chunk whose rows are reserved and whose numbers are being parsed in the background."""

    chunk: memoryview
    first_line: int
    rows: np.ndarray  # line indices (within the chunk) of the rows kept
    starts: np.ndarray
    ends: np.ndarray
    block: np.ndarray
    base: int  # the first reserved row of the output
    first_short: int | None
    short: np.ndarray
    nf: np.ndarray
    future: Future[tuple[int, int]] | None = None


class _Reader(_Kept):
    """The state of one text read: kept words, the output, and what was odd."""

    def __init__(self, name: str, kernel: Any, options: ReadOptions, dim: int, out: _Output,
                 executor: ThreadPoolExecutor) -> None:
        import pyarrow as pa

        super().__init__(name, out, _Report())
        self.kernel, self.options, self.dim = kernel, options, dim
        self.executor = executor
        self.seen_rows = 0  # vectors read from the file, kept or not (what `limit` counts)
        self.pending: _Job | None = None
        self.fast_words = options.encoding.lower().replace("_", "-") in ("utf-8", "utf8")
        # Arrow's own pool (mimalloc) keeps what it frees; the system allocator gives it back
        self.pool = pa.system_memory_pool()
        self.vocab_array = (strings(sorted(options.vocab))
                            if options.vocab is not None else None)

    def submit(self, chunk: memoryview, first_line: int) -> int:
        """Scan a chunk, choose its rows, start parsing them; return its number of lines."""
        try:
            job = self._prepare(chunk, first_line)
        except FormatError:
            self.drain()  # an error in an earlier chunk comes first
            raise
        if self.pending is not None:
            self._finish(self.pending)
        job.future = self.executor.submit(self.kernel.parse_rows, job.chunk, job.starts,
                                          job.ends, job.block)
        self.pending = job
        return len(job.nf)

    def drain(self) -> None:
        if self.pending is not None:
            job, self.pending = self.pending, None
            self._finish(job)

    def _words_fast(self, chunk: memoryview, starts: np.ndarray, ends: np.ndarray) -> Any:
        """The words as an Arrow string array built from their byte spans, its data and offsets,
        or None when some are not valid UTF-8 (the slow path then says which)."""
        import pyarrow as pa

        data, offsets = _gather_spans(chunk, starts, ends - starts)
        arr = string_array(data, offsets)
        try:
            arr.validate(full=True)
        except pa.ArrowInvalid:
            return None
        if (data == 0).any():  # a NUL byte in a word: the slow path says where
            return None
        return arr, data, offsets

    def _prepare(self, chunk: memoryview, first_line: int) -> _Job:
        import pyarrow.compute as pc

        options, dim = self.options, self.dim
        ws, we, vs, ve, nf = self.kernel.scan_lines(chunk, dim)
        short = np.flatnonzero((nf != 0) & (nf <= dim))  # (-1: a lone \r in the line)
        good = np.flatnonzero(nf > dim)
        first_short = int(short[0]) if short.size else None
        if first_short is not None and options.on_bad_line == "error":
            good = good[good < first_short]  # rows after the first bad line are never needed
        if options.limit is not None and self.seen_rows + good.size > options.limit:
            good = good[: options.limit - self.seen_rows]
        self.seen_rows += good.size
        multi_rows = nf[good] > dim + 1
        fast = None
        if self.fast_words and not multi_rows.any():
            fast = self._words_fast(chunk, ws[good], we[good])
        if fast is not None:  # the usual chunk: no Python object per word
            arr, data, offsets = fast
            if self.vocab_array is not None:
                mask = pc.is_in(arr, value_set=self.vocab_array, memory_pool=self.pool)
                rows = good[numpy_bools(mask)]
                data, offsets = string_spans(pc.filter(arr, mask, memory_pool=self.pool))
            else:
                rows = good
        else:
            rows, texts = self._prepare_slow(chunk, first_line, good, ws, we, multi_rows)
            data, offsets = utf8_spans(texts)
        if self.needs_compact(len(rows)):
            # before the output grows (and every so often): drop the rows of repeated words and
            # of bad values, so that a file of repeats needs no more memory than its words do
            self.drain()  # no parse may be writing into the output
            self.compact()
        base = self.out.rows
        block = self.out.reserve(len(rows))
        self.words.append(data, offsets)
        self.row_lines.append((first_line, len(rows) if len(rows) == len(nf) else rows))
        return _Job(chunk, first_line, rows, vs[rows], ve[rows], block, base, first_short, short,
                    nf)

    def _prepare_slow(self, chunk: memoryview, first_line: int, good: np.ndarray,
                      ws: np.ndarray, we: np.ndarray, multi_rows: np.ndarray
                      ) -> tuple[np.ndarray, list[str]]:
        """Words one by one: invalid bytes (named, replaced or skipped), NUL bytes, words with
        white space (a row whose extra fields are all numbers has too many values)."""
        options, dim, name, report = self.options, self.dim, self.name, self.report
        lines = (good + first_line).tolist()
        texts = _decode_words(chunk, ws[good], we[good], lines, name, options, report)
        vocab = options.vocab
        multi = multi_rows.tolist()
        keep: list[int] = []
        keep_words: list[str] = []
        for j, w in enumerate(texts):
            if w is None:
                continue
            if "\x00" in w:
                _bad_line(name, lines[j], options, report, detail="a NUL byte in the word",
                          found=repr(w[:60]))
                continue
            if multi[j] and all(_is_number(t) for t in w.split()[1:]):
                _bad_line(name, lines[j], options, report, expected=f"{dim} values after the word",
                          found=f"{len(w.split()) - 1 + dim}")
                continue
            if vocab is not None and w not in vocab:
                continue
            keep.append(j)
            keep_words.append(w)
        return good[np.asarray(keep, dtype=np.int64)], keep_words

    def _finish(self, job: _Job) -> None:
        assert job.future is not None
        bad, nonfinite = job.future.result()
        options, name = self.options, self.name
        done = 0
        while bad >= 0:
            r = done + bad
            line = int(job.rows[r]) + job.first_line
            if options.on_bad_line == "error":
                token = _first_non_number(bytes(job.chunk[int(job.starts[r]):int(job.ends[r])]))
                raise FormatError(name, line=line, expected="a number", found=repr(token))
            _bad_line(name, line, options, self.report)
            self.dead.append(job.base + r)
            done = r + 1
            if done >= len(job.rows):
                break
            bad, more = self.kernel.parse_rows(job.chunk, job.starts[done:], job.ends[done:],
                                               job.block[done:])
            nonfinite += more
        self.report.nonfinite += nonfinite
        if job.first_short is not None:
            line = job.first_short + job.first_line
            if job.nf[job.first_short] < 0:
                _bad_line(name, line, options, self.report, **_LONE_CR)
            else:
                _bad_line(name, line, options, self.report, expected=f"{self.dim} values after "
                          "the word", found=f"{max(int(job.nf[job.first_short]) - 1, 0)}")
            for extra in job.short[1:].tolist():
                _bad_line(name, extra + job.first_line, options, self.report)




def read_text(source: Source, *, header: bool, options: ReadOptions,
              format_name: str = "glove") -> Vectors:
    """Read a text vectors file (GloVe when ``header`` is False, word2vec / fastText when True).

    The numbers of one chunk are parsed in a background thread (the compiled kernel releases
    the GIL and uses every core) while the next chunk is read and its words are handled.
    """
    name = source.name
    kernel = get_kernel()
    limit = options.limit
    size = source.size
    bar = Progress(size, f"reading {source.path.name}",
                   enabled=progress_enabled(options.progress, size))
    reader: _Reader | None = None
    header_count: int | None = None
    line_no = 1
    decoded_bytes = 0
    with bar, ThreadPoolExecutor(1, thread_name_prefix="wordvecs-parse") as executor:
        chunk_bytes = min(CHUNK_BYTES, max(MIN_CHUNK_BYTES, size // 64))
        chunks = _chunks(source, bar, chunk_bytes)
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                break
            except _LineTooLong as exc:
                if reader is not None:
                    reader.drain()  # an error in an earlier line comes first
                raise FormatError(name, line=line_no, detail="the line is too long",
                                  expected=f"at most {MAX_LINE_BYTES:,} bytes",
                                  found=f"{exc.seen:,} bytes without a line break") from None
            decoded_bytes += len(chunk)
            if reader is None:
                offset, line_no, dim, header_count = _start(chunk, line_no, header, name,
                                                            kernel)
                chunk = chunk[offset:]
                cap = _estimate_rows(chunk, size, source)
                if options.vocab is not None:
                    cap = min(cap, len(options.vocab))
                if limit is not None:
                    cap = min(cap, limit)
                reader = _Reader(name, kernel, options, dim, _Output(cap, dim), executor)
            line_no += reader.submit(chunk, line_no)
            if limit is not None and reader.seen_rows >= limit:
                break
        if reader is not None:
            reader.drain()
    if reader is None:
        if limit == 0 or decoded_bytes == 0:
            raise FormatError(name, "the file is empty", expected="vectors")
        raise FormatError(name, "no vectors found")
    report = reader.report
    seen = reader.seen_rows
    if header and header_count is not None and limit is None:
        report.check_header(header_count, seen)
    vectors = reader.vectors(format_name)
    report.emit(name, len(vectors), options.errors)
    return vectors


def _start(chunk: memoryview, first_line: int, header: bool, name: str, kernel: Any
           ) -> tuple[int, int, int, int | None]:
    """Read the header (if any) and the dimension from the first chunk: ``(offset of the first
    row, its line number, dim, the header's count)``."""
    head = bytes(chunk[: 1 << 20])
    header_count = None
    if not header:
        return 0, first_line, _infer_dim(head, name, first_line, kernel), None
    pos = 0
    while True:  # skip leading blank lines
        nl = head.find(b"\n", pos)
        line = head[pos:] if nl < 0 else head[pos:nl]
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
    return (nl + 1 if nl >= 0 else len(chunk)), first_line + 1, dim, header_count


def _estimate_rows(chunk: memoryview, size: int, source: Source) -> int:
    sample = bytes(chunk[: 1 << 20])
    if not sample:
        return 16
    lines = sample.count(b"\n") + 1
    per_line = len(sample) / lines
    if source.is_plain:
        return int(size / per_line * 1.02) + 16
    return int(len(chunk) / per_line * 2) + 16  # compressed: unknown length; grows as needed


def _join_words(chunk: memoryview, starts: np.ndarray, ends: np.ndarray) -> bytes:
    """``b"\\n".join(chunk[s:e] for s, e in zip(starts, ends))``, gathered by the kernel."""
    data, offsets = _gather_spans(chunk, starts, ends - starts)
    return np.insert(data, offsets[1:-1], 10).tobytes()


def _decode_words(chunk: memoryview, starts: np.ndarray, ends: np.ndarray, lines: list[int],
                  name: str, options: ReadOptions, report: _Report) -> list[str | None]:
    if not len(starts):
        return []
    try:
        return _join_words(chunk, starts, ends).decode(  # type: ignore[return-value]
            options.encoding).split("\n")
    except UnicodeDecodeError:
        pass
    raw = [bytes(chunk[s:e]) for s, e in zip(starts.tolist(), ends.tolist())]
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
               overwrite: bool = False, progress: bool | None = None) -> Path:
    """Write GloVe text (``header=False``) or word2vec text (``header=True``) atomically.

    A word that would not read back is refused (:func:`._writecheck.check_words`); a file at
    ``path`` is replaced only with ``overwrite=True``; its folder must exist.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from wordvecs._arrow import strings
    from wordvecs.formats._writecheck import check_words

    if precision is not None and not 1 <= precision <= 17:
        raise UsageError(f"precision must be 1 to 17 significant digits, not {precision}")
    check_words(vectors.words, "word2vec text" if header else "GloVe text", bom=not header)
    if not header and len(vectors):
        first = " ".join([vectors.words[0], *(str(c[0]) for c in _format_values(
            np.asarray(vectors.matrix[:1]), precision))])
        if parse_header(first.encode()) is not None:
            from wordvecs.errors import UnwritableError

            raise UnwritableError(f"cannot write words[0] = {vectors.words[0]!r} as GloVe text: "
                                  f"its line {first!r} reads as a word2vec 'count dim' header; "
                                  "write word2vec text (.vec) instead")
    matrix = vectors.matrix
    n = len(vectors)
    step = max(1, (4 << 20) // max(vectors.dim, 1))
    words = vectors.words
    enabled = progress_enabled(progress, n * vectors.dim * 4)
    with atomic_file(path, overwrite=overwrite, make_parents=False) as tmp, \
            open(tmp, "wb") as fh, \
            Progress(n, f"writing {path.name}", enabled=enabled, unit="rows") as bar:
        if header:
            fh.write(f"{n} {vectors.dim}\n".encode())
        newline = None
        for i in range(0, n, step):
            block = np.asarray(matrix[i:i + step])
            cols = _format_values(block, precision)
            if newline is None or len(newline) != len(block):
                newline = pa.array(["\n"] * len(block))
            w = strings(words[i:i + step])
            lines = pc.binary_join_element_wise(w, *cols, " ")
            lines = pc.binary_join_element_wise(lines, newline, "")
            buffers = lines.buffers()
            offsets = np.frombuffer(buffers[1], dtype=np.int32, count=len(lines) + 1,
                                    offset=lines.offset * 4)
            fh.write(memoryview(buffers[2])[offsets[0]:offsets[-1]])
            bar.update(len(block))
    return path


def read_glove(source: Source, *, options: ReadOptions) -> Vectors:
    """GloVe text (no header): the registry's reader of ``glove``."""
    return read_text(source, header=False, options=options, format_name="glove")


def read_word2vec(source: Source, *, options: ReadOptions) -> Vectors:
    """word2vec / fastText ``.vec`` text (a header): the registry's reader of ``word2vec``."""
    return read_text(source, header=True, options=options, format_name="word2vec")


def write_glove(vectors: Vectors, path: Path, **kw: Any) -> Path:
    """:func:`write_text` without a header: the registry's writer of ``glove``."""
    return write_text(vectors, path, header=False, **kw)


def write_word2vec(vectors: Vectors, path: Path, **kw: Any) -> Path:
    """:func:`write_text` with a header: the registry's writer of ``word2vec``."""
    return write_text(vectors, path, header=True, **kw)
