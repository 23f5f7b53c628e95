"""``wordvecs.load``: one call for every source a user names."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from wordvecs.errors import FormatError, SourceError
from wordvecs.formats import FORMATS, FormatSpec, VectorFormat, canonical_format, spec_of
from wordvecs.formats.detect import detect
from wordvecs.formats.store import is_store, read_store
from wordvecs.formats.text import ReadOptions
from wordvecs.sources import open_source
from wordvecs.vectors import Vectors

__all__ = ["load", "normalize_vocab"]


def normalize_vocab(vocab: Iterable[str] | Mapping[str, object] | None) -> frozenset[str] | None:
    """A set, list or dict (its keys) of words as a frozenset; a lone string is refused."""
    if vocab is None:
        return None
    if isinstance(vocab, str | bytes):
        raise TypeError("vocab must be a collection of words, not a single string")
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
    return _pick(fmt, detected, head, src.name).read(src, options)


def _pick(fmt: VectorFormat, detected: VectorFormat | None, head: bytes,
          name: str) -> FormatSpec:
    """The registry entry that reads a file asked for as ``fmt`` whose bytes look ``detected``.

    A model (fastText ``.bin``, floret) is read as what its bytes say, and only when asked for
    as ``auto`` or a model; ``auto`` is what was detected; otherwise what was asked, unless rows
    follow and the bytes are of the other family (text asked for binary bytes, or the reverse).
    """
    asked = None if fmt is VectorFormat.AUTO else spec_of(fmt)
    found = None if detected is None else FORMATS[detected]
    if found is not None and found.family == "model":
        if asked is None or asked.family == "model":
            return found
        raise FormatError(name, f"format={fmt.value!r} was asked, but the bytes are a "
                          f"{found.name.value} model; pass format='auto' or "
                          f"{found.name.value!r}")
    if asked is None:
        assert found is not None  # detect() raised for an unknown format with auto
        return found
    if asked.family == "model":
        raise FormatError(name, f"format={fmt.value!r} was asked, but the bytes are not one",
                          expected=asked.signature, found=repr(head[:16]))
    second = head.split(b"\n", 1)[1:2]
    rows_follow = bool(second and second[0].strip())
    if found is not None and rows_follow and found.family != asked.family:
        raise FormatError(name, f"format={fmt.value!r} was asked, but the bytes look like "
                          f"{found.name.value}; pass format='auto' or {found.name.value!r}")
    return asked


def _restrict(vectors: Vectors, options: ReadOptions) -> Vectors:
    """Apply ``limit`` and ``vocab`` to vectors that are already open (a store, a package)."""
    if options.limit is not None and options.limit < len(vectors):
        vectors = vectors.head(options.limit)
    if options.vocab is not None:
        vectors = vectors.subset(options.vocab)
    return vectors
