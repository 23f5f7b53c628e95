"""fastText ``.bin``/``.ftz`` models and floret ``.bin``/``.floret`` tables, with their subwords.

A fastText model file (``FastText::saveModel``), all little-endian::

    int32 magic 793712314, int32 version (11 or 12)
    Args      12 x int32 (dim ws epoch minCount neg wordNgrams loss model bucket minn maxn
              lrUpdateRate) + float64 t; floret inserts int32 mode and int32 hashCount after maxn
    Dictionary int32 size, int32 nwords, int32 nlabels, int64 ntokens, int64 pruneidx_size;
              size x (word bytes, NUL, int64 count, int8 type); pruneidx_size x (int32, int32)
    bool quant; the input matrix: dense (int64 m, int64 n, m*n float32) or product-quantized
    bool qout; the output matrix (never read: only its header, to check the file's length)

The input matrix holds a row per dictionary word, then ``bucket`` rows of hashed n-grams (a
pruned ``.ftz`` keeps fewer, through its prune index). A plain file's dense table is memory-mapped
at its offset; a compressed one is read in chunks (nothing is allocated from a header count beyond
what the file holds). The vectors' rows (``get_word_vector`` of each word, as fastText's ``.vec``)
are computed on first use, by :class:`~wordvecs.subwords.FastTextSubwords`.
"""

from __future__ import annotations

import math
import struct
from typing import BinaryIO

import numpy as np

from wordvecs.errors import FormatError
from wordvecs.formats.detect import FASTTEXT_MAGIC as MAGIC
from wordvecs.formats.detect import looks_like_fasttext, looks_like_floret
from wordvecs.formats.subword_store import open_subwords, save_subwords
from wordvecs.formats.text import ReadOptions
from wordvecs.sources import Source
from wordvecs.subwords import FastTextSubwords, SubwordParams
from wordvecs.vectors import Vectors

__all__ = [
    "MAGIC",
    "FastTextHeader",
    "looks_like_fasttext",
    "looks_like_floret",
    "open_subwords",
    "read_fasttext",
    "read_floret_text",
    "read_model",
    "save_subwords",
]

VERSIONS = (11, 12)
MAX_DIM = 1 << 20
MAX_NGRAM = 1 << 10
MAX_WORD_BYTES = 1 << 20
CHUNK = 1 << 24
_ARGS = struct.Struct("<12id")
_FLORET_ARGS = struct.Struct("<14id")
_DICT = struct.Struct("<iiiqq")
_ENTRY = struct.Struct("<qb")
_LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
_MODELS = {1: "cbow", 2: "skipgram", 3: "supervised"}


class FastTextHeader:
    """The parsed ``Args`` of a model: the fields that matter here, by fastText's names."""

    def __init__(self, fields: dict[str, int | float], floret: bool, version: int) -> None:
        self.fields = fields
        self.floret = floret
        self.version = version

    def __getattr__(self, name: str) -> int:
        try:
            return int(self.fields[name])
        except KeyError:
            raise AttributeError(name) from None

    @property
    def model(self) -> str:  # type: ignore[override]
        """cbow, skipgram or supervised."""
        return _MODELS[int(self.fields["model"])]


def _args(data: bytes, floret: bool) -> dict[str, int | float] | None:
    """The Args fields under one layout, or None when they are not consistent with it."""
    names = ["dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model", "bucket",
             "minn", "maxn"] + (["mode", "hashCount"] if floret else []) + ["lrUpdateRate", "t"]
    values = (_FLORET_ARGS if floret else _ARGS).unpack_from(data)
    f: dict[str, int | float] = dict(zip(names, values, strict=True))
    ok = (0 < int(f["dim"]) <= MAX_DIM and int(f["loss"]) in _LOSSES
          and int(f["model"]) in _MODELS and int(f["bucket"]) >= 0
          and 0 <= int(f["minn"]) <= MAX_NGRAM and 0 <= int(f["maxn"]) <= MAX_NGRAM
          and math.isfinite(float(f["t"])))
    if floret:
        ok = ok and int(f["mode"]) in (1, 2) and 1 <= int(f["hashCount"]) <= 4
    size, nwords, nlabels, ntokens, prune = _DICT.unpack_from(data, (_FLORET_ARGS if floret
                                                                      else _ARGS).size)
    ok = (ok and nwords >= 0 and nlabels >= 0 and size == nwords + nlabels and ntokens >= 0
          and prune >= -1)
    return f if ok else None


