"""Downloading: fetch a URL to a file (resumable, verified), and fill the cache with named sets.

:func:`fetch_url` never leaves a file that passes for complete: the bytes go to ``DEST.part``; a
cut connection is resumed with an HTTP ``Range`` request (and a later call resumes a ``.part`` left
by a killed process). Only a complete download whose sha256 matches (when a digest is expected) is
renamed to ``DEST``, so ``DEST`` existing means "complete and verified". A checksum mismatch
removes the ``.part`` file and names both digests.

:func:`fetch` (what ``wordvecs.load(NAME)`` and ``wordvecs download`` call), :func:`add` (a file
fetched by hand) and :func:`remove` keep ``$WORDVECS_HOME`` (see :mod:`wordvecs.catalog`): one
lock per set and per downloaded file, trust-on-first-use digests, atomic stores.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import shutil
import socket
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import catalog
from ._atomic import atomic_file, fsync_dir
from .catalog import CatalogEntry
from .errors import (
    ChecksumError,
    DownloadError,
    MissingExtraError,
    SourceError,
    WordvecsWarning,
)
from .progress import Progress, progress_enabled

__all__ = ["add", "fetch", "fetch_url", "file_lock", "remove", "sha256_file"]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
#: What a cut connection looks like to urllib and http.client.
_TRANSIENT = (http.client.HTTPException, ConnectionError, TimeoutError, socket.timeout)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex sha256 of a file, read in chunks."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@contextmanager
def file_lock(path: Path, what: str) -> Iterator[None]:
    """Hold an inter-process lock on ``path`` (a lock file); log when another process holds it."""
    try:
        import filelock
    except ImportError as exc:  # pragma: no cover - filelock is in the test environment
        raise MissingExtraError("downloading a named set needs filelock: "
                                "pip install 'wordvecs[download]'") from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        logger.info("waiting for another process that is fetching %s (lock %s)", what, path)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def part_path(dest: Path) -> Path:
    """Where an unfinished download of ``dest`` is kept."""
    return dest.with_name(dest.name + ".part")


def fetch_url(
    url: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    progress: bool | None = None,
    retries: int = 5,
    timeout: float = 60.0,
) -> str:
    """Download ``url`` to ``dest`` and return its sha256.

    A connection cut after some bytes arrived is resumed (``Range: bytes=N-``) up to ``retries``
    times; a ``.part`` file from an earlier attempt is resumed too. When ``sha256`` is given, a
    mismatch raises :class:`ChecksumError` (naming both digests) and removes the partial file.

    Raises:
        DownloadError: the server cannot be reached, answers with an error, or the connection keeps
            failing; the message names the URL.
        ChecksumError: the bytes are not the ones expected.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    attempt = 0
    while True:
        offset = part.stat().st_size if part.exists() else 0
        try:
            received, total = _get(url, part, offset, progress=progress, timeout=timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and offset:  # the .part is already whole (or bigger than the file)
                total = _total_from(exc.headers.get("Content-Range"))
                if total == offset:
                    break
                logger.info("%s: the server refused to resume at byte %d; starting over", url,
                            offset)
                part.unlink(missing_ok=True)
                attempt += 1
                if attempt > retries:
                    raise DownloadError(f"{url}: cannot resume the download") from None
                continue
            raise DownloadError(f"{url}: the server answered HTTP {exc.code} {exc.reason}"
                                ) from None
        except (urllib.error.URLError, *_TRANSIENT, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            now = part.stat().st_size if part.exists() else 0
            attempt += 1
            if now > offset and attempt <= retries:
                logger.warning("%s: connection lost at byte %d (%s); resuming", url, now, reason)
                continue
            raise DownloadError(f"{url}: cannot download ({reason})") from None
        size = part.stat().st_size
        if total is not None and size < total:
            attempt += 1
            if received > 0 and attempt <= retries:
                logger.warning("%s: connection closed at byte %d of %d; resuming", url, size, total)
                continue
            raise DownloadError(f"{url}: the download stopped at byte {size} of {total}")
        if total is not None and size > total:
            part.unlink(missing_ok=True)
            raise DownloadError(f"{url}: received {size} bytes where the server announced {total}; "
                                "the partial file was removed, try again")
        break
    actual = sha256_file(part)
    if sha256 is not None and actual != sha256.lower():
        part.unlink(missing_ok=True)
        raise ChecksumError(f"{url}: sha256 mismatch: expected {sha256.lower()}, got {actual}; "
                            "the downloaded file was removed")
    with open(part, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(part, dest)
    fsync_dir(dest.parent)
    return actual


def _total_from(content_range: str | None) -> int | None:
    """The total size of ``bytes a-b/total`` or ``bytes */total``."""
    if not content_range:
        return None
    m = re.search(r"/(\d+)\s*$", content_range)
    return int(m.group(1)) if m else None


def _get(url: str, part: Path, offset: int, *, progress: bool | None,
         timeout: float) -> tuple[int, int | None]:
    """One GET (from ``offset``), appended to ``part``: (bytes received, total size or None)."""
    from . import __version__

    headers = {"User-Agent": f"wordvecs/{__version__}", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as resp:
        length = resp.headers.get("Content-Length")
        mode = "wb"
        start = 0
        if offset and resp.status == 206:
            m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
            if m and int(m.group(1)) == offset:
                mode, start = "ab", offset
            else:  # a range other than the one asked: keep nothing of the old part
                part.unlink(missing_ok=True)
                raise DownloadError(f"{url}: the server resumed at the wrong offset "
                                    f"({resp.headers.get('Content-Range')!r}, asked {offset})")
        elif offset:
            logger.info("%s: the server does not resume downloads; starting over", url)
        total = start + int(length) if length is not None and length.isdigit() else None
        received = 0
        enabled = progress_enabled(progress, total)
        with open(part, mode) as out, Progress(total, f"downloading {part.name[:-5]}",
                                               enabled=enabled) as bar:
            bar.update(start)
            while True:
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    return received, total


# --- filling the cache ---------------------------------------------------------------------------
def fetch(name: str, *, progress: bool | None = None, force: bool = False) -> Path:
    """Make sure the set ``name`` is in the cache as a store (downloading it if need be).

    Returns the store's path. ``force`` rebuilds the store (the download is reused when present).

    Raises:
        SourceError: no set of this name in the catalog.
        DownloadError: the file cannot be fetched (the message names the URL and ``wordvecs add``).
        ChecksumError: the file is not the one expected (both digests named; the file is removed).
    """
    entry = catalog.find_entry(name)
    if entry is None:
        raise SourceError(f"no set named {name!r} in the catalog; `wordvecs list` shows them")
    store = catalog.store_path(entry.name)
    with file_lock(catalog.lock_path(entry.name), entry.name):
        if not force and catalog.cached_store(entry.name) is not None:
            return store  # another process finished it while we waited
        archive = _ensure_download(entry, progress=progress)
        _convert(entry, archive, store, progress=progress)
    return store


def _expected_digest(entry: CatalogEntry, download: Path) -> tuple[str | None, str]:
    """The digest to check and where it comes from (the catalog, or the first download)."""
    if entry.sha256:
        return entry.sha256, "the catalog"
    recorded = catalog.digest_path(download)
    if recorded.is_file():
        text = recorded.read_text(encoding="utf-8").split()
        if text and catalog.SHA256.match(text[0]):
            return text[0], f"the first download ({recorded})"
    return None, ""


def _record_digest(entry: CatalogEntry, download: Path, digest: str) -> None:
    if entry.sha256 or catalog.digest_path(download).is_file():
        return
    with atomic_file(catalog.digest_path(download)) as tmp:
        tmp.write_text(f"{digest}  {entry.url}\n", encoding="utf-8")


def _ensure_download(entry: CatalogEntry, *, progress: bool | None) -> Path:
    dest = catalog.download_path(entry)
    with file_lock(catalog.lock_path(f"download-{entry.filename}"), entry.filename):
        expected, origin = _expected_digest(entry, dest)
        if dest.is_file():
            if expected is not None:
                _check(entry, dest, sha256_file(dest), expected, origin)
            return dest
        try:
            digest = fetch_url(entry.url, dest, sha256=expected, progress=progress)
        except ChecksumError as exc:
            raise ChecksumError(f"{exc} (expected digest from {origin}; if the file really "
                                f"changed, `wordvecs cache remove {entry.name}` forgets it)"
                                ) from None
        except DownloadError as exc:
            raise DownloadError(
                f"cannot fetch {entry.name}: {exc}. Without a network, fetch {entry.url} by hand "
                f"and run: wordvecs add {entry.name} {entry.filename}") from None
        _record_digest(entry, dest, digest)
    return dest


def _check(entry: CatalogEntry, path: Path, actual: str, expected: str, origin: str) -> None:
    if actual != expected:
        if path.parent == catalog.download_path(entry).parent:
            path.unlink(missing_ok=True)
            removed = "; the file was removed"
        else:
            removed = ""
        raise ChecksumError(f"{path}: sha256 mismatch for {entry.name}: expected {expected} "
                            f"(from {origin}), got {actual}{removed}")


def _convert(entry: CatalogEntry | None, source: Path, store: Path, *,
             member: str | None = None, progress: bool | None = None) -> None:
    from .loading import load

    member = member if member is not None else (entry.member if entry else None)  # "" = none
    spec = f"{source}#{member}" if member else str(source)
    logger.info("converting %s to %s", spec, store)
    vectors = load(spec, progress=progress)
    if entry is not None and entry.dim is not None and vectors.dim != entry.dim:
        warnings.warn(f"{spec}: {vectors.dim} dimensions where the catalog says {entry.dim}",
                      WordvecsWarning, stacklevel=3)
    vectors.save(store, format="store", overwrite=True, progress=progress)  # under the set lock


def add(name: str, file: str | os.PathLike[str], *, member: str | None = None,
        progress: bool | None = None) -> Path:
    """Place a file fetched by hand: convert ``file`` (or its ``member``) to the store ``name``.

    When ``file`` has the name of the catalog's download (``glove.6B.zip``), its sha256 is checked
    against the catalog's (or the recorded) digest, and recorded if none is known; the catalog's
    member is used unless ``member`` is given. Any other file (an extracted member, an in-house set
    whose name is not in the catalog) is converted as it is. Returns the store's path.
    """
    norm = catalog.check_name(name)
    entry = catalog.find_entry(norm)
    path = Path(os.fspath(file))
    if not path.exists() and "#" in os.fspath(file):
        archive, _, member = os.fspath(file).rpartition("#")
        path = Path(archive)
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    if member is not None:
        catalog.check_member(member, str(path))
    is_download = entry is not None and path.name == entry.filename
    if member is None and entry is not None and entry.member and _zip_has(path, entry.member):
        member = entry.member
    store = catalog.store_path(norm)
    with file_lock(catalog.lock_path(norm), norm):
        if is_download:
            assert entry is not None
            dest = catalog.download_path(entry)
            expected, origin = _expected_digest(entry, dest)
            actual = sha256_file(path)
            if expected is not None:
                _check(entry, path, actual, expected, origin)
            else:
                _record_digest(entry, dest, actual)
        _convert(entry, path, store, member=member or "", progress=progress)
    return store


def _zip_has(path: Path, member: str) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return member in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def remove(name: str) -> list[Path]:
    """Remove the cached store of ``name``, its download and recorded digest; returns the paths."""
    norm = catalog.check_name(name)
    removed: list[Path] = []
    store = catalog.store_path(norm)
    if store.is_dir():
        shutil.rmtree(store)
        removed.append(store)
    entry = catalog.find_entry(norm)
    if entry is not None:
        dest = catalog.download_path(entry)
        for p in (dest, catalog.digest_path(dest), dest.with_name(dest.name + ".part")):
            if p.is_file():
                p.unlink()
                removed.append(p)
    if not removed:
        raise SourceError(f"{name!r} is not in the cache ({catalog.cache_home()})")
    return removed
