"""Open a source as a byte stream, whatever its compression: plain, .gz, .bz2, .xz, a .zip member.

A source is a path, optionally ``archive.zip#member``. Compression is sniffed from the magic bytes,
not the file name, so a gzip file called ``vectors.txt`` still opens.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from wordvecs.errors import FormatError, SourceError

__all__ = ["STDIN", "Source", "open_source", "split_member", "stdin_alias"]

_MAGIC = {
    b"\x1f\x8b": "gz",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
    b"PK\x05\x06": "zip",  # empty archive
}


@dataclass(frozen=True)
class Source:
    """A resolved source: the file on disk, its compression, and the archive member if any.

    A source that is not a regular file (a pipe, a FIFO, ``<(cat f)``) is opened once, when it is
    resolved: the bytes that sniffing reads are kept and replayed to the reader, and it can be read
    through only once.
    """

    path: Path
    compression: str | None  # None, "gz", "bz2", "xz", "zip"
    member: str | None = None
    stream: _Pipe | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        """How errors name this source: ``path`` or ``path#member``."""
        return f"{self.path}#{self.member}" if self.member else str(self.path)

    @property
    def size(self) -> int:
        """Bytes on disk (compressed size for a compressed source): what progress counts; 0 for
        a pipe (unknown)."""
        return 0 if self.stream is not None else self.path.stat().st_size

    @property
    def is_plain(self) -> bool:
        """True for an uncompressed regular file (its size is known before reading)."""
        return self.compression is None and self.stream is None

    @contextmanager
    def open(self, on_read: Callable[[int], object] | None = None, *,
             head: bool = False) -> Iterator[BinaryIO]:
        """Open the decompressed bytes for streaming reads.

        ``on_read(n)`` is called with the number of bytes read from disk (compressed bytes for a
        compressed source), which is what a progress bar over :attr:`size` counts. ``head``: only
        the first bytes will be read (sniffing); a pipe keeps them to replay to the next open.

        Every error of the decompressor (a damaged or cut stream) becomes a :class:`FormatError`
        naming the file and the compressed byte offset; a plain file whose size changes while it
        is read (truncated, or written to) is a :class:`FormatError` at the end of the read.
        """
        if self.stream is not None:
            file: BinaryIO = self.stream.reader(head)  # type: ignore[assignment]
            size0 = None
        else:
            file = open(self.path, "rb")
            size0 = os.fstat(file.fileno()).st_size
        raw = _Raw(file, self.name, on_read, size0 if self.compression != "zip" else None)
        try:
            if self.compression is None:
                yield _Guarded(raw, raw, self.name, None)  # type: ignore[misc]
            elif self.compression == "zip":
                with _decompression_errors(raw, self.name, "zip"):
                    zf = zipfile.ZipFile(io.BufferedReader(raw, 1 << 20))  # (small reads)
                    member = zf.open(str(self.member))
                with zf, member:
                    yield _Guarded(member, raw, self.name, "zip")  # type: ignore[misc]
            else:
                opener = {"gz": gzip.GzipFile, "bz2": bz2.BZ2File, "xz": lzma.LZMAFile}
                kw = {"fileobj": raw} if self.compression == "gz" else {}
                args = () if self.compression == "gz" else (raw,)
                with opener[self.compression](*args, mode="rb", **kw) as dec:  # type: ignore[operator]
                    yield _Guarded(dec, raw, self.name, self.compression)  # type: ignore[misc]
        finally:
            raw.close()


_DECOMPRESSION_ERRORS = (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error,
                         zipfile.BadZipFile, NotImplementedError, RuntimeError)


@contextmanager
def _decompression_errors(raw: _Raw, name: str, kind: str | None) -> Iterator[None]:
    """Turn what a decompressor (or a failing read) raises into a FormatError with the offset."""
    try:
        yield
    except _DECOMPRESSION_ERRORS as exc:
        if kind is None:
            raise FormatError(name, f"cannot read the file ({exc})", offset=raw.count) from None
        raise FormatError(name, f"the {kind} stream is damaged or cut short (at or before "
                          f"compressed byte {raw.count:,})", found=f"{type(exc).__name__}: {exc}",
                          offset=raw.count) from None


