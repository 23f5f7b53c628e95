"""Downloading named sets against a real HTTP server on 127.0.0.1 (Range, cuts); no internet."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import os
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wordvecs
from _http_server import serving, vectors_text, wordvecs_home, write_catalog
from wordvecs.cli import cli
from wordvecs.errors import ChecksumError, DownloadError, SourceError
from wordvecs.sets import catalog, download
from wordvecs.sets.download import fetch_url

DIM = 6
WORDS = [f"w{i}" for i in range(40)] + ["the", "king", "queen"]


def _vectors_text(seed: int = 0) -> tuple[bytes, np.ndarray]:
    return vectors_text(WORDS, DIM, seed)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@dataclass
class Server:
    """What the test server serves and what it saw."""

    base: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    cuts: int = 0  # the next `cuts` responses stop halfway through the body
    ranges: bool = True  # honour Range requests
    delay: float = 0.0  # seconds to sleep before sending a body
    etag: str | None = '"e1"'  # the validator sent with every response (If-Range honoured)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def gets(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def range_requests(self, path: str) -> list[str]:
        return [r for p, r in self.requests if p == path and r is not None]


def _handler(state: Server) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            rng = self.headers.get("Range")
            with state.lock:
                state.requests.append((self.path, rng))
                cut = state.cuts > 0
                state.cuts -= cut
            data = state.files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            start = 0
            cond = self.headers.get("If-Range")
            if rng and state.ranges and (cond is None or cond == state.etag):
                start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            if state.etag:
                self.send_header("ETag", state.etag)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            if state.delay:
                time.sleep(state.delay)
            if cut:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)

    return Handler


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()
    with serving(_handler(state)) as base:
        state.base = base
        yield state


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return wordvecs_home(tmp_path, monkeypatch)


@pytest.fixture
def setup(server: Server, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A zip with two members and a .gz on the server, and a $WORDVECS_CATALOG naming them."""
    text, matrix = _vectors_text()
    server.files["/sets/test.zip"] = _zip({"test.6d.txt": text, "README": b"hello\n"})
    server.files["/sets/small.vec.gz"] = gzip.compress(f"{len(WORDS)} {DIM}\n".encode() + text)
    entries = {
        "test.6d": {"url": f"{server.base}/sets/test.zip", "member": "test.6d.txt", "dim": DIM,
                    "count": len(WORDS), "cased": False, "license": "test"},
        "small-vec": {"url": f"{server.base}/sets/small.vec.gz", "dim": DIM},
    }
    write_catalog(tmp_path, monkeypatch, entries)
    return server, matrix


def _dest(name: str) -> Path:
    entry = catalog.find_entry(name)
    assert entry is not None
    return catalog.download_path(entry)


def test_download_convert_cache(setup, home: Path) -> None:
    server, matrix = setup
    v = wordvecs.load("test.6d")
    assert v.words == WORDS and v.dim == DIM
    np.testing.assert_allclose(v["king"], matrix[WORDS.index("king")])
    store = home / "test-6d.wv"
    assert (store / "meta.json").is_file()
    dest = _dest("test.6d")
    assert dest.is_file() and dest.parent == home / "downloads" and dest.name.endswith("-test.zip")
    digest = hashlib.sha256(server.files["/sets/test.zip"]).hexdigest()
    assert catalog.digest_path("test-6d").read_text().split()[0] == digest
    assert sorted(p.name for p in (home / "downloads").iterdir()) == [dest.name]

    # the second load (any spelling) comes from the cache: no HTTP at all
    n = len(server.requests)
    again = wordvecs.load("TEST_6d", vocab=["king", "queen"])
    assert len(server.requests) == n
    assert again.format == "store" and sorted(again.words) == ["king", "queen"]


def test_gz_without_member(setup) -> None:
    v = wordvecs.load("small.vec")
    assert len(v) == len(WORDS) and v.dim == DIM


def test_resume_after_cut(setup, home: Path) -> None:
    server, matrix = setup
    server.cuts = 1
    v = wordvecs.load("test.6d")
    np.testing.assert_allclose(v.matrix, matrix)
    ranges = server.range_requests("/sets/test.zip")
    half = len(server.files["/sets/test.zip"]) // 2
    assert ranges == [f"bytes={half}-"]
    assert server.gets("/sets/test.zip") == 2


def test_killed_download_resumes_from_part(setup, home: Path) -> None:
    server, _ = setup
    server.cuts = 1
    with pytest.raises(DownloadError):  # what a killed process leaves: a part and its validator
        fetch_url(f"{server.base}/sets/test.zip", _dest("test.6d"), retries=0)
    part = download.part_path(_dest("test.6d"))
    have = part.stat().st_size
    assert have > 0
    assert wordvecs.load("test.6d").dim == DIM
    assert server.range_requests("/sets/test.zip") == [f"bytes={have}-"]
    assert not part.exists() and not part.with_name(part.name + ".json").exists()


def test_cut_every_time_leaves_nothing_that_passes(setup, home: Path) -> None:
    server, _ = setup
    server.cuts = 100
    with pytest.raises(DownloadError, match=r"wordvecs add test-6d test\.zip"):
        wordvecs.load("test.6d")
    assert not _dest("test.6d").exists()
    assert not (home / "test-6d.wv").exists()
    assert download.part_path(_dest("test.6d")).exists()
    server.cuts = 0  # the network is back: the next call resumes and finishes
    assert wordvecs.load("test.6d").dim == DIM


