"""``wordvecs demo``: the README's main command, on the bundled GloVe 6B 50d."""

from __future__ import annotations

import click

__all__ = ["register"]


@click.command()
@click.option("--vectors", default="glove-6b-50d", show_default=True, metavar="SOURCE",
              help="Vectors to show.")
def demo(vectors: str) -> None:
    """Load the bundled GloVe 6B 50d vectors, describe them, and look a few words up."""
    import time

    import numpy as np

    import wordvecs

    t0 = time.perf_counter()
    v = wordvecs.load(vectors)
    click.echo(f"loaded {vectors}: {len(v):,} words x {v.dim} dims "
               f"in {time.perf_counter() - t0:.2f} s ({v.format})")
    for word in ("king", "queen", "computer"):
        vec = v[word]
        click.echo(f"  {word:<9} row {v.index(word):>6,}  |v| = {np.linalg.norm(vec):.3f}  "
                   f"[{' '.join(f'{x:+.3f}' for x in vec[:4])} ...]")
    click.echo(f"  'King' -> {v.get('King')!r} (the vectors are lowercase)")


def register(cli: click.Group) -> None:
    """Add ``demo``."""
    cli.add_command(demo)
