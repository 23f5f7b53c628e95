"""An experiment's report: a table (``report.md``), the numbers (``report.json``), PNG plots."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wordvecs._atomic import atomic_file
from wordvecs.errors import require

if TYPE_CHECKING:
    from wordvecs.training.train import Experiment, RunResult

__all__ = ["REPORT_FILES", "format_seconds", "human_bytes", "learning_curve_figure", "notes",
           "results_table", "run_label", "write_report"]

#: The files :func:`write_report` writes (and refuses to replace unless ``overwrite``).
REPORT_FILES = ("report.md", "report.json", "learning_curve.png", "training_curves.png")

_COLORS = {"frozen": "tab:blue", "finetune": "tab:orange", "scratch": "tab:green",
           "contextual": "tab:red", "tfidf": "tab:gray", "meanvec": "tab:brown"}


def human_bytes(n: float | None) -> str:
    """1500 -> '1.5 KB' (decimal units: 1 GB = 10^9 bytes, as the README counts); ``?`` when
    unknown."""
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def format_seconds(seconds: float) -> str:
    """A run's training time in seconds as the console and ``report.md`` both show it: ``7.4``."""
    return f"{seconds:.1f}"


def _ordered(exp: Experiment) -> list[RunResult]:
    """Runs by fraction, then in the order they were trained (a merged experiment's after)."""
    return [r for _, r in sorted(enumerate(exp.runs), key=lambda p: (p[1].fraction, p[0]))]


def run_label(exp: Experiment, run: RunResult) -> str:
    """A run's line name in the plots: its mode, with its vectors when the runs used several
    (a baseline: its mode alone)."""
    own = ("contextual", "contextual-finetune", "stack")  # their vectors are their own
    if len({r.vectors for r in exp.runs if r.mode not in own and not r.baseline}) <= 1 \
            or run.mode in own or run.baseline:
        return run.mode
    return f"{run.mode} ({run.vectors})"


def _labels(exp: Experiment) -> list[str]:
    return list(dict.fromkeys(run_label(exp, r) for r in exp.runs))


def _secs(seconds: float | None) -> str:
    return "-" if seconds is None else format_seconds(seconds)


def accuracy_cell(run: RunResult) -> str:
    """A run's test accuracy and its 95% bootstrap interval: ``0.912 [0.890, 0.930]``."""
    if run.test_interval is None:
        return f"{run.test_accuracy:.3f}"
    low, high = run.test_interval
    return f"{run.test_accuracy:.3f} [{low:.3f}, {high:.3f}]"


