"""One error policy: the library raises named errors for bad input, the CLI turns only those (and
the OS errors it names) into one line, and a real bug keeps its traceback. Optional dependencies go
through ``errors.require``, which names the extra."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import wordvecs
from wordvecs import errors
from wordvecs.cli import cli

SRC = Path(__file__).resolve().parents[1] / "src" / "wordvecs"

# the bare built-in raises left in the library: internal checks, not bad input (the first is caught
# beside numpy's own ValueErrors and turned into a StoreError; the NumPy kernel's checks of its
# arguments raise what the compiled kernel's raise, and the readers never pass what they refuse)
INTERNAL = {
    ("formats/store.py", 'raise ValueError(f"npy format version {version}")'),
    ("_arrow.py", 'raise ValueError("the array has nulls")'),
    ("formats/_pykernel.py", 'raise ValueError("starts and lens must have one length")'),
    ("formats/_pykernel.py", 'raise ValueError(f"span {i} ({int(starts[i])}:+{int(lens[i])}) '
                             'is outside the buffer "'),
    ("formats/_pykernel.py", 'raise ValueError("the spans exceed 2 GB (int32 offsets)")'),
}


def test_bad_input_raises_named_errors_only() -> None:
    found = set()
    for path in SRC.rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(r"raise (ValueError|KeyError|TypeError)\b", line):
                found.add((path.relative_to(SRC).as_posix(), line.strip()))
    assert found == INTERNAL


@pytest.mark.parametrize(("cls", "base"), [(errors.UsageError, ValueError),
                                           (errors.ArgumentTypeError, TypeError)])
def test_new_errors_are_wordvecs_errors_and_builtins(cls: type, base: type) -> None:
    assert issubclass(cls, errors.WordvecsError) and issubclass(cls, base)
    assert cls.__doc__ and "\n" not in cls.__doc__.strip()
    assert cls.__name__ in wordvecs.__all__ and getattr(wordvecs, cls.__name__) is cls


def test_bad_arguments_are_usage_errors() -> None:
    v = wordvecs.Vectors(["a", "b"], __import__("numpy").eye(2, dtype="float32"))
    with pytest.raises(errors.UsageError, match="restrict_vocab"):
        v.most_similar("a", restrict_vocab=0)
    with pytest.raises(errors.ArgumentTypeError, match="single string"):
        wordvecs.load("glove-6b-50d", vocab="king")


def test_require_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    for load in (True, False):
        with pytest.raises(errors.MissingExtraError,
                           match=r"^matplotlib is not installed: pip install 'wordvecs\[plot\]'$"):
            errors.require("matplotlib", "plot", load=load)
    with pytest.raises(errors.MissingExtraError, match=r"no_such_module_wv is not installed"):
        errors.require("no_such_module_wv.sub", "x", load=False)
    assert errors.require("json", "x") is sys.modules["json"]
    assert errors.require("json", "x", load=False) is None


def test_a_planted_bug_shows_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain ValueError from inside the library is a bug: not an 'Error:' line, not exit 2."""
    import wordvecs.similarity

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("operands could not be broadcast together with shapes (3,) (4,)")

    monkeypatch.setattr(wordvecs.similarity, "similar_by_vectors", broken)
    res = CliRunner().invoke(cli, ["similar", "king"])
    assert res.exit_code not in (0, 2)
    assert isinstance(res.exception, ValueError)
    assert not isinstance(res.exception, errors.WordvecsError)
    assert "Error:" not in res.output
    with pytest.raises(ValueError, match="broadcast"):
        CliRunner().invoke(cli, ["similar", "king"], catch_exceptions=False)


def test_a_planted_key_error_is_not_a_missing_word(monkeypatch: pytest.MonkeyPatch) -> None:
    import wordvecs.similarity

    def broken(*args: object, **kwargs: object) -> None:
        raise {}["oops"]

    monkeypatch.setattr(wordvecs.similarity, "similar_by_vectors", broken)
    res = CliRunner().invoke(cli, ["similar", "king"])
    assert res.exit_code != 2 and isinstance(res.exception, KeyError)


