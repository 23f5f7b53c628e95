"""Predictions over HTTP (`wordvecs serve`) against one `wordvecs predict` process per call.

A classifier of the demo's shape (20,000 words x 50 dims, CNN, max_len 400; random weights: the
speed does not depend on them) is saved, served by `wordvecs serve` on 127.0.0.1, and asked:
one text per request, one after another (latency), then 64 texts per request from 4 clients at
once (throughput). The same text through `wordvecs predict RUN TEXT` (a fresh process per call,
as a script would run it) is the baseline.

    python benchmarks/bench_serve.py [--requests 200] [--seconds 10]

With ``--mixed``, a mixed load instead: ``--good`` clients asking one text per request, one
after another, while ``--bad`` clients send what the service must refuse (a lone surrogate, JSON
nested 100,000 deep, a 5,000-digit integer, a body over the limit) and ``--slow`` connections
trickle, a byte a second, their headers (slowloris) or, half of them, their body (each reopened
when cut off). It prints the good requests' success rate and latency (p50, p99), the
bad ones' statuses, and how long the slow connections lived.

    python benchmarks/bench_serve.py --mixed [--good 8] [--bad 8] [--slow 100] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TEXT = "Shares rose after the bank cut interest rates and the market rallied"


def make_run(folder: Path) -> Path:
    import keras
    import numpy as np

    from wordvecs.text.datasets import Vocabulary
    from wordvecs.training.train import Classifier, build_model

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(19_998)] + ["shares", "bank"]
    keras.utils.set_random_seed(0)
    model = build_model("cnn", max_len=400, n_classes=5, rows=20_002, dim=50,
                        matrix=rng.standard_normal((20_002, 50)).astype("float32"),
                        mode="frozen")
    return Classifier(model, Vocabulary(words), ["a", "b", "c", "d", "e"], 400).save(
        folder / "run")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(run: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str, float]:
    """``wordvecs serve RUN`` on a free loopback port: the process, its URL, seconds to start."""
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "wordvecs", "serve", str(run), "--port",
                             str(port), *extra], stderr=subprocess.DEVNULL)
    t0 = time.perf_counter()
    while True:
        try:
            httpx.get(url + "/health", timeout=1)
            return proc, url, time.perf_counter() - t0
        except httpx.TransportError:
            if proc.poll() is not None or time.perf_counter() - t0 > 300:
                proc.kill()
                raise RuntimeError("the server did not start") from None
            time.sleep(0.1)


def _raw(url: str, head: bytes, trickle: bytes = b"", every: float = 1.0,
         limit: float = 60.0) -> tuple[str, float]:
    """Send ``head`` on a fresh connection, then ``trickle`` a byte every ``every`` s, reading
    until the server closes it: ``(its status, or "closed" when it sent none; seconds)``."""
    import select

    host, port = url.rsplit("/", 1)[1].split(":")
    start = time.perf_counter()
    got = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            sock.sendall(head)
        except OSError:
            pass
        sock.setblocking(False)
        sent = 0
        while time.perf_counter() - start < limit:
            if sent < len(trickle):
                try:
                    sock.send(trickle[sent:sent + 1])
                    sent += 1
                except OSError:
                    break
            readable, _, _ = select.select([sock], [], [], every)
            if readable:
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                got += chunk
    took = time.perf_counter() - start
    status = got[9:12].decode() if got.startswith(b"HTTP/1.1 ") else "closed"
    return status, took


def mixed(run: Path, args: argparse.Namespace) -> None:
    """Good clients among bad ones and slowloris connections, against one server."""
    import threading
    from collections import Counter

    import httpx

    proc, url, _ = start_server(run, "--request-timeout", str(args.request_timeout))
    post = (b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\n")

    def request(body: bytes) -> bytes:
        return post + f"Content-Length: {len(body)}\r\n\r\n".encode() + body

    bad_bodies = {
        "lone surrogate": request(b'{"text": "hello \\ud800 world"}'),
        "deep JSON": request(b"[" * 100_000 + b"]" * 100_000),
        "huge int": request(b'{"text": "the bank", "n": ' + b"7" * 5000 + b"}"),
        "over the limit": request(b'{"text": "' + b"x" * (1 << 20) + b'"}'),
    }
    slow_body = post + b"Content-Length: 40\r\n\r\n"
    stop = threading.Event()
    lat: list[float] = []
    good = Counter[str]()
    bad: dict[str, Counter[str]] = {k: Counter() for k in [*bad_bodies, "slow body", "slowloris"]}
    lived: list[float] = []
    lock = threading.Lock()

    def good_client(_: int) -> None:
        with httpx.Client(timeout=30) as c:
            while not stop.is_set():
                s = time.perf_counter()
                try:
                    r = c.post(url + "/predict", json={"text": TEXT})
                    outcome = str(r.status_code)
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                with lock:
                    good[outcome] += 1
                    if outcome == "200":
                        lat.append(time.perf_counter() - s)

    def bad_client(i: int) -> None:
        kinds = list(bad_bodies)
        n = i
        while not stop.is_set():
            kind = kinds[n % len(kinds)]
            n += 1
            status, _ = _raw(url, bad_bodies[kind])
            with lock:
                bad[kind][status] += 1

    def slowloris(i: int) -> None:
        while not stop.is_set():
            if i % 2:  # headers at once, then the body a byte a second
                kind, (status, took) = "slow body", _raw(url, slow_body, b"x" * 40)
            else:  # headers a byte a second, never finished
                kind, (status, took) = "slowloris", _raw(url, b"", post + b"X-Slow: " + b"a" * 99)
            with lock:
                bad[kind][status] += 1
                lived.append(took)

    threads = ([threading.Thread(target=good_client, args=(i,)) for i in range(args.good)]
               + [threading.Thread(target=bad_client, args=(i,)) for i in range(args.bad)]
               + [threading.Thread(target=slowloris, args=(i,)) for i in range(args.slow)])
    try:
        for t in threads:
            t.start()
        time.sleep(args.seconds)
        stop.set()
        for t in threads:
            t.join(90)
    finally:
        stop.set()
        proc.terminate()
        proc.wait(20)
    total = sum(good.values())
    lat.sort()

    def pct(q: float) -> float:
        return 1000 * lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")

    print(f"mixed load, {args.seconds:g} s: {args.good} good clients, {args.bad} bad, "
          f"{args.slow} slow connections (--request-timeout {args.request_timeout:g})")
    print(f"good: {total:,} requests, {100 * good['200'] / max(total, 1):.2f}% answered 200 "
          f"({dict(good)}); latency p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms")
    for kind, counts in bad.items():
        print(f"bad, {kind}: {dict(counts)}")
    if lived:
        lived.sort()
        print(f"slow connections cut off after {lived[len(lived) // 2]:.1f} s (median), "
              f"{lived[-1]:.1f} s (longest)")


def main() -> None:
    import httpx

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--mixed", action="store_true", help="the mixed load (see above) instead")
    ap.add_argument("--good", type=int, default=8)
    ap.add_argument("--bad", type=int, default=8)
    ap.add_argument("--slow", type=int, default=100)
    ap.add_argument("--request-timeout", type=float, default=10.0)
    args = ap.parse_args()
    if args.mixed:
        with tempfile.TemporaryDirectory() as tmp:
            mixed(make_run(Path(tmp)), args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wordvecs", "predict", str(run), TEXT], check=True,
                       capture_output=True)
        cli = time.perf_counter() - t0
        proc, url, startup = start_server(run)
        try:
            with httpx.Client(timeout=30) as client:
                for _ in range(10):
                    client.post(url + "/predict", json={"text": TEXT})
                lat = []
                for _ in range(args.requests):
                    s = time.perf_counter()
                    r = client.post(url + "/predict", json={"text": TEXT})
                    lat.append(time.perf_counter() - s)
                    r.raise_for_status()
            batch = {"texts": [f"{TEXT} {i}" for i in range(64)]}

            def worker(_: int) -> int:
                n = 0
                with httpx.Client(timeout=30) as c:
                    end = time.perf_counter() + args.seconds
                    while time.perf_counter() < end:
                        c.post(url + "/predict", json=batch).raise_for_status()
                        n += 64
                return n

            t0 = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:
                texts = sum(pool.map(worker, range(4)))
            rate = texts / (time.perf_counter() - t0)
        finally:
            proc.terminate()
            proc.wait(20)
    lat.sort()
    med = statistics.median(lat)
    p95 = lat[int(0.95 * (len(lat) - 1))]
    print(f"wordvecs predict (one process per call): {cli:.2f} s")
    print(f"wordvecs serve: up in {startup:.1f} s; one text per request: median "
          f"{1000 * med:.1f} ms, p95 {1000 * p95:.1f} ms ({cli / med:,.0f}x faster than a "
          f"process per call)")
    print(f"wordvecs serve: 64 texts per request, 4 clients: {rate:,.0f} texts/s")


if __name__ == "__main__":
    main()