def results_table(exp: Experiment) -> str:
    """The per-mode, per-fraction table as Markdown.

    ``test accuracy``: with its 95% bootstrap interval over the test documents;
    ``encode s``: seconds turning text into the model's input (the contextual encoder's pass,
    or distilling the vocabulary), ``-`` where vectors were only read; ``weights``: the model's
    weights in bytes (float32; a baseline's logistic regression: float64). A baseline's
    ``train s`` is its whole fit (features and every C tried), its ``epochs`` ``-``.
    """
    head = ("| mode | train fraction | train docs | vectors | test accuracy | macro-F1 | epochs | "
            "train s | encode s | trainable params | frozen params | weights |")
    lines = [head, "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in _ordered(exp):
        vectors = r.vectors or ("-" if r.baseline else exp.vectors.get("source", "?"))
        lines.append(f"| {r.mode} | {r.fraction:.0%} | {r.train_size:,} | {vectors} "
                     f"| {accuracy_cell(r)} | {r.macro_f1:.3f} "
                     f"| {'-' if r.baseline or not r.history else r.epochs} "
                     f"| {format_seconds(r.train_seconds)} | {_secs(r.encode_seconds)} "
                     f"| {r.trainable_params:,} | {r.frozen_params:,} "
                     f"| {human_bytes(r.weight_bytes)} |")
    return "\n".join(lines)


def notes(exp: Experiment) -> list[str]:
    """What the table's encoding columns mean, where the contextual mode cut documents, what the
    baselines are, and the verdict."""
    out = []
    baselines = [r for r in exp.runs if r.baseline]
    if baselines:
        largest = max(r.fraction for r in baselines)
        chosen = "; ".join(
            f"{r.mode} C {r.params['C']:g}" + (
                f", {'L2-normalised' if r.params['normalize'] else 'raw'} means"
                if "normalize" in r.params else "")
            for r in baselines if r.fraction == largest and r.params)
        out.append("- baselines (fitted on the same training documents at each fraction, C "
                   "chosen on the validation split): tfidf = TF-IDF of word 1-2-grams and "
                   "character 2-5-grams + logistic regression; meanvec = the mean of the "
                   "pre-trained vectors of each document's words, standardised, + logistic "
                   "regression; sentvec = each document's sentence embedding (as "
                   "sentence-transformers makes it) + logistic regression; "
                   f"at {largest:.0%}: {chosen}; train s: the whole fit, every C tried (sentvec's "
                   "encode s: embedding the documents, once for every fraction)")
    for r in _ordered(exp):
        if r.mode == "stack" and r.params:
            temps = r.params.get("temperatures") or [1.0] * len(r.params["components"])
            weights = r.params["weights"]
            equal = len(set(weights)) == 1
            parts = ", ".join(f"{m} (temperature {t:.2g})" + ("" if equal else f" x {w:.3g}")
                              for m, t, w in zip(r.params["components"], temps, weights))
            out.append(f"- stack at {r.fraction:.0%}: the "
                       + ("mean of the" if equal else "weighted mean of the")
                       + f" probabilities of {parts} (TF-IDF and every other model, each "
                       "tempered on the validation split, then averaged); its "
                       "seconds, parameters and weights are those of its parts together")
    out += list(getattr(exp, "remarks", []))
    if any(r.test_interval is not None for r in exp.runs):
        out.append("- test accuracy [95% interval]: a percentile bootstrap over the test "
                   "documents (1,000 resamples, the same for every run)")
    for r in _ordered(exp):
        if r.mode in ("contextual", "contextual-finetune") and r.max_len is not None:
            cut = r.truncated or {}
            read = (f"documents read in up to {r.windows} windows of {r.max_len} WordPiece "
                    "tokens each ([CLS] and [SEP] included), each window encoded on its own; "
                    "cut after the last: " if r.windows and r.windows > 1 else
                    f"documents truncated to {r.max_len} WordPiece tokens ([CLS] and [SEP] "
                    "included); cut there: ")
            out.append(f"- {r.mode} at {r.fraction:.0%} ({r.vectors}): " + read
                       + ", ".join(f"{v:,} {k}" for k, v in cut.items()) + "; encode s: the "
                       "frozen encoder's pass over the documents not encoded before (cached)")
    if any(r.encode_seconds is not None and r.mode not in ("contextual", "contextual-finetune",
                                                            "stack", "sentvec")
           for r in exp.runs):
        out.append("- distilled vectors: encode s is the time distilling that fraction's "
                   "vocabulary (every word passed through the transformer)")
    fractions = sorted({r.fraction for r in exp.runs if r.mode == "contextual"})
    if fractions and fractions != sorted({r.fraction for r in exp.runs}):
        out.append("- the contextual mode ran on " + ", ".join(f"{f:.0%}" for f in fractions)
                   + " of the training split only (the same stratified subset as the other "
                   "modes at that fraction)")
    return out


def _markdown(exp: Experiment) -> str:
    d, m, c = exp.dataset, exp.memory, exp.config
    out = [
        "# wordvecs train report", "",
        f"- data: `{d['source']}` ({d['format']}), {d['documents']:,} documents, "
        f"{len(d['classes'])} classes ({', '.join(d['classes'])})",
        f"- split (seed {c.seed}): {d['train']:,} train / {d['validation']:,} validation / "
        f"{d['test']:,} test, stratified",
        *(f"- vectors: `{v['source']}`, {v['words']:,} words x {v['dim']} dims"
          for v in (exp.vectors, *exp.vectors.get("others", ()))),
        f"- model: `{c.model}`, max_len {d['max_len']} ({d['max_len_from']}), vocabulary up to "
        f"{c.max_tokens:,} indices, up to {c.epochs} epochs, early stopping on validation loss "
        f"(patience {c.patience}), backend {exp.backend}, {exp.total_seconds:.0f} s in all",
        "", "## Results", "", results_table(exp), "", *notes(exp),
    ]
    if out[-1]:
        out.append("")
    if exp.verdict:
        out += [f"At {max(r.fraction for r in exp.runs):.0%} of the training data: "
                f"{exp.verdict}", ""]
    if exp.best:
        out += [f"Saved model: **{exp.best['mode']}** at {exp.best['fraction']:.0%} of the "
                f"training data (best validation accuracy, {exp.best['val_accuracy']:.3f}, "
                "among the embedding models: neither the test accuracy nor a baseline decides "
                f"it); test accuracy {exp.best['test_accuracy']:.3f}.", ""]
    out += ["## Embedding coverage (largest fraction's vocabulary)", "", "```",
            exp.coverage_summary, "```", "",
            "## Memory: one-hot input against the embedding", "",
            f"The {m['documents']:,} training documents, {m['max_len']} tokens each:", "",
            f"- one-hot ({m['vocabulary_rows']:,} float32 per token): "
            f"**{human_bytes(m['one_hot_bytes'])}**",
            f"- embedded ({m['dim']} float32 per token): **{human_bytes(m['embedded_bytes'])}** "
            f"({m['ratio']:,.0f}x less), plus the matrix itself: "
            f"{human_bytes(m['matrix_bytes'])}", "",
            "## Plots", "", "![learning curve](learning_curve.png)", "",
            "![training curves](training_curves.png)", ""]
    return "\n".join(out)


def _save_png(fig: Any, path: Path) -> Path:
    """Write a figure atomically and close it."""
    import matplotlib.pyplot as plt

    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


def _fit_labels(fig: Any, ax: Any, labels: list[Any]) -> None:
    """Widen the y range until every value label lies inside the axes (clear of the title)."""
    fig.canvas.draw()
    for _ in range(6):
        renderer = fig.canvas.get_renderer()
        box = ax.get_window_extent(renderer)
        boxes = [a.get_window_extent(renderer) for a in labels]
        over = max((b.y1 for b in boxes), default=box.y1) - box.y1
        under = box.y0 - min((b.y0 for b in boxes), default=box.y0)
        if over <= 0 and under <= 0:
            return
        y0, y1 = ax.get_ylim()
        per_px = (y1 - y0) / box.height
        ax.set_ylim(y0 - max(under + 3, 0) * per_px if under > 0 else y0,
                    y1 + (over + 3) * per_px if over > 0 else y1)
        fig.tight_layout()
        fig.canvas.draw()


def learning_curve_figure(exp: Experiment) -> Any:
    """The learning curve: test accuracy against training documents, a line per mode."""
    require("matplotlib", "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    labels = []
    for k, mode in enumerate(_labels(exp)):
        runs = sorted((r for r in exp.runs if run_label(exp, r) == mode),
                      key=lambda r: r.fraction)
        xs = [r.train_size for r in runs]
        ys = [r.test_accuracy for r in runs]
        color = _COLORS.get(mode) if mode in _COLORS else None
        dashed = bool(runs) and runs[0].baseline
        ax.plot(xs, ys, marker="s" if dashed else "o", label=f"{mode} (baseline)" if dashed
                else mode, color=color, linestyle="--" if dashed else "-")
        for x, y in zip(xs, ys) if not dashed else ():  # the baselines' values: in the table
            labels.append(ax.annotate(
                f"{y:.3f}", (x, y), textcoords="offset points",
                xytext=(14 * (k - 1), 8 if k % 2 == 0 else -14), ha="center", fontsize=8,
                color=color))
    sizes = sorted({(r.train_size, r.fraction) for r in exp.runs})
    if len(sizes) > 1:
        ax.set_xscale("log")
    ax.set_xticks([s for s, _ in sizes], [f"{s:,}\n({f:.0%})" for s, f in sizes])
    ax.minorticks_off()
    ax.set_xlabel("training documents (fraction of the training split)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(top=1.01)
    ax.margins(x=0.08)
    ax.set_title(f"Learning curve: {exp.config.model} model, {exp.vectors['source']}")
    ax.grid(alpha=0.3)
    ax.legend(title="embedding (dashed: baseline)" if any(r.baseline for r in exp.runs)
              else "embedding")
    fig.tight_layout()
    _fit_labels(fig, ax, labels)
    return fig


def _plot(exp: Experiment, out: Path) -> list[Path]:
    require("matplotlib", "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    modes = [m for m in _labels(exp)  # a baseline, or the stack, has no epochs to plot
             if any(r.history for r in exp.runs if run_label(exp, r) == m)]
    paths = [_save_png(learning_curve_figure(exp), out / "learning_curve.png")]

    fig, axes = plt.subplots(1, len(modes), figsize=(4.2 * len(modes), 3.8), dpi=110,
                             sharey=True, squeeze=False)
    for ax, mode in zip(axes[0], modes):
        for r in sorted((r for r in exp.runs if run_label(exp, r) == mode),
                        key=lambda r: r.fraction):
            h = r.history
            epochs = range(1, len(h["loss"]) + 1)
            line = ax.plot(epochs, h["val_accuracy"], marker=".", label=f"{r.fraction:.0%} val")
            ax.plot(epochs, h["accuracy"], linestyle="--", color=line[0].get_color(),
                    alpha=0.6, label=f"{r.fraction:.0%} train")
        ax.set_title(mode)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("accuracy")
    fig.suptitle("Training curves (solid: validation, dashed: training)")
    fig.tight_layout()
    paths.append(_save_png(fig, out / "training_curves.png"))
    return paths


def write_report(exp: Experiment, out: str | os.PathLike[str], *, plots: bool = True,
                 overwrite: bool = False) -> dict[str, Path]:
    """Write ``report.md``, ``report.json`` and (with ``plots``) the PNGs into ``out``.

    An earlier report there is replaced only with ``overwrite``; no other file is touched.
    """
    from wordvecs.errors import DataError

    out = Path(out)
    taken = [n for n in REPORT_FILES if (out / n).exists() or (out / n).is_symlink()]
    if taken and not overwrite:
        raise DataError(f"{out}: holds an earlier report ({', '.join(taken)}); give --force "
                        "(overwrite=True) to replace it")
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Any] = {"md": out / "report.md", "json": out / "report.json"}
    with atomic_file(paths["json"]) as tmp:
        tmp.write_text(json.dumps(exp.to_dict(), indent=2) + "\n", encoding="utf-8")
    with atomic_file(paths["md"]) as tmp:
        tmp.write_text(_markdown(exp), encoding="utf-8")
    if plots:
        for p in _plot(exp, out):
            paths[p.stem] = p
    return paths
