"""``wordvecs serve``: a real HTTP client against a server the test starts on 127.0.0.1."""

from __future__ import annotations

import json
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
    def __init__(self, app, sock: socket.socket) -> None:  # type: ignore[no-untyped-def]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="on"))
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