class _Reader:
    """Exact reads from a byte stream that know their offset and fail with a FormatError."""

    def __init__(self, fh: BinaryIO, name: str, size: int | None) -> None:
        self.fh = fh
        self.name = name
        self.size = size  # decompressed size when known (a plain file)
        self.offset = 0
        self._buf = b""
        self._pos = 0

    def _fill(self, want: int) -> None:
        have = len(self._buf) - self._pos
        if have >= want:
            return
        try:
            more = self.fh.read(max(want - have, 1 << 16))
        except (OSError, EOFError, ValueError) as exc:
            raise FormatError(self.name, "the compressed stream is truncated or damaged",
                              offset=self.offset, found=str(exc)) from None
        self._buf = self._buf[self._pos:] + more
        self._pos = 0

    def read(self, n: int, what: str) -> bytes:
        """Exactly ``n`` bytes (``n`` small), or a FormatError naming the offset and ``what``."""
        self._fill(n)
        data = self._buf[self._pos:self._pos + n]
        if len(data) < n:
            raise FormatError(self.name, "the file ends early", offset=self.offset + len(data),
                              expected=what, found="end of file")
        self._pos += n
        self.offset += n
        return data

    def floats(self, count: int, what: str) -> np.ndarray:
        """``count`` float32 values, read in chunks (allocated only as the bytes arrive)."""
        nbytes = count * 4
        self._check_room(nbytes, what)
        parts = []
        while nbytes:
            parts.append(self.read_big(min(nbytes, CHUNK), what))
            nbytes -= len(parts[-1])
        data = b"".join(parts) if len(parts) != 1 else parts[0]
        return np.frombuffer(data, dtype="<f4").astype(np.float32, copy=False)

    def read_big(self, n: int, what: str) -> bytes:
        rest = self._buf[self._pos:self._pos + n]
        self._pos += len(rest)
        try:
            more = self.fh.read(n - len(rest)) if n > len(rest) else b""
        except (OSError, EOFError, ValueError) as exc:
            raise FormatError(self.name, "the compressed stream is truncated or damaged",
                              offset=self.offset, found=str(exc)) from None
        data = rest + more
        if len(data) < n:
            raise FormatError(self.name, "the file ends early", offset=self.offset + len(data),
                              expected=what, found="end of file")
        self.offset += n
        return data

    def skip(self, n: int, what: str) -> None:
        """Move past ``n`` bytes (a seek on a plain file; read and dropped on a stream)."""
        self._check_room(n, what)
        if self.size is not None:  # a plain file: seek, the bytes in between are never read
            self.offset += n
            self.fh.seek(self.offset)
            self._buf = b""
            self._pos = 0
            return
        while n:
            self.read_big(min(n, CHUNK), what)
            n -= min(n, CHUNK)

    def _check_room(self, n: int, what: str) -> None:
        if self.size is not None and self.offset + n > self.size:
            raise FormatError(self.name, "the file is too short for its header",
                              offset=self.offset,
                              expected=f"{what}: {n:,} bytes", found=f"{self.size - self.offset:,}")

    def int(self, fmt: str, what: str) -> int:
        return int(struct.unpack("<" + fmt, self.read(struct.calcsize(fmt), what))[0])


