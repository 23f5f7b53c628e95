"""``wordvecs serve``: a real HTTP client against a server the test starts on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.keras

httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")

LABELS = ["money", "sport", "tech"]
WORDS = ["bank", "shares", "goal", "match", "computer", "software", "the", "a"]


def make_classifier():  # type: ignore[no-untyped-def]
    import keras

    from wordvecs.text.datasets import Vocabulary
    from wordvecs.training.train import Classifier

    keras.utils.set_random_seed(0)
    vocab = Vocabulary(WORDS)
    inputs = keras.Input(shape=(12,), dtype="int32")
    x = keras.layers.Embedding(len(vocab), 6)(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(len(LABELS), activation="softmax")(x)
    return Classifier(keras.Model(inputs, outputs), vocab, LABELS, max_len=12)


class _Server:
    def __init__(self, app, sock: socket.socket, limits: bool = False) -> None:  # type: ignore[no-untyped-def]
        if limits:  # the service's own config: its timeouts applied
            from wordvecs.training.serve import uvicorn_config

            config = uvicorn_config(app, log_level="error", lifespan="on")
        else:
            config = uvicorn.Config(app, log_level="error", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)
        self.url = "http://127.0.0.1:%d" % sock.getsockname()[1]

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
def clf():  # type: ignore[no-untyped-def]
    return make_classifier()


@pytest.fixture(scope="module")
def server(clf) -> Iterator[_Server]:  # type: ignore[no-untyped-def]
    from wordvecs.training.serve import ServeLimits, create_app

    limits = ServeLimits(max_body=4096, max_texts=50, max_chars=500, max_batch=64, max_wait=0.2)
    app = create_app(clf, limits)
    with _Server(app, _listening_socket()) as s:
        s.app = app  # type: ignore[attr-defined]
        yield s


def test_health_and_predict_equal_the_model(server, clf) -> None:  # type: ignore[no-untyped-def]
    health = httpx.get(server.url + "/health", timeout=10).json()
    assert health["status"] == "ok" and health["labels"] == LABELS and health["max_len"] == 12
    texts = ["the bank shares", "a goal in the match", "software on a computer", "zzz unknown"]
    r = httpx.post(server.url + "/predict", json={"texts": texts}, timeout=10)
    assert r.status_code == 200
    got = r.json()["predictions"]
    want = clf.predict_proba(texts)
    assert [p["label"] for p in got] == [LABELS[i] for i in np.argmax(want, axis=1)]
    np.testing.assert_allclose([[p["probabilities"][c] for c in LABELS] for p in got], want,
                               atol=1e-6)
    one = httpx.post(server.url + "/predict", json={"text": texts[0]}, timeout=10).json()
    assert one["predictions"][0]["probability"] == pytest.approx(float(want[0].max()), abs=1e-6)


def test_concurrent_requests_share_forward_passes(server, clf) -> None:  # type: ignore[no-untyped-def]
    texts = [f"the bank {'goal ' * (i % 3)}software" for i in range(16)]
    before = server.app.state.batcher.batches

    def ask(t: str) -> dict:  # type: ignore[type-arg]
        return httpx.post(server.url + "/predict", json={"text": t}, timeout=20).json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, texts))
    want = clf.predict_proba(texts)
    for ans, row in zip(answers, want):
        np.testing.assert_allclose([ans["predictions"][0]["probabilities"][c] for c in LABELS],
                                   row, atol=1e-6)
    used = server.app.state.batcher.batches - before
    assert 1 <= used < len(texts)  # requests that arrived together were answered together


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (b'{"texts": "abc"}', 400, "list of strings"),
    (b'{"texts": []}', 400, "empty"),
    (b'{"text": "a", "texts": ["b"]}', 400, "exactly one"),
    (b'{"texts": ["ok", 3]}', 400, "text 1 is int"),
    (b'{"texts": ["ok", "  "]}', 400, "text 1 is empty"),
    (b'{"text": "' + b"x" * 600 + b'"}', 413, "600 characters"),
    (json.dumps({"texts": ["a"] * 51}).encode(), 413, "51 texts"),
    (b'{"text": "' + b"y" * 5000 + b'"}', 413, "limit is 4,096"),
    (b"\xff\xfe", 400, "not valid JSON"),
])
def test_bad_requests_get_clear_errors(server, body, status, message) -> None:  # type: ignore[no-untyped-def]
    r = httpx.post(server.url + "/predict", content=body, timeout=10,
                   headers={"content-type": "application/json"})
    assert r.status_code == status
    assert message in r.json()["error"]
    assert httpx.get(server.url + "/health", timeout=10).status_code == 200  # still serving


def test_body_without_length_is_capped(server) -> None:  # type: ignore[no-untyped-def]
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"z" * 1000
        yield b'"}'

    r = httpx.post(server.url + "/predict", content=chunks(), timeout=10)
    assert r.status_code == 413 and "over the limit" in r.json()["error"]


@pytest.mark.slow
def test_cli_serves_a_saved_classifier(clf, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = clf.save(tmp_path / "run")
    sock = _listening_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen([sys.executable, "-m", "wordvecs", "serve", str(run), "--port",
                             str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.2)
        r = httpx.post(f"http://127.0.0.1:{port}/predict", json={"text": "the bank shares"},
                       timeout=10)
        want = clf.predict_proba(["the bank shares"])[0]
        got = r.json()["predictions"][0]["probabilities"]
        np.testing.assert_allclose([got[c] for c in LABELS], want, atol=1e-6)
    finally:
        proc.terminate()
        proc.wait(20)


# --- one client never breaks another's request (issue 24, item 2) -------------------------------
BAD_TEXT = "hello \ud800 world"  # valid JSON ("\ud800"), not valid Unicode: a lone surrogate


def _post(url: str, payload: object, timeout: float = 30):  # type: ignore[no-untyped-def]
    """POST ``payload`` as ASCII JSON: a lone surrogate travels as its escape, ``"\\ud800"``."""
    return httpx.post(url + "/predict", content=json.dumps(payload).encode("ascii"),
                      headers={"content-type": "application/json"}, timeout=timeout)


def _with_subwords(clf):  # type: ignore[no-untyped-def]
    """A copy of ``clf`` with a hand-made fastText subword table (minn 2, maxn 3, 40 buckets)."""
    from wordvecs.subwords import FastTextSubwords, SubwordParams
    from wordvecs.training.subword_predict import SubwordFallback
    from wordvecs.training.train import Classifier

    table = np.random.default_rng(1).standard_normal((len(WORDS) + 40, 6)).astype(np.float32)
    sw = FastTextSubwords(table, SubwordParams(minn=2, maxn=3, bucket=40, nwords=len(WORDS)),
                          list(WORDS))
    return Classifier(clf.model, clf.vocabulary, clf.labels, clf.max_len,
                      subwords=SubwordFallback.from_vectors(sw, WORDS, compact=False))


@pytest.mark.parametrize("pure", [False, True], ids=["compiled", "python"])
def test_a_lone_surrogate_is_a_data_error_in_the_api(clf, pure, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from wordvecs.errors import DataError

    if pure:
        monkeypatch.setenv("WORDVECS_PURE_PYTHON", "1")
    sub = _with_subwords(clf)
    assert sub.predict_proba(["the bnak shares"]).shape == (1, 3)  # the table is used
    msg = r"^text 2 holds a lone surrogate \(U\+D800\) at character 6; send valid Unicode$"
    for model in (sub, clf):  # with a subword table and without: the same answer
        for call in (model.predict_proba, model.predict, model.predict_details):
            with pytest.raises(DataError, match=msg):
                call(["the bank", BAD_TEXT])
        with pytest.raises(DataError, match=r"^text 1 holds a lone surrogate \(U\+DC80\) at "
                                            r"character 3;"):
            model.predict(["abc\udc80"])
    with pytest.raises(DataError, match=msg):  # the fallback called on its own, too
        sub.subwords.predict_proba(sub, ["the bank", BAD_TEXT])


@pytest.fixture(scope="module")
def sub_server(clf) -> Iterator[_Server]:  # type: ignore[no-untyped-def]
    from wordvecs.training.serve import ServeLimits, create_app

    limits = ServeLimits(max_body=4096, max_texts=50, max_chars=500, max_batch=64, max_wait=0.05)
    app = create_app(_with_subwords(clf), limits)
    with _Server(app, _listening_socket()) as s:
        s.app = app  # type: ignore[attr-defined]
        yield s


def test_a_lone_surrogate_is_its_own_400_not_its_neighbours_500(sub_server) -> None:  # type: ignore[no-untyped-def]
    one = _post(sub_server.url, {"text": BAD_TEXT})
    assert one.status_code == 400
    assert one.json()["error"] == ("text 0 holds a lone surrogate (U+D800) at character 6; "
                                   "send valid Unicode")
    many = _post(sub_server.url, {"texts": ["ok", "a \udfff"]})
    assert many.status_code == 400 and many.json()["error"].startswith("text 1 holds a lone")

    good = [f"the bank {'goal ' * (i % 3)}software" for i in range(48)]
    jobs = [(t, 200) for t in good] + [(BAD_TEXT, 400)] * 12
    jobs = [jobs[i] for i in np.random.default_rng(0).permutation(len(jobs))]

    def ask(job: tuple[str, int]) -> tuple[int, int]:
        r = _post(sub_server.url, {"text": job[0]})
        return job[1], r.status_code

    with ThreadPoolExecutor(10) as pool:
        got = list(pool.map(ask, jobs))
    assert got == [(want, want) for want, _ in got]


def test_a_failing_request_fails_alone(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A forward pass over several requests raises for one text: only its request fails (a
    WordvecsError a 400, anything else a 500); every other request gets its answer."""
    from wordvecs.errors import DataError
    from wordvecs.training.serve import ServeLimits, create_app

    clf = make_classifier()
    want = clf.predict_proba(["the bank shares", "a goal in the match"])
    encode_one = clf.vocabulary.encode_one
    calls: list[list[str]] = []

    def encode_or_fail(text: str) -> list[int]:
        if "boom" in text:
            raise RuntimeError("the model broke on this text")
        if "refuse" in text:
            raise DataError("this text is refused")
        return encode_one(text)

    def recorded(texts):  # type: ignore[no-untyped-def]
        calls.append(list(texts))
        return type(clf).predict_proba(clf, texts)

    monkeypatch.setattr(clf.vocabulary, "encode_one", encode_or_fail)
    monkeypatch.setattr(clf, "predict_proba", recorded)
    limits = ServeLimits(max_body=4096, max_texts=50, max_chars=500, max_batch=64, max_wait=0.3)
    jobs = ([({"text": "the bank shares"}, 200)] * 6 + [({"text": "boom bank"}, 500)]
            + [({"texts": ["a goal in the match"] * 2}, 200)] * 4
            + [({"texts": ["a goal", "refuse it"]}, 400)])
    with _Server(create_app(clf, limits), _listening_socket()) as s:
        for _ in range(3):  # until a forward pass held a failing text with good ones
            barrier = threading.Barrier(len(jobs))

            def ask(job, barrier=barrier):  # type: ignore[no-untyped-def]
                barrier.wait(10)
                return _post(s.url, job[0])

            with ThreadPoolExecutor(len(jobs)) as pool:
                answers = list(pool.map(ask, jobs))
            assert [r.status_code for r in answers] == [status for _, status in jobs]
            for (body, status), r in zip(jobs, answers):
                if status == 200:
                    row = 0 if "text" in body else 1
                    for p in r.json()["predictions"]:
                        np.testing.assert_allclose([p["probabilities"][c] for c in LABELS],
                                                   want[row], atol=1e-6)
            assert "refused" in answers[-1].json()["error"]
            assert "RuntimeError" in answers[6].json()["error"]
            if any(len(c) > 2 and any("boom" in t for t in c) for c in calls):
                break
        else:
            pytest.fail(f"no forward pass mixed the failing request with others: {calls}")


