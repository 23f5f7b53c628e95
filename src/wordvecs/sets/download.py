"""Downloading: fetch a URL to a file (resumable, verified), and fill the cache with named sets.

:func:`fetch_url` (in :mod:`wordvecs.sets._fetch`) never leaves a file that passes for complete: the
bytes go to ``DEST.part``, opened without following links; a cut connection is resumed only with a
validator (``If-Range``) the server confirms; a slow, endless or short body is an error. Only a
complete download whose sha256 matches (when a digest is expected) is renamed to ``DEST``, so
``DEST`` existing means "complete and verified".

:func:`fetch` (what ``wordvecs.load(NAME)`` and ``wordvecs download`` call), :func:`add` (a file
fetched by hand) and :func:`remove` keep ``$WORDVECS_HOME`` (see :mod:`wordvecs.sets.catalog`): one
lock per set and per download, trust-on-first-use digests per set, atomic stores. Neither reads
vectors: the caller hands them a converter (:mod:`wordvecs.sets.opener`, whose ``fetch`` and
``add`` are the ones to call). Anything in the
cache that wordvecs did not write (a link, a FIFO, another user's file) is foreign: named in an
error, never written through, renamed or deleted.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from wordvecs._hashing import sha256_file, sha256_stream
from wordvecs.errors import (
    ChecksumError,
    DownloadError,
    FormatError,
    SourceError,
)
from wordvecs.sets import catalog
from wordvecs.sets._cachefs import CacheDir, ForeignFileError, lock
from wordvecs.sets._fetch import Limits, _os_message, _WriteError, fetch_url
from wordvecs.sets._fetch import download as _download
from wordvecs.sets.catalog import CatalogEntry
from wordvecs.sources import split_member

__all__ = ["Converter", "add", "fetch", "fetch_url", "file_lock", "remove", "sha256_file"]

logger = logging.getLogger(__name__)


@contextmanager
def file_lock(path: Path, what: str) -> Iterator[None]:
    """Hold an inter-process lock on ``path`` (a lock file); log when another process holds it."""
    def waiting() -> None:
        logger.info("waiting for another process that is fetching %s (lock %s)", what, path)

    try:
        with lock(path, waiting):
            yield
    except OSError as exc:
        raise DownloadError(f"{path}: cannot take the lock: {_os_message(exc)}") from None


def part_path(dest: Path) -> Path:
    """Where an unfinished download of ``dest`` is kept."""
    return dest.with_name(dest.name + ".part")


# --- filling the cache ---------------------------------------------------------------------------
class Converter(Protocol):
    """Turns a verified file (or its archive member) into the store of a set, under the set's lock:
    :func:`wordvecs.sets.opener.convert`, the one code here that reads vectors."""

    def __call__(self, entry: CatalogEntry | None, source: Path, store: Path, *,
                 member: str | None = None, progress: bool | None = None,
                 strict: bool = False) -> None: ...


def fetch(name: str, *, convert: Converter, progress: bool | None = None,
          force: bool = False) -> Path:
    """Make sure the set ``name`` is in the cache as a store (downloading it if need be).

    Returns the store's path. ``force`` rebuilds the store (the download is reused when present).
    ``convert`` turns the verified download into the store (:func:`wordvecs.sets.opener.fetch`
    passes the readers' one).

    Raises:
        SourceError: no set of this name in the catalog.
        DownloadError: the file cannot be fetched (the message names the URL and ``wordvecs add``),
            or the cache cannot be written (full, read-only: named as such).
        ChecksumError: the file is not the one expected (both digests named; the file is removed).
    """
    entry = catalog.find_entry(name)
    if entry is None:
        raise SourceError(f"no set named {name!r} in the catalog; `wordvecs list` shows them")
    store = catalog.store_path(entry.name)
    try:
        with file_lock(catalog.lock_path(entry.name), entry.name):
            if not force and catalog.cached_store(entry.name) is not None:
                return store  # another process finished it while we waited
            archive, digest, resumed = _ensure_download(entry, progress=progress)
            try:
                convert(entry, archive, store, progress=progress)
            except (FormatError, SourceError) as exc:  # the bytes are not what they should be
                if resumed and not _trusted(entry):
                    _remove_download(entry)  # joined from two responses: it may mix versions
                    raise type(exc)(f"{exc} (the download had been resumed and was removed; "
                                    "the next try fetches it whole)") from None
                raise
            _record_digest(entry, digest)
    except OSError as exc:
        raise _cache_error(exc) from None
    return store


def _cache_error(exc: OSError) -> DownloadError:
    where = exc.filename or catalog.cache_home()
    return DownloadError(f"{where}: cannot write to the cache: {_os_message(exc)}"
                         if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT,
                                          errno.EPERM, errno.EFBIG)
                         else f"{where}: {exc.strerror or exc}")


def _trusted(entry: CatalogEntry) -> bool:
    return entry.sha256 is not None or _recorded(entry) is not None


def _recorded(entry: CatalogEntry) -> str | None:
    """The digest recorded for this set at its first download, or None."""
    path = catalog.digest_path(entry.name)
    if not path.parent.exists():
        return None
    with CacheDir(path.parent, create=False) as folder:
        text = folder.read_text(path.name)
    words = (text or "").split()
    return words[0] if words and catalog.SHA256.match(words[0]) else None


def _expected_digest(entry: CatalogEntry) -> tuple[str | None, str]:
    """The digest to check and where it comes from (the catalog, or the set's first download)."""
    if entry.sha256:
        return entry.sha256, "the catalog"
    recorded = _recorded(entry)
    if recorded is not None:
        return recorded, f"the first download ({catalog.digest_path(entry.name)})"
    return None, ""


def _record_digest(entry: CatalogEntry, digest: str) -> None:
    """Trust on first use: record the digest of a download that converted cleanly."""
    if _trusted(entry):
        return
    path = catalog.digest_path(entry.name)
    with CacheDir(path.parent) as folder:
        folder.write_text(path.name, f"{digest}  {entry.url}\n")


def _ensure_download(entry: CatalogEntry, *, progress: bool | None) -> tuple[Path, str, bool]:
    """The verified download of ``entry``: (path, sha256, resumed from two responses?)."""
    dest = catalog.download_path(entry)
    with file_lock(catalog.lock_path(f"download-{entry.url_key}"), entry.filename):
        expected, origin = _expected_digest(entry)
        with CacheDir(dest.parent) as folder:
            if folder.check(dest.name):  # a link or a foreign file: ForeignFileError
                fd = folder.open(dest.name, write=False)
                with os.fdopen(fd, "rb") as fh:
                    actual = sha256_stream(fh)
                if expected is not None and actual != expected:
                    folder.unlink(dest.name)
                    raise ChecksumError(
                        f"{dest}: sha256 mismatch for {entry.name}: expected {expected} (from "
                        f"{origin}), got {actual}; the file was removed")
                return dest, actual, False
        try:
            got = _download(entry.url, dest, sha256=expected, size=entry.size, progress=progress,
                            retries=5, limits=Limits.resolve())
        except (ForeignFileError, _WriteError):
            raise
        except ChecksumError as exc:
            raise ChecksumError(f"{exc} (expected digest from {origin}; if the file really "
                                f"changed, `wordvecs cache remove {entry.name}` forgets it)"
                                ) from None
        except DownloadError as exc:
            raise DownloadError(
                f"cannot fetch {entry.name}: {exc}. Without a network, fetch {entry.url} by hand "
                f"and run: wordvecs add {entry.name} {entry.filename}") from None
    return dest, got.sha256, got.resumed


def _remove_download(entry: CatalogEntry) -> None:
    dest = catalog.download_path(entry)
    with CacheDir(dest.parent) as folder:
        for name in (dest.name, dest.name + ".part", dest.name + ".part.json"):
            if folder.lstat(name) is not None:
                folder.unlink(name)


def add(name: str, file: str | os.PathLike[str], *, convert: Converter,
        member: str | None = None,
        progress: bool | None = None, force: bool = False) -> Path:
    """Place a file fetched by hand: convert ``file`` (or its ``member``) to the store ``name``.

    When ``file`` has the name of the catalog's download (``glove.6B.zip``), its sha256 is checked
    against the catalog's (or the set's recorded) digest, and recorded for the set if none is
    known; the catalog's member is used unless ``member`` is given. Any other file (an extracted
    member, an in-house set whose name is not in the catalog) is converted as it is. A file whose
    dimension or word count contradicts the catalog is refused unless ``force`` (and a forced
    file's digest is never recorded). Returns the store's path.
    """
    norm = catalog.check_name(name)
    entry = catalog.find_entry(norm)
    archive, in_spec = split_member(os.fspath(file))
    path, member = Path(archive), member if in_spec is None else in_spec
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    if member is not None:
        catalog.check_member(member, str(path))
    is_download = entry is not None and path.name == entry.filename
    if member is None and entry is not None and entry.member and _zip_has(path, entry.member):
        member = entry.member
    store = catalog.store_path(norm)
    try:
        with file_lock(catalog.lock_path(norm), norm):
            actual = None
            if is_download:
                assert entry is not None
                expected, origin = _expected_digest(entry)
                actual = sha256_file(path)
                if expected is not None and actual != expected:
                    raise ChecksumError(f"{path}: sha256 mismatch for {entry.name}: expected "
                                        f"{expected} (from {origin}), got {actual}")
            convert(entry, path, store, member=member or "", progress=progress,
                    strict=not force)
            if actual is not None and entry is not None and not force:
                _record_digest(entry, actual)
    except OSError as exc:
        raise _cache_error(exc) from None
    return store


def _zip_has(path: Path, member: str) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return member in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def remove(name: str) -> list[Path]:
    """Remove the cached store of ``name``, its download and recorded digest; returns the paths.

    A store that is a link loses the link only (its target is left); a folder under the store's
    name that is not a wordvecs store is left, with an error; so is a ``downloads`` or ``digests``
    folder that is a link (nothing is removed through it).
    """
    norm = catalog.check_name(name)
    entry = catalog.find_entry(norm)
    files: list[tuple[Path, list[str]]] = []
    if entry is not None:
        dest = catalog.download_path(entry)
        legacy = entry.filename  # where earlier releases kept it
        files.append((dest.parent, [dest.name, dest.name + ".part", dest.name + ".part.json",
                                    legacy, legacy + ".sha256", legacy + ".part"]))
    digest = catalog.digest_path(norm)
    files.append((digest.parent, [digest.name]))
    folders = []
    try:
        for path, names in files:  # every folder checked before anything is removed
            if path.is_dir() or path.is_symlink():
                folders.append((CacheDir(path, create=False), names))
        removed: list[Path] = []
        store = catalog.store_path(norm)
        if store.is_symlink():
            store.unlink()  # the link only, never what it points to
            removed.append(store)
        elif store.is_dir():
            from wordvecs.formats.store import is_store

            if not is_store(store):
                raise SourceError(f"{store}: not a wordvecs store (no meta.json); it was left as "
                                  "it is")
            shutil.rmtree(store)
            removed.append(store)
        for folder, names in folders:
            for n in names:
                st = folder.lstat(n)
                if st is not None and (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                    folder.unlink(n)  # a link itself, never its target
                    removed.append(folder.path / n)
    finally:
        for folder, _ in folders:
            folder.close()
    if not removed:
        raise SourceError(f"{name!r} is not in the cache ({catalog.cache_home()})")
    return removed
