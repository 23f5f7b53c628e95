"""``wordvecs train`` and ``wordvecs predict``: the transfer-learning experiment and its model."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from wordvecs.cli.common import DEFAULT_VECTORS, human_bytes, quiet_option

__all__ = ["force_option", "quiet_keras", "register", "run_and_report", "show_report"]


def _floats(value: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in value.split(",") if x.strip())
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {value!r}") from None


def _names(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in value.split(",") if x.strip())


def _fallback(value: str) -> tuple[str, ...] | None:
    """``--fallback``: ``all`` (None: every step), ``none`` (no step), or the steps named."""
    name = value.strip().lower()
    return None if name == "all" else () if name == "none" else _names(value)


# TensorFlow's start-up lines: written by its C++ (absl) logging before anything can configure it,
# so TF_CPP_MIN_LOG_LEVEL does not reach them; they are filtered out of stderr during the import
_BANNER = ("All log messages before absl::InitializeLog()", "oneDNN custom operations are on",
           "cpu_feature_guard.cc", "To enable the following instructions:",
           "Unable to register cuDNN", "Unable to register cuFFT", "Unable to register cuBLAS",
           "computation placer already registered", "TF-TRT Warning", "Could not find cuda drivers")


def quiet_keras(*, lazy: bool = False) -> None:
    """Keep TensorFlow's C++ and Python chatter (the start-up banner, retracing notes, oneDNN) off
    the terminal: Keras is imported here, its banner filtered out of stderr; other lines pass.
    ``lazy``: import nothing now; do this when the library first imports Keras (a classifier
    that predicts in NumPy never does)."""
    if lazy:
        import wordvecs.keras

        if "keras" not in sys.modules:
            wordvecs.keras.before_import = quiet_keras
            return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    if "keras" not in sys.modules and importlib.util.find_spec("keras") is not None:
        _import_filtering_stderr("keras")
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # pragma: no cover
        pass


def _import_filtering_stderr(module: str) -> None:
    """Import ``module`` with file descriptor 2 sent to a temporary file, then write back the
    lines that are not TensorFlow's banner."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            importlib.import_module(module)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode("utf-8", "replace").splitlines(True)
                    if not any(mark in line for mark in _BANNER)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


force_option = click.option("--force", is_flag=True,
                            help="Replace an earlier run's report and model in --out.")
encoding_option = click.option("--encoding", default=None, metavar="CODEC",
                               help="The data's encoding when it is not UTF-8 and has no "
                                    "byte-order mark (e.g. cp1252, utf-16).")


def run_and_report(data: Any, vectors: Any, config: Any, out: Path, *, quiet: bool,
                   force: bool = False, plan: Any = None, test_data: Any = None) -> Any:
    """Run the experiment, write the report into ``out``, echo the table; returns the Experiment.

    Progress: a bar on a terminal only (none with ``quiet``); otherwise the one line a run.
    ``plan``: a :class:`wordvecs.training.distribute.Plan`; only its process 0 writes the report.
    """
    from wordvecs.training.train import run_experiment

    quiet_keras()
    exp = run_experiment(data, vectors, config, out=out, progress=False if quiet else None,
                         on_event=None if quiet else lambda line: click.echo(f"  {line}"),
                         overwrite=force, plan=plan, test_data=test_data)
    if plan is not None and not plan.is_chief:
        return exp
    show_report(exp, out, force=force)
    return exp


def show_report(exp: Any, out: Path, *, force: bool = False) -> None:
    """Write the report of ``exp`` into ``out`` and echo its table, notes and summary."""
    from wordvecs.training.report import notes, results_table, write_report

    paths = write_report(exp, out, overwrite=force)
    click.echo()
    click.echo(results_table(exp))
    for line in notes(exp):
        click.echo(line)
    if exp.verdict:
        click.echo(exp.verdict)
    click.echo()
    click.echo(exp.coverage_summary)
    m = exp.memory

    click.echo(f"memory for the {m['documents']:,} training documents x {m['max_len']} tokens: "
               f"one-hot {human_bytes(m['one_hot_bytes'])}, embedded "
               f"{human_bytes(m['embedded_bytes'])} ({m['ratio']:,.0f}x less)")
    if exp.best:
        click.echo(f"best model: {exp.best['mode']} (validation accuracy "
                   f"{exp.best['val_accuracy']:.3f}) saved in {out}/")
    else:
        click.echo("no model saved: only the word-vector modes (frozen, finetune, scratch) "
                   "are saved as a classifier")
    click.echo(f"report: {paths['md']} (+ report.json, learning_curve.png, training_curves.png)")


