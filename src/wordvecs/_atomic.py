"""Atomic writes: build the output under a temporary name beside it, then rename it into place.

What is already at the destination is replaced only when the caller allows it (``overwrite``) and,
for a folder, only when ``is_ours`` recognises it (a wordvecs store): a folder wordvecs did not
write is never deleted. The last step is one system call: ``renameat2`` with ``RENAME_NOREPLACE``
(a new destination: a process that got there first is never overwritten) or ``RENAME_EXCHANGE``
(an old destination: readers see the old or the new folder, never none), where Linux offers them.
Every ``OSError`` on the way (disk full, read-only, a size limit) becomes a :class:`WriteError`
naming the destination; the temporary is removed. Hidden temporaries of killed saves
(``.NAME.tmp-<12 hex>``) older than a day are removed by the next save beside them.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import re
import shutil
import stat
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from wordvecs.errors import WordvecsError, WriteError

__all__ = ["STALE_SECONDS", "atomic_dir", "atomic_file", "clean_stale", "fsync_dir", "place",
           "remove_ours", "write_error"]

logger = logging.getLogger(__name__)

STALE_SECONDS = 24 * 3600
_NOREPLACE, _EXCHANGE = 1, 2
_REASONS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EFBIG: "file too large (a file size limit, or the file system's)",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "input/output error",
}


def write_error(exc: OSError, dst: Path) -> WriteError:
    """A one-line :class:`WriteError` for ``exc`` met while writing ``dst``."""
    reason = _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
    if exc.errno is None and "requested and" in str(exc):  # numpy's tofile on a short write
        reason = f"the write stopped short ({exc}): the disk is full, or a file size limit"
    err = WriteError(f"cannot write {dst}: {reason}")
    err.errno = exc.errno
    return err


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


def clean_stale(dst: Path, max_age: float = STALE_SECONDS) -> list[Path]:
    """Remove ``.NAME.tmp-<12 hex>`` beside ``dst`` older than ``max_age`` seconds.

    Only names of exactly that pattern (what :func:`atomic_file` and :func:`atomic_dir` create),
    only plain files and real folders (a symbolic link is left alone, never followed). Best effort.
    """
    pattern = re.compile(rf"\.{re.escape(dst.name)}\.tmp-[0-9a-f]{{12}}")
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(dst.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if now - st.st_mtime < max_age:
                continue
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(entry.path)  # never follows links inside
            elif stat.S_ISREG(st.st_mode):
                os.unlink(entry.path)
            else:
                continue
        except OSError as exc:
            logger.info("could not remove the old temporary %s: %s", entry.path, exc)
            continue
        logger.info("removed %s, left by a save that did not finish", entry.path)
        removed.append(Path(entry.path))
    return removed


def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn  # type: ignore[no-any-return]


_RENAMEAT2 = _renameat2()


def _rename(src: Path, dst: Path, flags: int) -> bool:
    """``renameat2(src, dst, flags)``: True if done, False where the system cannot do it."""
    if _RENAMEAT2 is None:
        return False
    at_cwd = -100
    if _RENAMEAT2(at_cwd, os.fsencode(src), at_cwd, os.fsencode(dst), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(dst))


def _parent_exists(dst: Path, make_parents: bool) -> None:
    if make_parents:
        dst.parent.mkdir(parents=True, exist_ok=True)
    elif not dst.parent.is_dir():
        raise WriteError(f"cannot write {dst}: the folder {dst.parent} does not exist "
                         "(wordvecs does not create it; create it first)")


def check_destination(dst: Path, *, folder: bool, overwrite: bool,
                      is_ours: Callable[[Path], bool] | None = None) -> bool:
    """Raise :class:`WriteError` unless ``dst`` may be written; True when something is there.

    ``folder``: the output is a folder (a store). A folder at ``dst`` is replaced only by a folder,
    only with ``overwrite``, and only when it is empty or ``is_ours(dst)``; a file only with
    ``overwrite``; a symbolic link never.
    """
    try:
        st = os.lstat(dst)
    except FileNotFoundError:
        return False
    hint = "pass overwrite=True (on the command line: --force) to replace it"
    if stat.S_ISLNK(st.st_mode):
        raise WriteError(f"{dst}: is a symbolic link; wordvecs does not replace links (write to "
                         "another name, or remove the link)")
    if stat.S_ISDIR(st.st_mode):
        if not folder:
            raise WriteError(f"{dst}: is a folder; wordvecs does not replace a folder with a file")
        with os.scandir(dst) as entries:
            empty = next(entries, None) is None
        if empty or (is_ours is not None and is_ours(dst)):
            if not overwrite:
                what = "an empty folder" if empty else "a wordvecs store"
                raise WriteError(f"{dst}: {what} is already there; {hint}")
            return True
        raise WriteError(f"{dst}: is a folder that is not a wordvecs store (or holds files that "
                         "are not part of one); wordvecs never deletes it, even when told to "
                         "overwrite: write to another name, or remove it yourself")
    if not stat.S_ISREG(st.st_mode):
        raise WriteError(f"{dst}: is not a regular file; wordvecs does not replace it")
    if not overwrite:
        raise WriteError(f"{dst}: a file is already there; {hint}")
    return True


def _remove(path: Path) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    try:
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except OSError as exc:
        logger.warning("could not remove the temporary %s: %s", path, exc)


def _aside_name(dst: Path) -> Path:
    """Where an old destination waits while the new one takes its name (no rename that swaps
    two names): not a temporary's name, so :func:`clean_stale` never removes it."""
    return dst.with_name(f".{dst.name}.old-{uuid.uuid4().hex[:12]}")


