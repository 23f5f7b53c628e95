"""The downloader and the cache against hostile servers, planted links and full or read-only disks.

Issue 14 items 2, 3, 4, 6, 8 and 16 (download side), issue 15 §3 and §6, issue 16 (the re-check of a
cached download). Every server here is a thread on 127.0.0.1 started by the test; every timeout is
configured small (``WORDVECS_DOWNLOAD_*``), so each test ends in seconds.
"""

from __future__ import annotations

import errno
import hashlib
import http.server
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
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
from wordvecs.errors import ChecksumError, DownloadError, SourceError, WordvecsError
from wordvecs.sets import catalog, download, opener

DIM = 4
WORDS = ["the", "king", "queen", "apple", "pear"]


def _text(seed: int) -> tuple[bytes, np.ndarray]:
    return vectors_text(WORDS, DIM, seed)


def _zip(members: dict[str, bytes], pad: int = 0) -> bytes:
    """A stored (uncompressed) zip, so a splice of two versions is a valid-looking zip of junk."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if pad:
            zf.writestr("padding.bin", bytes(pad))
    return buf.getvalue()


# --- a server that misbehaves on request -------------------------------------------------------
@dataclass
class Res:
    """One resource and how the server misbehaves when serving it."""

    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    ranges: bool = True  # answer Range with 206
    if_range: bool = True  # honour If-Range (a changed validator gets the whole file, 200)
    length: bool = True  # send Content-Length (else the body ends when the connection closes)
    cut: int = 0  # the next `cut` responses stop halfway through the body
    trickle: float = 0.0  # seconds between single bytes of the body
    header_trickle: float = 0.0  # seconds between single bytes of the status line and headers
    give_up_after: float = 6.0  # a trickle stops (connection closed) after this many seconds
    endless: bool = False  # a body that never ends (zeros)
    location: str | None = None  # answer 302 to this
    silent: bool = False  # accept the connection, never answer
    partial_always: bool = False  # answer 206 from byte 10, whatever was asked
    pieces: int = 0  # send the body in this many pieces, 0.1 s apart


@dataclass
class Server:
    base: str = ""
    res: dict[str, Res] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    endless_sent: int = 0

    def headers_of(self, path: str) -> list[dict[str, str]]:
        return [h for p, h in self.requests if p == path]


def _handler(state: Server) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # one branch per misbehaviour
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            r = state.res.get(self.path)
            if r is None:
                self.send_error(404)
                return
            if r.silent:
                time.sleep(r.give_up_after)
                self.close_connection = True
                return
            if r.location is not None:
                self.send_response(302)
                self.send_header("Location", r.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data, status, start = r.body, 200, 0
            rng, cond = self.headers.get("Range"), self.headers.get("If-Range")
            fresh = cond is None or not r.if_range or cond in (r.etag, r.last_modified)
            if r.partial_always:
                rng = "bytes=10-"
            if rng and r.ranges and fresh:
                start = int(rng.removeprefix("bytes=").split("-")[0])
                status = 206
            body = data[start:]
            head = [f"HTTP/1.1 {status} {'Partial Content' if status == 206 else 'OK'}"]
            if status == 206:
                head.append(f"Content-Range: bytes {start}-{len(data) - 1}/{len(data)}")
            if r.length and not r.endless:
                head.append(f"Content-Length: {len(body)}")
            else:
                head.append("Connection: close")
            if r.etag:
                head.append(f"ETag: {r.etag}")
            if r.last_modified:
                head.append(f"Last-Modified: {r.last_modified}")
            raw = ("\r\n".join(head) + "\r\n\r\n").encode()
            self.close_connection = True
            try:
                if r.header_trickle:
                    t0 = time.monotonic()
                    for i in range(len(raw)):
                        if time.monotonic() - t0 > r.give_up_after:
                            return
                        self.wfile.write(raw[i:i + 1])
                        self.wfile.flush()
                        time.sleep(r.header_trickle)
                else:
                    self.wfile.write(raw)
                if r.endless:
                    chunk = bytes(65536)
                    while state.endless_sent < 200 << 20:  # a safety net for the test itself
                        self.wfile.write(chunk)
                        state.endless_sent += len(chunk)
                    return
                if r.trickle:
                    t0 = time.monotonic()
                    for i in range(len(body)):
                        if time.monotonic() - t0 > r.give_up_after:
                            return
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(r.trickle)
                    return
                if r.pieces:
                    step = -(-len(body) // r.pieces)
                    for i in range(0, len(body), step):
                        self.wfile.write(body[i:i + step])
                        self.wfile.flush()
                        time.sleep(0.1)
                    return
                if r.cut > 0:
                    r.cut -= 1
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()
    with serving(_handler(state)) as base:
        state.base = base
        yield state


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = wordvecs_home(tmp_path, monkeypatch)
    # small limits, so that a hostile server costs seconds, not minutes
    monkeypatch.setenv("WORDVECS_DOWNLOAD_TIMEOUT", "2")
    monkeypatch.setenv("WORDVECS_DOWNLOAD_MIN_RATE", "200")
    monkeypatch.setenv("WORDVECS_DOWNLOAD_RATE_WINDOW", "1")
    return home


def _catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entries: dict[str, dict]) -> None:
    write_catalog(tmp_path, monkeypatch, entries)


@pytest.fixture
def one_set(server: Server, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`hostile`: a zip with one member, served with an ETag."""
    text, matrix = _text(0)
    server.res["/h/set.zip"] = Res(_zip({"a.txt": text}, pad=4000), etag='"v1"')
    _catalog(tmp_path, monkeypatch, {"hostile": {"url": f"{server.base}/h/set.zip",
                                                 "member": "a.txt"}})
    return server, matrix


