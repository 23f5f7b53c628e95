"""Reading vectors from what is on this machine: a file, an archive member, a store.

:func:`read_source` is :func:`wordvecs.load` without set names: it never looks in the catalog,
the cache or the network, so the code that fills the cache (:mod:`wordvecs.sets.opener`) can
read the file it fetched without depending on the code that resolves names
(:mod:`wordvecs.loading`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from wordvecs.errors import ArgumentTypeError, FormatError, SourceError
from wordvecs.formats import FORMATS, FormatSpec, VectorFormat, spec_of
from wordvecs.formats.detect import detect
from wordvecs.formats.store import is_store, read_store
from wordvecs.formats.text import ReadOptions
from wordvecs.sources import open_source
from wordvecs.vectors import Vectors

__all__ = ["normalize_vocab", "read_source", "restrict"]


def normalize_vocab(vocab: Iterable[str] | Mapping[str, object] | None) -> frozenset[str] | None:
    """A set, list or dict (its keys) of words as a frozenset; a lone string is refused."""
    if vocab is None:
        return None
    if isinstance(vocab, str | bytes):
        raise ArgumentTypeError("vocab must be a collection of words, not a single string")
    return frozenset(vocab.keys() if isinstance(vocab, Mapping) else vocab)


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


def restrict(vectors: Vectors, options: ReadOptions) -> Vectors:
    """Apply ``limit`` and ``vocab`` to vectors that are already open (a store, a package)."""
    if options.limit is not None and options.limit < len(vectors):
        vectors = vectors.head(options.limit)
    if options.vocab is not None:
        vectors = vectors.subset(options.vocab)
    return vectors
