"""Sniff a source's format from its first bytes."""

from __future__ import annotations

from ..errors import FormatError
from ..sources import Source, read_head
from . import VectorFormat
from .binary import looks_like_text
from .text import parse_header

__all__ = ["sniff", "detect"]

_HEAD_BYTES = 1 << 16


def sniff(head: bytes) -> VectorFormat | None:
    """The format the bytes look like: glove, word2vec (text) or word2vec-binary; None if none."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    nl = head.find(b"\n")
    first = head if nl < 0 else head[:nl]
    hdr = parse_header(first)
    rest = head[nl + 1:] if nl >= 0 else b""
    if hdr is not None and rest:
        _, dim = hdr
        sp = rest.find(b" ")
        sample = rest[sp + 1: sp + 1 + 4 * max(dim, 1)] if sp >= 0 else rest[:64]
        if dim > 0 and sp >= 0 and not looks_like_text(sample[:256]):
            return VectorFormat.WORD2VEC_BINARY
        second = rest.split(b"\n", 1)[0]
        if len(second.split()) != 2:  # a GloVe file of 1-d vectors would have 2 fields
            return VectorFormat.WORD2VEC
    if b"\x00" in head[:4096]:
        return None
    try:
        head[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 4090:  # not just a character cut at the sample's end
            text_like = sum(32 <= c < 127 or c in (9, 10, 13) for c in head[:4096])
            if text_like < 0.7 * min(len(head), 4096):
                return None
    if first.strip() and len(first.split()) >= 2:
        return VectorFormat.GLOVE
    lines = [ln for ln in head.split(b"\n") if ln.strip()]
    if lines and len(lines[0].split()) >= 2:
        return VectorFormat.GLOVE
    return None


def detect(source: Source) -> tuple[VectorFormat, bytes]:
    """``(format, head)`` of a file source; :class:`FormatError` when it is none we read."""
    head = read_head(source, _HEAD_BYTES)
    if not head.strip():
        raise FormatError(source.name, "the file is empty", expected="word vectors")
    fmt = sniff(head)
    if fmt is None:
        raise FormatError(source.name, "not a word vectors file",
                          expected="GloVe or word2vec/fastText text, or word2vec binary",
                          found=repr(head[:32]))
    return fmt, head