def _still_replaceable(old: Path, *, folder: bool,
                       is_ours: Callable[[Path], bool] | None) -> bool:
    """Whether ``old`` (what was at the destination, just moved off it) is what the checks
    allowed: another process may have put something else there after them."""
    try:
        check_destination(old, folder=folder, overwrite=True, is_ours=is_ours)
    except WriteError:
        return False
    return True


def _put_back(old: Path, dst: Path, exc: OSError) -> WriteError:
    """Rename the old destination back after the new one failed to take its name."""
    err = write_error(exc, dst)
    try:
        os.rename(old, dst)
    except OSError:
        err = WriteError(f"{err}; the old {'store' if old.is_dir() else 'file'} is kept at {old}")
        err.errno = exc.errno
    return err


_TAKEN = (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR)


def _place_new(tmp: Path, dst: Path, *, folder: bool) -> bool:
    """Move ``tmp`` to ``dst``, where nothing was; False when something appeared there meanwhile
    (then nothing moved)."""
    try:
        if _rename(tmp, dst, _NOREPLACE):
            return True
    except FileExistsError:
        return False
    if not folder:
        try:
            os.link(tmp, dst)  # fails if dst exists
        except FileExistsError:
            return False
        except OSError:
            os.replace(tmp, dst)
            return True
        os.unlink(tmp)
        return True
    try:
        os.rename(tmp, dst)  # a race with another writer may replace an empty folder only
    except OSError as exc:
        if exc.errno in _TAKEN:
            return False
        raise
    return True


def _put_in_place(tmp: Path, dst: Path, *, folder: bool, overwrite: bool,
                  is_ours: Callable[[Path], bool] | None) -> list[Path]:
    """Move ``tmp`` to ``dst``; returns what is left to remove (the old destination, moved).

    Whatever was at ``dst`` is checked again once it is moved off it (another process may have
    swapped its own folder in after the checks); when it is not what the checks allowed, it
    goes back and the next round's check says why it may not be replaced.
    """
    for _ in range(3):
        if not check_destination(dst, folder=folder, overwrite=overwrite, is_ours=is_ours):
            if _place_new(tmp, dst, folder=folder):
                return []
            continue  # another process got there first: check what it put there
        if _rename(tmp, dst, _EXCHANGE):
            if _still_replaceable(tmp, folder=folder, is_ours=is_ours):
                return [tmp]  # tmp now names the old destination
            try:  # not what was checked: theirs goes back
                _rename(tmp, dst, _EXCHANGE)
            except OSError as exc:
                old = _aside_name(dst)
                os.rename(tmp, old)  # out of the way of the removal of the temporary
                raise WriteError(f"cannot write {dst}: something else was put there meanwhile; "
                                 f"it is at {old} (not replaced)") from exc
            continue
        if not folder:
            os.replace(tmp, dst)
            return []
        old = _aside_name(dst)
        os.rename(dst, old)
        if not _still_replaceable(old, folder=folder, is_ours=is_ours):
            try:
                os.rename(old, dst)
            except OSError as exc:
                raise WriteError(f"cannot write {dst}: something else was put there meanwhile; "
                                 f"it is at {old} (not replaced)") from exc
            continue
        try:
            os.rename(tmp, dst)
        except OSError as exc:
            raise _put_back(old, dst, exc) from None
        return [old]
    raise WriteError(f"cannot write {dst}: other processes keep writing to it at the same time")


