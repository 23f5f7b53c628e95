"""Sniff a source's format from its first bytes."""

from __future__ import annotations

from wordvecs.errors import FormatError
from wordvecs.formats import SNIFF_ORDER, VectorFormat
from wordvecs.formats.text import parse_header
from wordvecs.sources import Source, read_head

__all__ = ["FASTTEXT_MAGIC", "describe_head", "detect", "looks_like_fasttext", "looks_like_floret",
           "looks_like_glove", "looks_like_word2vec_binary", "looks_like_word2vec_text", "sniff"]

_HEAD_BYTES = 1 << 16
#: The first four bytes of a fastText ``.bin``/``.ftz`` model (little-endian int32). The model
#: sniffers live here, not in ``fasttext.py``: telling a GloVe file from a model must not import
#: the model reader.
FASTTEXT_MAGIC = 793712314
_MAGIC_BYTES = FASTTEXT_MAGIC.to_bytes(4, "little")


def sniff(head: bytes) -> VectorFormat | None:
    """The format the bytes look like: the first of the registry's sniffers (in rank order:
    fastText and floret models, word2vec text, word2vec binary, GloVe) that says yes; None if
    none does."""
    for spec in SNIFF_ORDER:
        if spec.sniff(head):
            return spec.name
    return None


def _lines(head: bytes) -> tuple[bytes, bytes, tuple[int, int] | None]:
    """The first line (after a BOM), what follows it, and its word2vec header if it is one."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    first, nl, rest = head.partition(b"\n")
    return first, rest if nl else b"", parse_header(first)


def looks_like_word2vec_text(head: bytes) -> bool:
    """A ``count dim`` header, then nothing (no rows to tell by) or a text row of numbers."""
    _, rest, hdr = _lines(head)
    return hdr is not None and (not rest.strip() or _text_row(rest.split(b"\n", 1)[0], hdr[1]))


def looks_like_word2vec_binary(head: bytes) -> bool:
    """A ``count dim`` header, then a row that is not text: a word, a space, packed floats."""
    _, rest, hdr = _lines(head)
    return (hdr is not None and hdr[1] > 0 and bool(rest.strip())
            and not _text_row(rest.split(b"\n", 1)[0], hdr[1]) and rest.find(b" ") >= 0)


def looks_like_glove(head: bytes) -> bool:
    """Text (no NUL, mostly UTF-8) whose first non-blank line has a word and values."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if b"\x00" in head[:4096]:
        return False
    try:
        head[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 4090:  # not just a character cut at the sample's end
            text_like = sum(32 <= c < 127 or c in (9, 10, 13) for c in head[:4096])
            if text_like < 0.7 * min(len(head), 4096):
                return False
    first = head.partition(b"\n")[0]
    if first.strip() and len(first.split()) >= 2:
        return True
    lines = [ln for ln in head.split(b"\n") if ln.strip()]
    return bool(lines and len(lines[0].split()) >= 2)


def _text_row(line: bytes, dim: int) -> bool:
    """True when ``line`` is text ending in decimal numbers (a row of text vectors): its last
    ``dim`` fields (the last field, if it has fewer) parse as numbers. The word may be in any
    encoding (``encoding=`` is applied later), so only the numbers are looked at."""
    fields = line.split()
    if len(fields) < 2:
        return False
    try:
        for field in fields[-dim:] if 0 < dim < len(fields) else fields[-1:]:
            float(field)
    except ValueError:
        return False
    return True


def detect(source: Source, *, required: bool = True) -> tuple[VectorFormat | None, bytes]:
    """``(format, head)`` of a file source; :class:`FormatError` when it is empty, or (when
    ``required``) when it is no format we read."""
    head = read_head(source, _HEAD_BYTES)
    if not head.strip():
        raise FormatError(source.name, "the file is empty", expected="word vectors")
    fmt = sniff(head)
    if fmt is None and required:
        raise FormatError(source.name, "not a word vectors file",
                          expected="GloVe or word2vec/fastText text, or word2vec binary",
                          found=describe_head(head))
    return fmt, head


def describe_head(head: bytes) -> str:
    """What the start of a file looks like, without quoting it (the file may be anything a user
    points at: an error message must not print its contents)."""
    line = head.split(b"\n", 1)[0]
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return f"binary data ({len(head):,} bytes read; the first line is not UTF-8 text)"
    fields = text.split()
    numbers = 0
    for field in fields:
        try:
            float(field)
            numbers += 1
        except ValueError:
            pass
    return (f"text whose first line has {len(fields):,} field{'' if len(fields) == 1 else 's'}, "
            f"{numbers:,} of them numbers")


def looks_like_fasttext(head: bytes) -> bool:
    """True when ``head`` starts with the fastText magic number (no text or word2vec file can:
    its bytes hold a NUL). The reader then checks the version and that the header is consistent
    (fastText's or floret's layout), naming the byte offset of what is wrong."""
    return head.startswith(_MAGIC_BYTES)


def looks_like_floret(head: bytes) -> bool:
    """True for floret's text table: ``bucket dim minn maxn hashCount hashSeed BOW EOW``, then
    rows ``0 v1 ... vdim``."""
    first, _, rest = head.partition(b"\n")
    fields = first.split()
    if len(fields) != 8 or not all(f.isdigit() for f in fields[:6]) or fields[6:] != [b"<", b">"]:
        return False
    return rest.startswith(b"0 ") or not rest.strip()
