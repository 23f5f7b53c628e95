"""The vector formats wordvecs reads and writes, as a registry of readers and writers.

=================  ===============================================================  ======  =====
name               what it is                                                       read    write
=================  ===============================================================  ======  =====
``glove``          text, no header: ``word v1 ... vD`` per line                     yes     yes
``word2vec``       text with a ``count dim`` header (word2vec ``-binary 0``, .vec)  yes     yes
``word2vec-binary`` ``count dim`` header, then ``word<space><D float32 LE>[\\n]``    yes     yes
``store``          a folder: ``vectors.npy`` + ``words.arrow`` + ``meta.json``      yes     yes
=================  ===============================================================  ======  =====

``fasttext-bin`` (read only): a fastText ``.bin``/``.ftz`` model or a floret ``.bin``, with its
subword table (``formats/fasttext.py``); ``floret`` (read only): floret's ``.floret`` text table.

``fasttext`` (.vec) is an alias of ``word2vec``; ``auto`` sniffs the bytes.

Writing picks the format from the file name when none is named (:func:`write_format`): ``.txt``
GloVe, ``.vec`` word2vec text, ``.bin`` word2vec binary, ``.wv`` (or any other name) a store; a
name that contradicts the format asked for is refused, as is a compressed name (nothing is
written compressed).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wordvecs.errors import UsageError

if TYPE_CHECKING:
    from wordvecs.vectors import Vectors

__all__ = ["FORMATS", "VectorFormat", "canonical_format", "write_format", "writer_for"]


class VectorFormat(str, Enum):
    """Format names; plain strings are accepted wherever a format is."""

    AUTO = "auto"
    GLOVE = "glove"
    WORD2VEC = "word2vec"
    WORD2VEC_BINARY = "word2vec-binary"
    STORE = "store"
    FASTTEXT_BIN = "fasttext-bin"
    FLORET = "floret"


_ALIASES = {
    "fasttext": "word2vec",
    "vec": "word2vec",
    "word2vec-text": "word2vec",
    "text": "glove",
    "txt": "glove",
    "bin": "word2vec-binary",
    "binary": "word2vec-binary",
    "word2vec_binary": "word2vec-binary",
    "ftz": "fasttext-bin",
    "fasttext_bin": "fasttext-bin",
}


def canonical_format(name: str | VectorFormat) -> VectorFormat:
    """Map a user's format name (or alias) to a :class:`VectorFormat`, or raise ``ValueError``."""
    text = name.value if isinstance(name, VectorFormat) else str(name).lower()
    text = _ALIASES.get(text, text)
    try:
        return VectorFormat(text)
    except ValueError:
        names = ", ".join(f.value for f in VectorFormat)
        raise UsageError(f"unknown format {name!r}; expected one of: {names}") from None


@dataclass(frozen=True)
class FormatSpec:
    """How one on-disk layout is written."""

    name: VectorFormat
    write: Callable[..., Path]
    description: str


def _write_text(header: bool) -> Callable[..., Path]:
    def write(vectors: Vectors, path: Path, **kw: Any) -> Path:
        from wordvecs.formats.text import write_text

        return write_text(vectors, path, header=header, **kw)

    return write


def _write_binary(vectors: Vectors, path: Path, **kw: Any) -> Path:
    from wordvecs.formats.binary import write_binary

    return write_binary(vectors, path, **kw)


def _write_store(vectors: Vectors, path: Path, **kw: Any) -> Path:
    from wordvecs.formats.store import write_store

    kw.pop("precision", None)
    return write_store(vectors, path, **kw)


FORMATS: dict[VectorFormat, FormatSpec] = {
    VectorFormat.GLOVE: FormatSpec(VectorFormat.GLOVE, _write_text(False), "GloVe text, no header"),
    VectorFormat.WORD2VEC: FormatSpec(VectorFormat.WORD2VEC, _write_text(True),
                                      "word2vec / fastText text with a 'count dim' header"),
    VectorFormat.WORD2VEC_BINARY: FormatSpec(VectorFormat.WORD2VEC_BINARY, _write_binary,
                                             "word2vec binary"),
    VectorFormat.STORE: FormatSpec(VectorFormat.STORE, _write_store,
                                   "wordvecs store (memory-mapped)"),
}


_BY_SUFFIX = {
    ".txt": VectorFormat.GLOVE,
    ".vec": VectorFormat.WORD2VEC,
    ".bin": VectorFormat.WORD2VEC_BINARY,
    ".wv": VectorFormat.STORE,
}
_TEXT = (VectorFormat.GLOVE, VectorFormat.WORD2VEC)
_ALLOWED = {".txt": _TEXT, ".vec": _TEXT, ".bin": (VectorFormat.WORD2VEC_BINARY,),
            ".wv": (VectorFormat.STORE,)}
_COMPRESSED = (".gz", ".bz2", ".xz", ".zip", ".zst")


def write_format(path: str | os.PathLike[str], name: str | VectorFormat | None = None
                 ) -> VectorFormat:
    """The format to write ``path`` in: ``name``, or the one its extension names.

    :class:`~wordvecs.errors.UnwritableError` when the extension contradicts ``name`` (a store
    named ``x.txt``, text named ``x.bin``) or names a compression wordvecs does not write.
    """
    from wordvecs.errors import UnwritableError

    suffix = Path(path).suffix.lower()
    if suffix in _COMPRESSED:
        raise UnwritableError(f"{path}: wordvecs writes no compressed files; drop the "
                              f"{suffix!r} and compress the file afterwards")
    if name is None or (isinstance(name, str) and name.lower() == "auto"):
        return _BY_SUFFIX.get(suffix, VectorFormat.STORE)
    fmt = canonical_format(name)
    if fmt is VectorFormat.AUTO:
        return _BY_SUFFIX.get(suffix, VectorFormat.STORE)
    if fmt not in FORMATS:
        writable = ", ".join(f.value for f in FORMATS)
        raise UnwritableError(f"cannot write format {fmt.value!r} (wordvecs reads it, but writes "
                              f"only {writable}); save the vectors as a store to keep subwords")
    allowed = _ALLOWED.get(suffix)
    if allowed is not None and fmt not in allowed:
        raise UnwritableError(f"{path}: the name ends in {suffix!r}, which reads as "
                              f"{_BY_SUFFIX[suffix].value}, but format={fmt.value!r} was asked; "
                              f"rename it (e.g. {Path(path).stem + _suffix_of(fmt)!r}) or drop "
                              "format=")
    return fmt


def _suffix_of(fmt: VectorFormat) -> str:
    return next(s for s, f in _BY_SUFFIX.items() if f is fmt)


def writer_for(name: str | VectorFormat) -> Callable[..., Path]:
    """The writer function of a format name."""
    fmt = canonical_format(name)
    if fmt is VectorFormat.AUTO or fmt not in FORMATS:
        raise UsageError(f"cannot write format {fmt.value!r}; name one: glove, word2vec, "
                         "word2vec-binary, store")
    return FORMATS[fmt].write
