"""The CLI's info and convert commands, help everywhere, and one-line errors with exit 2."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import wordvecs
from wordvecs.cli import cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_every_command_has_help(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name, command in cli.commands.items():
        res = runner.invoke(cli, [name, "--help"])
        assert res.exit_code == 0, name
        assert command.help, f"{name} has no help text"
        assert "Usage:" in res.output


def test_info(runner, tmp_path, small_vectors):
    path = small_vectors.save(tmp_path / "v.txt", format="glove")
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("king\nqueen\nnope\n\nking\n")
    res = runner.invoke(cli, ["info", str(path), "--vocab", str(vocab)])
    assert res.exit_code == 0, res.output
    assert "format:  glove" in res.output and "count:   10" in res.output
    assert "dim:     8" in res.output and "the king queen" in res.output
    assert "coverage: 2 of 3 words" in res.output and "66.7%" in res.output


def test_info_packaged(runner):
    res = runner.invoke(cli, ["info", "glove-6b-50d"])
    assert res.exit_code == 0 and "count:   400,000" in res.output


@pytest.mark.parametrize("to", ["store", "glove", "word2vec", "word2vec-binary"])
def test_convert(runner, tmp_path, glove50, to):
    src = wordvecs.load(glove50, limit=3000).save(tmp_path / "src.txt", format="glove")
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("king\nthe\nqueen\n")
    dst = tmp_path / f"dst.{to}"
    res = runner.invoke(cli, ["convert", str(src), str(dst), "--to", to, "--vocab", str(vocab)])
    assert res.exit_code == 0, res.output
    assert "3 x 50" in res.output
    v = wordvecs.load(dst)
    assert v.words == ["the", "king", "queen"]
    np.testing.assert_array_equal(v["queen"], glove50["queen"])


def test_convert_limit(runner, tmp_path):
    res = runner.invoke(cli, ["convert", "glove-6b-50d", str(tmp_path / "s.wv"), "--limit", "7"])
    assert res.exit_code == 0
    assert wordvecs.load(tmp_path / "s.wv").words == wordvecs.load("glove-6b-50d").words[:7]


@pytest.mark.parametrize("args, message", [
    (["info", "/no/such/file.txt"], "no such file"),
    (["info", "BAD"], "line 2: expected a number; found 'x'"),
    (["convert", "BAD", "OUT"], "line 2"),
])
def test_errors_are_one_line_exit_2(runner, tmp_path, args, message):
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2\nb 1 x\n")
    args = [str(bad) if a == "BAD" else str(tmp_path / "o") if a == "OUT" else a for a in args]
    res = runner.invoke(cli, args)
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert "Traceback" not in res.output


def test_warnings_are_one_line(runner, tmp_path):
    p = tmp_path / "dup.txt"
    p.write_text("a 1 2\na 3 4\n")
    res = runner.invoke(cli, ["info", str(p)])
    assert res.exit_code == 0
    assert "warning: " in res.output and "1 duplicate word(s)" in res.output


def test_main_module_runs():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "wordvecs", "info", "/nope"], capture_output=True,
                         text=True)
    assert out.returncode == 2 and out.stderr.strip() == "Error: /nope: no such file"


@pytest.mark.parametrize("args, message", [
    (["info"], "Missing argument 'SOURCE'. (see 'wordvecs info --help')"),
    (["nosuch"], "No such command 'nosuch'. (see 'wordvecs --help')"),
    (["convert", "a", "b", "--to", "csv"], "Invalid value for '--to'"),
])
def test_usage_errors_are_one_line_exit_2(runner, args, message):
    res = runner.invoke(cli, args, prog_name="wordvecs")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]


def test_info_on_a_fifo_says_its_size_is_unknown(runner, tmp_path):
    # a FIFO's st_size is 0: "bytes: 0" would be false; its rows are still read and counted
    import os
    import threading

    fifo = tmp_path / "vectors.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as fh:
            fh.write(b"hello 0.1 0.2\nworld 0.3 0.4\n")

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    res = runner.invoke(cli, ["info", str(fifo)])
    writer.join(10)
    assert res.exit_code == 0, res.output
    assert "count:   2" in res.output
    assert "bytes:   unknown (a pipe: read once, its size is not known)" in res.output
    assert "bytes:   0" not in res.output


def test_info_reads_standard_input_as_dash(tmp_path):
    """``cat f.txt | wordvecs info -``: '-' is standard input, a pipe; its size is not claimed.
    A real process with a real pipe (CliRunner's input is no pipe)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, PYTHONPATH=str(Path(wordvecs.__file__).parents[1]))
    run = [sys.executable, "-m", "wordvecs", "info", "-"]
    out = subprocess.run(run, input=b"hello 0.1 0.2\nworld 0.3 0.4\n", capture_output=True,
                         timeout=120, env=env, cwd=tmp_path)
    text = out.stdout.decode()
    assert out.returncode == 0, out.stderr.decode()
    assert "count:   2" in text and "dim:     2" in text and "words:   hello world" in text
    assert "bytes:   unknown (a pipe: read once, its size is not known)" in text
    (tmp_path / "-").write_text("file 1 2 3\n", encoding="utf-8")  # a file named '-' wins
    out = subprocess.run(run, input=b"hello 0.1 0.2\n", capture_output=True, timeout=120,
                         env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    assert "words:   file" in out.stdout.decode() and "bytes:   11 (" in out.stdout.decode()


def test_cli_and_library_split_archive_member_alike(runner, tmp_path, small_vectors):
    """``archive.zip#member`` splits at the last '#' (an archive's folder may hold one) in the
    library and the CLI alike: ``info`` reports the bytes of the archive the library read."""
    import zipfile

    from wordvecs.sources import split_member

    folder = tmp_path / "a#b"
    folder.mkdir()
    text = small_vectors.save(tmp_path / "v.txt", format="glove")
    archive = folder / "v.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(text, "v.txt")
    spec = f"{archive}#v.txt"
    assert split_member(spec) == (str(archive), "v.txt")
    assert split_member(str(text)) == (str(text), None)
    assert wordvecs.load(spec).words == small_vectors.words
    res = runner.invoke(cli, ["info", spec])
    assert res.exit_code == 0, res.output
    assert f"bytes:   {archive.stat().st_size:,} " in res.output
