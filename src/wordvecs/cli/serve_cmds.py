"""``wordvecs serve``: a saved classifier as an HTTP JSON service."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

__all__ = ["register"]


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback by default; 0.0.0.0 opens it to the network).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--max-batch", default=64, show_default=True, type=click.IntRange(1),
              help="Most texts in one forward pass (requests arriving together share one).")
@click.option("--max-body", default=1 << 20, show_default=True, type=click.IntRange(1),
              help="Largest request body, in bytes.")
@click.option("--request-timeout", default=10.0, show_default=True,
              type=click.FloatRange(0, min_open=True),
              help="Seconds from a request's first byte to its last (headers and body); a "
                   "slower client is cut off (a 408 when its body was being read).")
@click.option("--keep-alive", default=5.0, show_default=True,
              type=click.FloatRange(0, min_open=True),
              help="Seconds a connection may sit idle before its first request or between "
                   "requests before it is closed.")
def serve(run_dir: Path, host: str, port: int, max_batch: int, max_body: int,
          request_timeout: float, keep_alive: float) -> None:
    """Serve the classifier saved in RUN_DIR: POST /predict {"texts": [...]}, GET /health."""
    from wordvecs.cli.train_cmds import quiet_keras
    from wordvecs.errors import require
    from wordvecs.training.serve import ServeLimits
    from wordvecs.training.serve import serve as run

    for module in ("starlette", "uvicorn"):  # before announcing anything
        require(module, "serve", load=False)
    quiet_keras(lazy=True)  # Keras only for a model the NumPy pass does not run
    try:
        public = not ipaddress.ip_address(host).is_loopback
    except ValueError:
        public = host != "localhost"
    if public:
        click.echo(f"warning: listening on {host}: reachable from other machines", err=True)
    click.echo(f"serving {run_dir} on http://{host}:{port} (POST /predict, GET /health)",
               err=True)
    run(str(run_dir), host=host, port=port,
        limits=ServeLimits(max_body=max_body, max_batch=max_batch,
                           request_timeout=request_timeout, keep_alive=keep_alive))


def register(cli: click.Group) -> None:
    """Add ``serve`` to the ``wordvecs`` group."""
    cli.add_command(serve)
