"""The sha256 of a file: one helper for every place that checks or records a digest."""

from __future__ import annotations

import hashlib
import io
import os

__all__ = ["sha256_fd", "sha256_file", "sha256_stream"]

_BLOCK = 1 << 20


def sha256_stream(fh: io.BufferedIOBase) -> str:
    """The hex sha256 of what is left to read in the binary file object ``fh``."""
    return hashlib.file_digest(fh, "sha256").hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex sha256 of the file at ``path``, read in blocks."""
    with open(path, "rb") as fh:
        return sha256_stream(fh)


def sha256_fd(fd: int) -> str:
    """The hex sha256 of the whole file open as ``fd``, from its first byte; reads with ``pread``,
    so the descriptor's offset is left where it was (what was checked is what gets mapped)."""
    h = hashlib.sha256()
    offset = 0
    while chunk := os.pread(fd, _BLOCK, offset):
        h.update(chunk)
        offset += len(chunk)
    return h.hexdigest()
