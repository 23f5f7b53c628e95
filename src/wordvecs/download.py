"""Fetch one URL to one file: resumable, verified, never leaving a file that passes for complete.

The bytes go to ``DEST.part``; a cut connection is resumed with an HTTP ``Range`` request (and a
later call resumes a ``.part`` left by a killed process). Only a complete download whose sha256
matches (when a digest is expected) is renamed to ``DEST``, so ``DEST`` existing means "complete and
verified". A checksum mismatch removes the ``.part`` file and names both digests.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ._atomic import fsync_dir
from .errors import ChecksumError, DownloadError, MissingExtraError
from .progress import Progress, progress_enabled

__all__ = ["fetch_url", "file_lock", "sha256_file"]

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
