"""``wordvecs.load``: one call for every source a user names."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from wordvecs.errors import ArgumentTypeError, SourceError
from wordvecs.formats import VectorFormat, canonical_format
from wordvecs.formats.binary import read_binary
from wordvecs.formats.detect import detect
from wordvecs.formats.store import is_store, read_store
from wordvecs.formats.text import ReadOptions, read_text
from wordvecs.sources import open_source
from wordvecs.vectors import Vectors

__all__ = ["load", "normalize_vocab"]


def normalize_vocab(vocab: Iterable[str] | Mapping[str, object] | None) -> frozenset[str] | None:
    """A set, list or dict (its keys) of words as a frozenset; a lone string is refused."""
    if vocab is None:
        return None
    if isinstance(vocab, str | bytes):
        raise ArgumentTypeError("vocab must be a collection of words, not a single string")
    return frozenset(vocab.keys() if isinstance(vocab, Mapping) else vocab)


def load(
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
    """Load word vectors from a file, an archive member, a store, or a named set.

    Args:
        source: a path (plain, ``.gz``, ``.bz2``, ``.xz``), ``archive.zip#member``, a store
            folder written by :meth:`Vectors.save`, or a set name such as ``"glove-6b-50d"``.
        vocab: keep only these words (a set, list, or a dict's keys); a text or binary file is
            streamed, so memory grows with the words kept, not with the file.
        format: ``"auto"`` (sniffed from the bytes), ``"glove"``, ``"word2vec"`` (also
            ``"fasttext"``), ``"word2vec-binary"`` or ``"store"``.
        limit: read only the first ``limit`` vectors of the file (as gensim's ``limit``).
        encoding: of the words.
        errors: words with bytes that are not ``encoding``: ``"strict"`` raises, ``"replace"``
            replaces them with U+FFFD, ``"skip"`` leaves the line out; both count and warn.
        on_bad_line: a row with the wrong number of values or a value that is not a number:
            ``"error"`` raises, ``"skip"`` leaves it out, counts, and warns.
        progress: show a progress bar (default: on a terminal, for inputs of more than 8 MB).
        verify: for a store, check the sha256 of every file (reads all of it).

    Raises:
        SourceError: the source does not exist, is a directory, or an archive member is unnamed.
        FormatError: the bytes are not what the format expects (names file, line or offset).
        StoreError: a damaged store, or one of another format version.
    """
    options = ReadOptions(vocab=normalize_vocab(vocab), limit=limit, encoding=encoding,
                          errors=errors, on_bad_line=on_bad_line, progress=progress)
    fmt = canonical_format(format)
    if isinstance(source, Vectors):
        return _restrict(source, options)
    text = os.fspath(source)
    path = Path(text)
    if is_store(path):
        return _restrict(read_store(path, verify=verify), options)
    if fmt is VectorFormat.STORE:
        raise SourceError(f"{path}: not a wordvecs store (no folder with meta.json)")
    if not path.exists() and "#" not in text and os.sep not in text:
        from wordvecs.sets.catalog import resolve

        named = resolve(text, progress=progress, verify=verify)
        if named is not None:
            return _restrict(named, options)
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


def _restrict(vectors: Vectors, options: ReadOptions) -> Vectors:
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