def _header(r: _Reader) -> FastTextHeader:
    magic = r.int("i", "the fastText magic number 793712314")
    if magic != MAGIC:
        raise FormatError(r.name, offset=0, expected="the fastText magic number 793712314",
                          found=str(magic))
    version = r.int("i", "a format version")
    if version not in VERSIONS:
        raise FormatError(r.name, "unknown fastText format version", offset=4,
                          expected="version 11 or 12", found=str(version))
    r._fill(_FLORET_ARGS.size + _DICT.size)
    body = r._buf[r._pos:r._pos + _FLORET_ARGS.size + _DICT.size]
    if len(body) < _FLORET_ARGS.size + _DICT.size:
        r.read(_FLORET_ARGS.size + _DICT.size, "the model's arguments and dictionary header")
    plain, floret = _args(body, False), _args(body, True)
    fields = plain if plain is not None else floret
    if fields is None:
        raise FormatError(r.name, "inconsistent header", offset=8, expected="fastText or floret "
                          "arguments (dim 1..1048576, known loss and model, minn/maxn 0..1024) "
                          "and a dictionary header (size = nwords + nlabels)",
                          found=repr(body[:_ARGS.size]))
    r.read((_ARGS if plain is not None else _FLORET_ARGS).size, "the model's arguments")
    if version == 11 and int(fields["model"]) == 3:
        fields["maxn"] = 0  # as fastText: old supervised models have no character n-grams
    if int(fields["maxn"]) > 0 and int(fields["bucket"]) <= 0:
        raise FormatError(r.name, offset=8 + 4 * 8, expected="a bucket count > 0 (maxn > 0)",
                          found=str(fields["bucket"]))
    return FastTextHeader(fields, plain is None, version)


def py_scan_entries(buf: bytes, pos: int, first: int, size: int, nwords: int, max_word: int
                    ) -> tuple[bytes, int, int, int, int]:
    """The pure-Python ``scan_entries`` of the compiled kernel (same contract, same results)."""
    words = []
    i = first
    n = len(buf)
    status = found = 0
    while i < size:
        end = buf.find(b"\0", pos, pos + max_word + 1)
        if end < 0:
            status = 3 if n - pos > max_word else 1
            break
        if end + 10 > n:
            status = 1
            break
        kind = struct.unpack_from("<b", buf, end + 9)[0]
        if kind != (0 if i < nwords else 1):
            status, found, pos = 2, kind, end + 9
            break
        words.append(buf[pos:end])
        pos = end + 10
        i += 1
    return b"\0".join(words), i - first, pos, status, found


def _entries(r: _Reader, size: int, nwords: int) -> list[str]:
    """The dictionary's ``size`` words (labels after ``nwords``), their exact bytes kept: a word
    that is not UTF-8 is decoded with ``surrogateescape`` (and encoded back so for hashing)."""
    from wordvecs.subwords import compiled_kernel

    kernel = compiled_kernel()
    scan = kernel.scan_entries if kernel is not None else py_scan_entries
    entries: list[str] = []
    r._fill(1 << 22)
    while len(entries) < size:
        i = len(entries)
        words, parsed, pos, status, found = scan(r._buf, r._pos, i, size, nwords,
                                                 MAX_WORD_BYTES)
        if parsed:
            entries.extend(words.decode("utf-8", "surrogateescape").split("\0"))
        r.offset += pos - r._pos
        r._pos = pos
        if status == 2:
            raise FormatError(r.name, f"dictionary entry {len(entries)}", offset=r.offset,
                              expected="type 0 (word)" if len(entries) < nwords
                              else "type 1 (label)", found=f"type {found}")
        if status == 3:
            raise FormatError(r.name, f"dictionary entry {len(entries)}", offset=r.offset,
                              expected=f"a NUL-terminated word of at most {MAX_WORD_BYTES:,} "
                              "bytes", found="no NUL")
        if status == 1:
            have = len(r._buf) - r._pos
            r._fill(have + (1 << 22))
            if len(r._buf) - r._pos == have:
                raise FormatError(r.name, "the file ends early", offset=r.offset + have,
                                  expected=f"dictionary entry {len(entries)}: a NUL-terminated "
                                  "word, an int64 count and an int8 type", found="end of file")
    return entries


