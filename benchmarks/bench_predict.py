"""A fresh `wordvecs predict RUN "text"` process, and `wordvecs serve`'s first answer, on the NumPy
forward pass against Keras (issue 26, item 1).

A demo-like classifier is trained once (GloVe 6B 50d, a stratified sample of BBC News, the
vocabulary capped at 20,000 words; ``--heads`` picks the heads, cnn by default) unless ``--run``
names folders saved by ``wordvecs train``. Then, interleaved, ``--repeat`` times each:

- ``wordvecs predict RUN TEXT`` in a fresh process, with the default forward pass (NumPy for the
  graphs ``wordvecs train`` writes) and with ``WORDVECS_FORWARD=keras`` (what every run did
  before): wall time and the process's peak RSS (``os.wait4``'s rusage);
- ``wordvecs serve RUN``: seconds from starting the process to the first answer of
  ``POST /predict`` (``--serve``).

It prints min and median of each, the ratio, and checks the two paths' probabilities agree.

    python benchmarks/bench_predict.py [--heads cnn,avg,bilstm,avgmax] [--docs 300]
                                       [--repeat 5] [--serve] [--out DIR | --run DIR ...]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TEXT = "Shares rose after the bank cut interest rates and the market rallied"


def train_runs(folder: Path, heads: list[str], docs: int) -> dict[str, Path]:
    import numpy as np

    import wordvecs
    from wordvecs.text.datasets import bbc_news_path, read_folder, stratified_subsample
    from wordvecs.training.train import TrainConfig, run_experiment

    data = read_folder(bbc_news_path())
    data = data.subset(stratified_subsample(data.labels, np.arange(len(data)),
                                            min(1.0, docs / len(data)), 0))
    vectors = wordvecs.load("glove-6b-50d")
    runs = {}
    for head in heads:
        out = folder / head
        run_experiment(data, vectors,
                       TrainConfig(model=head, modes=("frozen",), fractions=(1.0,), epochs=2,
                                   max_tokens=20_000, baselines=False),
                       out=out, progress=False)
        runs[head] = out
    return runs


def _env(forward: str) -> dict[str, str]:
    env = dict(os.environ)
    env["WORDVECS_FORWARD"] = forward
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


# A small process that starts the command and reports its wall time and peak RSS: the peak RSS
# of a child forked from this (large: Keras, the vectors) process would count this one's pages.
_MEASURE = """
import json, os, subprocess, sys, time
with open(sys.argv[1], "wb") as out, open(sys.argv[2], "wb") as err:
    t0 = time.perf_counter()
    proc = subprocess.Popen(sys.argv[3:], stdout=out, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
print(json.dumps([wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)]))
"""


def predict_measured(run: Path, forward: str) -> tuple[float, float, dict[str, float]]:
    """(wall seconds, peak RSS in MB, probabilities) of one fresh `wordvecs predict`."""
    with tempfile.TemporaryDirectory() as tmp:
        out, err = Path(tmp) / "out", Path(tmp) / "err"
        done = subprocess.run([sys.executable, "-c", _MEASURE, str(out), str(err),
                               sys.executable, "-m", "wordvecs", "predict", str(run), "--jsonl",
                               TEXT], env=_env(forward), capture_output=True, text=True,
                              check=True)
        wall, rss, code = json.loads(done.stdout)
        if code != 0:
            raise SystemExit(f"wordvecs predict failed ({forward}): "
                             f"{err.read_text()[-2000:]}")
        probs = json.loads(out.read_text().splitlines()[-1])["probabilities"]
    return wall, rss, probs  # Linux: ru_maxrss in kilobytes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_first_answer(run: Path, forward: str, timeout: float = 120) -> float:
    """Seconds from starting `wordvecs serve` to its first answer to POST /predict."""
    port = free_port()
    body = json.dumps({"text": TEXT}).encode()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "wordvecs", "serve", str(run), "--port",
                             str(port)], env=_env(forward), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=body,
                                             headers={"content-type": "application/json"})
                with urllib.request.urlopen(req, timeout=30) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            except (urllib.error.URLError, ConnectionError):
                pass
            if proc.poll() is not None:
                raise SystemExit(f"wordvecs serve exited ({proc.returncode})")
            if time.perf_counter() - t0 > timeout:
                raise SystemExit("wordvecs serve did not answer")
            time.sleep(0.01)
    finally:
        proc.terminate()
        proc.wait(30)


def _summary(xs: list[float]) -> str:
    return f"min {min(xs):6.2f}  median {statistics.median(xs):6.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--heads", default="cnn", help="heads to train (comma-separated)")
    ap.add_argument("--docs", type=int, default=300, help="BBC News articles to train on")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each path, interleaved")
    ap.add_argument("--serve", action="store_true", help="time serve's first answer too")
    ap.add_argument("--run", nargs="*", type=Path, default=None,
                    help="classifier folders to time instead of training")
    ap.add_argument("--out", type=Path, default=None,
                    help="keep the trained classifiers in this folder (for --run)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.run:
            runs = {p.name: p for p in args.run}
        else:
            print(f"training {args.heads} on {args.docs} BBC News articles (GloVe 6B 50d)...",
                  flush=True)
            runs = train_runs(args.out or Path(tmp), args.heads.split(","), args.docs)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
              f"load average {os.getloadavg()[0]:.1f}")
        for head, run in runs.items():
            meta = json.loads((run / "classifier.json").read_text())
            rows = 2 + len(json.loads((run / "vocabulary.json").read_text())["words"])
            print(f"\n{head}: {run} ({rows:,} Embedding rows, max_len {meta['max_len']}, "
                  f"model.keras {(run / 'model.keras').stat().st_size / 1e6:.1f} MB)")
            walls: dict[str, list[float]] = {"auto": [], "keras": []}
            rss: dict[str, list[float]] = {"auto": [], "keras": []}
            probs: dict[str, dict[str, float]] = {}
            for _ in range(args.repeat):
                for forward in ("auto", "keras"):
                    w, m, p = predict_measured(run, forward)
                    walls[forward].append(w)
                    rss[forward].append(m)
                    probs[forward] = p
            diff = max(abs(probs["auto"][k] - probs["keras"][k]) for k in probs["auto"])
            for forward, name in (("auto", "numpy"), ("keras", "keras")):
                print(f"  predict, {name:5}: wall s {_summary(walls[forward])}   "
                      f"peak RSS MB {_summary(rss[forward])}")
            print(f"  ratio keras/numpy (median): wall "
                  f"{statistics.median(walls['keras']) / statistics.median(walls['auto']):.1f}x,"
                  f" RSS {statistics.median(rss['keras']) / statistics.median(rss['auto']):.1f}x;"
                  f" largest probability difference {diff:.1e} (printed to 6 decimals)")
            if args.serve:
                first: dict[str, list[float]] = {"auto": [], "keras": []}
                for _ in range(max(1, args.repeat // 2)):
                    for forward in ("auto", "keras"):
                        first[forward].append(serve_first_answer(run, forward))
                for forward, name in (("auto", "numpy"), ("keras", "keras")):
                    print(f"  serve, first answer, {name:5}: s {_summary(first[forward])}")


if __name__ == "__main__":
    main()
