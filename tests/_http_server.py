"""What the download tests share: a threaded HTTP server on 127.0.0.1 for a handler of the test's
own, ``$WORDVECS_HOME`` and ``$WORDVECS_CATALOG`` in ``tmp_path``, and a small GloVe text.

Used by tests/test_download.py (a well-behaved server) and tests/test_hostile_download.py (one
that misbehaves on request); each keeps its own handler and server state.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest


@contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free port of 127.0.0.1 in a thread; yields the base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def wordvecs_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$WORDVECS_HOME`` set to ``tmp_path/home`` (not created: wordvecs makes it)."""
    home = tmp_path / "home"
    monkeypatch.setenv("WORDVECS_HOME", str(home))
    return home


def write_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  entries: Mapping[str, Mapping[str, object]]) -> Path:
    """``entries`` as ``tmp_path/catalog.json``, named by ``$WORDVECS_CATALOG``."""
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    monkeypatch.setenv("WORDVECS_CATALOG", str(path))
    return path


def vectors_text(words: Sequence[str], dim: int, seed: int) -> tuple[bytes, np.ndarray]:
    """A GloVe text of ``words`` with seeded normal float32 rows, and those rows."""
    matrix = np.random.default_rng(seed).standard_normal((len(words), dim)).astype(np.float32)
    lines = [w + " " + " ".join(repr(float(x)) for x in row) for w, row in zip(words, matrix)]
    return ("\n".join(lines) + "\n").encode(), matrix