def _dictionary(r: _Reader, h: FastTextHeader) -> tuple[list[str], int, int, np.ndarray | None]:
    start = r.offset
    size, nwords, _nlabels, _ntokens, prune_size = _DICT.unpack(r.read(_DICT.size, "a dictionary"))
    if r.size is not None and size * 10 > r.size - r.offset:
        raise FormatError(r.name, "the dictionary cannot fit in the file", offset=start,
                          expected=f"room for {size:,} entries of at least 10 bytes",
                          found=f"{r.size - r.offset:,} bytes left")
    entries = _entries(r, size, nwords)
    prune = None
    if prune_size > 0:
        at = r.offset
        r._check_room(8 * prune_size, "the prune index")
        pairs = np.frombuffer(r.read_big(8 * prune_size, "the prune index"), dtype="<i4")
        keys, rows = pairs[0::2].astype(np.int64), pairs[1::2].astype(np.int64)
        bucket = h.bucket
        bad = (keys < 0) | (keys >= bucket) | (rows < 0) | (rows >= prune_size)
        if bad.any() or len(np.unique(keys)) != prune_size or len(np.unique(rows)) != prune_size:
            k = int(np.argmax(bad)) if bad.any() else 0
            raise FormatError(r.name, "inconsistent prune index", offset=at + 8 * k,
                              expected=f"{prune_size:,} distinct buckets in [0, {bucket:,}) "
                              f"mapped to distinct rows in [0, {prune_size:,})",
                              found=f"pair ({int(keys[k])}, {int(rows[k])})" if bad.any()
                              else "a repeated bucket or row")
        prune = np.full(bucket, -1, dtype=np.int32)
        prune[keys] = rows.astype(np.int32)
    elif prune_size == 0:
        prune = np.zeros(0, dtype=np.int32)
    return entries, nwords, prune_size, prune


