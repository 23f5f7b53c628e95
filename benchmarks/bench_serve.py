"""Predictions over HTTP (`wordvecs serve`) against one `wordvecs predict` process per call.

A classifier of the demo's shape (20,000 words x 50 dims, CNN, max_len 400; random weights: the
speed does not depend on them) is saved, served by `wordvecs serve` on 127.0.0.1, and asked:
one text per request, one after another (latency), then 64 texts per request from 4 clients at
once (throughput). The same text through `wordvecs predict RUN TEXT` (a fresh process per call,
as a script would run it) is the baseline.

    python benchmarks/bench_serve.py [--requests 200] [--seconds 10]
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


def main() -> None:
    import httpx

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wordvecs", "predict", str(run), TEXT], check=True,
                       capture_output=True)
        cli = time.perf_counter() - t0
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen([sys.executable, "-m", "wordvecs", "serve", str(run), "--port",
                                 str(port)], stderr=subprocess.DEVNULL)
        try:
            t0 = time.perf_counter()
            while True:
                try:
                    httpx.get(url + "/health", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            startup = time.perf_counter() - t0
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