def test_a_missing_word_is_still_one_line() -> None:
    res = CliRunner().invoke(cli, ["similar", "zzqxv"])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == ["Error: word 'zzqxv' not in vocabulary"] or (
        res.output.startswith("Error: word 'zzqxv' not in vocabulary"))


def _no_load(*args: object, **kwargs: object) -> None:
    raise AssertionError("the vectors were loaded before the extra was checked")


def test_plot_without_matplotlib_is_one_line_before_loading(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    import wordvecs.cli.query_cmds

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setattr(wordvecs.cli.query_cmds, "_load", _no_load)
    monkeypatch.setattr(wordvecs, "load", _no_load)
    res = CliRunner().invoke(cli, ["plot", "king", "queen", "-o", str(tmp_path / "map.png")])
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines() == [
        "Error: matplotlib is not installed: pip install 'wordvecs[plot]'"]
    assert not (tmp_path / "map.png").exists()


def test_serve_without_its_extra_says_so_before_announcing(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "starlette", None)
    res = CliRunner().invoke(cli, ["serve", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines() == [
        "Error: starlette is not installed: pip install 'wordvecs[serve]'"]
    assert "serving" not in res.output


@pytest.mark.parametrize("command", [["info", "glove-6b-50d", "--vocab"],
                                     ["distill", "minilm", "--out", "{tmp}/x.wv", "--vocab"]])
def test_a_word_file_that_is_not_utf8_is_one_line(command: list[str], tmp_path: Path) -> None:
    """Bad input in a file the CLI reads itself is a named error too, not a UnicodeDecodeError."""
    from wordvecs.cli.common import read_word_file
    from wordvecs.cli.distill_cmds import read_vocab_counts

    bad = tmp_path / "vocab.txt"
    bad.write_bytes(b"king\nqu\xe9en\n")
    for read in (read_word_file, read_vocab_counts):
        with pytest.raises(errors.FormatError, match=r"vocab.txt: not UTF-8 text; found b'\\xe9"):
            read(bad)
    res = CliRunner().invoke(cli, [*(a.format(tmp=tmp_path) for a in command), str(bad)])
    if res.exit_code == 2 and "not UTF-8" not in res.output:
        pytest.skip(f"the command stops earlier here: {res.output.strip()}")
    assert res.exit_code == 2, res.output
    assert res.output.strip().splitlines()[-1].startswith("Error: ")
    assert "not UTF-8 text" in res.output


def test_ctrl_c_while_the_command_starts_is_one_word(tmp_path) -> None:
    """Issue 24, item 7: Ctrl-C in the first seconds (imports) printed a KeyboardInterrupt
    traceback. Started as the command, the early handler says "Aborted!" (click's word, exit 1);
    imported as a library, nothing is changed."""
    import signal
    import subprocess
    import sys

    # Python's own handler, as a command started from a terminal has it, also when these tests
    # run in a background job of a script (whose children start with SIGINT ignored)
    script = ("import sys; sys.argv[0] = 'wordvecs'; import os, signal, time; "
              "signal.signal(signal.SIGINT, signal.default_int_handler); "
              "import wordvecs.cli; os.kill(os.getpid(), signal.SIGINT); time.sleep(20)")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 1 and "Aborted!" in r.stderr and "Traceback" not in r.stderr, r.stderr
    import wordvecs.cli  # in-process: a library import keeps the process's handler

    assert signal.getsignal(signal.SIGINT) is not wordvecs.cli._interrupted_early


def test_an_ignored_ctrl_c_stays_ignored() -> None:
    """A command started with SIGINT ignored (``wordvecs ... &`` in a script: the shell ignores
    SIGINT in background jobs) is not stopped by one: the early handler is installed only over
    Python's own."""
    import subprocess
    import sys

    script = ("import sys; sys.argv[0] = 'wordvecs'; import os, signal, time; "
              "signal.signal(signal.SIGINT, signal.SIG_IGN); "
              "import wordvecs.cli; os.kill(os.getpid(), signal.SIGINT); time.sleep(0.5); "
              "print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=120)
    assert (r.returncode, r.stdout, r.stderr) == (0, "True\n", "")