def test_server_without_range_support_restarts(setup, home: Path) -> None:
    server, matrix = setup
    server.ranges = False
    server.cuts = 1
    np.testing.assert_allclose(wordvecs.load("test.6d").matrix, matrix)


def test_checksum_mismatch_names_both_and_removes(setup, home: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    server, _ = setup
    wrong = "ab" * 32
    actual = hashlib.sha256(server.files["/sets/test.zip"]).hexdigest()
    path = tmp_path / "bad.toml"
    path.write_text(f'[test-6d]\nurl = "{server.base}/sets/test.zip"\n'
                    f'member = "test.6d.txt"\nsha256 = "{wrong}"\n', encoding="utf-8")
    monkeypatch.setenv("WORDVECS_CATALOG", str(path))
    with pytest.raises(ChecksumError) as info:
        wordvecs.load("test.6d")
    assert wrong in str(info.value) and actual in str(info.value)
    downloads = home / "downloads"
    assert not [p for p in downloads.iterdir() if not p.name.endswith(".lock")]
    assert not (home / "test-6d.wv").exists()


def test_trust_on_first_use(setup, home: Path) -> None:
    server, _ = setup
    wordvecs.load("test.6d")
    first = hashlib.sha256(server.files["/sets/test.zip"]).hexdigest()
    # the file changes upstream; the store and the download are gone, the recorded digest stays
    import shutil

    shutil.rmtree(home / "test-6d.wv")
    _dest("test.6d").unlink()
    text, _ = _vectors_text(seed=1)
    server.files["/sets/test.zip"] = _zip({"test.6d.txt": text})
    changed = hashlib.sha256(server.files["/sets/test.zip"]).hexdigest()
    with pytest.raises(ChecksumError) as info:
        wordvecs.load("test.6d")
    assert first in str(info.value) and changed in str(info.value)
    assert "wordvecs cache remove test-6d" in str(info.value)
    assert not _dest("test.6d").exists()
    assert not download.part_path(_dest("test.6d")).exists()
    # forgetting the digest accepts the new file
    download.remove("test.6d")
    assert wordvecs.load("test.6d").dim == DIM


def test_two_threads_one_download(setup, home: Path) -> None:
    server, matrix = setup
    server.delay = 0.3
    results: list[object] = []

    def worker() -> None:
        try:
            results.append(wordvecs.load("test.6d"))
        except Exception as exc:  # pragma: no cover - reported below
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert server.gets("/sets/test.zip") == 1
    assert len(results) == 2
    for v in results:
        assert isinstance(v, wordvecs.Vectors)
        np.testing.assert_allclose(v.matrix, matrix)


def test_no_network_one_clear_error(home: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/glove.6B.zip"
    path = tmp_path / "catalog.toml"
    path.write_text(f'[offline-set]\nurl = "{url}"\nmember = "a.txt"\n', encoding="utf-8")
    monkeypatch.setenv("WORDVECS_CATALOG", str(path))
    with pytest.raises(DownloadError) as info:
        wordvecs.load("offline-set")
    msg = str(info.value)
    assert url in msg and "wordvecs add offline-set glove.6B.zip" in msg
    assert not (home / "downloads" / "glove.6B.zip").exists()
    result = CliRunner().invoke(cli, ["download", "offline-set"])
    assert result.exit_code == 2
    assert url in result.output and len(result.output.strip().splitlines()) == 1


def test_http_error(setup) -> None:
    server, _ = setup
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch_url(f"{server.base}/nope", Path(catalog.cache_home()) / "x")


def test_unsafe_member_refused(setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server, _ = setup
    for member in ("../evil.txt", "/etc/passwd", "a/../../b", "C:/x"):
        path = tmp_path / "evil.json"
        path.write_text(json.dumps({"evil": {"url": f"{server.base}/sets/test.zip",
                                             "member": member}}))
        monkeypatch.setenv("WORDVECS_CATALOG", str(path))
        with pytest.raises(SourceError, match="unsafe archive member"):
            wordvecs.load("evil")
    assert not server.requests


def test_cli_download_list_cache(setup, home: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["download", "test.6d", "-q"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(home / "test-6d.wv")
    listing = runner.invoke(cli, ["list"])
    assert listing.exit_code == 0
    row = next(line for line in listing.output.splitlines() if line.startswith("test-6d "))
    assert "cached" in row and " 6 " in row
    cached = runner.invoke(cli, ["cache", "list"])
    assert "test-6d" in cached.output and f"downloads/{_dest('test.6d').name}" in cached.output
    removed = runner.invoke(cli, ["cache", "remove", "test.6d"])
    assert removed.exit_code == 0 and "test-6d.wv" in removed.output
    assert not (home / "test-6d.wv").exists() and not _dest("test.6d").exists()
    assert not catalog.digest_path("test-6d").exists()
    again = runner.invoke(cli, ["cache", "remove", "test.6d"])
    assert again.exit_code == 2 and "not in the cache" in again.output


def test_lock_held_by_another_process(setup, home: Path) -> None:
    import subprocess
    import sys

    lock = catalog.lock_path("test-6d")
    lock.parent.mkdir(parents=True, exist_ok=True)
    code = ("import sys, time\n"
            "from pathlib import Path\n"
            "from wordvecs.sets.download import file_lock\n"
            "with file_lock(Path(sys.argv[1]), 'test'):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(0.6)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(wordvecs.__file__).parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", code, str(lock)], stdout=subprocess.PIPE,
                            text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        started = time.monotonic()
        v = wordvecs.load("test.6d")
        assert time.monotonic() - started >= 0.3  # it waited for the other process
        assert v.dim == DIM
    finally:
        proc.wait(10)