class _Guarded(io.RawIOBase):
    """A decompressed stream whose read errors are FormatErrors naming the file and offset."""

    def __init__(self, inner: Any, raw: _Raw, name: str, kind: str | None) -> None:
        self._inner, self._raw, self._name, self._kind = inner, raw, name, kind

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # a plain file: readers may seek past what they do not need
        return self._kind is None and self._raw.seekable()

    def seek(self, pos: int, whence: int = 0) -> int:
        if not self.seekable():
            raise io.UnsupportedOperation("seek")
        return self._raw.seek(pos, whence)

    def tell(self) -> int:
        return self._raw.tell() if self.seekable() else super().tell()

    def readinto(self, b: Any) -> int:
        with _decompression_errors(self._raw, self._name, self._kind):
            n = self._inner.readinto(b)
        return n or 0

    def read(self, n: int = -1) -> bytes:
        with _decompression_errors(self._raw, self._name, self._kind):
            return self._inner.read(n)  # type: ignore[no-any-return]


class _Raw(io.RawIOBase):
    """The bytes from disk: counted (progress, error offsets) and, for a regular file, checked
    against its size at open when the end is reached."""

    def __init__(self, file: BinaryIO, name: str, callback: Callable[[int], object] | None,
                 size0: int | None) -> None:
        self._file, self._name, self._callback, self._size0 = file, name, callback, size0
        self.count = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._file.seekable()

    def seek(self, pos: int, whence: int = 0) -> int:
        self.count = self._file.seek(pos, whence)
        return self.count

    def tell(self) -> int:
        return self._file.tell()

    def readinto(self, b: Any) -> int:
        n = self._file.readinto(b) or 0  # type: ignore[attr-defined]
        self.count += n
        if n and self._callback is not None:
            self._callback(n)
        if not n and len(b) and self._size0 is not None:
            self._check_size()
        return n

    def _check_size(self) -> None:
        now = os.fstat(self._file.fileno()).st_size
        if self.count != self._size0 or now != self._size0:
            raise FormatError(self._name, "the file changed while it was read (truncated or "
                              "written to): the result would be partial",
                              expected=f"{self._size0:,} bytes (its size when opened)",
                              found=f"{self.count:,} bytes read, {now:,} bytes now")

    def close(self) -> None:
        self._file.close()
        super().close()


_HEAD_LIMIT = 16 << 20  # bytes of a pipe kept for sniffing, at most


