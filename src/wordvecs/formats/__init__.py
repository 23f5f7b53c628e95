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

Each format is one :class:`FormatSpec` in :data:`FORMATS`: its reader, its sniffer, its writer, its
file suffix and its aliases. ``load`` and ``detect`` loop over the entries, so a new format is a
new entry (and its :class:`VectorFormat` name), not a new branch in five places.

Writing picks the format from the file name when none is named (:func:`write_format`): ``.txt``
GloVe, ``.vec`` word2vec text, ``.bin`` word2vec binary, ``.wv`` (or any other name) a store; a
name that contradicts the format asked for is refused, as is a compressed name (nothing is
written compressed).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wordvecs.errors import UsageError

if TYPE_CHECKING:
    from wordvecs.formats.text import ReadOptions
    from wordvecs.sources import Source
    from wordvecs.vectors import Vectors

__all__ = ["FORMATS", "SNIFF_ORDER", "FormatSpec", "VectorFormat", "canonical_format", "spec_of",
           "write_format", "writer_for"]


class VectorFormat(str, Enum):
    """Format names; plain strings are accepted wherever a format is."""

    AUTO = "auto"
    GLOVE = "glove"
    WORD2VEC = "word2vec"
    WORD2VEC_BINARY = "word2vec-binary"
    STORE = "store"
    FASTTEXT_BIN = "fasttext-bin"
    FLORET = "floret"


@dataclass(frozen=True)
class FormatSpec:
    """One on-disk layout: how its bytes are recognised, read and written, all in one entry.

    ``reader``, ``writer`` and ``sniffer`` name functions as ``"module:function"``, imported on
    first use (so ``import wordvecs`` reads no format module); None where the layout is not read
    from a byte stream (the store is a folder) or not written (a fastText model). ``family``
    groups layouts whose bytes look alike: a ``"model"`` (fastText ``.bin``, floret) is always
    read as what its bytes say; a file asked for as ``"text"`` whose bytes are ``"binary"``, or
    the other way round, is refused. Sniffers run in ``rank`` order, the most specific first.
    """

    name: VectorFormat
    description: str
    family: str  # text | binary | model | store
    reader: str | None = None  # (source, *, options) -> Vectors
    writer: str | None = None  # (vectors, path, *, overwrite, precision, progress) -> Path
    sniffer: str | None = None  # (head bytes) -> bool
    rank: int = 100
    suffix: str | None = None  # the file name that writes (and names) this format
    aliases: tuple[str, ...] = ()
    signature: str = ""  # what its bytes start with (for an error that asked for it)

    def read(self, source: Source, options: ReadOptions) -> Vectors:
        """Read ``source`` as this format."""
        if self.reader is None:
            raise UsageError(f"format {self.name.value!r} is not read from a byte stream")
        result: Vectors = _function(self.reader)(source, options=options)
        return result

    def sniff(self, head: bytes) -> bool:
        """True when the first bytes of a file look like this format."""
        return self.sniffer is not None and bool(_function(self.sniffer)(head))

    def write(self, vectors: Vectors, path: Path, **kw: Any) -> Path:
        """Write ``vectors`` to ``path`` in this format."""
        if self.writer is None:
            raise UsageError(f"cannot write format {self.name.value!r}")
        result: Path = _function(self.writer)(vectors, path, **kw)
        return result


def _function(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


_F = "wordvecs.formats."
FORMATS: dict[VectorFormat, FormatSpec] = {spec.name: spec for spec in (
    FormatSpec(VectorFormat.GLOVE, "GloVe text, no header", "text",
               reader=_F + "text:read_glove", writer=_F + "text:write_glove",
               sniffer=_F + "detect:looks_like_glove", rank=50, suffix=".txt",
               aliases=("text", "txt")),
    FormatSpec(VectorFormat.WORD2VEC, "word2vec / fastText text with a 'count dim' header",
               "text", reader=_F + "text:read_word2vec", writer=_F + "text:write_word2vec",
               sniffer=_F + "detect:looks_like_word2vec_text", rank=30, suffix=".vec",
               aliases=("fasttext", "vec", "word2vec-text")),
    FormatSpec(VectorFormat.WORD2VEC_BINARY, "word2vec binary", "binary",
               reader=_F + "binary:read_binary", writer=_F + "binary:write_binary",
               sniffer=_F + "detect:looks_like_word2vec_binary", rank=40, suffix=".bin",
               aliases=("bin", "binary", "word2vec_binary")),
    FormatSpec(VectorFormat.STORE, "wordvecs store (memory-mapped)", "store",
               writer=_F + "store:save_store", suffix=".wv"),
    FormatSpec(VectorFormat.FASTTEXT_BIN, "fastText .bin/.ftz model or floret .bin, with "
               "subwords", "model", reader=_F + "fasttext:read_fasttext",
               sniffer=_F + "detect:looks_like_fasttext", rank=10,
               aliases=("ftz", "fasttext_bin"), signature="the fastText magic number 793712314"),
    FormatSpec(VectorFormat.FLORET, "floret's .floret text table", "model",
               reader=_F + "fasttext:read_floret_text", sniffer=_F + "detect:looks_like_floret",
               rank=20, signature="a floret header"),
)}

_ALIASES = {alias: spec.name.value for spec in FORMATS.values() for alias in spec.aliases}
#: Sniffers in the order they are tried.
SNIFF_ORDER: tuple[FormatSpec, ...] = tuple(
    sorted((s for s in FORMATS.values() if s.sniffer is not None), key=lambda s: s.rank))


def canonical_format(name: str | VectorFormat) -> VectorFormat:
    """Map a user's format name (or alias) to a :class:`VectorFormat`, or raise ``ValueError``."""
    text = name.value if isinstance(name, VectorFormat) else str(name).lower()
    text = _ALIASES.get(text, text)
    try:
        return VectorFormat(text)
    except ValueError:
        names = ", ".join(f.value for f in VectorFormat)
        raise UsageError(f"unknown format {name!r}; expected one of: {names}") from None


def spec_of(name: str | VectorFormat) -> FormatSpec:
    """The registry entry of a format name (or alias); ``ValueError`` for ``auto`` or none."""
    fmt = canonical_format(name)
    if fmt is VectorFormat.AUTO:
        raise UsageError("format 'auto' is no format of its own: it sniffs the bytes")
    return FORMATS[fmt]


_WRITABLE = tuple(f for f, spec in FORMATS.items() if spec.writer is not None)
_BY_SUFFIX = {spec.suffix: f for f, spec in FORMATS.items() if spec.suffix is not None}
_ALLOWED = {suffix: tuple(f for f in _WRITABLE if FORMATS[f].family == FORMATS[fmt].family)
            for suffix, fmt in _BY_SUFFIX.items()}
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
    if fmt not in _WRITABLE:
        writable = ", ".join(f.value for f in _WRITABLE)
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
    return FORMATS[fmt].suffix or ""


def writer_for(name: str | VectorFormat) -> Callable[..., Path]:
    """The writer function of a format name."""
    fmt = canonical_format(name)
    if fmt is VectorFormat.AUTO or fmt not in _WRITABLE:
        raise UsageError(f"cannot write format {fmt.value!r}; name one: "
                         f"{', '.join(f.value for f in _WRITABLE)}")
    return FORMATS[fmt].write