@contextmanager
def atomic_file(dst: str | os.PathLike[str], *, overwrite: bool = True,
                make_parents: bool = True) -> Iterator[Path]:
    """Yield a temporary path that takes the place of ``dst`` on success, removed on error.

    ``overwrite=False``: a file already at ``dst`` (or one another process puts there meanwhile)
    is an error, never replaced. ``make_parents=False``: a missing folder is an error.
    """
    dst = Path(dst)
    tmp = _tmp_name(dst)
    try:
        _parent_exists(dst, make_parents)
        check_destination(dst, folder=False, overwrite=overwrite)
        clean_stale(dst)
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        _put_in_place(tmp, dst, folder=False, overwrite=overwrite, is_ours=None)
        fsync_dir(dst.parent)
    except WordvecsError:
        raise
    except OSError as exc:
        raise write_error(exc, dst) from None
    finally:
        _remove(tmp)


@contextmanager
def atomic_dir(dst: str | os.PathLike[str], *, overwrite: bool = False,
               is_ours: Callable[[Path], bool] | None = None,
               make_parents: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success it takes the place of ``dst`` in one rename.

    An old ``dst`` is replaced only with ``overwrite`` and only when it is empty or ``is_ours``
    says it is ours; on Linux it is swapped out in one ``renameat2(RENAME_EXCHANGE)``, so a reader
    always finds one complete folder, then removed. Elsewhere it is first renamed aside (to
    ``.NAME.old-<12 hex>``, a name :func:`clean_stale` never removes); when the new folder then
    cannot take its name the old one goes back; a crash between the two renames leaves no
    ``dst`` (the old one aside, complete), never a half-written one.
    """
    dst = Path(dst)
    tmp = _tmp_name(dst)
    leftovers: list[Path] = []
    try:
        _parent_exists(dst, make_parents)
        check_destination(dst, folder=True, overwrite=overwrite, is_ours=is_ours)
        clean_stale(dst)
        tmp.mkdir()
        yield tmp
        for child in tmp.iterdir():
            with open(child, "rb") as fh:
                os.fsync(fh.fileno())
        fsync_dir(tmp)
        leftovers = _put_in_place(tmp, dst, folder=True, overwrite=overwrite, is_ours=is_ours)
        fsync_dir(dst.parent)
    except WordvecsError:
        raise
    except OSError as exc:
        raise write_error(exc, dst) from None
    finally:
        for p in (*leftovers, tmp):
            _remove(p)


def place(tmp: str | os.PathLike[str], dst: str | os.PathLike[str], *, folder: bool,
          overwrite: bool, is_ours: Callable[[Path], bool] | None = None) -> None:
    """Rename the finished ``tmp`` (a file, or a folder) to ``dst`` under :func:`atomic_dir`'s
    rules: what is at ``dst`` is replaced only with ``overwrite``, a symbolic link never, a folder
    only when ``is_ours`` recognises it; it is swapped out in one rename, never written through.
    """
    tmp, dst = Path(tmp), Path(dst)
    leftovers: list[Path] = []
    try:
        leftovers = _put_in_place(tmp, dst, folder=folder, overwrite=overwrite, is_ours=is_ours)
    except WordvecsError:
        raise
    except OSError as exc:
        raise write_error(exc, dst) from None
    finally:
        for p in leftovers:
            _remove(p)


def remove_ours(path: str | os.PathLike[str], is_ours: Callable[[Path], bool]) -> bool:
    """Remove the folder ``path`` when ``is_ours`` recognises it (never a link: it is renamed
    aside first, so a folder swapped in meanwhile is checked, not deleted); True when removed."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(st.st_mode) or not is_ours(path):
        return False
    aside = _tmp_name(path)
    try:
        os.rename(path, aside)
    except OSError:
        return False
    if not is_ours(aside) or not stat.S_ISDIR(os.lstat(aside).st_mode):
        try:
            os.rename(aside, path)
        except OSError:
            logger.warning("%s was swapped in while being removed; it is kept at %s", path, aside)
        return False
    _remove(aside)
    return True