class _Pipe:
    """A source that is not a regular file, opened once: what sniffing reads is kept and replayed
    to the one reader that then reads the rest."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = open(path, "rb", buffering=0)
        self.kept = bytearray()
        self.done = False

    def reader(self, head: bool) -> _PipeReader:
        if self.done:
            raise SourceError(f"{self.path}: a pipe can be read only once, and it was read")
        if not head:
            self.done = True
        return _PipeReader(self, head)


class _PipeReader(io.RawIOBase):
    def __init__(self, pipe: _Pipe, head: bool) -> None:
        self._pipe, self._head, self._pos = pipe, head, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._pipe.file.fileno()

    def readinto(self, b: Any) -> int:
        kept = self._pipe.kept
        view = memoryview(b).cast("B")
        if self._pos < len(kept):  # replay what sniffing read
            n = min(len(view), len(kept) - self._pos)
            view[:n] = kept[self._pos:self._pos + n]
            self._pos += n
            return n
        n = self._pipe.file.readinto(view) or 0
        if self._head and n:
            if len(kept) + n > _HEAD_LIMIT:
                raise SourceError(f"{self._pipe.path}: more than {_HEAD_LIMIT:,} bytes were "
                                  "needed to tell the format of this pipe")
            kept += view[:n]
        self._pos += n
        return n

    def close(self) -> None:
        if not self._head:
            self._pipe.file.close()
            self._pipe.kept = bytearray()
        super().close()


def _sniff_bytes(head: bytes) -> str | None:
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def _sniff(path: Path) -> str | None:
    with open(path, "rb") as fh:
        return _sniff_bytes(fh.read(6))


def _zip_members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            # not ZipInfo.is_dir(): it fails on an empty member name (a damaged directory)
            return [i.filename for i in zf.infolist()
                    if i.filename and not i.filename.endswith("/")]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        # the directory of members is at the end: a cut archive has none
        raise FormatError(path, "not a valid zip archive (cut short, or damaged)",
                          offset=path.stat().st_size, found=str(exc)) from None


STDIN = "/dev/stdin"


def stdin_alias(text: str) -> str:
    """``-`` (the Unix name of standard input) as :data:`STDIN`, unless a file named ``-`` is
    there; any other text as it is."""
    return STDIN if text == "-" and not os.path.lexists(text) else text


def split_member(spec: str) -> tuple[str, str | None]:
    """``archive.zip#member`` as ``(archive, member)``; anything else as ``(spec, None)``.

    A path that exists is taken whole, even with a ``#`` in its name; otherwise the last ``#``
    splits, so the archive's own path may hold a ``#`` (``a#b/v.zip#v.txt``). The one rule for the
    library and the CLI alike."""
    if "#" in spec and not Path(spec).exists():
        archive, _, member = spec.rpartition("#")
        return archive, member
    return spec, None


def open_source(spec: str | os.PathLike[str]) -> Source:
    """Resolve a path (or ``archive.zip#member``) to a :class:`Source`, with clear errors.

    A pipe or FIFO is opened here, once (for a FIFO this waits for a writer); ``-`` is standard
    input (a pipe: ``cat f.txt | wordvecs info -``)."""
    text = stdin_alias(os.fspath(spec))
    archive, member = split_member(text)
    path = Path(archive)
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    if path.is_dir():
        raise SourceError(f"{path}: is a directory, not a vectors file or a wordvecs store")
    if not stat.S_ISREG(path.stat().st_mode):
        return _pipe_source(path, member)
    compression = _sniff(path)
    if compression == "zip":
        members = _zip_members(path)
        if member is None:
            if len(members) == 1:
                member = members[0]
            elif not members:
                raise SourceError(f"{path}: the zip archive is empty")
            else:
                listing = ", ".join(members[:20]) + (" ..." if len(members) > 20 else "")
                raise SourceError(
                    f"{path}: the zip archive has {len(members)} members; name one as "
                    f"'{path}#MEMBER'. Members: {listing}"
                )
        elif member not in members:
            listing = ", ".join(members[:20])
            raise SourceError(f"{path}: no member {member!r} in the archive; it has: {listing}")
    elif member is not None:
        raise SourceError(f"{path}: '#{member}' names an archive member, but this is not a "
                          "zip file")
    return Source(path=path, compression=compression, member=member)


def _pipe_source(path: Path, member: str | None) -> Source:
    pipe = _Pipe(path)
    reader = pipe.reader(head=True)
    magic = b""
    while len(magic) < 6:
        got = reader.read(6 - len(magic))
        if not got:
            break
        magic += got
    compression = _sniff_bytes(magic)
    if compression == "zip" or member is not None:
        pipe.file.close()
        raise SourceError(f"{path}: a zip archive cannot be read from a pipe (it needs "
                          "seeking); save it to a file first")
    return Source(path=path, compression=compression, stream=pipe)


def read_head(source: Source, n: int = 1 << 16) -> bytes:
    """The first ``n`` decompressed bytes of a source (for format detection)."""
    with source.open(head=True) as fh:
        out = bytearray()
        while len(out) < n:  # (a pipe or a decompressor may return less than asked)
            got = fh.read(n - len(out))
            if not got:
                break
            out += got
        return bytes(out)
