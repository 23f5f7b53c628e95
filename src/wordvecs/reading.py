"""Reading vectors from what is on this machine: a file, an archive member, a store.

:func:`read` is :func:`wordvecs.load` without set names: it never looks in the catalog, the cache
or the network, so the code that fills the cache (:mod:`wordvecs.sets.opener`) can read the file it
fetched without depending on the code that resolves names (:mod:`wordvecs.loading`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from wordvecs.errors import SourceError
from wordvecs.formats import VectorFormat, canonical_format
from wordvecs.formats.binary import read_binary
from wordvecs.formats.detect import detect
from wordvecs.formats.store import is_store, read_store
from wordvecs.formats.text import ReadOptions, read_text
from wordvecs.sources import open_source
from wordvecs.vectors import Vectors

__all__ = ["normalize_vocab", "read", "read_source", "restrict"]


def normalize_vocab(vocab: Iterable[str] | Mapping[str, object] | None) -> frozenset[str] | None:
    """A set, list or dict (its keys) of words as a frozenset; a lone string is refused."""
    if vocab is None:
        return None
    if isinstance(vocab, str | bytes):
        raise TypeError("vocab must be a collection of words, not a single string")
    return frozenset(vocab.keys() if isinstance(vocab, Mapping) else vocab)


def read(
    source: str | os.PathLike[str] | Vectors,
    *,
    vocab: Iterable[str] | Mapping[str, object] | None = None,
    format: str | VectorFormat = "auto",
    limit: int | None = None,
    encoding: str = "utf-8",
    errors: str = "strict",
    on_bad_line: str = "error",
    progress: bool | None = None,
    verify: bool = False,
) -> Vectors:
    """:func:`wordvecs.load` for a file, an archive member or a store, never a set name (the
    arguments are :func:`~wordvecs.load`'s)."""
    options = ReadOptions(vocab=normalize_vocab(vocab), limit=limit, encoding=encoding,
                          errors=errors, on_bad_line=on_bad_line, progress=progress)
    return read_source(source, canonical_format(format), options, verify=verify)


def read_source(source: str | os.PathLike[str] | Vectors, fmt: VectorFormat,
                options: ReadOptions, *, verify: bool = False) -> Vectors:
    """Read ``source`` (not a set name) with options already checked."""
    if isinstance(source, Vectors):
        return restrict(source, options)
    text = os.fspath(source)
    path = Path(text)
    if is_store(path):
        return restrict(read_store(path, verify=verify), options)
    if fmt is VectorFormat.STORE:
        raise SourceError(f"{path}: not a wordvecs store (no folder with meta.json)")
    if path.is_dir():
        raise SourceError(f"{path}: is a directory, not a vectors file or a wordvecs store "
                          "(a store holds meta.json)")
    src = open_source(text)
    detected, head = detect(src, required=fmt is VectorFormat.AUTO)
    if fmt in (VectorFormat.AUTO, VectorFormat.FASTTEXT_BIN, VectorFormat.FLORET) and detected in (
            VectorFormat.FASTTEXT_BIN, VectorFormat.FLORET):
        from wordvecs.formats.fasttext import read_fasttext, read_floret_text

        reader = read_fasttext if detected is VectorFormat.FASTTEXT_BIN else read_floret_text
        return reader(src, options=options)
    if detected in (VectorFormat.FASTTEXT_BIN, VectorFormat.FLORET):
        from wordvecs.errors import FormatError

        assert detected is not None
        raise FormatError(src.name, f"format={fmt.value!r} was asked, but the bytes are a "
                          f"{detected.value} model; pass format='auto' or {detected.value!r}")
    if fmt in (VectorFormat.FASTTEXT_BIN, VectorFormat.FLORET):
        from wordvecs.errors import FormatError

        raise FormatError(src.name, f"format={fmt.value!r} was asked, but the bytes are not one",
                          expected="the fastText magic number 793712314" if fmt is
                          VectorFormat.FASTTEXT_BIN else "a floret header", found=repr(head[:16]))
    rows_follow = bool(head.split(b"\n", 1)[1:2] and head.split(b"\n", 1)[1].strip())
    if fmt is VectorFormat.AUTO:
        assert detected is not None
        fmt = detected
    elif detected is not None and rows_follow and ((fmt is VectorFormat.WORD2VEC_BINARY)
                          != (detected is VectorFormat.WORD2VEC_BINARY)):
        from wordvecs.errors import FormatError

        raise FormatError(src.name, f"format={fmt.value!r} was asked, but the bytes look like "
                          f"{detected.value}; pass format='auto' or {detected.value!r}")
    if fmt is VectorFormat.WORD2VEC_BINARY:
        return read_binary(src, options=options)
    return read_text(src, header=fmt is VectorFormat.WORD2VEC, options=options,
                     format_name=fmt.value)




def restrict(vectors: Vectors, options: ReadOptions) -> Vectors:
    """Apply ``limit`` and ``vocab`` to vectors that are already open (a store, a package)."""
    if options.limit is not None and options.limit < len(vectors):
        n = options.limit
        words = vectors._arrow.slice(0, n) if vectors._arrow is not None else vectors.words[:n]
        rows = vectors._raw[:n] if vectors._lazy is not None else None  # lazy rows stay lazy
        vectors = Vectors(words, rows, source=vectors.source, format=vectors.format,
                          subwords=vectors.subwords)
    if options.vocab is not None:
        vectors = vectors.subset(options.vocab)
    return vectors
