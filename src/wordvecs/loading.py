"""``wordvecs.load``: one call for every source a user names.

A file, an archive member or a store is read by :mod:`wordvecs.reading`; a set name (a source
that is no path) is opened by :mod:`wordvecs.sets.opener`, the one call from here up the layers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from wordvecs.formats import VectorFormat, canonical_format
from wordvecs.formats.text import ReadOptions
from wordvecs.reading import normalize_vocab, read_source, restrict
from wordvecs.vectors import Vectors

__all__ = ["load", "normalize_vocab"]


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
    if not isinstance(source, Vectors):
        text = os.fspath(source)
        path = Path(text)
        if (fmt is not VectorFormat.STORE and not path.exists() and "#" not in text
                and os.sep not in text):  # a name (a store is a path that exists)
            from wordvecs.sets.opener import resolve

            named = resolve(text, progress=progress, verify=verify)
            if named is not None:
                return restrict(named, options)
    return read_source(source, fmt, options, verify=verify)
