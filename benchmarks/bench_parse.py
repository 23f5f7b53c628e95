"""Parse benchmark: the compiled kernel's parse of every row of a text file on one core, against
the NumPy kernel's parse of the same rows (the reference both kernels are tested against).

    python benchmarks/bench_parse.py [FILE ...] [--repeat 5] [--dim N]

The default file is ``benchmarks/data/glove.6B.50d.txt`` (``bench_load.py`` makes it). The file
is read into memory and its lines found once (``scan_lines``); then ``parse_rows`` turns every
row's values into float32, ``--repeat`` times with ``WORDVECS_THREADS=1`` (one core), and once
with the NumPy kernel. Printed: the min and median seconds, nanoseconds a value, the ratio
against the NumPy kernel, and whether both gave the same bits. This is the loop that decides a
first read's speed (``bench_load.py`` times the whole read); on a 2-core machine it runs on both
cores beside the reading and scanning of the next chunk.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"


def bench(path: Path, repeat: int, dim: int | None) -> None:
    from wordvecs.formats import _kernel, _pykernel
    from wordvecs.formats.text import _infer_dim

    ck = _kernel.compiled_kernel()
    if ck is None:
        raise SystemExit("the compiled kernel is not built: nothing to compare")
    buf = path.read_bytes()
    dim = dim or _infer_dim(buf[: 1 << 20], str(path), 1, ck)
    _, _, vs, ve, nf = ck.scan_lines(buf, dim)
    rows = np.flatnonzero(nf == dim + 1)
    vs, ve = vs[rows], ve[rows]
    values = len(rows) * dim
    out = np.empty((len(rows), dim), dtype=np.float32)
    os.environ["WORDVECS_THREADS"] = "1"  # read by the kernel at each call
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        bad, _ = ck.parse_rows(buf, vs, ve, out)
        times.append(time.perf_counter() - t0)
        assert bad == -1, f"{path.name}: row {bad} is not {dim} numbers"
    ref = np.empty_like(out)
    t0 = time.perf_counter()
    _pykernel.parse_rows(buf, vs, ve, ref)
    numpy_s = time.perf_counter() - t0
    same = ref.view(np.uint32).tobytes() == out.view(np.uint32).tobytes()
    best, med = min(times), statistics.median(times)
    print(f"| {path.name} | {len(rows):,} x {dim} | {best:.3f} / {med:.3f} | "
          f"{best / values * 1e9:.1f} | {numpy_s:.2f} | {numpy_s / best:.1f}x | {same} |",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", type=Path, default=[DATA / "glove.6B.50d.txt"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dim", type=int, default=None, help="(default: from the file)")
    args = ap.parse_args()
    print("| file | rows | C, one core: min / median s | ns a value | NumPy kernel s | "
          "x NumPy kernel | same bits |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for path in args.files:
        if not path.exists():
            raise SystemExit(f"{path}: no such file (python benchmarks/bench_load.py --quick "
                             "makes glove.6B.50d.txt)")
        bench(path, args.repeat, args.dim)


if __name__ == "__main__":
    main()
