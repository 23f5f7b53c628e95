"""Distilled MiniLM next to GloVe 6B 50d on the shipped benchmarks, and MiniLM's sentence vectors
next to sentence-transformers' documented figures.

    python benchmarks/eval_distill.py [--words 30000] [--keep DIR]

Vectors compared (the analogy and word-pair code is ``wordvecs.evaluate``, as for any vectors):
* GloVe 6B 50d, all 400,000 words, and its 30,000 most frequent words (``restrict_vocab``);
* MiniLM distilled on those same 30,000 words (in GloVe's frequency order: the Zipf estimate of
  SIF), 256 dims after PCA;
* MiniLM distilled on its own WordPiece vocabulary (what ``wordvecs.load("minilm")`` gives).
``--keep DIR`` keeps the distilled stores there and reuses them on the next run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import wordvecs
from wordvecs import evaluate
from wordvecs.encoders.encoder import load_encoder

ST = {  # docs/sentence_transformer/usage/semantic_textual_similarity.rst, all-MiniLM-L6-v2
    "sentences": ["The weather is lovely today.", "It's so sunny outside!",
                  "He drove to the stadium."],
    "cosine": [0.6660, 0.1046, 0.1411],
}


def stage(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def distilled(name: str, keep: Path | None, make):  # type: ignore[no-untyped-def]
    path = keep / f"{name}.wv" if keep else None
    if path is not None and path.exists():
        return wordvecs.load(path)
    stage(f"distilling {name}")
    v = make()
    if path is not None:
        v.save(path)
    return v


def scores(label: str, v: wordvecs.Vectors, restrict: int) -> str:
    a = evaluate.analogies(v, restrict_vocab=restrict)
    ws = evaluate.word_pairs(v, "wordsim353", restrict_vocab=restrict)
    sl = evaluate.word_pairs(v, "simlex999", restrict_vocab=restrict)
    return (f"| {label} | {min(len(v), restrict):,} x {v.dim} | {a.accuracy:.1%} "
            f"({a.correct:,}/{a.total:,}) | {ws.spearman:.3f} ({ws.oov_ratio:.1f}% OOV) | "
            f"{sl.spearman:.3f} ({sl.oov_ratio:.1f}% OOV) |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=30_000)
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    glove = wordvecs.load("glove-6b-50d")
    words = glove.words[: args.words]
    enc = load_encoder("minilm")
    on_words = distilled(f"minilm-glove{args.words}", args.keep,
                         lambda: wordvecs.distill(enc, words, progress=True))
    on_tokens = distilled("minilm-tokens", args.keep,
                          lambda: wordvecs.distill(enc, progress=True))
    n = args.words
    print("| vectors | words x dims | Google analogies (3CosAdd) | WordSim353 Spearman | "
          "SimLex-999 Spearman |")
    print("| --- | --- | --- | --- | --- |")
    print(scores("GloVe 6B 50d", glove, 300_000))
    print(scores(f"GloVe 6B 50d, top {n:,}", glove, n))
    print(scores(f"MiniLM distilled, GloVe's top {n:,} words", on_words, n))
    print(scores("MiniLM distilled, its WordPiece vocabulary", on_tokens, 300_000))
    print()
    v = enc.embed(ST["sentences"])
    sims = [float(v[0] @ v[1]), float(v[0] @ v[2]), float(v[1] @ v[2])]
    print("| pair | sentence-transformers | wordvecs (Keras) | difference |")
    print("| --- | --- | --- | --- |")
    for (i, j), ref, got in zip([(0, 1), (0, 2), (1, 2)], ST["cosine"], sims):
        print(f"| {ST['sentences'][i]} / {ST['sentences'][j]} | {ref:.4f} | {got:.6f} | "
              f"{abs(got - ref):.1e} |")
    print(f"\nmost_similar('king') on the distilled words: "
          f"{[w for w, _ in on_words.most_similar('king', topn=5)]}")
    print(f"largest difference from the docs: {np.max(np.abs(np.subtract(sims, ST['cosine']))):.1e}"
          " (the docs round to 4 places)")


if __name__ == "__main__":
    main()
