"""Store open benchmark: opening a store and its first ``v[word]``, and the cost of one ``v[word]``,
against gensim's ``KeyedVectors.load(mmap='r')`` and ``kv[word]``.

    python benchmarks/bench_store_open.py [--sizes 400000 2000000] [--repeat 5] [--calls 20000]

Makes its inputs under ``benchmarks/data/`` (kept between runs): for each size, synthetic unique
words and a seeded random float32 matrix of dim 50, saved as a wordvecs store (version 3, with the
word index), the same store without its index (version 1: the same two files, hard-linked, and
its metadata; what every store was before the index) and a gensim KeyedVectors (``kv.save``).

(a) Open + first lookup: each contender runs in a fresh interpreter, in turn, ``--repeat`` times;
the time is ``load`` plus the first lookup of a known word (a different word each run), imports
excluded (``pyarrow``'s own import, paid once by any process that opens a store, is printed
apart); the median CPU time of the thread is printed beside the wall times (on busy cores a
millisecond-long open is now and then descheduled for a few milliseconds: the wall time says so,
the CPU time does not).

(b) One lookup: in one process, the stores and gensim's vectors memory-mapped, and both in
memory, each looks up the same ``--calls`` known words (seeded, spread over the vocabulary) in
turn, ``--repeat`` times; the figure is the loop's time per word (the loop's own cost included
alike). Min and median are printed, with the ratio against gensim (above 1: wordvecs is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
DIM = 50
SIZES = (400_000, 2_000_000)


def stage(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- inputs -----------------------------------------------------------------------------------

def synthetic_words(n: int) -> list[str]:
    """``n`` unique words of 6 to 13 letters: a seeded stem and the row as 5 letters (base 26)."""
    rng = np.random.default_rng(n)
    stems = ["".join(chr(97 + c) for c in rng.integers(0, 26, size=k))
             for k in rng.integers(1, 9, size=n)]
    out = []
    for i, stem in enumerate(stems):
        tail = []
        for _ in range(5):
            i, r = divmod(i, 26)
            tail.append(chr(97 + r))
        out.append(stem + "".join(tail))
    return out


def paths(n: int) -> dict[str, Path]:
    return {"store": DATA / f"store_{n}.wv", "old": DATA / f"store_{n}_v1.wv",
            "gensim": DATA / f"gensim_{n}.kv"}


def make_inputs(n: int) -> dict[str, Path]:
    """The three copies of ``n`` words (made once, kept under benchmarks/data/)."""
    import wordvecs
    from wordvecs.formats.store import write_store

    p = paths(n)
    if all(x.exists() for x in p.values()):
        return p
    DATA.mkdir(exist_ok=True)
    stage(f"making {n:,} x {DIM} inputs")
    words = synthetic_words(n)
    matrix = np.random.default_rng(0).standard_normal((n, DIM), dtype=np.float32)
    v = wordvecs.Vectors(words, matrix)
    write_store(v, p["store"], overwrite=True)
    meta = json.loads((p["store"] / "meta.json").read_text())
    assert meta["version"] == 3, "the store was written without its index"
    old = p["old"]  # the same files without the index: what a store was before version 3
    old.mkdir(exist_ok=True)
    for name in ("vectors.npy", "words.arrow"):
        if not (old / name).exists():
            os.link(p["store"] / name, old / name)
    meta.update(version=1)
    meta.pop("index")
    meta["files"].pop("index.npy")
    (old / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    from gensim.models import KeyedVectors

    kv = KeyedVectors(DIM)
    kv.add_vectors(words, matrix)
    kv.save(str(p["gensim"]))
    return p


def probe_words(n: int, k: int, seed: int) -> list[str]:
    words = synthetic_words(n)
    rows = np.random.default_rng(seed).integers(0, n, size=k)
    return [words[i] for i in rows]


# --- (a) open + first lookup, a fresh process each ----------------------------------------------

OPEN = {
    "wordvecs": """
import sys, time, json
import pyarrow, pyarrow.ipc, wordvecs
path, word = sys.argv[1], sys.argv[2]
t, c = time.perf_counter(), time.thread_time()
v = wordvecs.load(path)
row = v[word]
print(json.dumps({"s": time.perf_counter() - t, "cpu": time.thread_time() - c,
                  "sum": float(row.sum())}))
""",
    "gensim": """
import sys, time, json
from gensim.models import KeyedVectors
path, word = sys.argv[1], sys.argv[2]
t, c = time.perf_counter(), time.thread_time()
kv = KeyedVectors.load(path, mmap="r")
row = kv[word]
print(json.dumps({"s": time.perf_counter() - t, "cpu": time.thread_time() - c,
                  "sum": float(row.sum())}))
""",
    "pyarrow import": """