@click.command()
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@click.option("--vectors", "-v", "vectors", default=DEFAULT_VECTORS, show_default=True,
              metavar="SOURCE", help="Pre-trained vectors: file, store folder, or set name.")
@click.option("--modes", default="frozen,finetune,scratch,stack", show_default=True,
              help="Modes to compare, or 'all'. Word vectors: frozen, finetune, scratch; "
                   "the MiniLM encoder (bert extra; documents read in up to --encoder-windows "
                   "windows of --encoder-max-len tokens): contextual (frozen, a head on its "
                   "states), contextual-finetune (its top --encoder-layers trained too; slow on "
                   "a CPU); stack: the mean of TF-IDF and every other model, each tempered on "
                   "validation.")
@click.option("--encoder-layers", default=2, show_default=True, type=click.IntRange(1),
              help="contextual-finetune: the encoder's top blocks to train.")
@click.option("--encoder-max-len", default=None, type=click.IntRange(3), metavar="TOKENS",
              help="contextual modes: WordPiece tokens a document keeps, [CLS] and [SEP] "
                   "included. Default: the encoder's own (256 for MiniLM, as its sentence "
                   "embeddings); less is faster on long texts.")
@click.option("--encoder-windows", default=2, show_default=True, type=click.IntRange(1),
              metavar="N",
              help="contextual modes: read a document longer than --encoder-max-len tokens in up "
                   "to N windows of that length (each encoded on its own; the head reads them "
                   "all); 1 cuts it. Each window costs one encoding.")
@click.option("--encoder-head", type=click.Choice(["probe", "cnn", "avg", "bilstm", "avgmax"]),
              default="probe", show_default=True,
              help="contextual-finetune: its head. probe: the sentence embedding (mean pooling) "
                   "and softmax, first fitted as a logistic regression on the frozen "
                   "embeddings, then tuned with the blocks; the others start from random "
                   "weights.")
@click.option("--model", type=click.Choice(["cnn", "avg", "bilstm", "avgmax"]), default="cnn",
              show_default=True,
              help="Architecture after the Embedding (avgmax: mean and max pooling together).")
@click.option("--epochs", default=20, show_default=True, type=click.IntRange(1),
              help="Most epochs (early stopping on validation loss, --patience).")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(1),
              help="Documents a training step.")
@click.option("--learning-rate", default=1e-3, show_default=True,
              type=click.FloatRange(0, min_open=True), help="Adam's learning rate.")
@click.option("--patience", default=3, show_default=True, type=click.IntRange(0),
              help="Epochs without a lower validation loss before training stops (the best "
                   "epoch's weights are kept).")
@click.option("--test", "test_file", default=None,
              type=click.Path(exists=True, path_type=Path),
              help="Score this held-out file (same columns as DATA) instead of the split's test "
                   "part; DATA is then split into train and validation only.")
@click.option("--fallback", default="all", show_default=True, metavar="STEPS|all|none",
              help="The unseen-word chain's steps for words the vectors lack, e.g. case,subword "
                   "(of exact, case, unicode, split, segment, subword); none: exact matches only.")
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
@click.option("--tokenizer", "tokenizer", type=click.Choice(["standard", "social"]),
              default="standard", show_default=True,
              help="social: posts (URLs, @handles, #hashtags, emoji, elongations); with GloVe "
                   "Twitter vectors it writes their <user>, <hashtag>... tokens.")
@click.option("--baselines/--no-baselines", default=True, show_default=True,
              help="Also fit TF-IDF, mean vectors and sentence embeddings (MiniLM, where "
                   "installed), each + logistic regression, on the same split and fractions, "
                   "for comparison (scikit-learn).")
