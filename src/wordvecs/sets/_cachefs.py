"""Files in the cache, opened without following links: what wordvecs did not write is foreign.

The cache (``$WORDVECS_HOME``) may be shared, or planted with links by someone else. Every file the
downloader writes or trusts is opened here relative to a descriptor of its folder, with
``O_NOFOLLOW`` (and ``O_CREAT | O_EXCL`` for a new one), then checked with ``fstat``: a regular
file, owned by this user, with one link. Anything else (a symbolic link, a hard link to a file
elsewhere, a FIFO, a file of another user) is *foreign*: :class:`ForeignFileError` names it, and
it is never written through, read as a download, renamed or deleted.

The cache folder itself may be a link (a user's choice: a cache on another disk); the folders
wordvecs makes inside it (``downloads``, ``locks``, ``digests``) may not.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from wordvecs.errors import DownloadError, require

__all__ = ["CacheDir", "ForeignFileError", "check_regular", "lock"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO opens at once (and is then refused)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_DIR_FD = os.open in os.supports_dir_fd and os.rename in os.supports_dir_fd


class ForeignFileError(DownloadError):
    """Something in the cache that wordvecs did not write: left as it is, never written through."""


def _foreign(path: Path, what: str) -> ForeignFileError:
    return ForeignFileError(f"{path}: {what}, not a file wordvecs wrote; it was left as it is "
                            "(remove it by hand if it is yours)")


def check_regular(fd: int, path: Path, *, owned: bool = True) -> os.stat_result:
    """``fstat`` of an open descriptor; :class:`ForeignFileError` unless a plain file of ours."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise _foreign(path, "not a regular file")
    if owned and hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise _foreign(path, f"owned by uid {st.st_uid}")
    if st.st_nlink > 1:
        raise _foreign(path, f"a file with {st.st_nlink} hard links")
    return st


class CacheDir:
    """A folder of the cache, held open; names inside it are opened relative to it, links refused.

    Where the platform has no ``dir_fd`` support, paths are used (with the same ``O_NOFOLLOW``).
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                path.mkdir(exist_ok=True)
            except FileExistsError:  # a link to nowhere, or a file: refused below
                pass
        try:
            self.fd: int | None = os.open(path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise _foreign(path, "a symbolic link or a file where a folder belongs"
                               if path.is_symlink() else "not a folder") from None
            raise
        st = os.fstat(self.fd)
        if not stat.S_ISDIR(st.st_mode):
            os.close(self.fd)
            raise _foreign(path, "not a folder")
        if not _DIR_FD:  # pragma: no cover - Windows
            os.close(self.fd)
            self.fd = None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> CacheDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _where(self, name: str) -> tuple[str, dict[str, int]]:
        if self.fd is None:  # pragma: no cover - Windows
            return str(self.path / name), {}
        return name, {"dir_fd": self.fd}

    def lstat(self, name: str) -> os.stat_result | None:
        """The entry's own ``lstat``, or None when there is none."""
        where, kw = self._where(name)
        try:
            return os.stat(where, follow_symlinks=False, **kw)
        except FileNotFoundError:
            return None

    def open(self, name: str, *, create: bool = False, write: bool = True,
             owned: bool = True) -> int:
        """A descriptor of the regular file ``name`` (new when ``create``: ``O_EXCL``)."""
        flags = (os.O_RDWR if write else os.O_RDONLY) | _NOFOLLOW | _NONBLOCK | _CLOEXEC
        flags |= getattr(os, "O_BINARY", 0)
        if create:
            flags |= os.O_CREAT | os.O_EXCL
        where, kw = self._where(name)
        try:
            fd = os.open(where, flags, 0o644, **kw)
        except OSError as exc:
            if exc.errno == errno.ELOOP or (exc.errno == errno.EEXIST and self.is_link(name)):
                raise _foreign(self.path / name, "a symbolic link") from None
            raise
        try:
            check_regular(fd, self.path / name, owned=owned)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def is_link(self, name: str) -> bool:
        st = self.lstat(name)
        return st is not None and stat.S_ISLNK(st.st_mode)

    def check(self, name: str) -> bool:
        """True when ``name`` is a regular file of ours, False when absent; else foreign."""
        st = self.lstat(name)
        if st is None:
            return False
        fd = self.open(name, write=False)  # raises ForeignFileError with the reason
        os.close(fd)
        return True

    def unlink(self, name: str) -> bool:
        """Remove the entry ``name`` (a link itself, never its target); False when absent."""
        where, kw = self._where(name)
        try:
            os.unlink(where, **kw)
        except FileNotFoundError:
            return False
        return True

    def rename_checked(self, src: str, dst: str, fd: int) -> None:
        """Rename ``src`` to ``dst``, then prove that ``dst`` is the file open as ``fd``.

        A ``src`` swapped for a link between the checks and the rename would otherwise land in the
        cache under the trusted name; the proof fails, and ``dst`` is removed again.
        """
        if self.fd is None:  # pragma: no cover - Windows
            os.replace(self.path / src, self.path / dst)
        else:
            os.replace(src, dst, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        mine = os.fstat(fd)
        now = self.lstat(dst)
        if now is None or (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino):
            if now is not None and not stat.S_ISDIR(now.st_mode):
                self.unlink(dst)
            raise _foreign(self.path / src, "replaced by something else during the download")
        self.fsync()

    def fsync(self) -> None:
        if self.fd is not None:
            try:
                os.fsync(self.fd)
            except OSError:  # pragma: no cover - not every filesystem allows it
                pass

    def read_text(self, name: str, limit: int = 1 << 16) -> str | None:
        """The start of a small file of ours (a record), or None when absent."""
        if self.lstat(name) is None:
            return None
        fd = self.open(name, write=False)
        try:
            return os.read(fd, limit).decode("utf-8", "replace")
        finally:
            os.close(fd)

    def write_text(self, name: str, text: str) -> None:
        """Write a small file atomically: a new hidden file (``O_EXCL``), renamed over ``name``."""
        tmp = f".{name}.tmp-{os.urandom(6).hex()}"
        fd = self.open(tmp, create=True)
        try:
            data = text.encode("utf-8")
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
            self.rename_checked(tmp, name, fd)
        except BaseException:
            self.unlink(tmp)
            raise
        finally:
            os.close(fd)


@contextmanager
def lock(path: Path, on_wait: Callable[[], object] = lambda: None) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path``; ``on_wait()`` is called before waiting for it.

    POSIX: ``flock`` on a file opened with ``O_NOFOLLOW`` (a planted link is refused, nothing is
    ever truncated). Elsewhere: the ``filelock`` package.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        filelock = require("filelock", "download")

        flock = filelock.FileLock(str(path))
        try:
            flock.acquire(timeout=0)
        except filelock.Timeout:
            on_wait()
            flock.acquire()
        try:
            yield
        finally:
            flock.release()
        return
    with CacheDir(path.parent) as folder:
        try:
            fd = folder.open(path.name, create=True, owned=False)
        except FileExistsError:
            fd = folder.open(path.name, owned=False)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
