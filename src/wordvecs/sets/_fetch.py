"""One URL to one file in the cache: resumable only where the server proves it is the same file.

The bytes go to ``DEST.part`` (opened with :mod:`wordvecs.sets._cachefs`: never through a
link). When the first response carries a strong ``ETag`` or a ``Last-Modified``, it is recorded
beside the part (``DEST.part.json``); a cut connection, or a later call, resumes with ``Range``
*and* ``If-Range`` set to that validator, so a server whose file changed answers 200 and the
download starts over. Without a validator a download always starts over. A 206 whose validator
differs from the recorded one is not trusted either.

Limits (each a keyword of :func:`fetch_url`, else an environment variable, else the default):

==================  ===================================  ===============================
keyword             environment                          default
==================  ===================================  ===============================
``timeout``         ``WORDVECS_DOWNLOAD_TIMEOUT``        60 s for one socket operation
``min_rate``        ``WORDVECS_DOWNLOAD_MIN_RATE``       1024 bytes/s, over ``rate_window``
``rate_window``     ``WORDVECS_DOWNLOAD_RATE_WINDOW``    60 s
``deadline``        ``WORDVECS_DOWNLOAD_DEADLINE``       none (s for the whole download)
``max_bytes``       ``WORDVECS_DOWNLOAD_MAX_BYTES``      64 GiB, where no size is known
==================  ===================================  ===============================

A watchdog thread closes the socket of a server that sends less than ``min_rate`` (headers
included: a trickled status line is caught too). The body may not run past the expected size
(the catalog's, else ``Content-Length``, else ``max_bytes``), so an endless body costs bounded
disk; a body shorter or longer than expected is an error naming both sizes.
"""

from __future__ import annotations

import errno
import http.client
import json
import logging
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from wordvecs._hashing import sha256_fd
from wordvecs.errors import ChecksumError, DownloadError
from wordvecs.progress import Progress, progress_enabled
from wordvecs.sets._cachefs import CacheDir
from wordvecs.sets._http import Limits, Watchdog, opener, validator

__all__ = ["Limits", "fetch_url"]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_TRANSIENT = (http.client.HTTPException, ConnectionError, TimeoutError, socket.timeout,
              urllib.error.URLError)


class _WriteError(DownloadError):
    """The disk refused a write (full, read-only, a size limit): not a network problem."""


def _os_message(exc: OSError) -> str:
    hint = {errno.ENOSPC: "; free some space, or set WORDVECS_HOME to another disk",
            errno.EROFS: "; set WORDVECS_HOME to a writable folder",
            errno.EACCES: "; set WORDVECS_HOME to a writable folder",
            errno.EDQUOT: "; free some space, or set WORDVECS_HOME to another disk"}
    return f"{exc.strerror or exc}{hint.get(exc.errno or 0, '')}"


@dataclass
class _Part:
    """The partial file, held open, and the validator it was started with."""

    folder: CacheDir
    name: str
    fd: int
    validator: str | None
    url: str

    @property
    def meta(self) -> str:
        return self.name + ".json"

    @property
    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def _fail(self, exc: OSError) -> _WriteError:
        return _WriteError(f"{self.folder.path / self.name}: cannot write the download: "
                           f"{_os_message(exc)}")

    def restart(self) -> None:
        try:
            os.ftruncate(self.fd, 0)
            self.validator = None
            self.folder.unlink(self.meta)
        except OSError as exc:
            raise self._fail(exc) from None

    def record(self, validator: str | None) -> None:
        self.validator = validator
        try:
            if validator is None:
                self.folder.unlink(self.meta)
            else:
                self.folder.write_text(self.meta, json.dumps({"url": self.url,
                                                              "validator": validator}))
        except OSError as exc:
            raise self._fail(exc) from None

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view):]
        except OSError as exc:
            raise self._fail(exc) from None

    def digest(self) -> str:
        return sha256_fd(self.fd)


def _open_part(folder: CacheDir, name: str, url: str) -> _Part:
    if folder.lstat(name) is None:
        folder.unlink(name + ".json")  # a record without its part is stale
        return _Part(folder, name, folder.open(name, create=True), None, url)
    fd = folder.open(name)
    part = _Part(folder, name, fd, None, url)
    try:
        text = folder.read_text(part.meta)
        record = json.loads(text) if text else None
    except (ValueError, UnicodeError):
        record = None
    if isinstance(record, dict) and record.get("url") == url and isinstance(
            record.get("validator"), str):
        part.validator = record["validator"]
    else:  # a part with nothing to prove what it is a part of: start over
        part.restart()
    return part


