"""``wordvecs demo``: the README's main command.

On the bundled GloVe 6B 50d and the BBC News corpus: nearest words and king - man + woman, the
embedding coverage, then a CNN trained with the embedding frozen, fine-tuned and from scratch at a
few training fractions, beside the baselines (TF-IDF, the mean GloVe vector and, with MiniLM, its
sentence embeddings, each + logistic regression) and the stack, the mean of them all; then
(with the bert extra and the MiniLM package) the same CNN on MiniLM vectors distilled for the task
vocabulary (frozen) and on the frozen MiniLM encoder's states (``contextual``), on a fraction of
the training split; the table, the report and the plots.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

__all__ = ["register"]

NEIGHBOUR_WORDS = ("king", "computer", "football")
#: The training fraction of the MiniLM runs (distilled frozen, contextual) in the demo.
BERT_FRACTION = 0.3


def bert_missing(encoder: str = "minilm") -> str | None:
    """Why the MiniLM part cannot run here (the bert extra or the model missing), or None."""
    import importlib.util

    from wordvecs.errors import WordvecsError

    missing = [m for m in ("keras", "safetensors", "tokenizers")
               if importlib.util.find_spec(m) is None]
    if missing:
        return (f"the bert extra is not installed ({', '.join(missing)} missing): "
                "pip install 'wordvecs[bert]'")
    from wordvecs.encoders.files import find_model

    try:
        find_model(encoder)
    except WordvecsError as exc:
        return str(exc)
    return None


def _fmt(pairs: Any) -> str:
    if isinstance(pairs, str):
        return pairs
    items = []
    for p in pairs:
        items.append(f"{p[0]} ({p[1]:.2f})" if isinstance(p, tuple | list) else str(p))
    return ", ".join(items)


def _show_words(v: Any) -> None:
    """The library's own neighbour search and analogy (no second implementation here)."""
    click.echo("nearest words (cosine):")
    for word in NEIGHBOUR_WORDS:
        click.echo(f"  {word:<9} {_fmt(v.most_similar(word, topn=5))}")
    answer = v.analogy("man", "king", "woman")
    click.echo(f"  king - man + woman = {_fmt(answer)}")


@click.command()
@click.option("--vectors", default="glove-6b-50d", show_default=True, metavar="SOURCE",
              help="Pre-trained vectors.")
@click.option("--out", "-o", "out", default="wordvecs-demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the report, the plots and the best model.")
@click.option("--fractions", default="0.1,0.3,1.0", show_default=True,
              help="Training fractions of the learning curve.")
@click.option("--epochs", default=20, show_default=True, type=click.IntRange(1),
              help="Most epochs (early stopping on validation loss).")
@click.option("--max-len", default=400, show_default=True, type=click.IntRange(1),
              help="Tokens kept per article (the median article has 384).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--quick", is_flag=True,
              help="A smoke test: 300 articles, 2 epochs, max_len 64, fractions 0.3,1.0.")
@click.option("--bert/--no-bert", "bert", default=None,
              help="The MiniLM runs (distilled vectors frozen, and the contextual encoder) on "
                   f"{BERT_FRACTION:.0%} of the training split [default: on, off with --quick]; "
                   "the sentence-embedding baseline runs either way where MiniLM is installed.")
@click.option("--bert-fraction", default=BERT_FRACTION, show_default=True,
              type=click.FloatRange(0, 1, min_open=True),
              help="Training fraction of the MiniLM runs.")
@click.option("--encoder", default="minilm", show_default=True, hidden=True,
              help="The BERT-family model of the MiniLM runs (a name or a model folder).")
@click.option("--force", is_flag=True, help="Replace an earlier demo's report and model in --out.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def demo(vectors: str, out: Path, fractions: str, epochs: int, max_len: int, seed: int,
         quick: bool, bert: bool | None, bert_fraction: float, encoder: str, force: bool,
         quiet: bool) -> None:
    """GloVe 6B 50d on BBC News: neighbours, analogy, coverage, frozen vs fine-tuned vs scratch,
    then distilled MiniLM and the frozen MiniLM encoder on a fraction of the data."""
    import wordvecs
    from wordvecs.cli.train_cmds import _floats, quiet_keras, show_report
    from wordvecs.text.datasets import bbc_news_path, read_folder, stratified_subsample
    from wordvecs.training.train import TrainConfig, check_out, run_experiment

    check_out(out, overwrite=force)  # before the vectors load
    quiet_keras()
    if bert is None:
        bert = not quick
    skip = ("--no-bert" if quick is False else "--quick; --bert adds them") if not bert else \
        bert_missing(encoder)
    if skip:
        click.echo(f"note: MiniLM runs skipped ({skip})")
    t0 = time.perf_counter()
    v = wordvecs.load(vectors)
    click.echo(f"loaded {vectors}: {len(v):,} words x {v.dim} dims "
               f"in {time.perf_counter() - t0:.1f} s")
    _show_words(v)

    data = read_folder(bbc_news_path())
    if quick:
        import numpy as np

        keep = stratified_subsample(data.labels, np.arange(len(data)), 300 / len(data), seed)
        data = data.subset(keep)
        epochs, max_len, fractions = 2, 64, "0.3,1.0"
    click.echo(f"\nBBC News: {len(data):,} articles, {len(data.classes)} classes "
               f"({', '.join(data.classes)}); split 70/10/20 stratified (seed {seed})")
    config = TrainConfig(model="cnn", epochs=epochs, max_len=max_len,
                         fractions=_floats(fractions), seed=seed, encoder=encoder)
    on_event = None if quiet else (lambda line: click.echo(f"  {line}"))
    exp = run_experiment(data, v, config, out=out, progress=False if quiet else None,
                         on_event=on_event, overwrite=force)
    if not skip:
        exp = _add_bert_runs(exp, data, config, encoder, bert_fraction, quick=quick, quiet=quiet,
                             on_event=on_event)
    show_report(exp, out, force=force)
    click.echo(f"demo done in {time.perf_counter() - t0:.0f} s; "
               f"try: wordvecs predict {out} \"Shares rose after the bank cut interest rates\"")


def _add_bert_runs(exp: Any, data: Any, config: Any, encoder: str, fraction: float, *,
                   quick: bool, quiet: bool, on_event: Any) -> Any:
    """Train frozen-distilled and contextual MiniLM at ``fraction``; add the runs to ``exp``."""
    import dataclasses

    from wordvecs.encoders.distill import Distiller
    from wordvecs.training.train import run_experiment

    ctx_len = 64 if quick else 128
    click.echo(f"\n{encoder}: {fraction:.0%} of the training split (the same articles as the "
               f"{fraction:.0%} runs above when listed there): vectors distilled for its "
               f"vocabulary (frozen), and the frozen encoder (contextual, {ctx_len} WordPiece "
               "tokens)")
    bert_config = dataclasses.replace(config, modes=("frozen", "contextual"),
                                      fractions=(fraction,), encoder=encoder,
                                      contextual_max_len=ctx_len, contextual_windows=1,
                                      baselines=False)  # fitted above, at every fraction
    distiller: Any = Distiller(encoder, progress=False if quiet else None)
    more = run_experiment(data, distiller,
                          bert_config, progress=False if quiet else None, on_event=on_event)
    return dataclasses.replace(
        exp, runs=[*exp.runs, *more.runs],
        config=dataclasses.replace(exp.config, modes=(*exp.config.modes, "contextual")),
        vectors={**exp.vectors, "others": [more.vectors]},
        total_seconds=round(exp.total_seconds + more.total_seconds, 1))


def register(cli: click.Group) -> None:
    """Add ``demo``."""
    cli.add_command(demo)
