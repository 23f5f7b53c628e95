"""``wordvecs train`` and ``wordvecs predict``: the transfer-learning experiment and its model."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import click

from .common import DEFAULT_VECTORS, human_bytes, quiet_option

__all__ = ["quiet_keras", "register", "run_and_report"]


def _floats(value: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in value.split(",") if x.strip())
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {value!r}") from None


def _names(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in value.split(",") if x.strip())


def quiet_keras() -> None:
    """Keep TensorFlow's C++ and Python chatter (retracing notes, oneDNN) off the terminal."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # pragma: no cover
        pass


def run_and_report(data: Any, vectors: Any, config: Any, out: Path, *, quiet: bool) -> Any:
    """Run the experiment, write the report into ``out``, echo the table; returns the Experiment."""
    from ..report import results_table, write_report
    from ..train import run_experiment

    quiet_keras()
    exp = run_experiment(data, vectors, config, out=out, progress=not quiet,
                         on_event=None if quiet else lambda line: click.echo(f"  {line}"))
    paths = write_report(exp, out)
    click.echo()
    click.echo(results_table(exp))
    click.echo()
    click.echo(exp.coverage_summary)
    m = exp.memory

    click.echo(f"memory for the {m['documents']:,} training documents x {m['max_len']} tokens: "
               f"one-hot {human_bytes(m['one_hot_bytes'])}, embedded "
               f"{human_bytes(m['embedded_bytes'])} ({m['ratio']:,.0f}x less)")
    click.echo(f"best model: {exp.best['mode']} (validation accuracy "
               f"{exp.best['val_accuracy']:.3f}) saved in {out}/")
    click.echo(f"report: {paths['md']} (+ report.json, learning_curve.png, training_curves.png)")
    return exp


@click.command()
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@click.option("--vectors", "-v", "vectors", default=DEFAULT_VECTORS, show_default=True,
              metavar="SOURCE", help="Pre-trained vectors: file, store folder, or set name.")
@click.option("--modes", default="frozen,finetune,scratch", show_default=True,
              help="Embedding modes to compare; 'contextual' adds the frozen MiniLM encoder "
                   "(documents truncated to 128 WordPiece tokens).")
@click.option("--model", type=click.Choice(["cnn", "avg", "bilstm"]), default="cnn",
              show_default=True, help="Architecture after the Embedding.")
@click.option("--epochs", default=20, show_default=True, type=click.IntRange(1),
              help="Most epochs (early stopping on validation loss, patience 3).")
@click.option("--max-tokens", default=20_000, show_default=True, type=click.IntRange(3),
              help="Vocabulary size, padding and out-of-vocabulary indices included.")
@click.option("--max-len", default=None, type=click.IntRange(1),
              help="Tokens per document [default: 95th percentile of the training lengths].")
@click.option("--fractions", default="1.0", show_default=True,
              help="Training fractions, e.g. 0.1,0.3,1.0 (a learning curve).")
@click.option("--seed", default=0, show_default=True, type=int, help="Split and weights seed.")
@click.option("--text-column", default=None, help="CSV/TSV/JSONL text column [default: text, ...].")
@click.option("--label-column", default=None,
              help="CSV/TSV/JSONL label column [default: label, ...].")
@click.option("--out", "-o", "out", default="wordvecs-train", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the report, the plots and the best model.")
@quiet_option
def train(data: Path, vectors: str, modes: str, model: str, epochs: int, max_tokens: int,
          max_len: int | None, fractions: str, seed: int, text_column: str | None,
          label_column: str | None, out: Path, quiet: bool) -> None:
    """Train a text classifier on DATA with frozen, fine-tuned and scratch embeddings.

    DATA is a CSV, TSV or JSONL file (text and label columns) or a folder with one sub-folder
    per class. Writes report.md, report.json, PNG plots and the best model into --out.
    """
    import wordvecs

    from ..datasets import read_dataset, validate_dataset

    quiet_keras()
    from ..train import TrainConfig

    config = TrainConfig(modes=_names(modes), model=model, epochs=epochs, max_tokens=max_tokens,
                         max_len=max_len, fractions=_floats(fractions), seed=seed)
    config.check()
    ds = read_dataset(data, text_column=text_column, label_column=label_column)
    validate_dataset(ds)
    click.echo(f"data: {ds.source} ({ds.format}), {len(ds):,} documents, "
               f"{len(ds.classes)} classes")
    from ..catalog import ENCODERS

    if vectors.lower() in ENCODERS or Path(vectors, "model.safetensors").is_file():
        from ..encoders.distill import Distiller  # distilled for each task vocabulary

        v: Any = Distiller(vectors, progress=False if quiet else None)
        click.echo(f"vectors: distilled from {vectors} for the task vocabulary")
    else:
        v = wordvecs.load(vectors)
        click.echo(f"vectors: {vectors}, {len(v):,} words x {v.dim} dims")
    run_and_report(ds, v, config, out, quiet=quiet)


@click.command()
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("texts", nargs=-1)
@click.option("--data", "data", type=click.Path(exists=True, path_type=Path), default=None,
              help="Score a labelled data set (CSV, TSV, JSONL or folder) instead of TEXTS.")
@click.option("--text-column", default=None, help="Text column of --data.")
@click.option("--label-column", default=None, help="Label column of --data.")
def predict(model_dir: Path, texts: tuple[str, ...], data: Path | None, text_column: str | None,
            label_column: str | None) -> None:
    """Classify TEXTS with a model saved by ``wordvecs train``: a line each, label and probability.

    Texts may also come on standard input, one per line, with "-".
    """
    quiet_keras()
    from ..train import load_classifier

    if not texts and data is None:
        raise click.UsageError("give at least one text (or - for standard input, or --data)")
    clf = load_classifier(model_dir)
    if data is not None:
        from ..datasets import read_dataset

        ds = read_dataset(data, text_column=text_column, label_column=label_column)
        scores = clf.evaluate(ds.texts, ds.labels)
        click.echo(f"{scores['documents']:,} documents: accuracy {scores['accuracy']:.3f}, "
                   f"macro-F1 {scores['macro_f1']:.3f}")
        return
    items = list(texts)
    if items == ["-"]:
        stdin = click.get_text_stream("stdin").read()  # type: ignore[operator]
        items = [t for t in stdin.splitlines() if t.strip()]
    for label, prob in clf.predict(items):
        click.echo(f"{label}\t{prob:.3f}")


def register(cli: click.Group) -> None:
    """Add ``train`` and ``predict`` to the ``wordvecs`` group."""
    cli.add_command(train)
    cli.add_command(predict)