@encoding_option
@click.option("--out", "-o", "out", default="wordvecs-train", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the report, the plots and the best model.")
@click.option("--distribute", type=click.Choice(["data", "model"]), default=None,
              help="JAX backend: replicate the model over all devices (data) or shard the "
              "embedding table's rows over them (model).")
@click.option("--mesh", default=None, metavar="BxM",
              help="Device mesh, batch x model shards, e.g. 2x4 [default: from the devices].")
@click.option("--coordinator", default=None, metavar="HOST:PORT",
              help="Multi-process run: address of process 0.")
@click.option("--num-processes", default=None, type=click.IntRange(1),
              help="Multi-process run: how many processes.")
@click.option("--process-id", default=None, type=click.IntRange(0),
              help="Multi-process run: this process (0 writes the files).")
@force_option
@quiet_option
def train(data: Path, vectors: str, modes: str, model: str, epochs: int, max_tokens: int,
          max_len: int | None, fractions: str, seed: int, text_column: str | None,
          label_column: str | None, tokenizer: str, encoding: str | None, out: Path,
          force: bool, quiet: bool, baselines: bool = True, batch_size: int = 32,
          learning_rate: float = 1e-3, patience: int = 3, fallback: str = "all",
          test_file: Path | None = None, encoder_layers: int = 2, encoder_head: str = "probe",
          encoder_max_len: int | None = None, encoder_windows: int = 2,
          distribute: str | None = None,
          mesh: str | None = None,
          coordinator: str | None = None, num_processes: int | None = None,
          process_id: int | None = None) -> None:
    """Train a text classifier on DATA with frozen, fine-tuned and scratch embeddings.

    DATA is a CSV, TSV or JSONL file (text and label columns) or a folder with one sub-folder
    per class. Writes report.md, report.json, PNG plots and the best model into --out (an
    earlier run there is replaced only with --force; no other file is touched).
    """
    import wordvecs
    from wordvecs.text.datasets import read_dataset
    from wordvecs.text.social import is_glove_twitter
    from wordvecs.training.train import (
        TrainConfig,
        check_encoder_length,
        check_out,
        check_split,
        split_with_test,
    )

    config = TrainConfig(modes=_names(modes), model=model, epochs=epochs, max_tokens=max_tokens,
                         max_len=max_len, fractions=_floats(fractions), seed=seed,
                         tokenizer=tokenizer, baselines=baselines, batch_size=batch_size,
                         learning_rate=learning_rate, patience=patience,
                         fallback=_fallback(fallback), encoder_layers=encoder_layers,
                         encoder_head=encoder_head, contextual_max_len=encoder_max_len,
                         contextual_windows=encoder_windows)
    config.check()
    check_encoder_length(config, name="--encoder-max-len")
    from wordvecs.training.distribute import from_options

    plan = from_options(distribute, mesh, coordinator, num_processes, process_id)
    check_out(out, overwrite=force)
    ds = read_dataset(data, text_column=text_column, label_column=label_column,
                      encoding=encoding)
    test_ds = None
    if test_file is None:
        check_split(ds, config)  # too few rows: said before the vectors load
    else:
        test_ds = read_dataset(test_file, text_column=text_column, label_column=label_column,
                               encoding=encoding)
        split_with_test(ds, test_ds, config)  # unknown labels: said before the vectors load
    click.echo(f"data: {ds.source} ({ds.format}), {len(ds):,} documents, "
               f"{len(ds.classes)} classes")
    from wordvecs.sets.catalog import is_encoder

    if is_encoder(vectors):
        from wordvecs.encoders.distill import Distiller  # distilled for each task vocabulary

        v: Any = Distiller(vectors, progress=False if quiet else None)
        click.echo(f"vectors: distilled from {vectors} for the task vocabulary; "
                   f"tokenizer: {config.tokenizer}")
    else:
        v = wordvecs.load(vectors)
        if tokenizer == "social" and (is_glove_twitter(vectors) or is_glove_twitter(v.source)):
            config = dataclasses.replace(config, tokenizer="social-twitter")
        click.echo(f"vectors: {vectors}, {len(v):,} words x {v.dim} dims; "
                   f"tokenizer: {config.tokenizer}")
    run_and_report(ds, v, config, out, quiet=quiet, force=force, plan=plan, test_data=test_ds)


@click.command()
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("texts", nargs=-1)
@click.option("--input", "-i", "input_", default=None, metavar="FILE",
              help="Texts to classify: one a line, or a CSV/TSV/JSONL text column; - for "
                   "standard input.")
@click.option("--format", "fmt", type=click.Choice(["auto", "lines", "csv", "tsv", "jsonl"]),
              default="auto", show_default=True,
              help="Format of --input (auto: from the suffix; lines otherwise).")
@click.option("--id-column", default=None, help="Column of --input whose value names each result "
              "[default: the line number].")
@click.option("--jsonl", "as_jsonl", is_flag=True,
              help="One JSON object a result: id, label, probability, probabilities, "
                   "known_tokens, from_prior.")
@click.option("--data", "data", type=click.Path(exists=True, path_type=Path), default=None,
              help="Score a labelled data set (CSV, TSV, JSONL or folder) instead of TEXTS.")
@click.option("--text-column", default=None, help="Text column of --input or --data.")
@click.option("--label-column", default=None, help="Label column of --data.")
@encoding_option
def predict(model_dir: Path, texts: tuple[str, ...], input_: str | None, fmt: str,
            id_column: str | None, as_jsonl: bool, data: Path | None, text_column: str | None,
            label_column: str | None, encoding: str | None) -> None:
    """Classify TEXTS with a model saved by ``wordvecs train``.

    TEXTS on the command line print a line each: label and probability. With --input (or "-"
    for standard input) each result is prefixed by the text's line number (or --id-column):
    ID, label, probability, tab-separated; a blank line keeps its number with empty fields. A
    text whose words the vocabulary does not know gets the training prior, with a warning.
    """
    quiet_keras(lazy=True)  # a classifier that predicts in NumPy never imports Keras
    from wordvecs.text.datasets import read_texts
    from wordvecs.training.classifier import load_classifier

    if texts == ("-",) and input_ is None:
        texts, input_ = (), "-"
    if sum(map(bool, (texts, input_ is not None, data is not None))) > 1:
        raise click.UsageError("give one of TEXTS, --input or --data")
    if not texts and input_ is None and data is None:
        raise click.UsageError("give at least one text (or --input FILE, - for standard input, "
                               "or --data)")
    if input_ is not None:  # read (and check) the input before the model's slow load
        if input_ == "-":
            from wordvecs.text.dataset_io import decode_bytes

            raw = getattr(sys.stdin, "buffer", None)
            stdin = (decode_bytes(raw.read(), "<stdin>", encoding) if raw is not None
                     else sys.stdin.read())
            inputs = read_texts(text=stdin, format=fmt, id_column=id_column)
        else:
            inputs = read_texts(input_, format=fmt, text_column=text_column,
                                id_column=id_column, encoding=encoding)
        ids, items, numbered = inputs.ids, inputs.texts, True
    else:
        ids, items, numbered = list(range(1, len(texts) + 1)), list(texts), False
    clf = load_classifier(model_dir)
    if data is not None:
        from wordvecs.text.datasets import read_dataset

        ds = read_dataset(data, text_column=text_column, label_column=label_column,
                          encoding=encoding)
        scores = clf.evaluate(ds.texts, ds.labels)
        click.echo(f"{scores['documents']:,} documents: accuracy {scores['accuracy']:.3f}, "
                   f"macro-F1 {scores['macro_f1']:.3f}")
        return
    if not numbered:
        for n, t in enumerate(items, start=1):
            if not t.strip():
                raise click.UsageError(f"text {n} is empty")
    keep = [n for n, t in enumerate(items) if t.strip()]
    results = dict(zip(keep, clf.predict_details([items[n] for n in keep])))
    for n, (ident, _) in enumerate(zip(ids, items)):
        res = results.get(n)
        if res is not None and res.from_prior:
            click.echo(f"warning: text {ident}: no word the vocabulary knows; answered with the "
                       "training prior", err=True)
        click.echo(_format_result(ident, res, as_jsonl=as_jsonl, numbered=numbered))


def _format_result(ident: int | str, res: Any, *, as_jsonl: bool, numbered: bool) -> str:
    if as_jsonl:
        obj: dict[str, Any] = {"id": ident}
        if res is None:
            obj.update(label=None, probability=None, empty=True)
        else:
            obj.update(label=res.label, probability=round(res.probability, 6),
                       probabilities={k: round(v, 6) for k, v in res.probabilities.items()},
                       known_tokens=res.known_tokens, from_prior=res.from_prior)
        return json.dumps(obj, ensure_ascii=False)
    fields = [] if res is None else [res.label, f"{res.probability:.3f}"]
    if not numbered:
        return "\t".join(fields)
    return "\t".join([str(ident), *(fields or ["", ""])])


def register(cli: click.Group) -> None:
    """Add ``train`` and ``predict`` to the ``wordvecs`` group."""
    cli.add_command(train)
    cli.add_command(predict)