def _dest(name: str) -> Path:
    entry = catalog.find_entry(name)
    assert entry is not None
    return catalog.download_path(entry)


def _part(name: str) -> Path:
    dest = _dest(name)
    return dest.with_name(dest.name + ".part")


# --- item 2: links and foreign files in the cache are never written through -------------------
@pytest.mark.parametrize("dangling", [False, True])
def test_symlinked_part_is_never_written_through(one_set, home: Path, tmp_path: Path,
                                                 dangling: bool) -> None:
    victim = tmp_path / "victim.txt"
    if not dangling:
        victim.write_bytes(b"precious\n")
    part = _part("hostile")
    part.parent.mkdir(parents=True)
    part.symlink_to(victim)
    with pytest.raises(DownloadError) as info:
        wordvecs.load("hostile")
    assert str(part) in str(info.value) and "link" in str(info.value)
    if dangling:
        assert not victim.exists() and not victim.is_symlink()  # nothing created through it
    else:
        assert victim.read_bytes() == b"precious\n"
    assert part.is_symlink()  # left as it is, never renamed into the cache
    assert not _dest("hostile").exists() and not (home / "hostile.wv").exists()


def test_hard_linked_part_is_foreign(one_set, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    part = _part("hostile")
    part.parent.mkdir(parents=True)
    os.link(victim, part)
    with pytest.raises(DownloadError, match="hard link"):
        wordvecs.load("hostile")
    assert victim.read_bytes() == b"precious\n"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root can give a file to another user")
def test_part_owned_by_someone_else_is_foreign(one_set) -> None:
    part = _part("hostile")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"PK")
    os.chown(part, 4242, 4242)
    with pytest.raises(DownloadError, match="owned by uid 4242"):
        wordvecs.load("hostile")
    assert part.read_bytes() == b"PK"


def test_fifo_part_does_not_hang(one_set) -> None:
    part = _part("hostile")
    part.parent.mkdir(parents=True)
    os.mkfifo(part)
    with pytest.raises(DownloadError, match="not a regular file"):
        wordvecs.load("hostile")


def test_symlinked_download_is_not_read(one_set, home: Path, tmp_path: Path) -> None:
    """A complete download that is a link (to a file with the right bytes, even) is foreign."""
    server, _ = one_set
    other = tmp_path / "elsewhere.zip"
    other.write_bytes(server.res["/h/set.zip"].body)
    dest = _dest("hostile")
    dest.parent.mkdir(parents=True)
    dest.symlink_to(other)
    with pytest.raises(DownloadError, match="link"):
        wordvecs.load("hostile")
    assert dest.is_symlink() and not (home / "hostile.wv").exists()


