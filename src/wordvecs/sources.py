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
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import SourceError

__all__ = ["Source", "open_source"]

_MAGIC = {
    b"\x1f\x8b": "gz",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
    b"PK\x05\x06": "zip",  # empty archive
}


@dataclass(frozen=True)
class Source:
    """A resolved source: the file on disk, its compression, and the archive member if any."""

    path: Path
    compression: str | None  # None, "gz", "bz2", "xz", "zip"
    member: str | None = None

    @property
    def name(self) -> str:
        """How errors name this source: ``path`` or ``path#member``."""
        return f"{self.path}#{self.member}" if self.member else str(self.path)

    @property
    def size(self) -> int:
        """Bytes on disk (compressed size for a compressed source): what progress counts."""
        return self.path.stat().st_size

    @property
    def is_plain(self) -> bool:
        """True for an uncompressed file that can be memory-mapped."""
        return self.compression is None

    @contextmanager
    def open(self, on_read: Callable[[int], object] | None = None) -> Iterator[BinaryIO]:
        """Open the decompressed bytes for streaming reads.

        ``on_read(n)`` is called with the number of bytes read from disk (compressed bytes for a
        compressed source), which is what a progress bar over :attr:`size` counts.
        """
        raw: BinaryIO = open(self.path, "rb")
        if on_read is not None:
            raw = io.BufferedReader(_CountingReader(raw, on_read), 1 << 20)  # type: ignore[assignment]
        try:
            if self.compression is None:
                yield raw
            elif self.compression == "gz":
                yield gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[misc]
            elif self.compression == "bz2":
                yield bz2.BZ2File(raw, "rb")  # type: ignore[misc]
            elif self.compression == "xz":
                yield lzma.LZMAFile(raw, "rb")  # type: ignore[misc]
            else:
                with zipfile.ZipFile(raw) as zf, zf.open(str(self.member)) as member:
                    yield member  # type: ignore[misc]
        finally:
            raw.close()


def _sniff(path: Path) -> str | None:
    with open(path, "rb") as fh:
        head = fh.read(6)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def _zip_members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            return [i.filename for i in zf.infolist() if not i.is_dir()]
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{path}: not a valid zip archive ({exc})") from exc


def open_source(spec: str | os.PathLike[str]) -> Source:
    """Resolve a path (or ``archive.zip#member``) to a :class:`Source`, with clear errors."""
    text = os.fspath(spec)
    path = Path(text)
    member: str | None = None
    if not path.exists() and "#" in text:
        archive, _, member = text.rpartition("#")
        path = Path(archive)
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    if path.is_dir():
        raise SourceError(f"{path}: is a directory, not a vectors file or a wordvecs store")
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


def read_head(source: Source, n: int = 1 << 16) -> bytes:
    """The first ``n`` decompressed bytes of a source (for format detection)."""
    with source.open() as fh:
        try:
            return fh.read(n)
        except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as exc:
            from .errors import FormatError

            raise FormatError(source.name, "the compressed stream is truncated or damaged",
                              found=str(exc)) from None


class _CountingReader(io.RawIOBase):
    """A raw reader that reports how many bytes it has read, for progress over compressed input."""

    def __init__(self, raw: BinaryIO, callback: Callable[[int], object]) -> None:
        self._raw = raw
        self._callback = callback

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, pos: int, whence: int = 0) -> int:
        return self._raw.seek(pos, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        n = self._raw.readinto(b)  # type: ignore[attr-defined]
        if n:
            self._callback(n)
        return n or 0

    def close(self) -> None:
        self._raw.close()
        super().close()
