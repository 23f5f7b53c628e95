"""The similar / analogy / evaluate / plot / export-projector commands, in-process."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from wordvecs.cli import cli

COMMANDS = ["similar", "analogy", "evaluate", "plot", "export-projector"]


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(run, command):
    res = run(command, "--help")
    assert res.exit_code == 0 and "Usage" in res.output


def test_similar_and_analogy(run):
    res = run("similar", "frog", "king", "--topn", "3")
    assert res.exit_code == 0
    assert "frog:" in res.output and "toad" in res.output and "prince" in res.output
    res = run("analogy", "man", "king", "woman", "-n", "2")
    assert res.exit_code == 0
    assert res.output.splitlines()[1].split()[0] == "queen"


@pytest.mark.parametrize("args", [("similar", "zzqxv"), ("analogy", "man", "zzqxv", "woman"),
                                  ("similar", "king", "--vectors", "/no/such/file.txt")])
def test_errors_are_one_line_exit_2(run, args):
    res = run(*args)
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:")


def test_evaluate_pairs_and_small_analogies(run, tmp_path):
    res = run("evaluate", "pairs")
    assert res.exit_code == 0
    assert "wordsim353" in res.output and "0.5066" in res.output
    q = tmp_path / "q.txt"
    q.write_text(": family\nman king woman queen\nboy girl brother sister\n", encoding="utf-8")
    res = run("evaluate", "analogies", "--analogies-file", str(q), "-q")
    assert res.exit_code == 0
    assert "family" in res.output and "Total accuracy" in res.output


def test_plot_writes_png(run, tmp_path):
    out = tmp_path / "map.png"
    res = run("plot", "king", "queen", "man", "woman", "--neighbours", "2", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = run("plot", "king", "--out", str(tmp_path / "one.png"))
    assert res.exit_code == 2


def test_export_projector(run, tmp_path, glove50):
    res = run("export-projector", "glove-6b-50d", "--out", str(tmp_path / "p"), "--limit", "500")
    assert res.exit_code == 0
    vecs = np.loadtxt(tmp_path / "p" / "vectors.tsv", delimiter="\t", dtype=np.float32)
    meta = (tmp_path / "p" / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert vecs.shape == (500, 50) and len(meta) == 500
    assert meta[:3] == glove50.words[:3]
    np.testing.assert_allclose(vecs, glove50.matrix[:500], rtol=1e-5, atol=1e-6)


def test_top_level_help_never_cuts_a_sentence_inside_an_abbreviation() -> None:
    from click.testing import CliRunner

    from wordvecs.cli import cli

    out = CliRunner().invoke(cli, ["--help"]).output
    commands = out[out.index("Commands:"):]
    assert "(e.g." not in commands and "e.g.\n" not in commands
    assert "A is to B as C is to what?" in commands


def test_export_projector_never_overwrites_without_force(run, tmp_path, glove50):
    out = tmp_path / "p"
    out.mkdir()
    mine = out / "metadata.tsv"
    mine.write_text("my own notes\n", encoding="utf-8")
    res = run("export-projector", "glove-6b-50d", "--out", str(out), "--limit", "5")
    assert res.exit_code == 2
    assert "metadata.tsv: a file is already there" in res.output and "--force" in res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert mine.read_text(encoding="utf-8") == "my own notes\n"
    assert not (out / "vectors.tsv").exists()  # refused before either file was written
    res = run("export-projector", "glove-6b-50d", "--out", str(out), "--limit", "5", "--force")
    assert res.exit_code == 0, res.output
    assert mine.read_text(encoding="utf-8").splitlines() == glove50.words[:5]


def test_export_projector_refuses_links_and_missing_folders(run, tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep\n", encoding="utf-8")
    out = tmp_path / "p"
    out.mkdir()
    (out / "vectors.tsv").symlink_to(target)
    res = run("export-projector", "glove-6b-50d", "--out", str(out), "--limit", "5", "--force")
    assert res.exit_code == 2 and "symbolic link" in res.output
    assert target.read_text(encoding="utf-8") == "keep\n"
    res = run("export-projector", "glove-6b-50d", "--out", str(tmp_path / "a" / "b"))
    assert res.exit_code == 2 and "does not exist" in res.output
    assert not (tmp_path / "a").exists()
    res = run("export-projector", "glove-6b-50d", "--out", str(target))
    assert res.exit_code == 2 and "is a file" in res.output  # click's own check
    from wordvecs.cli.query_cmds import projector_paths
    from wordvecs.errors import WriteError

    with pytest.raises(WriteError, match="is not a folder"):
        projector_paths(target)
    link = tmp_path / "link"
    link.symlink_to(out)
    with pytest.raises(WriteError, match="is not a folder"):
        projector_paths(link)
    assert target.read_text(encoding="utf-8") == "keep\n"


class _DiskFullWords(list):
    """Words whose iteration fails as a full disk fails the write of metadata.tsv."""

    def __iter__(self):
        import errno

        raise OSError(errno.ENOSPC, "No space left on device")


def test_export_projector_writes_both_files_or_neither(tmp_path):
    """metadata.tsv cannot be written (disk full): vectors.tsv is not left behind alone, an old
    pair is kept whole, and a folder made for them is removed again."""
    import wordvecs
    from wordvecs.cli.query_cmds import export_projector_files
    from wordvecs.errors import WriteError

    class DiskFull(wordvecs.Vectors):
        @property
        def words(self):
            return _DiskFullWords(super().words)

    m = np.arange(6, dtype=np.float32).reshape(3, 2)
    good, full = wordvecs.Vectors(["a", "b", "c"], m), DiskFull(["a", "b", "c"], m)
    out = tmp_path / "new"
    with pytest.raises(WriteError, match=r"metadata\.tsv: no space left on the device"):
        export_projector_files(full, out)
    assert list(tmp_path.iterdir()) == []  # neither file, nor the folder made for them
    out.mkdir()
    export_projector_files(good, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert before["metadata.tsv"] == b"a\nb\nc\n"
    np.testing.assert_array_equal(np.loadtxt(out / "vectors.tsv", delimiter="\t"), m)
    with pytest.raises(WriteError, match="no space left on the device"):
        export_projector_files(full, out, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