def test_symlinked_downloads_folder_is_foreign(one_set, home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    home.mkdir()
    (home / "downloads").symlink_to(elsewhere)
    with pytest.raises(DownloadError, match="link"):
        wordvecs.load("hostile")
    assert list(elsewhere.iterdir()) == []


def test_symlinked_lock_file_is_not_truncated(one_set, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    lock = catalog.lock_path("hostile")
    lock.parent.mkdir(parents=True)
    lock.symlink_to(victim)
    with pytest.raises(WordvecsError, match="link"):
        wordvecs.load("hostile")
    assert victim.read_bytes() == b"precious\n"


def test_part_swapped_for_a_link_during_the_download(one_set, home: Path,
                                                     tmp_path: Path) -> None:
    """The race: the .part is replaced by a link while the bytes arrive. The bytes still go to
    the file wordvecs opened; the link that the rename moves under the final name is caught by
    comparing inodes, and removed; the link's target is never written."""
    server, _ = one_set
    server.res["/h/set.zip"].pieces = 20
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    part = _part("hostile")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            wordvecs.load("hostile")
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 10
    while not (part.exists() and part.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.01)
    link = part.with_name("swap")
    link.symlink_to(victim)
    os.replace(link, part)
    thread.join(20)
    assert len(errors) == 1 and isinstance(errors[0], DownloadError), errors
    assert "replaced" in str(errors[0])
    assert victim.read_bytes() == b"precious\n"
    dest = _dest("hostile")
    assert not dest.exists() and not dest.is_symlink()
    assert not (home / "hostile.wv").exists()


def test_cache_remove_of_a_symlinked_store_keeps_the_target(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "mine.wv"
    wordvecs.Vectors(WORDS, _text(0)[1]).save(target)
    before = sorted(p.name for p in target.iterdir())
    home.mkdir()
    (home / "glove-6b-100d.wv").symlink_to(target)
    result = CliRunner().invoke(cli, ["cache", "remove", "glove-6b-100d"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "link" in result.output
    assert not (home / "glove-6b-100d.wv").is_symlink()
    assert sorted(p.name for p in target.iterdir()) == before


def test_cache_remove_leaves_a_folder_that_is_not_a_store(home: Path) -> None:
    folder = home / "glove-6b-100d.wv"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["cache", "remove", "glove-6b-100d"])
    assert result.exit_code == 2 and "not a wordvecs store" in result.output
    assert (folder / "notes.txt").read_text() == "mine"


def test_cache_remove_deletes_nothing_through_a_linked_downloads_folder(home: Path,
                                                                         tmp_path: Path) -> None:
    mine = tmp_path / "Downloads"
    mine.mkdir()
    (mine / "glove.6B.zip").write_bytes(b"the user's own copy")
    home.mkdir()
    (home / "downloads").symlink_to(mine)
    wordvecs.Vectors(WORDS, _text(0)[1]).save(home / "glove-6b-100d.wv")
    result = CliRunner().invoke(cli, ["cache", "remove", "glove-6b-100d"])
    assert result.exit_code == 2 and "link" in result.output, result.output
    assert (mine / "glove.6B.zip").read_bytes() == b"the user's own copy"
    assert (home / "glove-6b-100d.wv" / "meta.json").is_file()  # nothing removed half-way


# --- item 3: downloads keyed by the entry, digests per set --------------------------------------
def test_same_file_name_different_urls_never_share_bytes(server: Server, home: Path,
                                                         tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (t1, m1), (t2, m2) = _text(1), _text(2)
    server.res["/one/vectors.zip"] = Res(_zip({"v.txt": t1}))
    server.res["/two/vectors.zip"] = Res(_zip({"v.txt": t2}))
    _catalog(tmp_path, monkeypatch, {
        "set-one": {"url": f"{server.base}/one/vectors.zip", "member": "v.txt"},
        "set-two": {"url": f"{server.base}/two/vectors.zip", "member": "v.txt"}})
    np.testing.assert_array_equal(wordvecs.load("set-one").matrix, m1)
    np.testing.assert_array_equal(wordvecs.load("set-two").matrix, m2)
    assert len(server.headers_of("/two/vectors.zip")) == 1
    assert _dest("set-one") != _dest("set-two")


def test_same_url_shares_one_download(server: Server, home: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (t1, m1), (t2, m2) = _text(1), _text(2)
    server.res["/both.zip"] = Res(_zip({"a.txt": t1, "b.txt": t2}))
    _catalog(tmp_path, monkeypatch, {
        "set-a": {"url": f"{server.base}/both.zip", "member": "a.txt"},
        "set-b": {"url": f"{server.base}/both.zip", "member": "b.txt"}})
    np.testing.assert_array_equal(wordvecs.load("set-a").matrix, m1)
    np.testing.assert_array_equal(wordvecs.load("set-b").matrix, m2)
    assert len(server.headers_of("/both.zip")) == 1


def test_digest_recorded_per_set_not_per_file_name(home: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 §3: adding one set from a home-made zip must not block another set's real zip."""
    (t1, _), (t2, m2) = _text(1), _text(2)
    _catalog(tmp_path, monkeypatch, {
        "set-a": {"url": "https://example.invalid/shared.zip", "member": "a.txt"},
        "set-b": {"url": "https://example.invalid/shared.zip", "member": "b.txt"}})
    mine = tmp_path / "mine" / "shared.zip"
    mine.parent.mkdir()
    mine.write_bytes(_zip({"a.txt": t1}))
    real = tmp_path / "real" / "shared.zip"
    real.parent.mkdir()
    real.write_bytes(_zip({"a.txt": t1, "b.txt": t2}))
    opener.add("set-a", mine)
    opener.add("set-b", real)  # was: sha256 mismatch against set-a's file
    np.testing.assert_array_equal(wordvecs.load("set-b").matrix, m2)
    # each set keeps its own digest: another file for set-a is still refused
    with pytest.raises(ChecksumError):
        opener.add("set-a", real, force=False)


# --- item 4: resume only with a validator the server confirms ----------------------------------
def _leave_part(server: Server, path: str, name: str) -> int:
    """Cut every response to `path` and fail: the .part of a first attempt is left."""
    server.res[path].cut = 100
    with pytest.raises(DownloadError):
        download.fetch_url(server.base + path, _dest(name), retries=0)
    server.res[path].cut = 0
    return _part(name).stat().st_size


@pytest.mark.parametrize("if_range", [True, False])
def test_changed_file_is_never_spliced(one_set, home: Path, if_range: bool) -> None:
    server, _ = one_set
    have = _leave_part(server, "/h/set.zip", "hostile")
    assert have > 0
    text, matrix = _text(7)  # a new version upstream, with a new ETag
    server.res["/h/set.zip"] = Res(_zip({"a.txt": text}, pad=4000), etag='"v2"', if_range=if_range)
    v = wordvecs.load("hostile")
    np.testing.assert_array_equal(v.matrix, matrix)
    tries = server.headers_of("/h/set.zip")
    assert any(h.get("if-range") == '"v1"' for h in tries)  # recorded when the .part began
    if not if_range:  # the 206 of another version was refused; the retry asks for all of it
        assert "range" not in tries[-1]
    digest = hashlib.sha256(server.res["/h/set.zip"].body).hexdigest()
    assert digest in catalog.digest_path("hostile").read_text()


def test_same_validator_resumes(one_set) -> None:
    server, matrix = one_set
    have = _leave_part(server, "/h/set.zip", "hostile")
    np.testing.assert_array_equal(wordvecs.load("hostile").matrix, matrix)
    last = server.headers_of("/h/set.zip")[-1]
    assert last.get("range") == f"bytes={have}-" and last.get("if-range") == '"v1"'


def test_last_modified_is_a_validator_too(one_set) -> None:
    server, matrix = one_set
    lm = "Wed, 21 Oct 2015 07:28:00 GMT"
    server.res["/h/set.zip"].etag = None
    server.res["/h/set.zip"].last_modified = lm
    _leave_part(server, "/h/set.zip", "hostile")
    np.testing.assert_array_equal(wordvecs.load("hostile").matrix, matrix)
    assert server.headers_of("/h/set.zip")[-1].get("if-range") == lm


def test_no_validator_means_start_over(one_set) -> None:
    server, matrix = one_set
    server.res["/h/set.zip"].etag = None
    _leave_part(server, "/h/set.zip", "hostile")
    np.testing.assert_array_equal(wordvecs.load("hostile").matrix, matrix)
    last = server.headers_of("/h/set.zip")[-1]
    assert "range" not in last and "if-range" not in last


def test_weak_etag_is_no_validator(one_set) -> None:
    server, matrix = one_set
    server.res["/h/set.zip"].etag = 'W/"v1"'
    _leave_part(server, "/h/set.zip", "hostile")
    np.testing.assert_array_equal(wordvecs.load("hostile").matrix, matrix)
    assert "range" not in server.headers_of("/h/set.zip")[-1]


def test_a_part_from_a_killed_process_without_record_starts_over(one_set) -> None:
    server, matrix = one_set
    part = _part("hostile")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"JUNK" * 100)  # no record of the validator it was started with
    np.testing.assert_array_equal(wordvecs.load("hostile").matrix, matrix)
    assert "range" not in server.headers_of("/h/set.zip")[-1]


def test_lying_server_splice_is_not_trusted(one_set, home: Path) -> None:
    """A server that keeps its ETag while the bytes change splices two versions; the spliced file
    fails its conversion, so neither its digest nor the file itself is kept."""
    server, _ = one_set
    _leave_part(server, "/h/set.zip", "hostile")
    text, matrix = _text(9)
    server.res["/h/set.zip"] = Res(_zip({"a.txt": text}, pad=4000), etag='"v1"')
    with pytest.raises(WordvecsError):
        wordvecs.load("hostile")
    assert not catalog.digest_path("hostile").exists()
    assert not _dest("hostile").exists()
    np.testing.assert_array_equal(wordvecs.load("hostile").matrix, matrix)  # the next try is clean


@pytest.mark.parametrize("extra", [-100, 100])
def test_body_length_must_match_the_catalog_size(server: Server, home: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 extra: int) -> None:
    text, _ = _text(1)
    body = _zip({"v.txt": text})
    server.res["/s.zip"] = Res(body, length=False)  # no Content-Length: only the catalog says
    url = f"{server.base}/s.zip"
    _catalog(tmp_path, monkeypatch, {"sized": {"url": url, "member": "v.txt",
                                               "size": len(body) - extra}})
    with pytest.raises(DownloadError) as info:
        wordvecs.load("sized")
    msg = str(info.value)
    assert url in msg and str(len(body) - extra) in msg
    assert not _dest("sized").exists() and not (home / "sized.wv").exists()


def test_content_length_contradicting_the_catalog_size(server: Server, home: Path,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    text, _ = _text(1)
    body = _zip({"v.txt": text})
    server.res["/s.zip"] = Res(body)
    _catalog(tmp_path, monkeypatch, {"sized": {"url": f"{server.base}/s.zip", "member": "v.txt",
                                               "size": len(body) + 1}})
    with pytest.raises(DownloadError, match=f"{len(body)}.*{len(body) + 1}"):
        wordvecs.load("sized")


def test_unasked_partial_content_is_refused(one_set) -> None:
    server, _ = one_set
    server.res["/h/set.zip"].partial_always = True
    with pytest.raises(DownloadError, match="206"):
        wordvecs.load("hostile")
    assert not _dest("hostile").exists()


def test_short_body_against_content_length(one_set) -> None:
    server, _ = one_set
    server.res["/h/set.zip"].cut = 100
    server.res["/h/set.zip"].etag = None  # nothing to resume with: every try starts over
    with pytest.raises(DownloadError) as info:
        wordvecs.load("hostile")
    n = len(server.res["/h/set.zip"].body)
    assert f"{n // 2} of {n}" in str(info.value) or (str(n) in str(info.value)
                                                     and str(n // 2) in str(info.value))
    assert not _dest("hostile").exists()


# --- item 6: only http(s) in a catalog ---------------------------------------------------------
def test_file_url_in_user_catalog_is_refused(home: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-LINE\n")
    _catalog(tmp_path, monkeypatch, {"leak": {"url": secret.as_uri()}})
    with pytest.raises(SourceError) as info:
        wordvecs.load("leak")
    assert "http" in str(info.value) and "wordvecs add" in str(info.value)
    assert "TOP-SECRET" not in str(info.value)
    assert not home.exists() or not any(home.rglob("*secret*"))


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x"])
def test_redirect_away_from_http_is_refused(server: Server, home: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    server.res["/r.zip"] = Res(location=target)
    _catalog(tmp_path, monkeypatch, {"redir": {"url": f"{server.base}/r.zip"}})
    with pytest.raises(DownloadError) as info:
        wordvecs.load("redir")
    assert "root:" not in str(info.value)
    assert not _dest("redir").exists()


def test_fetch_url_refuses_other_schemes(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "x.txt"
    src.write_text("a 1 2\n")
    with pytest.raises(DownloadError, match="http"):
        download.fetch_url(src.as_uri(), home / "out")
    assert not (home / "out").exists()


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """The same server over TLS, with a certificate made here and trusted through SSL_CERT_FILE."""
    import ssl

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True,
                   timeout=60)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    state = Server()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    state.base = f"https://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_https_download_resume_and_trickle(tls_server: Server, home: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    text, matrix = _text(4)
    tls_server.res["/t.zip"] = Res(_zip({"v.txt": text}, pad=4000), etag='"t1"', cut=1)
    tls_server.res["/slow.zip"] = Res(_zip({"v.txt": text}, pad=4000), trickle=0.3)
    _catalog(tmp_path, monkeypatch, {
        "tls": {"url": f"{tls_server.base}/t.zip", "member": "v.txt"},
        "tls-slow": {"url": f"{tls_server.base}/slow.zip", "member": "v.txt"}})
    np.testing.assert_array_equal(wordvecs.load("tls").matrix, matrix)
    assert tls_server.headers_of("/t.zip")[-1].get("if-range") == '"t1"'
    started = time.monotonic()
    with pytest.raises(DownloadError, match="too slow"):  # the watchdog holds the TLS socket too
        wordvecs.load("tls-slow")
    assert time.monotonic() - started < 5


def test_https_to_http_redirect_is_refused(tls_server: Server, server: Server, home: Path,
                                           tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    server.res["/plain.zip"] = Res(_zip({"v.txt": _text(1)[0]}))
    tls_server.res["/r.zip"] = Res(location=f"{server.base}/plain.zip")
    _catalog(tmp_path, monkeypatch, {"down": {"url": f"{tls_server.base}/r.zip",
                                              "member": "v.txt"}})
    with pytest.raises(DownloadError, match="https to plain http"):
        wordvecs.load("down")
    assert not server.requests


# --- item 8: trickles, silence, endless bodies -------------------------------------------------
def test_trickling_body_stops(one_set) -> None:
    server, _ = one_set
    server.res["/h/set.zip"].trickle = 0.3
    started = time.monotonic()
    with pytest.raises(DownloadError, match="too slow"):
        wordvecs.load("hostile")
    assert time.monotonic() - started < 5


def test_trickling_headers_stop(one_set) -> None:
    server, _ = one_set
    server.res["/h/set.zip"].header_trickle = 0.3
    started = time.monotonic()
    with pytest.raises(DownloadError, match="too slow"):
        wordvecs.load("hostile")
    assert time.monotonic() - started < 5


def test_silent_server_times_out(one_set, monkeypatch: pytest.MonkeyPatch) -> None:
    server, _ = one_set
    server.res["/h/set.zip"].silent = True
    monkeypatch.setenv("WORDVECS_DOWNLOAD_MIN_RATE", "0")  # only the per-read timeout is left
    started = time.monotonic()
    with pytest.raises(DownloadError):
        wordvecs.load("hostile")
    assert time.monotonic() - started < 5


def test_overall_deadline(one_set, monkeypatch: pytest.MonkeyPatch) -> None:
    server, _ = one_set
    server.res["/h/set.zip"].trickle = 0.001  # fast enough for the rate, too slow for 1 s
    server.res["/h/set.zip"].body += bytes(20000)
    monkeypatch.setenv("WORDVECS_DOWNLOAD_DEADLINE", "1")
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"deadline|too slow"):
        wordvecs.load("hostile")
    assert time.monotonic() - started < 5


def test_endless_body_stops_at_the_catalog_size(server: Server, home: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    server.res["/e.zip"] = Res(endless=True)
    _catalog(tmp_path, monkeypatch, {"endless": {"url": f"{server.base}/e.zip", "size": 10000}})
    with pytest.raises(DownloadError, match="10000"):
        wordvecs.load("endless")
    on_disk = sum(p.stat().st_size for p in home.rglob("*") if p.is_file())
    assert on_disk <= 10000 + (1 << 20)


def test_endless_body_without_any_size_stops_at_the_limit(server: Server, home: Path,
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    server.res["/e.zip"] = Res(endless=True)
    monkeypatch.setenv("WORDVECS_DOWNLOAD_MAX_BYTES", "50000")
    _catalog(tmp_path, monkeypatch, {"endless": {"url": f"{server.base}/e.zip"}})
    with pytest.raises(DownloadError, match="50000"):
        wordvecs.load("endless")
    on_disk = sum(p.stat().st_size for p in home.rglob("*") if p.is_file())
    assert on_disk <= 50000 + (1 << 20)


# --- item 16: disk full, read-only cache, one line at the CLI ----------------------------------
def _cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORDVECS_")}
    env.update({k: v for k, v in os.environ.items() if k.startswith("WORDVECS_")})
    env["WORDVECS_HOME"] = str(home)
    env["PYTHONPATH"] = str(Path(wordvecs.__file__).parents[1])
    return env


def _big_set(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, _ = _text(1)
    server.res["/big.zip"] = Res(_zip({"v.txt": text}, pad=300_000), etag='"b"')
    _catalog(tmp_path, monkeypatch, {"big": {"url": f"{server.base}/big.zip", "member": "v.txt"}})


def _check_one_line(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    out = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 2, out
    assert "Traceback" not in out and len(out.splitlines()) == 1, out
    assert "connection" not in out.lower(), out
    for w in words:
        assert w in out, out


def test_file_size_limit_is_a_write_error_not_a_lost_connection(
        server: Server, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write refused by the kernel (here RLIMIT_FSIZE: EFBIG) is named as such, exit 2."""
    import resource

    _big_set(server, tmp_path, monkeypatch)

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    proc = subprocess.run([sys.executable, "-m", "wordvecs", "download", "big", "-q"],
                          env=_cli_env(home), capture_output=True, text=True, timeout=60,
                          preexec_fn=limit)
    _check_one_line(proc, os.strerror(errno.EFBIG))


def _unshare_ok() -> bool:
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
                           capture_output=True, timeout=10)
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(not _unshare_ok(),
                                  reason="needs `unshare -m` and tmpfs mounts (root)")


@needs_mounts
def test_disk_full_during_download_is_reported_as_such(
        server: Server, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _big_set(server, tmp_path, monkeypatch)
    home.mkdir()
    script = (f'mount -t tmpfs -o size=128k tmpfs "{home}" && '
              f'exec "{sys.executable}" -m wordvecs download big -q')
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], env=_cli_env(home),
                          capture_output=True, text=True, timeout=60)
    _check_one_line(proc, os.strerror(errno.ENOSPC))


@needs_mounts
def test_read_only_cache_is_reported_as_such(
        server: Server, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _big_set(server, tmp_path, monkeypatch)
    home.mkdir()
    script = (f'mount -t tmpfs -o ro tmpfs "{home}" && '
              f'exec "{sys.executable}" -m wordvecs download big -q')
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], env=_cli_env(home),
                          capture_output=True, text=True, timeout=60)
    _check_one_line(proc, os.strerror(errno.EROFS), "WORDVECS_HOME")


def test_cache_path_of_an_unknown_name(home: Path) -> None:
    result = CliRunner().invoke(cli, ["cache", "path", "nonsense"])
    assert result.exit_code == 2 and "nonsense" in result.output
    assert len(result.output.strip().splitlines()) == 1
    ok = CliRunner().invoke(cli, ["cache", "path", "glove.6B.100d"])
    assert ok.exit_code == 0 and ok.output.strip() == str(home / "glove-6b-100d.wv")


# --- issue 15 §3: `add` of a file that contradicts the catalog ---------------------------------
def test_add_contradicting_dim_is_an_error_unless_forced(home: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORDVECS_CATALOG", raising=False)
    text, matrix = _text(1)  # 4 dimensions, 5 words; the catalog says 100 and 400,000
    path = tmp_path / "glove.6B.zip"
    path.write_bytes(_zip({"glove.6B.100d.txt": text}))
    runner = CliRunner()
    refused = runner.invoke(cli, ["add", "glove.6B.100d", str(path), "-q"])
    assert refused.exit_code == 2, refused.output
    assert "4 dimensions" in refused.output and "100" in refused.output
    assert "--force" in refused.output and len(refused.output.strip().splitlines()) == 1
    assert catalog.cached_store("glove-6b-100d") is None
    assert not catalog.digest_path("glove-6b-100d").exists()
    forced = runner.invoke(cli, ["add", "glove.6B.100d", str(path), "-q", "--force"])
    assert forced.exit_code == 0, forced.output
    np.testing.assert_array_equal(wordvecs.load("glove.6B.100d").matrix, matrix)
    assert not catalog.digest_path("glove-6b-100d").exists()  # a forced file is not trusted


def test_add_contradicting_count_is_an_error(home: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    text, _ = _text(1)
    _catalog(tmp_path, monkeypatch, {"counted": {"url": "https://example.invalid/c.txt",
                                                 "dim": DIM, "count": len(WORDS) + 1}})
    path = tmp_path / "c.txt"
    path.write_bytes(text)
    with pytest.raises(SourceError, match=f"{len(WORDS)} words.*{len(WORDS) + 1}"):
        opener.add("counted", path)
    with pytest.warns(wordvecs.WordvecsWarning, match="5 words"):
        opener.add("counted", path, force=True)


def test_add_count_allows_dropped_duplicates(home: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalog counts the file's rows; a duplicate row the reader drops is no contradiction."""
    text, _ = _text(1)
    _catalog(tmp_path, monkeypatch, {"counted": {"url": "https://example.invalid/c.txt",
                                                 "dim": DIM, "count": len(WORDS) + 1}})
    path = tmp_path / "c.txt"
    path.write_bytes(text + text.splitlines(keepends=True)[0])
    with pytest.warns(wordvecs.WordvecsWarning, match="duplicate"):
        opener.add("counted", path)


# --- issue 16: a cached download is re-checked against its digest ------------------------------
def test_cached_download_is_rechecked(one_set, home: Path) -> None:
    server, _ = one_set
    wordvecs.load("hostile")
    shutil.rmtree(home / "hostile.wv")  # the store is gone; the download stays
    dest = _dest("hostile")
    data = bytearray(dest.read_bytes())
    data[-30] ^= 0xFF  # one bit-flip in the zip's directory: same size
    dest.write_bytes(bytes(data))
    good = hashlib.sha256(server.res["/h/set.zip"].body).hexdigest()
    bad = hashlib.sha256(bytes(data)).hexdigest()
    n = len(server.requests)
    with pytest.raises(ChecksumError) as info:
        wordvecs.load("hostile")
    assert good in str(info.value) and bad in str(info.value)
    assert not dest.exists() and len(server.requests) == n


# --- issue 10 §6: fastText .bin sets in the catalog --------------------------------------------
def test_fasttext_bin_entries() -> None:
    cc = catalog.find_entry("cc.en.300.bin")
    assert cc is not None and cc.member is None and cc.dim == 300
    assert cc.url == "https://dl.fbaipublicfiles.com/fasttext/vectors-crawl/cc.en.300.bin.gz"
    de = catalog.find_entry("cc.de.300.bin")
    assert de is not None and de.url.endswith("/cc.de.300.bin.gz")
    assert catalog.find_entry("cc.de.300").url.endswith("/cc.de.300.vec.gz")  # type: ignore
    crawl = catalog.find_entry("crawl-300d-2M-subword.bin")
    assert crawl is not None and crawl.member == "crawl-300d-2M-subword.bin"
    assert crawl.url == ("https://dl.fbaipublicfiles.com/fasttext/vectors-english/"
                         "crawl-300d-2M-subword.zip")
    wiki = catalog.find_entry("wiki-news-300d-1M-subword.bin")
    assert wiki is not None and wiki.member == "wiki-news-300d-1M-subword.bin"
    assert wiki.url == ("https://dl.fbaipublicfiles.com/fasttext/vectors-english/"
                        "wiki-news-300d-1M-subword.bin.zip")
    # the .vec half of the crawl zip shares its download with the .bin entry
    assert catalog.download_path(crawl) == catalog.download_path(
        catalog.find_entry("crawl-300d-2M-subword"))  # type: ignore[arg-type]


@pytest.mark.parametrize("member", [None, "vectors.bin"])
def test_named_set_may_be_a_bin_or_bin_gz(server: Server, home: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          member: str | None) -> None:
    """A named set whose file is a `.bin.gz` or a `.bin` zip member goes through wordvecs.load
    (word2vec binary here; fastText .bin where the fastText reader is installed)."""
    import gzip

    _, matrix = _text(3)
    binary = tmp_path / "v.bin"
    wordvecs.Vectors(WORDS, matrix).save(binary, format="word2vec-binary")
    raw = binary.read_bytes()
    body = gzip.compress(raw) if member is None else _zip({member: raw})
    path = "/v.bin.gz" if member is None else "/v.bin.zip"
    server.res[path] = Res(body)
    entry = {"url": server.base + path, "dim": DIM, "count": len(WORDS)}
    if member:
        entry["member"] = member
    _catalog(tmp_path, monkeypatch, {"binset": entry})
    np.testing.assert_array_equal(wordvecs.load("binset").matrix, matrix)