def _quantized(r: _Reader, dim: int, rows: int) -> np.ndarray:
    """Decode a QuantMatrix to the dense rows fastText adds (``norm * centroid``, float32)."""
    at = r.offset
    qnorm = r.read(1, "the qnorm flag")[0]
    m, n = r.int("q", "rows"), r.int("q", "columns")
    codesize = r.int("i", "the code size")
    if m != rows or n != dim or qnorm > 1:
        raise FormatError(r.name, "inconsistent quantized input matrix", offset=at,
                          expected=f"{rows:,} x {dim} rows", found=f"{m:,} x {n}")
    r._check_room(codesize, "the codes")
    codes = np.frombuffer(r.read_big(codesize, "the codes"), dtype=np.uint8)
    pq_at = r.offset
    pdim, nsubq, dsub, lastdsub = (r.int("i", "the quantizer") for _ in range(4))
    if (pdim != dim or dsub <= 0 or nsubq != -(-dim // dsub) or codesize != m * nsubq
            or lastdsub != (dim % dsub or dsub)):
        raise FormatError(r.name, "inconsistent product quantizer", offset=pq_at,
                          expected=f"dim {dim}, {m:,} x nsubq codes",
                          found=f"dim {pdim}, nsubq {nsubq}, dsub {dsub}, lastdsub {lastdsub}, "
                          f"{codesize:,} codes")
    centroids = r.floats(pdim * 256, "the centroids")
    norms = np.ones(m, dtype=np.float32)
    if qnorm:
        norm_codes = np.frombuffer(r.read_big(m, "the norm codes"), dtype=np.uint8)
        npq_at = r.offset
        shape = tuple(r.int("i", "the norm quantizer") for _ in range(4))
        if shape != (1, 1, 1, 1):
            raise FormatError(r.name, "inconsistent norm quantizer", offset=npq_at,
                              expected="(1, 1, 1, 1)", found=str(shape))
        norms = r.floats(256, "the norm centroids")[norm_codes]
    codes = codes.reshape(m, nsubq)
    out = np.empty((m, dim), dtype=np.float32)
    for q in range(nsubq):
        d = lastdsub if q == nsubq - 1 else dsub
        start = q * 256 * dsub
        block = centroids[start:start + 256 * d].reshape(256, d)
        out[:, q * dsub:q * dsub + d] = norms[:, None] * block[codes[:, q]]
    return out


def _skip_matrix(r: _Reader, quantized: bool, what: str) -> None:
    """Move past a matrix without reading its values (its header says how long it is)."""
    at = r.offset
    if not quantized:
        m, n = r.int("q", f"{what} rows"), r.int("q", f"{what} columns")
        if m < 0 or n < 0:
            raise FormatError(r.name, offset=at, expected=f"{what} dimensions",
                              found=f"{m} x {n}")
        r.skip(m * n * 4, what)
        return
    r.read(1, "the qnorm flag")
    m, _n = r.int("q", f"{what} rows"), r.int("q", f"{what} columns")
    codesize = r.int("i", "the code size")
    if m < 0 or codesize < 0:
        raise FormatError(r.name, offset=at, expected=f"{what} dimensions", found=f"{m} rows")
    r.skip(codesize, what)
    pdim = r.int("i", "the quantizer")
    r.skip(12 + 4 * 256 * max(pdim, 0), what)


def read_model(source: Source) -> tuple[FastTextHeader, list[str], int, FastTextSubwords]:
    """Parse a model: its header, dictionary entries, word count and subword model."""
    name = source.name
    size = source.size if source.is_plain else None
    with source.open() as fh:
        r = _Reader(fh, name, size)
        h = _header(r)
        entries, nwords, prune_size, prune = _dictionary(r, h)
        quant_at = r.offset
        quant = r.read(1, "the quant flag")[0]
        if quant > 1:
            raise FormatError(name, offset=quant_at, expected="a quant flag 0 or 1",
                              found=str(quant))
        if not quant and prune_size >= 0:
            raise FormatError(name, "a pruned dictionary needs a quantized matrix",
                              offset=quant_at, expected="quant flag 1", found="0")
        rows = nwords + (h.bucket if prune_size < 0 else prune_size)
        at = r.offset
        if quant:
            table = _quantized(r, h.dim, rows)
        else:
            m, n = r.int("q", "the input matrix rows"), r.int("q", "its columns")
            if m != rows or n != h.dim:
                raise FormatError(name, "inconsistent input matrix", offset=at,
                                  expected=f"{rows:,} x {h.dim} (nwords + bucket rows)",
                                  found=f"{m:,} x {n}")
            if size is not None:
                r._check_room(m * n * 4, "the input matrix")
                table = np.memmap(source.path, dtype="<f4", mode="r", offset=r.offset,
                                  shape=(m, n))
                r.skip(m * n * 4, "the input matrix")
            else:
                table = r.floats(m * n, "the input matrix").reshape(m, n)
        qout_at = r.offset
        qout = r.read(1, "the qout flag")[0]
        if qout > 1 or (qout and not quant):
            raise FormatError(name, offset=qout_at, expected="a qout flag 0, or 1 when quantized",
                              found=str(qout))
        _skip_matrix(r, bool(qout), "the output matrix")
    params = SubwordParams(minn=h.minn, maxn=h.maxn, bucket=h.bucket, nwords=nwords,
                           hash="murmur3" if h.floret and h.mode == 2 else "fnv1a",
                           hash_count=h.hashCount if h.floret else 1, prune_size=prune_size)
    return h, entries, nwords, FastTextSubwords(table, params, entries, prune)


def read_fasttext(source: Source, *, options: ReadOptions) -> Vectors:
    """A fastText/floret ``.bin`` or ``.ftz`` as :class:`Vectors` with subwords: its words (labels
    left out; ``limit`` and ``vocab`` applied), rows computed on first use."""
    h, entries, nwords, sw = read_model(source)
    words = entries[:nwords]
    if options.limit is not None:
        words = words[:options.limit]
    if options.vocab is not None:
        keep = options.vocab
        words = [w for w in words if w in keep]
    fmt = "floret" if h.floret and h.mode == 2 else "fasttext-bin"
    return Vectors(words, None, source=source.name, format=fmt, subwords=sw)


def read_floret_text(source: Source, *, options: ReadOptions) -> Vectors:
    """floret's ``.floret`` text table (``save_floret_vectors``): no vocabulary, only the bucket
    rows; every word's vector comes from its n-grams as floret computes it (``limit`` and
    ``vocab`` do not apply: there are no words)."""
    from wordvecs.formats._kernel import get_kernel

    name = source.name
    with source.open() as fh:
        try:
            data = fh.read()
        except (OSError, EOFError, ValueError) as exc:
            raise FormatError(name, "the compressed stream is truncated or damaged",
                              found=str(exc)) from None
    nl = data.find(b"\n")
    first = data[:nl if nl >= 0 else len(data)]
    fields = first.split()
    if len(fields) != 8 or not all(f.isdigit() for f in fields[:6]):
        raise FormatError(name, line=1, expected="a floret header 'bucket dim minn maxn "
                          "hashCount hashSeed BOW EOW'", found=repr(first[:80]))
    bucket, dim, minn, maxn, hash_count, seed = (int(f) for f in fields[:6])
    if fields[6:] != [b"<", b">"]:
        raise FormatError(name, line=1, expected="BOW '<' and EOW '>'",
                          found=repr(b" ".join(fields[6:])))
    if not (0 < dim <= MAX_DIM and 1 <= hash_count <= 4 and maxn <= MAX_NGRAM
            and seed < 1 << 32 and bucket > 0):
        raise FormatError(name, line=1, detail="absurd header",
                          expected="dim 1..1048576, hashCount 1..4, bucket > 0",
                          found=first.decode("ascii", "replace"))
    body = data[nl + 1:] if nl >= 0 else b""
    kernel = get_kernel()
    ws, we, vs, ve, nfields = kernel.scan_lines(body, dim)
    keep = nfields > 0
    if int(keep.sum()) != bucket or (nfields[keep] != dim + 1).any():
        bad = np.flatnonzero(keep & (nfields != dim + 1))
        line = int(bad[0]) + 2 if len(bad) else len(nfields) + 2
        raise FormatError(name, line=line, expected=f"{bucket:,} rows of an index and {dim} "
                          "values", found=f"{int(keep.sum()):,} rows" if not len(bad)
                          else f"{int(nfields[bad[0]]) - 1} values")
    ws, we, vs, ve = ws[keep], we[keep], vs[keep], ve[keep]
    table = np.empty((bucket, dim), dtype=np.float32)
    bad_row, _nonfinite = kernel.parse_rows(body, vs, ve, table)
    if bad_row >= 0:
        raise FormatError(name, line=int(np.flatnonzero(keep)[bad_row]) + 2,
                          expected=f"{dim} numbers")
    index = [body[s:e] for s, e in zip(ws.tolist(), we.tolist(), strict=True)]
    expect = [str(i).encode() for i in range(bucket)]
    if index != expect:
        k = next(i for i, (a, b) in enumerate(zip(index, expect, strict=True)) if a != b)
        raise FormatError(name, line=int(np.flatnonzero(keep)[k]) + 2,
                          expected=f"row index {k}", found=repr(index[k][:20]))
    params = SubwordParams(minn=minn, maxn=maxn, bucket=bucket, nwords=0, hash="murmur3",
                           hash_count=hash_count, seed=seed)
    sw = FastTextSubwords(table, params, [])
    return Vectors([], np.zeros((0, dim), dtype=np.float32), source=name, format="floret",
                   subwords=sw)
