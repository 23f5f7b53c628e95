"""The HTTP side of a download: http(s) only, every socket watched for slowness.

:func:`opener` builds a urllib opener with only the http and https handlers (no ``file:``,
``ftp:`` or ``data:``, not even after a redirect, and no https-to-http redirect), whose sockets a
:class:`Watchdog` shuts when the server is too slow (headers included) or past the deadline.
:class:`Limits` holds the limits (see :mod:`wordvecs.sets._fetch` for the table).
"""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections import deque
from dataclasses import dataclass
from typing import Any

from wordvecs.errors import DownloadError

__all__ = ["Limits", "Watchdog", "opener", "validator"]


@dataclass(frozen=True)
class Limits:
    """How long and how slowly a server may take (see the module's table)."""

    timeout: float = 60.0
    min_rate: float = 1024.0
    rate_window: float = 60.0
    deadline: float | None = None
    max_bytes: int = 64 << 30

    @classmethod
    def resolve(cls, **given: Any) -> Limits:
        """Keywords first, then ``WORDVECS_DOWNLOAD_*``, then the defaults."""
        values: dict[str, Any] = {}
        for key, kind in (("timeout", float), ("min_rate", float), ("rate_window", float),
                          ("deadline", float), ("max_bytes", int)):
            value = given.get(key)
            if value is None:
                env = os.environ.get(f"WORDVECS_DOWNLOAD_{key.upper()}")
                if env:
                    try:
                        value = kind(env)
                    except ValueError:
                        raise DownloadError(f"WORDVECS_DOWNLOAD_{key.upper()}={env!r} is not a "
                                            "number") from None
            if value is not None:
                values[key] = value
        return cls(**values)


class Watchdog:
    """Closes the socket of a response that is too slow (headers or body) or past the deadline."""

    def __init__(self, limits: Limits, started: float) -> None:
        self.limits = limits
        self.started = started
        self.received = 0
        self.reason: str | None = None
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="wordvecs-watchdog")

    def attach(self, sock: socket.socket) -> None:
        self._sock = sock
        if self.reason is not None:
            self._close()

    def __enter__(self) -> Watchdog:
        if self.limits.min_rate > 0 or self.limits.deadline is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        lim = self.limits
        window = max(lim.rate_window, 0.01)
        samples: deque[tuple[float, int]] = deque([(time.monotonic(), 0)])
        while not self._stop.wait(min(0.1, window / 4)):
            now, got = time.monotonic(), self.received
            if lim.deadline is not None and now - self.started > lim.deadline:
                self._trip(f"not done within the deadline of {lim.deadline:g} s")
                return
            samples.append((now, got))
            while len(samples) > 1 and samples[1][0] <= now - window:
                samples.popleft()
            t0, g0 = samples[0]
            if lim.min_rate > 0 and now - t0 >= window and got - g0 < lim.min_rate * (now - t0):
                self._trip(f"too slow: {got - g0} bytes in {now - t0:.1f} s, under the minimum "
                           f"of {lim.min_rate:g} bytes/s (WORDVECS_DOWNLOAD_MIN_RATE)")
                return

    def _trip(self, reason: str) -> None:
        self.reason = reason
        self._close()

    def _close(self) -> None:
        sock = self._sock
        if sock is not None:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # wakes a blocked recv
            except OSError:
                pass


def opener(watch: Watchdog) -> urllib.request.OpenerDirector:
    """http(s) only (no file:, ftp: or data:, not even after a redirect); sockets watched."""

    def watched(base: type[http.client.HTTPConnection]) -> Any:
        class Conn(base):  # type: ignore[valid-type, misc]
            def connect(self) -> None:
                create = self._create_connection  # type: ignore[has-type]

                def created(*a: Any, **kw: Any) -> socket.socket:
                    sock = create(*a, **kw)
                    watch.attach(sock)
                    return sock

                self._create_connection = created
                super().connect()
                watch.attach(self.sock)  # the TLS socket, once wrapped

        return Conn

    class HTTP(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(watched(http.client.HTTPConnection), req)

    class HTTPS(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> Any:
            kw = {"context": getattr(self, "_context", None)}
            if getattr(self, "_check_hostname", None) is not None:  # Python < 3.12
                kw["check_hostname"] = self._check_hostname  # type: ignore[attr-defined]
            return self.do_open(watched(http.client.HTTPSConnection), req, **kw)

    class Redirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                             newurl: str) -> Any:
            scheme = urllib.parse.urlsplit(newurl).scheme.lower()
            if scheme not in ("http", "https"):
                raise DownloadError(f"{req.full_url}: redirected to a {scheme}: URL; only http "
                                    "and https are followed")
            if scheme == "http" and req.type == "https":
                raise DownloadError(f"{req.full_url}: redirected from https to plain http "
                                    f"({newurl}); not followed")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), HTTP(), HTTPS(),
                    urllib.request.HTTPDefaultErrorHandler(), Redirect(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def validator(headers: Any) -> str | None:
    """A strong ETag, else Last-Modified: what If-Range may carry (RFC 9110 §13.1.5)."""
    etag = headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return str(etag).strip()
    modified = headers.get("Last-Modified")
    return str(modified).strip() if modified else None
