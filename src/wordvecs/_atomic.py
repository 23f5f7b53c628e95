"""Atomic writes: build the output under a temporary name beside it, then rename it into place."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_dir", "atomic_file", "fsync_dir"]


def fsync_dir(path: Path) -> None:
    """Flush a directory entry to disk (best effort: not every filesystem allows it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _tmp_name(dst: Path) -> Path:
    return dst.with_name(f".{dst.name}.tmp-{uuid.uuid4().hex[:12]}")


@contextmanager
def atomic_file(dst: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path that replaces ``dst`` in one rename on success, removed on error."""
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(dst)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dst)
        fsync_dir(dst.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextmanager
def atomic_dir(dst: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder; on success it takes the place of ``dst`` (replacing an old one).

    Directories cannot be swapped in one rename, so an old ``dst`` is first renamed aside; a crash
    between the two renames leaves no ``dst`` (and the old one aside), never a half-written one.
    """
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(dst)
    tmp.mkdir()
    try:
        yield tmp
        for child in tmp.iterdir():
            with open(child, "rb") as fh:
                os.fsync(fh.fileno())
        fsync_dir(tmp)
        old = None
        if dst.is_dir() and not dst.is_symlink():
            old = _tmp_name(dst)
            os.rename(dst, old)
        elif dst.exists() or dst.is_symlink():
            dst.unlink()
        os.rename(tmp, dst)
        fsync_dir(dst.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