# --- JSON Python cannot turn into objects; slow and idle clients (issue 24, item 6) -------------
@pytest.fixture(scope="module")
def strict_server(clf) -> Iterator[_Server]:  # type: ignore[no-untyped-def]
    """Default body limit (1 MiB); a 2 s request deadline and a 1 s keep-alive."""
    from wordvecs.training.serve import ServeLimits, create_app

    limits = ServeLimits(max_wait=0.01, request_timeout=2.0, keep_alive=1.0)
    app = create_app(clf, limits)
    with _Server(app, _listening_socket(), limits=True) as s:
        yield s


class _Errors(logging.Handler):
    """Records at ERROR or above from wordvecs and uvicorn while in use."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> _Errors:
        for name in ("wordvecs", "uvicorn", "uvicorn.error"):
            logging.getLogger(name).addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in ("wordvecs", "uvicorn", "uvicorn.error"):
            logging.getLogger(name).removeHandler(self)


@pytest.mark.parametrize(("body", "message"), [
    (b'{"text": "the bank", "n": ' + b"7" * 5000 + b"}", "number of 5,000 characters"),
    (b'{"texts": ["a"], "n": 1.' + b"5" * 5000 + b"}", "number of 5,002 characters"),
    (b"[" * 100_000 + b"]" * 100_000, "nested 100,000 levels deep"),
    (b'{"texts": [' + b"[" * 63 + b"]" * 63 + b"]}", "nested 65 levels deep; the limit is 64"),
    (b'{"text": "' + b"[" * 500 + b'\\"\\\\", "x": {"y": ' + b"[" * 70, "nested 72 levels"),
])
def test_json_python_cannot_hold_is_a_400_without_a_traceback(strict_server, body, message) -> None:  # type: ignore[no-untyped-def]
    with _Errors() as errors:
        r = httpx.post(strict_server.url + "/predict", content=body, timeout=30,
                       headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert message in r.json()["error"] and "\n" not in r.json()["error"]
    assert errors.records == []
    ok = _post(strict_server.url, {"texts": ["[[[" * 30, "the bank " + "]" * 80]})  # in strings
    assert ok.status_code == 200
    deep: list = []  # type: ignore[type-arg]
    for _ in range(62):  # 64 levels with the object around it: the limit, allowed
        deep = [deep]
    ok = _post(strict_server.url, {"text": "the bank", "x": deep, "n": 10 ** 60})
    assert ok.status_code == 200


def _open(url: str) -> socket.socket:
    port = int(url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.settimeout(None)
    return sock


def _closed_after(sock: socket.socket, trickle: bytes, every: float,
                  limit: float) -> tuple[float, bytes]:
    """Send ``trickle`` a byte every ``every`` s until the server closes the connection (or
    ``limit`` s pass): the seconds that took, and what the server sent."""
    import select

    start = time.monotonic()
    got = b""
    i = 0
    while time.monotonic() - start < limit:
        if i < len(trickle):
            try:
                sock.sendall(trickle[i:i + 1])
            except OSError:
                return time.monotonic() - start, got
            i += 1
        readable, _, _ = select.select([sock], [], [], every)
        if readable:
            try:
                chunk = sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                return time.monotonic() - start, got
            got += chunk
    return float("inf"), got


def test_idle_connections_are_closed_after_the_keep_alive(strict_server) -> None:  # type: ignore[no-untyped-def]
    fresh = _open(strict_server.url)  # never sends a byte
    used = _open(strict_server.url)
    used.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        took, _ = _closed_after(fresh, b"", 0.1, 6)
        assert took < 1.0 + 1.0
        took, got = _closed_after(used, b"", 0.1, 6)  # answered, then idle
        assert got.startswith(b"HTTP/1.1 200") and took < 1.0 + 1.0
    finally:
        fresh.close()
        used.close()


def test_slow_clients_are_cut_off_while_good_ones_are_served(strict_server) -> None:  # type: ignore[no-untyped-def]
    """Three clients send their headers, two their body, a byte every 0.5 s: each is closed
    about 2 s (the deadline) after its first byte, those mid-body with a 408; a good client
    meanwhile keeps getting its answers."""
    headers = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    body = b'{"text": "the bank shares"}'
    slow_headers = headers + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    socks = [_open(strict_server.url) for _ in range(5)]
    for s in socks[3:]:  # headers at once, then the body a byte at a time
        s.sendall(headers + f"Content-Length: {len(body)}\r\n\r\n".encode())
    stop = threading.Event()
    good: list[int] = []

    def good_client() -> None:
        with httpx.Client(timeout=10) as c:
            while not stop.is_set() and len(good) < 200:
                good.append(c.post(strict_server.url + "/predict",
                                   json={"text": "the bank"}).status_code)
                time.sleep(0.05)

    try:
        with ThreadPoolExecutor(6) as pool:
            runner = pool.submit(good_client)
            slow = [pool.submit(_closed_after, s, slow_headers if i < 3 else body, 0.5, 8)
                    for i, s in enumerate(socks)]
            results = [f.result() for f in slow]
            stop.set()
            runner.result()
    finally:
        for s in socks:
            s.close()
    for i, (took, got) in enumerate(results):
        assert 2.0 - 0.6 < took < 2.0 + 1.0, (i, took, got)
        if i >= 3:
            assert got.startswith(b"HTTP/1.1 408") and b"did not arrive within 2 s" in got
        else:
            assert got == b""
    assert len(good) >= 5 and set(good) == {200}
    assert httpx.get(strict_server.url + "/health", timeout=10).status_code == 200