import sys, time, json
import numpy, wordvecs
t, c = time.perf_counter(), time.thread_time()
import pyarrow, pyarrow.ipc
print(json.dumps({"s": time.perf_counter() - t, "cpu": time.thread_time() - c, "sum": 0.0}))
""",
}


def run_fresh(kind: str, path: Path, word: str) -> dict:
    code = OPEN["gensim" if kind == "gensim" else "wordvecs" if kind != "pyarrow import"
                else "pyarrow import"]
    out = subprocess.run([sys.executable, "-c", code, str(path), word], capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_open(n: int, repeat: int) -> list[tuple[str, ...]]:
    p = make_inputs(n)
    contenders = {"wordvecs store v3 (index)": p["store"], "wordvecs store v1 (no index)": p["old"],
                  "gensim load(mmap='r')": p["gensim"], "pyarrow import": p["store"]}
    times: dict[str, list[float]] = {k: [] for k in contenders}
    cpu: dict[str, list[float]] = {k: [] for k in contenders}
    words = probe_words(n, repeat, seed=1)
    for r in range(repeat):
        stage(f"open + first lookup, {n:,} words: run {r + 1} of {repeat}")
        sums = set()
        for name, path in contenders.items():
            kind = ("gensim" if name.startswith("gensim") else "pyarrow import"
                    if name == "pyarrow import" else "wordvecs")
            res = run_fresh(kind, path, words[r])
            times[name].append(res["s"])
            cpu[name].append(res["cpu"])
            if kind != "pyarrow import":
                sums.add(round(res["sum"], 4))
        assert len(sums) == 1, f"the contenders gave different vectors for {words[r]!r}"
    peer = statistics.median(times["gensim load(mmap='r')"])
    rows = []
    for name, ts in times.items():
        med = statistics.median(ts)
        ratio = f"{peer / med:.1f}x" if name.startswith("wordvecs") else ""
        rows.append((f"{n:,}", name, f"{min(ts) * 1e3:.2f} ms", f"{med * 1e3:.2f} ms", ratio,
                     f"{statistics.median(cpu[name]) * 1e3:.2f} ms"))
    return rows


# --- (b) one lookup, warm ------------------------------------------------------------------------

def _per_call(lookup, words: list[str]) -> float:
    t = time.perf_counter()
    for w in words:
        lookup(w)
    return (time.perf_counter() - t) / len(words)


def bench_calls(n: int, calls: int, repeat: int) -> list[tuple[str, ...]]:
    from gensim.models import KeyedVectors

    import wordvecs

    p = make_inputs(n)
    words = probe_words(n, calls, seed=2)
    store = wordvecs.load(p["store"])
    old = wordvecs.load(p["old"])
    kv_mm = KeyedVectors.load(str(p["gensim"]), mmap="r")
    mem = wordvecs.Vectors(list(store.words), np.array(store.matrix))
    kv_mem = KeyedVectors.load(str(p["gensim"]))
    contenders = {"wordvecs store v3 (index)": store.__getitem__,
                  "wordvecs store v1 (dict)": old.__getitem__,
                  "gensim mmap='r'": kv_mm.__getitem__,
                  "wordvecs in memory": mem.__getitem__,
                  "gensim in memory": kv_mem.__getitem__}
    for f in contenders.values():  # warm: the dicts built, the rows paged in
        for w in words:
            f(w)
    for w in words[:50]:
        ref = kv_mem[w]
        assert all(np.array_equal(f(w), ref) for f in contenders.values())
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for r in range(repeat):
        stage(f"one lookup, {n:,} words: run {r + 1} of {repeat}")
        for name, f in contenders.items():
            times[name].append(_per_call(f, words))
    rows = []
    for name, ts in times.items():
        med = statistics.median(ts)
        peer = statistics.median(times["gensim in memory" if "memory" in name
                                       else "gensim mmap='r'"])
        ratio = f"{peer / med:.2f}x" if name.startswith("wordvecs") else ""
        rows.append((f"{n:,}", name, f"{min(ts) * 1e6:.3f} us", f"{med * 1e6:.3f} us", ratio))
    return rows


def table(title: str, head: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    print(f"\n{title}")
    for r in [head, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--calls", type=int, default=20_000)
    args = ap.parse_args()
    opened, calls = [], []
    for n in args.sizes:
        opened += bench_open(n, args.repeat)
    for n in args.sizes:
        calls += bench_calls(n, args.calls, args.repeat)
    table("(a) open + first v[word], a fresh process each (imports excluded)",
          ("words", "contender", "min", "median", "gensim/this", "CPU median"), opened)
    table("(b) one v[word] of a known word, warm (per call)",
          ("words", "contender", "min", "median", "gensim/this"), calls)


if __name__ == "__main__":
    main()
