"""Experiment (issue #23, BBC at 10%): is a long document's MiniLM sentence embedding better
taken over the whole text, in 256-token windows, than over its first 256 tokens?

    python benchmarks/experiments/windows_probe.py

For each BBC article: (a) the mean of the encoder's states over its first 256 WordPiece tokens
([CLS] and [SEP] included: the ``sentvec`` baseline's features), (b) the mean over every token of
its 256-token windows (up to 512 tokens of text, the tokenizer's limit here), each L2-normalised;
then the ``sentvec`` baseline's model on each (logistic regression, C chosen on validation) on
wordvecs' own split and subsamples, seeds 0-2, 10/30/100%. Prints validation and test accuracy.
Encoding the 2,225 articles (about 5,000 windows) takes about 10 minutes on 2 busy cores.
"""

from __future__ import annotations

import time

import numpy as np

from wordvecs.encoders.encoder import load_encoder
from wordvecs.logreg import SENTENCE_CS, choose_c
from wordvecs.text.datasets import (
    bbc_news_path,
    read_folder,
    stratified_split,
    stratified_subsample,
)

WINDOW = 256


def _norm(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def main() -> None:
    data = read_folder(bbc_news_path())
    texts, labels = list(data.texts), list(data.labels)
    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels])
    enc = load_encoder("minilm", max_length=512)
    t0 = time.time()
    full = enc.tokenizer.encode(texts)
    cls, sep = full[0][0], full[0][-1]
    inner = [s[1:-1] for s in full]
    first = [[cls, *s[: WINDOW - 2], sep] for s in inner]
    windows, owner = [], []
    for i, s in enumerate(inner):
        for a in range(0, max(len(s), 1), WINDOW - 2):
            windows.append([cls, *s[a: a + WINDOW - 2], sep])
            owner.append(i)
    print(f"{len(windows)} windows for {len(inner)} articles; {sum(len(f) == 512 for f in full)} "
          "cut at 512 tokens", flush=True)
    pooled_first = enc.pool(first, batch_size=32)
    pooled_windows = enc.pool(windows, batch_size=32)
    print(f"encoded in {time.time() - t0:.0f} s", flush=True)
    sizes = np.array([len(w) for w in windows], dtype=np.float32)
    whole = np.zeros_like(pooled_first)
    tokens = np.zeros(len(inner), dtype=np.float32)
    np.add.at(whole, np.array(owner), pooled_windows * sizes[:, None])
    np.add.at(tokens, np.array(owner), sizes)
    feats = {"first 256 tokens": _norm(pooled_first), "windows": _norm(whole / tokens[:, None])}
    for seed in (0, 1, 2):
        tr, va, te = stratified_split(labels, seed, 0.1, 0.2)
        for fraction in (0.1, 0.3, 1.0):
            sub = stratified_subsample(labels, tr, fraction, seed)
            cells = []
            for name, x in feats.items():
                _, clf, val_acc, _ = choose_c(x[sub], y[sub], x[va], y[va], SENTENCE_CS, seed)
                test_acc = float(np.mean(clf.predict(x[te]) == y[te]))
                cells.append(f"{name}: val {val_acc:.3f} test {test_acc:.3f}")
            print(f"seed {seed}, {fraction:.0%}: " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