@dataclass
class Fetched:
    """What :func:`download` got: the digest, and whether bytes of two responses were joined."""

    sha256: str
    resumed: bool


def fetch_url(url: str, dest: str | os.PathLike[str], *, sha256: str | None = None,
              size: int | None = None, progress: bool | None = None, retries: int = 5,
              timeout: float | None = None, min_rate: float | None = None,
              rate_window: float | None = None, deadline: float | None = None,
              max_bytes: int | None = None) -> str:
    """Download ``url`` to ``dest`` and return its sha256 (see the module docstring).

    ``size`` is the expected length (a catalog's); ``sha256`` the expected digest: a mismatch
    raises :class:`ChecksumError` naming both and removes the partial file.

    Raises:
        DownloadError: not http(s), unreachable, an HTTP error, too slow, a length that is not the
            expected one, a write the disk refused, or a foreign file in the cache.
    """
    limits = Limits.resolve(timeout=timeout, min_rate=min_rate, rate_window=rate_window,
                            deadline=deadline, max_bytes=max_bytes)
    return download(url, Path(dest), sha256=sha256, size=size, progress=progress,
                    retries=retries, limits=limits).sha256


def download(url: str, dest: Path, *, sha256: str | None, size: int | None,
             progress: bool | None, retries: int, limits: Limits) -> Fetched:
    """:func:`fetch_url`, telling also whether the file was resumed."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise DownloadError(f"{url}: only http and https URLs are downloaded")
    try:
        folder = CacheDir(dest.parent)
    except OSError as exc:
        raise _WriteError(f"{dest.parent}: cannot create the download folder: "
                          f"{_os_message(exc)}") from None
    with folder:
        folder.check(dest.name)  # a link or a foreign file under the final name: refused
        try:
            part = _open_part(folder, dest.name + ".part", url)
        except OSError as exc:
            raise _WriteError(f"{dest}.part: {_os_message(exc)}") from None
        try:
            resumed = _transfer(url, part, size=size, progress=progress, retries=retries,
                                limits=limits)
            actual = part.digest()
            if sha256 is not None and actual != sha256.lower():
                part.restart()
                folder.unlink(part.name)
                raise ChecksumError(f"{url}: sha256 mismatch: expected {sha256.lower()}, got "
                                    f"{actual}; the downloaded file was removed")
            try:
                os.fsync(part.fd)
                folder.rename_checked(part.name, dest.name, part.fd)
            except OSError as exc:
                raise _WriteError(f"{dest}: {_os_message(exc)}") from None
            folder.unlink(part.meta)
        finally:
            os.close(part.fd)
    return Fetched(actual, resumed)


def _transfer(url: str, part: _Part, *, size: int | None, progress: bool | None, retries: int,
              limits: Limits) -> bool:
    """Fill ``part`` with the whole of ``url``; True when bytes of two responses were joined."""
    started = time.monotonic()
    attempt = 0
    joined = False

    def again(what: str) -> None:
        nonlocal attempt
        attempt += 1
        if attempt > retries:
            raise DownloadError(f"{url}: {what}; gave up after {retries} retries")
        logger.warning("%s: %s; %s", url, what,
                       "resuming" if part.validator and part.size else "starting over")

    while True:
        offset = part.size if part.validator is not None else 0
        if offset == 0 and part.size:
            part.restart()
        with Watchdog(limits, started) as watch:
            try:
                fresh, expected = _get(url, part, offset, watch, size=size, progress=progress,
                                       limits=limits)
            except (_WriteError, _TooLong):
                raise
            except _Changed:
                again("the file changed on the server")
                continue
            except urllib.error.HTTPError as exc:
                if exc.code == 416 and offset:  # our part is not a prefix of theirs
                    part.restart()
                    again(f"the server refused to resume at byte {offset}")
                    continue
                raise DownloadError(f"{url}: the server answered HTTP {exc.code} {exc.reason}"
                                    ) from None
            except (*_TRANSIENT, OSError) as exc:
                if watch.reason is not None:
                    raise DownloadError(f"{url}: {watch.reason}") from None
                reason = getattr(exc, "reason", None) or exc
                if watch.received == 0:
                    raise DownloadError(f"{url}: cannot download ({reason})") from None
                again(f"connection lost at byte {part.size} ({reason})")
                continue
            if watch.reason is not None:
                raise DownloadError(f"{url}: {watch.reason}")
        joined = not fresh
        have = part.size
        if expected is not None and have < expected:
            if watch.received > 0 and attempt < retries:
                again(f"the body stopped at byte {have} of {expected}")
                continue
            raise DownloadError(f"{url}: the body stopped at byte {have} of {expected} (expected "
                                f"{expected} bytes, got {have})")
        return joined


def _resumed_total(url: str, resp: http.client.HTTPResponse, part: _Part, offset: int,
                   length_n: int | None) -> int | None:
    """The whole file's length from a resumed answer (HTTP 206), checked to resume ``part`` at
    ``offset`` of the same file; None when unknown."""
    m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
    if not m or int(m.group(1)) != offset:
        part.restart()
        raise DownloadError(f"{url}: the server resumed at the wrong place "
                            f"({resp.headers.get('Content-Range')!r}, asked {offset})")
    if validator(resp.headers) != part.validator:  # not the file the part began with
        logger.info("%s: the file changed on the server; starting over", url)
        part.restart()
        raise _Changed(url)
    total = int(m.group(3)) if m.group(3) != "*" else None
    if total is None and length_n is not None:
        total = offset + length_n
    return total


def _get(url: str, part: _Part, offset: int, watch: Watchdog, *, size: int | None,
         progress: bool | None, limits: Limits) -> tuple[bool, int | None]:
    """One GET, appended to ``part`` from ``offset``: (started afresh?, expected total length)."""
    from wordvecs._version import __version__

    headers = {"User-Agent": f"wordvecs/{__version__}", "Accept-Encoding": "identity"}
    if offset and part.validator is not None:
        headers["Range"] = f"bytes={offset}-"
        headers["If-Range"] = part.validator
    request = urllib.request.Request(url, headers=headers)
    with opener(watch).open(request, timeout=limits.timeout) as resp:
        length = resp.headers.get("Content-Length")
        length_n = int(length) if length is not None and length.strip().isdigit() else None
        if resp.status == 206 and not offset:
            raise DownloadError(f"{url}: the server sent a part (HTTP 206, "
                                f"{resp.headers.get('Content-Range')!r}) where the whole file was "
                                "asked")
        if offset and resp.status == 206:
            total = _resumed_total(url, resp, part, offset, length_n)
            fresh = False
        else:
            if offset:
                logger.info("%s: the server sent the whole file (changed, or no resume); "
                            "starting over", url)
            part.restart()
            offset = 0
            part.record(validator(resp.headers))
            total = length_n
            fresh = True
        if total is not None and size is not None and total != size:
            raise DownloadError(f"{url}: the server announces {total} bytes where the catalog "
                                f"says {size} (expected {size} bytes, got {total})")
        if size is not None:
            limit = size
        elif total is not None:
            limit = total
        elif length_n is not None:
            limit = offset + length_n
        else:
            limit = limits.max_bytes
        if size is None and limit > limits.max_bytes:
            raise DownloadError(f"{url}: the server announces {limit} bytes, more than the "
                                f"limit of {limits.max_bytes} (WORDVECS_DOWNLOAD_MAX_BYTES)")
        os.lseek(part.fd, offset, os.SEEK_SET)
        have = offset
        with Progress(total, f"downloading {part.name[:-5]}",
                      enabled=progress_enabled(progress, total)) as bar:
            bar.update(offset)
            while True:
                chunk = resp.read1(min(_CHUNK, limit - have + 1))
                if not chunk:
                    break
                have += len(chunk)
                watch.received += len(chunk)
                if have > limit:
                    part.restart()
                    raise _TooLong(f"{url}: the body runs past {limit} bytes (expected {limit} "
                                   f"bytes{_why(size, total)}); the partial file was emptied")
                part.write(chunk)
                bar.update(len(chunk))
    return fresh, (total if total is not None else size)


def _why(size: int | None, total: int | None) -> str:
    if size is not None:
        return ", the catalog's size"
    if total is not None:
        return ", the Content-Length"
    return ", WORDVECS_DOWNLOAD_MAX_BYTES"


class _TooLong(DownloadError):
    """More bytes than expected: never retried."""


class _Changed(DownloadError):
    """A 206 for another version of the file: the part was emptied; the next try starts over."""

    def __init__(self, url: str) -> None:
        super().__init__(f"{url}: the file changed on the server")
