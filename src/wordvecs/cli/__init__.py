"""The ``wordvecs`` command: a thin layer that parses options, calls the library, prints.

Every library error (a ``WordvecsError``), usage error and missing or unreadable file becomes one
line on stderr and exit status 2; anything else is a bug and keeps its traceback.
Each command family lives in its own module and registers itself on the group.
"""

from __future__ import annotations

import os
import signal
import sys
import warnings


def _interrupted_early(signum: int, frame: object) -> None:
    """Ctrl-C while the command is still starting (importing): one word, no traceback."""
    sys.stderr.write("\nAborted!\n")
    sys.stderr.flush()
    os._exit(1)  # click's exit status for an interrupted command


def _started_as_the_command() -> bool:
    """The ``wordvecs`` console script or ``python -m wordvecs`` (not a library import)."""
    argv0 = sys.argv[0] if sys.argv else ""
    return (os.path.basename(argv0) == "wordvecs"
            or argv0.endswith(os.path.join("wordvecs", "__main__.py")))


if _started_as_the_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _interrupted_early)  # until main() hands over to click

import click  # noqa: E402 - after the handler: a Ctrl-C during these imports is one line too

from wordvecs.cli import (  # noqa: E402
    catalog_cmds,
    demo_cmds,
    distill_cmds,
    io_cmds,
    query_cmds,
    serve_cmds,
    train_cmds,
)
from wordvecs.errors import WordvecsError, WordvecsWarning  # noqa: E402

__all__ = ["cli", "main"]


class _Group(click.Group):
    """A click group that turns library errors into one line and exit status 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a bad option or argument: one line too, with a hint
            path = exc.ctx.command_path if exc.ctx is not None else "wordvecs"
            raise _one_line(f"{exc.format_message()} (see '{path} --help')") from None
        except WordvecsError as exc:
            raise _one_line(str(exc)) from None
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            raise _one_line(f"{exc.filename}: {exc.strerror}") from None
        # anything else (a plain ValueError, KeyError, TypeError...) is a bug: its traceback shows


class _OneLineError(click.ClickException):
    """A library or usage error, shown as ``Error: ...`` on one line; exit status 2."""

    exit_code = 2


def _one_line(message: str) -> click.ClickException:
    return _OneLineError(" ".join(message.split()))


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: object = None, line: str | None = None) -> None:
    prefix = "warning" if issubclass(category, WordvecsWarning) else category.__name__
    click.echo(f"{prefix}: {message}", err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wordvecs")
def cli() -> None:
    """Pre-trained word vectors (GloVe, word2vec, fastText, distilled BERT) for transfer learning
    in Keras 3."""
    warnings.showwarning = _show_warning


for _module in (io_cmds, demo_cmds, query_cmds, train_cmds, serve_cmds, catalog_cmds,
                distill_cmds):
    _module.register(cli)


def main() -> None:
    """Entry point of the console script (a Ctrl-C from here on is click's "Aborted!")."""
    if signal.getsignal(signal.SIGINT) is _interrupted_early:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    cli.main(prog_name="wordvecs")


if __name__ == "__main__":  # pragma: no cover
    main()
